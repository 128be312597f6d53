//! A trained model loaded for inference from a run directory (`pix2scene train --out RUN`) or a
//! model directory (`models/<name>/`: `config.toml`, `encoder.bpk`, `decoder.bpk`).
//!
//! Inference runs on the CPU (`flex` backend) with the networks in inference mode (batch
//! normalization on its running statistics), whatever device the run trained on.

use std::fmt;
use std::path::{Path, PathBuf};
use std::str::FromStr;

use burn::module::Module;
use burn::tensor::{Device, Tensor};
use pix2scene_model::one_hot;
use pix2scene_render::RendererConfig;
use pix2scene_scene::{GeneratorConfig, Sample};
use pix2scene_train::batch::{HostBatch, host_values, tensor};
use pix2scene_train::checkpoint::{self, CheckpointEntry};
use pix2scene_train::data::SceneSource;
use pix2scene_train::median::median3_keep_scale;
use pix2scene_train::mirror;
use pix2scene_train::planarity::PlanarityPrior;
use pix2scene_train::refine::{DepthRefiner, RefineBatch};
use pix2scene_train::{TrainPreset, Trainer};

use crate::error::{Error, Result};

/// Which checkpoint of a run to load (`--checkpoint best|last|step-N`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum CheckpointChoice {
    /// The kept checkpoint with the lowest held-out depth MSE (the newest if none has one).
    #[default]
    Best,
    /// The newest checkpoint.
    Last,
    /// The checkpoint after this many iterations.
    Step(u64),
}

impl FromStr for CheckpointChoice {
    type Err = Error;

    fn from_str(s: &str) -> Result<Self> {
        match s {
            "best" => Ok(Self::Best),
            "last" => Ok(Self::Last),
            _ => s
                .strip_prefix("step-")
                .and_then(|n| n.parse().ok())
                .map(Self::Step)
                .ok_or_else(|| Error::InvalidValue {
                    field: "--checkpoint".into(),
                    message: format!("{s:?} is not best, last or step-N"),
                }),
        }
    }
}

impl fmt::Display for CheckpointChoice {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Best => f.write_str("best"),
            Self::Last => f.write_str("last"),
            Self::Step(n) => write!(f, "step-{n}"),
        }
    }
}

/// The encoder, decoder and surfel renderer of a trained model, in inference mode on the CPU.
pub struct TrainedModel {
    trainer: Trainer,
    dir: PathBuf,
    label: String,
}

impl TrainedModel {
    /// Loads the model in `dir`: a run directory (`config.toml` and `checkpoints/`, of which
    /// `choice` picks one) or a model directory (`config.toml`, `encoder.bpk` and
    /// `decoder.bpk`; `choice` is then ignored). The renderer shades as the scenes of `scenes`
    /// do (albedo, ambient, attenuation, field of view); `None` takes the run's own training
    /// scenes (its `[data]` section).
    ///
    /// # Errors
    /// [`Error::Model`] naming the directory when it holds no `config.toml`, no checkpoint, or
    /// not the one asked for; the preset's and the checkpoint files' errors (a malformed
    /// `config.toml`, weights that do not match it).
    pub fn load(
        dir: &Path,
        choice: CheckpointChoice,
        scenes: Option<&GeneratorConfig>,
    ) -> Result<Self> {
        let bad = |message: String| Error::Model {
            path: dir.to_path_buf(),
            message,
        };
        let config = dir.join("config.toml");
        if !config.is_file() {
            return Err(bad("no config.toml: not a run or model directory".into()));
        }
        let mut preset = TrainPreset::load(&config, &[])?;
        let (weights, label) = if dir.join("checkpoints").is_dir() {
            let all = checkpoint::list_checkpoints(&dir.join("checkpoints"))?;
            let entry = pick(&all, choice).ok_or_else(|| {
                if all.is_empty() {
                    bad("no checkpoint in checkpoints/ (has the run saved one yet?)".into())
                } else {
                    let kept: Vec<String> = all
                        .iter()
                        .map(|c| format!("step-{}", c.state.step))
                        .collect();
                    bad(format!(
                        "no checkpoint {choice} (kept: {})",
                        kept.join(", ")
                    ))
                }
            })?;
            let label = match choice {
                CheckpointChoice::Step(_) => choice.to_string(),
                _ => format!("{choice} (step-{})", entry.state.step),
            };
            (entry.dir.clone(), label)
        } else if dir.join("encoder.bpk").is_file() {
            (dir.to_path_buf(), "model".to_string())
        } else {
            return Err(bad(
                "no checkpoint: neither checkpoints/ nor encoder.bpk and decoder.bpk".into(),
            ));
        };
        preset.run.device = "cpu".into();
        let size = preset.model.resolution;
        let renderer = match scenes {
            Some(config) => renderer_config(config, size),
            None => SceneSource::open(&preset.data, size)?.renderer_config(size),
        };
        let device = Device::flex().autodiff();
        let mut trainer = Trainer::new(&preset, renderer, &device);
        trainer.load_networks(&weights)?;
        Ok(Self {
            trainer,
            dir: dir.to_path_buf(),
            label,
        })
    }

