//! `manifest.json`: what a dataset holds, how it was made, and the size and checksum of every
//! shard file.

use std::path::Path;

use serde::{Deserialize, Serialize};

use super::checksum::is_digest;
use crate::error::{Error, Result, one_line};
use crate::generator::GeneratorConfig;

/// Value of the manifest's `format` field.
pub const FORMAT_NAME: &str = "pix2scene-dataset";
/// Format version written by this build: version 2 records each shard's size and BLAKE3
/// checksum.
pub const FORMAT_VERSION: u32 = 2;
/// Oldest format version still read: version 1 manifests have no shard checksums, so their
/// shards are read without verification.
pub const OLDEST_FORMAT_VERSION: u32 = 1;

/// One shard file and the records it holds.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ShardEntry {
    /// File name inside the dataset directory (a plain name, no folder).
    pub file: String,
    /// Global index of the shard's first record.
    pub start: u64,
    /// Number of records, at least 1.
    pub count: usize,
    /// Size of the file, bytes; present from format version 2 on (and in a part manifest, for
    /// the shards finished so far).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bytes: Option<u64>,
    /// BLAKE3 digest of the whole file, 64 lowercase hexadecimal digits (what `b3sum` prints);
    /// present whenever `bytes` is.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub blake3: Option<String>,
}

impl ShardEntry {
    /// Whether the shard's size and checksum are recorded (it was written completely).
    pub fn is_sealed(&self) -> bool {
        self.bytes.is_some() && self.blake3.is_some()
    }
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

/// Whether a manifest must record every shard's checksum (`manifest.json` of format version 2)
/// or may record only some (a part manifest of a run in progress).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Completeness {
    /// `manifest.json`: from format version 2 on, every shard is sealed.
    Complete,
    /// `manifest-part-I-of-N.json`: the shards finished so far are sealed.
    Partial,
}

impl Manifest {
    /// Reads and checks `dir/manifest.json`.
    ///
    /// # Errors
    /// [`Error::Io`] if unreadable; [`Error::Parse`] if malformed, of another format or version,
    /// or inconsistent (see [`Manifest::parse`]).
    pub fn read(dir: &Path) -> Result<Self> {
        Self::read_file(&dir.join("manifest.json"), Completeness::Complete)
    }

    /// Reads and checks a manifest file of either kind.
    pub(crate) fn read_file(path: &Path, completeness: Completeness) -> Result<Self> {
        let text = std::fs::read_to_string(path).map_err(|source| Error::Io {
            path: path.to_path_buf(),
            source,
        })?;
        Self::parse_checked(&text, path, completeness)
    }

    /// Parses and checks the text of a `manifest.json`; `path` is only used in error messages.
    ///
    /// # Errors
    /// [`Error::Parse`] naming `path` if the text is not JSON of this format, the format or
    /// version is foreign, a version-2 shard lacks its size or checksum, a shard's file is not a
    /// plain file name, the shards' `start` and `count` do not tile `0..count`, or `preset`,
    /// `size`, `seed`, `fovy_deg` disagree with `config`, or `config` is invalid.
    pub fn parse(text: &str, path: &Path) -> Result<Self> {
        Self::parse_checked(text, path, Completeness::Complete)
    }

    fn parse_checked(text: &str, path: &Path, completeness: Completeness) -> Result<Self> {
        let parse = |message: String| Error::Parse {
            path: path.to_path_buf(),
            line: None,
            message,
        };
        let m: Manifest =
            serde_json::from_str(text).map_err(|e| parse(one_line(&e.to_string())))?;
        if m.format != FORMAT_NAME {
            return Err(parse(format!(
                "format is {:?}, expected {FORMAT_NAME:?}",
                m.format
            )));
        }
        if !(OLDEST_FORMAT_VERSION..=FORMAT_VERSION).contains(&m.format_version) {
            return Err(parse(format!(
                "format_version {} is not supported (this build reads \
                 {OLDEST_FORMAT_VERSION} to {FORMAT_VERSION})",
                m.format_version
            )));
        }
        m.check_shards(completeness).map_err(parse)?;
        m.check_config().map_err(parse)?;
        Ok(m)
    }

    /// Checks that the shards tile the records and carry what their format version requires.
    fn check_shards(&self, completeness: Completeness) -> std::result::Result<(), String> {
        let mut next = 0u64;
        for (k, s) in self.shards.iter().enumerate() {
            let plain = !s.file.is_empty()
                && s.file != "."
                && s.file != ".."
                && !s.file.contains(['/', '\\', '\0']);
            if !plain {
                return Err(format!(
                    "shards[{k}].file {:?} is not a plain file name",
                    s.file
                ));
            }
            if s.start != next {
                return Err(format!(
                    "shards[{k}].start is {}, expected {next} (the records of the shards before it)",
                    s.start
                ));
            }
            if s.count == 0 {
                return Err(format!("shards[{k}].count is 0"));
            }
            next = next.saturating_add(s.count as u64);
            if s.bytes.is_some() != s.blake3.is_some() {
                return Err(format!(
                    "shards[{k}] has only one of bytes and blake3 (both or neither)"
                ));
            }
            if let Some(digest) = &s.blake3
                && !is_digest(digest)
            {
                return Err(format!(
                    "shards[{k}].blake3 {digest:?} is not 64 lowercase hexadecimal digits"
                ));
            }
            let required = self.format_version >= 2 && completeness == Completeness::Complete;
            if required && !s.is_sealed() {
                return Err(format!(
                    "shards[{k}] ({}) has no bytes and blake3 (format_version {} records them \
                     for every shard)",
                    s.file, self.format_version
                ));
            }
        }
        if next != self.count {
            return Err(format!(
                "shards hold {next} records but count is {}",
                self.count
            ));
        }
        Ok(())
    }

    /// Checks that the summary fields repeat `config`, and `config` itself.
    fn check_config(&self) -> std::result::Result<(), String> {
        let c = &self.config;
        let disagree = |field: &str, top: String, inner: String| {
            Err(format!("{field} is {top} but config says {inner}"))
        };
        if self.preset != c.preset.name() {
            return disagree("preset", format!("{:?}", self.preset), c.preset.to_string());
        }
        if self.size != c.size_px {
            return disagree("size", self.size.to_string(), c.size_px.to_string());
        }
        if self.seed != c.seed {
            return disagree("seed", self.seed.to_string(), c.seed.to_string());
        }
        if self.fovy_deg.to_bits() != c.camera.fov_y_deg.to_bits() {
            return disagree(
                "fovy_deg",
                self.fovy_deg.to_string(),
                c.camera.fov_y_deg.to_string(),
            );
        }
        c.validate().map_err(|e| format!("config.{e}"))
    }
}
