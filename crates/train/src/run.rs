//! The training loop behind `pix2scene train`: run directory, data, logging, evaluation, sample
//! grids, checkpoints, resume, stopping on request and on a NaN loss.
//!
//! The loop draws nothing on the terminal and installs no signal handler: it reports to a
//! [`Progress`] observer and stops when its caller sets [`TrainOptions::stop`] (the `pix2scene`
//! binary does both, for its progress bar and Ctrl-C).

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Instant;

use pix2scene_scene::atomic_file::{is_temporary, write_atomic};

use crate::baselines::DepthBaselines;
use crate::batch::HostBatch;
use crate::checkpoint::{self, CHECKPOINT_FORMAT_VERSION, CheckpointState};
use crate::config::TrainPreset;
use crate::data::{Prefetcher, SceneSource};
use crate::device::{TrainDevice, init_threads};
use crate::error::{Error, Result};
use crate::metrics::{LossAverager, MetricsLog, MetricsRecord};
use crate::mirror;
use crate::progress::Progress;
use crate::run_lock::RunLock;
use crate::samples;
use crate::trainer::Trainer;

/// Training scenes the image-blind depth baselines average over.
const BASELINE_SCENES: usize = 512;

/// What `pix2scene train` was asked to do.
#[derive(Clone, Debug, Default)]
pub struct TrainOptions {
    /// Preset file (required for a new run; ignored with `resume`, which reads the run's
    /// `config.toml`).
    pub config: Option<PathBuf>,
    /// Run directory.
    pub out: PathBuf,
    /// `key=value` overrides, applied after the preset (see [`TrainPreset::with_overrides`]).
    /// With `resume`, only `run.steps`, `run.threads` and `run.device` may differ from the
    /// run's `config.toml` (see [`TrainPreset::resumed_with`]).
    pub overrides: Vec<String>,
    /// Continue the run in `out` from its newest checkpoint.
    pub resume: bool,
    /// Set by the caller (e.g. on Ctrl-C) to stop the run: the loop finishes the iteration it
    /// is in, saves a checkpoint and that step's sample grids, and returns a summary with
    /// `interrupted` set.
    pub stop: Arc<AtomicBool>,
    /// Test hook for the failure paths, set only by tests (no preset key or flag reaches it):
    /// the real images of this 1-based step's encoder/decoder batch become NaN, so that the
    /// step's loss is NaN and the run must stop cleanly. `None` in every real run.
    pub nan_at_step: Option<u64>,
}

/// How a run ended.
#[derive(Clone, Debug, PartialEq)]
pub struct TrainSummary {
    /// The run directory.
    pub run_dir: PathBuf,
    /// Iterations completed.
    pub steps: u64,
    /// Held-out depth MSE of the final weights.
    pub final_mse_depth: Option<f32>,
    /// Best held-out depth MSE among the kept checkpoints, and its checkpoint.
    pub best: Option<(f32, PathBuf)>,
    /// Whether [`TrainOptions::stop`] stopped the run early (after saving a checkpoint).
    pub interrupted: bool,
    /// Held-out depth MSE of image-blind predictors, for scale (also in `RUN/baselines.json`).
    pub baselines: DepthBaselines,
}

