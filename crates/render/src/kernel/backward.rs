//! The hand-written backward pass of the fused kernel: ∂L/∂(packed output) → ∂L/∂depth.

use pix2scene_scene::glam::Vec3;
use rayon::prelude::*;

use super::inputs::{
    BAND_ROWS, IMAGE_CHANNEL, KernelInputs, NORMALS_CHANNEL, PACKED_CHANNELS, POINTS_CHANNEL,
};
use super::plane_fit::PlaneFit;

/// Vector–Jacobian product of [`super::forward::forward`].
///
/// Each band of rows gets its own accumulator of `∂L/∂p`: every pixel of the band and of the
/// halo rows just above and below it recomputes its plane fit, pulls its output gradient
/// through [`pix2scene_scene::ShadingConstants::radiance_vjp`] and
/// [`PlaneFit::vjp`], and scatters the result onto its own point and its 8 neighbours (a
/// neighbour across the image border is the reflected pixel, which receives the gradient).
/// Contributions landing outside the band are left to the band that owns them, so bands run
/// in parallel without sharing writes. Finally `∂L/∂depth = (∂L/∂p) · ray direction`.
///
/// # Shapes
/// - `grad`: `[batch, PACKED_CHANNELS, size, size]`
/// - returns `[batch, size, size]`
pub(crate) fn backward(inp: &KernelInputs, grad: &[f32]) -> Vec<f32> {
    let s = inp.size;
    let hw = s * s;
    assert_eq!(
        grad.len(),
        inp.batch * PACKED_CHANNELS * hw,
        "gradient length"
    );
    let mut out = vec![0.0f32; inp.batch * hw];
    let tasks: Vec<_> = out
        .chunks_mut(hw)
        .enumerate()
        .flat_map(|(b, sample)| {
            sample
                .chunks_mut(BAND_ROWS * s)
                .enumerate()
                .map(move |(band, rows)| (b, band * BAND_ROWS, rows))
        })
        .collect();
    tasks.into_par_iter().for_each(|(b, r0, band_out)| {
        let r1 = r0 + band_out.len() / s;
        let lights = &inp.lights[b];
        let g = &grad[b * PACKED_CHANNELS * hw..(b + 1) * PACKED_CHANNELS * hw];
        let channel = |ch: usize, i: usize| {
            Vec3::new(g[ch * hw + i], g[(ch + 1) * hw + i], g[(ch + 2) * hw + i])
        };
        let mut acc = vec![Vec3::ZERO; band_out.len()];
        for r in r0.saturating_sub(1)..(r1 + 1).min(s) {
            let in_band = (r0..r1).contains(&r);
            for c in 0..s {
                let i = r * s + c;
                let (p, d, at) = inp.stencil(b, r, c);
                let fit = PlaneFit::new(&d);
                let (gp, gn) =
                    inp.shading
                        .radiance_vjp(p, fit.n, lights, channel(IMAGE_CHANNEL, i));
                let gd = fit.vjp(gn + channel(NORMALS_CHANNEL, i));
                let mut own = Vec3::ZERO;
                for k in 0..8 {
                    let [nr, nc] = at[k];
                    if (r0..r1).contains(&nr) {
                        acc[(nr - r0) * s + nc] += gd[k];
                    }
                    own -= gd[k];
                }
                if in_band {
                    acc[(r - r0) * s + c] += own + gp + channel(POINTS_CHANNEL, i);
                }
            }
        }
        for (o, (a, dir)) in band_out
            .iter_mut()
            .zip(acc.iter().zip(&inp.dirs[r0 * s..r1 * s]))
        {
            *o = a.dot(*dir);
        }
    });
    out
}
