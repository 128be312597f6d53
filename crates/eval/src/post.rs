//! Post-processing of a trained model's depth maps before they are scored or written (`eval
//! --post`, `reconstruct --post`, and the shorthands `--refine K` and `--snap-edges`): a
//! pipeline of edge snapping ([`EdgeSnap`]), the colour-guided median ([`GuidedMedian`]),
//! test-time refinement through the renderer ([`TrainedModel::refine`]) and averaging with the
//! map of the mirrored image ([`TrainedModel::mirrored_depth`]), applied left to right to the
//! network's maps; at turned views, the input view's post-processed map warped into the
//! turned camera ([`ViewWarp`]). Every step sees only the record's image, camera and lights —
//! the single-image setting — but a pipeline is not the paper's feed-forward model: its figures
//! are reported as their own row.

use std::fmt;
use std::str::FromStr;

use pix2scene_scene::Sample;

use crate::edge_snap::EdgeSnap;
use crate::error::{Error, Result};
use crate::guided_median::GuidedMedian;
use crate::predictor::DepthPredictor;
use crate::trained_model::TrainedModel;
use crate::view_warp::ViewWarp;

/// One step of a [`PostPipeline`].
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum PostOp {
    /// Edge snapping (`snap`), at every view.
    Snap(EdgeSnap),
    /// The colour-guided median with the record's image (`guided`); input view only.
    Guided(GuidedMedian),
    /// Test-time refinement of `steps` Adam steps (`refine:K`, K ≥ 1), then, with a `cap`
    /// (`refine:K:T`, T percent), each pixel held within `cap` × its depth before the
    /// refinement (a trust region against the few surfels and patches the image pulls far);
    /// input view only.
    Refine {
        /// Adam steps.
        steps: usize,
        /// Largest change of a pixel's depth, as a fraction of its starting depth.
        cap: Option<f32>,
    },
    /// The geometric mean of the map and the model's map of the image mirrored left–right,
    /// flipped back (`mirror`; [`TrainedModel::mirrored_depth`]); input view only.
    Mirror,
}

impl PostOp {
    /// `refine:K`: `steps` steps, no cap.
    pub fn refine(steps: usize) -> Self {
        Self::Refine { steps, cap: None }
    }

    /// Whether the step needs the record's own view: the image shows no other.
    fn input_view_only(&self) -> bool {
        !matches!(self, Self::Snap(_))
    }
}

impl fmt::Display for PostOp {
    /// The step as a label fragment: `edges snapped (5 px, 0.1)`, `colour-guided median (11 px,
    /// σ 0.05)`, `refined K steps`, `refined K steps (change ≤ T %)`, `averaged with the
    /// mirrored image's map`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Snap(s) => write!(
                f,
                "edges snapped ({} px, {})",
                s.window(),
                s.relative_range()
            ),
            Self::Guided(g) => write!(
                f,
                "colour-guided median ({} px, σ {})",
                2 * g.radius() + 1,
                g.sigma()
            ),
            Self::Refine { steps, cap: None } => write!(f, "refined {steps} steps"),
            Self::Refine {
                steps,
                cap: Some(cap),
            } => write!(f, "refined {steps} steps (change ≤ {} %)", cap * 100.0),
            Self::Mirror => f.write_str("averaged with the mirrored image's map"),
        }
    }
}

/// A non-empty list of [`PostOp`]s with their default parameters, applied left to right.
#[derive(Clone, Debug, PartialEq)]
pub struct PostPipeline {
    ops: Vec<PostOp>,
}

impl PostPipeline {
    /// `ops` in order.
    ///
    /// # Errors
    /// [`Error::InvalidValue`] for no step, a refinement of 0 steps or a cap that is not a
    /// positive fraction.
    pub fn new(ops: Vec<PostOp>) -> Result<Self> {
        if ops.is_empty() {
            return Err(Error::InvalidValue {
                field: "--post".into(),
                message: "no step: give snap, guided, mirror or refine:K[:T], separated by commas"
                    .into(),
            });
        }
        for op in &ops {
            let message = match *op {
                PostOp::Refine { steps: 0, .. } => {
                    "refine:0: a refinement needs at least 1 step".to_string()
                }
                PostOp::Refine {
                    steps,
                    cap: Some(c),
                } if !(c > 0.0 && c.is_finite()) => format!(
                    "refine:{steps}:{}: the cap T of refine:K:T must be a positive number of \
                     percent",
                    c * 100.0
                ),
                _ => continue,
            };
            return Err(Error::InvalidValue {
                field: "--post".into(),
                message,
            });
        }
        Ok(Self { ops })
    }

