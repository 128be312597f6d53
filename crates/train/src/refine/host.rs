//! The refinement's fast path on host slices: hand-written gradients through the renderer's
//! fused kernel, the planarity prior and the multi-scale parametrization, one map of the batch
//! per parallel task.

use pix2scene_render::kernel::HostImageKernel;
use rayon::prelude::*;

use super::relief::Relief;
use super::{ADAM, DepthRefiner, RefineBatch};
use crate::batch::host_values;

/// One map's inputs, borrowed from the batch.
struct MapInputs<'a> {
    /// `[R, R]`, the starting depth.
    start: &'a [f32],
    /// `[3, R, R]`, the image to reproduce.
    image: &'a [f32],
    /// `[lights, 3]`, camera frame.
    light_pos: &'a [f32],
    /// `[lights, 3]`.
    light_color: &'a [f32],
}

impl DepthRefiner {
    /// [`DepthRefiner::refine`] on host slices, each map of the batch refined by its own
    /// parallel task (rayon's current pool). The maps are independent — the objective is a
    /// mean over the batch, so each map's gradient is its own term's — and so is the result
    /// of the thread count.
    ///
    /// # Shapes
    /// As [`DepthRefiner::refine`].
    ///
    /// # Panics
    /// If `R` is not `4·2^L`.
    pub(super) fn refine_host(&self, inputs: RefineBatch) -> Vec<f32> {
        let [batch, r, _] = inputs.depth.dims();
        let relief = Relief::new(r);
        let kernel = self.renderer.host_image_kernel();
        let start = host_values(inputs.depth);
        let image = host_values(inputs.image);
        let (light_pos, light_color) = (
            host_values(inputs.light_pos),
            host_values(inputs.light_color),
        );
        let (hw, lights) = (r * r, light_pos.len() / batch);
        let maps: Vec<Vec<f32>> = (0..batch)
            .into_par_iter()
            .map(|b| {
                let inputs = MapInputs {
                    start: &start[b * hw..(b + 1) * hw],
                    image: &image[b * 3 * hw..(b + 1) * 3 * hw],
                    light_pos: &light_pos[b * lights..(b + 1) * lights],
                    light_color: &light_color[b * lights..(b + 1) * lights],
                };
                self.refine_map(&relief, &kernel, &inputs, batch)
            })
            .collect();
        maps.concat()
    }

    /// Refines one map of a batch of `batch`: its share of the batch objective, by the same
    /// Adam steps as the reference.
    fn refine_map(
        &self,
        relief: &Relief,
        kernel: &HostImageKernel,
        inp: &MapInputs,
        batch: usize,
    ) -> Vec<f32> {
        let log_start: Vec<f32> = inp.start.iter().map(|d| d.ln()).collect();
        let depth = |s: &[f32]| -> Vec<f32> {
            log_start
                .iter()
                .zip(s)
                .map(|(a, b)| (a + b).exp())
                .collect()
        };
        let sizes = relief.level_sizes();
        let zeros = || -> Vec<Vec<f32>> { sizes.iter().map(|s| vec![0.0; s * s]).collect() };
        let (mut maps, mut first, mut second, mut grads) = (zeros(), zeros(), zeros(), zeros());
        let mut s = vec![0.0f32; inp.start.len()];
        // ∂/∂image of `image_weight · mean (rend − x)²` over the whole batch's image.
        let image_scale = 2.0 * self.image_weight / (batch * inp.image.len()) as f32;
        let prior_weight = self.prior_weight / batch as f32;
        let (b1, b2, eps) = ADAM;
        for t in 1..=self.steps {
            relief.compose(&maps, &mut s);
            let (rendered, tape) = kernel.forward(depth(&s), inp.light_pos, inp.light_color);
            let grad_image: Vec<f32> = rendered
                .iter()
                .zip(inp.image)
                .map(|(y, x)| image_scale * (y - x))
                .collect();
            let mut grad = kernel.backward(&tape, &grad_image);
            let d = tape.depth();
            self.host_prior.add_grad(d, prior_weight, &mut grad);
            // Through `d = exp(ln start + s)`.
            grad.iter_mut().zip(d).for_each(|(g, d)| *g *= d);
            relief.adjoint(&grad, &mut grads);
            let (c1, c2) = (1.0 - b1.powi(t as i32), 1.0 - b2.powi(t as i32));
            for (((m, m1), m2), g) in maps
                .iter_mut()
                .flatten()
                .zip(first.iter_mut().flatten())
                .zip(second.iter_mut().flatten())
                .zip(grads.iter().flatten())
            {
                *m1 = *m1 * b1 + g * (1.0 - b1);
                *m2 = *m2 * b2 + g * g * (1.0 - b2);
                *m -= (*m1 / c1) / ((*m2 / c2).sqrt() + eps) * self.lr;
            }
        }
        relief.compose(&maps, &mut s);
        depth(&s)
    }
}
