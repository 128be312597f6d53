//! The three products that a convolution and its transpose are made of, on plain contiguous
//! `f32` slices, each one matrix product over the whole batch.
//!
//! Samples sit side by side in *stacked* matrices `[rows, batch·pixels]` (column `b·pixels + j`
//! is pixel `j` of sample `b`), so that each product is a single large GEMM even where a map has
//! few pixels (4×4 or 1×1 at the deep layers). With the weight as a matrix
//! `W: [n, channels·k·k]` (a convolution's `[c_out, c_in, k, k]`, a transposed convolution's
//! `[c_in, c_out, k, k]`), `P` the stacked patch matrix of the big maps ([`patches`]) and `S`
//! the stacked small maps ([`stack`]):
//! - [`gather`]: `S = W · P` — convolution forward, transpose input gradient;
//! - [`scatter`]: big maps `= col2im(Wᵀ · S)` — transpose forward, convolution input gradient;
//! - [`weight_grad`]: `S · Pᵀ` — the weight gradient of both.
//!
//! The convolution keeps `P` of its input for its weight gradient; the transpose's backward
//! shares `P` of the output gradient between both of its gradients.
//!
//! A *dense* geometry ([`Geometry::is_dense`]: the kernel covers the whole unpadded map, one
//! output pixel) needs no copies: `P` is the batch of big maps `[batch, channels·k·k]` as they
//! lie in memory, read transposed by the products, and [`scatter`] writes the big maps as one
//! product `Sᵀ · W` with no col2im or zero fill.

use std::mem::MaybeUninit;

use rayon::prelude::*;

use super::geometry::Geometry;
use super::isa::vectorized;
use super::matmul::{View, product};

/// A vector of `len` entries written by `fill`, with no zero fill before.
///
/// # Safety
/// `fill` must write every entry of the slice it is given.
unsafe fn written(len: usize, fill: impl FnOnce(&mut [MaybeUninit<f32>])) -> Vec<f32> {
    let mut out = Vec::with_capacity(len);
    fill(&mut out.spare_capacity_mut()[..len]);
    // SAFETY: the caller's contract: `fill` wrote all `len` entries.
    unsafe { out.set_len(len) };
    out
}

/// `[rows, batch·pixels]` from `[batch, rows, pixels]`.
pub fn stack(maps: &[f32], rows: usize, pixels: usize) -> Vec<f32> {
    let batch = maps.len() / (rows * pixels).max(1);
    assert_eq!(maps.len(), batch * rows * pixels, "map length");
    // SAFETY: `stack_into` writes every entry.
    unsafe { written(maps.len(), |out| stack_into(maps, rows, pixels, batch, out)) }
}

vectorized! {
    /// [`stack`] into `out` (`maps.len()` entries, every one written).
    fn stack_into(
        maps: &[f32],
        rows: usize,
        pixels: usize,
        batch: usize,
        out: &mut [MaybeUninit<f32>],
    ) {
        for (b, sample) in maps.chunks_exact(rows * pixels.max(1)).enumerate() {
            for (r, src) in sample.chunks_exact(pixels.max(1)).enumerate() {
                let at = (r * batch + b) * pixels;
                for (d, v) in out[at..at + pixels].iter_mut().zip(src) {
                    d.write(*v);
                }
            }
        }
    }
}

/// `[batch, rows, pixels]` from `[rows, batch·pixels]`, the inverse of [`stack`], plus
/// `offset[r]` on row `r` (the bias of a convolution, added in the copy).
///
/// # Panics
/// If the lengths disagree or `offset` is not one entry per row.
pub fn unstack(stacked: &[f32], rows: usize, pixels: usize, offset: Option<&[f32]>) -> Vec<f32> {
    let batch = stacked.len() / (rows * pixels).max(1);
    assert_eq!(stacked.len(), batch * rows * pixels, "stacked length");
    assert!(offset.is_none_or(|o| o.len() == rows), "one offset per row");
    // SAFETY: `unstack_into` writes every entry.
    unsafe {
        written(stacked.len(), |out| {
            unstack_into(stacked, rows, pixels, batch, offset, out);
        })
    }
}

vectorized! {
    /// [`unstack`] into `out` (`stacked.len()` entries, every one written).
    fn unstack_into(
        stacked: &[f32],
        rows: usize,
        pixels: usize,
        batch: usize,
        offset: Option<&[f32]>,
        out: &mut [MaybeUninit<f32>],
    ) {
        for (b, sample) in out.chunks_exact_mut(rows * pixels.max(1)).enumerate() {
            for (r, dst) in sample.chunks_exact_mut(pixels.max(1)).enumerate() {
                let at = (r * batch + b) * pixels;
                let add = offset.map_or(0.0, |o| o[r]);
                for (d, v) in dst.iter_mut().zip(&stacked[at..at + pixels]) {
                    d.write(v + add);
                }
            }
        }
    }
}

