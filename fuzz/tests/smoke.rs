//! The fuzz smoke run inside `cargo test`: 1,000 mutated inputs per parser, each checked for
//! panics, one-line rejections and memory within the target's bound (the long runs are
//! `scripts/fuzz.sh`).

use pix2scene_fuzz::{Target, fuzz, targets};

/// Inputs per target in the smoke run.
const INPUTS: u64 = 1000;

fn smoke(target: &Target) {
    let report = fuzz(target, INPUTS, 0x5eed);
    assert_eq!(report.inputs, INPUTS);
    assert!(
        report.failures.is_empty(),
        "{}: {} input(s) broke a property, first: {:?}",
        target.name,
        report.failures.len(),
        report.failures[0]
    );
    assert!(
        report.rejected > 0,
        "{}: mutations are rejected",
        target.name
    );
    assert!(
        report.accepted > 0,
        "{}: the seeds are accepted",
        target.name
    );
}

#[test]
fn obj_parser_survives_mutated_meshes() {
    smoke(&targets::OBJ);
}

#[test]
fn npy_parser_survives_mutated_arrays() {
    smoke(&targets::NPY);
}

#[test]
fn shade_params_parser_survives_mutated_json() {
    smoke(&targets::SHADE_PARAMS);
}

#[test]
fn manifest_parser_survives_mutated_manifests() {
    smoke(&targets::MANIFEST);
}

#[test]
fn generator_config_parser_survives_mutated_configs() {
    smoke(&targets::GENERATOR_CONFIG);
}

#[test]
fn shard_decoder_survives_mutated_shards() {
    smoke(&targets::SHARD);
}

#[test]
fn dataset_reader_survives_mutated_directories() {
    smoke(&targets::DATASET);
}

#[test]
fn preset_parser_survives_mutated_presets() {
    smoke(&targets::PRESET);
}

#[test]
fn override_parser_survives_mutated_overrides() {
    smoke(&targets::OVERRIDES);
}

#[test]
fn checkpoint_loader_survives_mutated_checkpoints() {
    smoke(&targets::CHECKPOINT);
}

#[test]
fn metrics_parser_survives_mutated_logs() {
    smoke(&targets::METRICS);
}

#[test]
fn every_target_is_smoke_tested() {
    let names: Vec<&str> = targets::ALL.iter().map(|t| t.name).collect();
    assert_eq!(
        names,
        [
            "obj",
            "npy",
            "shade-params",
            "manifest",
            "generator-config",
            "shard",
            "dataset",
            "preset",
            "overrides",
            "checkpoint",
            "metrics",
            "reconstruct-png",
            "camera-json",
            "iqtt-answers"
        ]
    );
}

#[test]
fn reconstruct_png_reader_survives_mutated_images() {
    smoke(&targets::RECONSTRUCT_PNG);
}

#[test]
fn camera_file_parser_survives_mutated_json() {
    smoke(&targets::CAMERA_JSON);
}

#[test]
fn iqtt_answers_scoring_survives_mutated_json() {
    smoke(&targets::IQTT_ANSWERS);
}
