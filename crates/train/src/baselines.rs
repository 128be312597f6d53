//! Depth predictors that ignore the image, scored on the held-out set: the reference points that
//! give a run's held-out MSE-depth its meaning.
//!
//! On scene families with a fixed room, most of the depth map is predictable without looking
//! at the image: predicting every pixel's mean depth over the training scenes already scores a
//! low MSE (on 64² `boxes`, about 0.003, ten times below the paper's Table 1 figure of 0.032).
//! A run writes both baselines to `RUN/baselines.json`. The means themselves ([`MeanDepth`])
//! are also what `pix2scene eval --baseline` scores, on every metric and view (in
//! `pix2scene-eval`, which depends on this crate).

use std::path::Path;

use pix2scene_scene::Frame;
use pix2scene_scene::atomic_file::write_atomic;
use serde::{Deserialize, Serialize};

use crate::batch::HostBatch;
use crate::data::SceneSource;
use crate::depth_error::DepthErrorSum;
use crate::error::Result;
use crate::shards::ShardCache;

/// Held-out depth MSE (masked, scene units²) of two image-blind predictors.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct DepthBaselines {
    /// Training scenes the means are taken over.
    pub train_scenes: usize,
    /// Predicting the mean depth of all training pixels everywhere.
    pub global_mean: f32,
    /// Predicting each pixel's mean depth over the training scenes.
    pub per_pixel_mean: f32,
    /// The same with each held-out image's best scale (compare with a run's
    /// `held_out_mse_depth_scaled`).
    #[serde(default = "nan")]
    pub per_pixel_mean_scaled: f32,
}

fn nan() -> f32 {
    f32::NAN
}

/// The mean true depth of a set of scenes, over their valid pixels: per pixel, and over all
/// pixels (the two image-blind depth predictors).
///
/// # Shapes
/// `per_pixel`: `[size, size]`, ray depth in scene units; a pixel no scene's ray hit gets the
/// global mean.
#[derive(Clone, Debug, PartialEq)]
pub struct MeanDepth {
    /// Image side, pixels.
    pub size: usize,
    /// Scenes averaged over.
    pub scenes: usize,
    /// Mean depth of each pixel over the scenes where it is valid.
    pub per_pixel: Vec<f32>,
    /// Mean depth over every valid pixel of every scene.
    pub global: f32,
}

/// Sums for [`MeanDepth`], filled one scene at a time (in `f64`, in the order given).
#[derive(Clone, Debug)]
pub struct MeanDepthSum {
    size: usize,
    scenes: usize,
    sum: Vec<f64>,
    count: Vec<f64>,
}

impl MeanDepthSum {
    /// Empty sums for `size`² images.
    pub fn new(size: usize) -> Self {
        Self {
            size,
            scenes: 0,
            sum: vec![0.0; size * size],
            count: vec![0.0; size * size],
        }
    }

    /// Adds one scene's true depth over its valid pixels.
    ///
    /// # Errors
    /// [`Error::Data`](crate::Error::Data) for a frame of another size.
    pub fn add(&mut self, frame: &Frame) -> Result<()> {
        if frame.size_px != self.size {
            return Err(crate::Error::Data(format!(
                "scene has {}² pixels, the mean depth is over {}²",
                frame.size_px, self.size
            )));
        }
        for (p, (&d, &m)) in frame.depth.iter().zip(&frame.mask).enumerate() {
            if m != 0 {
                self.sum[p] += f64::from(d);
                self.count[p] += 1.0;
            }
        }
        self.scenes += 1;
        Ok(())
    }

    /// The means of the scenes added (NaN everywhere if no pixel was valid).
    pub fn finish(&self) -> MeanDepth {
        let global = self.sum.iter().sum::<f64>() / self.count.iter().sum::<f64>();
        MeanDepth {
            size: self.size,
            scenes: self.scenes,
            per_pixel: self
                .sum
                .iter()
                .zip(&self.count)
                .map(|(s, c)| (if *c > 0.0 { s / c } else { global }) as f32)
                .collect(),
            global: global as f32,
        }
    }
}

