//! Checkpoints: atomic, checksummed writes, the on-disk layout, listing, verification and
//! pruning.
//!
//! A checkpoint is a directory `RUN/checkpoints/step-NNNNNNNN/` holding the weights
//! (`encoder.bpk`, `decoder.bpk`, `critic.bpk`, burnpack with parameter ids), both Adam states
//! (`optim-generator.bpk`, `optim-critic.bpk`), `state.json` ([`CheckpointState`]), for runs
//! that keep refined targets (`optim.refine_keep`) `refined-targets.bin`
//! ([`RefinedTargets`](crate::targets::RefinedTargets)), and last `checksums.b3`
//! ([`Checksums`]: the BLAKE3 digest of every other file).
//!
//! It is assembled in `step-NNNNNNNN.tmp/`, each file flushed to the disk, and renamed into
//! place, the parent directory flushed after the rename; so a checkpoint directory is complete
//! or does not exist, even after a power loss. A write killed half way leaves only a `.tmp`
//! directory, which listing ignores and [`remove_leftovers`] (at the start of every run)
//! removes; a checkpoint being replaced or pruned is first renamed to `step-NNNNNNNN.old`, so a
//! kill during its removal leaves nothing that looks like a checkpoint. A checkpoint damaged
//! afterwards (a truncated copy, a flipped bit) fails [`verify`], and `train --resume` falls
//! back to the previous one.

use std::path::{Path, PathBuf};

use pix2scene_scene::atomic_file::{TEMPORARY_SUFFIX, sync_dir, sync_file, write_atomic};
use serde::{Deserialize, Serialize};

use crate::checksums::{CHECKSUMS_FILE, Checksums};
use crate::error::{Error, Result};

/// Version of the checkpoint layout, stored in `state.json`: 2 adds `checksums.b3`.
pub const CHECKPOINT_FORMAT_VERSION: u32 = 2;

/// The oldest version still read: version 1 (no `checksums.b3`) is loaded without
/// verification.
pub const OLDEST_CHECKPOINT_FORMAT_VERSION: u32 = 1;

/// Suffix of a checkpoint directory being removed.
const REMOVED_SUFFIX: &str = ".old";

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

/// The checkpoint directories under `dir` (a run's `checkpoints/`) by name, `(step, path)`,
/// oldest first; nothing is read from them.
///
/// # Errors
/// [`Error::Io`] for an unreadable directory.
pub fn checkpoint_dirs(dir: &Path) -> Result<Vec<(u64, PathBuf)>> {
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
        let Some(step) = name
            .strip_prefix("step-")
            .and_then(|digits| digits.parse::<u64>().ok())
        else {
            continue; // `.tmp` and `.old` leftovers, strangers
        };
        if path.is_dir() {
            out.push((step, path));
        }
    }
    out.sort();
    Ok(out)
}

/// The checkpoints under `dir` (a run's `checkpoints/`) whose `state.json` reads, oldest first.
/// Nothing is verified; a checkpoint with an unreadable state is left out (resuming verifies
/// and names what it skips, see [`verify`]).
///
/// # Errors
/// [`Error::Io`] for an unreadable directory.
pub fn list_checkpoints(dir: &Path) -> Result<Vec<CheckpointEntry>> {
    Ok(checkpoint_dirs(dir)?
        .into_iter()
        .filter_map(|(_, dir)| {
            read_state(&dir)
                .ok()
                .map(|state| CheckpointEntry { dir, state })
        })
        .collect())
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
        message: pix2scene_scene::one_line(&e.to_string()),
    })?;
    if !(OLDEST_CHECKPOINT_FORMAT_VERSION..=CHECKPOINT_FORMAT_VERSION)
        .contains(&state.format_version)
    {
        return Err(Error::Checkpoint {
            path,
            message: format!(
                "checkpoint format version {} (this build reads \
                 {OLDEST_CHECKPOINT_FORMAT_VERSION} to {CHECKPOINT_FORMAT_VERSION})",
                state.format_version
            ),
        });
    }
    Ok(state)
}

