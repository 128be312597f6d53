//! The training steps: learning, surfel images, checkpoint round trips, thread counts.

use super::*;

/// The GPU path (burn's wgpu backend; the surfel renderer's tensor-op reference there) computes
/// the same first critic and generator steps as the CPU path: same seed, same initial weights,
/// same losses up to float rounding. Runs only in builds with the `wgpu` feature, on a machine
/// with a wgpu adapter (a GPU, or Mesa's lavapipe CPU Vulkan driver).
#[cfg(feature = "wgpu")]
#[test]
fn wgpu_backend_computes_the_same_first_steps_as_the_cpu() {
    let preset = tiny(&[]);
    let noise = IterationNoise::draw(&preset, 0);
    let gpu = pix2scene_train::device::TrainDevice::Wgpu.autodiff_device();
    let losses = |device: &Device| {
        let (mut trainer, batch, _) = trainer_and_batch_on(&preset, device);
        let lights = || (batch.light_pos.clone(), batch.light_color.clone());
        let (critic, wasserstein, gp) = trainer
            .critic_step(
                &batch,
                &noise.critic_z[0],
                &noise.critic_alpha[0],
                lights(),
                0,
            )
            .unwrap();
        let (generator, terms) = trainer
            .generator_step(&batch, &noise.generator_z, lights(), 0)
            .unwrap();
        [
            critic,
            wasserstein,
            gp,
            generator,
            terms[0],
            terms[1],
            terms[2],
            terms[3],
        ]
    };
    let (cpu, wgpu) = (losses(&device()), losses(&gpu));
    for (name, (c, g)) in [
        "critic",
        "wasserstein",
        "gradient penalty",
        "generator",
        "adversarial",
        "recon_x",
        "recon_z",
        "planarity",
    ]
    .into_iter()
    .zip(cpu.into_iter().zip(wgpu))
    {
        assert!(
            (c - g).abs() <= 1e-3 * c.abs().max(1e-2),
            "{name}: cpu {c} vs wgpu {g}"
        );
    }
}

#[test]
fn reconstruction_steps_decrease_the_reconstruction_loss_on_a_fixed_batch() {
    let preset = tiny(&[
        "optim.adv_weight=0",
        "optim.recon_z_weight=0",
        "optim.lr=2e-3",
    ]);
    let (mut trainer, batch, _) = trainer_and_batch(&preset);
    let noise = IterationNoise::draw(&preset, 0);
    let lights = || (batch.light_pos.clone(), batch.light_color.clone());
    let mut recon_x = Vec::new();
    for step in 0..20 {
        let (_, [_, rx, _, _, refine]) = trainer
            .generator_step(&batch, &noise.generator_z, lights(), step)
            .unwrap();
        assert_eq!(refine, 0.0, "no refinement term without optim.refine_steps");
        recon_x.push(rx);
    }
    assert!(
        recon_x[19] < 0.85 * recon_x[0],
        "image reconstruction loss did not fall: {recon_x:?}"
    );
}

