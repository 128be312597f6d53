//! `pix2scene reconstruct`: one image through a trained model, written as depth and normal maps
//! (PNG and .npy), the re-rendered image, a PLY point cloud and a turntable GIF.

use std::path::PathBuf;

use anyhow::Context;
use clap::Args;
use pix2scene_eval::input::{CameraFile, bare_sample, read_png};
use pix2scene_eval::{
    CheckpointChoice, EdgeSnap, PostPipeline, ReconstructOptions, ReconstructionScore,
    TrainedModel, open_room_dataset, read_record, reconstruct,
};

/// Flags of `pix2scene reconstruct`.
#[derive(Debug, Args)]
pub struct ReconstructArgs {
    /// Run directory or model directory.
    #[arg(long, value_name = "RUN")]
    run: PathBuf,
    /// A PNG image (with --camera) or a dataset directory (with --index).
    #[arg(long, value_name = "IMAGE_OR_DATASET")]
    input: PathBuf,
    /// Record of the dataset to reconstruct.
    #[arg(long, value_name = "I", default_value_t = 0)]
    index: u64,
    /// Camera and lights of a bare PNG, as JSON (see docs/eval.md).
    #[arg(long, value_name = "JSON")]
    camera: Option<PathBuf>,
    /// Output directory (created).
    #[arg(long, value_name = "DIR")]
    out: PathBuf,
    /// Steps of test-time refinement through the renderer (0 = none), reported separately.
    #[arg(long, value_name = "K", default_value_t = 0)]
    refine: usize,
    /// Also write the depth map with its edges snapped (flying pixels moved onto a surface, as
    /// `eval --snap-edges`), as `snapped-*` files, reported separately.
    #[arg(long)]
    snap_edges: bool,
    /// Also write the depth map post-processed by these steps, left to right (as `eval
    /// --post`: snap, guided, mirror, refine:K, refine:K:T; e.g.
    /// `mirror,snap,guided,refine:200:5,snap,guided`), as `post-*`
    /// files, reported separately.
    #[arg(long, value_name = "OPS")]
    post: Option<String>,
    /// Frames of the turntable GIF.
    #[arg(long, value_name = "N", default_value_t = 24)]
    frames: usize,
    /// Which checkpoint of the run: best, last, or step-N.
    #[arg(long, default_value = "best")]
    checkpoint: String,
}

/// Runs `pix2scene reconstruct`.
pub fn run(args: ReconstructArgs) -> anyhow::Result<()> {
    let choice: CheckpointChoice = args.checkpoint.parse()?;
    let input = &args.input;
    let (model, sample, has_truth) = if input.is_dir() {
        let reader = open_room_dataset(input, None)?;
        let scenes = reader.manifest().config.clone();
        let model = TrainedModel::load(&args.run, choice, Some(&scenes))
            .with_context(|| format!("loading {}", args.run.display()))?;
        open_room_dataset(input, Some(model.resolution()))?;
        let sample = read_record(&reader, input, args.index)?;
        (model, sample, true)
    } else {
        let camera = args.camera.as_ref().with_context(|| {
            format!(
                "{}: a bare image needs --camera FILE.json with its camera and lights (see \
                 docs/eval.md)",
                input.display()
            )
        })?;
        let file = CameraFile::read(camera)?;
        let model = TrainedModel::load(&args.run, choice, None)
            .with_context(|| format!("loading {}", args.run.display()))?;
        let size = model.resolution();
        let image = read_png(input, size)?;
        let fov = model.renderer_fov_y_deg();
        let sample = bare_sample(image, size, file.camera(fov), file.lights);
        (model, sample, false)
    };
    let options = ReconstructOptions {
        refine: args.refine,
        snap_edges: args.snap_edges.then(EdgeSnap::default),
        post: args
            .post
            .as_deref()
            .map(str::parse::<PostPipeline>)
            .transpose()?,
        turntable_frames: args.frames,
    };
    let summary = reconstruct(&model, &sample, has_truth, &args.out, &options)
        .with_context(|| format!("reconstructing into {}", args.out.display()))?;
    let line = |what: &str, s: &ReconstructionScore| {
        let truth = s.metrics.map_or(String::new(), |m| {
            format!(
                ", Hausdorff-F {:.4}, Hausdorff-R {:.4}, MSE-depth {:.5}, SIDE {:.4}, MAD {:.1}°",
                m.hausdorff_f, m.hausdorff_r, m.mse_depth, m.side, m.mad_deg
            )
        });
        println!("{what}: image MSE {:.5}{truth}", s.image_mse);
    };
    println!(
        "{} ({}) → {}",
        input.display(),
        summary.checkpoint,
        args.out.display()
    );
    line("network", &summary.network);
    if let Some(refined) = &summary.refined {
        line(
            &format!("refined ({} steps)", summary.refine_steps),
            refined,
        );
    }
    if let Some(snapped) = &summary.snapped {
        line("edges snapped", snapped);
    }
    if let (Some(post), Some(steps)) = (&summary.post, &summary.post_steps) {
        line(&format!("post-processed ({steps})"), post);
    }
    Ok(())
}
