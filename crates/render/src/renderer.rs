//! [`SurfelRenderer`]: depth maps → shaded images, surfel positions and normals.

use burn::backend::DispatchDevice;
use burn::prelude::*;
use burn::tensor::DType;
use pix2scene_scene::{ShadingConstants, glam::Vec3};
use serde::{Deserialize, Serialize};

use crate::kernel::{
    HostImageKernel, IMAGE_CHANNEL, KernelOutputs, KernelParams, NORMALS_CHANNEL, POINTS_CHANNEL,
    render_packed,
};
use crate::{
    normals::plane_fit_normals, rays::ray_direction_planes, shade::shade, surfels::back_project,
};

/// Which implementation [`SurfelRenderer::forward`] runs.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub enum RenderImpl {
    /// The fused kernel where it applies (`f32` tensors on a `Flex` device, lights not tracked
    /// by autodiff), the reference otherwise.
    #[default]
    Auto,
    /// Always the composed tensor operations (any backend).
    Reference,
    /// Always the fused CPU kernel.
    ///
    /// Panics in `forward` where it does not apply (see [`RenderImpl::Auto`]).
    Fused,
}

/// Configuration of a [`SurfelRenderer`]; build it with [`RendererConfig::init`].
///
/// The shading constants default to [`ShadingConstants::default`], those of the scene
/// generator. Build from other constants with [`RendererConfig::from_shading`].
#[derive(Config, Debug)]
pub struct RendererConfig {
    /// Image side in pixels (square images); at least 2.
    pub size_px: usize,
    /// Vertical field of view, degrees.
    #[config(default = 26.0)]
    pub fov_y_deg: f32,
    /// Diffuse reflectance ρ per RGB channel (paper Eq. 1).
    #[config(default = "[0.7, 0.7, 0.7]")]
    pub albedo: [f32; 3],
    /// Ambient light colour L_a (paper Eq. 1).
    #[config(default = "[0.15, 0.15, 0.15]")]
    pub ambient: [f32; 3],
    /// Linear attenuation k_l, per scene unit.
    #[config(default = 0.5)]
    pub k_l: f32,
    /// Quadratic attenuation k_q, per squared scene unit.
    #[config(default = 0.5)]
    pub k_q: f32,
    /// Implementation to run.
    #[config(default = "RenderImpl::Auto")]
    pub implementation: RenderImpl,
}

/// The differentiable surfel renderer (paper section 3.2). It has no trainable parameters, so
/// it is a plain struct rather than a burn `Module`: keep it beside a model (or mark the field
/// `#[module(skip)]`), not inside its parameter tree.
#[derive(Clone, Debug)]
pub struct SurfelRenderer {
    size_px: usize,
    fov_y_deg: f32,
    shading: ShadingConstants,
    implementation: RenderImpl,
    /// `[3, size_px, size_px]` ray directions (planes of x, y and z) on the renderer's device:
    /// the fused kernel's layout; the reference path views them as `[size_px, size_px, 3]`.
    dir_planes: Tensor<3>,
}

/// What [`SurfelRenderer::forward`] returns. All three are differentiable with respect to the
/// depth map.
#[derive(Clone, Debug)]
pub struct RenderOutput {
    /// `[batch, 3, height, width]`, linear RGB of paper Eq. 1, not clamped.
    pub image: Tensor<4>,
    /// `[batch, height, width, 3]`, surfel centres, camera frame, scene units.
    pub points: Tensor<4>,
    /// `[batch, height, width, 3]`, unit surfel normals (Eq. 3), camera frame, `n_z > 0`.
    pub normals: Tensor<4>,
}

impl RendererConfig {
    /// A configuration with the given shading constants.
    pub fn from_shading(size_px: usize, shading: &ShadingConstants) -> Self {
        Self::new(size_px)
            .with_albedo(shading.albedo.to_array())
            .with_ambient(shading.ambient.to_array())
            .with_k_l(shading.k_l)
            .with_k_q(shading.k_q)
    }

    /// The shading constants of this configuration.
    pub fn shading(&self) -> ShadingConstants {
        ShadingConstants {
            albedo: Vec3::from(self.albedo),
            ambient: Vec3::from(self.ambient),
            k_l: self.k_l,
            k_q: self.k_q,
        }
    }

    /// Builds the renderer, placing its ray directions on `device`.
    ///
    /// # Panics
    /// If `size_px < 2` or `fov_y_deg` is not in (0, 180).
    pub fn init(&self, device: &Device) -> SurfelRenderer {
        assert!(self.size_px >= 2, "size_px: {} is below 2", self.size_px);
        assert!(
            self.fov_y_deg > 0.0 && self.fov_y_deg < 180.0,
            "fov_y_deg: {} is not in (0, 180)",
            self.fov_y_deg
        );
        SurfelRenderer {
            size_px: self.size_px,
            fov_y_deg: self.fov_y_deg,
            shading: self.shading(),
            implementation: self.implementation,
            dir_planes: ray_direction_planes(self.fov_y_deg, self.size_px, device),
        }
    }
}

impl SurfelRenderer {
    /// Renders depth maps seen from the camera with the given point lights.
    ///
    /// # Shapes
    /// - `depth`: `[batch, size_px, size_px]`, distance from the camera centre along each
    ///   pixel ray (not z), scene units, positive
    /// - `light_pos`: `[batch, lights, 3]`, camera frame, scene units
    /// - `light_color`: `[batch, lights, 3]`, linear RGB; a zero colour switches a light off,
    ///   so batches pad to a fixed `lights` with zero-colour lights
    /// - returns [`RenderOutput`]
    ///
    /// # Panics
    /// If a shape differs from the above, or [`RenderImpl::Fused`] was asked for where it does
    /// not apply.
    pub fn forward(
        &self,
        depth: Tensor<3>,
        light_pos: Tensor<3>,
        light_color: Tensor<3>,
    ) -> RenderOutput {
        if self.use_fused(&depth, &light_pos, &light_color) {
            self.forward_fused(depth, light_pos, light_color)
        } else {
            self.forward_reference(depth, light_pos, light_color)
        }
    }

