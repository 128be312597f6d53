//! `pix2scene bench render`: surfel renderer timings (the global `--threads N` sizes the pool).

use clap::{Args, ValueEnum};
use pix2scene_render::{RenderImpl, bench};

/// Flags of `pix2scene bench render`.
#[derive(Debug, Args)]
pub struct RenderBenchArgs {
    /// Image side in pixels.
    #[arg(long, default_value_t = 128)]
    size: usize,
    /// Depth maps per batch.
    #[arg(long, default_value_t = 6)]
    batch: usize,
    /// Timed repetitions per mode (after 3 warm-ups); the median is reported.
    #[arg(long, default_value_t = 20)]
    reps: usize,
    /// Implementation: `auto` (the fused kernel on CPU), `fused` or `reference` (tensor ops).
    #[arg(long = "impl", value_enum, default_value_t = ImplArg::Auto)]
    implementation: ImplArg,
    /// Print one JSON object instead of text.
    #[arg(long)]
    json: bool,
}

/// Values of `--impl`.
#[derive(Clone, Copy, Debug, ValueEnum)]
enum ImplArg {
    Auto,
    Fused,
    Reference,
}

/// Runs `pix2scene bench render`.
pub fn run(a: RenderBenchArgs) -> anyhow::Result<()> {
    let report = bench::run(&bench::BenchConfig {
        size_px: a.size,
        batch: a.batch,
        threads: rayon::current_num_threads(),
        reps: a.reps,
        implementation: match a.implementation {
            ImplArg::Auto => RenderImpl::Auto,
            ImplArg::Fused => RenderImpl::Fused,
            ImplArg::Reference => RenderImpl::Reference,
        },
    })?;
    if a.json {
        println!("{}", serde_json::to_string(&report)?);
    } else {
        println!(
            "{}: {:.3} ms forward, {:.3} ms forward+backward per {}² image (batch {}, {} thread(s))",
            report.implementation,
            report.fwd_ms_per_image,
            report.fwd_bwd_ms_per_image,
            report.size,
            report.batch,
            report.threads
        );
    }
    Ok(())
}
