//! The convolutions' work recorded in the timed iterations ([`pix2scene_model::work`]), per part
//! and pass and per operation shape, as GFLOP/s and fractions of the CPU's peak.

use std::collections::BTreeMap;

use pix2scene_model::work::{ConvShape, Part, Pass, WorkRecord};
use serde::Serialize;

/// The work of one part and pass in one iteration.
#[derive(Clone, Debug, Serialize)]
pub struct PassWork {
    /// Whose convolutions.
    pub part: Part,
    /// Which pass.
    pub pass: Pass,
    /// GFLOP per iteration.
    pub gflop: f64,
    /// Seconds per iteration in the convolution kernels (wall clock, all threads working).
    pub seconds: f64,
    /// `gflop / seconds`.
    pub gflops: f64,
    /// `gflops` over the peak of the benchmark's threads.
    pub peak_fraction: f64,
}

/// The work of one operation shape (one layer's pass) in one iteration.
#[derive(Clone, Debug, Serialize)]
pub struct LayerWork {
    /// Whose convolution.
    pub part: Part,
    /// Which pass.
    pub pass: Pass,
    /// The operation.
    pub shape: ConvShape,
    /// Operations per iteration.
    pub calls: f64,
    /// GFLOP per iteration.
    pub gflop: f64,
    /// Seconds per iteration.
    pub seconds: f64,
    /// `gflop / seconds`.
    pub gflops: f64,
    /// `gflops` over the peak of the benchmark's threads.
    pub peak_fraction: f64,
}

/// Per-iteration work per part and pass, and per shape (largest work first), from the records
/// of `iters` iterations, against `peak_gflops`.
pub(super) fn summarize(
    records: &[WorkRecord],
    iters: usize,
    peak_gflops: f64,
) -> (Vec<PassWork>, Vec<LayerWork>) {
    let n = iters as f64;
    let rate = |gflop: f64, seconds: f64| {
        let gflops = if seconds > 0.0 { gflop / seconds } else { 0.0 };
        (gflops, gflops / peak_gflops)
    };
    let mut passes: BTreeMap<(Part, Pass), (f64, f64)> = BTreeMap::new();
    let mut layers = Vec::with_capacity(records.len());
    for r in records {
        let (gflop, seconds) = (r.flop as f64 * 1e-9 / n, r.seconds / n);
        let entry = passes.entry((r.part, r.pass)).or_default();
        entry.0 += gflop;
        entry.1 += seconds;
        let (gflops, peak_fraction) = rate(gflop, seconds);
        layers.push(LayerWork {
            part: r.part,
            pass: r.pass,
            shape: r.shape,
            calls: r.calls as f64 / n,
            gflop,
            seconds,
            gflops,
            peak_fraction,
        });
    }
    layers.sort_by(|a, b| b.gflop.total_cmp(&a.gflop));
    let passes = passes
        .into_iter()
        .map(|((part, pass), (gflop, seconds))| {
            let (gflops, peak_fraction) = rate(gflop, seconds);
            PassWork {
                part,
                pass,
                gflop,
                seconds,
                gflops,
                peak_fraction,
            }
        })
        .collect();
    (passes, layers)
}
