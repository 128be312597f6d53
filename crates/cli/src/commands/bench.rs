//! `pix2scene bench`: performance figures.

use clap::{Args, Subcommand};
use pix2scene_scene::{GeneratorConfig, Preset, bench};

/// Flags of `pix2scene bench`.
#[derive(Debug, Args)]
pub struct BenchArgs {
    /// What to measure.
    #[command(subcommand)]
    target: BenchTarget,
}

/// The benchmarks.
#[derive(Debug, Subcommand)]
enum BenchTarget {
    /// Ray-traced ground-truth generation: images (with depth, normals, mask) per second.
    Generate(GenerateBenchArgs),
    /// Training iterations per second (all critic steps + one encoder/decoder step) on fixed
    /// random data, with a breakdown of where the time goes.
    Train(TrainBenchArgs),
    /// Surfel renderer: forward and forward+backward milliseconds per image.
    Render(super::bench_render::RenderBenchArgs),
    /// Hausdorff-F and -R of two point clouds of one image: k-d trees against brute force.
    Hausdorff(super::bench_hausdorff::HausdorffBenchArgs),
    /// This CPU's peak single-precision FLOP/s (fused multiply-adds on its widest vector unit),
    /// on one thread and on the global `--threads N` (default: one per core).
    Peak(PeakBenchArgs),
}

/// Flags of `pix2scene bench peak`.
#[derive(Debug, Args)]
struct PeakBenchArgs {
    /// Timed runs per figure; the best is reported.
    #[arg(long, default_value_t = 10)]
    reps: usize,
    /// Print one JSON object instead of text.
    #[arg(long)]
    json: bool,
}

/// Flags of `pix2scene bench train` (the global `--threads N` sizes the compute pool).
#[derive(Debug, Args)]
struct TrainBenchArgs {
    /// Preset file giving the networks, batch and critic steps.
    #[arg(long, value_name = "FILE")]
    config: std::path::PathBuf,
    /// Override a preset key, e.g. `--set optim.batch=12` (repeatable).
    #[arg(long = "set", value_name = "KEY=VALUE")]
    set: Vec<String>,
    /// Timed iterations (after one warm-up); the median is reported.
    #[arg(long, default_value_t = 5)]
    iters: usize,
    /// Print one JSON object instead of text.
    #[arg(long)]
    json: bool,
}

/// Flags of `pix2scene bench generate`.
#[derive(Debug, Args)]
struct GenerateBenchArgs {
    /// Scene family.
    #[arg(long, default_value = "boxes")]
    preset: String,
    /// Image side in pixels.
    #[arg(long, default_value_t = 128)]
    size: usize,
    /// Images to generate per repetition.
    #[arg(long, default_value_t = 2000)]
    count: u64,
    /// Print one JSON object instead of text.
    #[arg(long)]
    json: bool,
}

/// Runs `pix2scene bench`.
pub fn run(args: BenchArgs) -> anyhow::Result<()> {
    match args.target {
        BenchTarget::Generate(a) => {
            let preset: Preset = a.preset.parse()?;
            let report = bench::generation(GeneratorConfig::new(preset, a.size, 0), a.count)?;
            if a.json {
                println!("{}", serde_json::to_string(&report)?);
            } else {
                println!(
                    "{}: {:.0} images/s at {}² on {} thread(s) ({:.3} ms per image per thread)",
                    report.preset,
                    report.images_per_s,
                    report.size,
                    report.threads,
                    report.ms_per_image_per_thread
                );
            }
            Ok(())
        }
        BenchTarget::Train(a) => bench_train(a),
        BenchTarget::Render(a) => super::bench_render::run(a),
        BenchTarget::Hausdorff(a) => super::bench_hausdorff::run(a),
        BenchTarget::Peak(a) => {
            anyhow::ensure!(a.reps > 0, "--reps 0: must be at least 1");
            let p = pix2scene_train::bench::measure_peak(rayon::current_num_threads(), a.reps);
            if a.json {
                println!("{}", serde_json::to_string(&p)?);
            } else {
                println!(
                    "peak ({}, {} lanes): {:.1} GFLOP/s on 1 thread, {:.1} GFLOP/s on {} threads",
                    p.isa, p.lanes, p.gflops_1_thread, p.gflops_all_threads, p.threads
                );
            }
            Ok(())
        }
    }
}

/// Runs `pix2scene bench train`.
fn bench_train(a: TrainBenchArgs) -> anyhow::Result<()> {
    use anyhow::Context;
    let preset = pix2scene_train::TrainPreset::load(&a.config, &a.set)
        .with_context(|| format!("reading preset {}", a.config.display()))?;
    let report = pix2scene_train::bench_train(&preset, 0, a.iters)?;
    if a.json {
        println!("{}", serde_json::to_string(&report)?);
    } else {
        let b = &report.breakdown;
        println!(
            "{:.2} it/s ({:.3} s/iter) at {}², width {}, batch {}, {} critic steps, {} thread(s); \
             per iteration: renderer {:.3} s, gradient penalty {:.3} s, optimizer {:.3} s, \
             refinement {:.3} s, regression steps {:.3} s, networks and rest {:.3} s; \
             convolutions {:.1} GFLOP per iteration, {:.3} s in their kernels, {:.1} GFLOP/s over \
             the iteration ({:.0} % of the {:.0} GFLOP/s peak)",
            report.iters_per_s,
            report.s_per_iter,
            report.res,
            report.width,
            report.batch,
            report.critic_steps,
            report.threads,
            b.renderer_s,
            b.gradient_penalty_s,
            b.optimizer_s,
            b.refinement_s,
            b.regression_s,
            b.networks_and_rest_s,
            report.floor_gflop,
            b.convolutions_s,
            report.achieved_gflops,
            100.0 * report.peak_fraction,
            report.peak.gflops_all_threads
        );
    }
    Ok(())
}
