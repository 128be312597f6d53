//! Streaming dataset writer: one shard in memory at a time, every file written under a temporary
//! name and renamed into place, progress recorded in a part manifest, the manifest last; and
//! resuming a run that was interrupted.

use std::collections::HashMap;
use std::fs;
use std::path::{Path, PathBuf};

use rayon::prelude::*;

use super::checksum::{digest, file_matches};
use super::layout::{ShardPart, shard_file_name};
use super::manifest::{FORMAT_NAME, FORMAT_VERSION, Manifest, ShardEntry};
use super::part_manifest::{
    check_same_run, is_part_manifest_name, part_manifest_name, part_manifests, recorded_runs,
};
use super::shard_file::serialize_shard;
use crate::atomic_file::{temporary_path, write_atomic};
use crate::error::{Error, Result};
use crate::generator::{Generator, Record};
use crate::preview::write_previews;

/// Options of [`write_dataset`] and [`resume_dataset`].
#[derive(Clone, Debug)]
pub struct WriteOptions {
    /// Number of records (images, or questions for `iqtt`); at least 1.
    pub count: u64,
    /// Which part of the run to write.
    pub part: ShardPart,
    /// Records per shard file; `None` picks about 64 MiB per shard.
    pub records_per_shard: Option<usize>,
    /// Overwrite a non-empty output directory ([`write_dataset`] only).
    pub force: bool,
    /// Number of records shown in `previews/` (0 for none).
    pub previews: usize,
}

/// Bytes per shard the default shard size aims for.
const TARGET_SHARD_BYTES: usize = 64 << 20;

/// A part manifest is rewritten once the shard bytes written since its last write reach this
/// many times its own size, so that recording progress costs at most a small fraction of the
/// writing however small the shards (and a killed run redoes at most that fraction).
const PART_MANIFEST_RATIO: u64 = 64;

/// Generates `options.count` records with `generator` and writes them to `out` as
/// `manifest.json` + safetensors shards (+ `previews/`), calling `progress(n)` after every `n`
/// newly finished records.
///
/// Memory holds one shard at a time. Each shard file is written as `NAME.tmp` and renamed; the
/// shards finished so far, with their sizes and checksums, are recorded in the part manifest
/// `manifest-part-I-of-N.json` (see [`resume_dataset`]); the full run writes `manifest.json`
/// last and removes the part manifest, so an interrupted run never looks complete. A
/// `--shard I/N` part writes its shard files byte-identical to the full run's and keeps its part
/// manifest; [`resume_dataset`] over the union of all parts writes the full run's manifest.
///
/// # Errors
/// A zero count or shard size, a non-empty `out` without `force`, or any I/O failure (naming
/// the path).
pub fn write_dataset(
    generator: &Generator,
    out: &Path,
    options: &WriteOptions,
    progress: &(dyn Fn(u64) + Sync),
) -> Result<Manifest> {
    let plan = plan(generator, options)?;
    prepare_dir(out, options.force)?;
    write_shards(generator, out, options, plan, &HashMap::new(), progress)
}

/// Finishes the run [`write_dataset`] would make in `out`, keeping what an interrupted run (or
/// the parts of a cluster job array copied into `out`) already wrote.
///
/// Reads `manifest.json` and the part manifests in `out`; refuses them if they record another
/// run (other preset, size, seed, count, shard size or generator settings). Each shard of this
/// part whose file has the recorded size and BLAKE3 checksum is kept and not rewritten; the
/// others (missing, partial, altered, or never recorded) are generated, and this part's temporary
/// files are removed (another part's are left alone: parts may resume into one shared directory
/// at the same time). `out` then holds byte for byte what an uninterrupted run writes. An empty
/// or missing `out` is a fresh run. `options.force` is not used.
///
/// # Errors
/// As [`write_dataset`]; [`Error::InvalidValue`] naming the flag whose value differs from the
/// recorded run's; a malformed manifest or part manifest, naming the file.
pub fn resume_dataset(
    generator: &Generator,
    out: &Path,
    options: &WriteOptions,
    progress: &(dyn Fn(u64) + Sync),
) -> Result<Manifest> {
    let plan = plan(generator, options)?;
    fs::create_dir_all(out).map_err(io(out))?;
    let mut sealed: HashMap<String, Vec<ShardEntry>> = HashMap::new();
    for (path, recorded) in recorded_runs(out)? {
        check_same_run(&plan, &recorded, &path)?;
        for s in recorded.shards.into_iter().filter(ShardEntry::is_sealed) {
            sealed.entry(s.file.clone()).or_default().push(s);
        }
    }
    // Temporary files this part would write and an interrupted run of it left; those of other
    // parts, which may be writing into the same directory right now, are not touched.
    let part = options.part;
    let mut ours: Vec<String> = plan
        .shards
        .iter()
        .enumerate()
        .filter(|(k, _)| part.owns(*k))
        .map(|(_, s)| s.file.clone())
        .collect();
    ours.push(part_manifest_name(part));
    if part == ShardPart::ALL {
        ours.push("manifest.json".into());
    }
    for name in ours {
        let tmp = temporary_path(&out.join(name));
        if tmp.is_file() {
            fs::remove_file(&tmp).map_err(io(&tmp))?;
        }
    }
    write_shards(generator, out, options, plan, &sealed, progress)
}

