//! Dataset manifests (`manifest.json`).

use std::path::Path;

use pix2scene_scene::dataset::Manifest;

use super::JSON_TOKENS;
use super::seed_data::seed_datasets;
use crate::target::{AllocBound, Target};

/// `Manifest::parse` on the text (`Manifest::read` refuses invalid UTF-8 with its I/O error).
pub const MANIFEST: Target = Target {
    name: "manifest",
    what: "dataset manifest.json",
    seeds,
    dictionary: JSON_TOKENS,
    run,
    // The manifest's strings, shard entries and config, with vector doubling.
    bound: AllocBound {
        per_input_byte: 32,
        fixed: 256 << 10,
    },
};

fn run(data: &[u8]) -> Result<(), String> {
    let text = std::str::from_utf8(data).map_err(|e| format!("not UTF-8: {e}"))?;
    Manifest::parse(text, Path::new("manifest.json"))
        .map(drop)
        .map_err(|e| e.to_string())
}

fn seeds() -> Vec<Vec<u8>> {
    seed_datasets().iter().map(|d| d.manifest.clone()).collect()
}
