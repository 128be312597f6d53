//! Planes of per-pixel values in the padded layout of a [`super::point_grid::PointGrid`], and
//! lane-wise arithmetic on the `[L; N]` groups they load and store.

use super::simd::{Simd, first_lanes};

/// `N` planes of values in the padded layout of a [`super::point_grid::PointGrid`].
#[derive(Clone, Debug)]
pub(crate) struct Planes<const N: usize>(pub [Vec<f32>; N]);

impl<const N: usize> Planes<N> {
    /// Zero planes of `len` values.
    pub fn zeros(len: usize) -> Self {
        Self(std::array::from_fn(|_| vec![0.0; len]))
    }

    /// The lane group at flat index `i` of each plane.
    #[inline(always)]
    pub fn load<L: Simd>(&self, i: usize) -> [L; N] {
        // Loops rather than closures throughout: a closure is not compiled with the instruction
        // set of the `#[target_feature]` function it is called from, so its intrinsics would
        // not inline.
        let mut v = [L::splat(0.0); N];
        for (v, plane) in v.iter_mut().zip(&self.0) {
            *v = L::load(&plane[i..]);
        }
        v
    }

    /// Writes `v` to the lane group at flat index `i`.
    #[inline(always)]
    pub fn store<L: Simd>(&mut self, i: usize, v: [L; N]) {
        for (plane, v) in self.0.iter_mut().zip(v) {
            v.store(&mut plane[i..]);
        }
    }

    /// Adds `v` to the lane group at flat index `i`.
    #[inline(always)]
    pub fn add<L: Simd>(&mut self, i: usize, v: [L; N]) {
        self.store(i, add(self.load(i), v));
    }

    /// Adds the `n` entries from flat index `from` onto those from `to`, and clears them.
    pub fn fold(&mut self, from: usize, to: usize, n: usize) {
        for plane in &mut self.0 {
            for j in 0..n {
                plane[to + j] += std::mem::take(&mut plane[from + j]);
            }
        }
    }
}

/// `a + b`, lane-wise.
#[inline(always)]
pub(crate) fn add<L: Simd, const N: usize>(mut a: [L; N], b: [L; N]) -> [L; N] {
    for (a, b) in a.iter_mut().zip(b) {
        *a += b;
    }
    a
}

/// `a − b`, lane-wise.
#[inline(always)]
pub(crate) fn sub<L: Simd, const N: usize>(mut a: [L; N], b: [L; N]) -> [L; N] {
    for (a, b) in a.iter_mut().zip(b) {
        *a -= b;
    }
    a
}

/// [`Simd::shift_in`] of each value.
#[inline(always)]
pub(crate) fn shift_in<L: Simd, const N: usize>(prev: [L; N], mut cur: [L; N]) -> [L; N] {
    for (cur, prev) in cur.iter_mut().zip(prev) {
        *cur = L::shift_in(prev, *cur);
    }
    cur
}

/// `v` in the first `valid` lanes, 0 in the others.
#[inline(always)]
pub(crate) fn keep_first<L: Simd, const N: usize>(mut v: [L; N], valid: usize) -> [L; N] {
    let keep = first_lanes::<L>(valid);
    for v in &mut v {
        *v = L::where_positive(keep, *v);
    }
    v
}
