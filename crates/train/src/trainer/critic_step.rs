//! The critic step of paper section 3.3.3: the WGAN critic with a gradient penalty on the joint
//! (x, z) input, the encoder and decoder fixed.

use burn::module::Module;
use burn::optim::GradientsParams;
use burn::tensor::Tensor;
use pix2scene_model::gradient_penalty;

use super::{Trainer, check_finite, scalar, score_pair};
use crate::batch::{DeviceBatch, tensor};
use crate::error::Result;

impl Trainer {
    /// One critic step: `min D(rend(G(z)), z) − D(x, E(x)) + λ·GP` over the critic's weights,
    /// with the encoder and decoder fixed. Returns `(loss, wasserstein, penalty)`.
    ///
    /// # Errors
    /// [`Error::NonFinite`](crate::Error::NonFinite) (with `checkpoint: None`) before the update when a term is NaN or
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
        let cam = self.camera(batch);
        let z_real = frozen
            .encoder
            .forward(batch.image.clone(), cam.clone())
            .detach();
        let class = &batch.class;
        let (depth, mask) = frozen
            .decoder
            .forward_with_mask(z.clone(), cam.clone(), class.clone());
        let x_fake = self.render(depth, mask, lights).detach();
        let (d_real, d_fake) = score_pair(
            &self.critic,
            (batch.image.clone(), z_real.clone()),
            (x_fake.clone(), z.clone()),
            cam.clone(),
            class,
        );
        let x_real = batch.image.clone();
        let gp = gradient_penalty(
            &self.critic,
            (x_real, z_real),
            (x_fake, z),
            cam,
            class.clone(),
            alpha,
        )
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
}
