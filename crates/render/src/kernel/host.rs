//! The fused kernel's image path on plain host slices, for code that differentiates through the
//! renderer by hand (the per-pixel depth refinement of training), without burn tensors or
//! autodiff bookkeeping.

use pix2scene_scene::ShadingConstants;

use super::backward::backward;
use super::forward::forward;
use super::inputs::{KernelInputs, KernelOutputs, KernelParams};
use super::kept_sums::KeptSums;
use crate::rays::direction_planes;

/// Depth maps → images by the fused kernel, on host memory: the same computation as
/// [`crate::SurfelRenderer::render_image`] on a `Flex` device, bit for bit, forward and
/// backward.
///
/// Build it with [`crate::SurfelRenderer::host_image_kernel`]. Calls run in parallel over
/// bands of rows on rayon's current pool; nothing they return depends on the thread count.
#[derive(Clone, Debug)]
pub struct HostImageKernel {
    /// Image side, pixels.
    size: usize,
    /// `[3, size, size]`: the pixels' unit ray directions as planes of x, y and z, camera frame.
    dirs: Vec<f32>,
    /// Eq. 1 constants; the image alone is written.
    params: KernelParams,
}

/// What [`HostImageKernel::backward`] needs of a [`HostImageKernel::forward`] call: its inputs
/// and the plane-fit sums of every pixel.
#[derive(Clone, Debug)]
pub struct ImageTape {
    depth: Vec<f32>,
    light_pos: Vec<f32>,
    light_color: Vec<f32>,
    batch: usize,
    sums: KeptSums,
}

impl ImageTape {
    /// `[batch, size, size]`: the depth the forward call rendered.
    pub fn depth(&self) -> &[f32] {
        &self.depth
    }
}

impl HostImageKernel {
    /// The kernel for `size_px`² images seen through a vertical field of view of `fov_y_deg`
    /// degrees, shaded with `shading`.
    pub fn new(fov_y_deg: f32, size_px: usize, shading: ShadingConstants) -> Self {
        Self {
            size: size_px,
            dirs: direction_planes(fov_y_deg, size_px),
            params: KernelParams {
                shading,
                outputs: KernelOutputs::Image,
            },
        }
    }

    /// Renders `depth` and keeps what the backward pass needs.
    ///
    /// # Shapes
    /// - `depth`: `[batch, size, size]`, distance along each pixel ray, scene units (> 0)
    /// - `light_pos`, `light_color`: `[batch, lights, 3]`, camera frame
    /// - returns the image `[batch, 3, size, size]` (unclamped) and its tape
    ///
    /// # Panics
    /// If the lengths disagree with the image size and with each other.
    pub fn forward(
        &self,
        depth: Vec<f32>,
        light_pos: &[f32],
        light_color: &[f32],
    ) -> (Vec<f32>, ImageTape) {
        let hw = self.size * self.size;
        assert_eq!(
            depth.len() % hw,
            0,
            "depth of whole {0}×{0} maps",
            self.size
        );
        let batch = depth.len() / hw;
        let (image, sums) = forward(&self.inputs(&depth, light_pos, light_color, batch), true);
        let tape = ImageTape {
            depth,
            light_pos: light_pos.to_vec(),
            light_color: light_color.to_vec(),
            batch,
            sums: sums.expect("kept when asked for"),
        };
        (image, tape)
    }

    /// Pulls the gradient of a loss with respect to the image of a [`Self::forward`] call back
    /// to its depth.
    ///
    /// # Shapes
    /// - `grad_image`: `[batch, 3, size, size]`
    /// - returns `[batch, size, size]`
    ///
    /// # Panics
    /// If `grad_image` does not have the image's length.
    pub fn backward(&self, tape: &ImageTape, grad_image: &[f32]) -> Vec<f32> {
        let inputs = self.inputs(&tape.depth, &tape.light_pos, &tape.light_color, tape.batch);
        backward(&inputs, &tape.sums, grad_image)
    }

    fn inputs<'a>(
        &'a self,
        depth: &'a [f32],
        light_pos: &[f32],
        light_color: &[f32],
        batch: usize,
    ) -> KernelInputs<'a> {
        KernelInputs::new(
            depth,
            &self.dirs,
            light_pos,
            light_color,
            [batch, self.size],
            &self.params,
        )
    }
}
