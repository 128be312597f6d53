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
        let mut cache = ShardCache::default();
        let ids: Vec<u64> = (0..count as u64)
            .map(|i| {
                let p = k * count as u64 + i;
                let order = cache.epoch_order(
                    p / self.labels,
                    self.labels,
                    self.seed ^ LABELLED_STREAM_SEED,
                );
                order[(p % self.labels) as usize]
            })
            .collect();
        self.draw(&ids)
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
