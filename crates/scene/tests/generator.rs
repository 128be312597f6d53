//! Properties of generated samples across modules: ground truth consistent with the geometry,
//! shading through the shared Eq. 1, determinism, 3D-IQTT invariants.

use pix2scene_scene::glam::Vec3;
use pix2scene_scene::{Generator, GeneratorConfig, Polycube, Preset, Record, pixel_direction};

fn generator(preset: Preset, size: usize) -> Generator {
    Generator::new(GeneratorConfig::new(preset, size, 42)).unwrap()
}

#[test]
fn depth_normal_and_image_agree_with_the_geometry_and_eq1() {
    for preset in [
        Preset::Boxes,
        Preset::BoxesRot,
        Preset::Shapes,
        Preset::MultiShapes,
    ] {
        let g = generator(preset, 32);
        for i in 0..6 {
            let s = g.sample(i);
            let f = &s.frame;
            let rot = s.camera.world_to_camera_rotation();
            let mut floor = 0;
            for p in 0..32 * 32 {
                if f.mask[p] == 0 {
                    continue;
                }
                let d_cam = pixel_direction(s.camera.fov_y_deg, 32, p / 32, p % 32);
                let p_cam = d_cam * f.depth[p];
                let n_cam = Vec3::from_slice(&f.normal[3 * p..3 * p + 3]);
                assert!((n_cam.length() - 1.0).abs() < 1e-4, "unit normal");
                assert!(n_cam.dot(d_cam) < 0.0, "normal faces the camera");
                // Back to the world frame: the shared shading of the hit reproduces the pixel.
                let p_world = s.camera.eye + rot.transpose() * p_cam;
                let n_world = rot.transpose() * n_cam;
                let c = g.config().shading.radiance(p_world, n_world, &s.lights);
                let want = c.clamp(Vec3::ZERO, Vec3::ONE);
                let got = Vec3::from_slice(&f.image[3 * p..3 * p + 3]);
                assert!((want - got).abs().max_element() < 1e-4, "{want} vs {got}");
                // Floor pixels: the back-projected depth lands on y = 0.
                if n_world.y > 0.9999 && p_world.y.abs() < 0.02 {
                    assert!(p_world.y.abs() < 1e-4, "floor point at y = {}", p_world.y);
                    floor += 1;
                }
                // The same shading seen from the camera frame (what the surfel renderer uses).
                let c_cam = g.config().shading.radiance(p_cam, n_cam, &s.lights_cam);
                assert!((c_cam - c).abs().max_element() < 1e-4);
            }
            assert!(floor > 0, "{preset}: floor visible");
        }
    }
}

#[test]
fn samples_do_not_depend_on_the_thread_that_draws_them() {
    let g = generator(Preset::Shapes, 16);
    let seq: Vec<Record> = (0..8).map(|i| g.record(i)).collect();
    let g = &g;
    let par: Vec<Record> = std::thread::scope(|s| {
        let handles: Vec<_> = (0..8)
            .rev()
            .map(|i| s.spawn(move || (i, g.record(i))))
            .collect();
        let mut v: Vec<_> = handles.into_iter().map(|h| h.join().unwrap()).collect();
        v.sort_by_key(|(i, _)| *i);
        v.into_iter().map(|(_, r)| r).collect()
    });
    assert_eq!(seq, par);
    // Different seeds give different scenes.
    let other = Generator::new(GeneratorConfig::new(Preset::Shapes, 16, 43)).unwrap();
    assert_ne!(other.record(0), seq[0]);
}

#[test]
fn relit_views_keep_the_geometry_and_draw_new_lights() {
    for preset in [Preset::Boxes, Preset::Shapes] {
        let g = generator(preset, 24);
        for i in [0, 7] {
            let own = g.sample(i);
            assert_eq!(g.relit(i, 0), own, "lighting 0 is the scene's own");
            let a = g.relit(i, 1);
            let b = g.relit(i, 2);
            for relit in [&a, &b] {
                assert_eq!(relit.camera, own.camera);
                assert_eq!(relit.frame.depth, own.frame.depth);
                assert_eq!(relit.frame.normal, own.frame.normal);
                assert_eq!(relit.frame.mask, own.frame.mask);
                assert_ne!(relit.lights, own.lights);
                assert_ne!(relit.frame.image, own.frame.image);
            }
            assert_ne!(a.lights, b.lights);
            assert_eq!(g.relit(i, 1), a, "deterministic");
            // A relit view's lights are not another scene's own, nor the same lighting of
            // another scene.
            assert_ne!(a.lights, g.sample(i + 1).lights);
            assert_ne!(a.lights, g.relit(i + 1, 1).lights);
        }
    }
}

