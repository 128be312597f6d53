//! 3D-IQTT runs: one method at one label count, resumable like `pix2scene train`
//! (`iqtt train`), its evaluation on the test questions (`iqtt eval`), and every method at every
//! label count of a preset into paper Table 3 (`iqtt run`).
//!
//! Run directory: `config.toml` (the resolved preset, one method and one label count),
//! `metrics.jsonl` ([`IqttRecord`] lines), `checkpoints/step-NNNNNNNN/` (the learner's files,
//! `state.json` and `window.json`), `best/step-NNNNNNNN/` (the same for the evaluation with the
//! highest validation accuracy so far: model selection, the weights that are tested) and, once
//! finished, `result.json` ([`IqttRunSummary`]).

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Instant;

use burn::tensor::Device;
use pix2scene_scene::{Accuracy, shortcut_accuracies};
use serde::{Deserialize, Serialize};

use super::baseline::BaselineLearner;
use super::config::IqttPreset;
use super::learner::Learner;
use super::losses::{IqttAverager, IqttRecord};
use super::method::Method;
use super::pix2scene::Pix2SceneLearner;
use super::question_batch::QuestionBatch;
use super::questions::QuestionSet;
use super::table::{IqttTable, TableRow};
use crate::checkpoint::{self, CHECKPOINT_FORMAT_VERSION, CheckpointState};
use crate::device::{TrainDevice, init_threads};
use crate::error::{Error, Result};
use crate::metrics::MetricsLog;
use crate::progress::Progress;
use crate::run::{claim_run_dir, in_file, resume_from};
use pix2scene_scene::atomic_file::write_atomic;

/// The file of a finished run's [`IqttRunSummary`].
pub const RESULT_FILE: &str = "result.json";

/// The loss window and training time in a checkpoint.
const WINDOW_FILE: &str = "window.json";

/// The folder of the run's best checkpoint (highest validation accuracy).
const BEST_DIR: &str = "best";

/// What `pix2scene iqtt train` (or one run of `iqtt run`) was asked to do.
#[derive(Clone, Debug, Default)]
pub struct IqttOptions {
    /// Preset file (required for a new run; with `resume`, the run's `config.toml` is read).
    pub config: Option<PathBuf>,
    /// Run directory.
    pub out: PathBuf,
    /// `key=value` overrides applied after the preset. With `resume`, only `run.steps`,
    /// `run.threads` and `run.device` may change.
    pub overrides: Vec<String>,
    /// Continue the run in `out` from its newest checkpoint.
    pub resume: bool,
    /// Set by the caller (Ctrl-C) to stop after the current iteration, with a checkpoint.
    pub stop: Arc<AtomicBool>,
}

/// How a run ended, and its accuracy on the test questions (`RUN/result.json`).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct IqttRunSummary {
    /// `pix2scene`, `cnn` or `siamese`.
    pub method: String,
    /// Labelled training questions.
    pub labels: u64,
    /// Iterations completed.
    pub steps: u64,
    /// The evaluation the test figure is of: the one with the highest validation accuracy
    /// (the earliest of equals), every `run.eval_every` iterations and at the end.
    #[serde(default)]
    pub best_step: u64,
    /// Accuracy on the validation questions at `best_step`.
    pub validation: Accuracy,
    /// Accuracy on the test questions at `best_step` (absent for an interrupted run).
    pub test: Option<Accuracy>,
    /// Seconds spent training, over every resume (evaluation excluded).
    pub train_seconds: f64,
    /// Whether the run was stopped before its last iteration.
    pub interrupted: bool,
}

/// The loss window not yet logged and the training time so far (`window.json`).
#[derive(Default, Serialize, Deserialize)]
struct Window {
    losses: IqttAverager,
    train_seconds: f64,
    /// The step and validation accuracy of the best evaluation so far.
    #[serde(default)]
    best: Option<(u64, Accuracy)>,
}

