//! Depth maps → camera-frame point clouds: the surfels every 3D metric compares.

use pix2scene_scene::glam::Vec3;
use pix2scene_scene::{Camera, PixelGrid};

use crate::error::{Error, Result};

/// A point, camera frame, scene units.
pub type Point = [f32; 3];

/// The pixel-centre rays of one image size and field of view, computed once for many images.
///
/// The directions are the project's one definition of pixel rays,
/// [`pix2scene_scene::PixelGrid`], so that points back-projected here are the ray tracer's hit
/// points and the surfel renderer's surfels.
#[derive(Clone, Debug, PartialEq)]
pub struct PixelRays {
    fov_y_deg: f32,
    size_px: usize,
    /// `[size_px, size_px]` unit directions, camera frame, row-major.
    dirs: Vec<Vec3>,
}

impl PixelRays {
    /// The rays of a `size_px`² image with vertical field of view `fov_y_deg` degrees.
    pub fn new(fov_y_deg: f32, size_px: usize) -> Self {
        let grid = PixelGrid::new(fov_y_deg, size_px);
        let dirs = (0..size_px * size_px)
            .map(|i| grid.direction(i / size_px, i % size_px))
            .collect();
        Self {
            fov_y_deg,
            size_px,
            dirs,
        }
    }

    /// Image side, pixels.
    pub fn size_px(&self) -> usize {
        self.size_px
    }

    /// Vertical field of view, degrees.
    pub fn fov_y_deg(&self) -> f32 {
        self.fov_y_deg
    }

    /// Pixels per image, `size_px²`.
    pub fn pixels(&self) -> usize {
        self.dirs.len()
    }

    /// The unit ray directions, camera frame, row-major (`[size_px, size_px]`).
    pub fn directions(&self) -> &[Vec3] {
        &self.dirs
    }

    /// The unit ray directions in the world frame of `camera` (its rotation applied), row-major.
    pub fn world_directions(&self, camera: &Camera) -> Vec<Vec3> {
        let to_world = camera.world_to_camera_rotation().transpose();
        self.dirs.iter().map(|d| to_world * *d).collect()
    }

    /// The points at `depth` along the rays of the valid pixels (`mask != 0`), row-major.
    ///
    /// As docs/eval.md defines it: each valid pixel's depth back-projected along its ray (the room
    /// included).
    ///
    /// # Shapes
    /// - `depth`: `[size_px, size_px]`, distance from the camera centre along each pixel ray
    ///   (not z), scene units
    /// - `mask`: `[size_px, size_px]`, nonzero where the pixel is scored
    /// - returns one point per valid pixel, in row-major pixel order
    ///
    /// # Units and frames
    /// Camera frame (+x right, +y up, looking along −z), scene units.
    ///
    /// # Errors
    /// [`Error::Shape`] if `depth` or `mask` does not hold `size_px²` values.
    pub fn back_project(&self, depth: &[f32], mask: &[u8]) -> Result<Vec<Point>> {
        self.check_len("depth", depth.len(), 1)?;
        self.check_len("mask", mask.len(), 1)?;
        Ok(self
            .dirs
            .iter()
            .zip(depth)
            .zip(mask)
            .filter(|(_, m)| **m != 0)
            .map(|((dir, d), _)| (*dir * *d).to_array())
            .collect())
    }

    /// Checks that an array of `channels` values per pixel has the length of one image.
    ///
    /// # Errors
    /// [`Error::Shape`] naming the array.
    pub(crate) fn check_len(&self, name: &'static str, len: usize, channels: usize) -> Result<()> {
        let expected = self.pixels() * channels;
        if len == expected {
            return Ok(());
        }
        let s = self.size_px;
        Err(Error::Shape {
            name,
            expected,
            got: len,
            what: if channels == 1 {
                format!("[{s}, {s}]")
            } else {
                format!("[{s}, {s}, {channels}]")
            },
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use pix2scene_scene::{Camera, Room, Scene, ShadingConstants};

    #[test]
    fn back_projected_depth_lands_on_the_ray_traced_surface() {
        // The room seen from inside: each back-projected point, taken to the world frame, lies
        // on the floor or a wall (one coordinate 0), and only valid pixels are kept.
        let camera = Camera {
            eye: Vec3::new(0.7, 0.5, 0.6),
            at: Vec3::new(0.2, 0.1, 0.2),
            up: Vec3::Y,
            fov_y_deg: 26.0,
        };
        let scene = Scene {
            room: Some(Room::default()),
            objects: vec![],
            camera,
            lights: vec![],
            shading: ShadingConstants::default(),
            background: Vec3::ZERO,
        };
        let frame = scene.render(16);
        let mut mask = frame.mask.clone();
        mask[5] = 0;
        let rays = PixelRays::new(26.0, 16);
        let points = rays.back_project(&frame.depth, &mask).unwrap();
        assert_eq!(points.len(), 255);
        let cam_to_world = camera.world_to_camera_rotation().transpose();
        for p in points {
            let w = camera.eye + cam_to_world * Vec3::from(p);
            assert!(w.min_element().abs() < 1e-5, "{w} is on no wall");
        }
    }

    #[test]
    fn wrong_lengths_are_named() {
        let rays = PixelRays::new(26.0, 4);
        let err = rays.back_project(&[1.0; 15], &[1; 16]).unwrap_err();
        assert_eq!(err.to_string(), "depth has 15 values, expected 16 ([4, 4])");
        let err = rays.back_project(&[1.0; 16], &[1; 4]).unwrap_err();
        assert_eq!(err.to_string(), "mask has 4 values, expected 16 ([4, 4])");
    }
}
