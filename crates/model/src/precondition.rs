//! A gradient preconditioner for depth maps: identity forward, low frequencies boosted backward.
//!
//! The renderer sees a depth map only through its normals (differences of neighbouring pixels),
//! so the image loss's gradient on depth is a high-pass signal: a box-sized error in depth gets
//! a gradient far smaller than pixel-sized texture, and training fits texture long before
//! geometry. This is the problem of inverse rendering that Nicolet et al. (2021, "Large Steps
//! in Inverse Rendering of Geometry") solve by preconditioning the gradient with a smoothing
//! operator; here the operator is a block pyramid, cheap on a regular grid.

use burn::tensor::Tensor;

/// Returns `depth` unchanged, with a backward pass that maps the incoming gradient `g` to
///
/// `S g = g + Σ_{k=1..levels} gain^k · (U_k D_k g − ḡ)`,
///
/// where `D_k` averages `2^k × 2^k` blocks, `U_k` copies each block mean back to its pixels and
/// `ḡ` is the mean of `g` over its map. `S` is symmetric and positive definite (each
/// `U_k D_k − ḡ` is an orthogonal projection), so `S g` is a descent direction; it multiplies
/// the zero-mean component of `g` that is constant on `2^K`-pixel blocks by
/// `1 + gain + … + gain^K` and leaves pixel-level detail and the map's mean at 1. The mean
/// is left alone because the image loss hardly constrains the global scale of a depth map
/// (normals do not change with it): boosting it too made the scene drift away many times
/// faster.
///
/// # Shapes
/// - `depth`: `[batch, rows, cols]`, `rows` and `cols` divisible by `2^levels`
/// - returns the same values and shape
///
/// # Panics
/// If `rows` or `cols` is not divisible by `2^levels`.
pub fn boost_low_frequency_gradient(depth: Tensor<3>, levels: usize, gain: f64) -> Tensor<3> {
    if levels == 0 {
        return depth;
    }
    let [batch, rows, cols] = depth.dims();
    let block = 1usize << levels;
    assert!(
        rows % block == 0 && cols % block == 0,
        "a {rows}×{cols} map cannot be split into {block}×{block} blocks"
    );
    let mut smooth = depth.clone();
    let mut weight = 1.0;
    for k in 1..=levels {
        let s = 1usize << k;
        weight *= gain;
        let means = depth
            .clone()
            .reshape([batch, rows / s, s, cols / s, s])
            .mean_dim(4)
            .mean_dim(2)
            .expand([batch, rows / s, s, cols / s, s])
            .reshape([batch, rows, cols]);
        let relief = means.clone() - means.mean_dim(2).mean_dim(1);
        smooth = smooth + relief.mul_scalar(weight);
    }
    depth.detach() + (smooth.clone() - smooth.detach())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testutil::{Rng, device, max_abs_diff, to_vec};

    /// `S g` of [`boost_low_frequency_gradient`] by plain loops over blocks.
    fn reference(g: &[f64], batch: usize, n: usize, levels: usize, gain: f64) -> Vec<f64> {
        let mut out = g.to_vec();
        let map_mean =
            |b: usize| g[b * n * n..(b + 1) * n * n].iter().sum::<f64>() / (n * n) as f64;
        for k in 1..=levels {
            let s = 1 << k;
            let w = gain.powi(k as i32);
            for b in 0..batch {
                for by in 0..n / s {
                    for bx in 0..n / s {
                        let idx = |y: usize, x: usize| b * n * n + (by * s + y) * n + bx * s + x;
                        let mean =
                            (0..s * s).map(|i| g[idx(i / s, i % s)]).sum::<f64>() / (s * s) as f64;
                        for i in 0..s * s {
                            out[idx(i / s, i % s)] += w * (mean - map_mean(b));
                        }
                    }
                }
            }
        }
        out
    }

    #[test]
    fn forward_is_the_identity_and_backward_applies_the_block_pyramid() {
        let (device, mut rng) = (device().autodiff(), Rng::new(31));
        let (batch, n) = (2, 16);
        for (levels, gain) in [(0, 2.0), (1, 3.0), (3, 2.0), (4, 0.5)] {
            let x = rng.tensor([batch, n, n], 0.5, 2.0, &device).require_grad();
            let g = rng.tensor([batch, n, n], -1.0, 1.0, &device);
            let y = boost_low_frequency_gradient(x.clone(), levels, gain);
            assert_eq!(
                to_vec(y.clone()),
                to_vec(x.clone()),
                "forward changed values"
            );
            let grads = (y * g.clone()).sum().backward();
            let got = to_vec(x.grad(&grads).expect("gradient"));
            let expected = reference(&to_vec(g), batch, n, levels, gain);
            assert!(
                max_abs_diff(&got, &expected) < 1e-4,
                "levels {levels}, gain {gain}: {}",
                max_abs_diff(&got, &expected)
            );
        }
    }

    #[test]
    #[should_panic(expected = "cannot be split into 8×8 blocks")]
    fn maps_that_do_not_tile_into_blocks_are_rejected() {
        let device = device();
        let _ = boost_low_frequency_gradient(Tensor::zeros([1, 12, 12], &device), 3, 2.0);
    }
}
