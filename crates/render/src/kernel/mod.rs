//! The fused CPU kernel of the renderer and its hand-written backward.
//!
//! One sweep over the pixels computes each surfel's position, its Eq. 3 normal from the 3×3
//! stencil, and its Eq. 1 colour through [`pix2scene_scene::ShadingConstants::radiance_lanes`]
//! (the ray tracer's shading code, instantiated for lanes of pixels); the backward sweep
//! recomputes the stencil and pulls the output gradient back through
//! [`pix2scene_scene::ShadingConstants::radiance_vjp_lanes`] and the plane fit's own
//! vector–Jacobian product. Both sweeps run on groups of consecutive pixels of a row in SIMD
//! lanes (see `simd.rs`), compiled for AVX-512 or AVX2 where the CPU has them. Rows are split into bands run
//! in parallel on rayon's current pool.
//!
//! The kernel is a backend extension of burn's `Flex` backend ([`SurfelKernelBackend`]) whose
//! `Autodiff<Flex>` implementation registers the backward. Its single output packs image,
//! points and normals (`[batch, PACKED_CHANNELS, height, width]`), so the three outputs of
//! [`crate::SurfelRenderer::forward`] are views of one differentiable tensor; with
//! [`KernelOutputs::Image`] it holds the image alone ([`crate::SurfelRenderer::render_image`],
//! the training path), which saves writing six channels and, in the backward pass, reading them
//! and burn's zero-filled gradients of the unused views.

mod backward;
mod forward;
mod inputs;
mod op;
mod plane_fit;
mod point_grid;
mod simd;

pub use inputs::{
    IMAGE_CHANNEL, KernelOutputs, KernelParams, NORMALS_CHANNEL, PACKED_CHANNELS, POINTS_CHANNEL,
};
pub use op::{SurfelKernelBackend, render_packed};
