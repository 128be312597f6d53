//! The encoder/decoder step: the adversarial (ALI) term plus the reconstruction losses of paper
//! Eq. 4, the planarity prior and (with `optim.refine_steps`) the regression on refined depth.

use burn::module::Module;
use burn::optim::GradientsParams;
use burn::tensor::Tensor;

use super::{Trainer, check_finite, log_depth_regression, scalar, score_pair};
use crate::batch::{DeviceBatch, tensor};
use crate::error::Result;
use crate::median::median3_keep_scale;
use crate::refine::RefineBatch;

/// The encoder/decoder loss of one batch before the update (see [`Trainer::generator_loss`]):
/// its terms, and the batch's codes `E(x)` with their autodiff history, to which a caller may
/// add terms of its own (3D-IQTT's MINE penalty) before [`Trainer::apply_generator`].
pub struct GeneratorLoss {
    /// The weighted sum, `[1]`, with autodiff history.
    pub loss: Tensor<1>,
    /// `[adversarial, recon_x, recon_z, planarity, refine]`, `recon_x` being the
    /// full-resolution level.
    pub terms: [f32; 5],
    /// `E(x)` of the batch's images, `[batch, z_dim]`, with autodiff history.
    pub codes: Tensor<2>,
}

impl Trainer {
    /// One encoder/decoder step over the encoder's and decoder's weights, the critic fixed:
    /// [`Trainer::generator_loss`], then [`Trainer::apply_generator`]. Returns the loss and its
    /// terms `[adversarial, recon_x, recon_z, planarity, refine]`.
    ///
    /// # Errors
    /// As [`Trainer::critic_step`].
    ///
    /// # Panics
    /// As [`Trainer::generator_loss`].
    pub fn generator_step(
        &mut self,
        batch: &DeviceBatch,
        z: &[f32],
        lights: (Tensor<3>, Tensor<3>),
        step: u64,
    ) -> Result<(f32, [f32; 5])> {
        let g = self.generator_loss(batch, z, lights, step)?;
        let total = scalar(g.loss.clone());
        check_finite(&[("generator", total)], step)?;
        self.apply_generator(g.loss, step);
        Ok((total, g.terms))
    }

    /// The encoder/decoder loss of one batch, the critic fixed.
    ///
    /// `adv·[D(x, E(x)) − D(rend(G(z)), z)]` plus
    /// `w_x·mean_l mean(x_l − rend_l(G(E(x))_l))²` plus `w_z·mean(z − E(rend(G(z))))²` plus
    /// `w_p·P`, where `l` runs over the [`PyramidLoss`](crate::pyramid::PyramidLoss) levels (level 0 alone is paper Eq. 4)
    /// and `P` is the [`PlanarityPrior`](crate::planarity::PlanarityPrior) averaged over `G(E(x))` and `G(z)`, plus
    /// `w_r·mean(ln G(E(x)) − ln refined)²` when `optim.refine_steps > 0` (the refinement starts
    /// from each scene's kept map with `optim.refine_keep`, and keeps its result; with
    /// `optim.refine_median` the refined map is median-filtered first). With a foreground mask
    /// (`model.foreground_mask`) every rendered image is composited over black by the decoder's
    /// mask ([`Trainer::render`]).
    ///
    /// # Errors
    /// [`Error::NonFinite`](crate::Error::NonFinite) naming the first term that is NaN or
    /// infinite at iteration `step` (1-based).
    ///
    /// # Panics
    /// With `optim.refine_keep`, if the batch carries no scene identifiers
    /// ([`SceneSource::train_batch`](crate::data::SceneSource::train_batch) sets them).
    pub fn generator_loss(
        &mut self,
        batch: &DeviceBatch,
        z: &[f32],
        lights: (Tensor<3>, Tensor<3>),
        step: u64,
    ) -> Result<GeneratorLoss> {
        let b = batch.batch();
        let o = &self.preset.optim;
        let z = tensor(z, [b, self.preset.model.z_dim], &self.device);
        let cam = self.camera(batch);
        let critic = self.critic.clone().no_grad();
        let z_real = self.nets.encoder.forward(batch.image.clone(), cam.clone());
        let class = &batch.class;
        let (depth_rec, mask_rec) =
            self.nets
                .decoder
                .forward_with_mask(z_real.clone(), cam.clone(), class.clone());
        let (depth_fake, mask_fake) =
            self.nets
                .decoder
                .forward_with_mask(z.clone(), cam.clone(), class.clone());
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
            mask_rec,
            batch.image.clone(),
            lights.0.clone(),
            lights.1.clone(),
        );
        let x_fake = self.render(depth_fake, mask_fake, lights);
        let z_rec = self.nets.encoder.forward(x_fake.clone(), cam.clone());
        let (d_real, d_fake) = score_pair(
            &critic,
            (batch.image.clone(), z_real.clone()),
            (x_fake, z.clone()),
            cam,
            class,
        );
        let o = &self.preset.optim;
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
        check_finite(
            &[
                ("adversarial", terms[0]),
                ("recon_x", terms[1]),
                ("recon_z", terms[2]),
                ("planarity", terms[3]),
                ("refine", terms[4]),
            ],
            step,
        )?;
        Ok(GeneratorLoss {
            loss,
            terms,
            codes: z_real,
        })
    }

    /// One Adam step of the encoder and decoder on `loss` (iteration `step`, 1-based, for the
    /// learning-rate schedule).
    pub fn apply_generator(&mut self, loss: Tensor<1>, step: u64) {
        let lr = self.preset.optim.lr_at(step);
        let grads = GradientsParams::from_grads(loss.backward(), &self.nets);
        let nets = self.nets.clone();
        self.nets = self.opt_gen.step(lr, nets, grads);
    }
}
