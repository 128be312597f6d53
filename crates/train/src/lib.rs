//! # pix2scene-train
//!
//! Training of *Pix2Scene* (ICLR 2019, section 3.3): ALI/BiGAN trained as a Wasserstein GAN. The
//! critic `D(x, z, c)` separates `(x, E(x))` from `(rend(G(z)), z)`, both seen from the same
//! camera `c` with the same lights, under a gradient penalty on the joint `(x, z)` input; the
//! encoder `E` and decoder `G` minimize the adversarial term plus both reconstruction terms of
//! paper Eq. 4, `‖x − rend(G(E(x)))‖²` and `‖z − E(rend(G(z)))‖²`. Adam for both sides.
//!
//! - [`config`]: TOML presets (`configs/*.toml`) into plain serde structs that reject unknown
//!   keys, one file per section, `--set key=value` overrides, validation naming key and value.
//! - [`data`]: scenes drawn on the fly by a seeded generator in background threads (or
//!   streamed from a dataset directory, see [`shards`]), and the fixed held-out set.
//! - [`batch`]: batches in host memory and on the training device.
//! - [`noise`]: the random draws of an iteration (latent codes, penalty weights, random lights).
//! - [`trainer`]: the networks, optimizers, the critic, encoder/decoder and regression steps,
//!   evaluation, checkpoint save/load.
//! - [`planarity`]: the geometric prior on generated depth maps (curvature of inverse depth).
//! - [`pyramid`]: the image reconstruction term over an image pyramid.
//! - [`foreground`]: images of an object on black, composited by the decoder's foreground mask.
//! - [`refine`]: renderer-refined depth targets for the decoder (`optim.refine_steps`), with
//!   [`median`] filtering and [`targets`] kept per training scene between visits.
//! - [`mirror`]: the mirrored view of a batch for the regression steps (`optim.regress_mirror`).
//! - [`run`]: the loop behind `pix2scene train` (run directory, resume, stopping, NaN stop),
//!   reporting to a [`Progress`] observer; it writes [`metrics`], [`samples`] and
//!   [`checkpoint`]s (through the scene crate's
//!   [`atomic_file`](pix2scene_scene::atomic_file)), and holds a [`run_lock`] on its directory.
//! - [`depth_error`] and [`baselines`]: held-out MSE-depth, split into shape and scale, and
//!   the image-blind predictors to read it against.
//! - [`grid`]: image grids of depth and normal tiles.
//! - [`iqtt`]: 3D-IQTT (paper section 4.4): Pix2Scene without camera, MINE and Eq. 5 on
//!   questions, the CNN and Siamese baselines, resumable runs and paper Table 3.
//! - [`device`]: CPU or GPU backend and the compute thread pool.
//! - [`floor`]: the floating-point work of an iteration, counted from the layer shapes.
//! - [`bench`](mod@bench): `pix2scene bench train`, iterations per second on fixed random data,
//!   with the work done per part and pass against the CPU's measured peak.
//!
//! ```no_run
//! use pix2scene_train::{TrainOptions, train};
//!
//! let options = TrainOptions {
//!     config: Some("configs/tiny-32.toml".into()),
//!     out: "runs/tiny".into(),
//!     overrides: vec!["run.steps=100".into()],
//!     ..TrainOptions::default()
//! };
//! let summary = train(&options, &mut ())?;
//! println!("held-out depth MSE {:?}", summary.final_mse_depth);
//! # Ok::<(), pix2scene_train::Error>(())
//! ```
//!
//! Resuming is exact: batch `k` of scenes and the noise of iteration `t` are pure functions of
//! the seeds and `k`, `t`, and checkpoints hold weights, Adam moments and the step, so `N` steps
//! straight and `N/2` steps then `--resume` log identical losses.
//!
//! # Feature flags
//! - `wgpu`: burn's wgpu GPU backend (`run.device = "wgpu"`).
//! - `cuda`: burn's CUDA backend (`run.device = "cuda"`).
//!
//! Neither is on by default; the default build runs on burn's `flex` CPU backend only.

pub mod baselines;
pub mod batch;
pub mod bench;
pub mod checkpoint;
pub mod checksums;
pub mod config;
pub mod data;
pub mod depth_error;
pub mod device;
mod error;
pub mod floor;
pub mod foreground;
pub mod grid;
pub mod iqtt;
pub mod median;
pub mod metrics;
pub mod mirror;
pub mod noise;
pub mod planarity;
pub mod progress;
pub mod pyramid;
pub mod refine;
pub mod run;
pub mod run_lock;
pub mod samples;
pub mod shards;
pub mod targets;
#[cfg(test)]
mod testutil;
pub mod trainer;

pub use bench::{TrainBench, bench_train};
pub use config::TrainPreset;
pub use device::{TrainDevice, init_threads};
pub use error::{Error, Result};
pub use metrics::{Losses, MetricsRecord};
pub use progress::Progress;
pub use run::{TrainOptions, TrainSummary, train};
pub use trainer::Trainer;