#[test]
fn a_records_scene_renders_to_the_record_and_can_be_seen_from_another_camera() {
    for preset in [
        Preset::Boxes,
        Preset::Shapes,
        Preset::MultiShapes,
        Preset::ShapenetLike,
    ] {
        let g = generator(preset, 24);
        for i in 0..3 {
            let sample = g.sample(i);
            let mut scene = g.scene(i);
            assert_eq!(scene.camera, sample.camera);
            assert_eq!(scene.lights, sample.lights);
            assert_eq!(scene.render(24), sample.frame);
            // Same room and objects from another camera: another image of the same scene.
            scene.camera = scene.camera.orbit_y(0.5);
            assert_ne!(scene.render(24).depth, sample.frame.depth);
        }
    }
}

#[test]
fn images_sit_in_unit_range_with_little_saturation() {
    for preset in [Preset::Boxes, Preset::MultiShapes, Preset::Iqtt] {
        let g = generator(preset, 32);
        let (mut saturated, mut total) = (0usize, 0usize);
        for i in 0..10 {
            let views = match g.record(i) {
                Record::View(s) => vec![s],
                Record::Question(q) => q.views.to_vec(),
            };
            for s in views {
                for v in &s.frame.image {
                    assert!((0.0..=1.0).contains(v));
                    saturated += usize::from(*v >= 0.999);
                    total += 1;
                }
            }
        }
        assert!(
            (saturated as f64) < 0.01 * total as f64,
            "{preset}: {saturated} of {total} channels saturated"
        );
    }
}

#[test]
fn shapenet_like_samples_carry_their_class() {
    let g = generator(Preset::ShapenetLike, 16);
    assert_eq!(g.classes(), ["bowl", "bottle", "mug", "can", "cap", "bag"]);
    let mut seen = [false; 6];
    for i in 0..60 {
        let c = g.sample(i).class.expect("class label") as usize;
        seen[c] = true;
    }
    assert!(seen.iter().all(|s| *s), "all classes drawn: {seen:?}");
    assert!(generator(Preset::Boxes, 16).sample(0).class.is_none());
}

#[test]
fn iqtt_questions_show_the_reference_rotated_among_different_distractors() {
    let mut config = GeneratorConfig::new(Preset::Iqtt, 32, 9);
    config.iqtt.pool_size = 50;
    let g = Generator::new(config).unwrap();
    let mut answers = [0; 3];
    for i in 0..30 {
        let Record::Question(q) = g.record(i) else {
            panic!("iqtt gives questions")
        };
        let correct = q.answer as usize + 1;
        answers[q.answer as usize] += 1;
        assert_eq!(
            q.shape_ids[correct], q.shape_ids[0],
            "answer shows the reference shape"
        );
        for k in 1..4 {
            if k != correct {
                assert_ne!(
                    q.shape_ids[k], q.shape_ids[0],
                    "distractor is another shape"
                );
            }
        }
        assert_ne!(
            q.views[correct].frame.image, q.views[0].frame.image,
            "not a pixel copy"
        );
        assert_ne!(q.rotations[correct], q.rotations[0]);
        for v in &q.views {
            assert!(v.frame.mask.contains(&1), "object in view");
            assert!(v.frame.mask.contains(&0), "dark background in view");
        }
    }
    assert!(
        answers.iter().all(|a| *a > 3),
        "answer positions shuffled: {answers:?}"
    );
}

#[test]
fn mirror_distractors_are_mirror_images_not_rotations() {
    let mut config = GeneratorConfig::new(Preset::Iqtt, 16, 2);
    config.iqtt.pool_size = 20;
    config.iqtt.mirror_distractor = true;
    let g = Generator::new(config).unwrap();
    let mut mirrors = 0;
    for i in 0..30 {
        let Record::Question(q) = g.record(i) else {
            panic!()
        };
        let reference = g.iqtt_shape(q.shape_ids[0]).unwrap();
        let shapes: Vec<Polycube> = q
            .shape_ids
            .iter()
            .map(|id| g.iqtt_shape(*id).unwrap())
            .collect();
        assert_eq!(shapes[1..].iter().filter(|s| **s == reference).count(), 1);
        let has_mirror = q.shape_ids[1..].iter().any(|id| *id >= 20);
        assert_eq!(
            has_mirror,
            !reference.is_achiral(),
            "mirror distractor iff chiral"
        );
        if has_mirror {
            assert!(shapes[1..].contains(&reference.mirrored()));
        }
        mirrors += usize::from(has_mirror);
    }
    assert!(mirrors > 0, "some references are chiral");
}
