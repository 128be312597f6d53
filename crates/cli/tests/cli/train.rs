//! `pix2scene train` and `pix2scene bench train`.

use std::path::PathBuf;

use crate::{assert_fails_with, pix2scene, scratch};

fn tiny() -> String {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../configs/tiny-32.toml")
        .to_string_lossy()
        .into_owned()
}

#[test]
fn train_runs_and_resumes_a_tiny_preset() {
    let dir = scratch("train-resume");
    let run = dir.join("run");
    let run_s = run.to_str().unwrap();
    let out = pix2scene(&[
        "train",
        "--config",
        &tiny(),
        "--out",
        run_s,
        "--steps",
        "4",
        "--quiet",
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        stdout.starts_with("done: 4 steps, held-out depth MSE ")
            && stdout.contains("(image-blind baselines: per-pixel mean depth 0.0"),
        "{stdout}"
    );
    for file in [
        "config.toml",
        "baselines.json",
        "metrics.jsonl",
        "checkpoints/step-00000004/state.json",
    ] {
        assert!(run.join(file).is_file(), "{file} missing");
    }
    let out = pix2scene(&[
        "train", "--out", run_s, "--resume", "--steps", "6", "--quiet",
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stdout).starts_with("done: 6 steps"));
    let lines = std::fs::read_to_string(run.join("metrics.jsonl")).unwrap();
    assert_eq!(lines.lines().count(), 6);
}

#[test]
fn train_rejects_an_unknown_preset_key_naming_file_line_and_key() {
    let dir = scratch("train-badkey");
    let preset = dir.join("bad.toml");
    std::fs::write(&preset, "[optim]\nbatch = 4\nlrr = 0.1\n").unwrap();
    let out = pix2scene(&[
        "train",
        "--config",
        preset.to_str().unwrap(),
        "--out",
        dir.join("run").to_str().unwrap(),
    ]);
    assert_fails_with(
        &out,
        &format!("{}:3: unknown field `lrr`", preset.display()),
    );
}

#[test]
fn train_rejects_a_bad_override_naming_key_and_value() {
    let dir = scratch("train-badset");
    let run = dir.join("run");
    let out = pix2scene(&[
        "train",
        "--config",
        &tiny(),
        "--out",
        run.to_str().unwrap(),
        "--set",
        "optim.beta1=2",
    ]);
    assert_fails_with(&out, "optim.beta1 = 2: must be in [0, 1)");
    let out = pix2scene(&[
        "train",
        "--config",
        &tiny(),
        "--out",
        run.to_str().unwrap(),
        "--set",
        "optim.lrr=2",
    ]);
    assert_fails_with(&out, "unknown config key `optim.lrr`");
}

#[test]
fn bench_train_prints_iterations_per_second_as_json() {
    let config = tiny();
    let bench = |set: &str| {
        let mut args = vec![
            "bench", "train", "--config", &config, "--iters", "1", "--json",
        ];
        if !set.is_empty() {
            args.extend(["--set", set]);
        }
        let out = pix2scene(&args);
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        serde_json::from_slice::<serde_json::Value>(&out.stdout).unwrap()
    };
    let v = bench("");
    let (ips, spi) = (
        v["iters_per_s"].as_f64().unwrap(),
        v["s_per_iter"].as_f64().unwrap(),
    );
    assert!(ips > 0.0 && (ips * spi - 1.0).abs() < 1e-9, "{v}");
    assert_eq!(v["critic_steps"], 2);
    assert!(v["breakdown"]["renderer_s"].as_f64().unwrap() > 0.0);
    assert_eq!(v["breakdown"]["refinement_s"].as_f64(), Some(0.0), "{v}");
    let v = bench("optim.refine_steps=3");
    assert!(
        v["breakdown"]["refinement_s"].as_f64().unwrap() > 0.0,
        "{v}"
    );
}

/// Ctrl-C (SIGINT) finishes the current step, saves a checkpoint and that step's sample grid,
/// and exits successfully; `--resume` continues from there.
#[test]
fn train_saves_on_interrupt_and_resumes_from_there() {
    let dir = scratch("train-interrupt");
    let run = dir.join("run");
    let run_s = run.to_str().unwrap();
    let child = std::process::Command::new(env!("CARGO_BIN_EXE_pix2scene"))
        .args(["train", "--config", &tiny(), "--out", run_s, "--quiet"])
        .args(["--steps", "100000", "--set", "run.sample_every=1000000"])
        .args(["--set", "run.checkpoint_every=1000000"])
        .stdout(std::process::Stdio::piped())
        .spawn()
        .expect("the pix2scene binary starts");
    // Wait until a few steps are logged, then interrupt.
    let metrics = run.join("metrics.jsonl");
    let started = std::time::Instant::now();
    while std::fs::read_to_string(&metrics).map_or(0, |m| m.lines().count()) < 2 {
        assert!(
            started.elapsed().as_secs() < 120,
            "no training progress within 2 minutes"
        );
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    let kill = std::process::Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .expect("kill runs");
    assert!(kill.success());
    let out = child.wait_with_output().expect("the run exits");
    assert!(
        out.status.success(),
        "interrupted run exit status {}",
        out.status
    );
    let stdout = String::from_utf8_lossy(&out.stdout);
    let steps: u64 = stdout
        .strip_prefix("interrupted, saved: ")
        .and_then(|rest| rest.split(' ').next())
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("unexpected summary: {stdout}"));
    assert!(steps >= 2, "{steps} steps before the interrupt");
    let name = format!("{steps:08}");
    assert!(
        run.join(format!("checkpoints/step-{name}/state.json"))
            .is_file(),
        "checkpoint of step {steps}"
    );
    assert!(
        run.join(format!("samples/step-{name}.png")).is_file(),
        "sample grid of step {steps}"
    );
    let more = (steps + 3).to_string();
    let out = pix2scene(&[
        "train", "--out", run_s, "--resume", "--steps", &more, "--quiet",
    ]);
    assert!(
        String::from_utf8_lossy(&out.stdout).starts_with(&format!("done: {more} steps")),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}
