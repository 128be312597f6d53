//! `pix2scene sample`: a grid of samples `G(z)` from the prior with depth and normals, one
//! block of rows per class for class-conditional runs (paper Fig. 8).

use std::path::PathBuf;

use anyhow::Context;
use clap::Args;
use pix2scene_eval::export::write_rgb_png;
use pix2scene_eval::{CheckpointChoice, TrainedModel, sample_grid};

/// Flags of `pix2scene sample`.
#[derive(Debug, Args)]
pub struct SampleArgs {
    /// Run directory or model directory.
    #[arg(long, value_name = "RUN")]
    run: PathBuf,
    /// Output PNG: rows of images, depth and normals (per class for class-conditional runs).
    #[arg(long, value_name = "PNG")]
    out: PathBuf,
    /// Samples per row; each is decoded from the camera of one held-out scene of the run.
    #[arg(long, value_name = "N", default_value_t = 8)]
    count: usize,
    /// Seed of the latent codes.
    #[arg(long, value_name = "K", default_value_t = 0)]
    seed: u64,
    /// Which checkpoint of the run: best, last, or step-N.
    #[arg(long, default_value = "best")]
    checkpoint: String,
}

/// Runs `pix2scene sample`.
pub fn run(args: SampleArgs) -> anyhow::Result<()> {
    let choice: CheckpointChoice = args.checkpoint.parse()?;
    let model = TrainedModel::load(&args.run, choice, None)
        .with_context(|| format!("loading {}", args.run.display()))?;
    let views = model.held_out(args.count)?;
    anyhow::ensure!(
        views.len() == args.count,
        "--count {}: the run holds out only {} scenes",
        args.count,
        views.len()
    );
    let grid = sample_grid(&model, &views, args.seed)?;
    write_rgb_png(&args.out, &grid)?;
    println!(
        "{} samples{} ({}) → {}",
        args.count,
        match model.num_classes() {
            0 => String::new(),
            n => format!(" × {n} classes"),
        },
        model.checkpoint(),
        args.out.display()
    );
    Ok(())
}
