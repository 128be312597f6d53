//! The conditional batch normalization's training-mode transform as one burn operation with a
//! hand-written backward, over rayon's pool.
//!
//! burn 0.22.1's `batch_norm_train` on autodiff records a dozen operations (a transpose to
//! `[channels, rest]`, means, variances, broadcasts), each a pass on one thread, and so does its
//! backward; in training they ran on the training thread while the other cores waited. Here the
//! forward is three parallel passes over the planes (sums, centred squares, output) and the
//! backward two (sums, input gradient). The sums are `f64`, in a fixed order (per plane in
//! eight lanes, then over the batch in order), so any thread count gives the same bits.

use std::mem::MaybeUninit;

use burn::backend::autodiff::{
    Autodiff,
    checkpoint::{base::Checkpointer, strategy::CheckpointStrategy},
    grads::Gradients,
    ops::{Backward, Ops, OpsKind},
};
use burn::backend::flex::FlexTensor;
use burn::backend::{Flex, TensorMetadata, backend_extension, tensor::FloatTensor};
use burn::tensor::TensorData;
use rayon::prelude::*;

use super::isa::vectorized;
use super::op::{ConstantBackward, contiguous, slice};

/// Backends that run the fused conditional batch normalization. Implemented for `Flex` and
/// `Autodiff<Flex>`.
#[backend_extension(Flex, Autodiff)]
pub trait CondNormBackend: burn::backend::Backend {
    /// `y = (x − μ_c)/√(σ²_c + ε) · scale[b, c] + shift[b, c]` with the batch's per-channel
    /// mean `μ` and biased variance `σ²` (over the batch and the pixels), which `moments` must
    /// hold as [`CondNormBackend::channel_moments`] computed them from this `x`: `x`
    /// `[batch, channels, h, w]`, `moments` `[2, channels]`, `scale` and `shift`
    /// `[batch, channels]` → `[batch, channels, h, w]`. Differentiable in `x` (through the
    /// statistics too), `scale` and `shift`; `moments` gets no gradient of its own.
    fn cond_norm_train(
        x: FloatTensor<Self>,
        moments: FloatTensor<Self>,
        scale: FloatTensor<Self>,
        shift: FloatTensor<Self>,
        epsilon: f32,
    ) -> FloatTensor<Self>;

    /// The batch's per-channel mean and biased variance of `x` (`[batch, channels, h, w]`) as
    /// `[2, channels]` (summed in `f64`, rounded to `f32`). A constant: on autodiff it records no
    /// graph.
    fn channel_moments(x: FloatTensor<Self>) -> FloatTensor<Self>;
}

vectorized! {
    /// Per plane of `x`, `Σ (x − centre[plane])` (`centre` 0 for plain sums) or, with `square`,
    /// `Σ (x − centre[plane])²`, into `out` (one entry per plane), by [`lane_sum`].
    pub(super) fn plane_sums(
        x: &[f32],
        plane: usize,
        centre: &[f64],
        square: bool,
        out: &mut [f64],
    ) {
        for ((values, o), &c) in x.chunks_exact(plane).zip(out.iter_mut()).zip(centre) {
            *o = if square {
                lane_sum(values, values, move |v, _| (f64::from(v) - c) * (f64::from(v) - c))
            } else {
                lane_sum(values, values, move |v, _| f64::from(v) - c)
            };
        }
    }
}

/// `Σ f(a_i, b_i)` in `f64`: term `i` into lane `i mod 8`, the lanes added in a fixed order
/// ([`lane_total`]), so the same bits on every call and instruction set, and vectorizable.
#[inline(always)]
fn lane_sum(a: &[f32], b: &[f32], f: impl Fn(f32, f32) -> f64 + Copy) -> f64 {
    let mut acc = [0.0f64; 8];
    let (ca, cb) = (a.chunks_exact(8), b.chunks_exact(8));
    let (ta, tb) = (ca.remainder(), cb.remainder());
    for (xa, xb) in ca.zip(cb) {
        for ((s, &u), &v) in acc.iter_mut().zip(xa).zip(xb) {
            *s += f(u, v);
        }
    }
    for ((s, &u), &v) in acc.iter_mut().zip(ta).zip(tb) {
        *s += f(u, v);
    }
    lane_total(acc)
}

