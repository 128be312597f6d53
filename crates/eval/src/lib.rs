//! # pix2scene-eval
//!
//! Scoring, using and showing trained models of *Pix2Scene* (ICLR 2019): the paper's Hausdorff-F,
//! Hausdorff-R and MSE-depth (Tables 1 and 2), the scale-invariant depth error (SIDE) and mean
//! angle deviation of normals (MAD) of Unsup3d, their mean and standard deviation per view, the
//! view-extrapolation protocol with its ray-traced ground truth, and the files people look at:
//! depth and normal maps (PNG with a legend, `.npy`), surfel point clouds (PLY) and turntable
//! GIFs.
//!
//! It also turns a trained run into results: [`TrainedModel`] loads a run directory (a
//! checkpoint chosen by [`CheckpointChoice`]) or a model directory for inference; [`evaluate`]
//! scores any [`DepthPredictor`] — a model or an [`ImageBlind`] baseline — on a dataset at
//! every view into an [`EvalResult`] ([`PostProcessed`]: a model's maps after a [`PostPipeline`]
//! of edge snapping, the colour-guided median and test-time refinement); [`reconstruct`] writes what a model sees in one image
//! (maps, PLY, turntable; bare images through [`input`]); [`sample_grid`] and
//! [`interpolation_strip`] draw the paper's Figs. 8 and 9; [`report`] writes the HTML page of a
//! run.
//!
//! Metrics (defined in docs/eval.md): a depth map is back-projected along the pixel-centre
//! rays ([`PixelRays`]) into camera-frame points for the ground truth's valid pixels, and every
//! figure is computed over those pixels.
//!
//! ```
//! use pix2scene_eval::{EvalResult, Scorer, ViewSummary};
//! use pix2scene_scene::{Generator, GeneratorConfig, Preset};
//!
//! let generator = Generator::new(GeneratorConfig::new(Preset::Boxes, 32, 7)).unwrap();
//! let truth = generator.sample(0).frame;
//! // A prediction 5 % too far everywhere: no shape error (SIDE and MAD 0), some depth error.
//! // (Pixels outside the ground-truth mask are not scored.)
//! let pred: Vec<f32> = truth.depth.iter().map(|d| d * 1.05).collect();
//! let scorer = Scorer::new(26.0, 32);
//! let metrics = scorer.score(&pred, &truth.depth, &truth.mask).unwrap();
//! assert!(metrics.mse_depth > 0.0 && metrics.hausdorff_f > 0.0);
//! assert!(metrics.side < 1e-6 && metrics.mad_deg < 1e-2);
//!
//! let result = EvalResult {
//!     views: vec![(0.0, ViewSummary::of(&[metrics]).unwrap())],
//!     images: 1,
//!     checkpoint: None,
//!     preset: Some("boxes".into()),
//! };
//! let json = serde_json::to_value(&result).unwrap();
//! assert_eq!(json["views"]["0"]["mse_depth"], metrics.mse_depth);
//! println!("{}", pix2scene_eval::table(&result, true));
//! ```
//!
//! # Feature flags
//! None.

mod background_planes;
pub mod bench;
mod dataset;
mod depth_metrics;
mod edge_snap;
mod error;
mod evaluate;
pub mod export;
mod generation;
mod guided_median;
mod hausdorff;
pub mod input;
mod metrics;
mod normal_angle;
mod paper;
mod points;
mod post;
mod predictor;
mod reconstruct;
pub mod report;
mod summary;
mod table;
#[cfg(test)]
mod testutil;
mod trained_model;
pub mod view;
mod view_warp;

pub use background_planes::{BackgroundPlanes, Plane};
pub use dataset::{open_room_dataset, read_record};
pub use depth_metrics::{mse_depth, side};
pub use edge_snap::EdgeSnap;
pub use error::{Error, Result};
pub use evaluate::{EvalOptions, evaluate, view_sample};
pub use generation::{interpolation_strip, prior_codes, sample_grid};
pub use guided_median::GuidedMedian;
pub use hausdorff::{Directed, Hausdorff, NearestTree, hausdorff, hausdorff_brute_force};
pub use metrics::{ImageMetrics, Metric, Scorer};
pub use normal_angle::{interior, mad_deg, mean_angle_deg};
pub use paper::{PaperRow, paper_row};
pub use points::{PixelRays, Point};
pub use post::{PostOp, PostPipeline, PostProcessed};
pub use predictor::{BaselineKind, DepthPredictor, ImageBlind};
pub use reconstruct::{
    ReconstructOptions, ReconstructSummary, ReconstructionScore, TURNTABLE_SWEEP_DEG, reconstruct,
};
pub use summary::{EvalResult, Stat, ViewSummary, view_key};
pub use table::table;
pub use trained_model::{CheckpointChoice, TrainedModel};
pub use view::{ViewExtrapolation, ViewTruth, orbit_camera, orbit_sign, parse_views};
pub use view_warp::{ViewWarp, WarpInput};
