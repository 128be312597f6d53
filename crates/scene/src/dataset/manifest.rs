//! `manifest.json`: what a dataset holds and how it was made.

use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::generator::GeneratorConfig;

/// Value of the manifest's `format` field.
pub const FORMAT_NAME: &str = "pix2scene-dataset";
/// Current format version; readers reject other versions.
pub const FORMAT_VERSION: u32 = 1;

/// One shard file and the records it holds.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ShardEntry {
    /// File name inside the dataset directory.
    pub file: String,
    /// Global index of the shard's first record.
    pub start: u64,
    /// Number of records.
    pub count: usize,
}

/// The dataset's `manifest.json`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Manifest {
    /// Always [`FORMAT_NAME`].
    pub format: String,
    /// [`FORMAT_VERSION`] of the writer.
    pub format_version: u32,
    /// Version of pix2scene that wrote the dataset.
    pub generator_version: String,
    /// Preset name (duplicated from `config` for quick reading).
    pub preset: String,
    /// Number of records (images, or questions for `iqtt`).
    pub count: u64,
    /// Image side, pixels.
    pub size: usize,
    /// Base seed.
    pub seed: u64,
    /// Camera model: always `"pinhole"`; rays through pixel centres, depth along the ray.
    pub camera_model: String,
    /// Vertical field of view of every camera, degrees.
    pub fovy_deg: f32,
    /// Class names for `class` labels (ShapeNet-like categories or the user's folders).
    pub classes: Vec<String>,
    /// The shards, in record order.
    pub shards: Vec<ShardEntry>,
    /// The full generator configuration: camera and light sampling, shading constants
    /// (albedo, ambient, k_l, k_q), background, 3D-IQTT options.
    pub config: GeneratorConfig,
}

impl Manifest {
    /// Reads and checks `dir/manifest.json`.
    ///
    /// # Errors
    /// [`Error::Io`] if unreadable; [`Error::Parse`] if malformed, of another format or version,
    /// or inconsistent (shard counts not adding up to `count`).
    pub fn read(dir: &Path) -> Result<Self> {
        let path = dir.join("manifest.json");
        let text = std::fs::read_to_string(&path).map_err(|source| Error::Io {
            path: path.clone(),
            source,
        })?;
        let parse = |message: String| Error::Parse {
            path: path.clone(),
            line: None,
            message,
        };
        let m: Manifest = serde_json::from_str(&text).map_err(|e| parse(e.to_string()))?;
        if m.format != FORMAT_NAME {
            return Err(parse(format!(
                "format is {:?}, expected {FORMAT_NAME:?}",
                m.format
            )));
        }
        if m.format_version != FORMAT_VERSION {
            return Err(parse(format!(
                "format_version {} is not supported (this build reads {FORMAT_VERSION})",
                m.format_version
            )));
        }
        let total: u64 = m.shards.iter().map(|s| s.count as u64).sum();
        if total != m.count {
            return Err(parse(format!(
                "shards hold {total} records but count is {}",
                m.count
            )));
        }
        Ok(m)
    }
}
