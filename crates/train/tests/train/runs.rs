//! Whole runs: exact resume, NaN handling, the run directory, training from a dataset.

use super::*;

/// A run that keeps refined targets (with mirrored regression steps) checkpoints them and resumes
/// exactly; a newest checkpoint whose kept targets are damaged is skipped with a warning naming
/// the file, and the run resumes from the previous one, still exactly.
#[test]
fn kept_targets_resume_exactly() {
    let dir = scratch("resume-kept");
    let (straight, split) = (dir.join("straight"), dir.join("split"));
    let keep = [
        "data.train_scenes=12",
        "data.relight=true",
        "optim.refine_steps=3",
        "optim.refine_keep=true",
        "optim.regress_steps=2",
        "optim.regress_mirror=true",
        "run.checkpoint_every=2",
        "run.log_every=1",
        "run.keep_last=5",
    ];
    let with = |extra: &'static str| {
        let mut o = keep.to_vec();
        o.push(extra);
        o
    };
    start(&straight, &with("run.steps=8")).unwrap();
    start(&split, &with("run.steps=4")).unwrap();
    let latest = list_checkpoints(&split.join("checkpoints"))
        .unwrap()
        .pop()
        .unwrap()
        .dir;
    let targets = latest.join("refined-targets.bin");
    flip_bit(&targets, 1000);
    let warnings = resume_warned(&split, &["run.steps=8"]);
    assert_one_fallback_warning(
        &warnings,
        &latest,
        &targets,
        &split.join("checkpoints/step-00000002"),
    );
    let logged = assert_identical_metrics(&straight, &split, 8);
    for x in &logged {
        assert!(x.losses.refine > 0.0, "step {}", x.step);
    }
    assert!(
        logged.iter().any(|x| x.losses.regress > 0.0),
        "the regress steps met kept targets"
    );
    let read = |run: &Path| {
        let dir = list_checkpoints(&run.join("checkpoints"))
            .unwrap()
            .pop()
            .unwrap()
            .dir;
        std::fs::read(dir.join("refined-targets.bin")).unwrap()
    };
    assert_eq!(read(&straight), read(&split), "the kept maps are identical");
    assert!(
        straight.join("samples/targets-step-00000008.png").is_file(),
        "the final samples show the kept targets"
    );
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn resume_is_bit_exact() {
    let dir = scratch("resume");
    let (straight, split) = (dir.join("straight"), dir.join("split"));
    let s = start(
        &straight,
        &["run.steps=8", "run.checkpoint_every=3", "run.log_every=1"],
    )
    .unwrap();
    assert_eq!(s.steps, 8);
    start(
        &split,
        &["run.steps=4", "run.checkpoint_every=3", "run.log_every=1"],
    )
    .unwrap();
    // Resume reads the run's own config.toml; only the length changes.
    let r = resume(&split, &["run.steps=8"]).unwrap();
    assert_eq!(r.steps, 8);
    assert_identical_metrics(&straight, &split, 8);
    assert_eq!(s.final_mse_depth, r.final_mse_depth);
    // Resuming with the run's own values again is accepted (and changes nothing); changing
    // anything but the length, threads or device is refused, naming the key and both values.
    let again = resume(&split, &["run.steps=8", "run.seed=0", "optim.batch=4"]).unwrap();
    assert_eq!(again.steps, 8);
    let err = resume(&split, &["optim.lr=0.1"]).unwrap_err();
    assert_eq!(
        err.to_string(),
        "optim.lr = 0.1: cannot be changed when resuming: the run has 0.0002 (only run.steps, \
         run.threads and run.device can)"
    );
    // Starting a new run over an existing one is refused too.
    let err = start(&split, &[]).unwrap_err().to_string();
    assert!(
        err.ends_with("already holds a run; pass --resume to continue it or choose another --out"),
        "{err}"
    );
    std::fs::remove_dir_all(&dir).unwrap();
}

