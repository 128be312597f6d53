//! A scene: room, objects, camera, lights and shading constants; and the ray tracer that renders
//! it with exact ground truth.

use glam::Vec3;

use crate::camera::{Camera, PixelGrid};
use crate::frame::Frame;
use crate::object::Object;
use crate::ray::{Hit, Ray};
use crate::room::Room;
use crate::shading::{PointLight, ShadingConstants};

/// Everything needed to ray-trace one view.
///
/// # Units and frames
/// World frame, scene units; see the crate's [Conventions](crate#conventions).
#[derive(Clone, Debug)]
pub struct Scene {
    /// The three-sided room, or `None` for objects floating in empty space (3D-IQTT).
    pub room: Option<Room>,
    /// The objects.
    pub objects: Vec<Object>,
    /// The camera.
    pub camera: Camera,
    /// Point lights, world frame (1 to 3 in the presets).
    pub lights: Vec<PointLight>,
    /// Material, ambient light and attenuation of paper Eq. 1.
    pub shading: ShadingConstants,
    /// Colour of pixels whose ray hits nothing.
    pub background: Vec3,
}

impl Scene {
    /// Nearest hit of a world-frame ray with the room or any object.
    #[inline]
    pub fn intersect(&self, ray: &Ray) -> Option<Hit> {
        let mut t_max = f32::INFINITY;
        let mut best = None;
        if let Some(room) = &self.room
            && let Some(h) = room.intersect(ray, 0.0, t_max)
        {
            t_max = h.t;
            best = Some(h);
        }
        for object in &self.objects {
            if let Some(h) = object.intersect(ray, 0.0, t_max) {
                t_max = h.t;
                best = Some(h);
            }
        }
        best
    }

    /// Ray-traces the scene into a `size_px`² [`Frame`] with depth, camera-frame normals and mask.
    ///
    /// Normals are flipped where needed to face the camera (open meshes are two-sided), so that
    /// `n_cam · ray_cam < 0` on every hit, matching the constraint `n_z > 0` of paper Eq. 3 at
    /// the image centre.
    pub fn render(&self, size_px: usize) -> Frame {
        let mut frame = Frame::empty(size_px);
        let world_to_cam = self.camera.world_to_camera_rotation();
        let cam_to_world = world_to_cam.transpose();
        let grid = PixelGrid::new(self.camera.fov_y_deg, size_px);
        for row in 0..size_px {
            for col in 0..size_px {
                let i = row * size_px + col;
                let d_cam = grid.direction(row, col);
                let ray = Ray::new(self.camera.eye, cam_to_world * d_cam);
                let color = match self.intersect(&ray) {
                    Some(hit) => {
                        let n = if hit.normal.dot(ray.dir) > 0.0 {
                            -hit.normal
                        } else {
                            hit.normal
                        };
                        let p = ray.at(hit.t);
                        let n_cam = world_to_cam * n;
                        frame.depth[i] = hit.t;
                        frame.normal[i * 3..i * 3 + 3].copy_from_slice(&n_cam.to_array());
                        frame.mask[i] = 1;
                        self.shading.radiance(p, n, &self.lights)
                    }
                    None => self.background,
                };
                let c = color.clamp(Vec3::ZERO, Vec3::ONE);
                frame.image[i * 3..i * 3 + 3].copy_from_slice(&c.to_array());
            }
        }
        frame
    }

    /// The lights' positions in the camera frame, in order (what the surfel renderer takes).
    pub fn lights_in_camera_frame(&self) -> Vec<PointLight> {
        self.lights
            .iter()
            .map(|l| PointLight {
                position: self.camera.point_to_camera(l.position),
                color: l.color,
            })
            .collect()
    }
}
