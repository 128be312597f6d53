//! Pinhole camera: pixel-centre rays, the camera frame, and the sampling of camera positions.

use glam::{Mat3, Vec3};
use serde::{Deserialize, Serialize};

use crate::ray::Ray;

/// A pinhole camera with a square image.
///
/// # Units and frames
/// `eye`, `at` and `up` are in the world frame, scene units. The camera frame has +x to the right
/// of the image, +y up the image and looks along −z; see the crate's
/// [Conventions](crate#conventions).
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct Camera {
    /// Centre of projection, world frame.
    pub eye: Vec3,
    /// Look-at point, world frame.
    pub at: Vec3,
    /// Up vector, world frame (need not be orthogonal to the viewing direction).
    pub up: Vec3,
    /// Vertical field of view, degrees.
    pub fov_y_deg: f32,
}

impl Camera {
    /// Rotation whose rows are the camera axes expressed in the world frame, so that
    /// `world_to_camera_rotation() * (p_world − eye)` is `p_cam`.
    pub fn world_to_camera_rotation(&self) -> Mat3 {
        let forward = (self.at - self.eye).normalize();
        let right = forward.cross(self.up).normalize();
        let true_up = right.cross(forward);
        // Columns of the camera-to-world rotation are right, up, −forward.
        Mat3::from_cols(right, true_up, -forward).transpose()
    }

    /// Maps a world-frame point to the camera frame.
    pub fn point_to_camera(&self, p_world: Vec3) -> Vec3 {
        self.world_to_camera_rotation() * (p_world - self.eye)
    }

    /// Maps a world-frame direction (or normal) to the camera frame.
    pub fn direction_to_camera(&self, d_world: Vec3) -> Vec3 {
        self.world_to_camera_rotation() * d_world
    }

    /// The world-frame ray through the centre of pixel (`row`, `col`) of a `size_px`² image.
    pub fn pixel_ray(&self, size_px: usize, row: usize, col: usize) -> Ray {
        let d_cam = pixel_direction(self.fov_y_deg, size_px, row, col);
        Ray::new(
            self.eye,
            self.world_to_camera_rotation().transpose() * d_cam,
        )
    }

    /// The camera rotated by `angle_rad` about the vertical axis through the look-at point
    /// (the view-extrapolation protocol of paper Table 2).
    pub fn orbit_y(&self, angle_rad: f32) -> Camera {
        let rot = Mat3::from_rotation_y(angle_rad);
        Camera {
            eye: self.at + rot * (self.eye - self.at),
            ..*self
        }
    }
}

/// Unit direction, in the camera frame, of the ray through the centre of pixel (`row`, `col`) of
/// a `size_px`² image with vertical field of view `fov_y_deg`. Row 0 is the top of the image.
///
/// The PyTorch yardstick (`bench/torch_reference.py`) uses the same definition, so both
/// renderers agree pixel for pixel.
#[inline]
pub fn pixel_direction(fov_y_deg: f32, size_px: usize, row: usize, col: usize) -> Vec3 {
    PixelGrid::new(fov_y_deg, size_px).direction(row, col)
}

/// The pixel-centre ray directions of one image size and field of view, with the tangent of the
/// half-angle computed once.
#[derive(Clone, Copy, Debug)]
pub struct PixelGrid {
    tan_half_fov: f32,
    size_px: usize,
}

impl PixelGrid {
    /// The grid of a `size_px`² image with vertical field of view `fov_y_deg`.
    pub fn new(fov_y_deg: f32, size_px: usize) -> Self {
        Self {
            tan_half_fov: (fov_y_deg.to_radians() * 0.5).tan(),
            size_px,
        }
    }

    /// Unit camera-frame direction through the centre of pixel (`row`, `col`).
    #[inline]
    pub fn direction(&self, row: usize, col: usize) -> Vec3 {
        let s = self.size_px as f32;
        let t = self.tan_half_fov;
        let x = ((col as f32 + 0.5) / s * 2.0 - 1.0) * t;
        let y = (1.0 - (row as f32 + 0.5) / s * 2.0) * t;
        Vec3::new(x, y, -1.0).normalize()
    }
}

/// All pixel-centre directions of a `size_px`² image, row-major, camera frame.
pub fn pixel_directions(fov_y_deg: f32, size_px: usize) -> Vec<Vec3> {
    let grid = PixelGrid::new(fov_y_deg, size_px);
    (0..size_px * size_px)
        .map(|i| grid.direction(i / size_px, i % size_px))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use approx::assert_relative_eq;

    fn cam() -> Camera {
        Camera {
            eye: Vec3::new(0.7, 0.6, 0.5),
            at: Vec3::new(0.2, 0.1, 0.25),
            up: Vec3::Y,
            fov_y_deg: 26.0,
        }
    }

    #[test]
    fn look_at_point_projects_to_minus_z_axis() {
        let c = cam();
        let p = c.point_to_camera(c.at);
        assert_relative_eq!(p.x, 0.0, epsilon = 1e-6);
        assert_relative_eq!(p.y, 0.0, epsilon = 1e-6);
        assert_relative_eq!(p.z, -(c.at - c.eye).length(), epsilon = 1e-6);
        // World up projects onto the upper half of the image.
        assert!(c.direction_to_camera(Vec3::Y).y > 0.0);
    }

    #[test]
    fn corner_pixel_rays_span_the_field_of_view() {
        let n = 64;
        let top = pixel_direction(26.0, n, 0, n / 2);
        let bottom = pixel_direction(26.0, n, n - 1, n / 2);
        // Vertical angle between the outermost pixel centres is the fov less one pixel.
        let angle = top.angle_between(bottom).to_degrees();
        let expect = 2.0
            * ((13f32.to_radians()).tan() * (1.0 - 1.0 / n as f32))
                .atan()
                .to_degrees();
        assert_relative_eq!(angle, expect, epsilon = 1e-3);
        assert!(top.y > 0.0 && bottom.y < 0.0);
    }

    #[test]
    fn pixel_ray_is_world_version_of_camera_direction() {
        let c = cam();
        let r = c.pixel_ray(32, 5, 20);
        let back = c.direction_to_camera(r.dir);
        let d = pixel_direction(26.0, 32, 5, 20);
        assert_relative_eq!(back.x, d.x, epsilon = 1e-6);
        assert_relative_eq!(back.y, d.y, epsilon = 1e-6);
        assert_relative_eq!(back.z, d.z, epsilon = 1e-6);
    }

    #[test]
    fn orbit_keeps_distance_to_look_at_point() {
        let c = cam();
        let o = c.orbit_y(0.6);
        assert_relative_eq!(
            (o.eye - o.at).length(),
            (c.eye - c.at).length(),
            epsilon = 1e-6
        );
        assert_relative_eq!(o.eye.y, c.eye.y, epsilon = 1e-6);
    }
}