    /// The image of [`forward`](Self::forward) alone: what training needs. With the fused
    /// kernel this is cheaper than `forward(..).image` (the kernel neither writes positions and
    /// normals nor, in the backward pass, reads their gradients); the values are the same.
    ///
    /// # Shapes
    /// As [`forward`](Self::forward); returns `[batch, 3, size_px, size_px]`, linear RGB of
    /// paper Eq. 1, not clamped.
    ///
    /// # Panics
    /// As [`forward`](Self::forward).
    pub fn render_image(
        &self,
        depth: Tensor<3>,
        light_pos: Tensor<3>,
        light_color: Tensor<3>,
    ) -> Tensor<4> {
        if self.use_fused(&depth, &light_pos, &light_color) {
            let params = self.kernel_params(KernelOutputs::Image);
            let dirs = self.dir_planes_on(&depth);
            render_packed(depth, dirs, light_pos, light_color, params)
        } else {
            self.forward_reference(depth, light_pos, light_color).image
        }
    }

    /// Checks the shapes and decides whether the fused kernel runs.
    fn use_fused(&self, depth: &Tensor<3>, light_pos: &Tensor<3>, light_color: &Tensor<3>) -> bool {
        let [batch, _, _] = depth.dims();
        assert_shape!(depth, [batch, self.size_px, self.size_px]);
        let [_, lights, _] = light_pos.dims();
        assert_shape!(light_pos, [batch, lights, 3]);
        assert_shape!(light_color, [batch, lights, 3]);
        match self.implementation {
            RenderImpl::Reference => false,
            RenderImpl::Fused => {
                assert!(
                    fused_applies(depth, light_pos, light_color),
                    "the fused surfel kernel needs f32 tensors on a Flex device and untracked lights"
                );
                true
            }
            RenderImpl::Auto => fused_applies(depth, light_pos, light_color),
        }
    }

    /// The ray direction planes `[3, size_px, size_px]` on the device of `depth`.
    fn dir_planes_on(&self, depth: &Tensor<3>) -> Tensor<3> {
        self.dir_planes.clone().to_device(&depth.device())
    }

    fn kernel_params(&self, outputs: KernelOutputs) -> KernelParams {
        KernelParams {
            shading: self.shading,
            outputs,
        }
    }

    /// The implementation [`forward`](Self::forward) runs for these inputs.
    pub fn implementation_for(
        &self,
        depth: &Tensor<3>,
        light_pos: &Tensor<3>,
        light_color: &Tensor<3>,
    ) -> RenderImpl {
        match self.implementation {
            RenderImpl::Auto if fused_applies(depth, light_pos, light_color) => RenderImpl::Fused,
            RenderImpl::Auto => RenderImpl::Reference,
            other => other,
        }
    }

    /// Image side in pixels.
    pub fn size_px(&self) -> usize {
        self.size_px
    }

    /// Vertical field of view, degrees.
    pub fn fov_y_deg(&self) -> f32 {
        self.fov_y_deg
    }

    /// Constants of paper Eq. 1.
    pub fn shading(&self) -> &ShadingConstants {
        &self.shading
    }

    /// The fused kernel's image path on host slices, computing exactly what
    /// [`render_image`](Self::render_image) computes on a `Flex` device, for callers that
    /// differentiate through the renderer by hand.
    pub fn host_image_kernel(&self) -> HostImageKernel {
        HostImageKernel::new(self.fov_y_deg, self.size_px, self.shading)
    }

    fn forward_reference(
        &self,
        depth: Tensor<3>,
        light_pos: Tensor<3>,
        light_color: Tensor<3>,
    ) -> RenderOutput {
        let dirs = self.dir_planes_on(&depth).permute([1, 2, 0]);
        let points = back_project(depth, dirs);
        let normals = plane_fit_normals(points.clone());
        let image = shade(
            points.clone(),
            normals.clone(),
            light_pos,
            light_color,
            &self.shading,
        )
        .permute([0, 3, 1, 2]);
        RenderOutput {
            image,
            points,
            normals,
        }
    }

    fn forward_fused(
        &self,
        depth: Tensor<3>,
        light_pos: Tensor<3>,
        light_color: Tensor<3>,
    ) -> RenderOutput {
        let params = self.kernel_params(KernelOutputs::ImageAndGeometry);
        let dirs = self.dir_planes_on(&depth);
        let packed = render_packed(depth, dirs, light_pos, light_color, params);
        let channels = |start: usize| packed.clone().narrow(1, start, 3);
        RenderOutput {
            image: channels(IMAGE_CHANNEL),
            points: channels(POINTS_CHANNEL).permute([0, 2, 3, 1]),
            normals: channels(NORMALS_CHANNEL).permute([0, 2, 3, 1]),
        }
    }
}

/// Whether the fused kernel can run these inputs: `f32` on a `Flex` device (autodiff or not),
/// with light tensors that carry no gradient (its backward differentiates depth only).
fn fused_applies(depth: &Tensor<3>, light_pos: &Tensor<3>, light_color: &Tensor<3>) -> bool {
    let on_flex = matches!(
        depth.device().inner().as_dispatch(),
        DispatchDevice::Flex(_)
    );
    on_flex
        && [depth, light_pos, light_color]
            .iter()
            .all(|t| t.dtype() == DType::F32)
        && !light_pos.is_tracked()
        && !light_color.is_tracked()
}
