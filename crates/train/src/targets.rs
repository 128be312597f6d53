//! Refined depth targets kept between visits of a finite training set (`optim.refine_keep`;
//! not in the paper).
//!
//! With `optim.refine_steps = K` alone, every reconstruction is refined for K steps from the
//! decoder's output and the result is thrown away: the target can never be more than K steps
//! better than the network. With a finite training set each scene comes back once per epoch,
//! so its refined depth can be kept and refined further at the next visit: over E visits a
//! scene's target gets E·K steps of per-pixel optimization through the renderer, which is what
//! recovers boxes (docs/training-notes.md, *Kept targets*). The first visit starts from the
//! decoder's reconstruction, so a target keeps the scale (geometric-mean depth) the decoder gave the scene
//! then; refinement never changes it.
//!
//! Memory: one `R²` map of `f32` per training scene (`N · R² · 4` bytes: 16 MB for 1000 scenes
//! at 64²). The maps are part of a checkpoint (`refined-targets.bin`), so `--resume` continues
//! exactly.

use std::collections::BTreeMap;
use std::path::Path;

use pix2scene_scene::atomic_file::write_atomic;

use crate::error::{Error, Result};

/// First bytes of a `refined-targets.bin` file.
const MAGIC: &[u8; 8] = b"P2SREFT1";

/// The refined depth map of each training scene visited so far, by scene identifier
/// ([`HostBatch::scene`](crate::batch::HostBatch)).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct RefinedTargets {
    /// Pixels per map, `R²`.
    pixels: usize,
    maps: BTreeMap<u64, Vec<f32>>,
}

impl RefinedTargets {
    /// An empty store of `pixels`-pixel maps.
    pub fn new(pixels: usize) -> Self {
        Self {
            pixels,
            maps: BTreeMap::new(),
        }
    }

    /// Number of scenes with a kept map.
    pub fn len(&self) -> usize {
        self.maps.len()
    }

    /// Whether no map is kept yet.
    pub fn is_empty(&self) -> bool {
        self.maps.is_empty()
    }

    /// The starting depth maps of a batch, `[batch, R²]` flattened: each scene's kept map, or
    /// its row of `fallback` (the decoder's reconstruction) on a first visit.
    ///
    /// # Panics
    /// If `fallback` does not hold `scenes.len()` maps.
    pub fn starts(&self, scenes: &[u64], fallback: &[f32]) -> Vec<f32> {
        assert_eq!(
            fallback.len(),
            scenes.len() * self.pixels,
            "one map per scene"
        );
        scenes
            .iter()
            .zip(fallback.chunks(self.pixels))
            .flat_map(|(id, own)| self.maps.get(id).map_or(own, Vec::as_slice))
            .copied()
            .collect()
    }

    /// Keeps the refined maps of a batch, `[batch, R²]` flattened, replacing earlier ones.
    ///
    /// # Panics
    /// If `maps` does not hold `scenes.len()` maps.
    pub fn keep(&mut self, scenes: &[u64], maps: &[f32]) {
        assert_eq!(maps.len(), scenes.len() * self.pixels, "one map per scene");
        for (&id, map) in scenes.iter().zip(maps.chunks(self.pixels)) {
            self.maps.insert(id, map.to_vec());
        }
    }

