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
//! networks do not draw (docs/training-notes.md, *Refined targets*). Regressing the decoder's
//! output on the refined map (in log depth, with the map's scale left as the decoder had it) then teaches the
//! decoder in depth space: among its approximations of the target it prefers the nearest in
//! depth, not the one whose shading matches best. Only images, cameras and lights are used —
//! no ground-truth depth.
//!
//! Two implementations compute the same refinement: composed burn tensor operations
//! differentiated by burn's autodiff (`reference.rs`, any backend), and a host-slice fast path
//! (`host.rs`) with hand-written gradients through the renderer's fused kernel
//! ([`pix2scene_render::kernel::HostImageKernel`]), the prior ([`HostPlanarity`]) and the
//! multi-scale parametrization (`relief.rs`), which refines the maps of a batch in parallel.
//! [`DepthRefiner::refine`] takes the fast path wherever the renderer would run its fused
//! kernel (`f32` on a `Flex` device).

mod host;
mod reference;
mod relief;

use burn::tensor::Tensor;
use pix2scene_render::{RenderImpl, SurfelRenderer};

use crate::planarity::{HostPlanarity, PlanarityPrior};

/// Adam's β₁, β₂ and ε for the per-pixel maps.
const ADAM: (f32, f32, f32) = (0.9, 0.999, 1e-8);

/// Refines depth maps through the renderer (see the module documentation).
#[derive(Clone, Debug)]
pub struct DepthRefiner {
    renderer: SurfelRenderer,
    prior: PlanarityPrior,
    /// The prior on host slices, for the fast path.
    host_prior: HostPlanarity,
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
            host_prior: prior.to_host(),
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

    /// Refines `batch.depth` by Adam on `ln d = ln depth + s − mean(s)`, `s` the sum of
    /// bilinearly upsampled maps at `R, R/2, …, 4` pixels (all starting at 0), so that each
    /// image's geometric-mean depth — its scale — stays exactly as given. Returns the refined
    /// maps in host memory.
    ///
    /// Runs the host fast path where the renderer runs its fused kernel, the tensor-op
    /// reference ([`Self::refine_reference`]) elsewhere. The inputs live on an autodiff device
    /// (the training device); their history, if any, does not reach the result.
    ///
    /// # Shapes
    /// As [`RefineBatch`]; returns `[batch, R, R]`, flattened.
    ///
    /// # Panics
    /// If `R` is not `4·2^L`.
    pub fn refine(&self, batch: RefineBatch) -> Vec<f32> {
        let batch = RefineBatch {
            light_pos: batch.light_pos.detach(),
            light_color: batch.light_color.detach(),
            ..batch
        };
        let fused =
            self.renderer
                .implementation_for(&batch.depth, &batch.light_pos, &batch.light_color)
                == RenderImpl::Fused;
        if fused {
            self.refine_host(batch)
        } else {
            self.refine_reference(batch)
        }
    }
}

/// What a refinement works on, as for [`DepthRefiner::objective`].
///
/// # Shapes
/// - `depth`: `[batch, R, R]`, ray depth to start from, scene units (> 0)
/// - `image`: `[batch, 3, R, R]`, the images to reproduce
/// - `light_pos`, `light_color`: `[batch, lights, 3]`, as for [`SurfelRenderer::forward`]
#[derive(Clone, Debug)]
pub struct RefineBatch {
    /// Starting depth maps.
    pub depth: Tensor<3>,
    /// Target images.
    pub image: Tensor<4>,
    /// Light positions, camera frame.
    pub light_pos: Tensor<3>,
    /// Light colours.
    pub light_color: Tensor<3>,
}

#[cfg(test)]
mod tests;
