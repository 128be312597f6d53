//! Held-out depth error: paper Table 1's MSE-depth, and the two figures that split it into
//! shape and global scale.
//!
//! The image constrains a scene's global scale only weakly (through light attenuation and
//! direction), so a run's absolute depth error mixes two things: whether the shapes are right,
//! and whether the whole scene sits at the right distance. [`DepthError`] reports the masked
//! MSE, the MSE after scaling each image's prediction by its least-squares best factor (shape
//! only), and the ratio of mean predicted to mean true depth (scale only).

use serde::{Deserialize, Serialize};

/// Depth error of predictions against ground truth over masked pixels.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct DepthError {
    /// Masked mean squared depth error (paper Table 1's MSE-depth), scene units².
    pub mse: f32,
    /// The same after multiplying each image's prediction by `s = Σ p·g / Σ p²` over its
    /// masked pixels (the scale that minimizes its error), scene units².
    pub mse_scaled: f32,
    /// Mean predicted depth over mean true depth, over all masked pixels (1 = right distance).
    pub ratio: f32,
}

/// Sums for [`DepthError`], filled one image at a time.
#[derive(Clone, Debug, Default)]
pub struct DepthErrorSum {
    sq: f64,
    sq_scaled: f64,
    pred: f64,
    truth: f64,
    pixels: f64,
}

impl DepthErrorSum {
    /// Adds one image: predicted and true depth and the mask (`> 0` where the truth is valid),
    /// all of the same length (one image's pixels, row-major).
    pub fn add_image(&mut self, pred: &[f32], truth: &[f32], mask: &[f32]) {
        debug_assert!(pred.len() == truth.len() && truth.len() == mask.len());
        let (mut pp, mut pg, mut gg, mut sq, mut sp, mut sg, mut n) =
            (0.0f64, 0.0f64, 0.0f64, 0.0f64, 0.0f64, 0.0f64, 0.0f64);
        for ((&p, &g), &m) in pred.iter().zip(truth).zip(mask) {
            if m > 0.0 {
                let (p, g) = (f64::from(p), f64::from(g));
                pp += p * p;
                pg += p * g;
                gg += g * g;
                sq += (p - g).powi(2);
                sp += p;
                sg += g;
                n += 1.0;
            }
        }
        // Σ (s·p − g)² at s = Σpg / Σpp is Σgg − (Σpg)² / Σpp.
        let scaled = if pp > 0.0 { gg - pg * pg / pp } else { gg };
        self.sq += sq;
        self.sq_scaled += scaled.max(0.0);
        self.pred += sp;
        self.truth += sg;
        self.pixels += n;
    }

    /// The error over every image added; NaN figures when no pixel was masked in.
    pub fn finish(&self) -> DepthError {
        if self.pixels == 0.0 {
            return DepthError {
                mse: f32::NAN,
                mse_scaled: f32::NAN,
                ratio: f32::NAN,
            };
        }
        DepthError {
            mse: (self.sq / self.pixels) as f32,
            mse_scaled: (self.sq_scaled / self.pixels) as f32,
            ratio: (self.pred / self.truth) as f32,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn brute_force_scaled(pred: &[f32], truth: &[f32], mask: &[f32]) -> f64 {
        (0..=40_000)
            .map(|i| 0.5 + f64::from(i) * 2.5e-5)
            .map(|s| {
                pred.iter()
                    .zip(truth)
                    .zip(mask)
                    .filter(|(_, m)| **m > 0.0)
                    .map(|((&p, &g), _)| (s * f64::from(p) - f64::from(g)).powi(2))
                    .sum::<f64>()
            })
            .fold(f64::INFINITY, f64::min)
    }

    #[test]
    fn scaled_error_is_the_brute_force_minimum_over_scales_per_image() {
        let truth = [0.8f32, 1.1, 0.9, 1.3, 0.7, 1.0];
        let pred_a = [0.9f32, 1.0, 1.2, 1.5, 0.2, 1.1];
        let pred_b = [0.6f32, 0.9, 0.7, 0.8, 0.6, 0.9];
        let mask = [1.0f32, 1.0, 1.0, 1.0, 0.0, 1.0];
        let mut sum = DepthErrorSum::default();
        sum.add_image(&pred_a, &truth, &mask);
        sum.add_image(&pred_b, &truth, &mask);
        let e = sum.finish();
        let brute = (brute_force_scaled(&pred_a, &truth, &mask)
            + brute_force_scaled(&pred_b, &truth, &mask))
            / 10.0;
        assert!(
            (f64::from(e.mse_scaled) - brute).abs() < 1e-6,
            "{e:?} vs {brute}"
        );
        let direct: f64 = [pred_a, pred_b]
            .iter()
            .flat_map(|p| p.iter().zip(&truth).zip(&mask))
            .filter(|(_, m)| **m > 0.0)
            .map(|((&p, &g), _)| (f64::from(p) - f64::from(g)).powi(2))
            .sum::<f64>()
            / 10.0;
        assert!((f64::from(e.mse) - direct).abs() < 1e-7);
        assert!(e.mse_scaled < e.mse);
    }

    #[test]
    fn a_scaled_copy_of_the_truth_has_no_shape_error_and_its_scale_as_ratio() {
        let truth = [0.8f32, 1.1, 0.9, 1.3];
        let far: Vec<f32> = truth.iter().map(|g| 1.25 * g).collect();
        let mut sum = DepthErrorSum::default();
        sum.add_image(&far, &truth, &[1.0; 4]);
        let e = sum.finish();
        assert!(e.mse > 0.01);
        assert!(e.mse_scaled < 1e-10, "{e:?}");
        assert!((e.ratio - 1.25).abs() < 1e-6);
    }

    #[test]
    fn no_masked_pixels_give_nan() {
        let mut sum = DepthErrorSum::default();
        sum.add_image(&[1.0], &[2.0], &[0.0]);
        assert!(sum.finish().mse.is_nan());
    }
}
