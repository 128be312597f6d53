//! Every metric of one image, and the [`Scorer`] that computes them from a predicted depth map
//! and the ground truth.

use serde::{Deserialize, Serialize};

use crate::depth_metrics::{check_positive, mse_depth, side};
use crate::error::Result;
use crate::hausdorff::hausdorff;
use crate::normal_angle::mad_deg;
use crate::points::PixelRays;

/// The metrics of one image (one view of one scene), as docs/eval.md defines them.
///
/// # Units and frames
/// Distances in scene units (Hausdorff on camera-frame points), `mse_depth` in scene units²,
/// `side` unitless (log depth), `mad_deg` in degrees.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct ImageMetrics {
    /// Hausdorff-F: max over reconstructed points of the distance to the nearest true point.
    pub hausdorff_f: f64,
    /// Mean over reconstructed points of the distance to the nearest true point.
    pub hausdorff_f_mean: f64,
    /// Hausdorff-R: max over true points of the distance to the nearest reconstructed point.
    pub hausdorff_r: f64,
    /// Mean over true points of the distance to the nearest reconstructed point.
    pub hausdorff_r_mean: f64,
    /// Mean squared depth error over the valid pixels (paper Table 1).
    pub mse_depth: f64,
    /// Scale-invariant log-depth error (Unsup3d).
    pub side: f64,
    /// Mean angle between the Eq. 3 normals of predicted and true depth, degrees (Unsup3d).
    pub mad_deg: f64,
}

/// One of the figures of [`ImageMetrics`], for code that handles them all alike (aggregation,
/// tables, JSON keys).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Metric {
    /// [`ImageMetrics::hausdorff_f`].
    HausdorffF,
    /// [`ImageMetrics::hausdorff_f_mean`].
    HausdorffFMean,
    /// [`ImageMetrics::hausdorff_r`].
    HausdorffR,
    /// [`ImageMetrics::hausdorff_r_mean`].
    HausdorffRMean,
    /// [`ImageMetrics::mse_depth`].
    MseDepth,
    /// [`ImageMetrics::side`].
    Side,
    /// [`ImageMetrics::mad_deg`].
    MadDeg,
}

impl Metric {
    /// Every metric, in report order.
    pub const ALL: [Metric; 7] = [
        Metric::HausdorffF,
        Metric::HausdorffFMean,
        Metric::HausdorffR,
        Metric::HausdorffRMean,
        Metric::MseDepth,
        Metric::Side,
        Metric::MadDeg,
    ];

    /// The JSON key (`pix2scene eval --json`, docs/eval.md), also the field name in [`ImageMetrics`].
    pub fn key(self) -> &'static str {
        match self {
            Metric::HausdorffF => "hausdorff_f",
            Metric::HausdorffFMean => "hausdorff_f_mean",
            Metric::HausdorffR => "hausdorff_r",
            Metric::HausdorffRMean => "hausdorff_r_mean",
            Metric::MseDepth => "mse_depth",
            Metric::Side => "side",
            Metric::MadDeg => "mad_deg",
        }
    }

    /// The name people read in tables.
    pub fn label(self) -> &'static str {
        match self {
            Metric::HausdorffF => "Hausdorff-F (max)",
            Metric::HausdorffFMean => "Hausdorff-F (mean)",
            Metric::HausdorffR => "Hausdorff-R (max)",
            Metric::HausdorffRMean => "Hausdorff-R (mean)",
            Metric::MseDepth => "MSE-depth",
            Metric::Side => "SIDE",
            Metric::MadDeg => "MAD (deg)",
        }
    }
}

impl ImageMetrics {
    /// The value of `metric`.
    pub fn get(&self, metric: Metric) -> f64 {
        match metric {
            Metric::HausdorffF => self.hausdorff_f,
            Metric::HausdorffFMean => self.hausdorff_f_mean,
            Metric::HausdorffR => self.hausdorff_r,
            Metric::HausdorffRMean => self.hausdorff_r_mean,
            Metric::MseDepth => self.mse_depth,
            Metric::Side => self.side,
            Metric::MadDeg => self.mad_deg,
        }
    }
}

/// Scores predicted depth maps of one image size and field of view against the ground truth.
///
/// Every metric is computed over the ground truth's valid pixels (`mask != 0`, where the
/// ray-traced ray hit a surface); the predicted depth is dense, and its values at other pixels
/// are ignored.
#[derive(Clone, Debug)]
pub struct Scorer {
    rays: PixelRays,
}

impl Scorer {
    /// A scorer of `size_px`² depth maps seen through a vertical field of view of `fov_y_deg`.
    pub fn new(fov_y_deg: f32, size_px: usize) -> Self {
        Self {
            rays: PixelRays::new(fov_y_deg, size_px),
        }
    }

    /// The pixel rays depth maps are back-projected along.
    pub fn rays(&self) -> &PixelRays {
        &self.rays
    }

    /// Every metric of one image.
    ///
    /// # Shapes
    /// - `pred`: `[size_px, size_px]`, predicted depth along each pixel ray, scene units
    /// - `truth`: `[size_px, size_px]`, true depth (0 where `mask` is 0)
    /// - `mask`: `[size_px, size_px]`, nonzero where the true ray hit a surface
    ///
    /// # Errors
    /// [`crate::Error::Shape`] for a wrong length; [`crate::Error::InvalidDepth`] at the first
    /// valid pixel of either map that is not a positive finite distance;
    /// [`crate::Error::EmptyPointCloud`] or [`crate::Error::NoValidPixels`] if the mask is
    /// empty (or, for MAD, has no interior pixel).
    pub fn score(&self, pred: &[f32], truth: &[f32], mask: &[u8]) -> Result<ImageMetrics> {
        let rays = &self.rays;
        rays.check_len("predicted depth", pred.len(), 1)?;
        rays.check_len("ground-truth depth", truth.len(), 1)?;
        rays.check_len("mask", mask.len(), 1)?;
        check_positive("predicted depth", pred, mask)?;
        check_positive("ground-truth depth", truth, mask)?;
        let h = hausdorff(
            &rays.back_project(pred, mask)?,
            &rays.back_project(truth, mask)?,
        )?;
        Ok(ImageMetrics {
            hausdorff_f: h.forward.max,
            hausdorff_f_mean: h.forward.mean,
            hausdorff_r: h.reverse.max,
            hausdorff_r_mean: h.reverse.mean,
            mse_depth: mse_depth(pred, truth, mask)?,
            side: side(pred, truth, mask)?,
            mad_deg: mad_deg(rays, pred, truth, mask)?,
        })
    }
}
