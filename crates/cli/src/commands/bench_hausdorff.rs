//! `pix2scene bench hausdorff`: both directed Hausdorff distances of two point clouds of one
//! image, k-d trees included, against brute force (the global `--threads N` sizes the pool).

use clap::Args;
use pix2scene_eval::bench::{HausdorffBenchConfig, run_hausdorff_bench};

/// Flags of `pix2scene bench hausdorff`.
#[derive(Debug, Args)]
pub struct HausdorffBenchArgs {
    /// Points per cloud (16384 = every pixel of a 128² image).
    #[arg(long, default_value_t = 16384)]
    points: usize,
    /// Timed repetitions (after one warm-up); the median and minimum are reported.
    #[arg(long, default_value_t = 20)]
    reps: usize,
    /// Source points per direction timed by brute force (extrapolated to the whole cloud);
    /// 0 skips brute force.
    #[arg(long, default_value_t = 1024)]
    brute_force_queries: usize,
    /// Print one JSON object instead of text.
    #[arg(long)]
    json: bool,
}

/// Runs `pix2scene bench hausdorff`.
pub fn run(a: HausdorffBenchArgs) -> anyhow::Result<()> {
    let report = run_hausdorff_bench(&HausdorffBenchConfig {
        points: a.points,
        reps: a.reps,
        brute_force_queries: a.brute_force_queries,
        seed: 0,
    })?;
    if a.json {
        println!("{}", serde_json::to_string(&report)?);
    } else {
        let brute = report.brute_force_ms.map_or_else(String::new, |ms| {
            format!(
                "; brute force ≈ {ms:.0} ms (timed on {} points per direction)",
                report.brute_force_queries
            )
        });
        println!(
            "Hausdorff-F and -R (max and mean) of two {}-point clouds ({}² image): {:.2} ms \
             median, {:.2} ms min, of which building both k-d trees {:.2} ms, on {} \
             thread(s){brute}",
            report.points,
            report.image_size,
            report.both_directions_ms,
            report.both_directions_min_ms,
            report.build_ms,
            report.threads,
        );
    }
    Ok(())
}
