//! The networks, their optimizers and one training iteration: ALI/BiGAN trained as a WGAN with
//! a gradient penalty on the joint (x, z) input, plus the reconstruction losses of paper Eq. 4.
//!
//! One file per part: the [`critic step`](Trainer::critic_step), the
//! [`encoder/decoder step`](Trainer::generator_step), the
//! [`regression step`](Trainer::regress_step) on kept targets, evaluation
//! ([`Trainer::reconstruct`], [`Trainer::held_out_depth`]) and checkpoint I/O
//! ([`Trainer::save_checkpoint`], [`Trainer::load_checkpoint`]).

pub(crate) mod checkpoint_io;
mod critic_step;
mod evaluation;
mod generator_step;
mod regress_step;

pub use generator_step::GeneratorLoss;

use std::sync::{Mutex, PoisonError};

use burn::module::{Module, ModuleVisitor, Param};
use burn::optim::ModuleOptimizer;
use burn::tensor::{Device, Tensor};
use pix2scene_model::{Critic, Decoder, Encoder, FusedAdamConfig};
use pix2scene_render::{RendererConfig, SurfelRenderer};

use crate::batch::{DeviceBatch, HostBatch, host_values, tensor};
use crate::config::{OptimSection, TrainPreset};
use crate::error::{Error, Result};
use crate::foreground::composite;
use crate::metrics::Losses;
use crate::noise::IterationNoise;
use crate::planarity::PlanarityPrior;
use crate::pyramid::PyramidLoss;
use crate::refine::DepthRefiner;
use crate::targets::RefinedTargets;

/// Held while a trainer seeds the CPU backend's process-wide generator and draws its weights.
static SEEDED_INIT: Mutex<()> = Mutex::new(());

/// The encoder and decoder, optimized together by one Adam.
#[derive(Module, Debug)]
pub struct EncoderDecoder {
    /// `E(x, c) → z`.
    pub encoder: Encoder,
    /// `G(z, c) → depth`.
    pub decoder: Decoder,
}

/// Networks, renderer and optimizers of a run, and the steps that train them.
pub struct Trainer {
    /// The resolved preset.
    pub preset: TrainPreset,
    /// Encoder and decoder.
    pub nets: EncoderDecoder,
    /// The joint critic `D(x, z, c)`.
    pub critic: Critic,
    /// The geometric prior on generated depth maps.
    pub planarity: PlanarityPrior,
    /// The image reconstruction term over `optim.recon_levels` pyramid levels; its finest
    /// level is the run's differentiable surfel renderer ([`Trainer::renderer`]).
    pub pyramid: PyramidLoss,
    /// The per-pixel refinement whose result the decoder regresses on (`optim.refine_steps`).
    pub refiner: DepthRefiner,
    /// The training scenes' refined maps kept between visits (`optim.refine_keep`).
    pub targets: Option<RefinedTargets>,
    /// Adam of the encoder and decoder.
    pub(crate) opt_gen: ModuleOptimizer,
    /// Adam of the critic.
    pub(crate) opt_critic: ModuleOptimizer,
    device: Device,
}

impl Trainer {
    /// Builds fresh networks (weights seeded by `run.seed`) on `device` (an autodiff device).
    ///
    /// The weights are drawn on the CPU and then moved to `device`, so that a seed gives the
    /// same initial networks on every backend (backends have different random generators).
    pub fn new(preset: &TrainPreset, renderer: RendererConfig, device: &Device) -> Self {
        let m = &preset.model;
        // The CPU backend's random generator is one per process: hold it from seeding until
        // every weight is drawn, so that trainers built at the same time on several threads
        // each get the weights of their own seed.
        let seeded = SEEDED_INIT.lock().unwrap_or_else(PoisonError::into_inner);
        let host = Device::flex().autodiff();
        host.seed(preset.run.seed);
        let encoder = m.encoder().init(&host);
        let decoder = m.decoder().init(&host);
        let critic = m.critic().init(&host);
        // burn initializes parameters lazily, sharing the pending initialization between clones.
        // Materialize them now, right after seeding: the weights then depend on the seed alone,
        // and the `no_grad()` copies taken in the steps cannot alter the originals.
        encoder.visit(&mut Materialize);
        decoder.visit(&mut Materialize);
        critic.visit(&mut Materialize);
        drop(seeded);
        let (encoder, decoder, critic) = (
            encoder.fork(device),
            decoder.fork(device),
            critic.fork(device),
        );
        let o = &preset.optim;
        let adam = adam_config(o);
        let planarity =
            PlanarityPrior::new(renderer.fov_y_deg, m.resolution, o.planarity_scale, device);
        let pyramid = PyramidLoss::new(&renderer, o.recon_levels, device);
        Self {
            preset: preset.clone(),
            nets: EncoderDecoder { encoder, decoder },
            critic,
            refiner: DepthRefiner::new(
                pyramid.finest().clone(),
                planarity.clone(),
                o.refine_steps,
                o.refine_lr,
                o.recon_x_weight,
                o.planarity_weight,
            ),
            targets: o
                .refine_keep
                .then(|| RefinedTargets::new(m.resolution * m.resolution)),
            planarity,
            pyramid,
            opt_gen: adam.init(),
            opt_critic: adam.init(),
            device: device.clone(),
        }
    }

