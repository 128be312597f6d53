//! Per-image depth errors: paper Table 1's MSE-depth and the scale-invariant depth error (SIDE)
//! of Eigen et al. as Unsup3d (Wu et al., CVPR 2020) reports it.

use crate::error::{Error, Result};

/// Mean over the valid pixels of the squared depth error `(d_pred − d_gt)²`, scene units²
/// (paper Table 1's MSE-depth of one image; the paper averages it over images).
///
/// # Shapes
/// `pred`, `truth`, `mask`: one value per pixel, the same length; `mask != 0` marks the pixels
/// scored (where the ground-truth ray hit a surface).
///
/// # Errors
/// [`Error::NoValidPixels`] if `mask` is all 0; [`Error::InvalidDepth`] at the first valid
/// pixel whose predicted depth is not a positive finite distance.
///
/// # Panics
/// If the lengths differ.
pub fn mse_depth(pred: &[f32], truth: &[f32], mask: &[u8]) -> Result<f64> {
    check_positive("predicted depth", pred, mask)?;
    mean_over_valid("mse_depth", pred, truth, mask, |p, g| (p - g).powi(2))
}

/// The scale-invariant depth error of one image, `sqrt(mean(e²) − mean(e)²)` with
/// `e = ln d_pred − ln d_gt` over the valid pixels: the standard deviation of the log-depth
/// error, 0 for a prediction that is the truth times any constant factor.
///
/// # Shapes
/// As [`mse_depth`].
///
/// # Errors
/// [`Error::NoValidPixels`] if `mask` is all 0; [`Error::InvalidDepth`] at the first valid
/// pixel whose predicted or true depth is not a positive finite distance.
///
/// # Panics
/// If the lengths differ.
pub fn side(pred: &[f32], truth: &[f32], mask: &[u8]) -> Result<f64> {
    check_positive("predicted depth", pred, mask)?;
    check_positive("ground-truth depth", truth, mask)?;
    let log_error = |p: f64, g: f64| p.ln() - g.ln();
    let mean = mean_over_valid("side", pred, truth, mask, log_error)?;
    let mean_sq = mean_over_valid("side", pred, truth, mask, |p, g| log_error(p, g).powi(2))?;
    // Rounding can leave a tiny negative variance for a pure scale change.
    Ok((mean_sq - mean * mean).max(0.0).sqrt())
}

/// Mean of `f(pred, truth)` over the valid pixels, in `f64`, summed in pixel order.
fn mean_over_valid(
    metric: &'static str,
    pred: &[f32],
    truth: &[f32],
    mask: &[u8],
    f: impl Fn(f64, f64) -> f64,
) -> Result<f64> {
    assert!(
        pred.len() == truth.len() && truth.len() == mask.len(),
        "depth maps and mask of different lengths"
    );
    let (mut sum, mut n) = (0.0f64, 0usize);
    for ((&p, &g), &m) in pred.iter().zip(truth).zip(mask) {
        if m != 0 {
            sum += f(f64::from(p), f64::from(g));
            n += 1;
        }
    }
    if n == 0 {
        return Err(Error::NoValidPixels { metric });
    }
    Ok(sum / n as f64)
}

/// Rejects the first valid pixel of `depth` that is not a positive finite distance.
///
/// # Errors
/// [`Error::InvalidDepth`] naming the map, pixel and value.
pub(crate) fn check_positive(name: &'static str, depth: &[f32], mask: &[u8]) -> Result<()> {
    match depth
        .iter()
        .zip(mask)
        .position(|(&d, &m)| m != 0 && !(d.is_finite() && d > 0.0))
    {
        Some(index) => Err(Error::InvalidDepth {
            name,
            index,
            value: depth[index],
        }),
        None => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const TRUTH: [f32; 6] = [0.8, 1.1, 0.9, 1.3, 0.7, 1.0];
    const MASK: [u8; 6] = [1, 1, 1, 1, 0, 1];

    #[test]
    fn a_perfect_prediction_scores_zero() {
        assert_eq!(mse_depth(&TRUTH, &TRUTH, &MASK).unwrap(), 0.0);
        assert_eq!(side(&TRUTH, &TRUTH, &MASK).unwrap(), 0.0);
    }

    #[test]
    fn a_constant_offset_gives_its_square_as_mse_and_masked_pixels_do_not_count() {
        let mut pred: Vec<f32> = TRUTH.iter().map(|g| g + 0.125).collect();
        pred[4] = 100.0; // masked out
        let mse = mse_depth(&pred, &TRUTH, &MASK).unwrap();
        // 0.125 and the sums are exact in binary floating point, up to f32 rounding of g + 0.125.
        assert!((mse - 0.015625).abs() < 1e-9, "{mse}");
        assert!(side(&pred, &TRUTH, &MASK).unwrap() > 1e-3);
    }

    #[test]
    fn a_pure_scale_change_has_zero_side_but_not_zero_mse() {
        for scale in [0.5f32, 0.9, 1.25, 3.0] {
            let pred: Vec<f32> = TRUTH.iter().map(|g| g * scale).collect();
            let s = side(&pred, &TRUTH, &MASK).unwrap();
            assert!(s < 1e-6, "scale {scale}: SIDE {s}");
            let mse = mse_depth(&pred, &TRUTH, &MASK).unwrap();
            let want = TRUTH
                .iter()
                .zip(MASK)
                .filter(|(_, m)| *m != 0)
                .map(|(g, _)| f64::from(g * (scale - 1.0)).powi(2))
                .sum::<f64>()
                / 5.0;
            assert!((mse - want).abs() < 1e-7 * want, "{mse} vs {want}");
        }
    }

    #[test]
    fn side_is_the_standard_deviation_of_the_log_error() {
        let pred = [0.9f32, 1.0, 1.2, 1.5, 0.2, 1.1];
        let e: Vec<f64> = (0..6)
            .filter(|&i| MASK[i] != 0)
            .map(|i| f64::from(pred[i]).ln() - f64::from(TRUTH[i]).ln())
            .collect();
        let mean = e.iter().sum::<f64>() / 5.0;
        let var = e.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / 5.0;
        let s = side(&pred, &TRUTH, &MASK).unwrap();
        assert!((s - var.sqrt()).abs() < 1e-12, "{s} vs {}", var.sqrt());
    }

    #[test]
    fn bad_predictions_and_empty_masks_are_named() {
        let mut pred = TRUTH;
        pred[2] = -0.5;
        assert_eq!(
            side(&pred, &TRUTH, &MASK).unwrap_err().to_string(),
            "predicted depth[2] = -0.5 is not a positive finite distance"
        );
        pred[2] = f32::NAN;
        assert_eq!(
            mse_depth(&pred, &TRUTH, &MASK).unwrap_err().to_string(),
            "predicted depth[2] = NaN is not a positive finite distance"
        );
        // A bad value where the mask is 0 is not scored.
        pred[2] = TRUTH[2];
        pred[4] = f32::NAN;
        assert!(mse_depth(&pred, &TRUTH, &MASK).is_ok());
        assert_eq!(
            mse_depth(&TRUTH, &TRUTH, &[0; 6]).unwrap_err().to_string(),
            "mse_depth: no valid pixel in the ground-truth mask"
        );
    }
}
