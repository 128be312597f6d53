//! What `eval` scores: a depth predictor that sees a record's image from the record's camera
//! and is asked for the scene's depth seen from other cameras — a trained model, or one of the
//! two image-blind baselines that give its figures their scale.

use std::fmt;
use std::path::Path;
use std::str::FromStr;

use pix2scene_scene::Sample;
use pix2scene_train::baselines::{MeanDepth, MeanDepthSum};

use crate::dataset::open_room_dataset;
use crate::error::{Error, Result};
use crate::trained_model::TrainedModel;

/// A depth predictor scored by [`evaluate`](crate::evaluate).
pub trait DepthPredictor {
    /// Image side the predictor takes and returns, pixels.
    fn resolution(&self) -> usize;

    /// What is scored, for results: a checkpoint (`"best (step-400)"`) or a baseline's name.
    fn label(&self) -> String;

    /// Depth maps of the scenes of `sources` (records, with the images the predictor may look
    /// at) seen from other cameras: `views[v][i]` is record `i` seen at view `v` (its camera,
    /// camera-frame lights and class label are the inputs; its frame is the ground truth and
    /// must not be looked at).
    ///
    /// # Shapes
    /// Returns one `[sources.len(), R, R]` map per view (row-major), ray depth in scene units.
    ///
    /// # Errors
    /// A record the predictor cannot take (another image size, an unknown class label).
    fn predict(&self, sources: &[Sample], views: &[Vec<Sample>]) -> Result<Vec<Vec<f32>>>;
}

impl DepthPredictor for TrainedModel {
    fn resolution(&self) -> usize {
        TrainedModel::resolution(self)
    }

    fn label(&self) -> String {
        self.checkpoint().to_string()
    }

    /// Encodes each record's image from its own camera once, and decodes the same code at
    /// every view's camera (paper Table 2's protocol).
    fn predict(&self, sources: &[Sample], views: &[Vec<Sample>]) -> Result<Vec<Vec<f32>>> {
        let z = self.encode(&self.batch(sources)?);
        views
            .iter()
            .map(|view| Ok(self.decode(&z, &self.batch(view)?)))
            .collect()
    }
}

/// The image-blind depth predictors (`--baseline`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BaselineKind {
    /// Every pixel's mean true depth over the training scenes.
    PerPixelMean,
    /// The mean true depth of all training pixels, everywhere.
    GlobalMean,
}

impl FromStr for BaselineKind {
    type Err = Error;

    fn from_str(s: &str) -> Result<Self> {
        match s {
            "per-pixel-mean" => Ok(Self::PerPixelMean),
            "global-mean" => Ok(Self::GlobalMean),
            _ => Err(Error::InvalidValue {
                field: "--baseline".into(),
                message: format!("{s:?} is not per-pixel-mean or global-mean"),
            }),
        }
    }
}

impl fmt::Display for BaselineKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::PerPixelMean => "per-pixel-mean",
            Self::GlobalMean => "global-mean",
        })
    }
}

/// An image-blind predictor: the same depth map for every image and every view, taken from a
/// training dataset's true depth ([`MeanDepth`]).
#[derive(Clone, Debug, PartialEq)]
pub struct ImageBlind {
    kind: BaselineKind,
    means: MeanDepth,
}

impl ImageBlind {
    /// The baseline `kind` from the means of every record of the dataset in `train_data`.
    ///
    /// # Errors
    /// As [`ImageBlind::measure_all`].
    pub fn measure(kind: BaselineKind, train_data: &Path) -> Result<Self> {
        let [per_pixel, global] = Self::measure_all(train_data)?;
        Ok(match kind {
            BaselineKind::PerPixelMean => per_pixel,
            BaselineKind::GlobalMean => global,
        })
    }

    /// Both baselines (per-pixel mean, then global mean) from one pass over every record of the
    /// dataset in `train_data`.
    ///
    /// # Errors
    /// An unreadable dataset or one that is not of single views (see
    /// [`open_room_dataset`](crate::open_room_dataset)).
    pub fn measure_all(train_data: &Path) -> Result<[Self; 2]> {
        let reader = open_room_dataset(train_data, None)?;
        let mut sum = MeanDepthSum::new(reader.manifest().size);
        for record in reader.records() {
            if let pix2scene_scene::Record::View(sample) = record? {
                sum.add(&sample.frame)?;
            }
        }
        let means = sum.finish();
        Ok([
            Self::new(BaselineKind::PerPixelMean, means.clone()),
            Self::new(BaselineKind::GlobalMean, means),
        ])
    }

    /// The baseline `kind` from given means.
    pub fn new(kind: BaselineKind, means: MeanDepth) -> Self {
        Self { kind, means }
    }

    /// The depth map it predicts, `[R, R]`.
    pub fn map(&self) -> Vec<f32> {
        match self.kind {
            BaselineKind::PerPixelMean => self.means.per_pixel.clone(),
            BaselineKind::GlobalMean => vec![self.means.global; self.means.per_pixel.len()],
        }
    }
}

impl DepthPredictor for ImageBlind {
    fn resolution(&self) -> usize {
        self.means.size
    }

    fn label(&self) -> String {
        format!("baseline {} over {} scenes", self.kind, self.means.scenes)
    }

    fn predict(&self, sources: &[Sample], views: &[Vec<Sample>]) -> Result<Vec<Vec<f32>>> {
        if let Some(s) = sources.iter().find(|s| s.frame.size_px != self.means.size) {
            return Err(Error::InvalidValue {
                field: "--train-data".into(),
                message: format!(
                    "the baseline's training scenes are {0}×{0} pixels, the evaluated ones {1}×{1}",
                    self.means.size, s.frame.size_px
                ),
            });
        }
        let map = self.map();
        Ok(views.iter().map(|_| map.repeat(sources.len())).collect())
    }
}