impl DepthBaselines {
    /// Means over the first `scenes` training scenes (whole batches of `batch`), scored on
    /// `held_out`.
    ///
    /// # Errors
    /// A dataset shard that cannot be read.
    pub fn measure(
        source: &SceneSource,
        held_out: &[HostBatch],
        scenes: usize,
        batch: usize,
    ) -> Result<Self> {
        let Some(first) = held_out.first() else {
            return Ok(Self {
                train_scenes: 0,
                global_mean: f32::NAN,
                per_pixel_mean: f32::NAN,
                per_pixel_mean_scaled: f32::NAN,
            });
        };
        let pixels = first.size * first.size;
        let mut means = MeanDepthSum::new(first.size);
        let mut cache = ShardCache::default();
        let batches = scenes.div_ceil(batch);
        for k in 0..batches as u64 {
            for sample in source.train_samples(k, batch, &mut cache)?.1 {
                means.add(&sample.frame)?;
            }
        }
        let means = means.finish();
        let (global, per_pixel) = (f64::from(means.global), &means.per_pixel);
        let (mut e_global, mut n) = (0.0f64, 0.0f64);
        let mut e_pixel = DepthErrorSum::default();
        for b in held_out {
            for (d, m) in b.depth.chunks(pixels).zip(b.mask.chunks(pixels)) {
                e_pixel.add_image(per_pixel, d, m);
                for (&d, &m) in d.iter().zip(m) {
                    if m > 0.0 {
                        e_global += (f64::from(d) - global).powi(2);
                        n += 1.0;
                    }
                }
            }
        }
        let e_pixel = e_pixel.finish();
        Ok(Self {
            train_scenes: batches * batch,
            global_mean: (e_global / n) as f32,
            per_pixel_mean: e_pixel.mse,
            per_pixel_mean_scaled: e_pixel.mse_scaled,
        })
    }

    /// Writes `baselines.json` (atomically).
    ///
    /// # Errors
    /// [`Error::Io`](crate::Error::Io) naming the file.
    pub fn write(&self, path: &Path) -> Result<()> {
        let text = serde_json::to_string_pretty(self).expect("baselines serialize");
        Ok(write_atomic(path, text.as_bytes())?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::DataSection;

    #[test]
    fn per_pixel_mean_beats_global_mean_on_a_fixed_room_and_matches_a_direct_count() {
        let data = DataSection {
            preset: "boxes".into(),
            seed: 1,
            ..DataSection::default()
        };
        let source = SceneSource::open(&data, 16).unwrap();
        let held: Vec<HostBatch> = source
            .held_out(8)
            .unwrap()
            .chunks(4)
            .map(|c| HostBatch::from_samples(c, 16).unwrap())
            .collect();
        let b = DepthBaselines::measure(&source, &held, 40, 4).unwrap();
        assert_eq!(b.train_scenes, 40);
        assert!(b.per_pixel_mean < 0.5 * b.global_mean, "{b:?}");
        assert!(b.per_pixel_mean_scaled < b.per_pixel_mean, "{b:?}");
        // The global-mean figure by a direct count over the same scenes.
        let train: Vec<f64> = (0..10)
            .flat_map(|k| {
                source
                    .train_samples(k, 4, &mut ShardCache::default())
                    .unwrap()
                    .1
            })
            .flat_map(|s| {
                s.frame
                    .depth
                    .iter()
                    .map(|&d| f64::from(d))
                    .collect::<Vec<_>>()
            })
            .collect();
        let mean = train.iter().sum::<f64>() / train.len() as f64;
        let (mut e, mut n) = (0.0, 0.0);
        for b in &held {
            for d in &b.depth {
                e += (f64::from(*d) - mean).powi(2);
                n += 1.0;
            }
        }
        assert!(((e / n) as f32 - b.global_mean).abs() < 1e-6 * b.global_mean.max(1.0));
    }
}