/// Trains (or resumes) one run as described by `options`, then evaluates it on the test
/// questions and writes `RUN/result.json`.
///
/// # Errors
/// Bad preset or overrides (a label count above the training questions, a dataset that is not
/// 3D-IQTT questions, …), an existing run without `resume` or a missing one with it, I/O errors
/// naming the file, and [`Error::NonFinite`] when a loss becomes NaN or infinite.
pub fn train_iqtt(options: &IqttOptions, progress: &mut dyn Progress) -> Result<IqttRunSummary> {
    let out = &options.out;
    let config_path = out.join("config.toml");
    let (preset, _lock) = if options.resume {
        let lock = claim_run_dir(out, true)?;
        let preset = IqttPreset::load(&config_path, &[])
            .map_err(|e| in_file(e, &config_path))?
            .resumed_with(&options.overrides)?;
        (preset, lock)
    } else {
        let path = options.config.as_ref().ok_or_else(|| Error::InvalidValue {
            key: "--config".into(),
            value: String::new(),
            message: "a new run needs a preset file".into(),
        })?;
        let preset = IqttPreset::load(path, &options.overrides)?;
        // Checked before the directory is claimed, so that refused input leaves nothing.
        let labels = preset.single_label_count()?;
        QuestionSet::open(&preset.iqtt, preset.model.resolution, labels)?;
        (preset, claim_run_dir(out, false)?)
    };
    let labels = preset.single_label_count()?;
    let device = TrainDevice::parse(&preset.run.device)?.autodiff_device();
    let questions = QuestionSet::open(&preset.iqtt, preset.model.resolution, labels)?;
    write_atomic(&config_path, preset.to_toml().as_bytes())?;
    init_threads(preset.run.threads);
    rayon::scope(|_| {
        let mut learner = new_learner(&preset, questions.clone(), &device);
        train_loop(options, &preset, learner.as_mut(), &questions, progress)
    })
}

/// The learner of the preset's method.
fn new_learner(preset: &IqttPreset, questions: QuestionSet, device: &Device) -> Box<dyn Learner> {
    match preset.method() {
        Method::Pix2Scene => Box::new(Pix2SceneLearner::new(preset, questions, device)),
        method => Box::new(BaselineLearner::new(preset, method, questions, device)),
    }
}

