//! `pix2scene train`: train Pix2Scene from a preset, or resume a run.

use std::path::PathBuf;

use anyhow::Context;
use clap::Args;
use pix2scene_train::{TrainOptions, train};

use crate::progress::TrainBar;
use crate::signals;

/// Flags of `pix2scene train`.
///
/// `--steps`, `--seed` and `--device` are shorthands for `--set run.steps=N`,
/// `--set run.seed=K` and `--set run.device=NAME`; `--set` takes any dotted key of the preset
/// (`--set optim.lr=1e-4 --set data.preset=shapes`).
#[derive(Debug, Args)]
pub struct TrainArgs {
    /// Preset file (configs/*.toml); not needed with --resume.
    #[arg(long, value_name = "FILE", required_unless_present = "resume")]
    config: Option<PathBuf>,
    /// Run directory: config.toml, metrics.jsonl, checkpoints/, samples/.
    #[arg(long, value_name = "RUN")]
    out: PathBuf,
    /// Total iterations (each = the critic steps + one encoder/decoder step).
    #[arg(long, value_name = "N")]
    steps: Option<u64>,
    /// Seed of the weights and the noise (`run.seed`).
    #[arg(long, value_name = "K")]
    seed: Option<u64>,
    /// cpu (default), or wgpu / cuda in builds with those features.
    #[arg(long, value_name = "NAME")]
    device: Option<String>,
    /// Override a preset key, e.g. `--set optim.lr=1e-4` (repeatable).
    #[arg(long = "set", value_name = "KEY=VALUE")]
    set: Vec<String>,
    /// Continue the run in --out from its newest checkpoint (exactly as if never stopped).
    #[arg(long)]
    resume: bool,
    /// No progress bar.
    #[arg(long)]
    quiet: bool,
}

/// Runs `pix2scene train`.
pub fn run(args: TrainArgs, threads: Option<usize>) -> anyhow::Result<()> {
    let mut overrides = args.set;
    if let Some(steps) = args.steps {
        overrides.push(format!("run.steps={steps}"));
    }
    if let Some(seed) = args.seed {
        overrides.push(format!("run.seed={seed}"));
    }
    if let Some(device) = args.device {
        overrides.push(format!("run.device=\"{device}\""));
    }
    if let Some(threads) = threads {
        overrides.push(format!("run.threads={threads}"));
    }
    let what = match &args.config {
        Some(config) if !args.resume => {
            format!("training {} into {}", config.display(), args.out.display())
        }
        _ => format!("resuming {}", args.out.display()),
    };
    let options = TrainOptions {
        config: args.config,
        out: args.out,
        overrides,
        resume: args.resume,
        stop: signals::stop_flag()?,
        ..TrainOptions::default()
    };
    let mut bar = TrainBar::new(args.quiet);
    let summary = train(&options, &mut bar)
        .inspect_err(|_| bar.abandon())
        .with_context(|| what)?;
    let mse = summary
        .final_mse_depth
        .map_or("n/a".into(), |m| format!("{m:.5}"));
    let best = summary.best.map_or(String::new(), |(m, dir)| {
        format!("; best {m:.5} at {}", dir.display())
    });
    let state = if summary.interrupted {
        "interrupted, saved"
    } else {
        "done"
    };
    let b = summary.baselines;
    println!(
        "{state}: {} steps, held-out depth MSE {mse}{best} (image-blind baselines: per-pixel \
         mean depth {:.5}, {:.5} with each image's best scale; global mean {:.5})",
        summary.steps, b.per_pixel_mean, b.per_pixel_mean_scaled, b.global_mean
    );
    Ok(())
}