/// Per row of a stacked `[rows, cols]` matrix, the sum of its entries (in `f64`, in order):
/// a convolution's bias gradient from its stacked output gradient.
pub fn row_sums(stacked: &[f32], rows: usize) -> Vec<f32> {
    let cols = stacked.len() / rows.max(1);
    assert_eq!(stacked.len(), rows * cols, "stacked length");
    if cols == 0 {
        return vec![0.0; rows];
    }
    stacked
        .chunks_exact(cols)
        .map(|row| row.iter().map(|&v| f64::from(v)).sum::<f64>() as f32)
        .collect()
}

/// Per channel of `[batch, channels, pixels]` maps, the sum over the batch and the pixels (in
/// `f64`, in order): a transposed convolution's bias gradient from its output gradient.
///
/// # Panics
/// If `maps` is not a whole number of `[channels, plane]` samples.
pub fn channel_sums(maps: &[f32], channels: usize, plane: usize) -> Vec<f32> {
    let mut sums = vec![0.0f64; channels];
    assert_eq!(maps.len() % (channels * plane).max(1), 0, "map length");
    if plane > 0 {
        for (i, values) in maps.chunks_exact(plane).enumerate() {
            sums[i % channels] += values.iter().map(|&v| f64::from(v)).sum::<f64>();
        }
    }
    sums.into_iter().map(|v| v as f32).collect()
}

/// `[channels·k·k, batch·small_h·small_w]`: the stacked patch matrix of the big maps, built in
/// parallel over channels.
///
/// # Shapes
/// - `big`: `[batch, channels, big_h, big_w]`
///
/// # Panics
/// If the length of `big` is not a multiple of the big map's.
pub fn patches(g: &Geometry, big: &[f32]) -> Vec<f32> {
    let (px, kk) = (g.small_pixels(), g.kernel * g.kernel);
    let batch = big.len() / g.big_len().max(1);
    assert_eq!(big.len(), batch * g.big_len(), "big length");
    if g.is_dense() {
        // `[batch, channels·k·k]`: the products read it transposed (see [`patch_view`]).
        return big.to_vec();
    }
    let ld = batch * px;
    let len = g.patch_len() * ld;
    if len == 0 {
        return Vec::new();
    }
    let fill = |out: &mut [MaybeUninit<f32>]| {
        out.par_chunks_mut(kk * ld)
            .enumerate()
            .for_each_init(Vec::new, |scratch, (c, rows)| {
                im2col_channel(g, big, c, rows, ld, scratch);
            });
    };
    // SAFETY: channel `c` owns rows `c·k·k ..` of length `ld`, and its im2col calls write
    // every entry of them: sample `b`'s `px` columns at `b·px` in every row.
    unsafe { written(len, fill) }
}

vectorized! {
    /// The `k·k` rows of channel `c` of the stacked patch matrix (row stride `ld`), from every
    /// sample of `big` (`[batch, channels, big_h, big_w]`).
    fn im2col_channel(
        g: &Geometry,
        big: &[f32],
        c: usize,
        rows: &mut [MaybeUninit<f32>],
        ld: usize,
        scratch: &mut Vec<f32>,
    ) {
        let (plane, px) = (g.big[0] * g.big[1], g.small_pixels());
        for b in 0..big.len() / g.big_len() {
            let src = &big[(b * g.channels + c) * plane..][..plane];
            g.im2col(src, &mut rows[b * px..], ld, scratch);
        }
    }
}

/// The patch matrix `[channels·k·k, batch·small_h·small_w]` that [`patches`] built.
fn patch_view<'a>(g: &Geometry, patches: &'a [f32]) -> View<'a> {
    let pl = g.patch_len();
    let cols = patches.len() / pl.max(1);
    if g.is_dense() {
        View::rows(patches, cols, pl).t()
    } else {
        View::rows(patches, pl, cols)
    }
}

/// `[n, batch·small_h·small_w]`: `W · P`.
///
/// # Shapes
/// - `patches`: `[channels·k·k, batch·small_h·small_w]` ([`patches`]); `weight`:
///   `[n, channels·k·k]`
///
/// # Panics
/// If the lengths disagree with `g` and `n`.
pub fn gather(g: &Geometry, patches: &[f32], weight: &[f32], n: usize) -> Vec<f32> {
    let pl = g.patch_len();
    assert_eq!(weight.len(), n * pl, "weight length");
    product(View::rows(weight, n, pl), patch_view(g, patches))
}