/// The body of [`train_iqtt`] once the run directory and the learner exist.
fn train_loop(
    options: &IqttOptions,
    preset: &IqttPreset,
    learner: &mut dyn Learner,
    questions: &QuestionSet,
    progress: &mut dyn Progress,
) -> Result<IqttRunSummary> {
    let out = &options.out;
    let checkpoints = out.join("checkpoints");
    let mut start = 0;
    let mut window = Window::default();
    if options.resume {
        let state = resume_from(&checkpoints, preset.run.keep_last, progress, |dir| {
            load_checkpoint(learner, dir)
        })?;
        start = state.step;
        let path = checkpoints
            .join(checkpoint::checkpoint_name(start))
            .join(WINDOW_FILE);
        let text = std::fs::read_to_string(&path).map_err(Error::io(&path))?;
        window = serde_json::from_str(&text).map_err(|e| Error::Checkpoint {
            path,
            message: pix2scene_scene::one_line(&e.to_string()),
        })?;
    }
    let mut log = MetricsLog::open(&out.join("metrics.jsonl"), start)?;
    let run = &preset.run;
    let total = learner.steps();
    progress.started(start, total);
    let mut window_start = (Instant::now(), start);
    let mut step = start;
    let mut interrupted = false;
    let mut validation = None;
    while step < total {
        if options.stop.load(Ordering::Relaxed) {
            interrupted = true;
            break;
        }
        let began = Instant::now();
        let losses = learner.iteration(step).map_err(|e| match e {
            Error::NonFinite {
                loss, value, step, ..
            } => Error::NonFinite {
                loss,
                value,
                step,
                checkpoint: checkpoint::list_checkpoints(&checkpoints)
                    .ok()
                    .and_then(|mut c| c.pop())
                    .map(|c| c.dir),
            },
            e => e,
        })?;
        window.train_seconds += began.elapsed().as_secs_f64();
        window.losses.push(&losses);
        step += 1;
        let is_final = step == total;
        let evaluated = step.is_multiple_of(run.eval_every) || is_final;
        if evaluated {
            let v = accuracy(learner, questions, questions.validation(), preset)?;
            validation = Some(v);
            if window
                .best
                .is_none_or(|(_, best)| v.fraction() > best.fraction())
            {
                window.best = Some((step, v));
                save(learner, &out.join(BEST_DIR), step, &window, 1)?;
            }
        }
        if step.is_multiple_of(run.log_every) || is_final {
            let (t0, s0) = window_start;
            log.write(&IqttRecord {
                step,
                losses: window.losses.take(),
                validation: validation.filter(|_| evaluated),
                iters_per_s: (step - s0) as f32 / t0.elapsed().as_secs_f32().max(1e-9),
                elapsed_s: window.train_seconds as f32,
            })?;
            window_start = (Instant::now(), step);
        }
        if step.is_multiple_of(run.checkpoint_every) || is_final {
            save(learner, &checkpoints, step, &window, run.keep_last)?;
        }
        progress.step_done(step, &losses.ali);
    }
    if interrupted {
        save(learner, &checkpoints, step, &window, run.keep_last)?;
    }
    progress.finished(step, interrupted);
    let (best_step, validation) = match (window.best, validation) {
        (Some(best), _) if !interrupted => best,
        (_, Some(v)) => (step, v),
        _ => (
            step,
            accuracy(learner, questions, questions.validation(), preset)?,
        ),
    };
    if best_step != step {
        load_best(learner, out, best_step)?;
    }
    let test = if interrupted {
        None
    } else {
        Some(accuracy(learner, questions, questions.test(), preset)?)
    };
    let summary = IqttRunSummary {
        method: preset.iqtt.method.clone(),
        labels: questions.labels(),
        steps: step,
        best_step,
        validation,
        test,
        train_seconds: window.train_seconds,
        interrupted,
    };
    if !interrupted {
        let json = serde_json::to_string_pretty(&summary).expect("a summary serializes");
        write_atomic(&out.join(RESULT_FILE), json.as_bytes())?;
    }
    Ok(summary)
}

/// Saves a checkpoint of `learner` after `step` iterations with the loss window (a failed
/// save leaves the checkpoints as they were).
fn save(
    learner: &dyn Learner,
    checkpoints: &Path,
    step: u64,
    window: &Window,
    keep_last: usize,
) -> Result<()> {
    let tmp = checkpoint::begin(checkpoints, step)?;
    let state = CheckpointState {
        format_version: CHECKPOINT_FORMAT_VERSION,
        step,
        held_out_mse_depth: None,
        loss_window: Default::default(),
    };
    learner
        .save(&tmp)
        .and_then(|()| {
            let json = serde_json::to_string(window).expect("the window serializes");
            Ok(write_atomic(&tmp.join(WINDOW_FILE), json.as_bytes())?)
        })
        .and_then(|()| checkpoint::commit(&tmp, &state))
        .inspect_err(|_| checkpoint::abandon(&tmp))?;
    checkpoint::prune(checkpoints, keep_last)
}

/// Loads the run's best checkpoint of step `step` (`RUN/best/step-N`) into `learner`.
///
/// # Errors
/// [`Error::Checkpoint`] when it is missing, or as [`load_checkpoint`].
fn load_best(learner: &mut dyn Learner, run: &Path, step: u64) -> Result<()> {
    let dir = run.join(BEST_DIR).join(checkpoint::checkpoint_name(step));
    if !dir.is_dir() {
        return Err(Error::Checkpoint {
            path: dir,
            message: "missing: the best checkpoint this run recorded".into(),
        });
    }
    load_checkpoint(learner, &dir).map(|_| ())
}