/// Verifies checkpoint `dir` against its `checksums.b3` and returns its state: every file is
/// hashed and compared, and each of `required` (the weight and optimizer files the run needs)
/// must be covered. A version-1 checkpoint (written before checksums) is read unverified.
///
/// # Errors
/// [`Error::Checkpoint`] naming the first missing, unlisted or altered file (or a
/// `checksums.b3` missing from a version-2 checkpoint), [`Error::Io`] for an unreadable one.
pub fn verify(dir: &Path, required: &[&str]) -> Result<CheckpointState> {
    match Checksums::read(dir)? {
        Some(sums) => {
            let mut all = required.to_vec();
            all.push("state.json");
            sums.verify(dir, &all)?;
            read_state(dir)
        }
        None => {
            let state = read_state(dir)?;
            if state.format_version >= 2 {
                return Err(Error::Checkpoint {
                    path: dir.join(CHECKSUMS_FILE),
                    message: "missing".into(),
                });
            }
            Ok(state)
        }
    }
}

/// Removes what killed runs leave in `checkpoints`: staging directories (`.tmp`) of
/// checkpoints never committed and checkpoints half removed (`.old`).
///
/// # Errors
/// [`Error::Io`] naming the entry.
pub fn remove_leftovers(checkpoints: &Path) -> Result<()> {
    if !checkpoints.exists() {
        return Ok(());
    }
    for entry in std::fs::read_dir(checkpoints).map_err(Error::io(checkpoints))? {
        let path = entry.map_err(Error::io(checkpoints))?.path();
        let name = path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        if name.starts_with("step-")
            && (name.ends_with(TEMPORARY_SUFFIX) || name.ends_with(REMOVED_SUFFIX))
        {
            remove_entry(&path)?;
        }
    }
    Ok(())
}

/// Removes a file or a directory tree.
fn remove_entry(path: &Path) -> Result<()> {
    if path.is_dir() {
        std::fs::remove_dir_all(path).map_err(Error::io(path))
    } else {
        std::fs::remove_file(path).map_err(Error::io(path))
    }
}

/// Creates the staging directory of a new checkpoint, removing leftovers of a crashed write.
///
/// # Errors
/// [`Error::Io`] naming the directory.
pub fn begin(checkpoints: &Path, step: u64) -> Result<PathBuf> {
    std::fs::create_dir_all(checkpoints).map_err(Error::io(checkpoints))?;
    let tmp = checkpoints.join(format!("{}{TEMPORARY_SUFFIX}", checkpoint_name(step)));
    if tmp.exists() {
        std::fs::remove_dir_all(&tmp).map_err(Error::io(&tmp))?;
    }
    std::fs::create_dir(&tmp).map_err(Error::io(&tmp))?;
    Ok(tmp)
}

/// Writes `state.json` and `checksums.b3` into the staging directory, flushes every file and
/// the directory to the disk, and moves it into place, replacing an older checkpoint of the
/// same step. Returns the final directory.
///
/// # Errors
/// [`Error::Io`] naming the file or directory.
pub fn commit(tmp: &Path, state: &CheckpointState) -> Result<PathBuf> {
    let json = serde_json::to_string_pretty(state).expect("state serializes");
    write_atomic(&tmp.join("state.json"), json.as_bytes())?;
    let sums = Checksums::of_dir(tmp)?;
    for (name, _) in &sums.entries {
        let path = tmp.join(name);
        sync_file(&path).map_err(Error::io(&path))?;
    }
    write_atomic(&tmp.join(CHECKSUMS_FILE), sums.to_text().as_bytes())?;
    sync_dir(tmp).map_err(Error::io(tmp))?;
    let name = tmp
        .file_name()
        .expect("staging dir has a name")
        .to_string_lossy();
    let dir = tmp.with_file_name(name.trim_end_matches(TEMPORARY_SUFFIX));
    let old = removal_name(&dir);
    if dir.exists() {
        std::fs::rename(&dir, &old).map_err(Error::io(&dir))?;
    }
    std::fs::rename(tmp, &dir).map_err(Error::io(&dir))?;
    let parent = dir.parent().unwrap_or(Path::new("."));
    sync_dir(parent).map_err(Error::io(parent))?;
    if old.exists() {
        std::fs::remove_dir_all(&old).map_err(Error::io(&old))?;
    }
    Ok(dir)
}

/// `step-NNNNNNNN.old` for checkpoint `dir`.
fn removal_name(dir: &Path) -> PathBuf {
    let mut name = dir.as_os_str().to_owned();
    name.push(REMOVED_SUFFIX);
    PathBuf::from(name)
}

/// Removes checkpoint `dir` (a damaged one), renaming it first so that a kill during the
/// removal leaves no partial checkpoint.
///
/// # Errors
/// [`Error::Io`] naming the directory.
pub fn discard(dir: &Path) -> Result<()> {
    let old = removal_name(dir);
    std::fs::rename(dir, &old).map_err(Error::io(dir))?;
    std::fs::remove_dir_all(&old).map_err(Error::io(&old))
}

