//! The extra encoder/decoder steps that regress reconstructions on kept refined targets
//! (`optim.regress_steps`, optionally on the mirrored batch: `optim.regress_mirror`).

use std::borrow::Cow;

use burn::optim::GradientsParams;
use burn::tensor::Tensor;

use super::{Trainer, check_finite, log_depth_regression, scalar};
use crate::batch::DeviceBatch;
use crate::error::Result;
use crate::mirror;

impl Trainer {
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
        let cam = self.camera(&seen);
        let z = self.nets.encoder.forward(seen.image.clone(), cam.clone());
        let depth = self.nets.decoder.forward(z, cam, seen.class.clone());
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
}
