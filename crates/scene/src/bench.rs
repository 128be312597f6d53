//! Throughput of ground-truth generation (what `pix2scene bench generate` reports).

use std::time::Instant;

use rayon::prelude::*;
use serde::Serialize;

use crate::error::Result;
use crate::generator::{Generator, GeneratorConfig, Record};

/// Figures of one generation benchmark.
#[derive(Clone, Debug, Serialize)]
pub struct GenerationReport {
    /// Preset name.
    pub preset: String,
    /// Image side, pixels.
    pub size: usize,
    /// Rayon worker threads used.
    pub threads: usize,
    /// Records generated in the timed repetition.
    pub count: u64,
    /// Images per second, each with depth, normals and mask (4 per 3D-IQTT question).
    pub images_per_s: f64,
    /// Wall time per image times threads, milliseconds.
    pub ms_per_image_per_thread: f64,
}

/// Generates `count` records in memory on the current rayon pool (after a warm-up of a tenth as
/// many), keeping none of them, and reports the throughput. Disk writing is not included.
///
/// # Errors
/// An invalid configuration.
pub fn generation(config: GeneratorConfig, count: u64) -> Result<GenerationReport> {
    let preset = config.preset.name().to_string();
    let size = config.size_px;
    let generator = Generator::new(config)?;
    let run = |n: u64| -> usize {
        (0..n)
            .into_par_iter()
            .map(|i| match generator.record(i) {
                Record::View(_) => 1,
                Record::Question(_) => 4,
            })
            .sum()
    };
    run((count / 10).max(1));
    let start = Instant::now();
    let images = run(count.max(1));
    let secs = start.elapsed().as_secs_f64();
    let threads = rayon::current_num_threads();
    Ok(GenerationReport {
        preset,
        size,
        threads,
        count,
        images_per_s: images as f64 / secs,
        ms_per_image_per_thread: secs * 1e3 * threads as f64 / images as f64,
    })
}
