//! The hand-written backward pass of the fused kernel: ∂L/∂(packed output) → ∂L/∂depth.

use pix2scene_scene::Vec3s;
use rayon::prelude::*;

use super::edges::{EdgeTerm, scatter_edges};
use super::inputs::{
    IMAGE_CHANNEL, KernelInputs, KernelOutputs, NORMALS_CHANNEL, POINTS_CHANNEL, band_rows,
};
use super::kept_sums::KeptSums;
use super::plane_fit::{Moments, PlaneFit, SUMS_CHANNELS};
use super::planes::{Planes, add, keep_first};
use super::point_grid::PointGrid;
use super::simd::{Simd, Sweep, load3, run};

/// Vector–Jacobian product of [`super::forward::forward`].
///
/// Each band of rows gets its own accumulator of `∂L/∂p`, laid out like its reflect-padded
/// [`PointGrid`], and a plane of `∂L/∂` each pixel's plane-fit sums ([`Moments`]) in the same
/// layout, zero in the padding. Row by row, over the band and the halo rows just above and
/// below it: every lane group finishes its plane fits from the sums the forward pass kept and
/// pulls its output gradient through
/// [`pix2scene_scene::ShadingConstants::radiance_vjp_lanes`] and [`PlaneFit::moments_vjp`] (its
/// own points' gradient goes to the accumulator, the sums' gradient to its plane); then every
/// edge of the padded pixel grid between that row and the one above (4 per pixel: right, down,
/// diagonal and anti-diagonal) adds the sums' gradients of its two ends, pulls them through
/// [`Moments::edge_vjp`] once, and adds the result to one end and subtracts it from the other.
/// An edge into the padding counts for the real pixel only (the padding's sums' gradient is
/// zero), exactly as the 3×3 stencil of that pixel sees it. The padding is then folded onto
/// the reflected pixels it stands for, contributions outside the band are left to the band
/// that owns them (so bands run in parallel without sharing writes), and finally
/// `∂L/∂depth = (∂L/∂p) · ray direction`.
///
/// # Shapes
/// - `sums`: the plane-fit sums of every pixel, as [`super::forward::forward`] left them
/// - `grad`: `[batch, inp.outputs.channels(), size, size]`, the gradient of [`super::forward::forward`]'s
///   output (of the image alone, or of image, points and normals)
/// - returns `[batch, size, size]`
pub(crate) fn backward(inp: &KernelInputs, sums: &KeptSums, grad: &[f32]) -> Vec<f32> {
    let s = inp.size;
    let hw = s * s;
    let channels = inp.outputs.channels();
    assert_eq!(grad.len(), inp.batch * channels * hw, "gradient length");
    assert_eq!(sums.batch(), inp.batch, "plane-fit sums of every sample");
    let rows = band_rows(inp.batch, s);
    let mut out = vec![0.0f32; inp.batch * hw];
    let tasks: Vec<_> = out
        .chunks_mut(hw)
        .enumerate()
        .flat_map(|(b, sample)| {
            sample
                .chunks_mut(rows * s)
                .enumerate()
                .map(move |(band, band_out)| (b, band * rows, band_out))
        })
        .collect();
    tasks.into_par_iter().for_each(|(b, r0, band_out)| {
        let g = &grad[b * channels * hw..(b + 1) * channels * hw];
        match inp.outputs {
            KernelOutputs::ImageAndGeometry => run(BackwardBand::<true> {
                inp,
                b,
                r0,
                sums,
                g,
                band_out,
            }),
            KernelOutputs::Image => run(BackwardBand::<false> {
                inp,
                b,
                r0,
                sums,
                g,
                band_out,
            }),
        }
    });
    out
}

/// `[x, y, z]`.
#[inline(always)]
fn xyz<L: Simd>(v: Vec3s<L>) -> [L; 3] {
    [v.x, v.y, v.z]
}

/// `∂L/∂depth` of rows `r0..` of sample `b`, written into `band_out`, from the batch's
/// plane-fit `sums` and `g`, the sample's gradient of the output (image, then points and normals
/// when `GEOMETRY`).
struct BackwardBand<'a, 'o, const GEOMETRY: bool> {
    inp: &'a KernelInputs<'a>,
    b: usize,
    r0: usize,
    sums: &'a KeptSums,
    g: &'a [f32],
    band_out: &'o mut [f32],
}

/// The gradient of an edge's plane-fit terms: the sums' gradients of its two ends, pulled
/// through the edge by [`Moments::edge_vjp`]; added to its end, subtracted from its start.
struct EdgeGradient<'p> {
    /// `∂L/∂` each pixel's plane-fit sums, zero in the padding.
    sums_grad: &'p Planes<SUMS_CHANNELS>,
}

