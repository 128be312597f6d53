//! A write that fails for lack of space stops `pix2scene train` with a one-line error and
//! leaves the last good checkpoint intact.
//!
//! The full disk is a file-size limit (`ulimit -f`) with SIGXFSZ ignored, so that a write past
//! the limit fails with an error (`File too large`) as a write to a full disk fails with `No
//! space left on device`; neither needs root.

use std::path::{Path, PathBuf};
use std::process::Command;

use crate::{assert_fails_with, assert_succeeded, pix2scene, scratch};

fn tiny() -> String {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../configs/tiny-32.toml")
        .to_string_lossy()
        .into_owned()
}

/// `pix2scene` with `args` under a file-size limit of `blocks` 512-byte blocks.
fn pix2scene_limited(blocks: u64, args: &[&str]) -> std::process::Output {
    Command::new("sh")
        .arg("-c")
        .arg(format!(
            "ulimit -f {blocks} && trap '' XFSZ && exec \"$0\" \"$@\""
        ))
        .arg(env!("CARGO_BIN_EXE_pix2scene"))
        .args(args)
        .output()
        .expect("sh runs")
}

/// Size of the largest file of a directory.
fn largest_file(dir: &Path) -> u64 {
    std::fs::read_dir(dir)
        .expect("dir")
        .map(|e| e.expect("entry").metadata().expect("metadata").len())
        .max()
        .expect("a file")
}

#[test]
fn a_full_disk_stops_the_run_on_one_line_and_keeps_the_last_checkpoint() {
    let dir = scratch("full-disk");
    let run = dir.join("run");
    let run_s = run.to_str().unwrap();
    let tiny = tiny();
    assert_succeeded(&pix2scene(&[
        "train", "--config", &tiny, "--out", run_s, "--steps", "5", "--quiet",
    ]));
    let good = run.join("checkpoints/step-00000005");
    let before = crate::files(&good);
    // A limit below the largest checkpoint file: the sample grid and metrics still fit, the
    // checkpoint of step 10 does not.
    let largest = largest_file(&good);
    let blocks = largest / 512 - 1;
    let out = pix2scene_limited(
        blocks,
        &[
            "train", "--resume", "--out", run_s, "--steps", "10", "--quiet",
        ],
    );
    assert_fails_with(&out, "File too large");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.starts_with(&format!(
            "error: resuming {run_s}: {run_s}/checkpoints/step-00000010.tmp/"
        )),
        "{stderr}"
    );
    // Nothing half written stays; the good checkpoint is untouched, and resuming from it
    // (without the limit) finishes the run.
    let names: Vec<String> = std::fs::read_dir(run.join("checkpoints"))
        .expect("dir")
        .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
        .collect();
    assert_eq!(names, ["step-00000005"]);
    assert_eq!(crate::files(&good), before);
    let out = pix2scene(&[
        "train", "--resume", "--out", run_s, "--steps", "10", "--quiet",
    ]);
    assert_succeeded(&out);
    assert!(
        out.stderr.is_empty(),
        "no warning: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(run.join("checkpoints/step-00000010/checksums.b3").is_file());
}