/// `[batch, channels, big_h, big_w]`: `col2im(Wᵀ · S)` plus `offset[c]` on channel `c` (the
/// bias of a transposed convolution), the col2im in parallel over the planes.
///
/// # Shapes
/// - `stacked`: `[n, batch·small_h·small_w]` ([`stack`]); `weight`: `[n, channels·k·k]`;
///   `offset`: `[channels]`
///
/// # Panics
/// If the lengths disagree with `g` and `n`.
pub fn scatter(
    g: &Geometry,
    stacked: &[f32],
    weight: &[f32],
    n: usize,
    offset: Option<&[f32]>,
) -> Vec<f32> {
    let (pl, px, kk) = (g.patch_len(), g.small_pixels(), g.kernel * g.kernel);
    assert_eq!(weight.len(), n * pl, "weight length");
    assert!(
        offset.is_none_or(|o| o.len() == g.channels),
        "one offset per channel"
    );
    let batch = stacked.len() / (n * px).max(1);
    assert_eq!(stacked.len(), batch * n * px, "stacked length");
    let ld = batch * px;
    let add = |c: usize| offset.map_or(0.0, |o| o[c]);
    if g.is_dense() {
        // One pixel per sample: the big maps are `Sᵀ · W`, `[batch, channels·k·k]`.
        let mut out = product(View::rows(stacked, n, ld).t(), View::rows(weight, n, pl));
        if offset.is_some() {
            for (i, v) in out.iter_mut().enumerate() {
                *v += add(i / kk % g.channels);
            }
        }
        return out;
    }
    let cols = product(View::rows(weight, n, pl).t(), View::rows(stacked, n, ld));
    let plane = g.big[0] * g.big[1];
    if plane == 0 {
        return Vec::new();
    }
    let fill = |out: &mut [MaybeUninit<f32>]| {
        out.par_chunks_mut(plane)
            .enumerate()
            .for_each_init(Vec::new, |scratch, (i, dst)| {
                let (b, c) = (i / g.channels, i % g.channels);
                col2im_plane(g, &cols[c * kk * ld + b * px..], dst, ld, add(c), scratch);
            });
    };
    // SAFETY: the planes tile the output and col2im writes every entry of its plane.
    unsafe { written(batch * g.big_len(), fill) }
}

vectorized! {
    /// [`Geometry::col2im`] of one plane.
    fn col2im_plane(
        g: &Geometry,
        patches: &[f32],
        plane: &mut [MaybeUninit<f32>],
        ld: usize,
        offset: f32,
        scratch: &mut Vec<f32>,
    ) {
        g.col2im(patches, plane, ld, offset, scratch);
    }
}

/// `[n, channels·k·k]`: `S · Pᵀ`, summed over the batch inside the product.
///
/// # Shapes
/// - `patches`: `[channels·k·k, batch·small_h·small_w]` ([`patches`]); `stacked`:
///   `[n, batch·small_h·small_w]` ([`stack`])
///
/// # Panics
/// If the lengths disagree with `g` and `n`.
pub fn weight_grad(g: &Geometry, patches: &[f32], stacked: &[f32], n: usize) -> Vec<f32> {
    let pl = g.patch_len();
    let cols = patches.len() / pl.max(1);
    assert_eq!(stacked.len(), n * cols, "stacked length");
    product(View::rows(stacked, n, cols), patch_view(g, patches).t())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unstack_inverts_stack() {
        let maps: Vec<f32> = (0..3 * 4 * 5).map(|i| i as f32).collect();
        let stacked = stack(&maps, 4, 5);
        // Row 1 of the stacked matrix: row 1 of samples 0, 1, 2.
        assert_eq!(stacked[15..20], maps[5..10]);
        assert_eq!(stacked[20..25], maps[25..30]);
        assert_eq!(unstack(&stacked, 4, 5, None), maps);
        let offset = [0.5, -1.0, 2.0, 0.25];
        let shifted: Vec<f32> = maps
            .iter()
            .enumerate()
            .map(|(i, v)| v + offset[i / 5 % 4])
            .collect();
        assert_eq!(unstack(&stacked, 4, 5, Some(&offset)), shifted);
    }

    /// `<gather(P(big)), S> = <big, scatter(S)>` and `∂<gather(P; W), S>/∂W = weight_grad(P, S)`,
    /// checked on integer-valued data (exact in f32).
    #[test]
    fn products_are_consistent_adjoints() {
        for g in [
            Geometry::of_conv(3, [8, 8], 4, 2, 1),
            Geometry::of_conv(4, [4, 4], 4, 1, 0),
            Geometry::of_conv(3, [5, 5], 5, 2, 0),
            Geometry::of_transpose(3, [1, 1], 4, 1, 0),
            Geometry::of_transpose(2, [3, 5], 4, 2, 1),
        ] {
            let (n, batch) = (5, 3);
            let val = |i: usize, m: usize| ((i * 7 + m) % 9) as f32 - 4.0;
            let big: Vec<f32> = (0..batch * g.big_len()).map(|i| val(i, 1)).collect();
            let small: Vec<f32> = (0..batch * n * g.small_pixels())
                .map(|i| val(i, 2))
                .collect();
            let weight: Vec<f32> = (0..n * g.patch_len()).map(|i| val(i, 3)).collect();
            let dot = |a: &[f32], b: &[f32]| -> f64 {
                a.iter().zip(b).map(|(x, y)| (x * y) as f64).sum()
            };
            let p = patches(&g, &big);
            let forward = unstack(&gather(&g, &p, &weight, n), n, g.small_pixels(), None);
            let back = scatter(&g, &stack(&small, n, g.small_pixels()), &weight, n, None);
            assert_eq!(dot(&forward, &small), dot(&big, &back), "{g:?}");
            let grad = weight_grad(&g, &p, &stack(&small, n, g.small_pixels()), n);
            assert_eq!(dot(&forward, &small), dot(&grad, &weight), "{g:?}");
        }
    }
}
