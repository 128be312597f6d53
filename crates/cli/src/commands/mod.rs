//! Command-line interface: one file per subcommand, each turning flags into a library call.

mod bench;
mod bench_hausdorff;
mod bench_render;
mod eval;
mod generate;
mod interpolate;
mod iqtt;
mod iqtt_human;
mod reconstruct;
mod report;
mod sample;
mod shade;
mod train;

use anyhow::Context;
use clap::{Parser, Subcommand};

/// Pix2Scene: learn implicit 3D scene representations from single images.
#[derive(Debug, Parser)]
#[command(name = "pix2scene", version, about, long_about = None)]
pub struct Cli {
    /// Worker threads (default: all cores). Output never depends on it.
    #[arg(long, global = true, value_name = "N")]
    threads: Option<usize>,
    /// The command to run.
    #[command(subcommand)]
    command: Command,
}

/// The subcommands.
#[derive(Debug, Subcommand)]
enum Command {
    /// Generate a dataset of ray-traced scenes with exact ground truth.
    Generate(generate::GenerateArgs),
    /// Measure performance and print the figures (with --json, as one JSON object).
    Bench(bench::BenchArgs),
    /// Train Pix2Scene from a preset (or resume a run): checkpoints, metrics, sample grids.
    Train(train::TrainArgs),
    /// 3D-IQTT: train and test Pix2Scene and the baselines (Table 3); the human test page.
    Iqtt(iqtt::IqttArgs),
    /// Score a trained model (or an image-blind baseline) on a dataset: paper Tables 1 and 2.
    Eval(eval::EvalArgs),
    /// Reconstruct one image: depth/normal maps (PNG, .npy), re-render, PLY, turntable GIF.
    Reconstruct(reconstruct::ReconstructArgs),
    /// Draw a grid of samples from the prior with depth and normals (paper Fig. 8).
    Sample(sample::SampleArgs),
    /// Decode the codes between two images' codes (paper Fig. 9).
    Interpolate(interpolate::InterpolateArgs),
    /// Write one self-contained HTML page about a run: curves, tables, images, turntable.
    Report(report::ReportArgs),
    /// Render depth maps (.npy) with the surfel renderer into images (.npy or .png).
    Shade(shade::ShadeArgs),
}

/// Runs the parsed command line.
pub fn run(cli: Cli) -> anyhow::Result<()> {
    if let Some(n) = cli.threads {
        anyhow::ensure!(n > 0, "--threads: must be at least 1, got 0");
        rayon::ThreadPoolBuilder::new()
            .num_threads(n)
            .build_global()
            .context("setting up the thread pool")?;
    }
    match cli.command {
        Command::Generate(args) => generate::run(args),
        Command::Bench(args) => bench::run(args),
        Command::Train(args) => train::run(args, cli.threads),
        Command::Iqtt(args) => iqtt::run(args, cli.threads),
        Command::Shade(args) => shade::run(args),
        Command::Eval(args) => eval::run(args),
        Command::Reconstruct(args) => reconstruct::run(args),
        Command::Sample(args) => sample::run(args),
        Command::Interpolate(args) => interpolate::run(args),
        Command::Report(args) => report::run(args),
    }
}
