//! `pix2scene train` and `pix2scene bench train`.

use std::path::PathBuf;
use std::process::{Child, Command, Stdio};

use crate::{assert_fails_with, assert_succeeded, pix2scene, scratch};

fn tiny() -> String {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../configs/tiny-32.toml")
        .to_string_lossy()
        .into_owned()
}

/// A run trains, writes its directory and resumes; `--resume` accepts the run's own flags
/// again when their values are unchanged, and refuses a changed one on one line naming the key
/// and both values.
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
        "--seed",
        "1",
        "--quiet",
    ]);
    assert_succeeded(&out);
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
    let resume = |seed: &str| {
        pix2scene(&[
            "train",
            "--config",
            &tiny(),
            "--out",
            run_s,
            "--resume",
            "--steps",
            "6",
            "--seed",
            seed,
            "--quiet",
        ])
    };
    assert_fails_with(
        &resume("2"),
        "run.seed = 2: cannot be changed when resuming: the run has 1 (only run.steps, \
         run.threads and run.device can)",
    );
    let out = resume("1");
    assert_succeeded(&out);
    assert!(String::from_utf8_lossy(&out.stdout).starts_with("done: 6 steps"));
    let lines = std::fs::read_to_string(run.join("metrics.jsonl")).unwrap();
    assert_eq!(lines.lines().count(), 6);
}

