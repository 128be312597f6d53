//! The fused forward pass: depth → image (and optionally points and normals) in one sweep over
//! the pixels.

use rayon::prelude::*;

use super::inputs::{
    BAND_ROWS, IMAGE_CHANNEL, KernelInputs, KernelOutputs, NORMALS_CHANNEL, POINTS_CHANNEL,
};
use super::plane_fit::PlaneFit;
use super::point_grid::PointGrid;
use super::simd::{Simd, Sweep, run, store3};

/// Renders a batch: for each group of [`Simd::LANES`] pixels of a row, back-projection, the Eq. 3
/// plane fit from their reflect-padded 3×3 stencils, and Eq. 1 through
/// [`pix2scene_scene::ShadingConstants::radiance_lanes`].
///
/// Returns `[batch, inp.outputs.channels(), size, size]`: the image, followed by points and
/// normals with [`KernelOutputs::ImageAndGeometry`]. Parallel over bands of rows of each sample
/// (rayon's current pool).
pub(crate) fn forward(inp: &KernelInputs) -> Vec<f32> {
    let s = inp.size;
    let hw = s * s;
    let channels = inp.outputs.channels();
    let mut out = vec![0.0f32; inp.batch * channels * hw];
    let mut tasks = Vec::new();
    for (b, sample) in out.chunks_mut(channels * hw).enumerate() {
        let mut planes: Vec<_> = sample
            .chunks_mut(hw)
            .map(|plane| plane.chunks_mut(BAND_ROWS * s))
            .collect();
        for band in 0..s.div_ceil(BAND_ROWS) {
            let views: Vec<&mut [f32]> = planes
                .iter_mut()
                .map(|plane| plane.next().expect("one chunk per band"))
                .collect();
            tasks.push((b, band * BAND_ROWS, views));
        }
    }
    tasks
        .into_par_iter()
        .for_each(|(b, r0, views)| match inp.outputs {
            KernelOutputs::ImageAndGeometry => run(ForwardBand::<true> { inp, b, r0, views }),
            KernelOutputs::Image => run(ForwardBand::<false> { inp, b, r0, views }),
        });
    out
}

/// Rows `r0..` of sample `b`, rendered into `views`, the band's part of each output channel;
/// points and normals too when `GEOMETRY`.
struct ForwardBand<'a, 'o, const GEOMETRY: bool> {
    inp: &'a KernelInputs<'a>,
    b: usize,
    r0: usize,
    views: Vec<&'o mut [f32]>,
}

impl<const GEOMETRY: bool> Sweep for ForwardBand<'_, '_, GEOMETRY> {
    #[inline(always)]
    fn sweep<L: Simd>(self) {
        let Self {
            inp,
            b,
            r0,
            mut views,
        } = self;
        let s = inp.size;
        let r1 = r0 + views[0].len() / s;
        let lights = &inp.lights[b];
        let grid = PointGrid::new(inp, b, r0, r1);
        for r in r0..r1 {
            for c in (0..s).step_by(L::LANES) {
                let valid = (s - c).min(L::LANES);
                let (p, d) = grid.stencil::<L>(r, c);
                let fit = PlaneFit::new(&d);
                let rgb = inp.shading.radiance_lanes(p, fit.n, lights);
                let o = (r - r0) * s + c;
                store3(&mut views[IMAGE_CHANNEL..IMAGE_CHANNEL + 3], o, valid, rgb);
                if GEOMETRY {
                    store3(&mut views[POINTS_CHANNEL..POINTS_CHANNEL + 3], o, valid, p);
                    store3(
                        &mut views[NORMALS_CHANNEL..NORMALS_CHANNEL + 3],
                        o,
                        valid,
                        fit.n,
                    );
                }
            }
        }
    }
}
