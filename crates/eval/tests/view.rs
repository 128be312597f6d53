//! The view-extrapolation protocol: the turned camera, its direction, the ray-traced ground
//! truth (the dataset's own record at 0°, the object in view at 80°), and bad input.

use pix2scene_eval::{ViewExtrapolation, orbit_camera, orbit_sign, parse_views};
use pix2scene_scene::dataset::{DatasetReader, ShardPart, WriteOptions, write_dataset};
use pix2scene_scene::glam::Vec3;
use pix2scene_scene::{Camera, Generator, GeneratorConfig, Preset, Record, Scene};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

fn config(preset: Preset, size: usize) -> GeneratorConfig {
    GeneratorConfig::new(preset, size, 9)
}

#[test]
fn turning_keeps_the_distance_to_the_look_at_point_the_height_and_the_up_vector() {
    let g = Generator::new(config(Preset::Shapes, 16)).unwrap();
    for i in 0..20 {
        let c = g.sample(i).camera;
        for angle in [0.0f32, 35.0, 55.0, 80.0, 180.0] {
            let o = orbit_camera(&c, angle);
            assert_eq!((o.at, o.up, o.fov_y_deg), (c.at, c.up, c.fov_y_deg));
            assert!(((o.eye - o.at).length() - (c.eye - c.at).length()).abs() < 1e-6);
            assert!((o.eye.y - c.eye.y).abs() < 1e-6);
            // Turned by exactly the angle about the vertical.
            let (h0, h1) = (c.eye - c.at, o.eye - o.at);
            let (a, b) = (Vec3::new(h0.x, 0.0, h0.z), Vec3::new(h1.x, 0.0, h1.z));
            let turned = a.cross(b).length().atan2(a.dot(b)).to_degrees();
            assert!((turned - angle).abs() < 1e-2, "{angle}: {turned}");
        }
        assert_eq!(orbit_camera(&c, 0.0), c);
    }
}

/// First angle (0.1° steps, up to 360°) at which turning `camera` with `sign` takes it behind
/// a wall.
fn scan_margin_deg(camera: &Camera, sign: f32) -> f32 {
    (1..=3600)
        .map(|k| k as f32 * 0.1)
        .find(|a| {
            let eye = camera.orbit_y(sign * a.to_radians()).eye;
            eye.x < 0.0 || eye.z < 0.0
        })
        .unwrap_or(360.0)
}

#[test]
fn the_camera_turns_the_way_that_keeps_it_inside_the_room_longer() {
    let mut rng = ChaCha8Rng::seed_from_u64(1);
    for k in 0..300 {
        let polar = rng.random_range(10.0f32..85.0).to_radians();
        let azimuth = rng.random_range(0.0f32..90.0).to_radians();
        let radius = rng.random_range(0.1f32..1.2);
        let at = Vec3::new(rng.random_range(0.1..0.5), 0.08, rng.random_range(0.1..0.5));
        let dir = Vec3::new(
            polar.sin() * azimuth.cos(),
            polar.cos(),
            polar.sin() * azimuth.sin(),
        );
        let camera = Camera {
            eye: at + dir * radius,
            at,
            up: Vec3::Y,
            fov_y_deg: 26.0,
        };
        let sign = orbit_sign(&camera);
        let (chosen, other) = (
            scan_margin_deg(&camera, sign),
            scan_margin_deg(&camera, -sign),
        );
        assert!(
            chosen >= other - 0.2,
            "case {k}: {chosen}° chosen vs {other}° the other way"
        );
    }
    // With the default sampling no camera leaves the room at 55°.
    let sampling = GeneratorConfig::new(Preset::Boxes, 16, 0).camera;
    for _ in 0..500 {
        let camera = sampling.sample(&mut rng);
        let eye = orbit_camera(&camera, 55.0).eye;
        assert!(
            eye.x > 0.0 && eye.z > 0.0,
            "{camera:?} leaves the room at 55°"
        );
    }
    // A camera at azimuth 20° or 70° stays inside even at 80°.
    let at = GeneratorConfig::new(Preset::Boxes, 16, 0).camera.look_at;
    for azimuth in [20.0f32, 70.0] {
        let (p, a) = (60f32.to_radians(), azimuth.to_radians());
        let eye = at + 0.8 * Vec3::new(p.sin() * a.cos(), p.cos(), p.sin() * a.sin());
        let camera = Camera {
            eye,
            at,
            up: Vec3::Y,
            fov_y_deg: 26.0,
        };
        let turned = orbit_camera(&camera, 80.0).eye;
        assert!(
            turned.x > 0.0 && turned.z > 0.0,
            "azimuth {azimuth}: {turned}"
        );
    }
}