/// Runs (or resumes) training as described by `options`, reporting to `progress` (`&mut ()`
/// reports nothing).
///
/// Run directory layout: `config.toml` (the resolved preset), `baselines.json` (see
/// [`DepthBaselines`]), `metrics.jsonl`, `checkpoints/step-NNNNNNNN/`,
/// `samples/step-NNNNNNNN.png`, `train.lock` ([`RunLock`], held while the run trains).
///
/// Resuming loads the newest checkpoint that verifies (see [`checkpoint::verify`]); damaged
/// newer ones are reported through [`Progress::warning`] and removed.
///
/// # Errors
/// Bad preset or overrides (on resume, an override that changes the run's configuration
/// beyond its length, threads and device), an existing run without `resume` (or a missing one
/// with it), a run directory in use by another process, a damaged `config.toml` or
/// `metrics.jsonl` (naming the file and line), no usable checkpoint to resume from, I/O errors
/// naming the file (a full disk: the newest complete checkpoint is left untouched), and
/// [`Error::NonFinite`] when a loss becomes NaN or infinite (the newest checkpoint is left
/// untouched).
pub fn train(options: &TrainOptions, progress: &mut dyn Progress) -> Result<TrainSummary> {
    let out = &options.out;
    let config_path = out.join("config.toml");
    let (preset, _lock) = if options.resume {
        let lock = claim_run_dir(out, true)?;
        let preset = TrainPreset::load(&config_path, &[])
            .map_err(|e| in_file(e, &config_path))?
            .resumed_with(&options.overrides)?;
        (preset, lock)
    } else {
        let path = options.config.as_ref().ok_or_else(|| Error::InvalidValue {
            key: "--config".into(),
            value: String::new(),
            message: "a new run needs a preset file".into(),
        })?;
        let preset = TrainPreset::load(path, &options.overrides)?;
        (preset, claim_run_dir(out, false)?)
    };
    remove_temporaries(&out.join("samples"))?;
    write_atomic(&config_path, preset.to_toml().as_bytes())?;
    init_threads(preset.run.threads);
    // The loop runs on a thread of rayon's pool, so the parallel operations it starts share
    // the work with it instead of waking the pool from outside and waiting.
    rayon::scope(|_| train_on_pool(options, preset, progress))
}

/// Takes run directory `out` for training, returning its lock (held until dropped): for a
/// `resume`, an existing run (one with a `config.toml`); otherwise a new or empty directory,
/// created if missing. Removes what writes killed half way left in `checkpoints/`.
///
/// # Errors
/// [`Error::Checkpoint`] for a directory that is not a run (on resume), already holds one
/// (otherwise) or is in use by another process ([`RunLock`]), and I/O errors naming the file.
pub(crate) fn claim_run_dir(out: &Path, resume: bool) -> Result<RunLock> {
    let checkpoints = out.join("checkpoints");
    let lock = if resume {
        if !out.join("config.toml").is_file() {
            return Err(Error::Checkpoint {
                path: out.to_path_buf(),
                message: "no config.toml: not a run directory".into(),
            });
        }
        RunLock::acquire(out)?
    } else {
        std::fs::create_dir_all(out).map_err(Error::io(out))?;
        let lock = RunLock::acquire(out)?;
        if !checkpoint::checkpoint_dirs(&checkpoints)?.is_empty() {
            return Err(Error::Checkpoint {
                path: out.to_path_buf(),
                message:
                    "already holds a run; pass --resume to continue it or choose another --out"
                        .into(),
            });
        }
        lock
    };
    checkpoint::remove_leftovers(&checkpoints)?;
    Ok(lock)
}

/// A configuration error of a run's own `config.toml` (a value out of range after someone
/// edited or damaged it), reported as an error of that file.
pub(crate) fn in_file(e: Error, path: &Path) -> Error {
    match e {
        Error::InvalidValue {
            key,
            value,
            message,
        } => Error::Preset {
            path: path.to_path_buf(),
            line: None,
            message: format!("{key} = {value}: {message}"),
        },
        other => other,
    }
}

/// Removes the temporary files that writes killed half way left in `dir` (a run's `samples/`),
/// if it exists.
///
/// # Errors
/// [`Error::Io`] naming the file.
fn remove_temporaries(dir: &Path) -> Result<()> {
    if !dir.is_dir() {
        return Ok(());
    }
    for entry in std::fs::read_dir(dir).map_err(Error::io(dir))? {
        let path = entry.map_err(Error::io(dir))?.path();
        if is_temporary(&path) && path.is_file() {
            std::fs::remove_file(&path).map_err(Error::io(&path))?;
        }
    }
    Ok(())
}

