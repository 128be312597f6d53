//! `pix2scene interpolate`: decode the latent codes between two images' codes (paper Fig. 9).

use std::path::PathBuf;

use anyhow::Context;
use clap::Args;
use pix2scene_eval::export::write_rgb_png;
use pix2scene_eval::{
    CheckpointChoice, TrainedModel, interpolation_strip, open_room_dataset, read_record,
};

/// Flags of `pix2scene interpolate`.
#[derive(Debug, Args)]
pub struct InterpolateArgs {
    /// Run directory or model directory.
    #[arg(long, value_name = "RUN")]
    run: PathBuf,
    /// Dataset holding the two images (e.g. a test set written by `pix2scene generate`).
    #[arg(long, value_name = "DIR")]
    data: PathBuf,
    /// Record of the first image (its camera and lights are kept).
    #[arg(long, value_name = "I", default_value_t = 0)]
    from: u64,
    /// Record of the second image.
    #[arg(long, value_name = "J", default_value_t = 1)]
    to: u64,
    /// Codes from z1 to z2, both ends included.
    #[arg(long, value_name = "N", default_value_t = 8)]
    steps: usize,
    /// Output PNG: the two images around the renders, then depth and normals.
    #[arg(long, value_name = "PNG")]
    out: PathBuf,
    /// Which checkpoint of the run: best, last, or step-N.
    #[arg(long, default_value = "best")]
    checkpoint: String,
}

/// Runs `pix2scene interpolate`.
pub fn run(args: InterpolateArgs) -> anyhow::Result<()> {
    let choice: CheckpointChoice = args.checkpoint.parse()?;
    let reader = open_room_dataset(&args.data, None)?;
    let scenes = reader.manifest().config.clone();
    let model = TrainedModel::load(&args.run, choice, Some(&scenes))
        .with_context(|| format!("loading {}", args.run.display()))?;
    open_room_dataset(&args.data, Some(model.resolution()))?;
    let a = read_record(&reader, &args.data, args.from)?;
    let b = read_record(&reader, &args.data, args.to)?;
    let strip = interpolation_strip(&model, &a, &b, args.steps)?;
    write_rgb_png(&args.out, &strip)?;
    println!(
        "records {} → {} in {} steps ({}) → {}",
        args.from,
        args.to,
        args.steps,
        model.checkpoint(),
        args.out.display()
    );
    Ok(())
}
