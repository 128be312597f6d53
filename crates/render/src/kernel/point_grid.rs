//! The surfel points of a band of rows, reflect-padded, as structure of arrays.

use pix2scene_scene::Vec3s;

use super::inputs::KernelInputs;
use super::simd::{MAX_LANES, Simd};

/// Points of image rows `lo − 1 ..= hi` of one sample, with one reflected column on each side
/// (and the rows `−1` and `size` reflected), so that the points of the 3×3 stencils of rows
/// `lo..hi` — and the edges between them (`edges.rs`) — are plain contiguous lane loads. Rows
/// are padded on the right with finite filler points, so that lane groups may start anywhere in
/// the padded columns `0 ..= size + 1` and load one column past their end.
///
/// The same padded geometry indexes the backward pass's gradient accumulator
/// ([`Self::index`]), whose padding cells are then folded onto the pixels they reflect.
pub(crate) struct PointGrid {
    /// Image side, pixels.
    size: usize,
    /// First image row whose stencil is available.
    lo: usize,
    /// Padded row length: `size + 2` rounded up to [`MAX_LANES`], plus [`MAX_LANES`].
    width: usize,
    /// `[rows, width]` planes of x, y and z.
    x: Vec<f32>,
    y: Vec<f32>,
    z: Vec<f32>,
}

impl PointGrid {
    /// Back-projects the points of sample `b` needed by the stencils of rows `lo..hi`.
    ///
    /// Inlined into the sweeps, so that it is compiled with their instruction set.
    #[inline(always)]
    pub fn new(inp: &KernelInputs, b: usize, lo: usize, hi: usize) -> Self {
        let s = inp.size;
        let width = Self::padded_width(s);
        let rows = hi - lo + 2;
        let mut grid = Self {
            size: s,
            lo,
            width,
            x: vec![0.0; rows * width],
            y: vec![0.0; rows * width],
            z: vec![0.0; rows * width],
        };
        let depth = &inp.depth[b * s * s..(b + 1) * s * s];
        for i in 0..rows {
            // Image rows −1 and `size` reflect to 1 and `size − 2`.
            let r = match (lo + i).checked_sub(1) {
                None => 1,
                Some(r) if r == s => s - 2,
                Some(r) => r,
            };
            let depth = &depth[r * s..(r + 1) * s];
            let row = i * width..(i + 1) * width;
            let planes = [&mut grid.x, &mut grid.y, &mut grid.z];
            for (axis, plane) in planes.into_iter().enumerate() {
                let plane = &mut plane[row.clone()];
                let dirs = &inp.dirs[(axis * s + r) * s..(axis * s + r + 1) * s];
                // Padded column j holds image column j − 1.
                for ((p, dir), d) in plane[1..=s].iter_mut().zip(dirs).zip(depth) {
                    *p = dir * d;
                }
                // Column −1 reflects to 1, column `size` to `size − 2`; filler past it repeats
                // the last pixel.
                plane[0] = plane[2];
                plane[s + 1] = plane[s - 1];
                let last = plane[s];
                plane[s + 2..].fill(last);
            }
        }
        grid
    }

    /// Padded row length of the grids of images of side `size`: `size + 2` rounded up to
    /// [`MAX_LANES`], plus [`MAX_LANES`].
    pub fn padded_width(size: usize) -> usize {
        (size + 2).div_ceil(MAX_LANES) * MAX_LANES + MAX_LANES
    }

    /// Image side, pixels.
    pub fn size(&self) -> usize {
        self.size
    }

    /// Padded row length.
    pub fn width(&self) -> usize {
        self.width
    }

    /// Number of padded rows.
    pub fn rows(&self) -> usize {
        self.x.len() / self.width
    }

    /// Flat index of image pixel (`row + dy`, `col + dx`) in the padded planes, for
    /// `row ∈ lo − 1 ..= hi`, `col < size` rounded up to lanes, and `dy, dx ∈ {−1, 0, 1}`
    /// (−1 and `size` address the padding).
    #[inline(always)]
    pub fn index(&self, row: usize, col: usize, (dy, dx): (isize, isize)) -> usize {
        (Self::index_in(self.width, self.lo, row, col) as isize + dy * self.width as isize + dx)
            as usize
    }

    /// [`Self::index`] of pixel (`row`, `col`) in a grid of rows `lo..` and padded row length
    /// `width`, without the grid.
    #[inline(always)]
    pub fn index_in(width: usize, lo: usize, row: usize, col: usize) -> usize {
        (row + 1 - lo) * width + col + 1
    }

    /// Flat index of padded column 0 (image column −1) of image row `row ∈ lo − 1 ..= hi`.
    #[inline(always)]
    pub fn row_start(&self, row: isize) -> usize {
        (row + 1 - self.lo as isize) as usize * self.width
    }

    /// The points of the lane group starting at flat index `i`.
    #[inline(always)]
    pub fn point<L: Simd>(&self, i: usize) -> Vec3s<L> {
        Vec3s {
            x: L::load(&self.x[i..]),
            y: L::load(&self.y[i..]),
            z: L::load(&self.z[i..]),
        }
    }
}
