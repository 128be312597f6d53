//! Damaged run directories: a truncated or bit-flipped newest checkpoint is skipped with a
//! one-line warning and the run resumes exactly from the previous one; a damaged `config.toml` or
//! `metrics.jsonl` is refused naming the file and line; a run with no usable checkpoint is
//! refused and nothing is removed.

use super::*;

/// The weights of the run's checkpoint after 15 steps.
fn final_weights(run: &Path) -> Vec<Vec<f32>> {
    let (mut trainer, _, _) = trainer_and_batch(&tiny(&[]));
    trainer
        .load_checkpoint(&run.join("checkpoints/step-00000015"))
        .unwrap();
    trainer.parameters()
}

/// A way of damaging a file.
type Damage = fn(&Path);

/// Keeps the first half of a file.
fn truncate(path: &Path) {
    let bytes = std::fs::read(path).unwrap();
    std::fs::write(path, &bytes[..bytes.len() / 2]).unwrap();
}

#[test]
fn damaged_newest_checkpoint_is_skipped_and_the_run_resumes_exactly() {
    let dir = scratch("damage");
    let (straight, base) = (dir.join("straight"), dir.join("base"));
    // tiny-32 logs every step and checkpoints every 5.
    start(&straight, &["run.steps=15"]).unwrap();
    start(&base, &["run.steps=10"]).unwrap();
    let damages: [(&str, &str, Damage); 3] = [
        ("truncated-weights", "encoder.bpk", truncate),
        ("flipped-optimizer", "optim-critic.bpk", |p| {
            flip_bit(p, 200)
        }),
        ("flipped-state", "state.json", |p| flip_bit(p, 40)),
    ];
    for (case, file, damage) in damages {
        let run = dir.join(case);
        copy_tree(&base, &run);
        let newest = run.join("checkpoints/step-00000010");
        let path = newest.join(file);
        damage(&path);
        let warnings = resume_warned(&run, &["run.steps=15"]);
        assert_one_fallback_warning(
            &warnings,
            &newest,
            &path,
            &run.join("checkpoints/step-00000005"),
        );
        assert_identical_metrics(&straight, &run, 15);
        assert!(
            final_weights(&straight) == final_weights(&run),
            "{case}: final weights"
        );
    }
    // Every checkpoint damaged: refused on one line naming the newest's damage; none removed.
    let run = dir.join("all-damaged");
    copy_tree(&base, &run);
    for step in ["step-00000005", "step-00000010"] {
        truncate(&run.join("checkpoints").join(step).join("decoder.bpk"));
    }
    let err = resume(&run, &["run.steps=15"]).unwrap_err().to_string();
    let prefix = format!(
        "{}: no usable checkpoint to resume from (2 damaged; the newest: {}: checksum mismatch",
        run.join("checkpoints").display(),
        run.join("checkpoints/step-00000010/decoder.bpk").display()
    );
    assert!(err.starts_with(&prefix) && !err.contains('\n'), "{err}");
    assert!(run.join("checkpoints/step-00000005").is_dir());
    assert!(run.join("checkpoints/step-00000010").is_dir());
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn damaged_config_or_metrics_is_refused_naming_file_and_line() {
    let dir = scratch("damage-files");
    let base = dir.join("base");
    start(&base, &["run.steps=5"]).unwrap();
    let config = base.join("config.toml");
    let metrics = base.join("metrics.jsonl");
    let (config_text, metrics_text) = (
        std::fs::read_to_string(&config).unwrap(),
        std::fs::read_to_string(&metrics).unwrap(),
    );
    let line_of = |needle: &str| {
        config_text
            .lines()
            .position(|l| l.starts_with(needle))
            .unwrap()
            + 1
    };
    let err = || resume(&base, &["run.steps=6"]).unwrap_err().to_string();

    // A config.toml cut in the middle of a value, or with a value out of range.
    std::fs::write(&config, config_text.replace("lr = 0.0002", "lr = 0.00.02")).unwrap();
    let e = err();
    assert!(
        e.starts_with(&format!("{}:{}: ", config.display(), line_of("lr ="))) && !e.contains('\n'),
        "{e}"
    );
    std::fs::write(&config, config_text.replace("batch = 4", "batch = 0")).unwrap();
    let e = err();
    assert!(
        e.starts_with(&format!("{}: optim.batch = 0: ", config.display())) && !e.contains('\n'),
        "{e}"
    );
    std::fs::write(&config, &config_text).unwrap();

    // A metrics.jsonl with a damaged line: refused naming it.
    let mut lines: Vec<&str> = metrics_text.lines().collect();
    lines[2] = "{\"step\":3,\"critic\":";
    std::fs::write(&metrics, lines.join("\n") + "\n").unwrap();
    let e = err();
    assert!(
        e.starts_with(&format!("{}:3: EOF while parsing", metrics.display())) && !e.contains('\n'),
        "{e}"
    );
    // An unterminated last line (a killed run's unfinished write) is dropped.
    std::fs::write(&metrics, metrics_text.clone() + "{\"step\":6,\"cri").unwrap();
    resume(&base, &["run.steps=6"]).unwrap();
    let steps: Vec<u64> = read_metrics(&metrics)
        .unwrap()
        .iter()
        .map(|r| r.step)
        .collect();
    assert_eq!(steps, [1, 2, 3, 4, 5, 6]);
    std::fs::remove_dir_all(&dir).unwrap();
}