    /// The directory the model was loaded from.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Which weights were loaded: `"best (step-N)"`, `"last (step-N)"`, `"step-N"` or
    /// `"model"` (a model directory).
    pub fn checkpoint(&self) -> &str {
        &self.label
    }

    /// The run's resolved preset (its `config.toml`).
    pub fn preset(&self) -> &TrainPreset {
        &self.trainer.preset
    }

    /// Image side the networks take, pixels.
    pub fn resolution(&self) -> usize {
        self.trainer.preset.model.resolution
    }

    /// Length of the latent code.
    pub fn z_dim(&self) -> usize {
        self.trainer.preset.model.z_dim
    }

    /// Vertical field of view of the model's renderer, degrees (its scenes').
    pub fn renderer_fov_y_deg(&self) -> f32 {
        self.trainer.renderer().fov_y_deg()
    }

    /// Held-out scenes of the run's own data (its `[data]` section): cameras, lights and
    /// images of the kind the model was trained on.
    ///
    /// # Errors
    /// The data source's errors (an unreadable dataset directory, too few records).
    pub fn held_out(&self, count: usize) -> Result<Vec<Sample>> {
        let source = SceneSource::open(&self.trainer.preset.data, self.resolution())?;
        Ok(source.held_out(count)?)
    }

    /// Number of classes of a class-conditional decoder (0 = unconditional).
    pub fn num_classes(&self) -> usize {
        self.trainer.preset.model.num_classes
    }

    /// Packs samples (each of the model's resolution) as the networks take them.
    ///
    /// # Errors
    /// [`Error::Model`] for a sample of another size, or a class label the model lacks.
    pub fn batch(&self, samples: &[Sample]) -> Result<HostBatch> {
        let size = self.resolution();
        if let Some(s) = samples.iter().find(|s| s.frame.size_px != size) {
            return Err(Error::Model {
                path: self.dir.clone(),
                message: format!(
                    "the model takes {size}×{size} images, got {0}×{0}",
                    s.frame.size_px
                ),
            });
        }
        let classes = self.num_classes();
        if classes > 0
            && let Some(c) = samples
                .iter()
                .find_map(|s| s.class.filter(|&c| c as usize >= classes))
        {
            return Err(Error::Model {
                path: self.dir.clone(),
                message: format!("class label {c} is not one of the model's {classes} classes"),
            });
        }
        Ok(HostBatch::from_samples(samples, size)?)
    }

    /// Encodes a batch's images seen from its cameras: `[batch, z_dim]`, row-major.
    pub fn encode(&self, batch: &HostBatch) -> Vec<f32> {
        host_values(self.trainer.reconstruct(&self.trainer.upload(batch)).0)
    }

    /// Decodes latent codes `z` (`[batch, z_dim]`) for a batch's cameras and class labels:
    /// `[batch, R, R]` ray depth, scene units.
    ///
    /// # Panics
    /// If `z` does not hold `batch.batch` codes.
    pub fn decode(&self, z: &[f32], batch: &HostBatch) -> Vec<f32> {
        let device = self.trainer.device().clone().inner();
        let n = batch.batch;
        assert_eq!(z.len(), n * self.z_dim(), "one latent code per scene");
        let z = tensor(z, [n, self.z_dim()], &device);
        let camera = tensor(&batch.camera, [n, 3], &device);
        let classes = self.num_classes();
        let class = (classes > 0).then(|| one_hot(&batch.class, classes, &device));
        let nets = self.trainer.nets.valid();
        host_values(nets.decoder.forward(z, Some(camera), class))
    }

