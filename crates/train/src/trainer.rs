//! The networks, their optimizers and one training iteration: ALI/BiGAN trained as a WGAN with
//! a gradient penalty on the joint (x, z) input, plus the reconstruction losses of paper Eq. 4.

use std::borrow::Cow;
use std::path::{Path, PathBuf};

use burn::module::{Module, ModuleVisitor, Param};
use burn::optim::{AdamConfig, GradientsParams, ModuleOptimizer};
use burn::store::{BurnpackStore, ModuleSnapshot};
use burn::tensor::{Device, Tensor, TensorData};
use pix2scene_model::{
    Critic, CriticConfig, Decoder, DecoderConfig, Encoder, EncoderConfig, gradient_penalty,
    gradient_penalty_with_class,
};
use pix2scene_render::{RendererConfig, SurfelRenderer};
use pix2scene_scene::{LightSampling, MAX_LIGHTS};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

use crate::checkpoint::{self, CheckpointState};
use crate::config::TrainPreset;
use crate::data::HostBatch;
use crate::depth_error::{DepthError, DepthErrorSum};
use crate::error::{Error, Result};
use crate::median::median3_keep_scale;
use crate::metrics::Losses;
use crate::mirror;
use crate::planarity::PlanarityPrior;
use crate::pyramid::PyramidLoss;
use crate::refine::{DepthRefiner, RefineBatch};
use crate::targets::RefinedTargets;

/// The encoder and decoder, optimized together by one Adam.
#[derive(Module, Debug)]
pub struct EncoderDecoder {
    /// `E(x, c) → z`.
    pub encoder: Encoder,
    /// `G(z, c) → depth`.
    pub decoder: Decoder,
}

/// A batch on the device.
#[derive(Clone, Debug)]
pub struct DeviceBatch {
    /// `[batch, 3, R, R]` images in [0, 1].
    pub image: Tensor<4>,
    /// `[batch, 3]` camera positions, world frame.
    pub camera: Tensor<2>,
    /// `[batch, MAX_LIGHTS, 3]` camera-frame light positions.
    pub light_pos: Tensor<3>,
    /// `[batch, MAX_LIGHTS, 3]` light colours.
    pub light_color: Tensor<3>,
    /// `[batch, num_classes]` one-hot class labels, for class-conditional models.
    pub class: Option<Tensor<2>>,
    /// `[batch]` training-set identifiers of the scenes ([`HostBatch::scene`]; may be empty).
    pub scene: Vec<u64>,
}

impl DeviceBatch {
    /// Uploads a host batch; `num_classes > 0` adds one-hot class labels.
    pub fn from_host(b: &HostBatch, num_classes: usize, device: &Device) -> Self {
        let (n, s) = (b.batch, b.size);
        let class = (num_classes > 0).then(|| {
            let mut one_hot = vec![0.0; n * num_classes];
            for (i, &c) in b.class.iter().enumerate() {
                one_hot[i * num_classes + (c as usize).min(num_classes - 1)] = 1.0;
            }
            tensor(&one_hot, [n, num_classes], device)
        });
        Self {
            class,
            image: tensor(&b.image, [n, 3, s, s], device),
            camera: tensor(&b.camera, [n, 3], device),
            light_pos: tensor(&b.light_pos, [n, MAX_LIGHTS, 3], device),
            light_color: tensor(&b.light_color, [n, MAX_LIGHTS, 3], device),
            scene: b.scene.clone(),
        }
    }

    fn batch(&self) -> usize {
        self.image.dims()[0]
    }
}

/// `G(z, c[, class])`.
fn decode(
    decoder: &Decoder,
    z: Tensor<2>,
    camera: Tensor<2>,
    class: &Option<Tensor<2>>,
) -> Tensor<3> {
    match class {
        Some(class) => decoder.forward_with_class(z, camera, class.clone()),
        None => decoder.forward(z, camera),
    }
}

