//! Renderer-refined depth targets: a few steps of per-pixel optimization of the decoder's
//! reconstruction through the surfel renderer, used as a regression target for the decoder
//! (`optim.refine_steps`; not in the paper).
//!
//! Why: the image loss reaches the decoder's depth only through normals, so its gradient on a
//! depth map is a high-pass signal, and a network that cannot fit the true depth exactly
//! finds, among its approximations, those that fit the image through normal texture before
//! those that are close in depth. Optimizing the depth map itself, through a multi-scale
//! parametrization (a sum of bilinearly upsampled maps from `R²` down to `4²`) under the same
//! image term and planarity prior, moves box-sized regions in one step and recovers boxes the
//! networks do not draw (README, *Refined targets*). Regressing the decoder's output on the
//! refined map (in log depth, with the map's scale left as the decoder had it) then teaches the
//! decoder in depth space: among its approximations of the target it prefers the nearest in
//! depth, not the one whose shading matches best. Only images, cameras and lights are used —
//! no ground-truth depth.

use burn::tensor::Tensor;
use burn::tensor::module::interpolate;
use burn::tensor::ops::{InterpolateMode, InterpolateOptions};
use pix2scene_render::SurfelRenderer;

use crate::planarity::PlanarityPrior;

/// Adam's β₁, β₂ and ε for the per-pixel maps.
const ADAM: (f32, f32, f32) = (0.9, 0.999, 1e-8);

/// Refines depth maps through the renderer (see the module documentation).
#[derive(Clone, Debug)]
pub struct DepthRefiner {
    renderer: SurfelRenderer,
    prior: PlanarityPrior,
    /// Adam steps per refinement.
    steps: usize,
    /// Adam learning rate on the log-depth maps.
    lr: f32,
    /// Weight of the image term `mean (x − rend(d))²`.
    image_weight: f32,
    /// Weight of the planarity prior.
    prior_weight: f32,
}

impl DepthRefiner {
    /// A refiner with `steps` Adam steps of learning rate `lr`, minimizing `image_weight ·
    /// mean (x − rend(d))² + prior_weight · P(d)` (the encoder/decoder's own image term and
    /// prior, at full resolution).
    pub fn new(
        renderer: SurfelRenderer,
        prior: PlanarityPrior,
        steps: usize,
        lr: f32,
        image_weight: f32,
        prior_weight: f32,
    ) -> Self {
        Self {
            renderer,
            prior,
            steps,
            lr,
            image_weight,
            prior_weight,
        }
    }

    /// The objective the refinement minimizes, for a batch: `[1]`.
    ///
    /// # Shapes
    /// - `depth`: `[batch, R, R]`, ray depth, scene units (> 0)
    /// - `image`: `[batch, 3, R, R]`
    /// - `light_pos`, `light_color`: `[batch, lights, 3]`, as for [`SurfelRenderer::forward`]
    pub fn objective(
        &self,
        depth: Tensor<3>,
        image: Tensor<4>,
        light_pos: Tensor<3>,
        light_color: Tensor<3>,
    ) -> Tensor<1> {
        let rendered = self
            .renderer
            .render_image(depth.clone(), light_pos, light_color);
        (rendered - image)
            .square()
            .mean()
            .mul_scalar(self.image_weight)
            + self.prior.forward(depth).mul_scalar(self.prior_weight)
    }

    /// Refines `depth` by Adam on `ln d = ln depth + s − mean(s)`, `s` the sum of bilinearly
    /// upsampled maps at `R, R/2, …, 4` pixels (all starting at 0), so that each image's
    /// geometric-mean depth — its scale — stays exactly as given. Returns the refined depth,
    /// without autodiff history.
    ///
    /// The inputs live on an autodiff device (the training device); their history, if any,
    /// does not reach the result.
    ///
    /// # Shapes
    /// As [`DepthRefiner::objective`]; returns `[batch, R, R]` on the inner device.
    ///
    /// # Panics
    /// If `R` is not `4·2^L`.
    pub fn refine(
        &self,
        depth: Tensor<3>,
        image: Tensor<4>,
        light_pos: Tensor<3>,
        light_color: Tensor<3>,
    ) -> Tensor<3> {
        let [batch, r, _] = depth.dims();
        assert!(
            r >= 4 && r.is_power_of_two(),
            "refinement needs R = 4·2^L pixels, got {r}"
        );
        let inner = depth.clone().inner().device();
        let log_depth = depth.inner().log();
        let (image, light_pos, light_color) =
            (image.detach(), light_pos.detach(), light_color.detach());
        let sizes: Vec<usize> = (0..).map(|l| r >> l).take_while(|&s| s >= 4).collect();
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
        (log_depth + relief(&maps)).exp()
    }
}
