//! Training presets (`configs/*.toml`, `train --config`, a run's `config.toml`).

use std::path::Path;

use pix2scene_train::TrainPreset;

use crate::target::{AllocBound, Target};

/// TOML text → `TrainPreset::parse` (schema, unknown keys, validation). Beyond the common
/// properties: an accepted preset written back as TOML (`config.toml`) parses to the same
/// preset (the target panics otherwise).
pub const PRESET: Target = Target {
    name: "preset",
    what: "training presets (TOML)",
    seeds,
    dictionary: TOML_TOKENS,
    run,
    // toml's document tree (spans and values) and the preset's strings: up to 92 times the
    // input measured over 100,000 inputs.
    bound: AllocBound {
        per_input_byte: 128,
        fixed: 256 << 10,
    },
};

/// Tokens of TOML and keys of the preset schema.
const TOML_TOKENS: &[&[u8]] = &[
    b"[model]",
    b"[data]",
    b"[optim]",
    b"[run]",
    b"[[run]]",
    b" = ",
    b"\"\"\"",
    b"'''",
    b"inf",
    b"nan",
    b"-0.0",
    b"1e39",
    b"18446744073709551616",
    b"9223372036854775807",
    b"[3, 3]",
    b"{}",
    b"true",
    b"1979-05-27T07:32:00Z",
    b"resolution",
    b"width",
    b"z_dim",
    b"num_classes",
    b"preset",
    b"dir",
    b"held_out",
    b"train_scenes",
    b"light_count",
    b"batch",
    b"critic_steps",
    b"lr",
    b"beta2",
    b"refine_steps",
    b"refine_keep",
    b"regress_mirror",
    b"recon_levels",
    b"steps",
    b"log_every",
    b"checkpoint_every",
    b"keep_last",
    b"threads",
    b"device",
];

fn run(data: &[u8]) -> Result<(), String> {
    let text = std::str::from_utf8(data).map_err(|e| format!("not UTF-8: {e}"))?;
    let path = Path::new("preset.toml");
    let preset = TrainPreset::parse(text, path, &[]).map_err(|e| e.to_string())?;
    let again = TrainPreset::parse(&preset.to_toml(), path, &[])
        .unwrap_or_else(|e| panic!("an accepted preset written back does not parse: {e}"));
    assert_eq!(again, preset, "an accepted preset does not round-trip");
    Ok(())
}

fn seeds() -> Vec<Vec<u8>> {
    [
        include_str!("../../../configs/tiny-32.toml"),
        include_str!("../../../configs/cpu-64.toml"),
        include_str!("../../../configs/cpu-64-kept.toml"),
        include_str!("../../../configs/paper-128.toml"),
    ]
    .iter()
    .map(|t| t.as_bytes().to_vec())
    .collect()
}
