//! The paper's options beyond the default model: class conditioning (section 4.3,
//! `model.num_classes`) and the random-lights ablation (Appendix B, `data.random_lights`).

use pix2scene_model::one_hot;
use pix2scene_scene::MAX_LIGHTS;

use super::*;

/// `tiny-32` on `shapenet-like` scenes (six labelled categories) with a class-conditional
/// decoder and critic, plus `extra` overrides.
fn conditional(extra: &[&str]) -> TrainPreset {
    tiny(
        &[
            &["data.preset=shapenet-like", "model.num_classes=6"][..],
            extra,
        ]
        .concat(),
    )
}

/// A batch's one-hot class vectors as host values, `[batch, num_classes]` flattened.
fn class_values(batch: &DeviceBatch) -> Vec<f32> {
    let class = batch
        .class
        .clone()
        .expect("a class-conditional batch carries labels");
    class.into_data().try_to_vec::<f32>().unwrap()
}

/// The class-conditional model: uploading puts each scene's label into the batch as a one-hot
/// vector; changing the labels changes the decoder's depth and the losses of the critic and the
/// encoder/decoder steps (so the labels reach both networks); a `shapenet-like` run with
/// `model.num_classes = 6` trains to finite losses; a class count that does not match the
/// scenes' labels is refused before training, naming the key.
#[test]
fn class_conditional_model_trains_with_the_scenes_labels() {
    let preset = conditional(&[]);
    let (mut trainer, _, host) = trainer_and_batch(&preset);
    let batch = trainer.upload(&host);
    let k = preset.model.num_classes;
    let expected: Vec<f32> = host
        .class
        .iter()
        .flat_map(|&label| (0..k).map(move |c| f32::from(c == label as usize)))
        .collect();
    assert_eq!(class_values(&batch), expected, "labels {:?}", host.class);
    let shifted: Vec<u32> = host.class.iter().map(|&c| (c + 1) % k as u32).collect();
    let relabelled = DeviceBatch {
        class: Some(one_hot(&shifted, k, trainer.device())),
        ..batch.clone()
    };

    let noise = IterationNoise::draw(&preset, 0);
    let z = || {
        let shape = [host.batch, preset.model.z_dim];
        Tensor::<2>::from_data(
            TensorData::new(noise.generator_z.clone(), shape),
            trainer.device(),
        )
    };
    let depth = |b: &DeviceBatch| {
        trainer
            .decode(z(), b)
            .into_data()
            .try_to_vec::<f32>()
            .unwrap()
    };
    assert_ne!(
        depth(&batch),
        depth(&relabelled),
        "the decoder ignores labels"
    );

    let lights = (batch.light_pos.clone(), batch.light_color.clone());
    let (z0, alpha0) = (&noise.critic_z[0], &noise.critic_alpha[0]);
    let critic =
        |t: &mut Trainer, b: &DeviceBatch| t.critic_step(b, z0, alpha0, lights.clone(), 1).unwrap();
    let generator = |t: &mut Trainer, b: &DeviceBatch| {
        t.generator_step(b, &noise.generator_z, lights.clone(), 1)
            .unwrap()
    };
    let (mut other, _, _) = trainer_and_batch(&preset);
    let (a, b) = (
        critic(&mut trainer, &batch),
        critic(&mut other, &relabelled),
    );
    assert!(
        a.0 != b.0 && a.1 != b.1,
        "the critic ignores labels: {a:?}, {b:?}"
    );
    let (a, b) = (
        generator(&mut trainer, &batch),
        generator(&mut other, &relabelled),
    );
    assert_ne!(a.0, b.0, "the encoder/decoder step ignores labels");

    let dir = scratch("class-conditional");
    let overrides = [
        "data.preset=shapenet-like",
        "model.num_classes=6",
        "run.steps=3",
    ];
    let summary = start(&dir.join("run"), &overrides).unwrap();
    assert_eq!(summary.steps, 3);
    let metrics = read_metrics(&dir.join("run/metrics.jsonl")).unwrap();
    assert!(
        metrics
            .iter()
            .all(|m| m.losses.first_non_finite().is_none()),
        "{metrics:?}"
    );
    let refused = |overrides: &[&str]| {
        start(&dir.join("refused"), overrides)
            .unwrap_err()
            .to_string()
    };
    assert_eq!(
        refused(&["model.num_classes=3"]),
        "model.num_classes = 3: the boxes scenes carry no class label (shapenet-like scenes do); \
         use 0"
    );
    assert_eq!(
        refused(&["data.preset=shapenet-like", "model.num_classes=4"]),
        "model.num_classes = 4: the shapenet-like scenes have 6 classes (bowl, bottle, mug, can, \
         cap, bag); use 6 or 0"
    );
    std::fs::remove_dir_all(&dir).unwrap();
}

