//! Training end to end on `configs/tiny-32.toml`: learning, exact resume, NaN handling,
//! checkpoint round trips.

use std::path::{Path, PathBuf};

use burn::module::{Module, ModuleVisitor, Param};
use burn::tensor::{Device, Tensor, TensorData};
use pix2scene_train::checkpoint::{CHECKPOINT_FORMAT_VERSION, CheckpointState, list_checkpoints};
use pix2scene_train::data::{HostBatch, SceneSource};
use pix2scene_train::median::median3_keep_scale;
use pix2scene_train::metrics::{MetricsRecord, read_metrics};
use pix2scene_train::mirror::mirrored;
use pix2scene_train::refine::RefineBatch;
use pix2scene_train::run::renderer_config;
use pix2scene_train::shards::ShardCache;
use pix2scene_train::trainer::{DeviceBatch, IterationNoise};
use pix2scene_train::{Error, TrainOptions, TrainPreset, Trainer, train};

fn tiny_path() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../configs/tiny-32.toml")
}

fn tiny(overrides: &[&str]) -> TrainPreset {
    let o: Vec<String> = overrides.iter().map(|s| s.to_string()).collect();
    TrainPreset::load(&tiny_path(), &o).unwrap()
}

/// `tiny-32` on one-light-per-channel scenes with the refinement tests' image and prior
/// weights (`cpu-64-kept`'s), plus `extra` overrides.
fn refinement_preset(extra: &[&str]) -> TrainPreset {
    let mut overrides = vec![
        "data.channel_light_colors=true",
        "data.light_count=[3, 3]",
        "optim.recon_x_weight=10",
        "optim.planarity_weight=3",
        "optim.planarity_scale=0.002",
    ];
    overrides.extend_from_slice(extra);
    tiny(&overrides)
}

/// A finite set of 8 scenes whose 15-step refined targets are kept.
const KEPT: [&str; 3] = [
    "data.train_scenes=8",
    "optim.refine_steps=15",
    "optim.refine_keep=true",
];

/// The kept target of each scene of `batch`, `[batch, R²]` flattened (NaN for a scene without
/// one).
fn kept_maps(trainer: &Trainer, batch: &DeviceBatch) -> Vec<f32> {
    let [n, _, r, _] = batch.image.dims();
    let placeholder = vec![f32::NAN; n * r * r];
    let targets = trainer.targets.as_ref().expect("refine_keep keeps targets");
    targets.starts(&batch.scene, &placeholder)
}

/// One encoder/decoder step on `batch` with iteration 0's noise and the batch's own lights: with
/// kept targets, a visit that refines and keeps its scenes' maps.
fn visit(trainer: &mut Trainer, preset: &TrainPreset, batch: &DeviceBatch, step: u64) {
    let noise = IterationNoise::draw(preset, 0);
    let lights = (batch.light_pos.clone(), batch.light_color.clone());
    trainer
        .generator_step(batch, &noise.generator_z, lights, step)
        .unwrap();
}

fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("p2s-train-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    dir
}

fn options(out: &Path, overrides: &[&str], resume: bool) -> TrainOptions {
    TrainOptions {
        config: Some(tiny_path()),
        out: out.to_path_buf(),
        overrides: overrides.iter().map(|s| s.to_string()).collect(),
        resume,
        ..TrainOptions::default()
    }
}

/// Asserts that two runs logged `lines` identical `metrics.jsonl` lines (steps, losses, held-out
/// figures); returns the first run's.
fn assert_identical_metrics(a: &Path, b: &Path, lines: usize) -> Vec<MetricsRecord> {
    let x = read_metrics(&a.join("metrics.jsonl")).unwrap();
    let y = read_metrics(&b.join("metrics.jsonl")).unwrap();
    assert_eq!((x.len(), y.len()), (lines, lines));
    for (p, q) in x.iter().zip(&y) {
        assert_eq!((p.step, p.losses), (q.step, q.losses), "step {}", p.step);
        assert_eq!(
            p.held_out_mse_depth, q.held_out_mse_depth,
            "step {}",
            p.step
        );
    }
    x
}

fn device() -> Device {
    Device::flex().autodiff()
}

fn trainer_and_batch(preset: &TrainPreset) -> (Trainer, DeviceBatch, HostBatch) {
    trainer_and_batch_on(preset, &device())
}

fn trainer_and_batch_on(
    preset: &TrainPreset,
    device: &Device,
) -> (Trainer, DeviceBatch, HostBatch) {
    let size = preset.model.resolution;
    let source = SceneSource::open(&preset.data, size).unwrap();
    let host = source
        .train_batch(0, preset.optim.batch, size, &mut ShardCache::default())
        .unwrap();
    let trainer = Trainer::new(preset, renderer_config(&source, size), device);
    let batch = DeviceBatch::from_host(&host, 0, device);
    (trainer, batch, host)
}

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
/// (whose 3×3 stencil lies on one plane, so the renderer's estimated normal is the true one,
/// DESIGN.md §3), different at
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
        .forward(seen.image.clone(), seen.camera.clone());
    let depth: Vec<f32> = trainer
        .nets
        .decoder
        .forward(z, seen.camera.clone())
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
    let err = train(&options(&dir.join("multi"), &asymmetric, false))
        .unwrap_err()
        .to_string();
    assert_eq!(
        err,
        "optim.regress_mirror = true: needs scenes symmetric under swapping x and z, but the \
         multi-shapes preset's objects have no mirror symmetry (boxes, boxes-rot and shapes do)"
    );
    let steps = [&mirror[..], &["run.steps=2"]].concat();
    let summary = train(&options(&dir.join("boxes"), &steps, false)).unwrap();
    assert_eq!(summary.steps, 2);
    std::fs::remove_dir_all(&dir).unwrap();
}

