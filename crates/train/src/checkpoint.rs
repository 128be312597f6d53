//! Checkpoints: atomic writes, the on-disk layout, listing, and pruning.
//!
//! A checkpoint is a directory `RUN/checkpoints/step-NNNNNNNN/` holding the weights
//! (`encoder.bpk`, `decoder.bpk`, `critic.bpk`, burnpack with parameter ids), both Adam states
//! (`optim-generator.bpk`, `optim-critic.bpk`), `state.json` ([`CheckpointState`]) and, for runs
//! that keep refined targets (`optim.refine_keep`), `refined-targets.bin`
//! ([`RefinedTargets`](crate::targets::RefinedTargets)). It is
//! assembled in `step-NNNNNNNN.tmp/` and renamed into place, so a checkpoint directory either is
//! complete or does not exist; a crash mid-write leaves only a `.tmp` directory, which is ignored
//! and removed by the next save.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};

/// Version of the checkpoint layout, stored in `state.json`.
pub const CHECKPOINT_FORMAT_VERSION: u32 = 1;

/// Everything besides weights and optimizer moments that resuming needs, as `state.json`.
///
/// The random streams (latent noise, penalty mixing, random lights) are derived from
/// `(run.seed, step)` and the scenes from `(data.seed, batch index)`, so the step is the whole
/// random state.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CheckpointState {
    /// [`CHECKPOINT_FORMAT_VERSION`].
    pub format_version: u32,
    /// Iterations completed.
    pub step: u64,
    /// Held-out depth MSE of these weights.
    pub held_out_mse_depth: Option<f32>,
    /// Losses of the iterations since the last `metrics.jsonl` line.
    #[serde(default)]
    pub loss_window: crate::metrics::LossAverager,
}

/// The directory name of the checkpoint after `step` iterations.
pub fn checkpoint_name(step: u64) -> String {
    format!("step-{step:08}")
}

/// A complete checkpoint found on disk.
#[derive(Clone, Debug, PartialEq)]
pub struct CheckpointEntry {
    /// Its directory.
    pub dir: PathBuf,
    /// Its state.
    pub state: CheckpointState,
}

/// The complete checkpoints under `dir` (a run's `checkpoints/`), oldest first.
///
/// # Errors
/// [`Error::Io`] for an unreadable directory, [`Error::Checkpoint`] for a malformed
/// `state.json`.
pub fn list_checkpoints(dir: &Path) -> Result<Vec<CheckpointEntry>> {
    let mut out = Vec::new();
    if !dir.exists() {
        return Ok(out);
    }
    for entry in std::fs::read_dir(dir).map_err(Error::io(dir))? {
        let path = entry.map_err(Error::io(dir))?.path();
        let name = path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        let Some(digits) = name.strip_prefix("step-") else {
            continue;
        };
        if digits.parse::<u64>().is_err() || !path.is_dir() {
            continue; // `.tmp` leftovers and strangers
        }
        out.push(CheckpointEntry {
            state: read_state(&path)?,
            dir: path,
        });
    }
    out.sort_by_key(|c| c.state.step);
    Ok(out)
}

/// Reads `state.json` of checkpoint `dir`.
///
/// # Errors
/// [`Error::Io`], or [`Error::Checkpoint`] when malformed or of another format version.
pub fn read_state(dir: &Path) -> Result<CheckpointState> {
    let path = dir.join("state.json");
    let text = std::fs::read_to_string(&path).map_err(Error::io(&path))?;
    let state: CheckpointState = serde_json::from_str(&text).map_err(|e| Error::Checkpoint {
        path: path.clone(),
        message: e.to_string(),
    })?;
    if state.format_version != CHECKPOINT_FORMAT_VERSION {
        return Err(Error::Checkpoint {
            path,
            message: format!(
                "checkpoint format version {} (this build reads {CHECKPOINT_FORMAT_VERSION})",
                state.format_version
            ),
        });
    }
    Ok(state)
}