/// The checkpoint whose weights a run's test figure is of: its best (`RUN/best/`), or its
/// newest (`RUN/checkpoints/`) for a run without one.
///
/// # Errors
/// [`Error::Checkpoint`] when the run has neither; [`Error::Io`] for an unreadable directory.
pub fn tested_checkpoint(run: &Path) -> Result<PathBuf> {
    let checkpoints = run.join("checkpoints");
    for dir in [run.join(BEST_DIR), checkpoints.clone()] {
        if let Some((_, newest)) = checkpoint::checkpoint_dirs(&dir)?.pop() {
            return Ok(newest);
        }
    }
    Err(Error::Checkpoint {
        path: checkpoints,
        message: "no checkpoint to evaluate".into(),
    })
}

/// Verifies checkpoint directory `dir` against its checksums (the learner's files and the
/// loss window) and loads the learner from it; a checkpoint that fails verification changes
/// nothing.
///
/// # Errors
/// [`Error::Checkpoint`] naming a missing, altered or mismatched file.
pub fn load_checkpoint(learner: &mut dyn Learner, dir: &Path) -> Result<CheckpointState> {
    let mut required = learner.files();
    required.push(WINDOW_FILE);
    let state = checkpoint::verify(dir, &required)?;
    learner.load(dir)?;
    Ok(state)
}

/// The learner's accuracy on questions `indices`, answered `iqtt.eval_batch` at a time.
///
/// # Errors
/// [`Error::Data`] for a question whose views have another size.
pub fn accuracy(
    learner: &dyn Learner,
    questions: &QuestionSet,
    indices: std::ops::Range<u64>,
    preset: &IqttPreset,
) -> Result<Accuracy> {
    let ids: Vec<u64> = indices.collect();
    let mut total = Accuracy::default();
    for chunk in ids.chunks(preset.iqtt.eval_batch) {
        let drawn = questions.draw(chunk);
        let batch = QuestionBatch::new(&drawn, preset.model.resolution)?;
        let answers = learner.answers(&batch);
        let right = answers.iter().zip(&batch.answers).filter(|(a, b)| a == b);
        total = total + Accuracy::new(right.count() as u64, batch.len() as u64);
    }
    Ok(total)
}

/// The held-out questions a run is scored on.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Split {
    /// The validation questions (model selection and every recipe decision).
    Validation,
    /// The test questions (the reported figures).
    Test,
}

impl Split {
    /// The name used on the command line and in JSON.
    pub fn name(self) -> &'static str {
        match self {
            Split::Validation => "validation",
            Split::Test => "test",
        }
    }
}

/// Evaluates run `run` on its `split` questions (`iqtt eval`): its best checkpoint
/// (`RUN/best/`, the weights its `result.json` reports), or its newest for a run that has none.
///
/// # Errors
/// A directory that is not a 3D-IQTT run or has no checkpoint, and checkpoint errors naming
/// the file.
pub fn evaluate_run(
    run: &Path,
    overrides: &[String],
    split: Split,
) -> Result<(IqttPreset, Accuracy)> {
    let preset = run_preset(run, overrides)?;
    let labels = preset.single_label_count()?;
    let device = TrainDevice::parse(&preset.run.device)?.autodiff_device();
    let questions = QuestionSet::open(&preset.iqtt, preset.model.resolution, labels)?;
    let mut learner = new_learner(&preset, questions.clone(), &device);
    if learner.steps() > 0 {
        load_checkpoint(learner.as_mut(), &tested_checkpoint(run)?)?;
    }
    let indices = match split {
        Split::Validation => questions.validation(),
        Split::Test => questions.test(),
    };
    let score = accuracy(learner.as_ref(), &questions, indices, &preset)?;
    Ok((preset, score))
}

/// The preset of run `run` (its `config.toml`) with `overrides` applied.
///
/// # Errors
/// [`Error::Checkpoint`] when `run` holds no `config.toml`; the preset's errors, naming it.
pub(super) fn run_preset(run: &Path, overrides: &[String]) -> Result<IqttPreset> {
    let config_path = run.join("config.toml");
    if !config_path.is_file() {
        return Err(Error::Checkpoint {
            path: run.to_path_buf(),
            message: "no config.toml: not a run directory".into(),
        });
    }
    IqttPreset::load(&config_path, overrides).map_err(|e| in_file(e, &config_path))
}

