//! Every model shipped in `models/<name>/` loads as `pix2scene eval --run models/<name>` loads
//! it and reproduces the test figures recorded in its `check.json` on the test records it names,
//! regenerated here from their generator config — the network's, and post-processed as its card's
//! own row is (`eval --post`).

use std::path::{Path, PathBuf};

use pix2scene_eval::{
    CheckpointChoice, DepthPredictor, EvalOptions, EvalResult, Metric, PostPipeline, PostProcessed,
    TrainedModel, evaluate,
};
use pix2scene_scene::dataset::{ShardPart, WriteOptions, write_dataset};
use pix2scene_scene::{Generator, GeneratorConfig};
use serde::Deserialize;

/// `models/<name>/check.json`: a few test records and the model's figures on them.
#[derive(Deserialize)]
struct Check {
    /// The test set's generator config (its manifest's `config`).
    generator: GeneratorConfig,
    /// Records scored: the first `count` of the test set.
    count: u64,
    /// `pix2scene eval --json` of the model on them (its views are the views scored).
    result: EvalResult,
    /// `pix2scene eval --post STEPS --json` of the model on them.
    post: PostCheck,
}

/// The post-processed figures of a `check.json`.
#[derive(Deserialize)]
struct PostCheck {
    /// `--post`'s argument.
    steps: String,
    /// `pix2scene eval --post STEPS --json` of the model on the records.
    result: EvalResult,
}

fn models_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../models")
}

#[test]
fn every_shipped_model_reproduces_its_recorded_test_figures() {
    let mut checked = Vec::new();
    for entry in std::fs::read_dir(models_dir()).unwrap() {
        let dir = entry.unwrap().path();
        if !dir.is_dir() {
            continue;
        }
        for file in [
            "config.toml",
            "encoder.bpk",
            "decoder.bpk",
            "README.md",
            "check.json",
        ] {
            assert!(dir.join(file).is_file(), "{} lacks {file}", dir.display());
        }
        for file in ["encoder.bpk", "decoder.bpk"] {
            let bytes = std::fs::metadata(dir.join(file)).unwrap().len();
            assert!(bytes <= 8 << 20, "{}/{file}: {bytes} bytes", dir.display());
        }
        let check: Check =
            serde_json::from_str(&std::fs::read_to_string(dir.join("check.json")).unwrap())
                .unwrap();
        let data = std::env::temp_dir().join(format!(
            "p2s-shipped-{}-{}",
            dir.file_name().unwrap().to_string_lossy(),
            std::process::id()
        ));
        let generator = Generator::new(check.generator.clone()).unwrap();
        let options = WriteOptions {
            count: check.count,
            part: ShardPart::ALL,
            records_per_shard: None,
            force: true,
            previews: 0,
        };
        write_dataset(&generator, &data, &options, &|_| {}).unwrap();
        let load = || {
            TrainedModel::load(&dir, CheckpointChoice::Best, Some(&check.generator))
                .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        };
        let steps: PostPipeline = check.post.steps.parse().unwrap();
        let post = PostProcessed::new(load(), steps);
        for (predictor, recorded) in [
            (&load() as &dyn DepthPredictor, &check.result),
            (&post, &check.post.result),
        ] {
            let views: Vec<f32> = recorded.views.iter().map(|(a, _)| *a).collect();
            let eval = EvalOptions {
                views,
                ..EvalOptions::default()
            };
            let result = evaluate(&data, predictor, &eval, &mut |_, _| {}).unwrap();
            assert_eq!(result.images, recorded.images);
            assert_eq!(result.views.len(), recorded.views.len());
            for ((angle, ours), (_, want)) in result.views.iter().zip(&recorded.views) {
                for m in Metric::ALL {
                    let (a, b) = (ours.get(m), want.get(m));
                    for (x, y) in [(a.mean, b.mean), (a.std, b.std)] {
                        assert!(
                            (x - y).abs() <= 1e-4 * y.abs() + 1e-7,
                            "{} ({}) at {angle}°, {m:?}: {x} against the recorded {y}",
                            dir.display(),
                            predictor.label()
                        );
                    }
                }
            }
        }
        std::fs::remove_dir_all(&data).unwrap();
        checked.push(dir);
    }
    assert!(
        !checked.is_empty(),
        "no model in {}",
        models_dir().display()
    );
}
