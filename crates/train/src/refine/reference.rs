//! The refinement as composed burn tensor operations, differentiated by burn's autodiff: the
//! reference the host fast path is tested against, and the path on every backend but `Flex`.

use burn::tensor::Tensor;
use burn::tensor::module::interpolate;
use burn::tensor::ops::{InterpolateMode, InterpolateOptions};

use super::relief::Relief;
use super::{ADAM, DepthRefiner, RefineBatch};
use crate::batch::host_values;

impl DepthRefiner {
    /// [`DepthRefiner::refine`] by burn tensor operations on the inputs' device.
    ///
    /// # Shapes
    /// As [`DepthRefiner::refine`].
    ///
    /// # Panics
    /// If `R` is not `4·2^L`.
    pub fn refine_reference(&self, inputs: RefineBatch) -> Vec<f32> {
        let [batch, r, _] = inputs.depth.dims();
        // The fast path's levels (and its check of R).
        let sizes = Relief::new(r).level_sizes();
        let inner = inputs.depth.clone().inner().device();
        let log_depth = inputs.depth.inner().log();
        let image = inputs.image.detach();
        let (light_pos, light_color) = (inputs.light_pos.detach(), inputs.light_color.detach());
        let mut maps: Vec<Tensor<4>> = sizes
            .iter()
            .map(|&s| Tensor::zeros([batch, 1, s, s], &inner))
            .collect();
        let mut first = maps.clone();
        let mut second = maps.clone();
        let upsample = InterpolateOptions::new(InterpolateMode::Bilinear)
            .with_align_corners(false)
            .with_output_size([r, r]);
        let relief = |maps: &[Tensor<4>]| {
            let mut s = maps[0].clone();
            for m in &maps[1..] {
                s = s + interpolate(m.clone(), upsample.clone());
            }
            let mean = s.clone().mean_dim(2).mean_dim(3);
            (s - mean).reshape([batch, r, r])
        };
        let (b1, b2, eps) = ADAM;
        for t in 1..=self.steps {
            let params: Vec<Tensor<4>> = maps
                .iter()
                .map(|m| m.clone().autodiff().require_grad())
                .collect();
            let d = (log_depth.clone().autodiff() + relief(&params)).exp();
            let grads = self
                .objective(d, image.clone(), light_pos.clone(), light_color.clone())
                .backward();
            let (c1, c2) = (1.0 - b1.powi(t as i32), 1.0 - b2.powi(t as i32));
            for (l, p) in params.iter().enumerate() {
                let g = p.grad(&grads).expect("refinement map gradient");
                first[l] = first[l].clone().mul_scalar(b1) + g.clone().mul_scalar(1.0 - b1);
                second[l] = second[l].clone().mul_scalar(b2) + g.square().mul_scalar(1.0 - b2);
                let step = first[l].clone().div_scalar(c1)
                    / second[l].clone().div_scalar(c2).sqrt().add_scalar(eps);
                maps[l] = maps[l].clone() - step.mul_scalar(self.lr);
            }
        }
        host_values((log_depth + relief(&maps)).exp())
    }
}
