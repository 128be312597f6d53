//! Reading a dataset back, one shard in memory at a time.

use std::path::{Path, PathBuf};

use glam::{Quat, Vec3};
use safetensors::{Dtype, SafeTensors};

use super::checksum::{check_size, verify};
use super::manifest::Manifest;
use super::part_manifest::part_manifests;
use crate::camera::Camera;
use crate::error::{Error, Result};
use crate::frame::Frame;
use crate::generator::{Record, Sample};
use crate::iqtt::Question;
use crate::preset::Preset;
use crate::sampling::MAX_LIGHTS;
use crate::shading::PointLight;

/// An opened dataset directory.
#[derive(Clone, Debug)]
pub struct DatasetReader {
    dir: PathBuf,
    manifest: Manifest,
    preset: Preset,
}

impl DatasetReader {
    /// Opens `dir`: reads `manifest.json` and checks that every shard file is present and, where
    /// the manifest records it (format version 2), has the recorded size. Checksums are verified
    /// when a shard is read ([`DatasetReader::read_shard`]), so opening costs no more than a
    /// directory listing.
    ///
    /// # Errors
    /// A missing or malformed manifest, a missing shard file (e.g. a directory holding only
    /// one `--shard I/N` part), or a shard file of another size ([`Error::Corrupt`]: truncated or
    /// altered).
    pub fn open(dir: &Path) -> Result<Self> {
        let path = dir.join("manifest.json");
        if !path.exists()
            && dir.is_dir()
            && let Some(part) = part_manifests(dir)?.into_iter().next()
        {
            return Err(Error::Parse {
                path,
                line: None,
                message: format!(
                    "missing: the directory holds an unfinished run or a --shard I/N part ({}); \
                     finish it with the same `pix2scene generate` command and --resume",
                    part.file_name().unwrap_or_default().to_string_lossy()
                ),
            });
        }
        let manifest = Manifest::read(dir)?;
        let preset: Preset = manifest.preset.parse()?;
        for shard in &manifest.shards {
            let path = dir.join(&shard.file);
            let Ok(meta) = std::fs::metadata(&path).and_then(|m| {
                if m.is_file() {
                    Ok(m)
                } else {
                    Err(std::io::ErrorKind::NotFound.into())
                }
            }) else {
                return Err(Error::Parse {
                    path: dir.join("manifest.json"),
                    line: None,
                    message: format!(
                        "shard {} is missing (a --shard I/N part holds only some shards; copy \
                         the parts into one directory and finish with generate --resume)",
                        shard.file
                    ),
                });
            };
            if let Some(size) = shard.bytes {
                check_size(&path, size, meta.len())?;
            }
        }
        Ok(Self {
            dir: dir.to_path_buf(),
            manifest,
            preset,
        })
    }

    /// The manifest.
    pub fn manifest(&self) -> &Manifest {
        &self.manifest
    }

    /// Number of records.
    pub fn len(&self) -> u64 {
        self.manifest.count
    }

    /// Whether the dataset holds no record.
    pub fn is_empty(&self) -> bool {
        self.manifest.count == 0
    }

    /// Reads shard `k` (in manifest order), verifies it against the size and checksum its
    /// manifest records (version-1 manifests record none) and unpacks its records. One shard is
    /// in memory at a time.
    ///
    /// # Errors
    /// An unreadable file; [`Error::Corrupt`] for a file whose size or checksum differs from the
    /// manifest's; or any error of [`DatasetReader::decode_shard`].
    ///
    /// # Panics
    /// If `k` is not below the number of shards.
    pub fn read_shard(&self, k: usize) -> Result<Vec<Record>> {
        let entry = &self.manifest.shards[k];
        let path = self.dir.join(&entry.file);
        let bytes = std::fs::read(&path).map_err(|source| Error::Io {
            path: path.clone(),
            source,
        })?;
        verify(&path, entry, &bytes)?;
        self.decode_shard(k, &bytes)
    }

    /// Checks and unpacks the bytes of shard `k`, however they were obtained (no checksum is
    /// verified here).
    ///
    /// # Errors
    /// Bytes that are not a safetensors file, a missing tensor, a tensor of the wrong dtype or
    /// shape, or a value out of range (light count, answer, class label), naming the shard's file
    /// and the tensor.
    ///
    /// # Panics
    /// If `k` is not below the number of shards.
    pub fn decode_shard(&self, k: usize, bytes: &[u8]) -> Result<Vec<Record>> {
        let entry = &self.manifest.shards[k];
        let path = self.dir.join(&entry.file);
        let st = SafeTensors::deserialize(bytes).map_err(|e| Error::Parse {
            path: path.clone(),
            line: None,
            message: format!("not a valid safetensors file: {e}"),
        })?;
        let shard = Shard {
            st,
            path: &path,
            n: entry.count,
            per: if self.preset == Preset::Iqtt { 4 } else { 1 },
            s: self.manifest.size,
            classes: self.manifest.classes.len(),
        };
        shard.records(self.preset)
    }

    /// All records in order, read shard by shard; the first error ends the iteration.
    pub fn records(&self) -> impl Iterator<Item = Result<Record>> + '_ {
        let mut failed = false;
        (0..self.manifest.shards.len())
            .map_while(move |k| {
                (!failed).then(|| {
                    let shard = self.read_shard(k);
                    failed = shard.is_err();
                    shard
                })
            })
            .flat_map(|shard| match shard {
                Ok(records) => records.into_iter().map(Ok).collect::<Vec<_>>(),
                Err(e) => vec![Err(e)],
            })
    }
}

/// One deserialized shard being checked and unpacked.
struct Shard<'a> {
    st: SafeTensors<'a>,
    path: &'a Path,
    n: usize,
    per: usize,
    s: usize,
    /// Number of class names in the manifest.
    classes: usize,
}

