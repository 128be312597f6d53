//! Mirror augmentation for the regression steps (`optim.regress_mirror`; not in the paper).
//!
//! Why: with kept targets the decoder fits its 600 training scenes far more crisply than it
//! generalizes to new ones (docs/training-notes.md, *Regression steps and median-filtered
//! targets*). The room (floor `y = 0`, walls `x = 0` and `z = 0`) is symmetric under the reflection `S` that swaps
//! `x` and `z`. Reflect a whole scene — objects, lights and camera — and a camera that looks at a
//! point of the plane `x = z` with up `+y` sees the horizontally flipped image and the flipped
//! depth map (`S` reverses handedness, so the camera's right vector turns round; in the camera
//! frame the reflection is `x → −x`). Where the generator draws its scenes symmetrically (the
//! look-at point on `x = z`, camera and light azimuth ranges symmetric about 45°, objects whose
//! mirror image is the same kind of object turned about the vertical), the mirrored sample is
//! as likely as the original: a second training image of each kept scene, whose target is the
//! kept map flipped.

use burn::tensor::Tensor;
use pix2scene_scene::{GeneratorConfig, Preset};

use crate::batch::DeviceBatch;
use crate::error::{Error, Result};

/// The batch as the mirrored scenes show it: images and (through the caller) depth maps
/// flipped left–right, camera positions with `x` and `z` swapped, camera-frame light positions
/// with `x` negated; light colours, classes and scene identifiers unchanged. Mirroring twice
/// gives the batch back.
pub fn mirrored(batch: &DeviceBatch) -> DeviceBatch {
    let cam = &batch.camera;
    let lights = &batch.light_pos;
    DeviceBatch {
        image: batch.image.clone().flip([3]),
        camera: Tensor::cat(
            vec![
                cam.clone().narrow(1, 2, 1),
                cam.clone().narrow(1, 1, 1),
                cam.clone().narrow(1, 0, 1),
            ],
            1,
        ),
        light_pos: Tensor::cat(
            vec![
                lights.clone().narrow(2, 0, 1).neg(),
                lights.clone().narrow(2, 1, 2),
            ],
            2,
        ),
        light_color: batch.light_color.clone(),
        class: batch.class.clone(),
        scene: batch.scene.clone(),
    }
}

