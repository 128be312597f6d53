//! End-to-end tests of the `pix2scene` binary, one module per subcommand.

mod bench_hausdorff;
mod bench_peak;
mod eval;
mod full_disk;
mod generate;
mod iqtt;
mod quickstart;
mod shade;
mod sigkill;
mod train;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// Runs the binary with `args`.
pub fn pix2scene(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_pix2scene"))
        .args(args)
        .output()
        .expect("the pix2scene binary runs")
}

/// A scratch directory, removed with everything in it when dropped.
pub struct Scratch(PathBuf);

impl std::ops::Deref for Scratch {
    type Target = Path;
    fn deref(&self) -> &Path {
        &self.0
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// A fresh, empty scratch directory unique to `name`.
pub fn scratch(name: &str) -> Scratch {
    let dir = std::env::temp_dir().join(format!("pix2scene-cli-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("create scratch dir");
    Scratch(dir)
}

/// `--help` describes only commands that exist, and each command it lists has its own help.
#[test]
fn help_lists_only_commands_that_exist() {
    let out = pix2scene(&["--help"]);
    assert!(out.status.success());
    let help = String::from_utf8_lossy(&out.stdout);
    assert_eq!(
        help.lines().next(),
        Some(
            "Command-line program of pix2scene: generate datasets, train, evaluate and use models, benchmark"
        )
    );
    let commands: Vec<&str> = help
        .lines()
        .skip_while(|l| *l != "Commands:")
        .skip(1)
        .take_while(|l| !l.is_empty())
        .filter_map(|l| l.split_whitespace().next())
        .collect();
    assert_eq!(
        commands,
        [
            "generate",
            "bench",
            "train",
            "iqtt",
            "eval",
            "reconstruct",
            "sample",
            "interpolate",
            "report",
            "shade",
            "help"
        ]
    );
    for command in &commands[..commands.len() - 1] {
        let out = pix2scene(&[command, "--help"]);
        assert!(out.status.success(), "{command} --help");
    }
}

/// Asserts the command succeeded, showing its stderr otherwise.
pub fn assert_succeeded(out: &Output) {
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// Asserts the command failed with exactly one line on stderr containing `needle`.
pub fn assert_fails_with(out: &Output, needle: &str) {
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success(), "expected failure, stderr: {stderr}");
    assert_eq!(
        stderr.trim_end().lines().count(),
        1,
        "one-line error, got: {stderr}"
    );
    assert!(
        stderr.contains(needle),
        "stderr {stderr:?} lacks {needle:?}"
    );
}

/// Paths of a directory's files, sorted, relative names with contents.
pub fn files(dir: &Path) -> Vec<(String, Vec<u8>)> {
    let mut out: Vec<(String, Vec<u8>)> = std::fs::read_dir(dir)
        .expect("read dir")
        .map(|e| e.expect("entry").path())
        .filter(|p| p.is_file())
        .map(|p| {
            let name = p.file_name().unwrap().to_string_lossy().into_owned();
            (name, std::fs::read(&p).expect("read file"))
        })
        .collect();
    out.sort();
    out
}
