//! The questions of a 3D-IQTT run and their split: training questions (the first of them
//! labelled), validation and test questions at disjoint index ranges of one generator.
//!
//! - training: questions `0 .. iqtt.train_questions`; the first `labels` come with their
//!   answers, all are seen without them by Pix2Scene's unsupervised terms;
//! - validation: questions `2^48 + i`, `i < iqtt.validation`;
//! - test: questions `2^49 + i`, `i < iqtt.test`.
//!
//! The three ranges are disjoint index ranges of the same seeded generator, so the same shape
//! pool (`iqtt.pool_size` shapes) appears in all three, each question under its own rotations,
//! cameras and lights. From a dataset directory, its manifest's generator regenerates its
//! records exactly (checked against its first stored question) and supplies the validation and
//! test questions at the same high indices.

use std::ops::Range;
use std::path::Path;
use std::sync::Arc;

use pix2scene_scene::dataset::DatasetReader;
use pix2scene_scene::{Generator, GeneratorConfig, IqttOptions, Preset, Question, Record};
use rayon::prelude::*;

use super::config::IqttSection;
use crate::data::{HELD_OUT_BASE, SceneSource};
use crate::error::{Error, Result};
use crate::shards::ShardCache;

/// Index of the first validation question: far above any training index.
pub const VALIDATION_BASE: u64 = HELD_OUT_BASE;

/// Index of the first test question: above every validation index.
pub const TEST_BASE: u64 = 1 << 49;

/// Stream of the labelled questions' per-epoch orders (apart from the unlabelled images').
const LABELLED_STREAM_SEED: u64 = 0x1ABE_11ED;

/// Stream of the unlabelled questions' per-epoch orders (pseudo-labelling).
const UNLABELLED_STREAM_SEED: u64 = 0x0DD_BA11;

/// The questions of a run: the generator and the sizes of the training set and its labelled
/// part.
#[derive(Clone, Debug)]
pub struct QuestionSet {
    generator: Arc<Generator>,
    train: u64,
    labels: u64,
    validation: u64,
    test: u64,
    seed: u64,
}

impl QuestionSet {
    /// The questions of `section` at `size`² pixels with `labels` labelled training questions.
    ///
    /// # Errors
    /// [`Error::InvalidValue`] naming `iqtt.dir` for a dataset that is not 3D-IQTT questions, of
    /// another image size, or whose records its manifest does not regenerate, and naming
    /// `iqtt.train_questions` for a dataset with fewer questions; scene errors for an unreadable
    /// dataset.
    pub fn open(section: &IqttSection, size: usize, labels: u64) -> Result<Self> {
        let generator = if section.dir.is_empty() {
            let mut config = GeneratorConfig::new(Preset::Iqtt, size, section.seed);
            if section.hard {
                config.iqtt = IqttOptions::hard();
            }
            Generator::new(config)?
        } else {
            from_dataset(Path::new(&section.dir), size, section.train_questions)?
        };
        let seed = generator.config().seed;
        Ok(Self {
            generator: Arc::new(generator),
            train: section.train_questions,
            labels,
            validation: section.validation,
            test: section.test,
            seed,
        })
    }

    /// The question generator.
    pub fn generator(&self) -> &Arc<Generator> {
        &self.generator
    }

    /// Number of labelled training questions.
    pub fn labels(&self) -> u64 {
        self.labels
    }

    /// The images of every training question, without answers, as a scene source: position
    /// `p` of the stream is an image of epoch `p / (4·train)`'s seeded order of all training
    /// views (see [`SceneSource::QuestionViews`]).
    pub fn unlabelled_views(&self) -> SceneSource {
        SceneSource::QuestionViews {
            generator: self.generator.clone(),
            questions: self.train,
            seed: self.seed,
        }
    }

    /// Labelled batch `k` of `count` questions: positions `k·count ..` of the stream of labelled
    /// questions, each epoch a seeded order of questions `0 .. labels`.
    ///
    /// # Panics
    /// Without labelled questions.
    pub fn labelled_batch(&self, k: u64, count: usize) -> Vec<Question> {
        assert!(self.labels > 0, "no labelled questions");
        self.batch_of(0..self.labels, LABELLED_STREAM_SEED, k, count)
    }

    /// Unlabelled batch `k` of `count` questions (their answers are in them, for a caller that
    /// must not read them): positions `k·count ..` of the stream of the training questions
    /// `labels .. train`, each epoch in a seeded order; empty when every training question is
    /// labelled.
    pub fn unlabelled_batch(&self, k: u64, count: usize) -> Vec<Question> {
        if self.labels >= self.train {
            return Vec::new();
        }
        self.batch_of(self.labels..self.train, UNLABELLED_STREAM_SEED, k, count)
    }