/// A missing preset is reported on one line naming the file, with the system's reason once.
#[test]
fn a_missing_preset_names_the_file_and_its_cause_once() {
    let dir = scratch("train-missing");
    let preset = dir.join("nope.toml");
    let run = dir.join("run");
    let out = pix2scene(&[
        "train",
        "--config",
        preset.to_str().unwrap(),
        "--out",
        run.to_str().unwrap(),
    ]);
    assert_fails_with(
        &out,
        &format!(
            "error: training {} into {}: {}: No such file or directory",
            preset.display(),
            run.display(),
            preset.display()
        ),
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(stderr.matches("No such file").count(), 1, "{stderr}");
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
    let train = |set: &str| {
        pix2scene(&[
            "train",
            "--config",
            &tiny(),
            "--out",
            run.to_str().unwrap(),
            "--set",
            set,
        ])
    };
    assert_fails_with(
        &train("optim.beta1=2"),
        "optim.beta1 = 2: must be in [0, 1)",
    );
    assert_fails_with(&train("optim.lrr=2"), "unknown config key `optim.lrr`");
}

/// `bench train --json`: the counts are the preset's and the flags', the rate is the inverse
/// of the time per iteration, the breakdown's parts add up to the iteration (its last part is
/// the rest, never negative), and each optional part is 0 exactly when its option is off.
#[test]
fn bench_train_prints_iterations_per_second_as_json() {
    let config = tiny();
    let bench = |set: &[&str]| {
        let mut args = vec![
            "bench",
            "train",
            "--config",
            &config,
            "--iters",
            "2",
            "--threads",
            "1",
            "--json",
        ];
        for s in set {
            args.extend(["--set", s]);
        }
        let out = pix2scene(&args);
        assert_succeeded(&out);
        serde_json::from_slice::<serde_json::Value>(&out.stdout).unwrap()
    };
    let f = |v: &serde_json::Value, key: &str| v[key].as_f64().unwrap();
    let v = bench(&[]);
    for (key, want) in [
        ("res", 32),
        ("width", 8),
        ("zdim", 16),
        ("batch", 4),
        ("critic_steps", 2),
        ("threads", 1),
        ("iters", 2),
    ] {
        assert_eq!(v[key], want, "{key}: {v}");
    }
    let (ips, spi) = (f(&v, "iters_per_s"), f(&v, "s_per_iter"));
    assert!(ips > 0.0 && (ips * spi - 1.0).abs() < 1e-9, "{v}");
    let b = &v["breakdown"];
    let parts = [
        "renderer_s",
        "gradient_penalty_s",
        "optimizer_s",
        "refinement_s",
        "regression_s",
        "networks_and_rest_s",
    ]
    .map(|k| f(b, k));
    assert!(parts.iter().all(|p| *p >= 0.0), "{v}");
    assert!(parts[..3].iter().all(|p| *p > 0.0), "{v}");
    let rest = parts[5];
    assert!(rest <= spi, "{v}");
    if rest > 0.0 {
        let sum: f64 = parts.iter().sum();
        assert!(
            (sum - spi).abs() <= 1e-9 * spi,
            "parts sum to {sum}, not {spi}: {v}"
        );
    }
    assert_eq!(
        (parts[3], parts[4], f(&v, "regress_step_s")),
        (0.0, 0.0, 0.0),
        "{v}"
    );
    // The floor: the recorded work per part and pass adds up to the counted floor, and the
    // rates are the floor over the time and over the measured peak.
    let floor = f(&v, "floor_gflop");
    let recorded: f64 = b["convolutions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| f(p, "gflop"))
        .sum();
    assert!(
        floor > 0.0 && (recorded - floor).abs() <= 1e-9 * floor,
        "{v}"
    );
    let peak = f(&v["peak"], "gflops_all_threads");
    assert!(
        (f(&v, "achieved_gflops") * spi - floor).abs() <= 1e-9 * floor,
        "{v}"
    );
    assert!((f(&v, "peak_fraction") * peak - f(&v, "achieved_gflops")).abs() <= 1e-9 * peak);
    let v = bench(&[
        "optim.refine_steps=3",
        "optim.refine_keep=true",
        "data.train_scenes=4",
        "optim.regress_steps=2",
    ]);
    let b = &v["breakdown"];
    assert!(f(b, "refinement_s") > 0.0, "{v}");
    assert!(f(&v, "regress_step_s") > 0.0, "{v}");
    assert!(
        (f(b, "regression_s") - 2.0 * f(&v, "regress_step_s")).abs() <= 1e-12,
        "two regression steps per iteration: {v}"
    );
}

/// Kills and reaps its child process when dropped, so that a failing test leaves no run behind.
struct KillOnDrop(Option<Child>);

impl Drop for KillOnDrop {
    fn drop(&mut self) {
        if let Some(mut child) = self.0.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

/// Ctrl-C (SIGINT) finishes the current step, saves a checkpoint and that step's sample grid,
/// and exits successfully; `--resume` continues from there.
#[test]
fn train_saves_on_interrupt_and_resumes_from_there() {
    let dir = scratch("train-interrupt");
    let run = dir.join("run");
    let run_s = run.to_str().unwrap();
    let mut child = KillOnDrop(Some(
        Command::new(env!("CARGO_BIN_EXE_pix2scene"))
            .args(["train", "--config", &tiny(), "--out", run_s, "--quiet"])
            .args(["--steps", "100000", "--set", "run.sample_every=1000000"])
            .args(["--set", "run.checkpoint_every=1000000"])
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("the pix2scene binary starts"),
    ));
    // Wait for the event, two logged steps, however long the machine takes; a run that ends
    // before them fails the test with its error.
    let metrics = run.join("metrics.jsonl");
    while std::fs::read_to_string(&metrics).map_or(0, |m| m.lines().count()) < 2 {
        let running = child.0.as_mut().expect("the child is held");
        if let Some(status) = running.try_wait().expect("the child can be polled") {
            let out = child
                .0
                .take()
                .expect("held")
                .wait_with_output()
                .expect("output");
            panic!(
                "the run ended ({status}) before logging two steps: {}",
                String::from_utf8_lossy(&out.stderr)
            );
        }
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    let id = child.0.as_ref().expect("the child is held").id();
    let kill = std::process::Command::new("kill")
        .args(["-INT", &id.to_string()])
        .status()
        .expect("kill runs");
    assert!(kill.success());
    let out = child
        .0
        .take()
        .expect("the child is held")
        .wait_with_output()
        .expect("the run exits");
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
