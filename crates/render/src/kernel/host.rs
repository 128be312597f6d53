//! The fused kernel on plain host slices, without burn tensors or autodiff bookkeeping: its
//! image path for code that differentiates through the renderer by hand (the per-pixel depth
//! refinement of training), and its Eq. 3 normals for metrics on depth maps.

use pix2scene_scene::ShadingConstants;

use super::backward::backward;
use super::forward::forward;
use super::inputs::{KernelInputs, KernelOutputs, KernelParams, NORMALS_CHANNEL, PACKED_CHANNELS};
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

/// Paper Eq. 3 normals of depth maps, on host memory, by the fused kernel: the `normals` that
/// [`crate::SurfelRenderer::forward`] returns on a `Flex` device, bit for bit, without burn
/// tensors (for metrics on predicted depth maps).
///
/// Runs in parallel over bands of rows on rayon's current pool; the result does not depend on
/// the thread count.
///
/// # Shapes
/// - `depth`: `[batch, size_px, size_px]`, distance from the camera centre along each pixel
///   ray (not z), scene units, positive
/// - returns `[batch, size_px, size_px, 3]`, unit normals facing the camera (`n_z > 0`)
///
/// # Units and frames
/// Camera frame (+x right, +y up, looking along −z).
///
/// # Panics
/// If `size_px < 2` or `depth.len()` is not a multiple of `size_px²`.
pub fn host_normals(fov_y_deg: f32, size_px: usize, depth: &[f32]) -> Vec<f32> {
    let hw = size_px * size_px;
    assert!(size_px >= 2, "size_px: {size_px} is below 2");
    assert_eq!(
        depth.len() % hw,
        0,
        "depth of whole {size_px}×{size_px} maps"
    );
    let batch = depth.len() / hw;
    let dirs = direction_planes(fov_y_deg, size_px);
    let params = KernelParams {
        shading: ShadingConstants::default(),
        outputs: KernelOutputs::ImageAndGeometry,
    };
    // No lights: the normals do not depend on them, and the shading is then one constant.
    let inputs = KernelInputs::new(depth, &dirs, &[], &[], [batch, size_px], &params);
    let (packed, _) = forward(&inputs, false);
    let mut normals = vec![0.0; batch * hw * 3];
    for (b, out) in normals.chunks_exact_mut(hw * 3).enumerate() {
        let planes = &packed[(b * PACKED_CHANNELS + NORMALS_CHANNEL) * hw..][..3 * hw];
        for (i, n) in out.chunks_exact_mut(3).enumerate() {
            for (axis, v) in n.iter_mut().enumerate() {
                *v = planes[axis * hw + i];
            }
        }
    }
    normals
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::normals::plane_fit_normals;
    use crate::rays::ray_directions;
    use crate::surfels::back_project;
    use crate::{RenderImpl, RendererConfig};
    use burn::tensor::{Device, Tensor, TensorData};

    #[test]
    fn host_normals_are_the_fused_forward_normals_and_match_the_reference() {
        let (batch, size, fov) = (2, 19, 30.0);
        let depth: Vec<f32> = (0..batch * size * size)
            .map(|i| {
                let (r, c) = ((i / size) % size, i % size);
                let step = if r > 6 && c > 11 { -0.25 } else { 0.0 };
                0.9 + 0.1 * (0.4 * c as f32).sin() * (0.3 * r as f32).cos() + step
            })
            .collect();
        let got = host_normals(fov, size, &depth);
        let device = Device::flex();
        let t =
            Tensor::<3>::from_data(TensorData::new(depth.clone(), [batch, size, size]), &device);
        let renderer = RendererConfig::new(size)
            .with_fov_y_deg(fov)
            .with_implementation(RenderImpl::Fused)
            .init(&device);
        let lights = Tensor::<3>::from_floats([[[0.3, 0.5, 0.1]], [[-0.2, 0.4, 0.3]]], &device);
        let fused = renderer.forward(t.clone(), lights.clone(), lights).normals;
        assert_eq!(got, fused.into_data().try_to_vec::<f32>().unwrap());
        let reference = plane_fit_normals(back_project(t, ray_directions(fov, size, &device)))
            .into_data()
            .try_to_vec::<f32>()
            .unwrap();
        for (i, (a, b)) in got.iter().zip(&reference).enumerate() {
            assert!((a - b).abs() <= 1e-5, "normal[{i}]: {a} vs reference {b}");
        }
    }
}