    /// Batch `k` of `count` questions of the stream over `ids` whose epochs are orders seeded
    /// by the dataset seed and `stream`.
    fn batch_of(&self, ids: Range<u64>, stream: u64, k: u64, count: usize) -> Vec<Question> {
        let n = ids.end - ids.start;
        let mut cache = ShardCache::default();
        let picked: Vec<u64> = (0..count as u64)
            .map(|i| {
                let p = k * count as u64 + i;
                let order = cache.epoch_order(p / n, n, self.seed ^ stream);
                ids.start + order[(p % n) as usize]
            })
            .collect();
        self.draw(&picked)
    }

    /// The validation questions' indices.
    pub fn validation(&self) -> Range<u64> {
        VALIDATION_BASE..VALIDATION_BASE + self.validation
    }

    /// The test questions' indices.
    pub fn test(&self) -> Range<u64> {
        TEST_BASE..TEST_BASE + self.test
    }

    /// Questions `ids`, drawn in parallel (the result does not depend on the thread count).
    pub fn draw(&self, ids: &[u64]) -> Vec<Question> {
        ids.par_iter()
            .map(|&i| self.generator.question(i))
            .collect()
    }
}

/// The generator of a 3D-IQTT dataset directory, checked against its first stored question.
fn from_dataset(dir: &Path, size: usize, train: u64) -> Result<Generator> {
    let reader = DatasetReader::open(dir)?;
    let manifest = reader.manifest();
    let bad = |key: &str, value: String, message: String| Error::InvalidValue {
        key: key.into(),
        value,
        message,
    };
    let shown = dir.display().to_string();
    if manifest.preset != Preset::Iqtt.name() || manifest.config.preset != Preset::Iqtt {
        return Err(bad(
            "iqtt.dir",
            shown,
            format!(
                "a {} dataset, not 3D-IQTT questions (write them with generate --preset iqtt)",
                manifest.preset
            ),
        ));
    }
    if manifest.size != size {
        return Err(bad(
            "iqtt.dir",
            shown,
            format!(
                "questions are {0}², model.resolution is {size}",
                manifest.size
            ),
        ));
    }
    if manifest.count < train {
        return Err(bad(
            "iqtt.train_questions",
            train.to_string(),
            format!(
                "the dataset {shown} holds only {} questions",
                manifest.count
            ),
        ));
    }
    let generator = Generator::new(manifest.config.clone())?;
    let stored = reader.read_shard(0)?.into_iter().next();
    let regenerated = generator.record(manifest.shards.first().map_or(0, |s| s.start));
    if stored.as_ref() != Some(&regenerated) || !matches!(regenerated, Record::Question(_)) {
        return Err(bad(
            "iqtt.dir",
            shown,
            "its first question differs from its manifest's generator (another generator \
             version?)"
                .into(),
        ));
    }
    Ok(generator)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn section(train: u64) -> IqttSection {
        IqttSection {
            seed: 3,
            train_questions: train,
            ..IqttSection::default()
        }
    }

    /// The unlabelled stream holds the training questions past the labelled ones, each once
    /// an epoch, in an order that changes between epochs; it is empty when all are labelled.
    #[test]
    fn the_unlabelled_stream_holds_each_unlabelled_question_once_an_epoch() {
        let set = QuestionSet::open(&section(12), 8, 5).unwrap();
        let key = |q: &Question| q.views[0].frame.image.clone();
        let unlabelled: Vec<_> = (5..12).map(|i| key(&set.generator().question(i))).collect();
        let epoch = |k: u64| -> Vec<_> { set.unlabelled_batch(k, 7).iter().map(key).collect() };
        let (first, second) = (epoch(0), epoch(1));
        for e in [&first, &second] {
            assert_eq!(e.len(), 7);
            assert!(
                unlabelled
                    .iter()
                    .all(|u| e.iter().filter(|v| *v == u).count() == 1)
            );
        }
        assert_ne!(first, second);
        assert_eq!(
            set.unlabelled_batch(2, 3)
                .iter()
                .map(key)
                .collect::<Vec<_>>(),
            epoch(0)[6..]
                .iter()
                .chain(&epoch(1)[..2])
                .cloned()
                .collect::<Vec<_>>()
        );
        let all = QuestionSet::open(&section(12), 8, 12).unwrap();
        assert!(all.unlabelled_batch(0, 4).is_empty());
    }
}