/// `data.surfel_images` swaps the ray-traced images for the surfel renderer's images of the
/// true depth: identical where no ray hit, within rounding of the ray tracer on flat interiors
/// (whose 3×3 stencil lies on one plane, so the renderer's estimated normal is the true one), different at
/// silhouettes; without the option the batch keeps the ray-traced images bit for bit.
#[test]
fn surfel_images_match_the_ray_tracer_except_at_silhouettes() {
    let images = |overrides: &[&str]| {
        let (trainer, _, host) = trainer_and_batch(&tiny(overrides));
        let image = trainer.upload(&host).image.into_data().try_to_vec::<f32>();
        (image.unwrap(), host)
    };
    let (ray_traced, host) = images(&[]);
    assert_eq!(ray_traced, host.image);
    let (image, _) = images(&["data.surfel_images=true"]);
    let (n, s) = (host.batch, host.size);
    let (mut interior, mut max_interior, mut max_edge) = (0, 0.0f32, 0.0f32);
    for b in 0..n {
        let at = |r: usize, c: usize| b * s * s + r * s + c;
        for r in 0..s {
            for c in 0..s {
                let diff = (0..3)
                    .map(|ch| {
                        let i = (b * 3 + ch) * s * s + r * s + c;
                        (image[i] - ray_traced[i]).abs()
                    })
                    .fold(0.0, f32::max);
                if host.mask[at(r, c)] == 0.0 {
                    assert_eq!(diff, 0.0, "a pixel without a hit changed");
                    continue;
                }
                if r == 0 || c == 0 || r + 1 == s || c + 1 == s {
                    continue;
                }
                let d = |r: usize, c: usize| host.depth[at(r, c)];
                let normal = |r: usize, c: usize| &host.normal[at(r, c) * 3..at(r, c) * 3 + 3];
                let flat = [(0, 0), (0, 1), (0, 2), (1, 0)].iter().all(|&(dr, dc)| {
                    let (a, z) = (d(r + dr - 1, c + dc - 1), d(r + 1 - dr, c + 1 - dc));
                    (a + z - 2.0 * d(r, c)).abs() < 1e-3 * d(r, c)
                }) && (r - 1..=r + 1).all(|rr| {
                    (c - 1..=c + 1).all(|cc| {
                        host.mask[at(rr, cc)] > 0.0
                            && normal(rr, cc)
                                .iter()
                                .zip(normal(r, c))
                                .map(|(x, y)| x * y)
                                .sum::<f32>()
                                > 0.9999
                    })
                });
                if flat {
                    interior += 1;
                    max_interior = max_interior.max(diff);
                } else {
                    max_edge = max_edge.max(diff);
                }
            }
        }
    }
    assert!(
        interior > n * s * s / 4,
        "only {interior} flat interior pixels"
    );
    assert!(
        max_interior < 1e-4,
        "flat interiors differ by {max_interior}"
    );
    assert!(max_edge > 0.05, "silhouettes differ by only {max_edge}");
}

#[test]
fn checkpoint_round_trip_gives_identical_outputs() {
    let dir = scratch("roundtrip");
    // With the decoder's optional coarse heads, so that they are saved and loaded too.
    let options = ["model.decoder_coarse_heads=2"];
    let preset = tiny(&options);
    let (mut a, batch, _) = trainer_and_batch(&preset);
    // Move the weights and the Adam moments away from their initial values first.
    let noise = IterationNoise::draw(&preset, 0);
    let lights = || (batch.light_pos.clone(), batch.light_color.clone());
    a.critic_step(
        &batch,
        &noise.critic_z[0],
        &noise.critic_alpha[0],
        lights(),
        1,
    )
    .unwrap();
    a.generator_step(&batch, &noise.generator_z, lights(), 1)
        .unwrap();
    let state = CheckpointState {
        format_version: CHECKPOINT_FORMAT_VERSION,
        step: 1,
        held_out_mse_depth: None,
        loss_window: Default::default(),
    };
    let ckpt = a.save_checkpoint(&dir, &state, 3).unwrap();
    let (mut b, _, _) = trainer_and_batch(&tiny(&[&["run.seed=99"][..], &options].concat()));
    let outputs = |t: &Trainer| {
        let (z, depth) = t.reconstruct(&batch);
        let z_: Vec<f32> = z.into_data().try_to_vec::<f32>().unwrap();
        let d_: Vec<f32> = depth.into_data().try_to_vec::<f32>().unwrap();
        (z_, d_)
    };
    assert_ne!(
        outputs(&a),
        outputs(&b),
        "different seeds give different weights"
    );
    assert_eq!(b.load_checkpoint(&ckpt).unwrap(), state);
    assert_eq!(outputs(&a), outputs(&b));
    // The next training step (which uses the Adam moments) matches too.
    let noise = IterationNoise::draw(&preset, 1);
    let la = a
        .generator_step(&batch, &noise.generator_z, lights(), 2)
        .unwrap();
    let lb = b
        .generator_step(&batch, &noise.generator_z, lights(), 2)
        .unwrap();
    assert_eq!(la, lb);
    assert_eq!(outputs(&a), outputs(&b));
    // A missing file is named.
    std::fs::remove_file(ckpt.join("critic.bpk")).unwrap();
    let err = b.load_checkpoint(&ckpt).unwrap_err().to_string();
    assert_eq!(
        err,
        format!("{}: missing", ckpt.join("critic.bpk").display())
    );
    std::fs::remove_dir_all(&dir).unwrap();
}