impl Shard<'_> {
    fn error(&self, message: String) -> Error {
        Error::Parse {
            path: self.path.to_path_buf(),
            line: None,
            message,
        }
    }

    /// The raw bytes of tensor `name`, checked against `dtype` and the shape `lead ++ rest`.
    fn tensor(&self, name: &str, dtype: Dtype, rest: &[usize], per_view: bool) -> Result<&[u8]> {
        let t = self
            .st
            .tensor(name)
            .map_err(|_| self.error(format!("tensor {name:?} is missing")))?;
        let mut expected = vec![self.n];
        if per_view && self.per > 1 {
            expected.push(self.per);
        }
        expected.extend_from_slice(rest);
        if t.dtype() != dtype {
            return Err(self.error(format!(
                "tensor {name:?} has dtype {:?}, expected {dtype:?}",
                t.dtype()
            )));
        }
        if t.shape() != expected.as_slice() {
            return Err(self.error(format!(
                "tensor {name:?} has shape {:?}, expected {expected:?}",
                t.shape()
            )));
        }
        Ok(t.data())
    }

    fn f32s(&self, name: &str, rest: &[usize], per_view: bool) -> Result<Vec<f32>> {
        let b = self.tensor(name, Dtype::F32, rest, per_view)?;
        Ok(b.chunks_exact(4)
            .map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]]))
            .collect())
    }

    fn i64s(&self, name: &str, rest: &[usize]) -> Result<Vec<i64>> {
        let b = self.tensor(name, Dtype::I64, rest, false)?;
        Ok(b.chunks_exact(8)
            .map(|c| i64::from_le_bytes(c.try_into().expect("8 bytes")))
            .collect())
    }

    fn records(&self, preset: Preset) -> Result<Vec<Record>> {
        let (s, l) = (self.s, MAX_LIGHTS);
        let image = self.f32s("image", &[s, s, 3], true)?;
        let depth = self.f32s("depth", &[s, s], true)?;
        let normal = self.f32s("normal", &[s, s, 3], true)?;
        let mask = self.tensor("mask", Dtype::U8, &[s, s], true)?;
        let eye = self.f32s("eye", &[3], true)?;
        let at = self.f32s("at", &[3], true)?;
        let up = self.f32s("up", &[3], true)?;
        let fovy = self.f32s("fovy_deg", &[], true)?;
        let light_pos = self.f32s("light_pos", &[l, 3], true)?;
        let light_pos_cam = self.f32s("light_pos_cam", &[l, 3], true)?;
        let light_color = self.f32s("light_color", &[l, 3], true)?;
        let light_count = self.tensor("light_count", Dtype::U8, &[], true)?;
        let class = if preset == Preset::Iqtt {
            vec![-1; self.n]
        } else {
            self.i64s("class", &[])?
        };
        if let Some((i, c)) = class
            .iter()
            .enumerate()
            .find(|&(_, &c)| c != -1 && !(0..self.classes as i64).contains(&c))
        {
            return Err(self.error(format!(
                "class {c} of record {i} is neither -1 nor an index into the manifest's {} \
                 classes",
                self.classes
            )));
        }
        let v3 = |a: &[f32], i: usize| Vec3::new(a[3 * i], a[3 * i + 1], a[3 * i + 2]);
        let (p2, p3) = (s * s, s * s * 3);
        let mut views = Vec::with_capacity(self.n * self.per);
        for v in 0..self.n * self.per {
            let count = light_count[v] as usize;
            if count > l {
                return Err(self.error(format!(
                    "light_count {count} of record {} exceeds {l}",
                    v / self.per
                )));
            }
            let lights = |pos: &[f32]| -> Vec<PointLight> {
                (0..count)
                    .map(|k| PointLight {
                        position: v3(pos, v * l + k),
                        color: v3(&light_color, v * l + k),
                    })
                    .collect()
            };
            views.push(Sample {
                frame: Frame {
                    size_px: s,
                    image: image[v * p3..(v + 1) * p3].to_vec(),
                    depth: depth[v * p2..(v + 1) * p2].to_vec(),
                    normal: normal[v * p3..(v + 1) * p3].to_vec(),
                    mask: mask[v * p2..(v + 1) * p2].to_vec(),
                },
                camera: Camera {
                    eye: v3(&eye, v),
                    at: v3(&at, v),
                    up: v3(&up, v),
                    fov_y_deg: fovy[v],
                },
                lights: lights(&light_pos),
                lights_cam: lights(&light_pos_cam),
                class: u32::try_from(class[v / self.per]).ok(),
            });
        }
        if preset != Preset::Iqtt {
            return Ok(views.into_iter().map(Record::View).collect());
        }
        let answer = self.i64s("answer", &[])?;
        let shape_id = self.i64s("shape_id", &[4])?;
        let rotation = self.f32s("rotation", &[4, 4], false)?;
        let mut views = views.into_iter();
        (0..self.n)
            .map(|q| {
                let a = answer[q];
                if !(0..3).contains(&a) {
                    return Err(self.error(format!("answer {a} of question {q} is not 0, 1 or 2")));
                }
                let four: Vec<Sample> = views.by_ref().take(4).collect();
                Ok(Record::Question(Box::new(Question {
                    views: four.try_into().expect("four views per question"),
                    answer: a as u8,
                    shape_ids: shape_id[4 * q..4 * q + 4].try_into().expect("four ids"),
                    rotations: std::array::from_fn(|k| {
                        Quat::from_slice(&rotation[16 * q + 4 * k..16 * q + 4 * k + 4])
                    }),
                })))
            })
            .collect()
    }
}