/// Every method at every label count of the preset at `config` (`iqtt run`): each run in
/// `out/<method>-<labels>/` (finished runs are read back, unfinished ones resumed), the
/// shortcut baselines on the same test questions, and the table (`out/table.md`,
/// `out/table.json`).
///
/// # Errors
/// As [`train_iqtt`].
pub fn run_all(
    config: &Path,
    out: &Path,
    overrides: &[String],
    stop: Arc<AtomicBool>,
    progress: &mut dyn Progress,
) -> Result<IqttTable> {
    let preset = IqttPreset::load(config, overrides)?;
    let mut rows = Vec::new();
    for &labels in &preset.iqtt.labels {
        for method in Method::ALL {
            let dir = out.join(format!("{method}-{labels}"));
            let result = dir.join(RESULT_FILE);
            if !result.is_file() {
                let mut run_overrides = overrides.to_vec();
                run_overrides.push(format!("iqtt.method=\"{method}\""));
                run_overrides.push(format!("iqtt.labels=[{labels}]"));
                let resume = !checkpoint::checkpoint_dirs(&dir.join("checkpoints"))?.is_empty();
                let options = IqttOptions {
                    config: Some(config.to_path_buf()),
                    out: dir,
                    overrides: if resume { Vec::new() } else { run_overrides },
                    resume,
                    stop: stop.clone(),
                };
                if train_iqtt(&options, progress)?.interrupted {
                    return Err(Error::Data(format!(
                        "stopped during {method} with {labels} labels; run the same command \
                         again to continue"
                    )));
                }
            }
            // Read back even when just written, so that a table of finished runs prints the
            // same figures as the run that trained them (serde_json's default float parsing
            // may return a neighbouring f64).
            let text = std::fs::read_to_string(&result).map_err(Error::io(&result))?;
            let summary: IqttRunSummary =
                serde_json::from_str(&text).map_err(|e| Error::Checkpoint {
                    path: result.clone(),
                    message: pix2scene_scene::one_line(&e.to_string()),
                })?;
            rows.push(TableRow::from_summary(&summary));
        }
    }
    let questions = QuestionSet::open(&preset.iqtt, preset.model.resolution, 0)?;
    let shortcuts = shortcut_accuracies(questions.generator(), questions.test());
    let table = IqttTable::new(&preset, rows, shortcuts);
    write_atomic(&out.join("table.md"), table.to_markdown().as_bytes())?;
    let json = serde_json::to_string_pretty(&table.to_json()).expect("the table serializes");
    write_atomic(&out.join("table.json"), json.as_bytes())?;
    Ok(table)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tiny() -> PathBuf {
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../../configs/iqtt-tiny.toml")
    }

    fn scratch(name: &str) -> PathBuf {
        let dir = std::env::temp_dir().join(format!("p2s-iqtt-{}-{name}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        dir
    }

    /// The whole pipeline on the tiny preset: every method at every label count, tested on
    /// the stated number of test questions, with the shortcuts on the same questions; run
    /// again, the finished runs are read back into the same table.
    #[test]
    fn run_all_fills_table_3_of_the_tiny_preset() {
        let out = scratch("all");
        let stop = Arc::new(AtomicBool::new(false));
        let table = run_all(&tiny(), &out, &[], stop.clone(), &mut ()).unwrap();
        assert_eq!(table.rows.len(), 6);
        for row in &table.rows {
            assert_eq!(row.accuracy.total, 30, "{row:?}");
            assert_eq!(row.validation.total, 12, "{row:?}");
        }
        let steps: Vec<(String, u64, u64)> = table
            .rows
            .iter()
            .map(|r| (r.method.clone(), r.labels, r.steps))
            .collect();
        // Baselines do not train without labels; Pix2Scene trains on the unlabelled images.
        assert_eq!(steps[1], ("cnn".into(), 0, 0));
        assert_eq!(steps[3], ("pix2scene".into(), 20, 4));
        assert_eq!(steps[4], ("cnn".into(), 20, 3));
        assert_eq!(table.shortcuts[0].total, 30);
        let again = run_all(&tiny(), &out, &[], stop, &mut ()).unwrap();
        let key = |t: &IqttTable| -> Vec<(String, u64, Accuracy, Accuracy, u64)> {
            t.rows
                .iter()
                .map(|r| {
                    (
                        r.method.clone(),
                        r.labels,
                        r.accuracy,
                        r.validation,
                        r.steps,
                    )
                })
                .collect()
        };
        assert_eq!(key(&again), key(&table));
        assert_eq!(again.shortcuts, table.shortcuts);
        assert!(out.join("table.md").is_file() && out.join("table.json").is_file());
        std::fs::remove_dir_all(out).unwrap();
    }

    /// The lines of `metrics.jsonl` of a two-iteration run of the tiny preset with `set`.
    fn two_iterations(name: &str, set: &[&str]) -> Vec<serde_json::Value> {
        let out = scratch(name);
        let mut overrides = vec!["run.steps=2".to_string()];
        overrides.extend(set.iter().map(|s| s.to_string()));
        let options = IqttOptions {
            config: Some(tiny()),
            out: out.clone(),
            overrides,
            resume: false,
            stop: Arc::new(AtomicBool::new(false)),
        };
        train_iqtt(&options, &mut ()).unwrap();
        let lines = std::fs::read_to_string(out.join("metrics.jsonl"))
            .unwrap()
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect();
        std::fs::remove_dir_all(out).unwrap();
        lines
    }

    /// Each label-free term (camera roll, pseudo-labels) is logged while on and 0 while off,
    /// and it reaches the update: the second iteration's reconstruction loss, a function of
    /// the weights after the first, differs from that of the same run without it. With
    /// `iqtt.pseudo_ratio = 1` every unlabelled question is pseudo-labelled.
    #[test]
    fn the_label_free_terms_are_logged_and_train_the_networks() {
        let run = |name: &str, set: &[&str]| {
            let mut set = set.to_vec();
            set.push("iqtt.labels=[0]");
            two_iterations(name, &set)
        };
        let column = |lines: &[serde_json::Value], key: &str| -> Vec<f64> {
            lines.iter().map(|l| l[key].as_f64().unwrap()).collect()
        };
        let plain = run("plain", &[]);
        let rolled = run("roll", &["iqtt.roll_weight=1"]);
        let pseudo = run("pseudo", &["iqtt.pseudo_weight=1", "iqtt.pseudo_ratio=1"]);
        for key in ["roll", "pseudo", "pseudo_kept"] {
            assert_eq!(column(&plain, key), [0.0, 0.0], "{key}");
        }
        assert!(column(&rolled, "roll").iter().all(|&r| r > 0.0));
        // The tiny preset's supervised loss is Eq. 5, which may be negative.
        assert!(column(&pseudo, "pseudo").iter().all(|&r| r != 0.0));
        assert_eq!(column(&pseudo, "pseudo_kept"), [1.0, 1.0]);
        assert_eq!(column(&pseudo, "roll"), [0.0, 0.0]);
        let second = |lines: &[serde_json::Value]| column(lines, "recon_x")[1];
        assert_eq!(column(&plain, "recon_x")[0], column(&pseudo, "recon_x")[0]);
        assert_ne!(second(&plain), second(&rolled));
        assert_ne!(second(&plain), second(&pseudo));
    }

    /// A run with 20 labels takes the supervised weight and loss `iqtt.question_at` gives 20
    /// labels, and `iqtt.question_weight` and `iqtt.question_loss` when its entries name other
    /// counts: its metrics equal those of the run with that weight and loss as the defaults,
    /// and differ from the others' (the second iteration's losses depend on the first update).
    #[test]
    fn the_label_counts_weight_and_loss_are_the_ones_trained_with() {
        let at = |labels: u64| format!("iqtt.question_at=[{{ labels = {labels}, weight = 4.0 }}]");
        let half = two_iterations("w-half", &["iqtt.labels=[20]", "iqtt.question_weight=0.5"]);
        let four = two_iterations("w-four", &["iqtt.labels=[20]", "iqtt.question_weight=4"]);
        let here = two_iterations(
            "w-at-20",
            &["iqtt.labels=[20]", "iqtt.question_weight=0.5", &at(20)],
        );
        let elsewhere = two_iterations(
            "w-at-200",
            &["iqtt.labels=[20]", "iqtt.question_weight=0.5", &at(200)],
        );
        let losses = |lines: &[serde_json::Value]| -> Vec<String> {
            lines
                .iter()
                .map(|l| format!("{} {}", l["generator"], l["recon_x"]))
                .collect()
        };
        assert_eq!(losses(&here), losses(&four));
        assert_eq!(losses(&elsewhere), losses(&half));
        assert_ne!(losses(&half), losses(&four));
        let triplet = two_iterations(
            "l-triplet",
            &["iqtt.labels=[20]", "iqtt.question_loss=\"triplet\""],
        );
        let triplet_here = two_iterations(
            "l-at-20",
            &[
                "iqtt.labels=[20]",
                "iqtt.question_at=[{ labels = 20, loss = \"triplet\" }]",
            ],
        );
        let plain = two_iterations("l-plain", &["iqtt.labels=[20]"]);
        assert_eq!(losses(&triplet_here), losses(&triplet));
        assert_ne!(losses(&triplet), losses(&plain));
    }

    /// A run stopped after 2 of 4 iterations and resumed logs what a straight run logs and
    /// reaches the same test accuracy; `evaluate_run` of its checkpoint agrees. With its newest
    /// checkpoint damaged, resuming falls back to the one before and redoes the steps exactly.
    #[test]
    fn a_resumed_run_matches_a_straight_one() {
        let (straight, split) = (scratch("straight"), scratch("split"));
        let options = |out: &Path, steps: u64, resume: bool| IqttOptions {
            config: Some(tiny()),
            out: out.to_path_buf(),
            overrides: vec![format!("run.steps={steps}"), "iqtt.labels=[20]".into()],
            resume,
            stop: Arc::new(AtomicBool::new(false)),
        };
        let a = train_iqtt(&options(&straight, 4, false), &mut ()).unwrap();
        train_iqtt(&options(&split, 2, false), &mut ()).unwrap();
        let mut resumed = options(&split, 4, true);
        resumed.overrides = vec!["run.steps=4".into()];
        let b = train_iqtt(&resumed, &mut ()).unwrap();
        assert_eq!(
            (a.test, a.validation, a.steps),
            (b.test, b.validation, b.steps)
        );
        let metrics = |d: &Path| -> Vec<serde_json::Value> {
            std::fs::read_to_string(d.join("metrics.jsonl"))
                .unwrap()
                .lines()
                .map(|l| {
                    let mut v: serde_json::Value = serde_json::from_str(l).unwrap();
                    let o = v.as_object_mut().unwrap();
                    o.remove("iters_per_s");
                    o.remove("elapsed_s");
                    v
                })
                .collect()
        };
        assert_eq!(metrics(&split), metrics(&straight));
        let (_, test) = evaluate_run(&straight, &[], Split::Test).unwrap();
        assert_eq!(Some(test), a.test);
        let newest = split
            .join("checkpoints")
            .join(checkpoint::checkpoint_name(4));
        std::fs::write(newest.join(WINDOW_FILE), "{}").unwrap();
        let c = train_iqtt(&resumed, &mut ()).unwrap();
        assert_eq!(
            (a.test, a.validation, a.steps),
            (c.test, c.validation, c.steps)
        );
        assert_eq!(metrics(&split), metrics(&straight));
        for dir in [straight, split] {
            std::fs::remove_dir_all(dir).unwrap();
        }
    }

    /// The tested weights are those of the evaluation with the highest validation accuracy
    /// (the earliest of equals): `result.json` names its step and validation figure, which
    /// are the log's, `RUN/best/` holds that checkpoint alone, and `evaluate_run` of the run
    /// reproduces the test and validation figures from it.
    #[test]
    fn the_best_validation_checkpoint_is_tested() {
        for method in ["siamese", "pix2scene"] {
            let out = scratch(&format!("best-{method}"));
            let options = IqttOptions {
                config: Some(tiny()),
                out: out.clone(),
                overrides: vec![
                    "run.steps=8".into(),
                    "baselines.steps=8".into(),
                    "run.eval_every=1".into(),
                    "iqtt.labels=[20]".into(),
                    format!("iqtt.method=\"{method}\""),
                ],
                ..IqttOptions::default()
            };
            let summary = train_iqtt(&options, &mut ()).unwrap();
            let logged: Vec<(u64, Accuracy)> = std::fs::read_to_string(out.join("metrics.jsonl"))
                .unwrap()
                .lines()
                .map(|l| {
                    let v: serde_json::Value = serde_json::from_str(l).unwrap();
                    let acc = serde_json::from_value(v["validation"].clone()).unwrap();
                    (v["step"].as_u64().unwrap(), acc)
                })
                .collect();
            assert_eq!(logged.len(), 8, "{method}");
            let best = logged.iter().fold(logged[0], |b, &(s, a)| {
                if a.fraction() > b.1.fraction() {
                    (s, a)
                } else {
                    b
                }
            });
            assert_eq!(
                (summary.best_step, summary.validation),
                best,
                "{method}: {logged:?}"
            );
            let kept = checkpoint::checkpoint_dirs(&out.join(BEST_DIR)).unwrap();
            assert_eq!(kept.iter().map(|(s, _)| *s).collect::<Vec<_>>(), [best.0]);
            let (_, test) = evaluate_run(&out, &[], Split::Test).unwrap();
            assert_eq!(Some(test), summary.test, "{method}");
            let (_, validation) = evaluate_run(&out, &[], Split::Validation).unwrap();
            assert_eq!(validation, summary.validation, "{method}");
            std::fs::remove_dir_all(out).unwrap();
        }
    }

    /// Bad input is refused on one line naming the key: a label count above the training
    /// questions, and a dataset that is not 3D-IQTT questions.
    #[test]
    fn bad_input_is_refused_by_name() {
        let out = scratch("bad");
        let options = |set: String| IqttOptions {
            config: Some(tiny()),
            out: out.clone(),
            overrides: vec![set],
            ..IqttOptions::default()
        };
        let err = train_iqtt(&options("iqtt.labels=[500]".into()), &mut ()).unwrap_err();
        assert_eq!(
            err.to_string(),
            "iqtt.labels = 500: above the 200 training questions (iqtt.train_questions)"
        );
        let boxes = scratch("boxes");
        let generator = pix2scene_scene::Generator::new(pix2scene_scene::GeneratorConfig::new(
            pix2scene_scene::Preset::Boxes,
            16,
            1,
        ))
        .unwrap();
        let write = pix2scene_scene::dataset::WriteOptions {
            count: 2,
            part: pix2scene_scene::dataset::ShardPart::ALL,
            records_per_shard: None,
            force: true,
            previews: 0,
        };
        pix2scene_scene::dataset::write_dataset(&generator, &boxes, &write, &|_| {}).unwrap();
        let mut bad = options(format!("iqtt.dir=\"{}\"", boxes.display()));
        bad.overrides.push("iqtt.labels=[0]".into());
        let err = train_iqtt(&bad, &mut ()).unwrap_err().to_string();
        assert_eq!(
            err,
            format!(
                "iqtt.dir = {}: a boxes dataset, not 3D-IQTT questions (write them with \
                 generate --preset iqtt)",
                boxes.display()
            )
        );
        assert_eq!(err.lines().count(), 1);
        std::fs::remove_dir_all(boxes).unwrap();
    }
}
