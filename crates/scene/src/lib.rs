//! # pix2scene-scene
//!
//! Procedural 3D scenes ray-traced into images with exact ground truth (depth, normals, mask,
//! camera, lights): the data side of *Pix2Scene* (ICLR 2019). This crate has no deep-learning
//! dependency, so data generation builds fast and can be used on its own.
//!
//! ```
//! use pix2scene_scene::{Camera, Cuboid, Object, Placement, PointLight, Room, Scene, Shape,
//!     ShadingConstants};
//! use glam::Vec3;
//!
//! let scene = Scene {
//!     room: Some(Room::default()),
//!     objects: vec![Object::new(
//!         Shape::Cuboid(Cuboid { half_extents: Vec3::splat(0.05) }),
//!         Placement { translation: Vec3::new(0.25, 0.05, 0.25), ..Placement::IDENTITY },
//!     )],
//!     camera: Camera {
//!         eye: Vec3::new(0.7, 0.6, 0.7),
//!         at: Vec3::new(0.25, 0.1, 0.25),
//!         up: Vec3::Y,
//!         fov_y_deg: 26.0,
//!     },
//!     lights: vec![PointLight { position: Vec3::new(0.6, 0.9, 0.4), color: Vec3::splat(0.8) }],
//!     shading: ShadingConstants::default(),
//!     background: Vec3::ZERO,
//! };
//! let frame = scene.render(32);
//! assert!(frame.mask.iter().all(|&m| m == 1)); // the room fills the view
//! ```
//!
//! # Conventions
//!
//! - **World frame**: right-handed, +y up. The room is the three-sided box with its inner corner
//!   at the origin: the floor `y = 0` and the walls `x = 0` and `z = 0`, each extending to 1 in
//!   the positive octant. Objects stand on the floor.
//! - **Scene units**: the room's largest extent is 1; every length (depth, positions, Hausdorff
//!   distances) is in these units.
//! - **Camera frame**: origin at the camera centre, +x to the right of the image, +y up the image,
//!   looking along −z (the OpenGL convention, and that of the authors' renderer). Camera-frame
//!   normals of visible surfaces face the camera.
//! - **Pixels**: square images of `size_px`² pixels, row 0 at the top; the ray of pixel
//!   (row, col) passes through the pixel's centre (see [`pixel_direction`]).
//! - **Depth**: the Euclidean distance from the camera centre to the surface along the pixel's ray
//!   (not the z coordinate); 0 where the ray hits nothing (`mask` = 0).
//! - **Angles**: radians internally; degrees only in presets, flags and stored metadata, with
//!   `_deg` in the name.
//! - **Randomness**: sample `i` of a run with seed `s` is drawn from its own ChaCha8 stream
//!   (`seed = s`, `stream = i`), so output does not depend on thread count or on which shard
//!   produces it.
//!
//! # Feature flags
//! None.

pub mod atomic_file;
pub mod bench;
mod camera;
mod colormap;
pub mod dataset;
mod error;
mod frame;
mod generator;
mod iqtt;
pub mod isa;
mod lanes;
mod obj;
mod object;
mod polycube;
mod preset;
mod preview;
mod ray;
mod room;
mod sampling;
mod scene;
mod shading;
mod shape;
#[cfg(test)]
mod testutil;

pub use camera::{Camera, PixelGrid, pixel_direction, pixel_directions};
pub use colormap::{depth_range, depth_to_rgb, depth_to_rgb_in, normal_to_rgb, viridis};
pub use error::{Error, Result, one_line};
pub use frame::Frame;
pub use generator::{Generator, GeneratorConfig, MAX_SIZE_PX, Record, Sample};
pub use iqtt::{
    ANSWERS_FORMAT, ANSWERS_VERSION, Accuracy, AnswerSheet, HumanAnswer, HumanTest, IqttOptions,
    MAX_HUMAN_SIZE, Question, Shortcut, score_answer_text, score_answers, shortcut_accuracies,
    write_human_page,
};
pub use lanes::{Lane, Lanes, Vec3s};
pub use obj::{ObjectCategories, load_objects_dir, parse_obj, read_obj};
pub use object::{Object, Placement};
pub use polycube::{Cell, Polycube, cube_rotations};
pub use preset::Preset;
pub use preview::{RgbImage, to_u8, write_previews};
pub use ray::{Hit, Ray};
pub use room::Room;
pub use sampling::{CameraSampling, LightSampling, MAX_LIGHTS, random_rotation};
pub use scene::Scene;
pub use shading::{PointLight, ShadingConstants};
pub use shape::{
    Category, Cone, Cuboid, Cylinder, Intersect, Profile, Shape, Sphere, Torus, TriangleMesh,
};

pub use glam;
