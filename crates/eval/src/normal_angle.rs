//! Mean angle deviation of normals (MAD), the normal metric Unsup3d (Wu et al., CVPR 2020) made
//! standard for single-image depth.
//!
//! As in Unsup3d, both normal maps come from depth maps by the same operator — here the
//! renderer's Eq. 3 plane fit ([`pix2scene_render::kernel::host_normals`]), the normals the
//! model's own renderings are shaded with — so a perfect depth map scores exactly 0 and the
//! metric measures the shape of the predicted surface, not the plane fit's own error at creases
//! and silhouettes. Pixels count where the ground-truth mask holds at the pixel and its 8
//! neighbours (the mask eroded by one pixel, Unsup3d's choice), so that no missed ray's depth
//! enters a scored fit.

use pix2scene_render::kernel::host_normals;

use crate::depth_metrics::check_positive;
use crate::error::{Error, Result};
use crate::points::PixelRays;

/// MAD of one image: the mean angle, in degrees, between the Eq. 3 normals of the predicted
/// depth and those of the true depth, over the interior of the mask ([`interior`]).
///
/// # Shapes
/// - `pred`, `truth`: `[size_px, size_px]` depth along the pixel rays of `rays`, scene units
/// - `mask`: `[size_px, size_px]`, nonzero where the ground-truth ray hit a surface
///
/// # Errors
/// [`Error::Shape`] for a wrong length; [`Error::NoValidPixels`] if the eroded mask is empty;
/// [`Error::InvalidDepth`] at the first valid pixel of either map that is not a positive
/// finite distance.
pub fn mad_deg(rays: &PixelRays, pred: &[f32], truth: &[f32], mask: &[u8]) -> Result<f64> {
    rays.check_len("predicted depth", pred.len(), 1)?;
    rays.check_len("ground-truth depth", truth.len(), 1)?;
    rays.check_len("mask", mask.len(), 1)?;
    check_positive("predicted depth", pred, mask)?;
    check_positive("ground-truth depth", truth, mask)?;
    let both = [pred, truth].concat();
    let normals = host_normals(rays.fov_y_deg(), rays.size_px(), &both);
    let (n_pred, n_truth) = normals.split_at(normals.len() / 2);
    mean_angle_deg(n_pred, n_truth, &interior(mask, rays.size_px()))
}

/// Mean angle between two normal maps over the pixels where `mask` is nonzero, degrees.
///
/// Each angle is `atan2(‖a × b‖, a · b)` in `f64`: exact at 0 (identical normals give 0,
/// where `acos` of a rounded dot product would not) and insensitive to the normals' lengths.
///
/// # Shapes
/// `a`, `b`: `[pixels, 3]`; `mask`: `[pixels]`.
///
/// # Errors
/// [`Error::NoValidPixels`] (metric `mad_deg`) if `mask` is all 0.
///
/// # Panics
/// If the lengths disagree.
pub fn mean_angle_deg(a: &[f32], b: &[f32], mask: &[u8]) -> Result<f64> {
    assert!(
        a.len() == b.len() && a.len() == 3 * mask.len(),
        "normal maps and mask of different sizes"
    );
    let (mut sum, mut n) = (0.0f64, 0usize);
    for ((a, b), &m) in a.chunks_exact(3).zip(b.chunks_exact(3)).zip(mask) {
        if m != 0 {
            let a = [a[0], a[1], a[2]].map(f64::from);
            let b = [b[0], b[1], b[2]].map(f64::from);
            let cross = [
                a[1] * b[2] - a[2] * b[1],
                a[2] * b[0] - a[0] * b[2],
                a[0] * b[1] - a[1] * b[0],
            ];
            let sin = cross.iter().map(|c| c * c).sum::<f64>().sqrt();
            let cos = a[0] * b[0] + a[1] * b[1] + a[2] * b[2];
            sum += sin.atan2(cos);
            n += 1;
        }
    }
    if n == 0 {
        return Err(Error::NoValidPixels { metric: "mad_deg" });
    }
    Ok((sum / n as f64).to_degrees())
}

