//! `pix2scene eval`: a predictor scored on a dataset at every view of the view-extrapolation
//! protocol ([`ViewExtrapolation`]), into an [`EvalResult`].

use std::path::Path;

use pix2scene_scene::{Record, Sample};
use rayon::prelude::*;

use crate::dataset::open_room_dataset;
use crate::error::Result;
use crate::metrics::{ImageMetrics, Scorer};
use crate::predictor::DepthPredictor;
use crate::summary::{EvalResult, ViewSummary};
use crate::view::{ViewExtrapolation, ViewTruth};

/// What to score.
#[derive(Clone, Debug, PartialEq)]
pub struct EvalOptions {
    /// View angles, degrees (see [`parse_views`](crate::parse_views)).
    pub views: Vec<f32>,
    /// Score only the first this many records.
    pub limit: Option<u64>,
    /// Records predicted at a time (memory only: results do not depend on it).
    pub batch: usize,
}

impl Default for EvalOptions {
    fn default() -> Self {
        Self {
            views: crate::view::PAPER_VIEWS_DEG.to_vec(),
            limit: None,
            batch: 32,
        }
    }
}

/// Scores `predictor` on the dataset in `data` at every view of `options`: for each record, the
/// predictor sees the record's image from its camera and predicts the depth at each turned
/// camera, scored against the ray-traced truth there ([`Scorer::score`]). `progress` is called
/// with `(records done, records in all)` after each batch.
///
/// The result depends neither on the number of threads nor on `options.batch`: every record is
/// scored on its own, and summaries add the records in dataset order.
///
/// # Errors
/// The errors of [`open_room_dataset`] (an `iqtt` dataset, another image size than the
/// predictor's), a stale dataset ([`ViewExtrapolation::check_record`]), the predictor's, and a
/// record without valid pixels.
pub fn evaluate(
    data: &Path,
    predictor: &dyn DepthPredictor,
    options: &EvalOptions,
    progress: &mut dyn FnMut(u64, u64),
) -> Result<EvalResult> {
    let size = predictor.resolution();
    let reader = open_room_dataset(data, Some(size))?;
    let manifest = reader.manifest();
    let extrapolation = ViewExtrapolation::new(manifest.config.clone(), options.views.clone())?;
    let scorer = Scorer::new(manifest.fovy_deg, size);
    let total = options.limit.map_or(reader.len(), |l| l.min(reader.len()));
    let mut scores: Vec<Vec<ImageMetrics>> = vec![Vec::new(); options.views.len()];
    let mut chunk: Vec<(u64, Sample)> = Vec::with_capacity(options.batch);
    let mut done = 0;
    progress(0, total);
    for (index, record) in (0..total).zip(reader.records()) {
        if let Record::View(sample) = record? {
            chunk.push((index, sample));
        }
        if chunk.len() == options.batch.max(1) || index + 1 == total {
            let batch = std::mem::take(&mut chunk);
            score_batch(&extrapolation, &scorer, predictor, &batch, &mut scores)?;
            done += batch.len() as u64;
            progress(done, total);
        }
    }
    Ok(EvalResult {
        views: options
            .views
            .iter()
            .zip(&scores)
            .map(|(&angle, s)| Ok((angle, ViewSummary::of(s)?)))
            .collect::<Result<_>>()?,
        images: done as usize,
        checkpoint: Some(predictor.label()),
        preset: Some(manifest.preset.clone()),
    })
}

/// Scores one batch of records at every view, appending each view's metrics in record order.
fn score_batch(
    extrapolation: &ViewExtrapolation,
    scorer: &Scorer,
    predictor: &dyn DepthPredictor,
    batch: &[(u64, Sample)],
    scores: &mut [Vec<ImageMetrics>],
) -> Result<()> {
    let truths: Vec<Vec<ViewTruth>> = batch
        .par_iter()
        .map(|(index, sample)| {
            extrapolation.check_record(*index, sample)?;
            Ok(extrapolation.views(*index))
        })
        .collect::<Result<_>>()?;
    let views: Vec<Vec<Sample>> = (0..scores.len())
        .map(|v| {
            batch
                .iter()
                .zip(&truths)
                .map(|((_, source), t)| view_sample(source, &t[v]))
                .collect()
        })
        .collect();
    let sources: Vec<Sample> = batch.iter().map(|(_, s)| s.clone()).collect();
    let predicted = predictor.predict(&sources, &views)?;
    let pixels = predictor.resolution().pow(2);
    for ((view, pred), out) in views.iter().zip(&predicted).zip(scores.iter_mut()) {
        let metrics: Vec<ImageMetrics> = view
            .par_iter()
            .enumerate()
            .map(|(i, truth)| {
                let f = &truth.frame;
                scorer.score(&pred[i * pixels..(i + 1) * pixels], &f.depth, &f.mask)
            })
            .collect::<Result<_>>()?;
        out.extend(metrics);
    }
    Ok(())
}

/// Record `source` seen as `view` shows it: the turned camera, its frame and camera-frame
/// lights, with the record's world lights and class label.
pub fn view_sample(source: &Sample, view: &ViewTruth) -> Sample {
    Sample {
        frame: view.frame.clone(),
        camera: view.camera,
        lights: source.lights.clone(),
        lights_cam: view.lights_cam.clone(),
        class: source.class,
    }
}
