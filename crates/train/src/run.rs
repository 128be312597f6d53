//! The training loop behind `pix2scene train`: run directory, data, logging, evaluation, sample
//! grids, checkpoints, resume, Ctrl-C and NaN handling.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Instant;

use indicatif::{ProgressBar, ProgressStyle};
use pix2scene_render::RendererConfig;

use crate::baselines::DepthBaselines;
use crate::checkpoint::{self, CHECKPOINT_FORMAT_VERSION, CheckpointState};
use crate::config::TrainPreset;
use crate::data::{HostBatch, Prefetcher, SceneSource};
use crate::device::{TrainDevice, init_threads};
use crate::error::{Error, Result};
use crate::grid::{TileGrid, chw_to_hwc, depth_tile, normal_tile};
use crate::metrics::{LossAverager, MetricsLog, MetricsRecord};
use crate::mirror;
use crate::trainer::{Trainer, tensor};

/// Training scenes the image-blind depth baselines average over.
const BASELINE_SCENES: usize = 512;

/// Keys that `--set` may change when resuming; everything else is fixed by the run's
/// `config.toml` so that the continuation is exact.
const RESUMABLE_KEYS: [&str; 3] = ["run.steps", "run.threads", "run.device"];

/// What `pix2scene train` was asked to do.
#[derive(Clone, Debug, Default)]
pub struct TrainOptions {
    /// Preset file (required for a new run; ignored with `resume`, which reads the run's
    /// `config.toml`).
    pub config: Option<PathBuf>,
    /// Run directory.
    pub out: PathBuf,
    /// `key=value` overrides, applied after the preset (see [`TrainPreset::with_overrides`]).
    pub overrides: Vec<String>,
    /// Continue the run in `out` from its newest checkpoint.
    pub resume: bool,
    /// Show a progress bar (it stays hidden anyway when stderr is not a terminal).
    pub progress: bool,
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
    /// Whether Ctrl-C stopped the run early (after saving a checkpoint).
    pub interrupted: bool,
    /// Held-out depth MSE of image-blind predictors, for scale (also in `RUN/baselines.json`).
    pub baselines: DepthBaselines,
}

/// Runs (or resumes) training as described by `options`.
///
/// Run directory layout: `config.toml` (the resolved preset), `baselines.json` (see
/// [`DepthBaselines`]), `metrics.jsonl`,
/// `checkpoints/step-NNNNNNNN/`, `samples/step-NNNNNNNN.png`.
///
/// # Errors
/// Bad preset or overrides, an existing run without `resume` (or a missing one with it), I/O
/// errors naming the file, and [`Error::NonFinite`] when a loss becomes NaN or infinite (the
/// newest checkpoint is left untouched).
pub fn train(options: &TrainOptions) -> Result<TrainSummary> {
    let out = &options.out;
    let config_path = out.join("config.toml");
    let checkpoints = out.join("checkpoints");
    let preset = if options.resume {
        for arg in &options.overrides {
            let key = arg.split_once('=').map_or(arg.as_str(), |(k, _)| k.trim());
            if !RESUMABLE_KEYS.contains(&key) {
                return Err(Error::InvalidValue {
                    key: key.into(),
                    value: arg.split_once('=').map_or("", |(_, v)| v).trim().into(),
                    message: format!(
                        "cannot be changed when resuming (only {})",
                        RESUMABLE_KEYS.join(", ")
                    ),
                });
            }
        }
        if !config_path.is_file() {
            return Err(Error::Checkpoint {
                path: out.clone(),
                message: "no config.toml: not a run directory".into(),
            });
        }
        TrainPreset::load(&config_path, &options.overrides)?
    } else {
        let path = options.config.as_ref().ok_or_else(|| Error::InvalidValue {
            key: "--config".into(),
            value: String::new(),
            message: "a new run needs a preset file".into(),
        })?;
        if !checkpoint::list_checkpoints(&checkpoints)?.is_empty() {
            return Err(Error::Checkpoint {
                path: out.clone(),
                message:
                    "already holds a run; pass --resume to continue it or choose another --out"
                        .into(),
            });
        }
        TrainPreset::load(path, &options.overrides)?
    };
    std::fs::create_dir_all(out).map_err(Error::io(out))?;
    checkpoint::write_atomic(&config_path, preset.to_toml().as_bytes())?;
    init_threads(preset.run.threads);
    // The loop runs on a thread of rayon's pool, so the parallel operations it starts share
    // the work with it instead of waking the pool from outside and waiting.
    rayon::scope(|_| train_on_pool(options, preset))
}

