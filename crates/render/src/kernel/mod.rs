//! The fused CPU kernel of the renderer and its hand-written backward.
//!
//! The forward sweep computes each surfel's position, the sums of its Eq. 3 plane fit from the
//! edges of the 3×3 stencil (each edge once for both its ends: `edges.rs`), its normal, and its
//! Eq. 1 colour through [`pix2scene_scene::ShadingConstants::radiance_lanes`] (the ray tracer's
//! shading code, instantiated for lanes of pixels); when gradients are tracked each band keeps
//! its planes of plane-fit sums (5 floats per pixel, `kept_sums.rs`). The backward sweep
//! finishes the fits from those sums and pulls the output gradient back through
//! [`pix2scene_scene::ShadingConstants::radiance_vjp_lanes`] and the plane fit's own
//! vector–Jacobian product, again once per edge. Both sweeps run on groups of consecutive
//! pixels of a row in SIMD registers (see `simd.rs`: AVX-512 or AVX2 where the CPU has them).
//! Rows are split into bands run in parallel on rayon's current pool.
//!
//! The kernel is a backend extension of burn's `Flex` backend ([`SurfelKernelBackend`]) whose
//! `Autodiff<Flex>` implementation registers the backward. Its single output packs image,
//! points and normals (`[batch, PACKED_CHANNELS, height, width]`), so the three outputs of
//! [`crate::SurfelRenderer::forward`] are views of one differentiable tensor; with
//! [`KernelOutputs::Image`] it holds the image alone ([`crate::SurfelRenderer::render_image`],
//! the training path), which saves writing six channels and, in the backward pass, reading them
//! and burn's zero-filled gradients of the unused views.

mod backward;
mod edges;
mod forward;
mod host;
mod inputs;
mod kept_sums;
mod op;
mod plane_fit;
mod planes;
mod point_grid;
mod simd;

pub use host::{HostImageKernel, ImageTape, host_normals};
pub use inputs::{
    IMAGE_CHANNEL, KernelOutputs, KernelParams, NORMALS_CHANNEL, PACKED_CHANNELS, POINTS_CHANNEL,
};
pub use op::{SurfelKernelBackend, render_packed};

#[cfg(test)]
mod tests {
    use super::backward::backward;
    use super::forward::forward;
    use super::inputs::{KernelInputs, KernelOutputs, KernelParams};
    use pix2scene_scene::isa::{AVX512, cap_level};

    /// Forward (all channels) and depth gradient of a fixed weighted loss, with the lane types
    /// of instruction sets up to `max_isa` (see [`cap_level`]).
    fn sweep_both(max_isa: u8) -> (Vec<f32>, Vec<f32>) {
        let (batch, size) = (2, 35);
        let depth: Vec<f32> = (0..batch * size * size)
            .map(|i| {
                let (r, c) = ((i / size) % size, i % size);
                let step = if r > 7 && c > 9 { -0.2 } else { 0.0 };
                0.9 + 0.1 * (0.3 * c as f32).sin() * (0.2 * r as f32).cos() + step
            })
            .collect();
        let dirs = crate::rays::ray_direction_planes(26.0, size, &burn::tensor::Device::flex())
            .into_data()
            .try_to_vec::<f32>()
            .expect("f32 directions");
        let light_pos = [0.3, 0.4, 0.1, -0.5, 0.2, 0.0].repeat(batch);
        let light_color = [0.7, 0.6, 0.5, 0.2, 0.3, 0.4].repeat(batch);
        let params = KernelParams {
            shading: Default::default(),
            outputs: KernelOutputs::ImageAndGeometry,
        };
        let inputs = KernelInputs::new(
            &depth,
            &dirs,
            &light_pos,
            &light_color,
            [batch, size],
            &params,
        );
        cap_level(max_isa);
        let (out, sums) = forward(&inputs, true);
        let sums = sums.expect("kept when asked for");
        let grad: Vec<f32> = (0..out.len())
            .map(|i| ((i * 7919) % 13) as f32 / 13.0 - 0.4)
            .collect();
        let g = backward(&inputs, &sums, &grad);
        cap_level(AVX512);
        (out, g)
    }

    #[test]
    fn every_lane_type_computes_the_same() {
        // On a CPU without AVX-512 (or AVX2) the wider levels fall back to the narrower lane
        // types, and the comparison still holds.
        let (out_portable, grad_portable) = sweep_both(0);
        for isa in [1, 2] {
            let (out, grad) = sweep_both(isa);
            for (what, a, b) in [
                ("output", &out, &out_portable),
                ("depth gradient", &grad, &grad_portable),
            ] {
                let scale = b.iter().fold(1.0f32, |m, v| m.max(v.abs()));
                for (i, (x, y)) in a.iter().zip(b.iter()).enumerate() {
                    assert!(
                        (x - y).abs() <= 1e-6 * scale,
                        "isa level {isa}, {what}[{i}]: {x} vs portable {y}"
                    );
                }
            }
        }
    }
}