/// Trainers built at the same time on several threads each get their own seed's initial weights
/// (the CPU backend's generator is one per process).
#[test]
fn trainers_built_at_once_get_their_own_seeds_weights() {
    let presets: Vec<TrainPreset> = (0..6)
        .map(|i| tiny(&[&format!("run.seed={}", i % 3)]))
        .collect();
    let alone: Vec<_> = presets
        .iter()
        .map(|p| trainer_and_batch(p).0.parameters())
        .collect();
    assert_ne!(alone[0], alone[1], "seeds 0 and 1 give different weights");
    let at_once: Vec<_> = std::thread::scope(|scope| {
        let handles: Vec<_> = presets
            .iter()
            .map(|p| scope.spawn(|| trainer_and_batch(p).0.parameters()))
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    assert!(at_once == alone, "weights depend on the other threads");
}

/// The weights of the encoder, decoder and critic after three full iterations (all critic steps
/// and the encoder/decoder step) run on a rayon pool of `threads` threads.
fn weights_after_three_iterations(preset: &TrainPreset, threads: usize) -> Vec<Vec<f32>> {
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .build()
        .unwrap();
    pool.install(|| {
        let (mut t, batch, _) = trainer_and_batch(preset);
        let lights = || (batch.light_pos.clone(), batch.light_color.clone());
        for step in 0..3 {
            let noise = IterationNoise::draw(preset, step);
            for (z, alpha) in noise.critic_z.iter().zip(&noise.critic_alpha) {
                t.critic_step(&batch, z, alpha, lights(), step + 1).unwrap();
            }
            t.generator_step(&batch, &noise.generator_z, lights(), step + 1)
                .unwrap();
        }
        t.parameters()
    })
}

/// Training computes the same bits on any number of threads (with the optional decoder coarse
/// heads too).
#[test]
fn training_steps_give_the_same_weights_on_any_thread_count() {
    for options in [&[][..], &["model.decoder_coarse_heads=2"][..]] {
        let preset = tiny(options);
        let one = weights_after_three_iterations(&preset, 1);
        assert_eq!(
            one,
            weights_after_three_iterations(&preset, 2),
            "{options:?}"
        );
        assert_eq!(
            one,
            weights_after_three_iterations(&preset, 3),
            "{options:?}"
        );
    }
}

/// The floor of an iteration ([`Floor::of`]) counts exactly the convolutions the kernels run:
/// after one real iteration with the work ledger on, every part, pass and shape has the FLOP
/// the floor says, with and without regression steps and coarse heads.
#[test]
fn floor_counts_the_work_the_kernels_do() {
    let with_regress = refinement_preset(&[
        KEPT[0],
        KEPT[1],
        KEPT[2],
        "optim.regress_steps=2",
        "model.decoder_coarse_heads=2",
    ]);
    for preset in [tiny(&[]), with_regress] {
        let floor = Floor::of(&preset).unwrap();
        let (mut trainer, batch, _) = trainer_and_batch(&preset);
        let batches = vec![batch; preset.optim.critic_steps + 1];
        pix2scene_model::work::start_recording();
        trainer.iteration(&batches, 0).unwrap();
        let records = pix2scene_model::work::take_records();
        let recorded: Vec<_> = records
            .iter()
            .map(|r| (r.part, r.pass, r.shape, r.flop))
            .collect();
        let counted: Vec<_> = floor
            .convolutions
            .iter()
            .map(|l| (l.part, l.pass, l.shape, l.flop))
            .collect();
        assert_eq!(recorded, counted);
        assert!(floor.convolution_flop > 0);
    }
}
