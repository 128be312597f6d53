//! The renderer-refined targets and what builds on them (`optim.refine_*`, `optim.regress_*`).

use super::*;

/// The renderer-refined targets (`optim.refine_steps`): on images the true depth reproduces
/// exactly, lit one light per colour channel (under white light the image term itself prefers
/// wrong shapes, docs/training-notes.md *Why white light hides the boxes*), Adam on the multi-scale log-depth maps from a blurred copy of the truth lowers the
/// refinement objective, moves the depth towards the truth, and keeps each image's
/// geometric-mean depth; the encoder/decoder step then logs the regression term.
#[test]
fn refinement_lowers_its_objective_approaches_the_truth_and_keeps_the_scale() {
    let preset = refinement_preset(&["data.surfel_images=true", "optim.refine_steps=150"]);
    let (mut trainer, _, host) = trainer_and_batch(&preset);
    let batch = trainer.upload(&host);
    let (n, s) = (host.batch, host.size);
    let truth: Vec<f32> = host
        .depth
        .iter()
        .zip(&host.mask)
        .map(|(d, m)| if *m > 0.0 { *d } else { 1.0 })
        .collect();
    // A 7×7 box blur of the truth: the room's layout, boxes smeared into their surroundings.
    let blurred: Vec<f32> = (0..n * s * s)
        .map(|i| {
            let (b, r, c) = (i / (s * s), (i / s) % s, i % s);
            let (mut sum, mut count) = (0.0, 0.0);
            for rr in r.saturating_sub(3)..(r + 4).min(s) {
                for cc in c.saturating_sub(3)..(c + 4).min(s) {
                    sum += truth[b * s * s + rr * s + cc];
                    count += 1.0;
                }
            }
            sum / count
        })
        .collect();
    let device = trainer.device().clone();
    let start = Tensor::<3>::from_data(TensorData::new(blurred.clone(), [n, s, s]), &device);
    let refined = trainer.refiner.refine(RefineBatch {
        depth: start.clone(),
        image: batch.image.clone(),
        light_pos: batch.light_pos.clone(),
        light_color: batch.light_color.clone(),
    });
    let objective = |d: Tensor<3>| {
        trainer
            .refiner
            .objective(
                d,
                batch.image.clone(),
                batch.light_pos.clone(),
                batch.light_color.clone(),
            )
            .into_scalar::<f32>()
    };
    let refined_tensor =
        Tensor::<3>::from_data(TensorData::new(refined.clone(), [n, s, s]), &device);
    let (before, after) = (objective(start), objective(refined_tensor));
    assert!(
        after < 0.5 * before,
        "objective {before} → {after}: the refinement did not descend"
    );
    let error = |d: &[f32]| {
        let (mut se, mut count) = (0.0, 0.0);
        for ((p, g), m) in d.iter().zip(&host.depth).zip(&host.mask) {
            if *m > 0.0 {
                se += (p - g).powi(2);
                count += 1.0;
            }
        }
        se / count
    };
    let (e0, e1) = (error(&blurred), error(&refined));
    assert!(
        e1 < 0.85 * e0,
        "depth error {e0} → {e1}: not towards the truth"
    );
    for b in 0..n {
        let log_mean = |d: &[f32]| {
            d[b * s * s..(b + 1) * s * s]
                .iter()
                .map(|x| f64::from(*x).ln())
                .sum::<f64>()
                / (s * s) as f64
        };
        let (g0, g1) = (log_mean(&blurred), log_mean(&refined));
        assert!(
            (g0 - g1).abs() < 1e-5,
            "image {b}: log-mean depth {g0} → {g1}"
        );
    }
    let noise = IterationNoise::draw(&preset, 0);
    let lights = (batch.light_pos.clone(), batch.light_color.clone());
    let (_, [.., refine]) = trainer
        .generator_step(&batch, &noise.generator_z, lights, 0)
        .unwrap();
    assert!(refine > 0.0 && refine.is_finite(), "refine term {refine}");
}

