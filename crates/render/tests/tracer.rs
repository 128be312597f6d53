//! The ray tracer's ground-truth depth, rendered by the surfel renderer, reproduces the
//! ray-traced image wherever the plane fit sees one planar surface.

use burn::tensor::{Device, Tensor, TensorData};
use pix2scene_render::RendererConfig;
use pix2scene_scene::glam::Vec3;
use pix2scene_scene::{
    Camera, Cuboid, Object, Placement, PointLight, Room, Scene, ShadingConstants, Shape, Sphere,
};

const SIZE: usize = 64;

fn scene() -> Scene {
    Scene {
        room: Some(Room::default()),
        objects: vec![
            Object::new(
                Shape::Cuboid(Cuboid {
                    half_extents: Vec3::new(0.08, 0.06, 0.1),
                }),
                Placement {
                    translation: Vec3::new(0.3, 0.06, 0.25),
                    ..Placement::IDENTITY
                },
            ),
            Object::new(
                Shape::Sphere(Sphere { radius: 0.07 }),
                Placement {
                    translation: Vec3::new(0.15, 0.07, 0.45),
                    ..Placement::IDENTITY
                },
            ),
        ],
        camera: Camera {
            eye: Vec3::new(0.8, 0.6, 0.75),
            at: Vec3::new(0.25, 0.1, 0.25),
            up: Vec3::Y,
            fov_y_deg: 26.0,
        },
        lights: vec![
            PointLight {
                position: Vec3::new(0.6, 0.9, 0.4),
                color: Vec3::splat(0.7),
            },
            PointLight {
                position: Vec3::new(0.2, 0.5, 0.8),
                color: Vec3::new(0.5, 0.3, 0.2),
            },
        ],
        shading: ShadingConstants::default(),
        background: Vec3::ZERO,
    }
}

/// Whether the reflect-padded 3×3 neighbourhood of a pixel lies on one plane: every neighbour
/// has the centre's normal and lies in its plane.
fn on_one_plane(points: &[Vec3], normals: &[Vec3], r: usize, c: usize) -> bool {
    let reflect = |i: usize, d: isize| {
        let j = i as isize + d;
        if j < 0 {
            1
        } else if j as usize >= SIZE {
            SIZE - 2
        } else {
            j as usize
        }
    };
    let i = r * SIZE + c;
    (-1..=1).all(|dy| {
        (-1..=1).all(|dx| {
            let k = reflect(r, dy) * SIZE + reflect(c, dx);
            (normals[k] - normals[i]).length() < 1e-4
                && normals[i].dot(points[k] - points[i]).abs() < 1e-5
        })
    })
}

#[test]
fn ground_truth_depth_reproduces_ray_traced_image_on_planar_pixels() {
    let scene = scene();
    let frame = scene.render(SIZE);
    assert!(
        frame.mask.iter().all(|&m| m == 1),
        "the room fills the view"
    );
    let device = Device::flex();
    let renderer = RendererConfig::from_shading(SIZE, &scene.shading)
        .with_fov_y_deg(scene.camera.fov_y_deg)
        .init(&device);
    let lights = scene.lights_in_camera_frame();
    let l = lights.len();
    let pos: Vec<f32> = lights.iter().flat_map(|x| x.position.to_array()).collect();
    let col: Vec<f32> = lights.iter().flat_map(|x| x.color.to_array()).collect();
    let out = renderer.forward(
        Tensor::from_data(
            TensorData::new(frame.depth.clone(), [1, SIZE, SIZE]),
            &device,
        ),
        Tensor::from_data(TensorData::new(pos, [1, l, 3]), &device),
        Tensor::from_data(TensorData::new(col, [1, l, 3]), &device),
    );
    let image = out
        .image
        .into_data()
        .convert::<f32>()
        .try_into_vec::<f32>()
        .unwrap();
    let dirs = pix2scene_scene::pixel_directions(scene.camera.fov_y_deg, SIZE);
    let points: Vec<Vec3> = dirs
        .iter()
        .zip(&frame.depth)
        .map(|(d, &t)| *d * t)
        .collect();
    let normals: Vec<Vec3> = frame.normal.chunks(3).map(Vec3::from_slice).collect();
    let (mut planar_err, mut planar_n, mut all_err) = (0.0f64, 0usize, 0.0f64);
    for r in 0..SIZE {
        for c in 0..SIZE {
            let i = r * SIZE + c;
            let err: f64 = (0..3)
                .map(|ch| {
                    let ours = image[ch * SIZE * SIZE + i].clamp(0.0, 1.0);
                    (ours - frame.image[3 * i + ch]).abs() as f64
                })
                .sum::<f64>()
                / 3.0;
            all_err += err;
            if on_one_plane(&points, &normals, r, c) {
                planar_err += err;
                planar_n += 1;
            }
        }
    }
    let planar = planar_err / planar_n as f64;
    let all = all_err / (SIZE * SIZE) as f64;
    eprintln!(
        "surfel renderer vs ray tracer: mean |diff| {planar:.2e} on {planar_n} planar pixels, \
         {all:.2e} on all {} pixels",
        SIZE * SIZE
    );
    assert!(planar_n > SIZE * SIZE / 2, "only {planar_n} planar pixels");
    assert!(planar <= 1e-3, "planar pixels: mean |diff| {planar}");
}