/// Loads the newest checkpoint of `checkpoints` that verifies with `load` (which verifies a
/// checkpoint directory and loads it, see [`Trainer::load_checkpoint`]), falling back past
/// damaged ones: each one skipped is reported to `progress` in one line naming it and why, and
/// removed (the resumed run writes its step again). Then prunes to `keep_last` as a save
/// does, so that a run killed between writing a checkpoint and pruning (after its last one,
/// say) keeps what an uninterrupted run keeps. Returns the loaded checkpoint's state.
///
/// # Errors
/// [`Error::Checkpoint`] when no checkpoint loads (naming why the newest did not), and any
/// other error of loading (an unreadable file) at once.
pub(crate) fn resume_from(
    checkpoints: &Path,
    keep_last: usize,
    progress: &mut dyn Progress,
    mut load: impl FnMut(&Path) -> Result<CheckpointState>,
) -> Result<CheckpointState> {
    let mut skipped: Vec<(PathBuf, Error)> = Vec::new();
    for (_, dir) in checkpoint::checkpoint_dirs(checkpoints)?.into_iter().rev() {
        match load(&dir) {
            Ok(state) => {
                for (bad, why) in skipped {
                    progress.warning(&format!(
                        "skipped damaged checkpoint {} ({why}); removed it and resumed from {}",
                        bad.display(),
                        dir.display()
                    ));
                    checkpoint::discard(&bad)?;
                }
                checkpoint::prune(checkpoints, keep_last)?;
                return Ok(state);
            }
            Err(why @ (Error::Checkpoint { .. } | Error::Malformed { .. })) => {
                skipped.push((dir, why));
            }
            Err(other) => return Err(other),
        }
    }
    Err(Error::Checkpoint {
        path: checkpoints.to_path_buf(),
        message: match skipped.first() {
            None => "no checkpoint to resume from".into(),
            Some((_, why)) => format!(
                "no usable checkpoint to resume from ({} damaged; the newest: {why})",
                skipped.len()
            ),
        },
    })
}