/// Creates the staging directory of a new checkpoint, removing leftovers of a crashed write.
///
/// # Errors
/// [`Error::Io`] naming the directory.
pub fn begin(checkpoints: &Path, step: u64) -> Result<PathBuf> {
    std::fs::create_dir_all(checkpoints).map_err(Error::io(checkpoints))?;
    let tmp = checkpoints.join(format!("{}.tmp", checkpoint_name(step)));
    if tmp.exists() {
        std::fs::remove_dir_all(&tmp).map_err(Error::io(&tmp))?;
    }
    std::fs::create_dir(&tmp).map_err(Error::io(&tmp))?;
    Ok(tmp)
}

/// Writes `state.json` into the staging directory and moves it into place, replacing an older
/// checkpoint of the same step. Returns the final directory.
///
/// # Errors
/// [`Error::Io`] naming the directory.
pub fn commit(tmp: &Path, state: &CheckpointState) -> Result<PathBuf> {
    let json = serde_json::to_string_pretty(state).expect("state serializes");
    std::fs::write(tmp.join("state.json"), json).map_err(Error::io(tmp.join("state.json")))?;
    let name = tmp
        .file_name()
        .expect("staging dir has a name")
        .to_string_lossy();
    let dir = tmp.with_file_name(name.trim_end_matches(".tmp"));
    if dir.exists() {
        std::fs::remove_dir_all(&dir).map_err(Error::io(&dir))?;
    }
    std::fs::rename(tmp, &dir).map_err(Error::io(&dir))?;
    Ok(dir)
}

/// Deletes all but the `keep_last` newest checkpoints and the best one by held-out MSE.
///
/// # Errors
/// [`Error::Io`] or a malformed checkpoint, see [`list_checkpoints`].
pub fn prune(checkpoints: &Path, keep_last: usize) -> Result<()> {
    let all = list_checkpoints(checkpoints)?;
    let best = best_of(&all).map(|c| c.dir.clone());
    let cut = all.len().saturating_sub(keep_last);
    for c in &all[..cut] {
        if Some(&c.dir) != best.as_ref() {
            std::fs::remove_dir_all(&c.dir).map_err(Error::io(&c.dir))?;
        }
    }
    Ok(())
}

/// The checkpoint with the lowest held-out depth MSE (the newest among equals).
pub fn best_of(all: &[CheckpointEntry]) -> Option<&CheckpointEntry> {
    all.iter()
        .filter(|c| c.state.held_out_mse_depth.is_some_and(f32::is_finite))
        .min_by(|a, b| {
            let (ma, mb) = (
                a.state.held_out_mse_depth.unwrap_or(0.0),
                b.state.held_out_mse_depth.unwrap_or(0.0),
            );
            ma.total_cmp(&mb).then(b.state.step.cmp(&a.state.step))
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn save(dir: &Path, step: u64, mse: f32) {
        let tmp = begin(dir, step).unwrap();
        std::fs::write(tmp.join("w.bin"), [1u8, 2]).unwrap();
        commit(
            &tmp,
            &CheckpointState {
                format_version: 1,
                step,
                held_out_mse_depth: Some(mse),
                loss_window: Default::default(),
            },
        )
        .unwrap();
    }

    #[test]
    fn pruning_keeps_the_newest_and_the_best() {
        let dir = std::env::temp_dir().join(format!("p2s-ckpt-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        for (step, mse) in [(10, 0.5), (20, 0.1), (30, 0.4), (40, 0.3), (50, 0.2)] {
            save(&dir, step, mse);
            prune(&dir, 2).unwrap();
        }
        // A crashed write leaves a staging dir that listing ignores.
        std::fs::create_dir_all(dir.join("step-00000060.tmp")).unwrap();
        let steps: Vec<u64> = list_checkpoints(&dir)
            .unwrap()
            .iter()
            .map(|c| c.state.step)
            .collect();
        assert_eq!(steps, [20, 40, 50]);
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn foreign_format_version_is_rejected() {
        let dir = std::env::temp_dir().join(format!("p2s-ckpt-v-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(
            dir.join("state.json"),
            r#"{"format_version":9,"step":1,"held_out_mse_depth":null}"#,
        )
        .unwrap();
        let msg = read_state(&dir).unwrap_err().to_string();
        assert!(
            msg.ends_with("state.json: checkpoint format version 9 (this build reads 1)"),
            "{msg}"
        );
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
