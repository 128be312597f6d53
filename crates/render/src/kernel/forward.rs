//! The fused forward pass: depth → image (and optionally points and normals) in one sweep over
//! the pixels.

use pix2scene_scene::Vec3s;
use rayon::prelude::*;

use super::edges::{EdgeTerm, scatter_edges};
use super::inputs::{
    IMAGE_CHANNEL, KernelInputs, KernelOutputs, NORMALS_CHANNEL, POINTS_CHANNEL, band_rows,
};
use super::kept_sums::KeptSums;
use super::plane_fit::{Moments, PlaneFit, SUMS_CHANNELS};
use super::planes::Planes;
use super::point_grid::PointGrid;
use super::simd::{Simd, Sweep, run, store3};

/// Renders a batch: back-projection, the Eq. 3 plane-fit sums of every pixel from the edges of
/// its reflect-padded 3×3 stencil ([`scatter_edges`], each edge's terms computed once for both
/// its ends), then for each group of [`Simd::LANES`] pixels of a row the normal and Eq. 1
/// through [`pix2scene_scene::ShadingConstants::radiance_lanes`].
///
/// Returns `[batch, inp.outputs.channels(), size, size]` — the image, followed by points and
/// normals with [`KernelOutputs::ImageAndGeometry`] — and, with `keep_sums`, the plane-fit sums
/// that [`super::backward::backward`] needs, in the planes the bands accumulated them in
/// (without it each band frees its planes at once, so the next band reuses the memory while it
/// is in cache). Parallel over bands of rows of each sample (rayon's current pool).
pub(crate) fn forward(inp: &KernelInputs, keep_sums: bool) -> (Vec<f32>, Option<KeptSums>) {
    let s = inp.size;
    let channels = inp.outputs.channels();
    let rows = band_rows(inp.batch, s);
    let mut out = vec![0.0f32; inp.batch * channels * s * s];
    let bands: Vec<_> = band_views(&mut out, channels, s, rows)
        .into_par_iter()
        .map(|(b, r0, views)| {
            let sums = match inp.outputs {
                KernelOutputs::ImageAndGeometry => run(ForwardBand::<true> { inp, b, r0, views }),
                KernelOutputs::Image => run(ForwardBand::<false> { inp, b, r0, views }),
            };
            keep_sums.then_some(sums)
        })
        .collect();
    let kept = keep_sums.then(|| KeptSums::new(s, rows, bands.into_iter().flatten().collect()));
    (out, kept)
}

/// Splits `buf`, `[batch, channels, size, size]`, into bands of `rows` rows: for each, its
/// sample, its first row, and its part of each channel. Nothing when `buf` is empty.
fn band_views(
    buf: &mut [f32],
    channels: usize,
    s: usize,
    rows: usize,
) -> Vec<(usize, usize, Vec<&mut [f32]>)> {
    let hw = s * s;
    let mut bands = Vec::new();
    for (b, sample) in buf.chunks_mut(channels * hw).enumerate() {
        let mut planes: Vec<_> = sample
            .chunks_mut(hw)
            .map(|plane| plane.chunks_mut(rows * s))
            .collect();
        for band in 0..s.div_ceil(rows) {
            let views = planes
                .iter_mut()
                .map(|plane| plane.next().expect("one chunk per band"))
                .collect();
            bands.push((b, band * rows, views));
        }
    }
    bands
}

/// The plane-fit terms of an edge, added to both its ends.
struct SumsOfEdges;

impl<L: Simd> EdgeTerm<L, SUMS_CHANNELS> for SumsOfEdges {
    const ANTISYMMETRIC: bool = false;

    #[inline(always)]
    fn term(&self, _: usize, _: usize, d: Vec3s<L>) -> [L; SUMS_CHANNELS] {
        Moments::of_edge(d).to_array()
    }
}

/// Rows `r0..` of sample `b`, rendered into `views`, the band's part of each output channel;
/// points and normals too when `GEOMETRY`. Returns the band's plane-fit sums.
struct ForwardBand<'a, 'o, const GEOMETRY: bool> {
    inp: &'a KernelInputs<'a>,
    b: usize,
    r0: usize,
    views: Vec<&'o mut [f32]>,
}

impl<const GEOMETRY: bool> Sweep for ForwardBand<'_, '_, GEOMETRY> {
    type Output = Planes<SUMS_CHANNELS>;

    #[inline(always)]
    fn sweep<L: Simd>(self) -> Planes<SUMS_CHANNELS> {
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
        let mut sums = Planes::<SUMS_CHANNELS>::zeros(grid.rows() * grid.width());
        for r in r0 as isize - 1..r1 as isize {
            scatter_edges::<L, SUMS_CHANNELS, _>(&grid, r, &SumsOfEdges, &mut sums);
        }
        for r in r0..r1 {
            for c in (0..s).step_by(L::LANES) {
                let valid = (s - c).min(L::LANES);
                let i = grid.index(r, c, (0, 0));
                let p = grid.point::<L>(i);
                let m = sums.load::<L>(i);
                let fit = PlaneFit::from_sums(Moments::from_array(m));
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
        sums
    }
}
