//! Streaming dataset writer: one shard in memory at a time, every file written under a temporary
//! name and renamed into place, the manifest last.

use std::collections::HashMap;
use std::fs;
use std::path::{Path, PathBuf};

use rayon::prelude::*;
use safetensors::Dtype;
use safetensors::tensor::TensorView;

use super::layout::{ShardPart, shard_file_name};
use super::manifest::{FORMAT_NAME, FORMAT_VERSION, Manifest, ShardEntry};
use crate::error::{Error, Result};
use crate::generator::{Generator, Record, Sample};
use crate::preview::write_previews;
use crate::sampling::MAX_LIGHTS;

/// Options of [`write_dataset`].
#[derive(Clone, Debug)]
pub struct WriteOptions {
    /// Number of records (images, or questions for `iqtt`); at least 1.
    pub count: u64,
    /// Which part of the run to write.
    pub part: ShardPart,
    /// Records per shard file; `None` picks about 64 MiB per shard.
    pub records_per_shard: Option<usize>,
    /// Overwrite a non-empty output directory.
    pub force: bool,
    /// Number of records shown in `previews/` (0 for none).
    pub previews: usize,
}

/// Bytes per shard the default shard size aims for.
const TARGET_SHARD_BYTES: usize = 64 << 20;

/// Generates `options.count` records with `generator` and writes them to `out` as
/// `manifest.json` + safetensors shards (+ `previews/`), calling `progress(n)` after every `n`
/// newly finished records.
///
/// Memory holds one shard at a time. Each shard file is written as `NAME.tmp` and renamed, and
/// the manifest is written last, so an interrupted run never looks complete. A `--shard I/N` part
/// writes its shard files byte-identical to the full run's, and the same manifest, so copying all
/// parts into one directory gives exactly the full dataset.
///
/// # Errors
/// A zero count, a non-empty `out` without `force`, or any I/O failure (naming the path).
pub fn write_dataset(
    generator: &Generator,
    out: &Path,
    options: &WriteOptions,
    progress: &(dyn Fn(u64) + Sync),
) -> Result<Manifest> {
    if options.count == 0 {
        return Err(Error::InvalidValue {
            field: "--count".into(),
            message: "must be at least 1, got 0".into(),
        });
    }
    prepare_dir(out, options.force)?;
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
        None => {
            let s = config.size_px * config.size_px;
            (TARGET_SHARD_BYTES / (views * s * 29)).max(1)
        }
    };
    let shards: Vec<ShardEntry> = (0..options.count.div_ceil(per_shard as u64))
        .map(|k| {
            let start = k * per_shard as u64;
            ShardEntry {
                file: shard_file_name(k as usize),
                start,
                count: (options.count - start).min(per_shard as u64) as usize,
            }
        })
        .collect();
    let manifest = Manifest {
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
        shards: shards.clone(),
        config: config.clone(),
    };
    for (k, shard) in shards.iter().enumerate() {
        if !options.part.owns(k) {
            continue;
        }
        let records: Vec<Record> = (shard.start..shard.start + shard.count as u64)
            .into_par_iter()
            .map(|i| {
                let r = generator.record(i);
                progress(1);
                r
            })
            .collect();
        let bytes = serialize_shard(&records, shard.start)?;
        write_atomic(&out.join(&shard.file), &bytes)?;
    }
    if options.previews > 0 && options.part.owns(0) {
        let n = (options.previews as u64).min(options.count);
        let records: Vec<Record> = (0..n)
            .into_par_iter()
            .map(|i| generator.record(i))
            .collect();
        write_previews(&out.join("previews"), &records)?;
    }
    let json = serde_json::to_string_pretty(&manifest).expect("manifest serializes");
    write_atomic(&out.join("manifest.json"), json.as_bytes())?;
    Ok(manifest)
}

