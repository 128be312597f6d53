//! `pix2scene train` killed with SIGKILL at seeded random moments and resumed after each kill
//! ends bit for bit where an uninterrupted run ends; a second `train` on a run in progress is
//! refused, and a killed run's lock does not stay.
//!
//! `cargo test` kills 3 times. `PIX2SCENE_KILLS=N` (and `PIX2SCENE_KILL_SEED=K`,
//! `PIX2SCENE_KILL_STEPS=S`) sets the count, the seed of the moments and the run's length:
//! `scripts/sigkill.sh` runs the long variant and prints where each kill landed.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use pix2scene_train::data::SceneSource;
use pix2scene_train::{TrainDevice, TrainPreset, Trainer};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

use crate::{assert_fails_with, assert_succeeded, files, scratch};

/// The tiny preset (checkpoints and evaluations every 5 steps, sample grids every 10).
fn tiny() -> String {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../configs/tiny-32.toml")
        .to_string_lossy()
        .into_owned()
}

/// An environment variable as a number, or `default`.
fn env_or(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// Starts `pix2scene train` into `run`: a new run of `steps` steps, or `--resume`.
fn spawn(run: &Path, steps: u64, resume: bool) -> Child {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_pix2scene"));
    cmd.args(["train", "--out", run.to_str().unwrap(), "--quiet"]);
    if resume {
        cmd.arg("--resume");
    } else {
        cmd.args(["--config", &tiny(), "--steps", &steps.to_string()]);
    }
    cmd.stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the pix2scene binary starts")
}

/// The number of complete lines of `run/metrics.jsonl`, and the step of the last one.
fn logged(run: &Path) -> (usize, u64) {
    let text = std::fs::read_to_string(run.join("metrics.jsonl")).unwrap_or_default();
    let lines: Vec<&str> = text
        .split_inclusive('\n')
        .filter(|l| l.ends_with('\n'))
        .collect();
    let step = lines.last().map_or(0, |l| {
        serde_json::from_str::<serde_json::Value>(l).expect("a complete line is a record")["step"]
            .as_u64()
            .expect("step")
    });
    (lines.len(), step)
}

/// Names of the entries of `dir` (none if it does not exist).
fn names(dir: &Path) -> Vec<String> {
    std::fs::read_dir(dir).map_or(Vec::new(), |d| {
        d.map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
            .collect()
    })
}

/// Step of the newest complete checkpoint of `run` (0 if none).
fn newest_checkpoint(run: &Path) -> u64 {
    names(&run.join("checkpoints"))
        .iter()
        .filter_map(|n| n.strip_prefix("step-")?.parse::<u64>().ok())
        .max()
        .unwrap_or(0)
}

/// Whether the run in `run` is to be resumed: a run killed before its first checkpoint has
/// nothing to resume from (`--resume` refuses it), so it is removed and started afresh.
fn resumable(run: &Path, resume: bool) -> bool {
    if resume && newest_checkpoint(run) == 0 {
        // A run killed before it made its directory left nothing to remove.
        if run.exists() {
            std::fs::remove_dir_all(run).expect("remove");
        }
        return false;
    }
    resume
}

/// What the run was doing when it was killed, read from what it left on disk.
fn landed(run: &Path, checkpoint_before: u64, lines_before: usize) -> &'static str {
    let staged = names(&run.join("checkpoints"))
        .iter()
        .any(|n| n.ends_with(".tmp") || n.ends_with(".old"));
    let grid_tmp = names(&run.join("samples"))
        .iter()
        .any(|n| n.ends_with(".tmp"));
    let (lines, step) = logged(run);
    if staged {
        "writing a checkpoint"
    } else if grid_tmp {
        "writing a sample grid"
    } else if lines <= lines_before && newest_checkpoint(run) == checkpoint_before {
        "starting up (before the first step)"
    } else if step.is_multiple_of(5) && newest_checkpoint(run) < step {
        if step.is_multiple_of(10) && !run.join(format!("samples/step-{step:08}.png")).exists() {
            "drawing a sample grid"
        } else {
            "evaluating or starting a checkpoint"
        }
    } else {
        "inside a step"
    }
}

/// Kills the child with SIGKILL and reaps it; `false` if it exited by itself first.
fn sigkill(child: &mut Child) -> bool {
    if child.try_wait().expect("poll").is_some() {
        return false;
    }
    let status = Command::new("kill")
        .args(["-KILL", &child.id().to_string()])
        .status()
        .expect("kill runs");
    assert!(status.success());
    let status = child.wait().expect("reap");
    // The run may have ended by itself between the poll and the kill.
    match std::os::unix::process::ExitStatusExt::signal(&status) {
        Some(9) => true,
        other => {
            assert_eq!(other, None, "killed by another signal");
            false
        }
    }
}

/// Waits for the child to finish and asserts success.
fn finish(child: Child) {
    assert_succeeded(&child.wait_with_output().expect("the run exits"));
}

