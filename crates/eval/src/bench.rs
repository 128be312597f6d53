//! `pix2scene bench hausdorff`: the time of both directed Hausdorff distances between two
//! point clouds of one image, k-d trees built included, against brute force.
//!
//! The clouds are those of an evaluation: the ground truth of a `boxes` record back-projected
//! (its first `points` valid pixels; the room fills the view, so every pixel is valid) and a
//! perturbed copy, its depth scaled by a seeded random factor in [0.98, 1.02] per pixel plus
//! 0.01 scene units.

use std::time::Instant;

use pix2scene_scene::{Generator, GeneratorConfig, Preset};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde::Serialize;

use crate::error::{Error, Result};
use crate::hausdorff::{Hausdorff, directed_brute_force, hausdorff, trees};
use crate::points::{PixelRays, Point};

/// What to measure.
#[derive(Clone, Debug, PartialEq)]
pub struct HausdorffBenchConfig {
    /// Points per cloud (16384 = a 128² image).
    pub points: usize,
    /// Timed repetitions (after one warm-up); the median and minimum are reported.
    pub reps: usize,
    /// Source points per direction timed by brute force (every k-th point, against the whole
    /// target cloud); 0 skips brute force.
    pub brute_force_queries: usize,
    /// Seed of the scene and of the perturbation.
    pub seed: u64,
}

impl Default for HausdorffBenchConfig {
    fn default() -> Self {
        Self {
            points: 16384,
            reps: 20,
            brute_force_queries: 1024,
            seed: 0,
        }
    }
}

/// Timings in milliseconds, on rayon's current pool.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct HausdorffBenchReport {
    /// Points per cloud.
    pub points: usize,
    /// Side of the image the clouds come from, pixels.
    pub image_size: usize,
    /// Rayon threads.
    pub threads: usize,
    /// Timed repetitions.
    pub reps: usize,
    /// Both directions (max and mean each), both trees built included: median over reps.
    pub both_directions_ms: f64,
    /// The same, minimum over reps.
    pub both_directions_min_ms: f64,
    /// Building the two trees alone: median over reps.
    pub build_ms: f64,
    /// Brute force of both directions for the whole clouds, extrapolated from
    /// `brute_force_queries` source points per direction (time × points / queries); absent
    /// when not measured.
    pub brute_force_ms: Option<f64>,
    /// Source points per direction that brute force was timed on.
    pub brute_force_queries: usize,
    /// The distances measured (Hausdorff-F and -R, max and mean), scene units.
    pub hausdorff: Hausdorff,
}

/// The two clouds of the benchmark: the ground truth of `boxes` record 0 of `seed` and its
/// perturbed copy, `points` each, from an image of side `⌈√points⌉` rounded up to an even
/// number of pixels (at least 8); returns them with that side.
///
/// # Errors
/// [`Error::InvalidValue`] (field `--points`) if `points` is 0 or more than the record's valid
/// pixels.
pub fn bench_clouds(points: usize, seed: u64) -> Result<(Vec<Point>, Vec<Point>, usize)> {
    let bad = |message: String| Error::InvalidValue {
        field: "--points".into(),
        message,
    };
    if points == 0 {
        return Err(bad("must be at least 1, got 0".into()));
    }
    let size = (points.isqrt() + usize::from(points.isqrt().pow(2) < points))
        .next_multiple_of(2)
        .max(8);
    let config = GeneratorConfig::new(Preset::Boxes, size, seed);
    let fov = config.camera.fov_y_deg;
    let frame = Generator::new(config)?.sample(0).frame;
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let perturbed: Vec<f32> = frame
        .depth
        .iter()
        .map(|d| d * rng.random_range(0.98..1.02f32) + 0.01)
        .collect();
    let rays = PixelRays::new(fov, size);
    let mut truth = rays.back_project(&frame.depth, &frame.mask)?;
    let mut other = rays.back_project(&perturbed, &frame.mask)?;
    if truth.len() < points {
        return Err(bad(format!(
            "{points} points asked for, but the {size}² record has {} valid pixels",
            truth.len()
        )));
    }
    truth.truncate(points);
    other.truncate(points);
    Ok((other, truth, size))
}

/// Runs the benchmark on rayon's current pool.
///
/// # Errors
/// As [`bench_clouds`]; [`Error::InvalidValue`] if `reps` is 0.
pub fn run_hausdorff_bench(cfg: &HausdorffBenchConfig) -> Result<HausdorffBenchReport> {
    if cfg.reps == 0 {
        return Err(Error::InvalidValue {
            field: "--reps".into(),
            message: "must be at least 1, got 0".into(),
        });
    }
    let (reconstruction, truth, image_size) = bench_clouds(cfg.points, cfg.seed)?;
    let result = hausdorff(&reconstruction, &truth)?;
    let mut both = Vec::with_capacity(cfg.reps);
    let mut build = Vec::with_capacity(cfg.reps);
    for _ in 0..cfg.reps {
        let t = Instant::now();
        std::hint::black_box(trees(&reconstruction, &truth)?);
        build.push(ms(t));
        let t = Instant::now();
        std::hint::black_box(hausdorff(&reconstruction, &truth)?);
        both.push(ms(t));
    }
    let brute_force_queries = cfg.brute_force_queries.min(cfg.points);
    let brute_force_ms = (brute_force_queries > 0).then(|| {
        let step = cfg.points.div_ceil(brute_force_queries);
        let sample = |c: &[Point]| c.iter().step_by(step).copied().collect::<Vec<_>>();
        let (rec_sample, truth_sample) = (sample(&reconstruction), sample(&truth));
        let t = Instant::now();
        std::hint::black_box(directed_brute_force(&rec_sample, &truth));
        std::hint::black_box(directed_brute_force(&truth_sample, &reconstruction));
        ms(t) * cfg.points as f64 / rec_sample.len() as f64
    });
    Ok(HausdorffBenchReport {
        points: cfg.points,
        image_size,
        threads: rayon::current_num_threads(),
        reps: cfg.reps,
        both_directions_ms: median(&mut both),
        both_directions_min_ms: both.iter().copied().fold(f64::INFINITY, f64::min),
        build_ms: median(&mut build),
        brute_force_ms,
        brute_force_queries,
        hausdorff: result,
    })
}

fn ms(t: Instant) -> f64 {
    t.elapsed().as_secs_f64() * 1e3
}

fn median(v: &mut [f64]) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}