/// Checks that the generator draws mirrored scenes as often as the originals (see the module
/// documentation): a room preset whose objects are mirror-symmetric up to a turn about the
/// vertical (`boxes`, `boxes-rot`, `shapes`), the camera's look-at point on the plane `x = z`,
/// and camera and light azimuth ranges symmetric about 45° (or the full sphere).
///
/// # Errors
/// [`Error::InvalidValue`] for `optim.regress_mirror`, naming what breaks the symmetry.
pub fn check_symmetric(config: &GeneratorConfig) -> Result<()> {
    let fail = |message: String| {
        Err(Error::InvalidValue {
            key: "optim.regress_mirror".into(),
            value: "true".into(),
            message: format!("needs scenes symmetric under swapping x and z, but {message}"),
        })
    };
    if !matches!(
        config.preset,
        Preset::Boxes | Preset::BoxesRot | Preset::Shapes
    ) {
        return fail(format!(
            "the {} preset's objects have no mirror symmetry (boxes, boxes-rot and shapes do)",
            config.preset
        ));
    }
    let at = config.camera.look_at;
    if at.x != at.z {
        return fail(format!(
            "the camera looks at ({}, {}, {}), off the plane x = z",
            at.x, at.y, at.z
        ));
    }
    let symmetric = |[a0, a1]: [f32; 2]| (a0 + a1 - 90.0).abs() < 1e-4;
    if !config.camera.full_sphere && !symmetric(config.camera.azimuth_deg) {
        let [a0, a1] = config.camera.azimuth_deg;
        return fail(format!(
            "the camera azimuth range [{a0}, {a1}] degrees is not symmetric about 45"
        ));
    }
    if !symmetric(config.lights.azimuth_deg) {
        let [a0, a1] = config.lights.azimuth_deg;
        return fail(format!(
            "the light azimuth range [{a0}, {a1}] degrees is not symmetric about 45"
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::batch::HostBatch;
    use burn::tensor::Device;
    use pix2scene_scene::glam::{Quat, Vec3};
    use pix2scene_scene::{
        Camera, Cuboid, Object, Placement, PointLight, Room, Sample, Scene, ShadingConstants, Shape,
    };

    const SIZE: usize = 32;

    /// Swaps `x` and `z`: the reflection `S` across the plane `x = z`.
    fn swap(v: Vec3) -> Vec3 {
        Vec3::new(v.z, v.y, v.x)
    }

    /// A room with a cuboid of half extents `half` turned by `yaw` about the vertical at `at`,
    /// seen from `eye` (looking at a point of `x = z`), lit by three coloured lights at `lights`.
    fn scene(half: Vec3, yaw: f32, at: Vec3, eye: Vec3, lights: [Vec3; 3]) -> Scene {
        let colors = [Vec3::X, Vec3::Y, Vec3::Z].map(|c| c * 0.7);
        Scene {
            room: Some(Room::default()),
            objects: vec![Object::new(
                Shape::Cuboid(Cuboid { half_extents: half }),
                Placement {
                    rotation: Quat::from_rotation_y(yaw),
                    translation: at,
                    scale: 1.0,
                },
            )],
            camera: Camera {
                eye,
                at: Vec3::new(0.25, 0.08, 0.25),
                up: Vec3::Y,
                fov_y_deg: 45.0,
            },
            lights: lights
                .iter()
                .zip(colors)
                .map(|(&position, color)| PointLight { position, color })
                .collect(),
            shading: ShadingConstants::default(),
            background: Vec3::ZERO,
        }
    }

    /// The ray-traced sample of `scene`, with its lights in the camera frame.
    fn sample(scene: &Scene) -> Sample {
        let lights_cam = scene
            .lights
            .iter()
            .map(|l| PointLight {
                position: scene.camera.point_to_camera(l.position),
                color: l.color,
            })
            .collect();
        Sample {
            frame: scene.render(SIZE),
            camera: scene.camera,
            lights: scene.lights.clone(),
            lights_cam,
            class: None,
        }
    }

    fn values<const D: usize>(t: &Tensor<D>) -> Vec<f32> {
        t.clone().into_data().try_to_vec::<f32>().unwrap()
    }

    fn assert_close(a: &[f32], b: &[f32], tol: f32, what: &str) {
        assert_eq!(a.len(), b.len(), "{what}");
        let worst = a
            .iter()
            .zip(b)
            .map(|(x, y)| (x - y).abs())
            .fold(0.0, f32::max);
        assert!(worst <= tol, "{what}: largest difference {worst}");
    }

    /// The premise and the function at once: ray-tracing the scene reflected across `x = z`
    /// (object, lights and camera) gives exactly what `mirrored` makes of the original batch —
    /// the flipped image, the swapped camera, the camera-frame lights with `x` negated — and the
    /// flipped depth map, for a box that is neither a cube nor axis-aligned.
    #[test]
    fn a_scene_reflected_across_x_eq_z_is_the_mirrored_batch() {
        let half = Vec3::new(0.07, 0.05, 0.035);
        let (yaw, at) = (0.4, Vec3::new(0.3, 0.05, 0.2));
        let eye = Vec3::new(0.9, 0.55, 0.5);
        let lights = [
            Vec3::new(0.8, 0.6, 0.3),
            Vec3::new(0.2, 0.7, 0.6),
            Vec3::new(0.6, 0.4, 0.7),
        ];
        let original = sample(&scene(half, yaw, at, eye, lights));
        // S·R_y(θ)·S = R_y(−θ), and S maps the box of half extents (a, b, c) onto (c, b, a).
        let reflected = sample(&scene(
            swap(half),
            -yaw,
            swap(at),
            swap(eye),
            lights.map(swap),
        ));
        let device = Device::flex();
        let upload = |s: &Sample| {
            let host = HostBatch::from_samples(std::slice::from_ref(s), SIZE).unwrap();
            DeviceBatch::from_host(&host, 0, &device)
        };
        let (ours, theirs) = (mirrored(&upload(&original)), upload(&reflected));
        let hit = original.frame.mask.iter().filter(|&&m| m == 1).count();
        assert!(hit > SIZE * SIZE / 2, "the room fills the view");
        assert_close(&values(&ours.image), &values(&theirs.image), 1e-4, "image");
        assert_close(
            &values(&ours.camera),
            &values(&theirs.camera),
            0.0,
            "camera",
        );
        assert_close(
            &values(&ours.light_pos),
            &values(&theirs.light_pos),
            1e-5,
            "lights",
        );
        assert_eq!(values(&ours.light_color), values(&theirs.light_color));
        let flip = |d: &[f32]| -> Vec<f32> {
            d.chunks(SIZE)
                .flat_map(|row| row.iter().rev().copied())
                .collect()
        };
        assert_close(
            &flip(&original.frame.depth),
            &reflected.frame.depth,
            1e-5,
            "depth",
        );
        let back = mirrored(&ours);
        let again = upload(&original);
        assert_eq!(values(&back.image), values(&again.image));
        assert_eq!(values(&back.camera), values(&again.camera));
        assert_eq!(values(&back.light_pos), values(&again.light_pos));
    }

    #[test]
    fn asymmetric_scene_families_are_rejected_naming_the_cause() {
        let symmetric = GeneratorConfig::new(Preset::Boxes, 64, 0);
        check_symmetric(&symmetric).unwrap();
        check_symmetric(&GeneratorConfig::new(Preset::Shapes, 64, 0)).unwrap();
        let mut off_plane = symmetric.clone();
        off_plane.camera.look_at.x = 0.3;
        let mut camera = symmetric.clone();
        camera.camera.azimuth_deg = [20.0, 80.0];
        let mut lights = symmetric.clone();
        lights.lights.azimuth_deg = [0.0, 60.0];
        let cases = [
            (
                GeneratorConfig::new(Preset::MultiShapes, 64, 0),
                "the multi-shapes preset's objects have no mirror symmetry (boxes, boxes-rot and \
                 shapes do)",
            ),
            (
                off_plane,
                "the camera looks at (0.3, 0.08, 0.25), off the plane x = z",
            ),
            (
                camera,
                "the camera azimuth range [20, 80] degrees is not symmetric about 45",
            ),
            (
                lights,
                "the light azimuth range [0, 60] degrees is not symmetric about 45",
            ),
        ];
        for (config, cause) in cases {
            assert_eq!(
                check_symmetric(&config).unwrap_err().to_string(),
                format!(
                    "optim.regress_mirror = true: needs scenes symmetric under swapping x and \
                     z, but {cause}"
                )
            );
        }
    }
}