/// Kept targets (`optim.refine_keep`): a scene's second visit refines its first visit's result
/// further, to a lower objective, keeping the scale (log-mean depth) of the first visit.
#[test]
fn kept_targets_continue_refining_from_the_last_visit_and_keep_the_first_scale() {
    let preset = refinement_preset(&KEPT);
    let (mut trainer, _, host) = trainer_and_batch(&preset);
    let batch = trainer.upload(&host);
    assert_eq!(batch.scene.len(), host.batch);
    let pixels = host.size * host.size;
    let objective = |t: &Trainer, d: &[f32]| {
        let [n, s] = [host.batch, host.size];
        let d = Tensor::<3>::from_data(TensorData::new(d.to_vec(), [n, s, s]), t.device());
        t.refiner
            .objective(
                d,
                batch.image.clone(),
                batch.light_pos.clone(),
                batch.light_color.clone(),
            )
            .into_scalar::<f32>()
    };
    visit(&mut trainer, &preset, &batch, 1);
    let first = kept_maps(&trainer, &batch);
    assert!(first.iter().all(|d| d.is_finite()), "every scene kept");
    visit(&mut trainer, &preset, &batch, 2);
    let second = kept_maps(&trainer, &batch);
    assert_ne!(first, second, "the second visit refined further");
    let (o1, o2) = (objective(&trainer, &first), objective(&trainer, &second));
    assert!(o2 < o1, "objective after visit 1 {o1}, visit 2 {o2}");
    let log_mean = |d: &[f32], b: usize| {
        d[b * pixels..(b + 1) * pixels]
            .iter()
            .map(|x| f64::from(*x).ln())
            .sum::<f64>()
            / pixels as f64
    };
    for b in 0..host.batch {
        let (g1, g2) = (log_mean(&first, b), log_mean(&second, b));
        assert!((g1 - g2).abs() < 1e-5, "scene {b}: log-mean {g1} → {g2}");
    }
}

/// `optim.refine_median`: the kept target is the scale-keeping 3×3 median of the map the same
/// run without the filter keeps.
#[test]
fn median_filtered_targets_are_the_median_of_the_refined_maps() {
    let with_median = [&KEPT[..], &["optim.refine_median=true"]].concat();
    let kept_after_one_visit = |preset: &TrainPreset| {
        let (mut trainer, _, host) = trainer_and_batch(preset);
        let batch = trainer.upload(&host);
        visit(&mut trainer, preset, &batch, 1);
        (kept_maps(&trainer, &batch), host.size)
    };
    let (mut plain, size) = kept_after_one_visit(&refinement_preset(&KEPT));
    let (filtered, _) = kept_after_one_visit(&refinement_preset(&with_median));
    assert_ne!(plain, filtered, "the filter changed the targets");
    median3_keep_scale(&mut plain, size);
    assert_eq!(plain, filtered);
}

/// Regression steps on kept targets (`optim.regress_steps`): scenes never refined contribute
/// nothing; once a visit has kept their targets, the steps move the reconstructions towards
/// them and leave the targets as they are.
#[test]
fn regress_steps_fit_the_kept_targets_without_changing_them() {
    let preset =
        refinement_preset(&[&KEPT[..], &["optim.regress_steps=1", "optim.lr=1e-3"]].concat());
    let (mut trainer, _, host) = trainer_and_batch(&preset);
    let batch = trainer.upload(&host);
    for mirror in [false, true] {
        assert_eq!(
            trainer.regress_step(&batch, mirror, 1).unwrap(),
            0.0,
            "no scene has a kept target yet (mirrored: {mirror})"
        );
    }
    visit(&mut trainer, &preset, &batch, 2);
    let targets = kept_maps(&trainer, &batch);
    let values: Vec<f32> = (3..9)
        .map(|step| trainer.regress_step(&batch, false, step).unwrap())
        .collect();
    assert!(values[0] > 0.0, "regression on kept targets {values:?}");
    assert!(
        values.windows(2).all(|w| w[1] < w[0]) && values[5] < 0.9 * values[0],
        "regression along five steps: {values:?}"
    );
    assert_eq!(
        kept_maps(&trainer, &batch),
        targets,
        "regress steps do not refine"
    );
}

