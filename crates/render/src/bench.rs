//! `pix2scene bench render`: forward and forward+backward timings of the renderer.
//!
//! The inputs are those of `bench/torch_reference.py render` (a smooth depth map `0.8 + 0.2 sin 3x cos 2y`
//! plus 0.01 noise, the yardstick's three default lights and constants), and the timed step is the
//! trainer's: a depth tensor requiring grad on an autodiff `Flex` device →
//! [`crate::SurfelRenderer::render_image`] → `image.sum()` → backward → gradient of the depth.

use std::time::Instant;

use burn::tensor::{Device, Tensor, TensorData};
use serde::Serialize;

use crate::error::{Error, Result};
use crate::params::ShadeParams;
use crate::renderer::{RenderImpl, RendererConfig};

/// What to measure.
#[derive(Clone, Debug, PartialEq)]
pub struct BenchConfig {
    /// Image side, pixels (≥ 2).
    pub size_px: usize,
    /// Images per batch (≥ 1).
    pub batch: usize,
    /// Rayon threads (≥ 1).
    pub threads: usize,
    /// Timed repetitions per mode; the median is reported.
    pub reps: usize,
    /// Implementation to time.
    pub implementation: RenderImpl,
}

impl Default for BenchConfig {
    fn default() -> Self {
        Self {
            size_px: 128,
            batch: 6,
            threads: 1,
            reps: 20,
            implementation: RenderImpl::Auto,
        }
    }
}

/// Timings, in milliseconds per image (batch time / batch), medians over `reps`.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct BenchReport {
    /// The implementation that ran: `"fused-flex"` or `"reference-tensor-ops"`.
    #[serde(rename = "impl")]
    pub implementation: String,
    /// Rayon threads.
    pub threads: usize,
    /// Image side, pixels.
    pub size: usize,
    /// Images per batch.
    pub batch: usize,
    /// Timed repetitions per mode.
    pub reps: usize,
    /// Forward only (no gradient tracked).
    pub fwd_ms_per_image: f64,
    /// Forward, `image.sum()`, backward, depth gradient.
    pub fwd_bwd_ms_per_image: f64,
}

/// Runs the benchmark on a fresh rayon pool of `threads` threads.
///
/// # Errors
/// [`Error::InvalidValue`] if a setting is out of range or the thread pool cannot be built.
pub fn run(cfg: &BenchConfig) -> Result<BenchReport> {
    let bad = |field: &str, message: String| Error::InvalidValue {
        field: field.into(),
        message,
    };
    if cfg.size_px < 2 {
        return Err(bad("--size", format!("{} is below 2", cfg.size_px)));
    }
    for (field, v) in [
        ("--batch", cfg.batch),
        ("--threads", cfg.threads),
        ("--reps", cfg.reps),
    ] {
        if v == 0 {
            return Err(bad(field, "must be at least 1".into()));
        }
    }
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(cfg.threads)
        .build()
        .map_err(|e| bad("--threads", e.to_string()))?;
    Ok(pool.install(|| measure(cfg)))
}

fn measure(cfg: &BenchConfig) -> BenchReport {
    let device = Device::flex().autodiff();
    let (s, b) = (cfg.size_px, cfg.batch);
    let params = ShadeParams::default();
    let renderer = RendererConfig::from_shading(s, &params.shading())
        .with_fov_y_deg(params.fovy_deg)
        .with_implementation(cfg.implementation)
        .init(&device);
    let depth = Tensor::<3>::from_data(TensorData::new(bench_depth(s, b), [b, s, s]), &device);
    let (pos, col) = params.light_arrays(b).expect("shared light positions");
    let lights = params.lights.len();
    let pos = Tensor::<3>::from_data(TensorData::new(pos, [b, lights, 3]), &device);
    let col = Tensor::<3>::from_data(TensorData::new(col, [b, lights, 3]), &device);
    let implementation = match renderer.implementation_for(&depth, &pos, &col) {
        RenderImpl::Reference => "reference-tensor-ops",
        _ => "fused-flex",
    };
    let forward = || {
        let image = renderer.render_image(depth.clone(), pos.clone(), col.clone());
        std::hint::black_box(image.into_data());
    };
    let forward_backward = || {
        let d = depth.clone().require_grad();
        let image = renderer.render_image(d.clone(), pos.clone(), col.clone());
        let grads = image.sum().backward();
        std::hint::black_box(d.grad(&grads).expect("depth gradient").into_data());
    };
    let per_image = |step: &dyn Fn()| median_ms(step, cfg.reps) / b as f64;
    BenchReport {
        implementation: implementation.into(),
        threads: cfg.threads,
        size: s,
        batch: b,
        reps: cfg.reps,
        fwd_ms_per_image: per_image(&forward),
        fwd_bwd_ms_per_image: per_image(&forward_backward),
    }
}

/// Median wall time of `step` in milliseconds, after 3 warm-up runs.
fn median_ms(step: &dyn Fn(), reps: usize) -> f64 {
    for _ in 0..3 {
        step();
    }
    let mut times: Vec<f64> = (0..reps)
        .map(|_| {
            let t = Instant::now();
            step();
            t.elapsed().as_secs_f64() * 1e3
        })
        .collect();
    times.sort_by(f64::total_cmp);
    times[times.len() / 2]
}

/// The yardstick's benchmark depth: `0.8 + 0.2 sin(3x) cos(2y)` on `[0, 1)²` plus 0.01 pseudo-random
/// noise (a fixed hash, not NumPy's generator: only the statistics matter for timing).
pub fn bench_depth(size: usize, batch: usize) -> Vec<f32> {
    let mut state = 0x2545_f491_4f6c_dd1du64;
    let mut noise = move || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        (state >> 40) as f32 / (1u64 << 24) as f32 - 0.5
    };
    (0..batch * size * size)
        .map(|i| {
            let (y, x) = ((i / size) % size, i % size);
            let (y, x) = (y as f32 / size as f32, x as f32 / size as f32);
            0.8 + 0.2 * (3.0 * x).sin() * (2.0 * y).cos() + 0.02 * noise()
        })
        .collect()
}
