//! `pix2scene eval`: score a trained model (or an image-blind baseline) on a dataset at the
//! views of paper Table 2, with the paper's figures beside ours.

use std::path::PathBuf;

use anyhow::Context;
use clap::Args;
use pix2scene_eval::{
    BaselineKind, CheckpointChoice, DepthPredictor, EdgeSnap, EvalOptions, ImageBlind, PostOp,
    PostPipeline, PostProcessed, TrainedModel, evaluate, open_room_dataset, parse_views, table,
};

use crate::progress;

/// Flags of `pix2scene eval`.
#[derive(Debug, Args)]
pub struct EvalArgs {
    /// Run directory (`pix2scene train --out`) or model directory (`models/<name>/`).
    #[arg(long, value_name = "RUN", required_unless_present = "baseline")]
    run: Option<PathBuf>,
    /// Dataset written by `pix2scene generate` (a room preset; not iqtt).
    #[arg(long, value_name = "DIR")]
    data: PathBuf,
    /// View angles in degrees (0 to 180): the camera turned about its look-at point.
    #[arg(long, default_value = "0,35,55,80")]
    views: String,
    /// Which checkpoint of the run: best (lowest held-out MSE), last, or step-N.
    #[arg(long, default_value = "best")]
    checkpoint: String,
    /// Score an image-blind baseline instead of a model: per-pixel-mean or global-mean.
    #[arg(
        long,
        value_name = "KIND",
        requires = "train_data",
        conflicts_with = "run"
    )]
    baseline: Option<String>,
    /// Training dataset the baseline's mean depth is taken over.
    #[arg(long, value_name = "DIR", requires = "baseline")]
    train_data: Option<PathBuf>,
    /// Refine each depth map by K steps of test-time refinement through the renderer against
    /// its image (as `reconstruct --refine`) before scoring; turned views get the refined map
    /// warped into them (as --post). Shorthand for `--post refine:K` (then `snap` with
    /// --snap-edges).
    #[arg(long, value_name = "K", conflicts_with_all = ["baseline", "post"])]
    refine: Option<usize>,
    /// Snap each depth map's edges before scoring: a pixel whose 5×5 neighbourhood spans more
    /// than 10 % of its depth takes the nearer of the neighbourhood's least and greatest depth
    /// (flying pixels moved onto a surface; docs/eval.md). Every view. Shorthand for `--post
    /// snap`.
    #[arg(long, conflicts_with_all = ["baseline", "post"])]
    snap_edges: bool,
    /// Post-process each depth map before scoring by these steps, left to right: `snap` (as
    /// --snap-edges), `guided` (the colour-guided median: each pixel the weighted median depth
    /// of its 11×11 window, neighbours weighted by colour likeness to it), `refine:K` (as
    /// --refine K), `refine:K:T` (the same, each pixel then held within T % of its depth before
    /// the refinement), `mirror` (the geometric mean with the model's map of the image mirrored
    /// left–right, flipped back); e.g. `mirror,snap,guided,refine:200:5,snap,guided`
    /// (docs/eval.md). With `guided`, `mirror` or `refine` the steps work on the input view's
    /// map, and each turned view is that map
    /// warped into the turned camera, the room planes fitted to it beyond, the network's map
    /// of the view where neither reaches.
    #[arg(long, value_name = "OPS", conflicts_with = "baseline")]
    post: Option<String>,
    /// Score only the first N records.
    #[arg(long, value_name = "N")]
    limit: Option<u64>,
    /// Print one JSON object (format in docs/eval.md) as the last line instead of the table.
    #[arg(long)]
    json: bool,
    /// No progress bar.
    #[arg(long)]
    quiet: bool,
}

/// Runs `pix2scene eval`.
pub fn run(args: EvalArgs) -> anyhow::Result<()> {
    let pipeline = match (&args.post, args.refine) {
        (Some(ops), _) => Some(ops.parse::<PostPipeline>()?),
        (None, Some(0)) => {
            anyhow::bail!("--refine: 0 steps: leave --refine out to score the network's own maps")
        }
        (None, steps) => {
            let ops: Vec<PostOp> = (steps.map(PostOp::refine).into_iter())
                .chain(args.snap_edges.then(|| PostOp::Snap(EdgeSnap::default())))
                .collect();
            (!ops.is_empty())
                .then(|| PostPipeline::new(ops))
                .transpose()?
        }
    };
    let views = parse_views(&args.views)?;
    let predictor: Box<dyn DepthPredictor> = match (&args.baseline, &args.train_data) {
        (Some(kind), Some(train)) => {
            let kind: BaselineKind = kind.parse()?;
            Box::new(
                ImageBlind::measure(kind, train)
                    .with_context(|| format!("measuring the {kind} baseline"))?,
            )
        }
        _ => {
            let run = args.run.as_ref().context("--run: required")?;
            let choice: CheckpointChoice = args.checkpoint.parse()?;
            let scenes = open_room_dataset(&args.data, None)?
                .manifest()
                .config
                .clone();
            let model = TrainedModel::load(run, choice, Some(&scenes))
                .with_context(|| format!("loading {}", run.display()))?;
            match pipeline {
                Some(pipeline) => Box::new(PostProcessed::new(model, pipeline)),
                None => Box::new(model),
            }
        }
    };
    let options = EvalOptions {
        views,
        limit: args.limit,
        ..EvalOptions::default()
    };
    let bar = progress::bar(0, "images", args.quiet);
    let result = evaluate(
        &args.data,
        predictor.as_ref(),
        &options,
        &mut |done, total| {
            bar.set_length(total);
            bar.set_position(done);
        },
    )
    .inspect_err(|_| bar.abandon())
    .with_context(|| format!("evaluating on {}", args.data.display()))?;
    bar.finish_and_clear();
    if args.json {
        println!("{}", serde_json::to_string(&result)?);
    } else {
        print!("{}", table(&result, true));
    }
    Ok(())
}
