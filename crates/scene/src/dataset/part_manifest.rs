//! Part manifests: the record of a generation run in progress, and of a `--shard I/N` part.
//!
//! While a run (or part `I/N`) writes its shards it keeps `manifest-part-I-of-N.json` (a full
//! run is part 0 of 1): the manifest it will write, in which the shards finished so far carry
//! their size and checksum. A run killed at any moment leaves it behind; `generate --resume`
//! reads it (and any other part's, and a finished `manifest.json`), refuses it if it was made
//! with other flags, keeps every shard whose file still has the recorded checksum and writes the
//! others. The full run writes `manifest.json` last and removes the part manifests, so copying
//! the parts of a cluster job array into one directory and resuming there gives byte for byte
//! the full run's directory.

use std::fs;
use std::path::{Path, PathBuf};

use serde::Serialize;

use super::layout::ShardPart;
use super::manifest::{Completeness, Manifest};
use crate::error::{Error, Result};

/// File name of part `part`'s manifest.
pub fn part_manifest_name(part: ShardPart) -> String {
    format!("manifest-part-{}-of-{}.json", part.index, part.count)
}

/// Whether `name` is the name of a part manifest.
pub(crate) fn is_part_manifest_name(name: &str) -> bool {
    name.strip_prefix("manifest-part-")
        .and_then(|rest| rest.strip_suffix(".json"))
        .and_then(|rest| rest.split_once("-of-"))
        .is_some_and(|(i, n)| i.parse::<usize>().is_ok() && n.parse::<usize>().is_ok())
}

/// The part manifests in `dir`, sorted by name.
///
/// # Errors
/// [`Error::Io`] if `dir` cannot be listed.
pub(crate) fn part_manifests(dir: &Path) -> Result<Vec<PathBuf>> {
    let io = |source| Error::Io {
        path: dir.to_path_buf(),
        source,
    };
    let mut found = Vec::new();
    for entry in fs::read_dir(dir).map_err(io)? {
        let path = entry.map_err(io)?.path();
        if path
            .file_name()
            .and_then(|n| n.to_str())
            .is_some_and(is_part_manifest_name)
            && path.is_file()
        {
            found.push(path);
        }
    }
    found.sort();
    Ok(found)
}

/// Every record of earlier runs in `dir`: its `manifest.json` (if any) and its part manifests.
///
/// # Errors
/// An unreadable or malformed file, naming it.
pub(crate) fn recorded_runs(dir: &Path) -> Result<Vec<(PathBuf, Manifest)>> {
    let mut runs = Vec::new();
    let complete = dir.join("manifest.json");
    if complete.is_file() {
        let m = Manifest::read_file(&complete, Completeness::Complete)?;
        runs.push((complete, m));
    }
    for path in part_manifests(dir)? {
        let m = Manifest::read_file(&path, Completeness::Partial)?;
        runs.push((path, m));
    }
    Ok(runs)
}