/// The random-lights ablation: each step of an iteration draws its own generator-side lights
/// from `(run.seed, step)` alone (the same draw twice, another at the next step, the latent
/// codes and penalty weights unchanged), unlike the input's and not white; an iteration is
/// exactly the critic and encoder/decoder steps run by hand under those lights, and differs
/// from the same iteration under the input's lights; a run with them resumes exactly.
#[test]
fn random_lights_render_the_generator_side_under_other_lights() {
    let preset = tiny(&["data.random_lights=true"]);
    let c = preset.optim.critic_steps;
    let noise = IterationNoise::draw(&preset, 0);
    let again = IterationNoise::draw(&preset, 0);
    let next = IterationNoise::draw(&preset, 1);
    let plain = IterationNoise::draw(&tiny(&[]), 0);
    assert_eq!(noise.random_lights.len(), c + 1);
    assert_eq!(noise.random_lights, again.random_lights);
    assert_ne!(noise.random_lights, next.random_lights);
    assert!(plain.random_lights.is_empty());
    assert_eq!(
        (&noise.critic_z, &noise.critic_alpha, &noise.generator_z),
        (&plain.critic_z, &plain.critic_alpha, &plain.generator_z)
    );

    let (mut trainer, _, host) = trainer_and_batch(&preset);
    let batch = trainer.upload(&host);
    let n = host.batch;
    for (pos, col) in &noise.random_lights {
        assert_ne!(pos, &host.light_pos, "positions are the input's");
        assert_ne!(col, &host.light_color, "colours are the input's");
        let coloured = col
            .chunks(3)
            .any(|rgb| rgb[0] != rgb[1] || rgb[1] != rgb[2]);
        assert!(coloured, "white lights: {col:?}");
    }
    let batches = vec![batch.clone(); c + 1];
    let losses = trainer.iteration(&batches, 0).unwrap();

    let device = trainer.device().clone();
    let tensor = |v: &[f32]| {
        Tensor::<3>::from_data(TensorData::new(v.to_vec(), [n, MAX_LIGHTS, 3]), &device)
    };
    let (mut by_hand, _, _) = trainer_and_batch(&preset);
    for j in 0..c {
        let (pos, col) = &noise.random_lights[j];
        let (z, alpha) = (&noise.critic_z[j], &noise.critic_alpha[j]);
        by_hand
            .critic_step(&batch, z, alpha, (tensor(pos), tensor(col)), 1)
            .unwrap();
    }
    let (pos, col) = &noise.random_lights[c];
    let (generator, [adversarial, recon_x, recon_z, planarity, _]) = by_hand
        .generator_step(&batch, &noise.generator_z, (tensor(pos), tensor(col)), 1)
        .unwrap();
    assert_eq!(
        (generator, adversarial, recon_x, recon_z, planarity),
        (
            losses.generator,
            losses.adversarial,
            losses.recon_x,
            losses.recon_z,
            losses.planarity
        )
    );
    let (mut own_lights, _, _) = trainer_and_batch(&tiny(&[]));
    let own = own_lights.iteration(&batches, 0).unwrap();
    assert!(
        own.recon_x != losses.recon_x && own.wasserstein != losses.wasserstein,
        "the input's lights give the same losses: {own:?} vs {losses:?}"
    );

    let dir = scratch("random-lights");
    let (straight, split) = (dir.join("straight"), dir.join("split"));
    let run = |out: &Path, steps: &'static str| {
        let overrides = ["data.random_lights=true", "run.checkpoint_every=2", steps];
        start(out, &overrides).unwrap();
    };
    run(&straight, "run.steps=4");
    run(&split, "run.steps=2");
    resume(&split, &["run.steps=4"]).unwrap();
    assert_identical_metrics(&straight, &split, 4);
    std::fs::remove_dir_all(&dir).unwrap();
}