/// The body of [`train`] once the preset is resolved and the run directory exists.
fn train_on_pool(
    options: &TrainOptions,
    preset: TrainPreset,
    progress: &mut dyn Progress,
) -> Result<TrainSummary> {
    let out = &options.out;
    let checkpoints = out.join("checkpoints");
    let device = TrainDevice::parse(&preset.run.device)?.autodiff_device();

    let size = preset.model.resolution;
    let source = SceneSource::open(&preset.data, size)?;
    if preset.optim.regress_mirror {
        mirror::check_symmetric(source.generator_config())?;
    }
    source.check_classes(preset.model.num_classes)?;
    let renderer = source.renderer_config(size);
    let mut trainer = Trainer::new(&preset, renderer, &device);

    let mut start = 0;
    let mut window = LossAverager::default();
    if options.resume {
        let state = resume_from(&checkpoints, preset.run.keep_last, progress, |dir| {
            trainer.load_checkpoint(dir)
        })?;
        start = state.step;
        window = state.loss_window;
    }
    // The step of the newest checkpoint on disk, so that a stop right after one does not write
    // it again.
    let mut saved = options.resume.then_some(start);
    let mut log = MetricsLog::open(&out.join("metrics.jsonl"), start)?;

    let batch = preset.optim.batch;
    let held_out: Vec<HostBatch> = source
        .held_out(preset.data.held_out)?
        .chunks(batch)
        .map(|chunk| HostBatch::from_samples(chunk, size))
        .collect::<Result<_>>()?;
    let baselines = DepthBaselines::measure(&source, &held_out, BASELINE_SCENES, batch)?;
    baselines.write(&out.join("baselines.json"))?;
    let per_iter = preset.optim.critic_steps as u64 + 1;
    let mut prefetch = Prefetcher::start(
        source,
        size,
        batch,
        start * per_iter,
        preset.data.workers,
        preset.data.prefetch,
    );

    let total = preset.run.steps;
    progress.started(start, total);
    let began = Instant::now();
    let mut window_start = (Instant::now(), start);
    let mut final_mse = None;
    let mut step = start;
    let mut interrupted = false;
    // The last encoder/decoder batch, whose kept targets were just refined (`refine_keep`).
    let mut last_refined: Option<HostBatch> = None;
    while step < total {
        if options.stop.load(Ordering::Relaxed) {
            interrupted = true;
            break;
        }
        let mut batches = Vec::with_capacity(per_iter as usize);
        for j in 0..per_iter {
            let mut host = prefetch.next_batch()?;
            if options.nan_at_step == Some(step + 1) && j + 1 == per_iter {
                host.image.fill(f32::NAN);
            }
            batches.push(trainer.upload(&host));
            if j + 1 == per_iter && trainer.targets.is_some() {
                last_refined = Some(host);
            }
        }
        let losses = match trainer.iteration(&batches, step) {
            Ok(l) => l,
            Err(Error::NonFinite {
                loss, value, step, ..
            }) => {
                let checkpoint = checkpoint::list_checkpoints(&checkpoints)?
                    .pop()
                    .map(|c| c.dir);
                return Err(Error::NonFinite {
                    loss,
                    value,
                    step,
                    checkpoint,
                });
            }
            Err(e) => return Err(e),
        };
        window.push(&losses);
        step += 1;

        let is_final = step == total;
        let scheduled = step.is_multiple_of(preset.run.checkpoint_every)
            || step.is_multiple_of(preset.run.eval_every);
        let checkpoint_now = step.is_multiple_of(preset.run.checkpoint_every) || is_final;
        let depth = (scheduled || is_final).then(|| trainer.held_out_depth(&held_out));
        let mse = depth.map(|d| d.mse);
        if let Some(depth) = &depth {
            progress.evaluated(step, depth);
        }
        // Only scheduled evaluations go into metrics.jsonl, so that a run cut short and resumed
        // logs exactly what an uninterrupted one does.
        let logged = if scheduled { depth } else { None };
        if step.is_multiple_of(preset.run.log_every) || is_final {
            let (t0, s0) = window_start;
            let secs = t0.elapsed().as_secs_f32();
            log.write(&MetricsRecord {
                step,
                losses: window.take(),
                held_out_mse_depth: logged.map(|d| d.mse),
                held_out_mse_depth_scaled: logged.map(|d| d.mse_scaled),
                held_out_depth_ratio: logged.map(|d| d.ratio),
                iters_per_s: (step - s0) as f32 / secs.max(1e-9),
                elapsed_s: began.elapsed().as_secs_f32(),
            })?;
            window_start = (Instant::now(), step);
        }
        if preset.run.sample_every > 0 && (step.is_multiple_of(preset.run.sample_every) || is_final)
        {
            samples::write_grids(&trainer, &held_out[0], last_refined.as_ref(), out, step)?;
        }
        if checkpoint_now {
            save(&trainer, &checkpoints, step, mse, &window)?;
            saved = Some(step);
        }
        if is_final {
            final_mse = mse;
        }
        progress.step_done(step, &losses);
    }
    drop(prefetch);
    if interrupted {
        let mse = trainer.held_out_depth(&held_out).mse;
        if saved != Some(step) {
            save(&trainer, &checkpoints, step, Some(mse), &window)?;
        }
        if preset.run.sample_every > 0 && !step.is_multiple_of(preset.run.sample_every) {
            samples::write_grids(&trainer, &held_out[0], last_refined.as_ref(), out, step)?;
        }
        final_mse = Some(mse);
    }
    let all = checkpoint::list_checkpoints(&checkpoints)?;
    let best = checkpoint::best_of(&all)
        .and_then(|c| c.state.held_out_mse_depth.map(|m| (m, c.dir.clone())));
    progress.finished(step, interrupted);
    Ok(TrainSummary {
        run_dir: out.clone(),
        steps: step,
        final_mse_depth: final_mse,
        best,
        interrupted,
        baselines,
    })
}

/// Saves a checkpoint of `trainer` after `step` iterations, with its held-out MSE and the
/// loss window not yet logged.
fn save(
    trainer: &Trainer,
    checkpoints: &Path,
    step: u64,
    mse: Option<f32>,
    window: &LossAverager,
) -> Result<PathBuf> {
    let state = CheckpointState {
        format_version: CHECKPOINT_FORMAT_VERSION,
        step,
        held_out_mse_depth: mse,
        loss_window: window.clone(),
    };
    trainer.save_checkpoint(checkpoints, &state, trainer.preset.run.keep_last)
}
