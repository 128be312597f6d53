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

use rayon::prelude::*;

use super::geometry::Geometry;
use super::matmul::{View, product};

/// `[rows, batch·pixels]` from `[batch, rows, pixels]`.
pub fn stack(maps: &[f32], rows: usize, pixels: usize) -> Vec<f32> {
    let batch = maps.len() / (rows * pixels).max(1);
    assert_eq!(maps.len(), batch * rows * pixels, "map length");
    let mut out = vec![0.0; maps.len()];
    for (b, sample) in maps.chunks_exact(rows * pixels.max(1)).enumerate() {
        for (r, src) in sample.chunks_exact(pixels.max(1)).enumerate() {
            let at = (r * batch + b) * pixels;
            out[at..at + pixels].copy_from_slice(src);
        }
    }
    out
}

/// `[batch, rows, pixels]` from `[rows, batch·pixels]`, the inverse of [`stack`].
pub fn unstack(stacked: &[f32], rows: usize, pixels: usize) -> Vec<f32> {
    let batch = stacked.len() / (rows * pixels).max(1);
    assert_eq!(stacked.len(), batch * rows * pixels, "stacked length");
    let mut out = vec![0.0; stacked.len()];
    for (b, sample) in out.chunks_exact_mut(rows * pixels.max(1)).enumerate() {
        for (r, dst) in sample.chunks_exact_mut(pixels.max(1)).enumerate() {
            let at = (r * batch + b) * pixels;
            dst.copy_from_slice(&stacked[at..at + pixels]);
        }
    }
    out
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
    let (plane, px, kk) = (g.big[0] * g.big[1], g.small_pixels(), g.kernel * g.kernel);
    let batch = big.len() / g.big_len().max(1);
    assert_eq!(big.len(), batch * g.big_len(), "big length");
    if g.is_dense() {
        // `[batch, channels·k·k]`: the products read it transposed (see [`patch_view`]).
        return big.to_vec();
    }
    let ld = batch * px;
    let mut out = vec![0.0; g.patch_len() * ld];
    if out.is_empty() {
        return out;
    }
    out.par_chunks_mut(kk * ld)
        .enumerate()
        .for_each(|(c, rows)| {
            for b in 0..batch {
                let src = &big[(b * g.channels + c) * plane..][..plane];
                g.im2col(src, &mut rows[b * px..], ld);
            }
        });
    out
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

/// `[batch, channels, big_h, big_w]`: `col2im(Wᵀ · S)`, the col2im in parallel over the planes.
///
/// # Shapes
/// - `stacked`: `[n, batch·small_h·small_w]` ([`stack`]); `weight`: `[n, channels·k·k]`
///
/// # Panics
/// If the lengths disagree with `g` and `n`.
pub fn scatter(g: &Geometry, stacked: &[f32], weight: &[f32], n: usize) -> Vec<f32> {
    let (pl, px, kk) = (g.patch_len(), g.small_pixels(), g.kernel * g.kernel);
    assert_eq!(weight.len(), n * pl, "weight length");
    let batch = stacked.len() / (n * px).max(1);
    assert_eq!(stacked.len(), batch * n * px, "stacked length");
    let ld = batch * px;
    if g.is_dense() {
        // One pixel per sample: the big maps are `Sᵀ · W`, `[batch, channels·k·k]`.
        return product(View::rows(stacked, n, ld).t(), View::rows(weight, n, pl));
    }
    let cols = product(View::rows(weight, n, pl).t(), View::rows(stacked, n, ld));
    let plane = g.big[0] * g.big[1];
    let mut out = vec![0.0; batch * g.big_len()];
    if plane > 0 {
        out.par_chunks_mut(plane).enumerate().for_each(|(i, dst)| {
            let (b, c) = (i / g.channels, i % g.channels);
            g.col2im(&cols[c * kk * ld + b * px..], dst, ld);
        });
    }
    out
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
        assert_eq!(unstack(&stacked, 4, 5), maps);
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
            let forward = unstack(&gather(&g, &p, &weight, n), n, g.small_pixels());
            let back = scatter(&g, &stack(&small, n, g.small_pixels()), &weight, n);
            assert_eq!(dot(&forward, &small), dot(&big, &back), "{g:?}");
            let grad = weight_grad(&g, &p, &stack(&small, n, g.small_pixels()), n);
            assert_eq!(dot(&forward, &small), dot(&grad, &weight), "{g:?}");
        }
    }
}
