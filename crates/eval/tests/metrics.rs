//! Every metric of the [`Scorer`] on ray-traced ground truth: a perfect prediction scores 0,
//! a constant offset its square as MSE, a scale change 0 SIDE; bad input is named.

use pix2scene_eval::{Scorer, hausdorff_brute_force};
use pix2scene_scene::glam::Vec3;
use pix2scene_scene::{
    Camera, Generator, GeneratorConfig, Object, Placement, Preset, Scene, ShadingConstants, Shape,
    Sphere,
};

/// Ground truth of a few records of the room presets, and of a sphere floating in empty space
/// (a mask with a hole around it).
fn truths(size: usize) -> Vec<(String, Vec<f32>, Vec<u8>)> {
    let mut out = Vec::new();
    for preset in [Preset::Boxes, Preset::Shapes, Preset::MultiShapes] {
        let g = Generator::new(GeneratorConfig::new(preset, size, 5)).unwrap();
        for i in 0..2 {
            let f = g.sample(i).frame;
            out.push((format!("{preset} {i}"), f.depth, f.mask));
        }
    }
    let sphere = Scene {
        room: None,
        objects: vec![Object::new(
            Shape::Sphere(Sphere { radius: 0.12 }),
            Placement::IDENTITY,
        )],
        camera: Camera {
            eye: Vec3::new(0.3, 0.2, 0.6),
            at: Vec3::ZERO,
            up: Vec3::Y,
            fov_y_deg: 26.0,
        },
        lights: vec![],
        shading: ShadingConstants::default(),
        background: Vec3::ZERO,
    };
    let f = sphere.render(size);
    assert!(f.mask.contains(&0) && f.mask.contains(&1));
    out.push(("sphere".into(), f.depth, f.mask));
    out
}

/// The truth with 1.0 where the mask is 0: the decoder predicts depth at every pixel.
fn dense(depth: &[f32], mask: &[u8]) -> Vec<f32> {
    depth
        .iter()
        .zip(mask)
        .map(|(d, m)| if *m != 0 { *d } else { 1.0 })
        .collect()
}

#[test]
fn a_perfect_prediction_scores_zero_on_every_metric() {
    let scorer = Scorer::new(26.0, 32);
    for (name, depth, mask) in truths(32) {
        let m = scorer.score(&dense(&depth, &mask), &depth, &mask).unwrap();
        assert_eq!(
            [
                m.hausdorff_f,
                m.hausdorff_f_mean,
                m.hausdorff_r,
                m.hausdorff_r_mean
            ],
            [0.0; 4],
            "{name}"
        );
        assert_eq!([m.mse_depth, m.side, m.mad_deg], [0.0; 3], "{name}");
    }
}

#[test]
fn offsets_and_scale_changes_give_their_known_errors() {
    let scorer = Scorer::new(26.0, 32);
    for (name, depth, mask) in truths(32) {
        let shifted: Vec<f32> = dense(&depth, &mask).iter().map(|d| d + 0.0625).collect();
        let m = scorer.score(&shifted, &depth, &mask).unwrap();
        assert!(
            (m.mse_depth - 0.0625f64.powi(2)).abs() < 1e-8,
            "{name}: {}",
            m.mse_depth
        );
        // Each point moved 0.0625 along its ray: no point is farther than that from the other
        // cloud, and the mean is below it.
        assert!(
            m.hausdorff_f <= 0.0625 + 1e-6 && m.hausdorff_r <= 0.0625 + 1e-6,
            "{name}"
        );
        assert!(
            m.hausdorff_f_mean > 0.0 && m.hausdorff_f_mean <= m.hausdorff_f,
            "{name}"
        );
        assert!(m.side > 0.0, "{name}");
        let scaled: Vec<f32> = dense(&depth, &mask).iter().map(|d| d * 1.1).collect();
        let m = scorer.score(&scaled, &depth, &mask).unwrap();
        assert!(m.side < 1e-6, "{name}: SIDE {}", m.side);
        // A scale change about the camera keeps every plane's orientation.
        assert!(m.mad_deg < 0.01, "{name}: MAD {}", m.mad_deg);
        assert!(m.mse_depth > 1e-4, "{name}");
    }
}

#[test]
fn hausdorff_of_the_scorer_is_that_of_the_back_projected_clouds() {
    let scorer = Scorer::new(26.0, 24);
    for (name, depth, mask) in truths(24) {
        let pred: Vec<f32> = dense(&depth, &mask)
            .iter()
            .enumerate()
            .map(|(i, d)| d * (1.0 + 0.05 * ((i as f32) * 0.7).sin()))
            .collect();
        let m = scorer.score(&pred, &depth, &mask).unwrap();
        let rays = scorer.rays();
        let brute = hausdorff_brute_force(
            &rays.back_project(&pred, &mask).unwrap(),
            &rays.back_project(&depth, &mask).unwrap(),
        )
        .unwrap();
        assert!((m.hausdorff_f - brute.forward.max).abs() < 1e-6, "{name}");
        assert!(
            (m.hausdorff_r_mean - brute.reverse.mean).abs() < 1e-6,
            "{name}"
        );
    }
}

#[test]
fn bad_predictions_are_refused_with_one_line_naming_them() {
    let scorer = Scorer::new(26.0, 16);
    let (_, depth, mask) = truths(16).remove(0);
    let msg = |pred: &[f32]| scorer.score(pred, &depth, &mask).unwrap_err().to_string();
    assert_eq!(
        msg(&depth[..100]),
        "predicted depth has 100 values, expected 256 ([16, 16])"
    );
    let mut pred = depth.clone();
    pred[37] = f32::INFINITY;
    assert_eq!(
        msg(&pred),
        "predicted depth[37] = inf is not a positive finite distance"
    );
    assert_eq!(
        scorer
            .score(&depth, &depth, &vec![0; 256])
            .unwrap_err()
            .to_string(),
        "the reconstruction point cloud is empty (no valid pixel)"
    );
}