/// The mask eroded by one pixel: 1 where `mask` and all the pixel's neighbours inside the
/// image are nonzero (the image border is not a hole: Eq. 3 reflects across it).
///
/// # Shapes
/// `mask`: `[size_px, size_px]`; returns the same.
///
/// # Panics
/// If `mask.len()` is not `size_px²`.
pub fn interior(mask: &[u8], size_px: usize) -> Vec<u8> {
    assert_eq!(mask.len(), size_px * size_px, "mask of a {size_px}² image");
    let s = size_px as isize;
    let valid = |r: isize, c: isize| {
        !(0..s).contains(&r) || !(0..s).contains(&c) || { mask[(r * s + c) as usize] != 0 }
    };
    (0..s * s)
        .map(|i| {
            let (r, c) = (i / s, i % s);
            let all = (-1..=1).all(|dr| (-1..=1).all(|dc| valid(r + dr, c + dc)));
            u8::from(all)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use pix2scene_scene::glam::{Quat, Vec3};

    /// Depth along the rays of `rays` of the plane through `p0` with normal `n`.
    fn plane_depth(rays: &PixelRays, n: Vec3, p0: Vec3) -> Vec<f32> {
        rays.directions()
            .iter()
            .map(|d| n.dot(p0) / n.dot(*d))
            .collect()
    }

    #[test]
    fn mad_of_a_rotated_plane_is_the_rotation_angle() {
        let rays = PixelRays::new(26.0, 24);
        let p0 = Vec3::new(0.05, -0.02, -1.0);
        let n = Vec3::new(0.2, -0.1, 1.0).normalize();
        let truth = plane_depth(&rays, n, p0);
        let mask = vec![1u8; rays.pixels()];
        for (axis, angle_deg) in [
            (Vec3::X, 5.0f32),
            (Vec3::new(1.0, 1.0, 0.0), 20.0),
            (Vec3::Y, 40.0),
        ] {
            // An axis perpendicular to the normal, so the normal turns by exactly the angle.
            let axis = (axis - n * axis.dot(n)).normalize();
            let turned = Quat::from_axis_angle(axis, angle_deg.to_radians()) * n;
            let pred = plane_depth(&rays, turned, p0);
            assert!(
                pred.iter().all(|d| *d > 0.0),
                "plane in front of the camera"
            );
            let mad = mad_deg(&rays, &pred, &truth, &mask).unwrap();
            assert!(
                (mad - f64::from(angle_deg)).abs() < 0.01,
                "{angle_deg}°: MAD {mad}"
            );
        }
    }

    #[test]
    fn mean_angle_of_normals_turned_about_a_perpendicular_axis_is_the_angle() {
        // Normals in the xz plane turned about y: each turns by the angle.
        let normals: Vec<Vec3> = (0..50)
            .map(|k| Vec3::new((k as f32 * 0.3).sin(), 0.0, (k as f32 * 0.3).cos()))
            .collect();
        let flat = |v: &[Vec3]| v.iter().flat_map(|n| n.to_array()).collect::<Vec<f32>>();
        for angle_deg in [0.5f32, 30.0, 90.0, 150.0] {
            let rot = Quat::from_rotation_y(angle_deg.to_radians());
            let turned: Vec<Vec3> = normals.iter().map(|n| rot * *n).collect();
            let got = mean_angle_deg(&flat(&normals), &flat(&turned), &[1; 50]).unwrap();
            assert!(
                (got - f64::from(angle_deg)).abs() < 1e-4,
                "{angle_deg}: {got}"
            );
        }
        let n = flat(&normals);
        assert_eq!(mean_angle_deg(&n, &n, &[1; 50]).unwrap(), 0.0);
        assert_eq!(
            mean_angle_deg(&n, &n, &[0; 50]).unwrap_err().to_string(),
            "mad_deg: no valid pixel in the ground-truth mask"
        );
    }

    #[test]
    fn interior_drops_pixels_next_to_holes_but_not_the_image_border() {
        #[rustfmt::skip]
        let mask = [
            1, 1, 1, 1,
            1, 1, 1, 1,
            1, 1, 1, 0,
            1, 1, 1, 1,
        ];
        #[rustfmt::skip]
        let want = [
            1, 1, 1, 1,
            1, 1, 0, 0,
            1, 1, 0, 0,
            1, 1, 0, 0,
        ];
        assert_eq!(interior(&mask, 4), want);
    }
}