/// Removes a staging directory after a failed write (best effort: the write's error is the one
/// that matters).
pub fn abandon(tmp: &Path) {
    let _ = std::fs::remove_dir_all(tmp);
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
            discard(&c.dir)?;
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
                format_version: CHECKPOINT_FORMAT_VERSION,
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
            msg.ends_with("state.json: checkpoint format version 9 (this build reads 1 to 2)"),
            "{msg}"
        );
        std::fs::remove_dir_all(&dir).unwrap();
    }

    /// A checkpoint with one file truncated, one bit flipped, a file deleted, or its
    /// `checksums.b3` damaged fails verification naming the file; the intact one passes.
    #[test]
    fn damage_to_any_file_is_detected_naming_it() {
        let root = std::env::temp_dir().join(format!("p2s-ckpt-d-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&root);
        save(&root, 10, 0.5);
        let dir = root.join("step-00000010");
        let required = ["w.bin"];
        assert_eq!(verify(&dir, &required).unwrap().step, 10);
        let pristine: Vec<(String, Vec<u8>)> = ["w.bin", "state.json", CHECKSUMS_FILE]
            .iter()
            .map(|n| (n.to_string(), std::fs::read(dir.join(n)).unwrap()))
            .collect();
        let restore = || {
            for (n, bytes) in &pristine {
                std::fs::write(dir.join(n), bytes).unwrap();
            }
        };
        let err = || verify(&dir, &required).unwrap_err().to_string();
        let shown = |name: &str| dir.join(name).display().to_string();
        // Truncated weights.
        std::fs::write(dir.join("w.bin"), [1u8]).unwrap();
        let e = err();
        assert!(
            e.starts_with(&format!(
                "{}: checksum mismatch (blake3 expected ",
                shown("w.bin")
            )) && e.ends_with("): the file is altered or truncated"),
            "{e}"
        );
        restore();
        // One bit of the state flipped (still valid JSON: the step changes from 10 to 11).
        let state = String::from_utf8(pristine[1].1.clone()).unwrap();
        std::fs::write(dir.join("state.json"), state.replace("10", "11")).unwrap();
        assert!(err().starts_with(&format!("{}: checksum mismatch", shown("state.json"))));
        restore();
        // A deleted file.
        std::fs::remove_file(dir.join("w.bin")).unwrap();
        assert_eq!(err(), format!("{}: missing", shown("w.bin")));
        restore();
        // checksums.b3 cut after its first line, or deleted.
        let sums = String::from_utf8(pristine[2].1.clone()).unwrap();
        let first = sums.lines().next().unwrap();
        assert!(first.ends_with("  state.json"), "{sums}");
        std::fs::write(dir.join(CHECKSUMS_FILE), format!("{first}\n")).unwrap();
        assert_eq!(
            err(),
            format!("{}: records no checksum for w.bin", shown(CHECKSUMS_FILE))
        );
        std::fs::write(dir.join(CHECKSUMS_FILE), &sums[..60]).unwrap();
        assert_eq!(
            err(),
            format!("{}:1: expected `DIGEST  NAME`", shown(CHECKSUMS_FILE))
        );
        std::fs::remove_file(dir.join(CHECKSUMS_FILE)).unwrap();
        assert_eq!(err(), format!("{}: missing", shown(CHECKSUMS_FILE)));
        restore();
        assert_eq!(verify(&dir, &required).unwrap().step, 10);
        std::fs::remove_dir_all(&root).unwrap();
    }

    /// Killed writes and removals leave `.tmp` and `.old` directories that listing ignores and
    /// `remove_leftovers` removes.
    #[test]
    fn leftovers_of_killed_writes_are_ignored_then_removed() {
        let root = std::env::temp_dir().join(format!("p2s-ckpt-l-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&root);
        save(&root, 5, 0.5);
        std::fs::create_dir_all(root.join("step-00000010.tmp")).unwrap();
        std::fs::create_dir_all(root.join("step-00000003.old")).unwrap();
        let dirs: Vec<u64> = checkpoint_dirs(&root)
            .unwrap()
            .iter()
            .map(|d| d.0)
            .collect();
        assert_eq!(dirs, [5]);
        remove_leftovers(&root).unwrap();
        let mut names: Vec<String> = std::fs::read_dir(&root)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        names.sort();
        assert_eq!(names, ["step-00000005"]);
        std::fs::remove_dir_all(&root).unwrap();
    }
}