/// The manifest `options` will produce, with no shard sealed yet.
fn plan(generator: &Generator, options: &WriteOptions) -> Result<Manifest> {
    if options.count == 0 {
        return Err(Error::InvalidValue {
            field: "--count".into(),
            message: "must be at least 1, got 0".into(),
        });
    }
    let config = generator.config();
    let views = if matches!(config.preset, crate::Preset::Iqtt) {
        4
    } else {
        1
    };
    let per_shard = match options.records_per_shard {
        Some(0) => {
            return Err(Error::InvalidValue {
                field: "--shard-size".into(),
                message: "must be at least 1, got 0".into(),
            });
        }
        Some(n) => n,
        None => (TARGET_SHARD_BYTES / (views * config.size_px * config.size_px * 29)).max(1),
    };
    let shards = (0..options.count.div_ceil(per_shard as u64))
        .map(|k| {
            let start = k * per_shard as u64;
            ShardEntry {
                file: shard_file_name(k as usize),
                start,
                count: (options.count - start).min(per_shard as u64) as usize,
                bytes: None,
                blake3: None,
            }
        })
        .collect();
    Ok(Manifest {
        format: FORMAT_NAME.into(),
        format_version: FORMAT_VERSION,
        generator_version: env!("CARGO_PKG_VERSION").into(),
        preset: config.preset.name().into(),
        count: options.count,
        size: config.size_px,
        seed: config.seed,
        camera_model: "pinhole".into(),
        fovy_deg: config.camera.fov_y_deg,
        classes: generator.classes(),
        shards,
        config: config.clone(),
    })
}

/// Writes the shards of `options.part` that are not in `sealed` with a matching file, then the
/// previews and the manifest (or, for a part, its part manifest).
fn write_shards(
    generator: &Generator,
    out: &Path,
    options: &WriteOptions,
    mut manifest: Manifest,
    sealed: &HashMap<String, Vec<ShardEntry>>,
    progress: &(dyn Fn(u64) + Sync),
) -> Result<Manifest> {
    let part = options.part;
    // What this part is asked to write, and what earlier runs recorded of its shards, are saved
    // before anything is changed: a run killed at any moment can be resumed only with the same
    // flags, and loses no record of a finished shard.
    for (k, entry) in manifest.shards.iter_mut().enumerate() {
        if let Some(first) = sealed.get(&entry.file).and_then(|c| c.first())
            && part.owns(k)
        {
            *entry = first.clone();
        }
    }
    let mut record = PartRecord::new(out.join(part_manifest_name(part)));
    record.write(&manifest)?;
    let complete = out.join("manifest.json");
    if complete.exists() {
        fs::remove_file(&complete).map_err(io(&complete))?;
    }
    for k in (0..manifest.shards.len()).filter(|&k| part.owns(k)) {
        let entry = &manifest.shards[k];
        let path = out.join(&entry.file);
        let mut kept = None;
        for candidate in sealed.get(&entry.file).into_iter().flatten() {
            if file_matches(&path, candidate)? {
                kept = Some(candidate.clone());
                break;
            }
        }
        if let Some(candidate) = kept {
            progress(entry.count as u64);
            manifest.shards[k] = candidate;
            continue;
        }
        let records: Vec<Record> = (entry.start..entry.start + entry.count as u64)
            .into_par_iter()
            .map(|i| {
                let r = generator.record(i);
                progress(1);
                r
            })
            .collect();
        let bytes = serialize_shard(&records, entry.start);
        write_atomic(&path, &bytes)?;
        let entry = &mut manifest.shards[k];
        entry.bytes = Some(bytes.len() as u64);
        entry.blake3 = Some(digest(&bytes));
        record.written(&manifest, bytes.len() as u64)?;
    }
    if options.previews > 0 && part.owns(0) {
        let n = (options.previews as u64).min(options.count);
        let records: Vec<Record> = (0..n)
            .into_par_iter()
            .map(|i| generator.record(i))
            .collect();
        write_previews(&out.join("previews"), &records)?;
    }
    if part == ShardPart::ALL {
        write_atomic(&complete, manifest_json(&manifest).as_bytes())?;
        for path in part_manifests(out)? {
            fs::remove_file(&path).map_err(io(&path))?;
        }
    } else {
        record.write(&manifest)?;
    }
    Ok(manifest)
}