/// The body of [`train`] once the preset is resolved and the run directory exists.
fn train_on_pool(options: &TrainOptions, preset: TrainPreset) -> Result<TrainSummary> {
    let out = &options.out;
    let checkpoints = out.join("checkpoints");
    let device = TrainDevice::parse(&preset.run.device)?.autodiff_device();

    let size = preset.model.resolution;
    let source = SceneSource::open(&preset.data, size)?;
    if preset.optim.regress_mirror {
        mirror::check_symmetric(source.generator_config())?;
    }
    let renderer = renderer_config(&source, size);
    let mut trainer = Trainer::new(&preset, renderer, &device);

    let mut start = 0;
    let mut window = LossAverager::default();
    if options.resume {
        let latest = checkpoint::list_checkpoints(&checkpoints)?
            .pop()
            .ok_or_else(|| Error::Checkpoint {
                path: checkpoints.clone(),
                message: "no checkpoint to resume from".into(),
            })?;
        let state = trainer.load_checkpoint(&latest.dir)?;
        start = state.step;
        window = state.loss_window;
    }
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

    let interrupt = interrupt_flag();
    let total = preset.run.steps;
    let bar = progress_bar(options.progress, start, total);
    let began = Instant::now();
    let mut window_start = (Instant::now(), start);
    let mut final_mse = None;
    let mut last_depth = None;
    let mut step = start;
    let mut interrupted = false;
    // The last encoder/decoder batch, whose kept targets were just refined (`refine_keep`).
    let mut last_refined: Option<HostBatch> = None;
    while step < total {
        if interrupt.load(Ordering::Relaxed) {
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
                bar.abandon();
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
        if depth.is_some() {
            last_depth = depth;
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
            write_grids(&trainer, &held_out[0], last_refined.as_ref(), out, step)?;
        }
        if checkpoint_now {
            save(&trainer, &checkpoints, step, mse, &window)?;
        }
        if is_final {
            final_mse = mse;
        }
        bar.set_position(step);
        bar.set_message(format!(
            "recon_x {:.4}  recon_z {:.3}  W {:.3}{}",
            losses.recon_x,
            losses.recon_z,
            losses.wasserstein,
            last_depth
                .map(|d| format!(
                    "  held-out MSE {:.4} (best scale {:.4}, depth ratio {:.2})",
                    d.mse, d.mse_scaled, d.ratio
                ))
                .unwrap_or_default()
        ));
    }
    drop(prefetch);
    if interrupted {
        let mse = trainer.held_out_depth(&held_out).mse;
        save(&trainer, &checkpoints, step, Some(mse), &window)?;
        if preset.run.sample_every > 0 && !step.is_multiple_of(preset.run.sample_every) {
            write_grids(&trainer, &held_out[0], last_refined.as_ref(), out, step)?;
        }
        final_mse = Some(mse);
        bar.abandon_with_message(format!("interrupted at step {step}; checkpoint saved"));
    } else {
        bar.finish();
    }
    let all = checkpoint::list_checkpoints(&checkpoints)?;
    let best = checkpoint::best_of(&all)
        .and_then(|c| c.state.held_out_mse_depth.map(|m| (m, c.dir.clone())));
    Ok(TrainSummary {
        run_dir: out.clone(),
        steps: step,
        final_mse_depth: final_mse,
        best,
        interrupted,
        baselines,
    })
}

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

/// The renderer matching the data: the generator's (or dataset's) shading constants and field of
/// view, so that generated and real images are shaded alike.
pub fn renderer_config(source: &SceneSource, size: usize) -> RendererConfig {
    let config = source.generator_config();
    RendererConfig::from_shading(size, &config.shading).with_fov_y_deg(config.camera.fov_y_deg)
}

/// A process-wide Ctrl-C flag: the first Ctrl-C asks the loop to save and stop, a second one
/// exits at once.
fn interrupt_flag() -> Arc<AtomicBool> {
    static FLAG: std::sync::OnceLock<Arc<AtomicBool>> = std::sync::OnceLock::new();
    let flag = FLAG.get_or_init(|| {
        let flag = Arc::new(AtomicBool::new(false));
        for signal in [signal_hook::consts::SIGINT, signal_hook::consts::SIGTERM] {
            // Registration only fails for forbidden signals, which these are not; without a
            // handler Ctrl-C still stops the process (losing only the unsaved steps).
            let _ = signal_hook::flag::register_conditional_shutdown(signal, 130, flag.clone());
            let _ = signal_hook::flag::register(signal, flag.clone());
        }
        flag
    });
    flag.store(false, Ordering::Relaxed);
    flag.clone()
}

fn progress_bar(enabled: bool, start: u64, total: u64) -> ProgressBar {
    if !enabled {
        return ProgressBar::hidden();
    }
    let bar = ProgressBar::new(total).with_position(start);
    let style = ProgressStyle::with_template("{bar:30} {pos}/{len} {per_sec} ETA {eta}  {msg}")
        .expect("valid template");
    bar.set_style(style);
    bar.reset_eta();
    bar
}

/// The validity mask of scene `i` of a batch, as the tile functions take it.
fn row_mask(batch: &HostBatch, i: usize) -> Vec<u8> {
    let p = batch.size * batch.size;
    batch.mask[i * p..(i + 1) * p]
        .iter()
        .map(|&m| u8::from(m > 0.0))
        .collect()
}

/// Writes the sample grids of `step` into `RUN/samples/`: [`write_samples`] of the held-out
/// batch and, for a run that keeps refined targets, [`write_targets`] of the last refined one.
fn write_grids(
    trainer: &Trainer,
    held_out: &HostBatch,
    refined: Option<&HostBatch>,
    out: &Path,
    step: u64,
) -> Result<()> {
    let dir = out.join("samples");
    write_samples(trainer, held_out, &dir, step)?;
    if let Some(b) = refined {
        write_targets(trainer, b, &dir, step)?;
    }
    Ok(())
}

/// Writes `samples/targets-step-NNNNNNNN.png` for a run that keeps refined targets: one row per
/// scene of the last encoder/decoder batch (training scenes) with input | ground-truth depth |
/// kept refined depth | reconstructed depth | ground-truth normals | refined normals |
/// reconstructed normals. Each depth tile is coloured over its joint range with the ground
/// truth.
fn write_targets(trainer: &Trainer, batch: &HostBatch, dir: &Path, step: u64) -> Result<()> {
    let Some(kept) = &trainer.targets else {
        return Ok(());
    };
    std::fs::create_dir_all(dir).map_err(Error::io(dir))?;
    let device = trainer.device().clone().inner();
    let (n, s) = (batch.batch, batch.size);
    let (p, p3) = (s * s, s * s * 3);
    let db = trainer.upload(batch);
    let (lp, lc) = (db.light_pos.clone().inner(), db.light_color.clone().inner());
    let (_, depth) = trainer.reconstruct(&db);
    let host = |t: burn::tensor::Tensor<4>| t.into_data().try_to_vec::<f32>().expect("f32");
    let rec_depth = depth.clone().into_data().try_to_vec::<f32>().expect("f32");
    let refined = kept.starts(&batch.scene, &rec_depth);
    let rec = trainer.renderer().forward(depth, lp.clone(), lc.clone());
    let target_render = trainer
        .renderer()
        .forward(tensor(&refined, [n, s, s], &device), lp, lc);
    let (input, rec_normal, target_normal) = (
        host(db.image.inner()),
        host(rec.normals),
        host(target_render.normals),
    );
    let all_valid = vec![1u8; p];
    let mut grid = TileGrid::new(n, 7, s);
    for i in 0..n {
        let mask = row_mask(batch, i);
        let (px, px3) = (i * p..(i + 1) * p, i * p3..(i + 1) * p3);
        let truth = &batch.depth[px.clone()];
        grid.put(i, 0, &chw_to_hwc(&input[px3.clone()], s));
        grid.put(i, 1, &depth_tile(truth, truth, &mask));
        grid.put(i, 2, &depth_tile(&refined[px.clone()], truth, &mask));
        grid.put(i, 3, &depth_tile(&rec_depth[px], truth, &mask));
        grid.put(i, 4, &normal_tile(&batch.normal[px3.clone()], &mask));
        grid.put(i, 5, &normal_tile(&target_normal[px3.clone()], &all_valid));
        grid.put(i, 6, &normal_tile(&rec_normal[px3], &all_valid));
    }
    let name = format!("targets-{}.png", checkpoint::checkpoint_name(step));
    grid.write_png(&dir.join(name))
}

/// Writes `samples/step-NNNNNNNN.png`: one row per held-out scene with input (as the encoder
/// sees it) | reconstruction | ground-truth depth | reconstructed depth | ground-truth normals |
/// reconstructed normals | random sample G(z) | its depth | its normals (same camera and
/// lights).
fn write_samples(trainer: &Trainer, batch: &HostBatch, dir: &Path, step: u64) -> Result<()> {
    std::fs::create_dir_all(dir).map_err(Error::io(dir))?;
    let device = trainer.device().clone().inner();
    let (n, s) = (batch.batch, batch.size);
    let db = trainer.upload(batch);
    let (lp, lc) = (db.light_pos.clone().inner(), db.light_color.clone().inner());
    let (_, depth) = trainer.reconstruct(&db);
    let rec = trainer
        .renderer()
        .forward(depth.clone(), lp.clone(), lc.clone());
    let z = crate::trainer::IterationNoise::draw(&trainer.preset, u64::MAX - step).generator_z;
    let z = tensor(&z, [n, trainer.preset.model.z_dim], &device);
    let gen_depth = trainer.decode(z, &db);
    let generated = trainer.renderer().forward(gen_depth.clone(), lp, lc);
    let host = |t: burn::tensor::Tensor<4>| t.into_data().try_to_vec::<f32>().expect("f32");
    let host3 = |t: burn::tensor::Tensor<3>| t.into_data().try_to_vec::<f32>().expect("f32");
    let input = host(db.image.inner());
    let (rec_img, rec_normal, rec_depth) = (host(rec.image), host(rec.normals), host3(depth));
    let (gen_img, gen_normal, gen_depth) = (
        host(generated.image),
        host(generated.normals),
        host3(gen_depth),
    );
    let (p, p3) = (s * s, s * s * 3);
    let all_valid = vec![1u8; p];
    let mut grid = TileGrid::new(n, 9, s);
    for i in 0..n {
        let mask = row_mask(batch, i);
        let gt_depth = &batch.depth[i * p..(i + 1) * p];
        grid.put(i, 0, &chw_to_hwc(&input[i * p3..(i + 1) * p3], s));
        grid.put(i, 1, &chw_to_hwc(&rec_img[i * p3..(i + 1) * p3], s));
        grid.put(
            i,
            2,
            &depth_tile(gt_depth, &rec_depth[i * p..(i + 1) * p], &mask),
        );
        grid.put(
            i,
            3,
            &depth_tile(&rec_depth[i * p..(i + 1) * p], gt_depth, &mask),
        );
        grid.put(
            i,
            4,
            &normal_tile(&batch.normal[i * p3..(i + 1) * p3], &mask),
        );
        grid.put(
            i,
            5,
            &normal_tile(&rec_normal[i * p3..(i + 1) * p3], &all_valid),
        );
        grid.put(i, 6, &chw_to_hwc(&gen_img[i * p3..(i + 1) * p3], s));
        grid.put(
            i,
            7,
            &depth_tile(
                &gen_depth[i * p..(i + 1) * p],
                &gen_depth[i * p..(i + 1) * p],
                &all_valid,
            ),
        );
        grid.put(
            i,
            8,
            &normal_tile(&gen_normal[i * p3..(i + 1) * p3], &all_valid),
        );
    }
    grid.write_png(&dir.join(format!("{}.png", checkpoint::checkpoint_name(step))))
}
