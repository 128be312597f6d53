//! The fused forward pass: depth → packed (image, points, normals) in one sweep over the pixels.

use rayon::prelude::*;

use super::inputs::{
    BAND_ROWS, IMAGE_CHANNEL, KernelInputs, NORMALS_CHANNEL, PACKED_CHANNELS, POINTS_CHANNEL,
};
use super::plane_fit::PlaneFit;

/// Renders a batch: for each pixel, back-projection, the Eq. 3 plane fit from its reflect-padded
/// 3×3 stencil, and Eq. 1 through [`pix2scene_scene::ShadingConstants::radiance`].
///
/// Returns the packed output `[batch, PACKED_CHANNELS, size, size]` (see
/// [`super::PACKED_CHANNELS`]). Parallel over bands of rows of each sample (rayon's current
/// pool).
pub(crate) fn forward(inp: &KernelInputs) -> Vec<f32> {
    let s = inp.size;
    let hw = s * s;
    let mut out = vec![0.0f32; inp.batch * PACKED_CHANNELS * hw];
    let mut tasks = Vec::new();
    for (b, sample) in out.chunks_mut(PACKED_CHANNELS * hw).enumerate() {
        let mut planes: Vec<_> = sample
            .chunks_mut(hw)
            .map(|plane| plane.chunks_mut(BAND_ROWS * s))
            .collect();
        for band in 0..s.div_ceil(BAND_ROWS) {
            let views: [&mut [f32]; PACKED_CHANNELS] =
                std::array::from_fn(|ch| planes[ch].next().expect("one chunk per band"));
            tasks.push((b, band * BAND_ROWS, views));
        }
    }
    tasks.into_par_iter().for_each(|(b, r0, views)| {
        let rows = views[0].len() / s;
        let lights = &inp.lights[b];
        for r in r0..r0 + rows {
            for c in 0..s {
                let (p, d, _) = inp.stencil(b, r, c);
                let fit = PlaneFit::new(&d);
                let rgb = inp.shading.radiance(p, fit.n, lights);
                let o = (r - r0) * s + c;
                for k in 0..3 {
                    views[IMAGE_CHANNEL + k][o] = rgb[k];
                    views[POINTS_CHANNEL + k][o] = p[k];
                    views[NORMALS_CHANNEL + k][o] = fit.n[k];
                }
            }
        }
    });
    out
}