    /// The file layout: `MAGIC`, pixels (u64), count (u64), then per scene in increasing
    /// identifier order its identifier (u64) and map (`pixels` f32), all little-endian.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(24 + self.maps.len() * (8 + 4 * self.pixels));
        out.extend_from_slice(MAGIC);
        out.extend_from_slice(&(self.pixels as u64).to_le_bytes());
        out.extend_from_slice(&(self.maps.len() as u64).to_le_bytes());
        for (id, map) in &self.maps {
            out.extend_from_slice(&id.to_le_bytes());
            for v in map {
                out.extend_from_slice(&v.to_le_bytes());
            }
        }
        out
    }

    /// Parses [`RefinedTargets::to_bytes`]'s layout, expecting `pixels`-pixel maps; `path`
    /// names the file in errors.
    ///
    /// # Errors
    /// [`Error::Checkpoint`] for another format, another map size, or a truncated or
    /// overlong file.
    pub fn from_bytes(bytes: &[u8], pixels: usize, path: &Path) -> Result<Self> {
        let bad = |message: String| Error::Checkpoint {
            path: path.to_path_buf(),
            message,
        };
        let word = |at: usize| -> Result<u64> {
            bytes
                .get(at..at + 8)
                .map(|b| u64::from_le_bytes(b.try_into().expect("8 bytes")))
                .ok_or_else(|| bad(format!("truncated at byte {at} of {}", bytes.len())))
        };
        if bytes.get(..8) != Some(MAGIC.as_slice()) {
            return Err(bad("not a refined-targets file".into()));
        }
        let stored = word(8)?;
        if stored != pixels as u64 {
            return Err(bad(format!(
                "holds maps of {stored} pixels, the model has {pixels}"
            )));
        }
        let count = word(16)?;
        let record = 8 + 4 * pixels;
        let expected = (count as usize)
            .checked_mul(record)
            .and_then(|n| n.checked_add(24))
            .ok_or_else(|| bad(format!("implausible count {count}")))?;
        if bytes.len() != expected {
            return Err(bad(format!(
                "{} bytes where {count} maps take {expected}",
                bytes.len()
            )));
        }
        let mut maps = BTreeMap::new();
        for r in bytes[24..].chunks(record) {
            let id = u64::from_le_bytes(r[..8].try_into().expect("8 bytes"));
            let map = r[8..]
                .chunks(4)
                .map(|b| f32::from_le_bytes(b.try_into().expect("4 bytes")))
                .collect();
            maps.insert(id, map);
        }
        Ok(Self { pixels, maps })
    }

    /// Writes the store to `path` atomically.
    ///
    /// # Errors
    /// [`Error::Io`] naming the file.
    pub fn write(&self, path: &Path) -> Result<()> {
        Ok(write_atomic(path, &self.to_bytes())?)
    }

    /// Reads a store of `pixels`-pixel maps written by [`RefinedTargets::write`].
    ///
    /// # Errors
    /// [`Error::Checkpoint`] for a missing file, [`RefinedTargets::from_bytes`]'s errors.
    pub fn read(path: &Path, pixels: usize) -> Result<Self> {
        let bytes = std::fs::read(path).map_err(|e| Error::Checkpoint {
            path: path.to_path_buf(),
            message: e.to_string(),
        })?;
        Self::from_bytes(&bytes, pixels, path)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn first_visits_start_from_the_fallback_later_ones_from_the_kept_map() {
        let mut t = RefinedTargets::new(2);
        let fallback = [1.0, 2.0, 3.0, 4.0];
        assert_eq!(t.starts(&[7, 9], &fallback), fallback);
        t.keep(&[9], &[5.0, 6.0]);
        assert_eq!(t.starts(&[7, 9], &fallback), [1.0, 2.0, 5.0, 6.0]);
        t.keep(&[9, 7], &[8.0, 8.5, 0.5, 0.25]);
        assert_eq!(t.starts(&[7, 9], &fallback), [0.5, 0.25, 8.0, 8.5]);
        assert_eq!(t.len(), 2);
    }

    #[test]
    fn round_trip_through_a_file() {
        let mut t = RefinedTargets::new(3);
        t.keep(&[1 << 40, 2], &[0.5, 1.5, f32::MIN_POSITIVE, 1.0, 2.0, 3.0]);
        let path = std::env::temp_dir().join(format!("p2s-targets-{}.bin", std::process::id()));
        t.write(&path).unwrap();
        assert_eq!(RefinedTargets::read(&path, 3).unwrap(), t);
        std::fs::remove_file(&path).unwrap();
        let empty = RefinedTargets::new(3);
        let bytes = empty.to_bytes();
        assert_eq!(RefinedTargets::from_bytes(&bytes, 3, &path).unwrap(), empty);
    }

    #[test]
    fn malformed_files_are_rejected_naming_the_file() {
        let mut t = RefinedTargets::new(2);
        t.keep(&[4], &[1.0, 2.0]);
        let bytes = t.to_bytes();
        let path = Path::new("run/checkpoints/step-00000010/refined-targets.bin");
        let err = |b: &[u8], pixels: usize| {
            RefinedTargets::from_bytes(b, pixels, path)
                .unwrap_err()
                .to_string()
        };
        let at = path.display();
        assert_eq!(
            err(&bytes, 3),
            format!("{at}: holds maps of 2 pixels, the model has 3")
        );
        assert_eq!(
            err(&bytes[..bytes.len() - 1], 2),
            format!("{at}: 39 bytes where 1 maps take 40")
        );
        assert_eq!(
            err(&bytes[..12], 2),
            format!("{at}: truncated at byte 8 of 12")
        );
        assert_eq!(
            err(b"P2SREFT0........", 2),
            format!("{at}: not a refined-targets file")
        );
    }
}