/// A trainer on the kept-target preset plus `extra`, its first batch, and that batch's kept
/// targets after one encoder/decoder step.
fn visited_once(extra: &[&str]) -> (Trainer, DeviceBatch, HostBatch, Vec<f32>) {
    let preset = refinement_preset(&[&KEPT[..], extra].concat());
    let (mut trainer, _, host) = trainer_and_batch(&preset);
    let batch = trainer.upload(&host);
    visit(&mut trainer, &preset, &batch, 1);
    let kept = kept_maps(&trainer, &batch);
    (trainer, batch, host, kept)
}

/// Asserts that a regression step's value is the host-computed `expected` to 1e-4, relative.
fn assert_matches_host(value: f32, expected: f64, what: &str) {
    let value = f64::from(value);
    assert!(
        (value - expected).abs() < 1e-4 * expected,
        "{what} regression step {value} vs {expected} on the host"
    );
}

/// `mean (ln G(E(x)) − ln target)²` of the networks' reconstructions of `seen`, on the host.
fn host_regression(trainer: &Trainer, seen: &DeviceBatch, targets: &[f32]) -> f64 {
    let z = trainer
        .nets
        .encoder
        .forward(seen.image.clone(), Some(seen.camera.clone()));
    let depth: Vec<f32> = trainer
        .nets
        .decoder
        .forward(z, Some(seen.camera.clone()), seen.class.clone())
        .into_data()
        .try_to_vec::<f32>()
        .unwrap();
    depth
        .iter()
        .zip(targets)
        .map(|(&d, &t)| (f64::from(d).ln() - f64::from(t).ln()).powi(2))
        .sum::<f64>()
        / depth.len() as f64
}

/// `optim.regress_mirror`: a mirrored regression step regresses the reconstructions of the
/// mirrored batch on the flipped kept targets (recomputed here on the host from the networks
/// before the step), which is not what the unmirrored step regresses.
#[test]
fn mirrored_regress_steps_fit_the_flipped_targets_of_the_mirrored_batch() {
    let (mut trainer, batch, host, kept) =
        visited_once(&["optim.regress_steps=2", "optim.regress_mirror=true"]);
    let flipped: Vec<f32> = kept
        .chunks(host.size)
        .flat_map(|row| row.iter().rev().copied())
        .collect();
    let plain = host_regression(&trainer, &batch, &kept);
    let expected = host_regression(&trainer, &mirrored(&batch), &flipped);
    assert!(
        (plain - expected).abs() > 1e-3 * expected,
        "mirrored {expected} vs plain {plain}"
    );
    let value = trainer.regress_step(&batch, true, 2).unwrap();
    assert_matches_host(value, expected, "mirrored");
}

/// A run with mirrored regression steps on scenes without that symmetry stops before training,
/// naming the key and the cause; on `boxes` scenes it trains.
#[test]
fn mirrored_regress_steps_need_symmetric_scenes() {
    let dir = scratch("mirror-symmetry");
    let mirror = [
        &KEPT[..],
        &["optim.regress_steps=2", "optim.regress_mirror=true"],
    ]
    .concat();
    let asymmetric = [&mirror[..], &["data.preset=\"multi-shapes\""]].concat();
    let err = start(&dir.join("multi"), &asymmetric)
        .unwrap_err()
        .to_string();
    assert_eq!(
        err,
        "optim.regress_mirror = true: needs scenes symmetric under swapping x and z, but the \
         multi-shapes preset's objects have no mirror symmetry (boxes, boxes-rot and shapes do)"
    );
    let steps = [&mirror[..], &["run.steps=2"]].concat();
    let summary = start(&dir.join("boxes"), &steps).unwrap();
    assert_eq!(summary.steps, 2);
    std::fs::remove_dir_all(&dir).unwrap();
}