/// Checks that `recorded` (read from `path`) describes the run `plan` would write, naming the
/// first flag that differs.
///
/// # Errors
/// [`Error::InvalidValue`] whose field is the `pix2scene generate` flag (or, for a setting no
/// flag gives, the manifest key) and whose message gives both values.
pub(crate) fn check_same_run(plan: &Manifest, recorded: &Manifest, path: &Path) -> Result<()> {
    let differs = |flag: &str, was: String, now: String| -> Result<()> {
        Err(Error::InvalidValue {
            field: flag.to_string(),
            message: format!(
                "{} records {was} but this run asks for {now}; resume with the flags of the \
                 interrupted run, or start over with --force",
                path.display()
            ),
        })
    };
    if recorded.preset != plan.preset {
        return differs("--preset", recorded.preset.clone(), plan.preset.clone());
    }
    if recorded.size != plan.size {
        return differs("--size", recorded.size.to_string(), plan.size.to_string());
    }
    if recorded.seed != plan.seed {
        return differs("--seed", recorded.seed.to_string(), plan.seed.to_string());
    }
    if recorded.count != plan.count {
        return differs(
            "--count",
            recorded.count.to_string(),
            plan.count.to_string(),
        );
    }
    let layout = |m: &Manifest| -> Vec<(String, u64, usize)> {
        m.shards
            .iter()
            .map(|s| (s.file.clone(), s.start, s.count))
            .collect()
    };
    if layout(recorded) != layout(plan) {
        let per_shard = |m: &Manifest| m.shards.first().map_or(0, |s| s.count);
        return differs(
            "--shard-size",
            format!("{} records per shard", per_shard(recorded)),
            format!("{} records per shard", per_shard(plan)),
        );
    }
    if let Some((key, was, now)) = first_difference(&recorded.config, &plan.config) {
        return differs(&flag_of(&key), was, now);
    }
    if recorded.classes != plan.classes {
        return differs(
            "--objects",
            format!("classes {:?}", recorded.classes),
            format!("classes {:?}", plan.classes),
        );
    }
    if recorded.generator_version != plan.generator_version {
        return differs(
            "generator_version",
            format!("pix2scene {}", recorded.generator_version),
            format!("pix2scene {}", plan.generator_version),
        );
    }
    Ok(())
}

/// The `generate` flag that sets the generator setting `key` (a dotted path into the config),
/// or `config.KEY` for a setting that no flag sets.
fn flag_of(key: &str) -> String {
    let flag = match key {
        "objects_dir" => "--objects",
        "camera.full_sphere" => "--full-sphere-camera",
        "lights.random_colors" => "--random-light-colors",
        "lights.channel_colors" => "--channel-light-colors",
        "lights.count_min" | "lights.count_max" => "--lights",
        "iqtt.mirror_distractor" => "--mirror-distractor",
        _ => return format!("config.{key}"),
    };
    flag.to_string()
}

/// The first leaf (dotted path, old value, new value) at which two serializable values differ.
fn first_difference<T: Serialize>(a: &T, b: &T) -> Option<(String, String, String)> {
    fn walk(
        key: &str,
        a: &serde_json::Value,
        b: &serde_json::Value,
    ) -> Option<(String, String, String)> {
        use serde_json::Value::Object;
        match (a, b) {
            (Object(x), Object(y)) => {
                let keys = x.keys().chain(y.keys().filter(|k| !x.contains_key(*k)));
                keys.into_iter().find_map(|k| {
                    let null = serde_json::Value::Null;
                    let path = if key.is_empty() {
                        k.clone()
                    } else {
                        format!("{key}.{k}")
                    };
                    walk(&path, x.get(k).unwrap_or(&null), y.get(k).unwrap_or(&null))
                })
            }
            _ if a != b => Some((key.to_string(), a.to_string(), b.to_string())),
            _ => None,
        }
    }
    let (a, b) = (serde_json::to_value(a).ok()?, serde_json::to_value(b).ok()?);
    walk("", &a, &b)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn part_manifest_names_round_trip() {
        let name = part_manifest_name(ShardPart {
            index: 3,
            count: 16,
        });
        assert_eq!(name, "manifest-part-3-of-16.json");
        assert!(is_part_manifest_name(&name));
        for other in [
            "manifest.json",
            "manifest-part-3-of-16.json.tmp",
            "manifest-part-x-of-2.json",
        ] {
            assert!(!is_part_manifest_name(other), "{other}");
        }
    }

    #[test]
    fn config_differences_name_their_flag() {
        let a = crate::GeneratorConfig::new(crate::Preset::Boxes, 16, 1);
        let mut b = a.clone();
        b.lights.count_max = 2;
        assert_eq!(
            first_difference(&a, &b),
            Some(("lights.count_max".into(), "3".into(), "2".into()))
        );
        assert_eq!(flag_of("lights.count_max"), "--lights");
        b = a.clone();
        b.shading.k_q = 0.25;
        let (key, _, _) = first_difference(&a, &b).unwrap();
        assert_eq!(flag_of(&key), "config.shading.k_q");
    }
}
