//! Training scenes streamed from a dataset directory, one shard in memory per reader.
//!
//! The last `held_out` records of the dataset are held out; the rest are visited once per
//! epoch in a seeded order: the shards in a shuffled order, and the records of each shard in a
//! shuffled order. Position `p` of the run's stream of training scenes is a pure function of the
//! seed and `p`, so batches do not depend on the number of producer threads and a resumed run
//! sees the same scenes. A reader walking the stream forwards reads each shard once per epoch.

use std::path::Path;

use pix2scene_scene::dataset::DatasetReader;
use pix2scene_scene::{GeneratorConfig, Record, Sample};
use rand::SeedableRng;
use rand::seq::SliceRandom;
use rand_chacha::ChaCha8Rng;

use crate::error::{Error, Result};

/// A dataset directory opened for training: what is needed to locate any training record.
#[derive(Clone, Debug)]
pub struct ShardedDataset {
    reader: DatasetReader,
    /// Training records per shard, in manifest order (the held-out tail excluded).
    train_per_shard: Vec<usize>,
    /// Training records in all.
    train_count: u64,
    held_out: usize,
    seed: u64,
}

/// What a reader keeps between calls: the shard it holds in memory and the orders of the epoch
/// it is in (also the order of a finite generated training set, see
/// [`ShardCache::epoch_order`]).
#[derive(Debug, Default)]
pub struct ShardCache {
    /// `(epoch, order of the scenes 0 .. N)` of a finite generated training set.
    scene_order: Option<(u64, Vec<u64>)>,
    /// `(shard index, its records)`.
    shard: Option<(usize, Vec<Sample>)>,
    /// `(epoch, shard order)`.
    shard_order: Option<(u64, Vec<usize>)>,
    /// `((epoch, shard), record order within the shard)`.
    record_order: Option<((u64, usize), Vec<usize>)>,
}

impl ShardCache {
    /// The order of scenes `0 .. n` in `epoch` of a finite training set seeded by `seed`: a
    /// seeded shuffle, kept until the epoch changes.
    pub fn epoch_order(&mut self, epoch: u64, n: u64, seed: u64) -> &[u64] {
        if self
            .scene_order
            .as_ref()
            .is_none_or(|(e, order)| *e != epoch || order.len() as u64 != n)
        {
            let mut order: Vec<u64> = (0..n).collect();
            let mut rng = ChaCha8Rng::seed_from_u64(seed);
            rng.set_stream(epoch);
            order.shuffle(&mut rng);
            self.scene_order = Some((epoch, order));
        }
        &self.scene_order.as_ref().expect("just filled").1
    }
}

impl ShardedDataset {
    /// Opens `dir` for training at image side `size`, holding out its last `held_out` records.
    ///
    /// # Errors
    /// An unreadable manifest or missing shard, images of another size, a 3D-IQTT dataset, or
    /// fewer than `held_out + 1` records; each names `data.dir` or `data.held_out`.
    pub fn open(dir: &Path, size: usize, held_out: usize, seed: u64) -> Result<Self> {
        let reader = DatasetReader::open(dir)?;
        let manifest = reader.manifest();
        let named = |key: &str, value: String, message: String| Error::InvalidValue {
            key: key.into(),
            value,
            message,
        };
        if manifest.size != size {
            return Err(named(
                "data.dir",
                dir.display().to_string(),
                format!(
                    "dataset images are {0}², model.resolution is {size}",
                    manifest.size
                ),
            ));
        }
        if manifest.preset == "iqtt" {
            return Err(named(
                "data.dir",
                dir.display().to_string(),
                "a 3D-IQTT dataset is trained with `pix2scene iqtt`".into(),
            ));
        }
        if manifest.count <= held_out as u64 {
            return Err(named(
                "data.held_out",
                held_out.to_string(),
                format!(
                    "the dataset {} holds only {} scenes",
                    dir.display(),
                    manifest.count
                ),
            ));
        }
        let train_count = manifest.count - held_out as u64;
        let train_per_shard = manifest
            .shards
            .iter()
            .map(|s| train_count.saturating_sub(s.start).min(s.count as u64) as usize)
            .collect();
        Ok(Self {
            reader,
            train_per_shard,
            train_count,
            held_out,
            seed,
        })
    }

    /// The generator configuration recorded in the manifest.
    pub fn generator_config(&self) -> &GeneratorConfig {
        &self.reader.manifest().config
    }

    /// The class names recorded in the manifest, in label order.
    pub fn classes(&self) -> &[String] {
        &self.reader.manifest().classes
    }

    /// Number of training records.
    pub fn train_count(&self) -> u64 {
        self.train_count
    }

    /// Training scene at stream position `pos` (epoch `pos / train_count`), read through
    /// `cache`, which keeps the last shard read and the orders of the current epoch, with its
    /// record index in the dataset.
    ///
    /// # Errors
    /// A shard that cannot be read or is corrupt, naming the file.
    pub fn train_sample(&self, pos: u64, cache: &mut ShardCache) -> Result<(u64, Sample)> {
        let epoch = pos / self.train_count;
        let mut offset = pos % self.train_count;
        if cache.shard_order.as_ref().is_none_or(|(e, _)| *e != epoch) {
            let mut order: Vec<usize> = (0..self.train_per_shard.len())
                .filter(|&k| self.train_per_shard[k] > 0)
                .collect();
            order.shuffle(&mut self.rng(epoch << 33));
            cache.shard_order = Some((epoch, order));
        }
        let (_, shard_order) = cache.shard_order.as_ref().expect("just filled");
        let shard = *shard_order
            .iter()
            .find(|&&k| {
                let n = self.train_per_shard[k] as u64;
                if offset < n {
                    true
                } else {
                    offset -= n;
                    false
                }
            })
            .expect("offset < train_count lies in some shard");
        if cache
            .record_order
            .as_ref()
            .is_none_or(|(key, _)| *key != (epoch, shard))
        {
            let mut order: Vec<usize> = (0..self.train_per_shard[shard]).collect();
            order.shuffle(&mut self.rng((epoch << 33) | (1 << 32) | shard as u64));
            cache.record_order = Some(((epoch, shard), order));
        }
        let record = cache.record_order.as_ref().expect("just filled").1[offset as usize];
        let first: usize = self.reader.manifest().shards[..shard]
            .iter()
            .map(|s| s.count)
            .sum();
        Ok((
            (first + record) as u64,
            self.load(shard, cache)?[record].clone(),
        ))
    }