    /// The steps, in order.
    pub fn ops(&self) -> &[PostOp] {
        &self.ops
    }

    /// Whether some step works on the input view's map only.
    pub fn input_view_only(&self) -> bool {
        self.ops.iter().any(PostOp::input_view_only)
    }

    /// Applies the pipeline to `model`'s `[N, R, R]` maps of the input views of `sources`
    /// (their images, cameras and lights), or, for a pipeline of snapping alone, to maps of
    /// any view.
    ///
    /// # Errors
    /// A record the model cannot take ([`TrainedModel::batch`]).
    pub fn apply(
        &self,
        model: &TrainedModel,
        sources: &[Sample],
        maps: &[f32],
    ) -> Result<Vec<f32>> {
        let size = model.resolution();
        let mut maps = maps.to_vec();
        for op in &self.ops {
            maps = match op {
                PostOp::Snap(snap) => snap.apply_batch(&maps, size),
                PostOp::Guided(filter) => {
                    let images: Vec<f32> = sources
                        .iter()
                        .flat_map(|s| s.frame.image.iter().copied())
                        .collect();
                    filter.apply_batch(&maps, &images, size)
                }
                PostOp::Refine { steps, cap } => {
                    let refined = model.refine(&maps, &model.batch(sources)?, *steps);
                    match cap {
                        Some(cap) => (refined.iter().zip(&maps))
                            .map(|(&r, &d)| r.clamp(d * (1.0 - cap), d * (1.0 + cap)))
                            .collect(),
                        None => refined,
                    }
                }
                PostOp::Mirror => (maps.iter())
                    .zip(model.mirrored_depth(&model.batch(sources)?))
                    .map(|(&d, m)| (d * m).sqrt())
                    .collect(),
            };
        }
        Ok(maps)
    }
}

impl FromStr for PostPipeline {
    type Err = Error;

    /// `snap`, `guided`, `mirror`, `refine:K` and `refine:K:T` (T percent) separated by commas,
    /// e.g. `mirror,snap,guided,refine:200:5,guided`.
    fn from_str(s: &str) -> Result<Self> {
        let bad = |message: String| Error::InvalidValue {
            field: "--post".into(),
            message,
        };
        let op = |word: &str| match (word, word.strip_prefix("refine:")) {
            ("snap", _) => Ok(PostOp::Snap(EdgeSnap::default())),
            ("guided", _) => Ok(PostOp::Guided(GuidedMedian::default())),
            ("mirror", _) => Ok(PostOp::Mirror),
            (_, Some(rest)) => {
                let (steps, cap) = match rest.split_once(':') {
                    Some((steps, cap)) => (steps, Some(cap)),
                    None => (rest, None),
                };
                let steps = steps.parse().map_err(|_| {
                    bad(format!(
                        "{word:?}: the steps of refine:K must be a whole number"
                    ))
                })?;
                let cap = cap
                    .map(|t| {
                        t.parse::<f32>().map(|t| t / 100.0).map_err(|_| {
                            bad(format!(
                                "{word:?}: the cap of refine:K:T must be a number of percent"
                            ))
                        })
                    })
                    .transpose()?;
                Ok(PostOp::Refine { steps, cap })
            }
            _ => Err(bad(format!(
                "{word:?} is not snap, guided, mirror, refine:K or refine:K:T"
            ))),
        };
        Self::new(
            s.split(',')
                .filter(|w| !w.trim().is_empty())
                .map(|w| op(w.trim()))
                .collect::<Result<_>>()?,
        )
    }
}

impl fmt::Display for PostPipeline {
    /// The steps' label fragments joined by `, `.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let parts: Vec<String> = self.ops.iter().map(PostOp::to_string).collect();
        f.write_str(&parts.join(", "))
    }
}

/// A trained model whose depth maps are post-processed by a [`PostPipeline`] before they are
/// scored. A pipeline with a refinement or the colour-guided median works on the input view's
/// maps, which [`ViewWarp`] carries to the turned views; one of edge snapping alone snaps every
/// view's map.
pub struct PostProcessed {
    model: TrainedModel,
    pipeline: PostPipeline,
}

impl PostProcessed {
    /// `model`'s maps, then `pipeline`.
    pub fn new(model: TrainedModel, pipeline: PostPipeline) -> Self {
        Self { model, pipeline }
    }
}

impl DepthPredictor for PostProcessed {
    fn resolution(&self) -> usize {
        self.model.resolution()
    }