    /// Every float parameter of the encoder, decoder and critic, in visiting order, as host
    /// values: what the weights of two trainers are compared by (their checkpoint files differ
    /// even for equal weights, as burn draws parameter ids at random).
    pub fn parameters(&self) -> Vec<Vec<f32>> {
        let mut all = Collect(Vec::new());
        self.nets.encoder.visit(&mut all);
        self.nets.decoder.visit(&mut all);
        self.critic.visit(&mut all);
        all.0
    }

    /// The differentiable surfel renderer at the model's resolution (no parameters).
    pub fn renderer(&self) -> &SurfelRenderer {
        self.pyramid.finest()
    }

    /// The device the networks live on.
    pub fn device(&self) -> &Device {
        &self.device
    }

    /// The batch's cameras as the networks take them: `[batch, 3]`, or `None` for networks
    /// without camera conditioning (`model.camera = false`).
    pub fn camera(&self, batch: &DeviceBatch) -> Option<Tensor<2>> {
        self.preset.model.camera.then(|| batch.camera.clone())
    }

    /// The image of a depth map under the given lights: the surfel renderer's, composited over
    /// black by the foreground mask when the decoder has one ([`composite`]).
    ///
    /// # Shapes
    /// - `depth`, `mask`: `[batch, R, R]` (see [`Decoder::forward_with_mask`])
    /// - `lights`: camera-frame positions and colours, `[batch, lights, 3]` each
    /// - returns `[batch, 3, R, R]`
    pub fn render(
        &self,
        depth: Tensor<3>,
        mask: Option<Tensor<3>>,
        lights: (Tensor<3>, Tensor<3>),
    ) -> Tensor<4> {
        composite(
            self.renderer().render_image(depth, lights.0, lights.1),
            mask,
        )
    }

    /// One full iteration (0-based `step`): `critic_steps` critic steps on `batches[..C]`, then
    /// `regress_steps` regression steps on `batches[..regress_steps]` (see
    /// [`Trainer::regress_step`]), then one encoder/decoder step on `batches[C]`.
    ///
    /// # Errors
    /// [`Error::NonFinite`] naming the loss and the 1-based step.
    ///
    /// # Panics
    /// If `batches` does not hold `critic_steps + 1` batches.
    pub fn iteration(&mut self, batches: &[DeviceBatch], step: u64) -> Result<Losses> {
        let c = self.preset.optim.critic_steps;
        assert_eq!(
            batches.len(),
            c + 1,
            "an iteration takes critic_steps + 1 batches"
        );
        let noise = IterationNoise::draw(&self.preset, step);
        let mut losses = Losses::default();
        for (j, batch) in batches[..c].iter().enumerate() {
            let lights = noise.generator_lights(j, batch, &self.device);
            let (l, w, gp) = self.critic_step(
                batch,
                &noise.critic_z[j],
                &noise.critic_alpha[j],
                lights,
                step + 1,
            )?;
            losses.critic += l / c as f32;
            losses.wasserstein += w / c as f32;
            losses.gradient_penalty += gp / c as f32;
        }
        let regress_steps = self.preset.optim.regress_steps;
        for (j, batch) in batches[..regress_steps].iter().enumerate() {
            let mirror = self.preset.optim.regress_mirror && j % 2 == 1;
            losses.regress += self.regress_step(batch, mirror, step + 1)? / regress_steps as f32;
        }
        let lights = noise.generator_lights(c, &batches[c], &self.device);
        let (g, [adv, rx, rz, planarity, refine]) =
            self.generator_step(&batches[c], &noise.generator_z, lights, step + 1)?;
        losses.generator = g;
        losses.adversarial = adv;
        losses.recon_x = rx;
        losses.recon_z = rz;
        losses.planarity = planarity;
        losses.refine = refine;
        Ok(losses)
    }