/// The eight lanes' sum in a fixed order.
#[inline(always)]
fn lane_total(acc: [f64; 8]) -> f64 {
    ((acc[0] + acc[1]) + (acc[2] + acc[3])) + ((acc[4] + acc[5]) + (acc[6] + acc[7]))
}

/// Per channel, the sum over the batch (in order) of the per-plane values `[batch, channels]`.
fn over_batch(per_plane: &[f64], channels: usize) -> Vec<f64> {
    let mut out = vec![0.0; channels];
    for sample in per_plane.chunks_exact(channels) {
        for (o, v) in out.iter_mut().zip(sample) {
            *o += v;
        }
    }
    out
}

/// Planes per parallel task of the sums.
const PLANES: usize = 64;

/// Per-plane values computed in parallel chunks of planes.
fn per_plane(x: &[f32], plane: usize, centre: &[f64], square: bool) -> Vec<f64> {
    let planes = x.len() / plane.max(1);
    let mut out = vec![0.0; planes];
    out.par_chunks_mut(PLANES)
        .zip(x.par_chunks(PLANES * plane.max(1)))
        .zip(centre.par_chunks(PLANES))
        .for_each(|((o, x), c)| plane_sums(x, plane.max(1), c, square, o));
    out
}

/// The statistics of `x` `[batch, channels, h, w]`: per channel the mean and the biased
/// variance.
struct Moments {
    mean: Vec<f64>,
    var: Vec<f64>,
}

/// The moments' values (`f32`, as [`CondNormBackend::channel_moments`] returns them) read back.
fn read_moments(t: &FlexTensor) -> Moments {
    let v = slice(t);
    let channels = v.len() / 2;
    let wide = |s: &[f32]| s.iter().map(|&x| f64::from(x)).collect();
    Moments {
        mean: wide(&v[..channels]),
        var: wide(&v[channels..]),
    }
}

/// The moments of `x` (`[batch, channels, plane]` values): the means first, then the biased
/// variances as sums of squares about them (two passes, in `f64`).
fn moments(x: &[f32], channels: usize, plane: usize) -> Moments {
    let planes = x.len() / plane.max(1);
    let n = (planes / channels.max(1) * plane) as f64;
    let zeros = vec![0.0; planes];
    let mean: Vec<f64> = over_batch(&per_plane(x, plane, &zeros, false), channels)
        .into_iter()
        .map(|s| s / n)
        .collect();
    let centres: Vec<f64> = (0..planes).map(|i| mean[i % channels]).collect();
    let var = over_batch(&per_plane(x, plane, &centres, true), channels)
        .into_iter()
        .map(|s| s / n)
        .collect();
    Moments { mean, var }
}

/// Per channel `1/√(σ² + ε)`.
fn inverse_std(m: &Moments, epsilon: f32) -> Vec<f64> {
    m.var
        .iter()
        .map(|v| 1.0 / (v + f64::from(epsilon)).sqrt())
        .collect()
}

vectorized! {
    /// One plane of the output: `((x − mean)·inv)·scale + shift`.
    pub(super) fn normalize_plane(
        x: &[f32],
        out: &mut [MaybeUninit<f32>],
        mean: f64,
        inv: f64,
        scale: f32,
        shift: f32,
    ) {
        for (o, &v) in out.iter_mut().zip(x) {
            let xh = ((f64::from(v) - mean) * inv) as f32;
            o.write(xh * scale + shift);
        }
    }
}

/// Elements of one `[h, w]` plane and the channel count of a `[batch, channels, h, w]` tensor.
fn layout(x: &FlexTensor) -> (usize, usize) {
    let [_, c, h, w] = x.shape().dims::<4>();
    (c, h * w)
}

/// A tensor of `values` with `t`'s shape.
fn like(t: &FlexTensor, values: Vec<f32>) -> FlexTensor {
    FlexTensor::from_data(TensorData::new(values, t.shape()))
}

