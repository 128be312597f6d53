//! Helpers shared by this crate's unit tests.

use std::path::Path;

use crate::config::TrainPreset;
use crate::error::Result;

/// Parses preset `text` (named `p.toml` in errors) with `overrides`.
pub(crate) fn parse(text: &str, overrides: &[&str]) -> Result<TrainPreset> {
    let overrides: Vec<String> = overrides.iter().map(|s| s.to_string()).collect();
    TrainPreset::parse(text, Path::new("p.toml"), &overrides)
}

/// The default preset (`configs/cpu-64.toml`'s values) with `overrides`, validated.
pub(crate) fn preset(overrides: &[&str]) -> Result<TrainPreset> {
    parse("", overrides)
}