#[test]
fn the_truth_at_0_degrees_is_the_datasets_record_bit_for_bit() {
    for preset in [Preset::Boxes, Preset::Shapes, Preset::MultiShapes] {
        let dir =
            std::env::temp_dir().join(format!("p2s-eval-view-{}-{preset}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        let g = Generator::new(config(preset, 24)).unwrap();
        let options = WriteOptions {
            count: 3,
            part: ShardPart::ALL,
            records_per_shard: Some(2),
            force: false,
            previews: 0,
        };
        write_dataset(&g, &dir, &options, &|_| {}).unwrap();
        let reader = DatasetReader::open(&dir).unwrap();
        let views =
            ViewExtrapolation::new(reader.manifest().config.clone(), vec![0.0, 35.0]).unwrap();
        for (i, record) in reader.records().enumerate() {
            let Record::View(stored) = record.unwrap() else {
                panic!("a room preset stores views")
            };
            let truth = views.views(i as u64);
            assert_eq!(truth[0].frame, stored.frame, "{preset} {i}");
            assert_eq!(truth[0].camera, stored.camera);
            assert_eq!(truth[0].lights_cam, stored.lights_cam);
            assert_ne!(truth[1].frame.depth, stored.frame.depth);
            views.check_record(i as u64, &stored).unwrap();
            // Another record's truth is not this one's.
            let other = (i as u64 + 1) % 3;
            assert_eq!(
                views.check_record(other, &stored).unwrap_err().to_string(),
                format!(
                    "record {other}: the scene regenerated from the manifest's generator config \
                     does not reproduce the stored camera (dataset written by another version \
                     of pix2scene?)"
                )
            );
        }
        std::fs::remove_dir_all(&dir).unwrap();
    }
}

/// Asserts that the object of `scene` is in view (more than 4 pixels) and that every object
/// pixel of `frame`, the full scene seen from `scene.camera`, shows the object at its depth.
fn assert_object_in_view(scene: &Scene, frame: &pix2scene_scene::Frame, case: &str) {
    let object = Scene {
        room: None,
        ..scene.clone()
    }
    .render(frame.size_px);
    let pixels: Vec<usize> = (0..object.mask.len())
        .filter(|&p| object.mask[p] != 0)
        .collect();
    assert!(pixels.len() > 4, "{case}: object in view");
    for &p in &pixels {
        assert_eq!(frame.mask[p], 1, "{case}");
        assert!(
            (frame.depth[p] - object.depth[p]).abs() < 1e-6,
            "{case}: pixel {p} shows depth {} in front of the object at {}",
            frame.depth[p],
            object.depth[p]
        );
    }
}

#[test]
fn at_80_degrees_the_object_is_in_view_and_no_wall_hides_it() {
    for preset in [Preset::Boxes, Preset::BoxesRot, Preset::Shapes] {
        let views = ViewExtrapolation::new(config(preset, 32), vec![80.0]).unwrap();
        let g = views.generator();
        for i in 0..8 {
            let truth = &views.views(i)[0];
            let scene = Scene {
                camera: truth.camera,
                ..g.scene(i)
            };
            assert_object_in_view(&scene, &truth.frame, &format!("{preset} {i}"));
            // The worst case: a camera at azimuth 45° ends behind a wall whichever way it
            // turns; the wall, seen from behind, does not hide the scene.
            let c = scene.camera;
            let (p, a) = (70f32.to_radians(), 45f32.to_radians());
            let start = Camera {
                eye: c.at + 0.8 * Vec3::new(p.sin() * a.cos(), p.cos(), p.sin() * a.sin()),
                ..c
            };
            let turned = orbit_camera(&start, 80.0);
            assert!(turned.eye.x < 0.0 || turned.eye.z < 0.0, "behind a wall");
            let scene = Scene {
                camera: turned,
                ..scene
            };
            let frame = scene.render(32);
            assert_object_in_view(&scene, &frame, &format!("{preset} {i} from behind a wall"));
        }
    }
}

#[test]
fn bad_view_lists_and_iqtt_datasets_are_refused_in_one_line() {
    assert_eq!(
        parse_views("0, 35,55,80").unwrap(),
        vec![0.0, 35.0, 55.0, 80.0]
    );
    assert_eq!(parse_views("12.5").unwrap(), vec![12.5]);
    let msg = |s: &str| parse_views(s).unwrap_err().to_string();
    assert_eq!(
        msg("0,200"),
        "--views: angle 200 is out of range (0 to 180 degrees)"
    );
    assert_eq!(
        msg("-5"),
        "--views: angle -5 is out of range (0 to 180 degrees)"
    );
    assert_eq!(msg("0,abc"), "--views: \"abc\" is not an angle in degrees");
    assert_eq!(msg(""), "--views: \"\" is not an angle in degrees");
    assert_eq!(msg("35,35"), "--views: angle 35 is given twice");
    assert_eq!(
        ViewExtrapolation::new(config(Preset::Iqtt, 16), vec![0.0])
            .unwrap_err()
            .to_string(),
        "preset: iqtt datasets hold 3D-IQTT questions, not views of rooms; view extrapolation \
         needs a room preset"
    );
    assert_eq!(
        ViewExtrapolation::new(config(Preset::Boxes, 16), vec![0.0, 181.0])
            .unwrap_err()
            .to_string(),
        "--views: angle 181 is out of range (0 to 180 degrees)"
    );
}