/// A run killed after writing its last checkpoint but before pruning the older ones (here:
/// the checkpoints it had pruned put back, from a run that kept them all) prunes when resumed
/// and keeps what an uninterrupted run keeps.
#[test]
fn a_run_killed_before_pruning_keeps_what_a_straight_run_keeps() {
    let dir = scratch("unpruned");
    let (straight, all, killed) = (dir.join("straight"), dir.join("all"), dir.join("killed"));
    let steps = ["run.steps=8", "run.checkpoint_every=2"];
    start(&straight, &[&steps[..], &["run.keep_last=1"]].concat()).unwrap();
    start(&all, &[&steps[..], &["run.keep_last=10"]].concat()).unwrap();
    let names = |run: &Path| -> Vec<u64> {
        list_checkpoints(&run.join("checkpoints"))
            .unwrap()
            .iter()
            .map(|c| c.state.step)
            .collect()
    };
    let kept = names(&straight);
    assert_eq!(names(&all), [2, 4, 6, 8]);
    assert!(kept.len() < 4 && kept.contains(&8), "{kept:?}");
    copy_tree(&straight, &killed);
    for step in [2, 4, 6] {
        let name = pix2scene_train::checkpoint::checkpoint_name(step);
        if !kept.contains(&step) {
            copy_tree(
                &all.join("checkpoints").join(&name),
                &killed.join("checkpoints").join(&name),
            );
        }
    }
    assert_eq!(names(&killed), [2, 4, 6, 8]);
    resume(&killed, &[]).unwrap();
    assert_eq!(names(&killed), kept);
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn nan_loss_stops_the_run_and_keeps_the_last_checkpoint() {
    let dir = scratch("nan");
    let err = train(
        &TrainOptions {
            nan_at_step: Some(7),
            ..options(&dir, &["run.steps=10", "run.checkpoint_every=5"])
        },
        &mut (),
    )
    .unwrap_err();
    let ckpt = dir.join("checkpoints").join("step-00000005");
    assert!(matches!(err, Error::NonFinite { step: 7, .. }), "{err:?}");
    assert_eq!(
        err.to_string(),
        format!(
            "loss `adversarial` is NaN at step 7; stopped, last good checkpoint: {}",
            ckpt.display()
        )
    );
    let kept = list_checkpoints(&dir.join("checkpoints")).unwrap();
    assert_eq!(kept.len(), 1);
    assert_eq!(kept[0].state.step, 5);
    // The checkpoint is intact: it loads, and its weights are finite.
    let preset = tiny(&[]);
    let (mut trainer, batch, _) = trainer_and_batch(&preset);
    trainer.load_checkpoint(&ckpt).unwrap();
    let (_, depth) = trainer.reconstruct(&batch);
    let depth: Vec<f32> = depth.into_data().try_to_vec::<f32>().unwrap();
    assert!(depth.iter().all(|d| d.is_finite()));
    // No line was logged for the failed step.
    let steps: Vec<u64> = read_metrics(&dir.join("metrics.jsonl"))
        .unwrap()
        .iter()
        .map(|r| r.step)
        .collect();
    assert_eq!(steps, [1, 2, 3, 4, 5, 6]);
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn run_directory_holds_config_metrics_checkpoints_and_samples() {
    let dir = scratch("layout");
    let s = start(&dir, &["run.steps=10", "run.eval_every=5"]).unwrap();
    assert!(s.final_mse_depth.is_some_and(f32::is_finite));
    let config = TrainPreset::load(&dir.join("config.toml"), &[]).unwrap();
    assert_eq!(config, tiny(&["run.steps=10", "run.eval_every=5"]));
    let metrics = read_metrics(&dir.join("metrics.jsonl")).unwrap();
    assert_eq!(metrics.len(), 10);
    let evaluated: Vec<u64> = metrics
        .iter()
        .filter(|m| m.held_out_mse_depth.is_some())
        .map(|m| m.step)
        .collect();
    assert_eq!(evaluated, [5, 10]);
    assert!(
        metrics
            .iter()
            .all(|m| m.losses.first_non_finite().is_none() && m.iters_per_s > 0.0)
    );
    let steps: Vec<u64> = list_checkpoints(&dir.join("checkpoints"))
        .unwrap()
        .iter()
        .map(|c| c.state.step)
        .collect();
    assert_eq!(steps, [5, 10]);
    assert!(dir.join("samples/step-00000010.png").is_file());
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn training_from_a_dataset_directory_streams_shards_and_resumes_exactly() {
    use pix2scene_scene::dataset::{ShardPart, WriteOptions, write_dataset};
    use pix2scene_scene::{Generator, GeneratorConfig, Preset};

    let dir = scratch("dataset");
    let data = dir.join("data");
    let generator = Generator::new(GeneratorConfig::new(Preset::Boxes, 32, 4)).unwrap();
    let write = WriteOptions {
        count: 30,
        part: ShardPart::ALL,
        records_per_shard: Some(7),
        force: false,
        previews: 0,
    };
    write_dataset(&generator, &data, &write, &|_| {}).unwrap();
    let data_key = format!("data.dir={}", data.display());
    let (straight, split) = (dir.join("straight"), dir.join("split"));
    // Kept refined targets too: a dataset's scenes are identified by record index.
    let common = [
        data_key.as_str(),
        "run.checkpoint_every=2",
        "run.log_every=1",
        "optim.refine_steps=2",
        "optim.refine_keep=true",
    ];
    let run = |out: &Path, steps: &str| {
        let mut o = common.to_vec();
        o.push(steps);
        start(out, &o).unwrap()
    };
    let s = run(&straight, "run.steps=4");
    assert!(s.final_mse_depth.is_some_and(f32::is_finite));
    run(&split, "run.steps=2");
    resume(&split, &["run.steps=4"]).unwrap();
    for x in assert_identical_metrics(&straight, &split, 4) {
        assert!(x.losses.refine > 0.0, "step {}", x.step);
    }
    // A dataset of another image size is refused, naming the key.
    let err = start(&dir.join("wrong"), &[&data_key, "model.resolution=64"])
        .unwrap_err()
        .to_string();
    assert!(
        err.starts_with("data.dir = ")
            && err.ends_with("dataset images are 32², model.resolution is 64"),
        "{err}"
    );
    std::fs::remove_dir_all(&dir).unwrap();
}