    /// The held-out scenes (the dataset's last `held_out` records), in dataset order.
    ///
    /// # Errors
    /// As [`ShardedDataset::train_sample`].
    pub fn held_out(&self) -> Result<Vec<Sample>> {
        let mut out = Vec::with_capacity(self.held_out);
        let mut cache = ShardCache::default();
        for (k, &train) in self.train_per_shard.iter().enumerate() {
            if train < self.reader.manifest().shards[k].count {
                out.extend_from_slice(&self.load(k, &mut cache)?[train..]);
            }
        }
        Ok(out)
    }

    /// The records of shard `k`, from `cache` or read into it.
    fn load<'c>(&self, k: usize, cache: &'c mut ShardCache) -> Result<&'c [Sample]> {
        if cache.shard.as_ref().is_none_or(|(held, _)| *held != k) {
            let samples = self
                .reader
                .read_shard(k)?
                .into_iter()
                .map(|r| match r {
                    Record::View(s) => s,
                    Record::Question(_) => unreachable!("iqtt datasets are refused at open"),
                })
                .collect();
            cache.shard = Some((k, samples));
        }
        Ok(&cache.shard.as_ref().expect("just filled").1)
    }

    fn rng(&self, stream: u64) -> ChaCha8Rng {
        let mut rng = ChaCha8Rng::seed_from_u64(self.seed);
        rng.set_stream(stream);
        rng
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::PathBuf;

    use pix2scene_scene::dataset::{ShardPart, WriteOptions, write_dataset};
    use pix2scene_scene::{Generator, Preset};

    /// A fresh boxes dataset of `count` 8² records, `per_shard` per shard, in a scratch folder.
    fn dataset(name: &str, count: u64, per_shard: usize) -> (PathBuf, Generator) {
        let dir = std::env::temp_dir().join(format!("p2s-shards-{}-{name}", std::process::id()));
        let generator = Generator::new(GeneratorConfig::new(Preset::Boxes, 8, 11)).unwrap();
        let options = WriteOptions {
            count,
            part: ShardPart::ALL,
            records_per_shard: Some(per_shard),
            force: true,
            previews: 0,
        };
        write_dataset(&generator, &dir, &options, &|_| {}).unwrap();
        (dir, generator)
    }

    #[test]
    fn each_epoch_visits_every_training_record_once() {
        let (dir, generator) = dataset("epochs", 23, 5);
        let data = ShardedDataset::open(&dir, 8, 4, 7).unwrap();
        assert_eq!(data.train_count(), 19);
        let mut cache = ShardCache::default();
        for epoch in 0..2u64 {
            let mut seen: Vec<Sample> = (0..19)
                .map(|i| {
                    let (id, sample) = data.train_sample(epoch * 19 + i, &mut cache).unwrap();
                    assert_eq!(sample, generator.sample(id), "a record's id is its index");
                    sample
                })
                .collect();
            let expected: Vec<Sample> = (0..19).map(|i| generator.sample(i)).collect();
            assert_ne!(seen, expected, "records are shuffled");
            seen.sort_by(|a, b| a.camera.eye.x.total_cmp(&b.camera.eye.x));
            let mut expected = expected;
            expected.sort_by(|a, b| a.camera.eye.x.total_cmp(&b.camera.eye.x));
            assert_eq!(seen, expected);
        }
        let held = data.held_out().unwrap();
        let expected: Vec<Sample> = (19..23).map(|i| generator.sample(i)).collect();
        assert_eq!(held, expected);
        std::fs::remove_dir_all(dir).unwrap();
    }

    #[test]
    fn positions_do_not_depend_on_the_cache() {
        let (dir, _) = dataset("positions", 12, 4);
        let data = ShardedDataset::open(&dir, 8, 2, 3).unwrap();
        let mut forwards = ShardCache::default();
        let walked: Vec<(u64, Sample)> = (0..25)
            .map(|p| data.train_sample(p, &mut forwards).unwrap())
            .collect();
        for p in (0..25).rev() {
            let mut fresh = ShardCache::default();
            assert_eq!(
                data.train_sample(p, &mut fresh).unwrap(),
                walked[p as usize]
            );
        }
        assert_ne!(
            walked[..10],
            walked[10..20],
            "epochs are shuffled differently"
        );
        std::fs::remove_dir_all(dir).unwrap();
    }

    #[test]
    fn too_small_or_wrong_size_is_refused() {
        let (dir, _) = dataset("small", 4, 4);
        let msg = ShardedDataset::open(&dir, 8, 4, 0).unwrap_err().to_string();
        assert!(msg.starts_with("data.held_out = 4: the dataset "), "{msg}");
        let msg = ShardedDataset::open(&dir, 16, 1, 0)
            .unwrap_err()
            .to_string();
        assert!(
            msg.contains("dataset images are 8², model.resolution is 16"),
            "{msg}"
        );
        std::fs::remove_dir_all(dir).unwrap();
    }
}