/// A part manifest being kept up to date, rewritten often enough to lose little work and seldom
/// enough to cost little (see [`PART_MANIFEST_RATIO`]).
struct PartRecord {
    path: PathBuf,
    /// Size of the last version written, bytes.
    last_len: u64,
    /// Shard bytes written since then.
    pending: u64,
}

impl PartRecord {
    fn new(path: PathBuf) -> Self {
        Self {
            path,
            last_len: 0,
            pending: 0,
        }
    }

    /// Writes `manifest` now.
    fn write(&mut self, manifest: &Manifest) -> Result<()> {
        let json = manifest_json(manifest);
        write_atomic(&self.path, json.as_bytes())?;
        self.last_len = json.len() as u64;
        self.pending = 0;
        Ok(())
    }

    /// Notes that a shard of `bytes` bytes was written, and rewrites the part manifest if enough
    /// was written since its last version.
    fn written(&mut self, manifest: &Manifest, bytes: u64) -> Result<()> {
        self.pending += bytes;
        if self.pending >= PART_MANIFEST_RATIO * self.last_len {
            self.write(manifest)?;
        }
        Ok(())
    }
}

/// The JSON text of a manifest, as written to disk.
fn manifest_json(manifest: &Manifest) -> String {
    serde_json::to_string_pretty(manifest).expect("manifest serializes")
}

/// An [`Error::Io`] maker for `path`.
fn io(path: &Path) -> impl FnOnce(std::io::Error) -> Error {
    let path = path.to_path_buf();
    move |source| Error::Io { path, source }
}

/// The entries of a folder.
fn list_dir(dir: &Path) -> Result<Vec<PathBuf>> {
    fs::read_dir(dir)
        .map_err(io(dir))?
        .map(|e| e.map(|e| e.path()))
        .collect::<std::io::Result<_>>()
        .map_err(io(dir))
}

/// Creates `out`, or checks it is empty; with `force`, removes what an earlier run left.
fn prepare_dir(out: &Path, force: bool) -> Result<()> {
    if out.exists() {
        let entries = list_dir(out)?;
        if !entries.is_empty() {
            if !force {
                return Err(Error::InvalidValue {
                    field: "--out".into(),
                    message: format!(
                        "{} is not empty (pass --resume to finish an interrupted run there, or \
                         --force to overwrite)",
                        out.display()
                    ),
                });
            }
            // The manifest goes first, so the directory never looks complete while stale
            // shards are still there.
            let manifest = out.join("manifest.json");
            if manifest.exists() {
                fs::remove_file(&manifest).map_err(io(&manifest))?;
            }
            for e in entries {
                let name = e.file_name().and_then(|n| n.to_str()).unwrap_or_default();
                if name.starts_with("shard-") || is_part_manifest_name(name) {
                    fs::remove_file(&e).map_err(io(&e))?;
                } else if name == "previews" {
                    fs::remove_dir_all(&e).map_err(io(&e))?;
                }
            }
        }
    }
    fs::create_dir_all(out).map_err(io(out))
}