/// The weights of checkpoint `last` of `run`, loaded (and verified) as `--resume` loads them.
/// (The files themselves differ between processes: burn draws parameter ids at random.)
fn final_weights(run: &Path, last: &str) -> Vec<Vec<f32>> {
    let preset = TrainPreset::load(&run.join("config.toml"), &[]).expect("config.toml");
    let size = preset.model.resolution;
    let source = SceneSource::open(&preset.data, size).expect("the run's data");
    let device = TrainDevice::parse("cpu").expect("cpu").autodiff_device();
    let mut trainer = Trainer::new(&preset, source.renderer_config(size), &device);
    trainer
        .load_checkpoint(&run.join(last))
        .expect("the final checkpoint loads");
    trainer.parameters()
}

/// Every loss column and held-out figure of each line (not the timings), as JSON values.
fn loss_columns(run: &Path) -> Vec<serde_json::Value> {
    std::fs::read_to_string(run.join("metrics.jsonl"))
        .expect("metrics")
        .lines()
        .map(|l| {
            let mut v: serde_json::Value = serde_json::from_str(l).expect("record");
            let o = v.as_object_mut().expect("object");
            o.remove("iters_per_s");
            o.remove("elapsed_s");
            v
        })
        .collect()
}

#[test]
fn sigkilled_training_resumes_bit_exactly_and_one_run_holds_a_directory() {
    let kills = env_or("PIX2SCENE_KILLS", 3);
    let seed = env_or("PIX2SCENE_KILL_SEED", 1);
    let steps = env_or("PIX2SCENE_KILL_STEPS", 20);
    let dir = scratch("sigkill");
    let (straight, killed) = (dir.join("straight"), dir.join("killed"));

    let began = Instant::now();
    let mut child = spawn(&straight, steps, false);
    // The lock: while the run trains, a second train on its directory is refused.
    while logged(&straight).0 == 0 {
        assert!(child.try_wait().expect("poll").is_none(), "ended early");
        std::thread::sleep(Duration::from_millis(5));
    }
    let first_line = began.elapsed();
    let out = Command::new(env!("CARGO_BIN_EXE_pix2scene"))
        .args([
            "train",
            "--resume",
            "--quiet",
            "--out",
            straight.to_str().unwrap(),
        ])
        .output()
        .expect("runs");
    assert_fails_with(
        &out,
        &format!(
            "{}: in use by another pix2scene train (process {}): one run per directory",
            straight.display(),
            child.id()
        ),
    );
    finish(child);
    let total = began.elapsed();
    // Per-step time, and the start-up time before the first step.
    let per_step = total.saturating_sub(first_line).as_secs_f64() / (steps - 1) as f64;
    let startup = first_line.as_secs_f64() - per_step;

    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let mut tally: Vec<(&str, usize)> = Vec::new();
    let mut done = 0;
    let mut resume = false;
    while done < kills {
        resume = resumable(&killed, resume);
        let (checkpoint, (lines, _)) = (newest_checkpoint(&killed), logged(&killed));
        let mut child = spawn(&killed, steps, resume);
        resume = true;
        // Half the kills at a uniform moment of what is left of the run (start-up included),
        // half right after a checkpoint step is logged, in its evaluation, sample grid or
        // checkpoint write.
        let left = startup + (steps - checkpoint) as f64 * per_step;
        // (A run killed after its last checkpoint has nothing left but its start-up.)
        let target = checkpoint
            + 5 * rng.random_range(1..=(steps.saturating_sub(1 + checkpoint) / 5).max(1));
        let at_write = rng.random_bool(0.5) && target < steps;
        let deadline = Instant::now() + Duration::from_secs_f64(0.8 * left * rng.random::<f64>());
        if at_write {
            while logged(&killed).1 < target && child.try_wait().expect("poll").is_none() {
                std::thread::sleep(Duration::from_millis(1));
            }
            std::thread::sleep(Duration::from_secs_f64(
                rng.random_range(0.0..1.0) * 0.3 * per_step,
            ));
        } else {
            std::thread::sleep(deadline.saturating_duration_since(Instant::now()));
        }
        if !sigkill(&mut child) {
            // The run finished before the kill: start over with a new run directory.
            let out = child.wait_with_output().expect("reaped");
            assert_succeeded(&out);
            std::fs::remove_dir_all(&killed).expect("remove");
            resume = false;
            continue;
        }
        done += 1;
        let what = landed(&killed, checkpoint, lines);
        match tally.iter_mut().find(|(w, _)| *w == what) {
            Some((_, n)) => *n += 1,
            None => tally.push((what, 1)),
        }
    }
    finish(spawn(&killed, steps, resumable(&killed, resume)));
    eprintln!(
        "{done} SIGKILLs (seed {seed}, {steps} steps, {:.2} s per step, {:.1} s start-up): {}",
        per_step,
        startup,
        tally
            .iter()
            .map(|(w, n)| format!("{n} {w}"))
            .collect::<Vec<_>>()
            .join(", ")
    );

    assert_eq!(loss_columns(&straight), loss_columns(&killed));
    let last = format!("checkpoints/step-{steps:08}");
    assert!(
        final_weights(&straight, &last) == final_weights(&killed, &last),
        "the final weights differ after the kills"
    );
    let state = |run: &Path| std::fs::read(run.join(&last).join("state.json")).expect("state");
    assert_eq!(state(&straight), state(&killed));
    assert_eq!(
        files(&straight.join("samples")),
        files(&killed.join("samples"))
    );
    assert_eq!(
        names(&straight.join("checkpoints")),
        names(&killed.join("checkpoints"))
    );
}
