//! `pix2scene report`: one self-contained HTML page about a trained run.

use std::path::PathBuf;

use anyhow::Context;
use clap::Args;
use pix2scene_eval::report::{ReportOptions, write_report};
use pix2scene_eval::{
    CheckpointChoice, DepthPredictor, EdgeSnap, ImageBlind, PostOp, PostPipeline, PostProcessed,
    TrainedModel, open_room_dataset, parse_views,
};

use crate::progress;

/// Flags of `pix2scene report`.
#[derive(Debug, Args)]
pub struct ReportArgs {
    /// Run directory or model directory.
    #[arg(long, value_name = "RUN")]
    run: PathBuf,
    /// Test dataset to evaluate on and reconstruct from (without it: no evaluation table).
    #[arg(long, value_name = "DIR")]
    data: Option<PathBuf>,
    /// Output HTML file (images embedded).
    #[arg(long, value_name = "HTML")]
    out: PathBuf,
    /// View angles of the evaluation, degrees.
    #[arg(long, default_value = "0,35,55,80")]
    views: String,
    /// Records of --data scored for the evaluation table.
    #[arg(long, value_name = "N", default_value_t = 200)]
    limit: u64,
    /// Scenes shown as reconstructions and samples per row.
    #[arg(long, value_name = "N", default_value_t = 4)]
    examples: usize,
    /// Another run or model directory scored beside this one in the evaluation table
    /// (repeatable; its `best` checkpoint).
    #[arg(long, value_name = "RUN", requires = "data")]
    compare: Vec<PathBuf>,
    /// Training dataset of the image-blind baselines (per-pixel mean and global mean depth)
    /// scored beside the run in the evaluation table.
    #[arg(long, value_name = "DIR", requires = "data")]
    baseline_data: Option<PathBuf>,
    /// Also score the run with its depth maps' edges snapped (as `eval --snap-edges`) as a
    /// column of the evaluation table.
    #[arg(long, requires = "data")]
    snap_edges: bool,
    /// Also score the run post-processed by these steps (as `eval --post OPS`, e.g.
    /// `mirror,snap,guided,refine:200:5,snap,guided`) as a column of the evaluation table.
    #[arg(long, value_name = "OPS", requires = "data")]
    post: Option<String>,
    /// Which checkpoint of the run: best, last, or step-N.
    #[arg(long, default_value = "best")]
    checkpoint: String,
    /// No progress bar.
    #[arg(long)]
    quiet: bool,
}

/// Runs `pix2scene report`.
pub fn run(args: ReportArgs) -> anyhow::Result<()> {
    let choice: CheckpointChoice = args.checkpoint.parse()?;
    let views = parse_views(&args.views)?;
    let scenes = match &args.data {
        Some(dir) => Some(open_room_dataset(dir, None)?.manifest().config.clone()),
        None => None,
    };
    let model = TrainedModel::load(&args.run, choice, scenes.as_ref())
        .with_context(|| format!("loading {}", args.run.display()))?;
    let compared = args
        .compare
        .iter()
        .map(|dir| {
            let m = TrainedModel::load(dir, CheckpointChoice::Best, scenes.as_ref())
                .with_context(|| format!("loading {}", dir.display()))?;
            Ok((dir.display().to_string(), m))
        })
        .collect::<anyhow::Result<Vec<_>>>()?;
    // The model again, post-processed (its maps snapped, or by --post), scored as more columns.
    let again = |ops: PostPipeline| -> anyhow::Result<PostProcessed> {
        let model = TrainedModel::load(&args.run, choice, scenes.as_ref())
            .with_context(|| format!("loading {}", args.run.display()))?;
        Ok(PostProcessed::new(model, ops))
    };
    let mut processed = Vec::new();
    if args.snap_edges {
        let snap = PostPipeline::new(vec![PostOp::Snap(EdgeSnap::default())])?;
        processed.push(("edges snapped".to_string(), again(snap)?));
    }
    if let Some(ops) = &args.post {
        processed.push(("post-processed".to_string(), again(ops.parse()?)?));
    }
    let baselines = match &args.baseline_data {
        Some(dir) => ImageBlind::measure_all(dir)
            .with_context(|| format!("measuring the baselines over {}", dir.display()))?
            .into_iter()
            .map(|b| (b.label(), b))
            .collect(),
        None => Vec::new(),
    };
    let others: Vec<(String, &dyn DepthPredictor)> = processed
        .iter()
        .map(|(name, p)| (name.clone(), p as &dyn DepthPredictor))
        .chain(
            compared
                .iter()
                .map(|(name, m)| (name.clone(), m as &dyn DepthPredictor)),
        )
        .chain(
            baselines
                .iter()
                .map(|(name, b)| (name.clone(), b as &dyn DepthPredictor)),
        )
        .collect();
    let mut options = ReportOptions {
        data: args.data,
        examples: args.examples,
        ..ReportOptions::default()
    };
    options.eval.views = views;
    options.eval.limit = Some(args.limit);
    let bar = progress::bar(0, "images", args.quiet);
    let result = write_report(&model, &options, &others, &args.out, &mut |done, total| {
        bar.set_length(total);
        bar.set_position(done);
    })
    .inspect_err(|_| bar.abandon())
    .with_context(|| format!("writing {}", args.out.display()))?;
    bar.finish_and_clear();
    println!(
        "report of {} ({}){} → {}",
        args.run.display(),
        model.checkpoint(),
        result.map_or(String::new(), |r| format!(
            ", {} images evaluated",
            r.images
        )),
        args.out.display()
    );
    Ok(())
}