/// A run that keeps refined targets (with mirrored regression steps) checkpoints them and resumes
/// exactly; a checkpoint without them is refused, naming the file.
#[test]
fn kept_targets_resume_exactly() {
    let dir = scratch("resume-kept");
    let (straight, split) = (dir.join("straight"), dir.join("split"));
    let keep = [
        "data.train_scenes=12",
        "data.relight=true",
        "optim.refine_steps=3",
        "optim.refine_keep=true",
        "optim.regress_steps=2",
        "optim.regress_mirror=true",
        "run.checkpoint_every=2",
        "run.log_every=1",
        "run.keep_last=5",
    ];
    let with = |extra: &'static str| {
        let mut o = keep.to_vec();
        o.push(extra);
        o
    };
    train(&options(&straight, &with("run.steps=8"), false)).unwrap();
    train(&options(&split, &with("run.steps=4"), false)).unwrap();
    let resume = || {
        train(&TrainOptions {
            config: None,
            ..options(&split, &["run.steps=8"], true)
        })
    };
    let latest = list_checkpoints(&split.join("checkpoints"))
        .unwrap()
        .pop()
        .unwrap()
        .dir;
    let targets = latest.join("refined-targets.bin");
    let saved = std::fs::read(&targets).unwrap();
    std::fs::remove_file(&targets).unwrap();
    let err = resume().unwrap_err().to_string();
    assert!(
        err.starts_with(&targets.display().to_string()),
        "{err} should name {}",
        targets.display()
    );
    std::fs::write(&targets, saved).unwrap();
    resume().unwrap();
    let logged = assert_identical_metrics(&straight, &split, 8);
    for x in &logged {
        assert!(x.losses.refine > 0.0, "step {}", x.step);
    }
    assert!(
        logged.iter().any(|x| x.losses.regress > 0.0),
        "the regress steps met kept targets"
    );
    let read = |run: &Path| {
        let dir = list_checkpoints(&run.join("checkpoints"))
            .unwrap()
            .pop()
            .unwrap()
            .dir;
        std::fs::read(dir.join("refined-targets.bin")).unwrap()
    };
    assert_eq!(read(&straight), read(&split), "the kept maps are identical");
    assert!(
        straight.join("samples/targets-step-00000008.png").is_file(),
        "the final samples show the kept targets"
    );
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn resume_is_bit_exact() {
    let dir = scratch("resume");
    let (straight, split) = (dir.join("straight"), dir.join("split"));
    let s = train(&options(
        &straight,
        &["run.steps=8", "run.checkpoint_every=3", "run.log_every=1"],
        false,
    ))
    .unwrap();
    assert_eq!(s.steps, 8);
    train(&options(
        &split,
        &["run.steps=4", "run.checkpoint_every=3", "run.log_every=1"],
        false,
    ))
    .unwrap();
    // Resume reads the run's own config.toml; only the length changes.
    let r = train(&TrainOptions {
        config: None,
        ..options(&split, &["run.steps=8"], true)
    })
    .unwrap();
    assert_eq!(r.steps, 8);
    assert_identical_metrics(&straight, &split, 8);
    assert_eq!(s.final_mse_depth, r.final_mse_depth);
    // Changing anything but the length on resume is refused, naming the key.
    let err = train(&TrainOptions {
        config: None,
        ..options(&split, &["optim.lr=0.1"], true)
    })
    .unwrap_err();
    assert_eq!(
        err.to_string(),
        "optim.lr = 0.1: cannot be changed when resuming (only run.steps, run.threads, run.device)"
    );
    // Starting a new run over an existing one is refused too.
    let err = train(&options(&split, &[], false)).unwrap_err().to_string();
    assert!(
        err.ends_with("already holds a run; pass --resume to continue it or choose another --out"),
        "{err}"
    );
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn nan_loss_stops_the_run_and_keeps_the_last_checkpoint() {
    let dir = scratch("nan");
    let err = train(&TrainOptions {
        nan_at_step: Some(7),
        ..options(&dir, &["run.steps=10", "run.checkpoint_every=5"], false)
    })
    .unwrap_err();
    let ckpt = dir.join("checkpoints").join("step-00000005");
    assert!(matches!(err, Error::NonFinite { step: 7, .. }), "{err:?}");
    assert_eq!(
        err.to_string(),
        format!(
            "loss `adversarial` is NaN at step 7; stopped, last good checkpoint: {}",
            ckpt.display()
        )
    );
    let kept = list_checkpoints(&dir.join("checkpoints")).unwrap();
    assert_eq!(kept.len(), 1);
    assert_eq!(kept[0].state.step, 5);
    // The checkpoint is intact: it loads, and its weights are finite.
    let preset = tiny(&[]);
    let (mut trainer, batch, _) = trainer_and_batch(&preset);
    trainer.load_checkpoint(&ckpt).unwrap();
    let (_, depth) = trainer.reconstruct(&batch);
    let depth: Vec<f32> = depth.into_data().try_to_vec::<f32>().unwrap();
    assert!(depth.iter().all(|d| d.is_finite()));
    // No line was logged for the failed step.
    let steps: Vec<u64> = read_metrics(&dir.join("metrics.jsonl"))
        .unwrap()
        .iter()
        .map(|r| r.step)
        .collect();
    assert_eq!(steps, [1, 2, 3, 4, 5, 6]);
    std::fs::remove_dir_all(&dir).unwrap();
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

#[test]
fn run_directory_holds_config_metrics_checkpoints_and_samples() {
    let dir = scratch("layout");
    let s = train(&options(&dir, &["run.steps=10", "run.eval_every=5"], false)).unwrap();
    assert!(s.final_mse_depth.is_some_and(f32::is_finite));
    let config = TrainPreset::load(&dir.join("config.toml"), &[]).unwrap();
    assert_eq!(config, tiny(&["run.steps=10", "run.eval_every=5"]));
    let metrics = read_metrics(&dir.join("metrics.jsonl")).unwrap();
    assert_eq!(metrics.len(), 10);
    let evaluated: Vec<u64> = metrics
        .iter()
        .filter(|m| m.held_out_mse_depth.is_some())
        .map(|m| m.step)
        .collect();
    assert_eq!(evaluated, [5, 10]);
    assert!(
        metrics
            .iter()
            .all(|m| m.losses.first_non_finite().is_none() && m.iters_per_s > 0.0)
    );
    let steps: Vec<u64> = list_checkpoints(&dir.join("checkpoints"))
        .unwrap()
        .iter()
        .map(|c| c.state.step)
        .collect();
    assert_eq!(steps, [5, 10]);
    assert!(dir.join("samples/step-00000010.png").is_file());
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn training_from_a_dataset_directory_streams_shards_and_resumes_exactly() {
    use pix2scene_scene::dataset::{ShardPart, WriteOptions, write_dataset};
    use pix2scene_scene::{Generator, GeneratorConfig, Preset};

    let dir = scratch("dataset");
    let data = dir.join("data");
    let generator = Generator::new(GeneratorConfig::new(Preset::Boxes, 32, 4)).unwrap();
    let write = WriteOptions {
        count: 30,
        part: ShardPart::ALL,
        records_per_shard: Some(7),
        force: false,
        previews: 0,
    };
    write_dataset(&generator, &data, &write, &|_| {}).unwrap();
    let data_key = format!("data.dir={}", data.display());
    let (straight, split) = (dir.join("straight"), dir.join("split"));
    // Kept refined targets too: a dataset's scenes are identified by record index.
    let common = [
        data_key.as_str(),
        "run.checkpoint_every=2",
        "run.log_every=1",
        "optim.refine_steps=2",
        "optim.refine_keep=true",
    ];
    let run = |out: &Path, steps: &str| {
        let mut o = common.to_vec();
        o.push(steps);
        train(&options(out, &o, false)).unwrap()
    };
    let s = run(&straight, "run.steps=4");
    assert!(s.final_mse_depth.is_some_and(f32::is_finite));
    run(&split, "run.steps=2");
    train(&TrainOptions {
        config: None,
        ..options(&split, &["run.steps=4"], true)
    })
    .unwrap();
    for x in assert_identical_metrics(&straight, &split, 4) {
        assert!(x.losses.refine > 0.0, "step {}", x.step);
    }
    // A dataset of another image size is refused, naming the key.
    let err = train(&options(
        &dir.join("wrong"),
        &[&data_key, "model.resolution=64"],
        false,
    ))
    .unwrap_err()
    .to_string();
    assert!(
        err.starts_with("data.dir = ")
            && err.ends_with("dataset images are 32², model.resolution is 64"),
        "{err}"
    );
    std::fs::remove_dir_all(&dir).unwrap();
}

/// Every float parameter of a module, in visiting order.
struct Parameters(Vec<Vec<f32>>);

impl ModuleVisitor for Parameters {
    fn visit_float<const D: usize>(&mut self, param: &Param<Tensor<D>>) {
        self.0
            .push(param.val().into_data().try_to_vec::<f32>().unwrap());
    }
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
        let mut weights = Parameters(Vec::new());
        t.nets.encoder.visit(&mut weights);
        t.nets.decoder.visit(&mut weights);
        t.critic.visit(&mut weights);
        weights.0
    })
}

/// Training computes the same bits on any number of threads (with the optional decoder coarse
/// heads too).
#[test]
fn training_steps_give_the_same_weights_on_any_thread_count() {
    for options in [
        &[][..],
        &["model.decoder_coarse_heads=2"][..],
    ] {
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