impl<L: Simd> EdgeTerm<L, 3> for EdgeGradient<'_> {
    const ANTISYMMETRIC: bool = true;

    #[inline(always)]
    fn term(&self, from: usize, to: usize, d: Vec3s<L>) -> [L; 3] {
        let g = add(self.sums_grad.load::<L>(from), self.sums_grad.load::<L>(to));
        xyz(Moments::from_array(g).edge_vjp(d))
    }
}

/// Image row `r`'s own gradients: through the shading (and the points and normals channels)
/// to its points, added to `acc`, and to its plane-fit sums, written to `sums_grad`.
#[inline(always)]
fn own_row<L: Simd, const GEOMETRY: bool>(
    band: &BackwardBand<'_, '_, GEOMETRY>,
    grid: &PointGrid,
    r: usize,
    acc: &mut Planes<3>,
    sums_grad: &mut Planes<SUMS_CHANNELS>,
) {
    let inp = band.inp;
    let s = inp.size;
    let hw = s * s;
    let lights = &inp.lights[band.b];
    for c in (0..s).step_by(L::LANES) {
        let valid = (s - c).min(L::LANES);
        let i = r * s + c;
        let at = grid.index(r, c, (0, 0));
        let fit = PlaneFit::from_sums(Moments::from_array(band.sums.load::<L>(band.b, r, c)));
        let (mut gp, mut gn) = inp.shading.radiance_vjp_lanes(
            grid.point(at),
            fit.n,
            lights,
            load3(band.g, IMAGE_CHANNEL * hw + i, hw, valid),
        );
        if GEOMETRY {
            gp += load3(band.g, POINTS_CHANNEL * hw + i, hw, valid);
            gn += load3(band.g, NORMALS_CHANNEL * hw + i, hw, valid);
        }
        let (mut g_sums, mut gp) = (fit.moments_vjp(gn).to_array(), xyz(gp));
        if valid < L::LANES {
            // Lanes past the right edge stand for no pixel: nothing flows from them.
            g_sums = keep_first(g_sums, valid);
            gp = keep_first(gp, valid);
        }
        sums_grad.store(at, g_sums);
        acc.add(at, gp);
    }
}

impl<const GEOMETRY: bool> Sweep for BackwardBand<'_, '_, GEOMETRY> {
    type Output = ();

    #[inline(always)]
    fn sweep<L: Simd>(self) {
        let inp = self.inp;
        let (s, r0) = (inp.size, self.r0);
        let r1 = r0 + self.band_out.len() / s;
        // Rows whose stencils reach into the band.
        let (e0, e1) = (r0.saturating_sub(1), (r1 + 1).min(s));
        let grid = PointGrid::new(inp, self.b, e0, e1);
        let len = grid.rows() * grid.width();
        let mut acc = Planes::<3>::zeros(len);
        let mut sums_grad = Planes::<SUMS_CHANNELS>::zeros(len);
        // Each row's own gradients (the padding rows −1 and `size` have none), then the edges
        // between it and the row above.
        for r in r0 as isize - 1..=r1 as isize {
            if (e0 as isize..e1 as isize).contains(&r) {
                own_row::<L, GEOMETRY>(&self, &grid, r as usize, &mut acc, &mut sums_grad);
            }
            if r >= r0 as isize {
                let edges = EdgeGradient {
                    sums_grad: &sums_grad,
                };
                scatter_edges::<L, 3, _>(&grid, r - 1, &edges, &mut acc);
            }
        }
        // Fold the padding onto the pixels it reflects (−1 → 1, size → size − 2): rows, then the
        // columns of the band's rows; then project onto the rays.
        for (pad, to) in [(-1, 1), (s as isize, s as isize - 2)] {
            let to = to as usize;
            if (r0..r1).contains(&to) {
                let from = grid.index(to, 0, (pad - to as isize, -1));
                acc.fold(from, grid.index(to, 0, (0, -1)), grid.width());
            }
        }
        for r in r0..r1 {
            for (pad, to) in [(-1, 1), (s as isize, s - 2)] {
                acc.fold(grid.index(r, 0, (0, pad)), grid.index(r, to, (0, 0)), 1);
            }
            let i = grid.index(r, 0, (0, 0));
            let [x, y, z] = acc.0.each_ref().map(|plane| &plane[i..i + s]);
            let [dx, dy, dz] = [0, 1, 2].map(|axis| &inp.dirs[(axis * s + r) * s..][..s]);
            let out = &mut self.band_out[(r - r0) * s..][..s];
            for (c, out) in out.iter_mut().enumerate() {
                *out = x[c] * dx[c] + y[c] * dy[c] + z[c] * dz[c];
            }
        }
    }
}