    /// The model's depth maps of the batch's images mirrored left–right, flipped back into the
    /// images' frame: `[batch, R, R]`, ray depth, scene units. The mirrored image is what the
    /// scene reflected across the room's plane of symmetry `x = z` shows from the reflected
    /// camera (see [`pix2scene_train::mirror`]): a second look at the same geometry, whose map
    /// the `mirror` post-processing step averages with the network's.
    pub fn mirrored_depth(&self, batch: &HostBatch) -> Vec<f32> {
        let mirrored = mirror::mirrored(&self.trainer.upload(batch));
        host_values(self.trainer.reconstruct(&mirrored).1.flip([2]))
    }

    /// Renders depth maps (`[batch, R, R]`) under a batch's lights with the surfel renderer:
    /// `(image, normals)`, both `[batch, R, R, 3]` (linear RGB clamped to [0, 1]; camera-frame
    /// unit normals).
    pub fn render(&self, depth: &[f32], batch: &HostBatch) -> (Vec<f32>, Vec<f32>) {
        let device = self.trainer.device().clone().inner();
        let (n, r) = (batch.batch, self.resolution());
        let lights = pix2scene_scene::MAX_LIGHTS;
        let out = self.trainer.renderer().forward(
            tensor(depth, [n, r, r], &device),
            tensor(&batch.light_pos, [n, lights, 3], &device),
            tensor(&batch.light_color, [n, lights, 3], &device),
        );
        let image: Tensor<4> = out.image.clamp(0.0, 1.0).permute([0, 2, 3, 1]);
        (host_values(image), host_values(out.normals))
    }

    /// Test-time refinement: `steps` Adam steps on the depth maps themselves through the
    /// surfel renderer against the batch's images, under the run's image term and planarity
    /// prior (its `optim.recon_x_weight`, `optim.planarity_weight`, `optim.refine_lr`), each
    /// map's scale kept (see [`DepthRefiner::refine`]), then median-filtered where the run's
    /// training filtered its refined targets (`optim.refine_median`, [`median3_keep_scale`]).
    /// Returns `[batch, R, R]`.
    pub fn refine(&self, depth: &[f32], batch: &HostBatch, steps: usize) -> Vec<f32> {
        let device = self.trainer.device();
        let (n, r) = (batch.batch, self.resolution());
        let o = &self.trainer.preset.optim;
        let prior = PlanarityPrior::new(
            self.trainer.renderer().fov_y_deg(),
            r,
            o.planarity_scale,
            device,
        );
        let refiner = DepthRefiner::new(
            self.trainer.renderer().clone(),
            prior,
            steps,
            o.refine_lr,
            o.recon_x_weight,
            o.planarity_weight,
        );
        let db = self.trainer.upload(batch);
        let mut maps = refiner.refine(RefineBatch {
            depth: tensor(depth, [n, r, r], device),
            image: db.image,
            light_pos: db.light_pos,
            light_color: db.light_color,
        });
        if o.refine_median {
            median3_keep_scale(&mut maps, r);
        }
        maps
    }
}

/// The renderer of `size`² images of the scenes of `config`.
fn renderer_config(config: &GeneratorConfig, size: usize) -> RendererConfig {
    RendererConfig::from_shading(size, &config.shading).with_fov_y_deg(config.camera.fov_y_deg)
}

/// The checkpoint `choice` names among `all` (oldest first).
fn pick(all: &[CheckpointEntry], choice: CheckpointChoice) -> Option<&CheckpointEntry> {
    match choice {
        CheckpointChoice::Best => checkpoint::best_of(all).or(all.last()),
        CheckpointChoice::Last => all.last(),
        CheckpointChoice::Step(n) => all.iter().find(|c| c.state.step == n),
    }
}