/// Creates `out`, or checks it is empty; with `force`, removes what an earlier run left.
fn prepare_dir(out: &Path, force: bool) -> Result<()> {
    let io = |path: &Path| {
        let path = path.to_path_buf();
        move |source| Error::Io { path, source }
    };
    if out.exists() {
        let entries: Vec<PathBuf> = fs::read_dir(out)
            .map_err(io(out))?
            .map(|e| e.map(|e| e.path()))
            .collect::<std::io::Result<_>>()
            .map_err(io(out))?;
        if !entries.is_empty() {
            if !force {
                return Err(Error::InvalidValue {
                    field: "--out".into(),
                    message: format!("{} is not empty (pass --force to overwrite)", out.display()),
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
                if name.starts_with("shard-") {
                    fs::remove_file(&e).map_err(io(&e))?;
                } else if name == "previews" {
                    fs::remove_dir_all(&e).map_err(io(&e))?;
                }
            }
        }
    }
    fs::create_dir_all(out).map_err(io(out))
}

/// Writes `bytes` to `path` through a temporary file in the same directory and a rename.
pub(crate) fn write_atomic(path: &Path, bytes: &[u8]) -> Result<()> {
    let mut tmp = path.as_os_str().to_owned();
    tmp.push(".tmp");
    let tmp = PathBuf::from(tmp);
    fs::write(&tmp, bytes).map_err(|source| Error::Io {
        path: tmp.clone(),
        source,
    })?;
    fs::rename(&tmp, path).map_err(|source| Error::Io {
        path: path.to_path_buf(),
        source,
    })
}

/// A named little-endian tensor being assembled.
struct Column {
    name: &'static str,
    dtype: Dtype,
    shape: Vec<usize>,
    bytes: Vec<u8>,
}

impl Column {
    fn new(name: &'static str, dtype: Dtype, shape: Vec<usize>) -> Self {
        Self {
            name,
            dtype,
            shape,
            bytes: Vec::new(),
        }
    }

    fn f32s(&mut self, values: impl IntoIterator<Item = f32>) {
        for v in values {
            self.bytes.extend_from_slice(&v.to_le_bytes());
        }
    }

    fn i64s(&mut self, values: impl IntoIterator<Item = i64>) {
        for v in values {
            self.bytes.extend_from_slice(&v.to_le_bytes());
        }
    }
}

/// Lays out the records of one shard as safetensors bytes (field list in the README).
fn serialize_shard(records: &[Record], start: u64) -> Result<Vec<u8>> {
    let n = records.len();
    let views: Vec<&Sample> = records
        .iter()
        .flat_map(|r| match r {
            Record::View(s) => std::slice::from_ref(s).iter(),
            Record::Question(q) => q.views.iter(),
        })
        .collect();
    let per = views.len() / n;
    let s = views[0].frame.size_px;
    // Leading axes: [n] for views, [n, 4] for questions.
    let lead = |rest: &[usize]| {
        let mut v = if per == 1 { vec![n] } else { vec![n, per] };
        v.extend_from_slice(rest);
        v
    };
    let mut cols = vec![
        Column::new("image", Dtype::F32, lead(&[s, s, 3])),
        Column::new("depth", Dtype::F32, lead(&[s, s])),
        Column::new("normal", Dtype::F32, lead(&[s, s, 3])),
        Column::new("mask", Dtype::U8, lead(&[s, s])),
        Column::new("eye", Dtype::F32, lead(&[3])),
        Column::new("at", Dtype::F32, lead(&[3])),
        Column::new("up", Dtype::F32, lead(&[3])),
        Column::new("fovy_deg", Dtype::F32, lead(&[])),
        Column::new("light_pos", Dtype::F32, lead(&[MAX_LIGHTS, 3])),
        Column::new("light_pos_cam", Dtype::F32, lead(&[MAX_LIGHTS, 3])),
        Column::new("light_color", Dtype::F32, lead(&[MAX_LIGHTS, 3])),
        Column::new("light_count", Dtype::U8, lead(&[])),
    ];
    for v in &views {
        let f = &v.frame;
        cols[0].f32s(f.image.iter().copied());
        cols[1].f32s(f.depth.iter().copied());
        cols[2].f32s(f.normal.iter().copied());
        cols[3].bytes.extend_from_slice(&f.mask);
        cols[4].f32s(v.camera.eye.to_array());
        cols[5].f32s(v.camera.at.to_array());
        cols[6].f32s(v.camera.up.to_array());
        cols[7].f32s([v.camera.fov_y_deg]);
        for (col, lights) in [(8, &v.lights), (9, &v.lights_cam)] {
            for k in 0..MAX_LIGHTS {
                let p = lights.get(k).map_or([0.0; 3], |l| l.position.to_array());
                cols[col].f32s(p);
            }
        }
        for k in 0..MAX_LIGHTS {
            let c = v.lights.get(k).map_or([0.0; 3], |l| l.color.to_array());
            cols[10].f32s(c);
        }
        cols[11].bytes.push(v.lights.len() as u8);
    }
    let mut index = Column::new("index", Dtype::I64, vec![n]);
    index.i64s((0..n as u64).map(|i| (start + i) as i64));
    cols.push(index);
    match &records[0] {
        Record::View(_) => {
            let mut class = Column::new("class", Dtype::I64, vec![n]);
            class.i64s(views.iter().map(|v| v.class.map_or(-1, i64::from)));
            cols.push(class);
        }
        Record::Question(_) => {
            let mut answer = Column::new("answer", Dtype::I64, vec![n]);
            let mut shape_id = Column::new("shape_id", Dtype::I64, vec![n, 4]);
            let mut rotation = Column::new("rotation", Dtype::F32, vec![n, 4, 4]);
            for r in records {
                if let Record::Question(q) = r {
                    answer.i64s([i64::from(q.answer)]);
                    shape_id.i64s(q.shape_ids);
                    rotation.f32s(q.rotations.iter().flat_map(|r| r.to_array()));
                }
            }
            cols.extend([answer, shape_id, rotation]);
        }
    }
    let tensors: Vec<(&str, TensorView<'_>)> = cols
        .iter()
        .map(|c| {
            let view = TensorView::new(c.dtype, c.shape.clone(), &c.bytes)
                .expect("column byte length matches its shape");
            (c.name, view)
        })
        .collect();
    let info = HashMap::from([("format".to_string(), FORMAT_NAME.to_string())]);
    Ok(safetensors::serialize(tensors, Some(info)).expect("valid tensors serialize"))
}
