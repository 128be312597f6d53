//! The walk over the edges of the padded pixel grid that both sweeps share.
//!
//! Paper Eq. 3's plane fit sees each of a pixel's 8 neighbours through one term per edge of
//! the pixel grid, and the term of an edge is the same from both of its ends (see
//! [`super::plane_fit`]). So the forward pass computes each edge's contribution to the fit's
//! sums once and adds it to both ends, and the backward pass pulls the gradient through each
//! edge once and adds it to one end and subtracts it from the other. [`scatter_edges`] walks the
//! edges; an [`EdgeTerm`] says what an edge contributes.

use pix2scene_scene::Vec3s;

use super::planes::{Planes, add, shift_in, sub};
use super::point_grid::PointGrid;
use super::simd::Simd;

/// What an edge of the pixel grid adds to its two ends.
pub(crate) trait EdgeTerm<L: Simd, const N: usize> {
    /// Whether the edge's start receives the negative of what its end receives (a gradient
    /// with respect to the difference `end − start`), rather than the same (a term even in it).
    const ANTISYMMETRIC: bool;

    /// The contribution of the edge from the lane group at flat index `from` to the one at
    /// `to` (in the padded layout of the [`PointGrid`]), whose point difference is `d`.
    fn term(&self, from: usize, to: usize, d: Vec3s<L>) -> [L; N];
}

/// Adds the terms of the edges between padded rows `r` and `r + 1` (image rows; −1 and `size`
/// are the padding) and along row `r` to `out` (in the padded layout of `grid`), at both ends
/// of each.
///
/// For the lane group of pixels `q` from padded column `j`, the edges are those to the right,
/// down, down-right, and from the pixel below `q` to the right of `q`; over the lane groups of
/// the row pair that is every edge between the two rows and along the upper one, for padded
/// columns `0 ..= size + 1`. What an edge adds to its right-hand end reaches that pixel's lane
/// group one lane up ([`Simd::shift_in`]), so every store is to the group's own columns.
#[inline(always)]
pub(crate) fn scatter_edges<L: Simd, const N: usize, E: EdgeTerm<L, N>>(
    grid: &PointGrid,
    r: isize,
    edge: &E,
    out: &mut Planes<N>,
) {
    let (top, bottom) = (grid.row_start(r), grid.row_start(r + 1));
    let zero = [L::splat(0.0); N];
    let (mut carry_top, mut carry_bottom) = (zero, zero);
    for j in (0..grid.size() + 2).step_by(L::LANES) {
        let (p00, p01, p10, p11) = (
            grid.point::<L>(top + j),
            grid.point::<L>(top + j + 1),
            grid.point::<L>(bottom + j),
            grid.point::<L>(bottom + j + 1),
        );
        let (q00, q01, q10, q11) = (top + j, top + j + 1, bottom + j, bottom + j + 1);
        let right = edge.term(q00, q01, p01 - p00);
        let down = edge.term(q00, q10, p10 - p00);
        let diagonal = edge.term(q00, q11, p11 - p00);
        let anti = edge.term(q10, q01, p01 - p10);
        let to_top_right = add(right, anti);
        let from_top = add(add(right, down), diagonal);
        let top_in = shift_in(carry_top, to_top_right);
        let bottom_in = add(shift_in(carry_bottom, diagonal), down);
        let (top_sum, bottom_sum) = if E::ANTISYMMETRIC {
            (sub(top_in, from_top), sub(bottom_in, anti))
        } else {
            (add(top_in, from_top), add(bottom_in, anti))
        };
        out.add(q00, top_sum);
        out.add(q10, bottom_sum);
        (carry_top, carry_bottom) = (to_top_right, diagonal);
    }
}