/// `D(x, z, c[, class])`.
fn score(
    critic: &Critic,
    x: Tensor<4>,
    z: Tensor<2>,
    camera: Tensor<2>,
    class: &Option<Tensor<2>>,
) -> Tensor<1> {
    match class {
        Some(class) => critic.forward_with_class(x, z, camera, class.clone()),
        None => critic.forward(x, z, camera),
    }
}

/// Mean critic scores of a real and a fake batch, `(mean D(real), mean D(fake))`, in one forward
/// pass of the two batches stacked (the critic has no batch statistics, so this equals two
/// separate passes and uses the convolutions better).
fn score_pair(
    critic: &Critic,
    real: (Tensor<4>, Tensor<2>),
    fake: (Tensor<4>, Tensor<2>),
    camera: Tensor<2>,
    class: &Option<Tensor<2>>,
) -> (Tensor<1>, Tensor<1>) {
    let b = real.0.dims()[0];
    let x = Tensor::cat(vec![real.0, fake.0], 0);
    let z = Tensor::cat(vec![real.1, fake.1], 0);
    let camera = Tensor::cat(vec![camera.clone(), camera], 0);
    let class = class
        .as_ref()
        .map(|c| Tensor::cat(vec![c.clone(), c.clone()], 0));
    let scores = score(critic, x, z, camera, &class);
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
fn check_finite(terms: &[(&str, f32)], step: u64) -> Result<()> {
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

/// Makes a float tensor of `shape` from host values.
pub(crate) fn tensor<const D: usize>(
    values: &[f32],
    shape: [usize; D],
    device: &Device,
) -> Tensor<D> {
    Tensor::from_data(TensorData::new(values.to_vec(), shape), device)
}

/// Reads a one-element tensor.
fn scalar(t: Tensor<1>) -> f32 {
    t.into_scalar::<f32>()
}

/// The random draws of one iteration, a pure function of `(run.seed, step)`.
#[derive(Clone, Debug)]
pub struct IterationNoise {
    /// Latent codes of each critic step, `[batch·z_dim]` each.
    pub critic_z: Vec<Vec<f32>>,
    /// Penalty mixing weights of each critic step, `[batch]` each, uniform in [0, 1).
    pub critic_alpha: Vec<Vec<f32>>,
    /// Latent code of the encoder/decoder step, `[batch·z_dim]`.
    pub generator_z: Vec<f32>,
    /// Generator-side lights for each of the `critic_steps + 1` steps when `data.random_lights`
    /// is on: `(positions, colours)`, `[batch·MAX_LIGHTS·3]` each.
    pub random_lights: Vec<(Vec<f32>, Vec<f32>)>,
}

impl IterationNoise {
    /// Draws the noise of iteration `step` (0-based).
    pub fn draw(preset: &TrainPreset, step: u64) -> Self {
        let mut rng = ChaCha8Rng::seed_from_u64(preset.run.seed);
        rng.set_stream(step);
        let (b, z, c) = (
            preset.optim.batch,
            preset.model.z_dim,
            preset.optim.critic_steps,
        );
        let mut normals =
            |n: usize| -> Vec<f32> { (0..n).map(|_| standard_normal(&mut rng)).collect() };
        let critic_z: Vec<Vec<f32>> = (0..c).map(|_| normals(b * z)).collect();
        let generator_z = normals(b * z);
        let critic_alpha = (0..c)
            .map(|_| (0..b).map(|_| rng.random::<f32>()).collect())
            .collect();
        let mut random_lights = Vec::new();
        if preset.data.random_lights {
            let sampler = LightSampling {
                random_colors: true,
                ..LightSampling::default()
            };
            for _ in 0..=c {
                let mut pos = vec![0.0; b * MAX_LIGHTS * 3];
                let mut col = vec![0.0; b * MAX_LIGHTS * 3];
                for i in 0..b {
                    for (l, light) in sampler
                        .sample_camera_relative(&mut rng)
                        .iter()
                        .take(MAX_LIGHTS)
                        .enumerate()
                    {
                        let at = (i * MAX_LIGHTS + l) * 3;
                        pos[at..at + 3].copy_from_slice(&light.position.to_array());
                        col[at..at + 3].copy_from_slice(&light.color.to_array());
                    }
                }
                random_lights.push((pos, col));
            }
        }
        Self {
            critic_z,
            critic_alpha,
            generator_z,
            random_lights,
        }
    }
}

/// A standard normal draw (Box–Muller), so the noise depends on no distribution crate's
/// algorithm.
fn standard_normal(rng: &mut ChaCha8Rng) -> f32 {
    let u1: f64 = 1.0 - rng.random::<f64>(); // (0, 1]
    let u2: f64 = rng.random::<f64>();
    ((-2.0 * u1.ln()).sqrt() * (std::f64::consts::TAU * u2).cos()) as f32
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
    opt_gen: ModuleOptimizer,
    opt_critic: ModuleOptimizer,
    device: Device,
}

impl Trainer {
    /// Builds fresh networks (weights seeded by `run.seed`) on `device` (an autodiff device).
    ///
    /// The weights are drawn on the CPU and then moved to `device`, so that a seed gives the
    /// same initial networks on every backend (backends have different random generators).
    pub fn new(preset: &TrainPreset, renderer: RendererConfig, device: &Device) -> Self {
        let m = &preset.model;
        let host = Device::flex().autodiff();
        host.seed(preset.run.seed);
        let encoder = EncoderConfig::new(m.resolution)
            .with_width(m.width)
            .with_z_dim(m.z_dim)
            .init(&host);
        let decoder = DecoderConfig::new(m.resolution)
            .with_width(m.width)
            .with_z_dim(m.z_dim)
            .with_num_classes(m.num_classes)
            .with_coarse_heads(m.decoder_coarse_heads)
            .with_fine_gain(m.decoder_fine_gain)
            .init(&host);
        let critic = CriticConfig::new(m.resolution)
            .with_width(m.width)
            .with_z_dim(m.z_dim)
            .with_num_classes(m.num_classes)
            .init(&host);
        // burn initializes parameters lazily, sharing the pending initialization between clones.
        // Materialize them now, right after seeding: the weights then depend on the seed alone,
        // and the `no_grad()` copies taken in the steps cannot alter the originals.
        encoder.visit(&mut Materialize);
        decoder.visit(&mut Materialize);
        critic.visit(&mut Materialize);
        let (encoder, decoder, critic) = (
            encoder.fork(device),
            decoder.fork(device),
            critic.fork(device),
        );
        let o = &preset.optim;
        let adam = AdamConfig::new()
            .with_beta_1(o.beta1)
            .with_beta_2(o.beta2)
            .with_epsilon(o.epsilon);
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

    /// The differentiable surfel renderer at the model's resolution (no parameters).
    pub fn renderer(&self) -> &SurfelRenderer {
        self.pyramid.finest()
    }

    /// The device the networks live on.
    pub fn device(&self) -> &Device {
        &self.device
    }

    /// Generator-side lights: the batch's own, or the iteration's random ones (Appendix B).
    fn gen_lights(
        &self,
        batch: &DeviceBatch,
        noise: &IterationNoise,
        step: usize,
    ) -> (Tensor<3>, Tensor<3>) {
        match noise.random_lights.get(step) {
            Some((pos, col)) => {
                let b = batch.batch();
                (
                    tensor(pos, [b, MAX_LIGHTS, 3], &self.device),
                    tensor(col, [b, MAX_LIGHTS, 3], &self.device),
                )
            }
            None => (batch.light_pos.clone(), batch.light_color.clone()),
        }
    }

    /// One critic step: `min D(rend(G(z)), z) − D(x, E(x)) + λ·GP` over the critic's weights,
    /// with the encoder and decoder fixed. Returns `(loss, wasserstein, penalty)`.
    ///
    /// # Errors
    /// [`Error::NonFinite`] (with `checkpoint: None`) before the update when a term is NaN or
    /// infinite; the weights are then unchanged.
    pub fn critic_step(
        &mut self,
        batch: &DeviceBatch,
        z: &[f32],
        alpha: &[f32],
        lights: (Tensor<3>, Tensor<3>),
        step: u64,
    ) -> Result<(f32, f32, f32)> {
        let b = batch.batch();
        let z = tensor(z, [b, self.preset.model.z_dim], &self.device);
        let alpha = tensor(alpha, [b], &self.device);
        // Encoder and decoder run without gradients (their batch statistics still update, as
        // in PyTorch's `no_grad` with modules in training mode).
        let frozen = self.nets.clone().no_grad();
        let z_real = frozen
            .encoder
            .forward(batch.image.clone(), batch.camera.clone())
            .detach();
        let cam = batch.camera.clone();
        let class = &batch.class;
        let depth = decode(&frozen.decoder, z.clone(), cam.clone(), class);
        let x_fake = self
            .renderer()
            .render_image(depth, lights.0, lights.1)
            .detach();
        let (d_real, d_fake) = score_pair(
            &self.critic,
            (batch.image.clone(), z_real.clone()),
            (x_fake.clone(), z.clone()),
            cam.clone(),
            class,
        );
        let x_real = batch.image.clone();
        let gp = match class {
            Some(class) => gradient_penalty_with_class(
                &self.critic,
                x_real,
                x_fake,
                z_real,
                z,
                cam,
                class.clone(),
                alpha,
            ),
            None => gradient_penalty(&self.critic, x_real, x_fake, z_real, z, cam, alpha),
        }
        .mean();
        let wasserstein = d_real.clone() - d_fake.clone();
        let loss = d_fake - d_real + gp.clone().mul_scalar(self.preset.optim.gp_weight);
        let values = (scalar(loss.clone()), scalar(wasserstein), scalar(gp));
        check_finite(
            &[
                ("wasserstein", values.1),
                ("gradient_penalty", values.2),
                ("critic", values.0),
            ],
            step,
        )?;
        let grads = GradientsParams::from_grads(loss.backward(), &self.critic);
        let critic = self.critic.clone();
        self.critic = self
            .opt_critic
            .step(self.preset.optim.lr_at(step), critic, grads);
        Ok(values)
    }

    /// One encoder/decoder step over the encoder's and decoder's weights, the critic fixed.
    ///
    /// Minimizes `adv·[D(x, E(x)) − D(rend(G(z)), z)]` plus
    /// `w_x·mean_l mean(x_l − rend_l(G(E(x))_l))²` plus `w_z·mean(z − E(rend(G(z))))²` plus
    /// `w_p·P`, where `l` runs over the [`PyramidLoss`] levels (level 0 alone is paper Eq. 4)
    /// and `P` is the [`PlanarityPrior`] averaged over `G(E(x))` and `G(z)`, plus
    /// `w_r·mean(ln G(E(x)) − ln refined)²` when `optim.refine_steps > 0` (the refinement starts
    /// from each scene's kept map with `optim.refine_keep`, and keeps its result; with
    /// `optim.refine_median` the refined map is median-filtered first). Returns the
    /// loss and `[adversarial, recon_x, recon_z, planarity, refine]`, `recon_x` being the
    /// full-resolution level.
    ///
    /// # Errors
    /// As [`Trainer::critic_step`].
    ///
    /// # Panics
    /// With `optim.refine_keep`, if the batch carries no scene identifiers
    /// ([`SceneSource::train_batch`](crate::data::SceneSource::train_batch) sets them).
    pub fn generator_step(
        &mut self,
        batch: &DeviceBatch,
        z: &[f32],
        lights: (Tensor<3>, Tensor<3>),
        step: u64,
    ) -> Result<(f32, [f32; 5])> {
        let b = batch.batch();
        let o = &self.preset.optim;
        let z = tensor(z, [b, self.preset.model.z_dim], &self.device);
        let cam = batch.camera.clone();
        let critic = self.critic.clone().no_grad();
        let z_real = self.nets.encoder.forward(batch.image.clone(), cam.clone());
        let class = &batch.class;
        let depth_rec = decode(&self.nets.decoder, z_real.clone(), cam.clone(), class);
        let depth_fake = decode(&self.nets.decoder, z.clone(), cam.clone(), class);
        let planarity = (self.planarity.forward(depth_rec.clone())
            + self.planarity.forward(depth_fake.clone()))
        .mul_scalar(0.5);
        let refine = if o.refine_steps > 0 {
            let start = self
                .kept_or_own(batch, &depth_rec)
                .unwrap_or_else(|| depth_rec.clone());
            let mut maps = self.refiner.refine(RefineBatch {
                depth: start,
                image: batch.image.clone(),
                light_pos: lights.0.clone(),
                light_color: lights.1.clone(),
            });
            let r = self.preset.model.resolution;
            if o.refine_median {
                median3_keep_scale(&mut maps, r);
            }
            if let Some(kept) = &mut self.targets {
                kept.keep(&batch.scene, &maps);
            }
            let target = tensor(&maps, [b, r, r], &self.device);
            Some(log_depth_regression(depth_rec.clone(), target))
        } else {
            None
        };
        let recon_levels = self.pyramid.forward(
            depth_rec,
            batch.image.clone(),
            lights.0.clone(),
            lights.1.clone(),
        );
        let x_fake = self.renderer().render_image(depth_fake, lights.0, lights.1);
        let z_rec = self.nets.encoder.forward(x_fake.clone(), cam.clone());
        let (d_real, d_fake) = score_pair(
            &critic,
            (batch.image.clone(), z_real),
            (x_fake, z.clone()),
            cam,
            class,
        );
        let adversarial = d_real - d_fake;
        let levels = recon_levels.len() as f64;
        let recon_x = recon_levels[0].clone();
        let recon_pyramid = Tensor::cat(recon_levels, 0).sum().div_scalar(levels);
        let recon_z = (z_rec - z).square().mean();
        let mut loss = adversarial.clone().mul_scalar(o.adv_weight)
            + recon_pyramid.mul_scalar(o.recon_x_weight)
            + recon_z.clone().mul_scalar(o.recon_z_weight)
            + planarity.clone().mul_scalar(o.planarity_weight);
        if let Some(r) = &refine {
            loss = loss + r.clone().mul_scalar(o.refine_weight);
        }
        let refine = refine.map_or(0.0, scalar);
        let terms = [
            scalar(adversarial),
            scalar(recon_x),
            scalar(recon_z),
            scalar(planarity),
            refine,
        ];
        let total = scalar(loss.clone());
        check_finite(
            &[
                ("adversarial", terms[0]),
                ("recon_x", terms[1]),
                ("recon_z", terms[2]),
                ("planarity", terms[3]),
                ("refine", terms[4]),
                ("generator", total),
            ],
            step,
        )?;
        let grads = GradientsParams::from_grads(loss.backward(), &self.nets);
        let nets = self.nets.clone();
        self.nets = self.opt_gen.step(o.lr_at(step), nets, grads);
        Ok((total, terms))
    }

    /// One encoder/decoder step that regresses the batch's reconstructions on their scenes' kept
    /// refined targets, `w_r·mean(ln G(E(x)) − ln kept)²` (`optim.regress_steps`): no
    /// refinement, no other term, the targets unchanged. A scene without a kept target yet
    /// regresses on its own reconstruction, which contributes nothing. With `mirror` the
    /// networks see the batch mirrored ([`mirror::mirrored`]) and regress on the flipped
    /// targets. Returns the regression.
    ///
    /// # Errors
    /// As [`Trainer::critic_step`].
    ///
    /// # Panics
    /// Without kept targets (`optim.refine_keep`), or if the batch carries no scene
    /// identifiers.
    pub fn regress_step(&mut self, batch: &DeviceBatch, mirror: bool, step: u64) -> Result<f32> {
        let flip = |maps: Tensor<3>| if mirror { maps.flip([2]) } else { maps };
        let seen = if mirror {
            Cow::Owned(mirror::mirrored(batch))
        } else {
            Cow::Borrowed(batch)
        };
        let cam = seen.camera.clone();
        let z = self.nets.encoder.forward(seen.image.clone(), cam.clone());
        let depth = decode(&self.nets.decoder, z, cam, &seen.class);
        let target = self
            .kept_or_own(batch, &flip(depth.clone()))
            .map(flip)
            .expect("regress steps need kept targets (optim.refine_keep)");
        let o = &self.preset.optim;
        let regression = log_depth_regression(depth, target);
        let value = scalar(regression.clone());
        check_finite(&[("regress", value)], step)?;
        let loss = regression.mul_scalar(o.refine_weight);
        let grads = GradientsParams::from_grads(loss.backward(), &self.nets);
        let nets = self.nets.clone();
        self.nets = self.opt_gen.step(o.lr_at(step), nets, grads);
        Ok(value)
    }

    /// With kept targets (`optim.refine_keep`), each scene's kept refined map, or `depth`'s own
    /// (detached) map where the scene has none yet: `[batch, R, R]` on the training device,
    /// without autodiff history; `None` without kept targets.
    fn kept_or_own(&self, batch: &DeviceBatch, depth: &Tensor<3>) -> Option<Tensor<3>> {
        let kept = self.targets.as_ref()?;
        let [b, r, _] = depth.dims();
        let own = depth.clone().inner().into_data();
        let own = own.as_slice::<f32>().expect("f32 depth");
        Some(tensor(
            &kept.starts(&batch.scene, own),
            [b, r, r],
            &self.device,
        ))
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
            let lights = self.gen_lights(batch, &noise, j);
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
        let lights = self.gen_lights(&batches[c], &noise, c);
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

    /// Encodes and decodes a batch with the networks in inference mode (running batch
    /// statistics): `(z, depth)`, `[batch, z_dim]` and `[batch, R, R]`, without autodiff.
    pub fn reconstruct(&self, batch: &DeviceBatch) -> (Tensor<2>, Tensor<3>) {
        let nets = self.nets.valid();
        let camera = batch.camera.clone().inner();
        let class = batch.class.clone().map(Tensor::inner);
        let z = nets
            .encoder
            .forward(batch.image.clone().inner(), camera.clone());
        let depth = decode(&nets.decoder, z.clone(), camera, &class);
        (z, depth)
    }

    /// Decodes latent codes for a batch's cameras (and classes) in inference mode:
    /// `[batch, R, R]` depth, without autodiff.
    pub fn decode(&self, z: Tensor<2>, batch: &DeviceBatch) -> Tensor<3> {
        let class = batch.class.clone().map(Tensor::inner);
        decode(
            &self.nets.valid().decoder,
            z.inner(),
            batch.camera.clone().inner(),
            &class,
        )
    }

    /// Uploads a host batch as the networks see it: [`DeviceBatch::from_host`], with the
    /// images replaced by the surfel renderer's where `data.surfel_images` asks for it.
    pub fn upload(&self, b: &HostBatch) -> DeviceBatch {
        let mut db = DeviceBatch::from_host(b, self.preset.model.num_classes, &self.device);
        if self.preset.data.surfel_images {
            db.image = self.surfel_images(b, &db);
        }
        db
    }

    /// The surfel renderer's images of a batch's true depth under its lights, clamped to
    /// [0, 1], where the rays hit a surface, and the batch's own images elsewhere.
    ///
    /// # Shapes
    /// Returns `[batch, 3, R, R]`, without autodiff history.
    fn surfel_images(&self, b: &HostBatch, db: &DeviceBatch) -> Tensor<4> {
        let (n, s) = (b.batch, b.size);
        let mask: Tensor<3> = tensor(&b.mask, [n, s, s], &self.device);
        // Masked pixels have depth 0; any positive depth keeps the renderer defined there.
        let depth = tensor(&b.depth, [n, s, s], &self.device) - mask.clone() + 1.0;
        let rendered = self
            .renderer()
            .render_image(depth, db.light_pos.clone(), db.light_color.clone())
            .clamp(0.0, 1.0);
        let hit: Tensor<4> = mask.unsqueeze_dim(1);
        (rendered * hit.clone() + db.image.clone() * (hit.neg() + 1.0)).detach()
    }

    /// Depth error of [`Trainer::reconstruct`] on host batches: paper Table 1's masked
    /// MSE-depth (scene units²), the same with each image's best scale, and the depth ratio.
    pub fn held_out_depth(&self, batches: &[HostBatch]) -> DepthError {
        let mut sum = DepthErrorSum::default();
        for b in batches {
            let (_, depth) = self.reconstruct(&self.upload(b));
            let pred = depth.into_data().try_to_vec::<f32>().expect("f32 depth");
            let pixels = b.size * b.size;
            for ((p, g), m) in pred
                .chunks(pixels)
                .zip(b.depth.chunks(pixels))
                .zip(b.mask.chunks(pixels))
            {
                sum.add_image(p, g, m);
            }
        }
        sum.finish()
    }

    /// Writes a checkpoint of the weights and optimizer states (and the kept refined targets,
    /// if any) into `checkpoints/`, atomically, and prunes older ones. Returns its directory.
    ///
    /// # Errors
    /// [`Error::Io`] or [`Error::Checkpoint`] naming the file.
    pub fn save_checkpoint(
        &self,
        checkpoints: &Path,
        state: &CheckpointState,
        keep_last: usize,
    ) -> Result<PathBuf> {
        let tmp = checkpoint::begin(checkpoints, state.step)?;
        // Batch-norm running statistics keep their latest update pending per thread until
        // synchronized, and saving reads the synchronized value: `valid()` synchronizes them in
        // place (the returned copies are not needed).
        let _synced = (self.nets.valid(), self.critic.valid());
        save_module(&self.nets.encoder, &tmp.join("encoder.bpk"))?;
        save_module(&self.nets.decoder, &tmp.join("decoder.bpk"))?;
        save_module(&self.critic, &tmp.join("critic.bpk"))?;
        for (opt, name) in [
            (&self.opt_gen, "optim-generator.bpk"),
            (&self.opt_critic, "optim-critic.bpk"),
        ] {
            let path = tmp.join(name);
            opt.save(&path).map_err(|e| Error::Checkpoint {
                path: path.clone(),
                message: e.to_string(),
            })?;
        }
        if let Some(kept) = &self.targets {
            kept.write(&tmp.join(TARGETS_FILE))?;
        }
        let dir = checkpoint::commit(&tmp, state)?;
        checkpoint::prune(checkpoints, keep_last)?;
        Ok(dir)
    }

    /// Loads weights and optimizer states (and the kept refined targets, when the run keeps
    /// them) from checkpoint directory `dir`.
    ///
    /// # Errors
    /// [`Error::Checkpoint`] naming a missing or mismatched file.
    pub fn load_checkpoint(&mut self, dir: &Path) -> Result<CheckpointState> {
        let state = checkpoint::read_state(dir)?;
        load_module(&mut self.nets.encoder, &dir.join("encoder.bpk"))?;
        load_module(&mut self.nets.decoder, &dir.join("decoder.bpk"))?;
        load_module(&mut self.critic, &dir.join("critic.bpk"))?;
        for (opt, name) in [
            (&mut self.opt_gen, "optim-generator.bpk"),
            (&mut self.opt_critic, "optim-critic.bpk"),
        ] {
            let path = dir.join(name);
            if !path.is_file() {
                return Err(Error::Checkpoint {
                    path,
                    message: "missing".into(),
                });
            }
            // Load into the configured optimizer (betas, ε), leaving a placeholder meanwhile.
            let configured = std::mem::replace(opt, AdamConfig::new().init());
            *opt = configured.load(&path).map_err(|e| Error::Checkpoint {
                path: path.clone(),
                message: e.to_string(),
            })?;
        }
        if self.targets.is_some() {
            let pixels = self.preset.model.resolution.pow(2);
            self.targets = Some(RefinedTargets::read(&dir.join(TARGETS_FILE), pixels)?);
        }
        Ok(state)
    }
}

/// A checkpoint's kept refined targets (`optim.refine_keep`), see [`RefinedTargets`].
const TARGETS_FILE: &str = "refined-targets.bin";

/// Forces the initialization of every float parameter of a module.
struct Materialize;

impl ModuleVisitor for Materialize {
    fn visit_float<const D: usize>(&mut self, param: &Param<Tensor<D>>) {
        let _initialized = param.val();
    }
}

/// Registers a small constant gradient for every float parameter of a module.
struct ConstantGrads(GradientsParams);

impl ModuleVisitor for ConstantGrads {
    fn visit_float<const D: usize>(&mut self, param: &Param<Tensor<D>>) {
        let g = param.val().inner().ones_like().mul_scalar(1e-4);
        self.0.register(param.id, g);
    }
}

impl Trainer {
    /// Times one Adam step of the critic and one of the encoder/decoder on constant gradients
    /// (for the benchmark's breakdown; it moves the weights). Returns `(critic_s, generator_s)`.
    pub(crate) fn bench_optimizer_steps(&mut self) -> (f64, f64) {
        let lr = self.preset.optim.lr;
        let mut grads = ConstantGrads(GradientsParams::new());
        self.critic.visit(&mut grads);
        let t = std::time::Instant::now();
        let critic = self.critic.clone();
        self.critic = self.opt_critic.step(lr, critic, grads.0);
        let critic_s = t.elapsed().as_secs_f64();
        let mut grads = ConstantGrads(GradientsParams::new());
        self.nets.visit(&mut grads);
        let t = std::time::Instant::now();
        let nets = self.nets.clone();
        self.nets = self.opt_gen.step(lr, nets, grads.0);
        (critic_s, t.elapsed().as_secs_f64())
    }
}

/// Writes a module's weights (with parameter ids, which key the optimizer state) as burnpack.
fn save_module<M: ModuleSnapshot>(module: &M, path: &Path) -> Result<()> {
    let mut store = BurnpackStore::from_file(path).overwrite(true);
    module.save_into(&mut store).map_err(|e| Error::Checkpoint {
        path: path.to_path_buf(),
        message: e.to_string(),
    })
}

/// Reads a module's weights written by [`save_module`].
fn load_module<M: ModuleSnapshot>(module: &mut M, path: &Path) -> Result<()> {
    if !path.is_file() {
        return Err(Error::Checkpoint {
            path: path.to_path_buf(),
            message: "missing".into(),
        });
    }
    let mut store = BurnpackStore::from_file(path);
    let result = module
        .load_from(&mut store)
        .map_err(|e| Error::Checkpoint {
            path: path.to_path_buf(),
            message: e.to_string(),
        })?;
    if !result.missing.is_empty() || !result.errors.is_empty() {
        let missing: Vec<&str> = result.missing.iter().map(|(p, _)| p.as_str()).collect();
        return Err(Error::Checkpoint {
            path: path.to_path_buf(),
            message: format!(
                "does not match the model (missing: {missing:?}, errors: {})",
                result.errors.len()
            ),
        });
    }
    Ok(())
}