    /// Uploads a host batch as the networks see it: [`DeviceBatch::from_host`], with the
    /// images replaced by the surfel renderer's where `data.surfel_images` asks for it.
    pub fn upload(&self, b: &HostBatch) -> DeviceBatch {
        let db = DeviceBatch::from_host(b, self.preset.model.num_classes, &self.device);
        if self.preset.data.surfel_images {
            db.with_surfel_images(b, self.renderer(), &self.device)
        } else {
            db
        }
    }

    /// With kept targets (`optim.refine_keep`), each scene's kept refined map, or `depth`'s own
    /// (detached) map where the scene has none yet: `[batch, R, R]` on the training device,
    /// without autodiff history; `None` without kept targets.
    fn kept_or_own(&self, batch: &DeviceBatch, depth: &Tensor<3>) -> Option<Tensor<3>> {
        let kept = self.targets.as_ref()?;
        let [b, r, _] = depth.dims();
        let own = host_values(depth.clone().inner());
        Some(tensor(
            &kept.starts(&batch.scene, &own),
            [b, r, r],
            &self.device,
        ))
    }
}

/// Adam with the run's betas and ε (burn's Adam, fused on `Flex`).
pub(crate) fn adam_config(o: &OptimSection) -> FusedAdamConfig {
    FusedAdamConfig::new()
        .with_beta_1(o.beta1)
        .with_beta_2(o.beta2)
        .with_epsilon(o.epsilon)
}

/// Mean critic scores of a real and a fake batch, `(mean D(real), mean D(fake))`, in one forward
/// pass of the two batches stacked (the critic has no batch statistics, so this equals two
/// separate passes and uses the convolutions better).
fn score_pair(
    critic: &Critic,
    real: (Tensor<4>, Tensor<2>),
    fake: (Tensor<4>, Tensor<2>),
    camera: Option<Tensor<2>>,
    class: &Option<Tensor<2>>,
) -> (Tensor<1>, Tensor<1>) {
    let b = real.0.dims()[0];
    let x = Tensor::cat(vec![real.0, fake.0], 0);
    let z = Tensor::cat(vec![real.1, fake.1], 0);
    let camera = camera.map(|c| Tensor::cat(vec![c.clone(), c], 0));
    let class = class
        .as_ref()
        .map(|c| Tensor::cat(vec![c.clone(), c.clone()], 0));
    let scores = critic.forward(x, z, camera, class);
    (
        scores.clone().narrow(0, 0, b).mean(),
        scores.narrow(0, b, b).mean(),
    )
}

/// `mean (ln depth − ln target)²` over every pixel of the batch: `[1]`. Both `[batch, R, R]`,
/// scene units; `target` carries no gradient.
fn log_depth_regression(depth: Tensor<3>, target: Tensor<3>) -> Tensor<1> {
    (depth.log() - target.log()).square().mean()
}

/// Fails on the first loss term (in the given order) that is NaN or infinite, before any update.
pub(crate) fn check_finite(terms: &[(&str, f32)], step: u64) -> Result<()> {
    match terms.iter().find(|(_, v)| !v.is_finite()) {
        Some(&(name, value)) => Err(Error::NonFinite {
            loss: name.into(),
            value,
            step,
            checkpoint: None,
        }),
        None => Ok(()),
    }
}

/// Reads a one-element tensor.
pub(crate) fn scalar(t: Tensor<1>) -> f32 {
    t.into_scalar::<f32>()
}

/// Builds a module on the CPU with the CPU backend's generator seeded by `seed` (holding the
/// lock of [`Trainer::new`], so that modules built at the same time on several threads each get
/// their own seed's weights), materializes its weights and moves it to `device`: the same seed
/// gives the same weights on every backend.
pub(crate) fn init_seeded<M: Module>(
    seed: u64,
    device: &Device,
    build: impl FnOnce(&Device) -> M,
) -> M {
    let seeded = SEEDED_INIT.lock().unwrap_or_else(PoisonError::into_inner);
    let host = Device::flex().autodiff();
    host.seed(seed);
    let module = build(&host);
    module.visit(&mut Materialize);
    drop(seeded);
    module.fork(device)
}

/// Collects every float parameter of a module as host values.
struct Collect(Vec<Vec<f32>>);

impl ModuleVisitor for Collect {
    fn visit_float<const D: usize>(&mut self, param: &Param<Tensor<D>>) {
        self.0.push(host_values(param.val()));
    }
}

/// Forces the initialization of every float parameter of a module.
struct Materialize;

impl ModuleVisitor for Materialize {
    fn visit_float<const D: usize>(&mut self, param: &Param<Tensor<D>>) {
        let _initialized = param.val();
    }
}
