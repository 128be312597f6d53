//! Coarse depth heads of the decoder (not in the paper;
//! [`DecoderConfig::coarse_heads`](super::DecoderConfig::coarse_heads)): 1×1
//! projections of the decoder's features at `R/2, R/4, …` to one channel, bilinearly upsampled
//! to `R×R`, less their image means, added to the last layer's output before the softplus.

use burn::nn::conv::{Conv2d, Conv2dConfig};
use burn::tensor::module::interpolate;
use burn::tensor::ops::{InterpolateMode, InterpolateOptions};
use burn::tensor::{Device, Tensor};

use super::kaiming;
use crate::conv::conv2d_layer;

/// The `count` heads, from the output side: head `j` reads the features of `widths` (the
/// decoder's stage widths from the 4×4 side) at resolution `R/2^(j+1)`. Initialized like the
/// decoder's last layer, scaled by `gain`.
pub(super) fn init(widths: &[usize], count: usize, gain: f64, device: &Device) -> Vec<Conv2d> {
    widths
        .iter()
        .rev()
        .take(count)
        .map(|&w| {
            Conv2dConfig::new([w, 1], [1, 1])
                .with_bias(false)
                .with_initializer(kaiming(gain))
                .init(device)
        })
        .collect()
}

/// `h` plus each head's relief: `features` are the inputs of the decoder's last
/// `heads.len()` stages, from the coarsest (`… R/4, R/2`).
///
/// # Shapes
/// - `h`: `[batch, 1, resolution, resolution]`, the last layer's output
/// - `features[i]`: `[batch, channels_i, n_i, n_i]`
/// - returns `[batch, 1, resolution, resolution]`
pub(super) fn add_relief(
    mut h: Tensor<4>,
    heads: &[Conv2d],
    features: Vec<Tensor<4>>,
    resolution: usize,
) -> Tensor<4> {
    let upsample = InterpolateOptions::new(InterpolateMode::Bilinear)
        .with_align_corners(false)
        .with_output_size([resolution, resolution]);
    for (head, feature) in heads.iter().zip(features.into_iter().rev()) {
        let relief = interpolate(conv2d_layer(head, feature), upsample.clone());
        let level = relief.clone().mean_dim(2).mean_dim(3);
        h = h + relief - level;
    }
    h
}

#[cfg(test)]
mod tests {
    use burn::tensor::Tensor;

    use crate::activation::leaky_relu;
    use crate::conv::conv_transpose2d_layer;
    use crate::decoder::{Decoder, DecoderConfig, MIN_DEPTH};
    use crate::testutil::{Rng, device, max_abs_diff, to_vec};

    /// Bilinear resampling (half-pixel centres, edges clamped, as PyTorch's
    /// `align_corners=False`) of the `n×n` maps `m` (`[batch, n, n]`) to `r×r`.
    fn upsample_ref(m: &[f64], n: usize, r: usize) -> Vec<f64> {
        let taps = |o: usize| {
            let src = ((o as f64 + 0.5) * n as f64 / r as f64 - 0.5).max(0.0);
            let i0 = (src.floor() as usize).min(n - 1);
            (i0, (i0 + 1).min(n - 1), src - i0 as f64)
        };
        let mut out = Vec::with_capacity(m.len() / (n * n) * r * r);
        for map in m.chunks(n * n) {
            for y in 0..r {
                let (y0, y1, ty) = taps(y);
                for x in 0..r {
                    let (x0, x1, tx) = taps(x);
                    let row = |yy: usize| (1.0 - tx) * map[yy * n + x0] + tx * map[yy * n + x1];
                    out.push((1.0 - ty) * row(y0) + ty * row(y1));
                }
            }
        }
        out
    }

    #[test]
    fn coarse_heads_add_the_zero_mean_bilinear_upsampling_of_their_projections() {
        let (device, mut rng) = (device(), Rng::new(24));
        let (batch, width, z_dim) = (2, 3, 4);
        let dec = DecoderConfig::new(16)
            .with_width(width)
            .with_z_dim(z_dim)
            .with_output_init_scale(1.0)
            .with_coarse_heads(2)
            .with_fine_gain(0.5)
            .init(&device);
        let plain = Decoder {
            coarse: Vec::new(),
            fine_gain: 1.0,
            ..dec.clone()
        };
        let z = rng.tensor([batch, z_dim], -1.0, 1.0, &device);
        let cam = rng.tensor([batch, 3], 0.0, 1.0, &device);
        // Pre-softplus outputs `h` of both decoders.
        let logits = |d: &Decoder| -> Vec<f64> {
            let depth = to_vec(d.forward(z.clone(), Some(cam.clone()), None));
            depth
                .iter()
                .map(|v| (v - MIN_DEPTH).exp_m1().ln())
                .collect()
        };
        // The features the heads read: 4×4 (after the projection) and 8×8 (after `ups[0]`).
        let input = Tensor::cat(vec![z.clone(), cam.clone()], 1).reshape([batch, z_dim + 3, 1, 1]);
        let f4 = leaky_relu(dec.project_norm.forward(
            conv_transpose2d_layer(&dec.project, input),
            Some(cam.clone()),
        ));
        let f8 = leaky_relu(dec.norms[0].forward(
            conv_transpose2d_layer(&dec.ups[0], f4.clone()),
            Some(cam.clone()),
        ));
        // Head `j` (from the output side) reads the `R/2^(j+1)` features: 8×8, then 4×4.
        let mut expected: Vec<f64> = logits(&plain).iter().map(|h| 0.5 * h).collect();
        for (head, feature) in dec.coarse.iter().zip([f8, f4]) {
            let [_, channels, n, _] = feature.dims();
            let w = to_vec(head.weight.val());
            let f = to_vec(feature);
            let projected: Vec<f64> = (0..batch * n * n)
                .map(|i| {
                    let (b, p) = (i / (n * n), i % (n * n));
                    (0..channels)
                        .map(|c| w[c] * f[(b * channels + c) * n * n + p])
                        .sum()
                })
                .collect();
            let up = upsample_ref(&projected, n, 16);
            for (e, map) in expected.chunks_mut(16 * 16).zip(up.chunks(16 * 16)) {
                let mean = map.iter().sum::<f64>() / map.len() as f64;
                for (e, u) in e.iter_mut().zip(map) {
                    *e += u - mean;
                }
            }
        }
        let got = logits(&dec);
        let scale = expected.iter().fold(1.0f64, |m, v| m.max(v.abs()));
        assert!(
            max_abs_diff(&got, &expected) < 1e-4 * scale,
            "{}",
            max_abs_diff(&got, &expected)
        );
        assert!(
            max_abs_diff(&got, &logits(&plain)) > 1e-2,
            "heads had no effect"
        );
    }
}