/// Writes every plane `i` (sample `i / channels`, channel `i % channels`) of a fresh
/// `[batch, channels, plane]` buffer with `fill(i, src_plane, dst_plane)`, in parallel.
fn planes_out(
    src: &[f32],
    plane: usize,
    fill: impl Fn(usize, &[f32], &mut [MaybeUninit<f32>]) + Sync,
) -> Vec<f32> {
    let mut out: Vec<f32> = Vec::with_capacity(src.len());
    if plane > 0 {
        out.spare_capacity_mut()[..src.len()]
            .par_chunks_mut(plane)
            .zip(src.par_chunks(plane))
            .enumerate()
            .for_each(|(i, (dst, src))| fill(i, src, dst));
    }
    // SAFETY: the planes tile the first `src.len()` entries and `fill` writes each whole (the
    // callers' fills write every entry of their plane).
    unsafe { out.set_len(src.len()) };
    out
}

fn forward(
    x: &FlexTensor,
    moments: &FlexTensor,
    scale: &FlexTensor,
    shift: &FlexTensor,
    epsilon: f32,
) -> FlexTensor {
    let (channels, plane) = layout(x);
    let xs = slice(x);
    let m = read_moments(moments);
    let inv = inverse_std(&m, epsilon);
    let (scale, shift) = (slice(scale), slice(shift));
    let out = planes_out(xs, plane, |i, src, dst| {
        let c = i % channels;
        normalize_plane(src, dst, m.mean[c], inv[c], scale[i], shift[i]);
    });
    like(x, out)
}

fn channel_moments(x: &FlexTensor) -> FlexTensor {
    let (channels, plane) = layout(x);
    let m = moments(slice(x), channels, plane);
    let out: Vec<f32> = m.mean.iter().chain(&m.var).map(|&v| v as f32).collect();
    FlexTensor::from_data(TensorData::new(out, [2, channels]))
}

impl CondNormBackend for Flex {
    fn cond_norm_train(
        x: FlexTensor,
        moments: FlexTensor,
        scale: FlexTensor,
        shift: FlexTensor,
        epsilon: f32,
    ) -> FlexTensor {
        forward(
            &contiguous(x),
            &contiguous(moments),
            &contiguous(scale),
            &contiguous(shift),
            epsilon,
        )
    }

    fn channel_moments(x: FlexTensor) -> FlexTensor {
        channel_moments(&contiguous(x))
    }
}

vectorized! {
    /// Per plane, `Σ g` and `Σ g·x̂` (`x̂ = (x − mean)·inv`) into `sums` (two entries per plane).
    pub(super) fn gradient_sums(
        x: &[f32],
        g: &[f32],
        plane: usize,
        channels: usize,
        first: usize,
        moments: (&[f64], &[f64]),
        sums: &mut [f64],
    ) {
        let (mean, inv) = moments;
        for (j, ((x, g), s)) in x
            .chunks_exact(plane)
            .zip(g.chunks_exact(plane))
            .zip(sums.chunks_exact_mut(2))
            .enumerate()
        {
            let c = (first + j) % channels;
            let (mc, ic) = (mean[c], inv[c]);
            s[0] = lane_sum(g, g, |v, _| f64::from(v));
            s[1] = lane_sum(x, g, move |x, g| f64::from(g) * ((f64::from(x) - mc) * ic));
        }
    }
}

vectorized! {
    /// One plane of the input gradient: `inv·(g·scale − a − x̂·b)`, with `a` and `b` the
    /// channel's means of `g·scale` and `g·scale·x̂` over the batch and the pixels.
    pub(super) fn input_gradient_plane(
        x: &[f32],
        g: &[f32],
        out: &mut [MaybeUninit<f32>],
        stats: [f64; 5],
    ) {
        let [mean, inv, scale, a, b] = stats;
        for (o, (&x, &g)) in out.iter_mut().zip(x.iter().zip(g)) {
            let xh = (f64::from(x) - mean) * inv;
            o.write((inv * (f64::from(g) * scale - a - xh * b)) as f32);
        }
    }
}

/// Backward step of [`CondNormBackend::cond_norm_train`].
#[derive(Debug)]
struct NormBackward;

/// What the backward keeps: the contiguous input, its moments and the scale, and ε.
#[derive(Clone, Debug)]
struct NormState {
    x: FlexTensor,
    moments: FlexTensor,
    scale: FlexTensor,
    epsilon: f32,
}

