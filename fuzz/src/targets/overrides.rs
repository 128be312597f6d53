//! `train --set key=value` overrides (and `--steps`, `--seed`, `--device`, which become them),
//! on a new run and on a resumed one.

use std::path::Path;

use pix2scene_train::TrainPreset;

use crate::target::{AllocBound, Target};

/// Lines of `key=value` overrides → `TrainPreset::parse` of `configs/tiny-32.toml` with them
/// (a new run), and `resumed_with` them (a resumed run: only the length, threads and device may
/// change).
pub const OVERRIDES: Target = Target {
    name: "overrides",
    what: "--set key=value overrides (new and resumed runs)",
    seeds,
    dictionary: OVERRIDE_TOKENS,
    run,
    // A value's TOML tree, the preset's table with it, and the preset converted from the
    // table, for the new and the resumed run: up to 133 times the input measured.
    bound: AllocBound {
        per_input_byte: 256,
        fixed: 512 << 10,
    },
};

/// Dotted keys, separators and TOML values.
const OVERRIDE_TOKENS: &[&[u8]] = &[
    b"\n",
    b"\"\"",
    b"[]",
    b"{}",
    b"inf",
    b"nan",
    b"1e39",
    b"18446744073709551616",
    b"-1",
    b"model.resolution=",
    b"data.preset=",
    b"data.light_count=",
    b"optim.lr=",
    b"optim.refine_keep=",
    b"run.steps=",
    b"run.seed=",
    b"run.device=",
    b"run.threads=",
    b"model",
    b"..",
    b"=",
];

const TINY: &str = include_str!("../../../configs/tiny-32.toml");

fn run(data: &[u8]) -> Result<(), String> {
    let text = std::str::from_utf8(data).map_err(|e| format!("not UTF-8: {e}"))?;
    let overrides: Vec<String> = text.lines().map(str::to_string).collect();
    let path = Path::new("configs/tiny-32.toml");
    let base = TrainPreset::parse(TINY, path, &[]).expect("tiny-32 parses");
    let resumed = base.resumed_with(&overrides).map_err(|e| e.to_string());
    let new = TrainPreset::parse(TINY, path, &overrides).map_err(|e| e.to_string())?;
    if let Ok(r) = resumed {
        assert_eq!(r.model, new.model, "a resume changed the model");
    }
    Ok(())
}

fn seeds() -> Vec<Vec<u8>> {
    [
        "run.steps=100\nrun.seed=3",
        "optim.lr=1e-4\ndata.preset=shapes\nrun.device=\"cpu\"",
        "data.light_count=[1, 3]\noptim.refine_steps=5\noptim.refine_keep=true\ndata.train_scenes=8",
        "run.threads=2\nrun.steps=7",
        "model.resolution=64\nmodel.width=16",
    ]
    .iter()
    .map(|t| t.as_bytes().to_vec())
    .collect()
}
