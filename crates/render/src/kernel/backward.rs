//! The hand-written backward pass of the fused kernel: ∂L/∂(packed output) → ∂L/∂depth.

use pix2scene_scene::Vec3s;
use rayon::prelude::*;

use super::inputs::{
    BAND_ROWS, IMAGE_CHANNEL, KernelInputs, KernelOutputs, NORMALS_CHANNEL, POINTS_CHANNEL,
};
use super::plane_fit::PlaneFit;
use super::point_grid::PointGrid;
use super::simd::{Simd, Sweep, first_lanes, load3, run};
use crate::normals::NEIGHBOR_OFFSETS;

/// Vector–Jacobian product of [`super::forward::forward`].
///
/// Each band of rows gets its own accumulator of `∂L/∂p`, laid out like its reflect-padded
/// [`PointGrid`]: every lane group of the band and of the halo rows just above and below it
/// recomputes its plane fits, pulls its output gradient through
/// [`pix2scene_scene::ShadingConstants::radiance_vjp_lanes`] and [`PlaneFit::vjp`], and adds
/// the result onto its own points and its 8 neighbours (contiguous lane adds; a neighbour
/// across the image border lands in the padding). The padding is then folded onto the
/// reflected pixels it stands for, contributions outside the band are left to the band that
/// owns them (so bands run in parallel without sharing writes), and finally
/// `∂L/∂depth = (∂L/∂p) · ray direction`.
///
/// # Shapes
/// - `grad`: `[batch, inp.outputs.channels(), size, size]`, the gradient of [`super::forward::forward`]'s
///   output (of the image alone, or of image, points and normals)
/// - returns `[batch, size, size]`
pub(crate) fn backward(inp: &KernelInputs, grad: &[f32]) -> Vec<f32> {
    let s = inp.size;
    let hw = s * s;
    let channels = inp.outputs.channels();
    assert_eq!(grad.len(), inp.batch * channels * hw, "gradient length");
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
        let g = &grad[b * channels * hw..(b + 1) * channels * hw];
        match inp.outputs {
            KernelOutputs::ImageAndGeometry => run(BackwardBand::<true> {
                inp,
                b,
                r0,
                g,
                band_out,
            }),
            KernelOutputs::Image => run(BackwardBand::<false> {
                inp,
                b,
                r0,
                g,
                band_out,
            }),
        }
    });
    out
}

/// `∂L/∂p` in the padded layout of a [`PointGrid`], one plane per coordinate.
struct Accumulator {
    x: Vec<f32>,
    y: Vec<f32>,
    z: Vec<f32>,
}

impl Accumulator {
    /// Adds `v` to the lane group at flat index `i`.
    #[inline(always)]
    fn add<L: Simd>(&mut self, i: usize, v: Vec3s<L>) {
        for (plane, v) in [(&mut self.x, v.x), (&mut self.y, v.y), (&mut self.z, v.z)] {
            let dst = &mut plane[i..];
            (L::load(dst) + v).store(dst);
        }
    }

    /// Adds the `n` entries from flat index `from` onto those from `to`, and clears them.
    fn fold(&mut self, from: usize, to: usize, n: usize) {
        for plane in [&mut self.x, &mut self.y, &mut self.z] {
            for j in 0..n {
                plane[to + j] += std::mem::take(&mut plane[from + j]);
            }
        }
    }
}

/// `∂L/∂depth` of rows `r0..` of sample `b`, written into `band_out`, from `g`, the sample's
/// gradient of the output (image, then points and normals when `GEOMETRY`).
struct BackwardBand<'a, 'o, const GEOMETRY: bool> {
    inp: &'a KernelInputs<'a>,
    b: usize,
    r0: usize,
    g: &'a [f32],
    band_out: &'o mut [f32],
}

impl<const GEOMETRY: bool> Sweep for BackwardBand<'_, '_, GEOMETRY> {
    #[inline(always)]
    fn sweep<L: Simd>(self) {
        let Self {
            inp,
            b,
            r0,
            g,
            band_out,
        } = self;
        let s = inp.size;
        let hw = s * s;
        let r1 = r0 + band_out.len() / s;
        let lights = &inp.lights[b];
        // Rows whose stencils reach into the band.
        let (e0, e1) = (r0.saturating_sub(1), (r1 + 1).min(s));
        let grid = PointGrid::new(inp, b, e0, e1);
        let len = grid.rows() * grid.width();
        let mut acc = Accumulator {
            x: vec![0.0; len],
            y: vec![0.0; len],
            z: vec![0.0; len],
        };
        for r in e0..e1 {
            for c in (0..s).step_by(L::LANES) {
                let valid = (s - c).min(L::LANES);
                let i = r * s + c;
                let (p, d) = grid.stencil::<L>(r, c);
                let fit = PlaneFit::new(&d);
                let (gp, gn) = inp.shading.radiance_vjp_lanes(
                    p,
                    fit.n,
                    lights,
                    load3(g, IMAGE_CHANNEL * hw + i, hw, valid),
                );
                let (mut gd, mut own) = if GEOMETRY {
                    (
                        fit.vjp(gn + load3(g, NORMALS_CHANNEL * hw + i, hw, valid)),
                        gp + load3(g, POINTS_CHANNEL * hw + i, hw, valid),
                    )
                } else {
                    (fit.vjp(gn), gp)
                };
                if valid < L::LANES {
                    // Lanes past the right edge stand for no pixel: nothing flows from them.
                    let keep = first_lanes::<L>(valid);
                    let mask = |v: Vec3s<L>| v.map(|c| L::where_positive(keep, c));
                    for gd in &mut gd {
                        *gd = mask(*gd);
                    }
                    own = mask(own);
                }
                for (k, off) in NEIGHBOR_OFFSETS.into_iter().enumerate() {
                    acc.add(grid.index(r, c, off), gd[k]);
                    own -= gd[k];
                }
                acc.add(grid.index(r, c, (0, 0)), own);
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
            let [x, y, z] = [&acc.x, &acc.y, &acc.z].map(|plane| &plane[i..i + s]);
            let [dx, dy, dz] = [0, 1, 2].map(|axis| &inp.dirs[(axis * s + r) * s..][..s]);
            let out = &mut band_out[(r - r0) * s..][..s];
            for (c, out) in out.iter_mut().enumerate() {
                *out = x[c] * dx[c] + y[c] * dy[c] + z[c] * dz[c];
            }
        }
    }
}
