//! One Adam step of one parameter tensor as a single parallel pass on `Flex`.
//!
//! burn 0.22.1's Adam spends about ten tensor operations per parameter and step, each a fresh
//! allocation and a pass on one thread; in training they ran on the training thread while the
//! other cores waited (a tenth of a `cpu-64` iteration). [`adam_step`] reads the parameter, its
//! gradient and the two moments once and writes the three results once, in parallel chunks,
//! with exactly burn's `f32` operations in burn's order, so that it gives burn's bits.

use std::mem::MaybeUninit;

use burn::backend::TensorMetadata;
use burn::backend::flex::FlexTensor;
use burn::tensor::TensorData;
use rayon::prelude::*;

use super::isa::vectorized;
use super::op::{contiguous, slice};

/// Elements per parallel task.
const CHUNK: usize = 1 << 14;

/// The scalars of one Adam step, as burn's `AdaptiveMomentum` computes them (all `f32`).
#[derive(Clone, Copy, Debug)]
pub(crate) struct AdamScalars {
    /// β₁.
    pub beta_1: f32,
    /// β₂.
    pub beta_2: f32,
    /// `√(1 − β₂ᵗ) / (1 − β₁ᵗ)`: the bias corrections folded into one factor on the first moment.
    pub combined: f32,
    /// `ε·√(1 − β₂ᵗ)`, added to `√v`.
    pub epsilon: f32,
    /// The learning rate, rounded to `f32` as burn's scalar operations do.
    pub lr: f32,
}

/// One Adam step: the new parameter and moments `(p′, m′, v′)` from the parameter `p`, its
/// gradient `g` and the moments `(m, v)` of the previous step (`None` on the first):
/// `m′ = m·β₁ + g·(1 − β₁)` (`g·(1 − β₁)` on the first step), `v′ = v·β₂ + g²·(1 − β₂)`,
/// `p′ = p − (m′·combined) / (√v′ + ε′)·lr`. Any shape; all four tensors the same shape, `f32`.
pub(crate) fn adam_step(
    p: FlexTensor,
    g: FlexTensor,
    moments: Option<(FlexTensor, FlexTensor)>,
    s: AdamScalars,
) -> (FlexTensor, FlexTensor, FlexTensor) {
    let shape = p.shape();
    let (p, g) = (contiguous(p), contiguous(g));
    let moments = moments.map(|(m, v)| (contiguous(m), contiguous(v)));
    let (ps, gs) = (slice(&p), slice(&g));
    let n = ps.len();
    assert_eq!(gs.len(), n, "gradient length");
    let (ms, vs) = match &moments {
        Some((m, v)) => (Some(slice(m)), Some(slice(v))),
        None => (None, None),
    };
    assert!(ms.is_none_or(|m| m.len() == n) && vs.is_none_or(|v| v.len() == n));
    let (mut p_out, mut m_out, mut v_out) = (
        Vec::with_capacity(n),
        Vec::with_capacity(n),
        Vec::with_capacity(n),
    );
    p_out.spare_capacity_mut()[..n]
        .par_chunks_mut(CHUNK)
        .zip(m_out.spare_capacity_mut()[..n].par_chunks_mut(CHUNK))
        .zip(v_out.spare_capacity_mut()[..n].par_chunks_mut(CHUNK))
        .enumerate()
        .for_each(|(i, ((po, mo), vo))| {
            let at = i * CHUNK;
            let len = po.len();
            adam_chunk(
                AdamChunk {
                    p: &ps[at..at + len],
                    g: &gs[at..at + len],
                    m: part(ms, at, len),
                    v: part(vs, at, len),
                },
                po,
                mo,
                vo,
                s,
            );
        });
    // SAFETY: the chunks tile the first `n` entries of each output and `adam_chunk` writes
    // every entry of its chunks.
    unsafe {
        p_out.set_len(n);
        m_out.set_len(n);
        v_out.set_len(n);
    }
    let tensor = |values: Vec<f32>| FlexTensor::from_data(TensorData::new(values, shape.clone()));
    (tensor(p_out), tensor(m_out), tensor(v_out))
}

/// Entries `at .. at + len` of an optional slice.
fn part(x: Option<&[f32]>, at: usize, len: usize) -> Option<&[f32]> {
    x.map(|x| &x[at..at + len])
}

/// One chunk's inputs: parameter, gradient and the previous moments (`None` on the first step),
/// all the same length.
#[derive(Clone, Copy)]
struct AdamChunk<'a> {
    p: &'a [f32],
    g: &'a [f32],
    m: Option<&'a [f32]>,
    v: Option<&'a [f32]>,
}

vectorized! {
    /// [`adam_step`] on one chunk, into `p_out`, `m_out`, `v_out` (every entry written).
    fn adam_chunk(
        x: AdamChunk<'_>,
        p_out: &mut [MaybeUninit<f32>],
        m_out: &mut [MaybeUninit<f32>],
        v_out: &mut [MaybeUninit<f32>],
        s: AdamScalars,
    ) {
        let (f1, f2) = (1.0 - s.beta_1, 1.0 - s.beta_2);
        for i in 0..x.p.len() {
            let g = x.g[i];
            // burn: `moment_1.mul_scalar(β₁).add(grad.mul_scalar(1 − β₁))`, or `grad.mul_scalar(1 − β₁)`
            // on the first step; likewise the second moment with `grad.square()`.
            let m = match x.m {
                Some(m) => m[i] * s.beta_1 + g * f1,
                None => g * f1,
            };
            let v = match x.v {
                Some(v) => v[i] * s.beta_2 + (g * g) * f2,
                None => (g * g) * f2,
            };
            m_out[i].write(m);
            v_out[i].write(v);
            p_out[i].write(x.p[i] - (m * s.combined) / (v.sqrt() + s.epsilon) * s.lr);
        }
    }
}