impl Backward<Flex, 3> for NormBackward {
    type State = NormState;

    fn backward(self, ops: Ops<Self::State, 3>, grads: &mut Gradients, _: &mut Checkpointer) {
        let [node_x, node_scale, node_shift] = ops.parents;
        let grad = contiguous(grads.consume::<Flex>(&ops.node));
        let NormState {
            x,
            moments,
            scale,
            epsilon,
        } = ops.state;
        let (channels, plane) = layout(&x);
        let (xs, gs, scales) = (slice(&x), slice(&grad), slice(&scale));
        let m = read_moments(&moments);
        let inv = inverse_std(&m, epsilon);
        // Per plane (sample b, channel c): Σ g and Σ g·x̂ — the shift's and the scale's gradients.
        let planes = xs.len() / plane.max(1);
        let mut sums = vec![0.0f64; 2 * planes];
        sums.par_chunks_mut(2 * PLANES)
            .enumerate()
            .for_each(|(k, s)| {
                let first = k * PLANES;
                let len = s.len() / 2;
                let span = first * plane..(first + len) * plane;
                let (x, g) = (&xs[span.clone()], &gs[span]);
                gradient_sums(x, g, plane.max(1), channels, first, (&m.mean, &inv), s);
            });
        let [batch, ..] = x.shape().dims::<4>();
        if let Some(node) = node_shift {
            let d: Vec<f32> = sums.iter().step_by(2).map(|&v| v as f32).collect();
            grads.register::<Flex>(
                node.id,
                FlexTensor::from_data(TensorData::new(d, [batch, channels])),
            );
        }
        if let Some(node) = node_scale {
            let d: Vec<f32> = sums.iter().skip(1).step_by(2).map(|&v| v as f32).collect();
            grads.register::<Flex>(
                node.id,
                FlexTensor::from_data(TensorData::new(d, [batch, channels])),
            );
        }
        if let Some(node) = node_x {
            // Per channel, the means of g·scale and g·scale·x̂ over the batch and the pixels.
            let n = (batch * plane) as f64;
            let (mut a, mut b) = (vec![0.0f64; channels], vec![0.0f64; channels]);
            for (i, s) in sums.chunks_exact(2).enumerate() {
                let (c, k) = (i % channels, f64::from(scales[i]));
                a[c] += k * s[0];
                b[c] += k * s[1];
            }
            let dx = planes_out(xs, plane, |i, src, dst| {
                let c = i % channels;
                let g = &gs[i * plane..(i + 1) * plane];
                let stats = [m.mean[c], inv[c], f64::from(scales[i]), a[c] / n, b[c] / n];
                input_gradient_plane(src, g, dst, stats);
            });
            grads.register::<Flex>(node.id, like(&x, dx));
        }
    }
}

impl<C: CheckpointStrategy> CondNormBackend for Autodiff<Flex, C> {
    fn cond_norm_train(
        x: FloatTensor<Self>,
        moments: FloatTensor<Self>,
        scale: FloatTensor<Self>,
        shift: FloatTensor<Self>,
        epsilon: f32,
    ) -> FloatTensor<Self> {
        // The moments are a constant (no parent node): the backward differentiates through
        // them itself.
        let kind = NormBackward
            .prepare::<C>([x.node(), scale.node(), shift.node()])
            .compute_bound()
            .stateful();
        let x = contiguous(x.into_primitive());
        let moments = contiguous(moments.into_primitive());
        let scale = contiguous(scale.into_primitive());
        let shift = contiguous(shift.into_primitive());
        let out = forward(&x, &moments, &scale, &shift, epsilon);
        match kind {
            OpsKind::Tracked(prep) => prep.finish(
                NormState {
                    x,
                    moments,
                    scale,
                    epsilon,
                },
                out,
            ),
            OpsKind::UnTracked(prep) => prep.finish(out),
        }
    }

    fn channel_moments(x: FloatTensor<Self>) -> FloatTensor<Self> {
        let prep = ConstantBackward.prepare::<C>([x.node()]).compute_bound();
        prep.stateless(channel_moments(&contiguous(x.into_primitive())))
    }
}
