//! Training end to end on `configs/tiny-32.toml`, one module per subject: the steps (learning,
//! determinism, checkpoint round trips), the refinement options, whole runs (exact resume, NaN
//! handling, datasets), damaged run directories, and the paper's options (class conditioning,
//! random lights).

mod damage;
mod paper_options;
mod refinement;
mod runs;
mod steps;

use std::path::{Path, PathBuf};

use burn::tensor::{Device, Tensor, TensorData};
use pix2scene_train::batch::{DeviceBatch, HostBatch};
use pix2scene_train::checkpoint::{CHECKPOINT_FORMAT_VERSION, CheckpointState, list_checkpoints};
use pix2scene_train::data::SceneSource;
use pix2scene_train::floor::Floor;
use pix2scene_train::median::median3_keep_scale;
use pix2scene_train::metrics::{MetricsRecord, read_metrics};
use pix2scene_train::mirror::mirrored;
use pix2scene_train::noise::IterationNoise;
use pix2scene_train::refine::RefineBatch;
use pix2scene_train::shards::ShardCache;
use pix2scene_train::{Error, TrainOptions, TrainPreset, TrainSummary, Trainer, train};

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

/// Copies the files of a directory tree.
fn copy_tree(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let path = entry.unwrap().path();
        let target = to.join(path.file_name().unwrap());
        if path.is_dir() {
            copy_tree(&path, &target);
        } else {
            std::fs::copy(&path, &target).unwrap();
        }
    }
}

/// A new `tiny-32` run into `out` with `overrides`.
fn options(out: &Path, overrides: &[&str]) -> TrainOptions {
    TrainOptions {
        config: Some(tiny_path()),
        out: out.to_path_buf(),
        overrides: overrides.iter().map(|s| s.to_string()).collect(),
        ..TrainOptions::default()
    }
}

/// Trains a new `tiny-32` run into `out` with `overrides`.
fn start(out: &Path, overrides: &[&str]) -> pix2scene_train::Result<TrainSummary> {
    train(&options(out, overrides), &mut ())
}

/// Resumes the run in `out` from its own `config.toml`, with `overrides`.
fn resume(out: &Path, overrides: &[&str]) -> pix2scene_train::Result<TrainSummary> {
    let options = TrainOptions {
        out: out.to_path_buf(),
        overrides: overrides.iter().map(|s| s.to_string()).collect(),
        resume: true,
        ..TrainOptions::default()
    };
    train(&options, &mut ())
}

/// A [`pix2scene_train::Progress`] that keeps the warnings.
#[derive(Default)]
struct Warnings(Vec<String>);

impl pix2scene_train::Progress for Warnings {
    fn warning(&mut self, message: &str) {
        self.0.push(message.to_string());
    }
}

/// Resumes the run in `out` as [`resume`] does and returns the warnings it reported.
fn resume_warned(out: &Path, overrides: &[&str]) -> Vec<String> {
    let options = TrainOptions {
        out: out.to_path_buf(),
        overrides: overrides.iter().map(|s| s.to_string()).collect(),
        resume: true,
        ..TrainOptions::default()
    };
    let mut warnings = Warnings::default();
    train(&options, &mut warnings).unwrap();
    warnings.0
}

/// Asserts that `warnings` is exactly the one line `--resume` prints when it skips checkpoint
/// `skipped` because of the damaged file `file` and resumes from checkpoint `resumed`.
fn assert_one_fallback_warning(warnings: &[String], skipped: &Path, file: &Path, resumed: &Path) {
    assert_eq!(warnings.len(), 1, "{warnings:?}");
    assert!(
        warnings[0].starts_with(&format!(
            "skipped damaged checkpoint {} ({}: checksum mismatch (blake3 expected ",
            skipped.display(),
            file.display()
        )) && warnings[0].ends_with(&format!(
            "): the file is altered or truncated); removed it and resumed from {}",
            resumed.display()
        )),
        "{warnings:?}"
    );
}

/// Flips the lowest bit of byte `at` of the file at `path`.
fn flip_bit(path: &Path, at: usize) {
    let mut bytes = std::fs::read(path).unwrap();
    bytes[at] ^= 1;
    std::fs::write(path, bytes).unwrap();
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
    let trainer = Trainer::new(preset, source.renderer_config(size), device);
    let batch = DeviceBatch::from_host(&host, 0, device);
    (trainer, batch, host)
}