    /// The checkpoint, then each step: `best (step-400), edges snapped (5 px, 0.1), …`.
    fn label(&self) -> String {
        format!("{}, {}", self.model.checkpoint(), self.pipeline)
    }

    /// A pipeline of snapping alone post-processes the model's map of every view. One with an
    /// input-view step post-processes the input view's map, and every other view is that map
    /// carried into the view's camera by [`ViewWarp`] (mesh, background planes, and the model's
    /// decoding of the view where neither reaches).
    fn predict(&self, sources: &[Sample], views: &[Vec<Sample>]) -> Result<Vec<Vec<f32>>> {
        let own_view = |view: &Vec<Sample>| {
            view.len() == sources.len()
                && view.iter().zip(sources).all(|(v, s)| v.camera == s.camera)
        };
        if !self.pipeline.input_view_only() {
            return self
                .model
                .predict(sources, views)?
                .iter()
                .map(|maps| self.pipeline.apply(&self.model, sources, maps))
                .collect();
        }
        let all = self.model.predict(sources, views)?;
        // The network's input-view maps: decoded among the views asked for, or on their own.
        let network = match views.iter().position(own_view) {
            Some(v) => all[v].clone(),
            None => self.model.predict(sources, &[sources.to_vec()])?.remove(0),
        };
        let input = self.pipeline.apply(&self.model, sources, &network)?;
        let size = self.model.resolution();
        let fov = self.model.renderer_fov_y_deg();
        let warp = ViewWarp::default();
        let inputs: Vec<_> = input
            .chunks(size * size)
            .zip(sources)
            .map(|(map, s)| warp.input(map, &s.camera, fov, size))
            .collect();
        Ok(views
            .iter()
            .zip(all)
            .map(|(view, fill)| {
                if own_view(view) {
                    return input.clone();
                }
                inputs
                    .iter()
                    .zip(fill.chunks(size * size))
                    .zip(view)
                    .flat_map(|((w, fill), v)| w.view(&v.camera, fill))
                    .collect()
            })
            .collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_pipeline_parses_in_order_and_labels_each_step() {
        let p: PostPipeline = "snap,guided, refine:200 ,guided".parse().unwrap();
        assert_eq!(
            p.ops(),
            [
                PostOp::Snap(EdgeSnap::default()),
                PostOp::Guided(GuidedMedian::default()),
                PostOp::refine(200),
                PostOp::Guided(GuidedMedian::default()),
            ]
        );
        assert_eq!(
            p.to_string(),
            "edges snapped (5 px, 0.1), colour-guided median (11 px, σ 0.05), refined 200 steps, \
             colour-guided median (11 px, σ 0.05)"
        );
        assert!(p.input_view_only());
        let p: PostPipeline = "mirror,refine:200:5".parse().unwrap();
        assert_eq!(
            p.ops(),
            [
                PostOp::Mirror,
                PostOp::Refine {
                    steps: 200,
                    cap: Some(0.05)
                }
            ]
        );
        assert_eq!(
            p.to_string(),
            "averaged with the mirrored image's map, refined 200 steps (change ≤ 5 %)"
        );
        assert!(p.input_view_only());
        let snap: PostPipeline = "snap".parse().unwrap();
        assert!(!snap.input_view_only());
    }

    #[test]
    fn bad_pipelines_are_refused_on_one_line() {
        let msg = |s: &str| s.parse::<PostPipeline>().unwrap_err().to_string();
        assert_eq!(
            msg("snap,blur"),
            "--post: \"blur\" is not snap, guided, mirror, refine:K or refine:K:T"
        );
        assert_eq!(
            msg("refine:200:five"),
            "--post: \"refine:200:five\": the cap of refine:K:T must be a number of percent"
        );
        assert_eq!(
            msg("refine:200:0"),
            "--post: refine:200:0: the cap T of refine:K:T must be a positive number of percent"
        );
        assert_eq!(
            msg("refine:200:-3"),
            "--post: refine:200:-3: the cap T of refine:K:T must be a positive number of percent"
        );
        assert_eq!(
            msg("refine:ten"),
            "--post: \"refine:ten\": the steps of refine:K must be a whole number"
        );
        assert_eq!(
            msg("snap,refine:0"),
            "--post: refine:0: a refinement needs at least 1 step"
        );
        assert_eq!(
            msg(" , "),
            "--post: no step: give snap, guided, mirror or refine:K[:T], separated by commas"
        );
    }
}
