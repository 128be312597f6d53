//! A bounds-checked matrix product on the `gemm` crate's strided kernels, split into bands that
//! rayon's threads share.

use rayon::prelude::*;

/// A read-only strided `rows × cols` matrix view of a slice.
#[derive(Clone, Copy, Debug)]
pub struct View<'a> {
    /// The elements; entry `(i, j)` is `data[i·row_stride + j·col_stride]`.
    pub data: &'a [f32],
    /// Rows.
    pub rows: usize,
    /// Columns.
    pub cols: usize,
    /// Distance between consecutive rows.
    pub row_stride: usize,
    /// Distance between consecutive columns.
    pub col_stride: usize,
}

impl<'a> View<'a> {
    /// A row-major `rows × cols` matrix.
    pub fn rows(data: &'a [f32], rows: usize, cols: usize) -> Self {
        Self {
            data,
            rows,
            cols,
            row_stride: cols,
            col_stride: 1,
        }
    }

    /// The transpose (no copy).
    pub fn t(self) -> Self {
        Self {
            rows: self.cols,
            cols: self.rows,
            row_stride: self.col_stride,
            col_stride: self.row_stride,
            ..self
        }
    }

    /// Rows `start .. start + len`.
    fn sub_rows(self, start: usize, len: usize) -> Self {
        Self {
            data: &self.data[start * self.row_stride..],
            rows: len,
            ..self
        }
    }

    /// Columns `start .. start + len`.
    fn sub_cols(self, start: usize, len: usize) -> Self {
        Self {
            data: &self.data[start * self.col_stride..],
            cols: len,
            ..self
        }
    }

    /// Whether every entry lies inside `data`.
    fn in_bounds(&self) -> bool {
        self.rows == 0
            || self.cols == 0
            || (self.rows - 1) * self.row_stride + (self.cols - 1) * self.col_stride
                < self.data.len()
    }
}

/// Products with fewer multiply-adds than this run on the calling thread.
const PARALLEL_WORK: usize = 1 << 17;

/// Bands are multiples of this many rows or columns (a multiple of the GEMM micro-tiles).
const BAND_ALIGN: usize = 16;

/// Large products are cut into at most this many bands.
const MAX_BANDS: usize = 8;

/// `a · b`, row-major `[a.rows, b.cols]`, written straight into fresh memory (no zero fill).
///
/// Large products are cut into up to [`MAX_BANDS`] bands of output rows or columns (along the
/// larger output side), each band one single-threaded GEMM, which rayon's current pool shares
/// out. The `gemm` crate's own parallel mode packs the right operand on the calling thread
/// while the others wait; here every band packs its own operands. The bands depend on the
/// shapes alone, never on the thread count, and the sum over the inner dimension is never
/// split, so any thread count gives the same bits (the `gemm` crate's kernels for one shape and
/// layout may round differently from those for a band of it).
///
/// # Panics
/// If the inner sizes disagree or a view is too short.
pub fn product(a: View<'_>, b: View<'_>) -> Vec<f32> {
    let (m, k, n) = (a.rows, a.cols, b.cols);
    assert_eq!(b.rows, k, "inner sizes");
    assert!(a.in_bounds() && b.in_bounds(), "view out of bounds");
    if m == 0 || n == 0 || k == 0 {
        return vec![0.0; m * n];
    }
    let mut out: Vec<f32> = Vec::with_capacity(m * n);
    let dst = SharedOut(out.as_mut_ptr());
    let side = m.max(n);
    if m * n * k < PARALLEL_WORK || side < 2 * BAND_ALIGN {
        // SAFETY: `out` has capacity for the `m·n` row-major entries, which the GEMM writes
        // without reading (no accumulation); both views lie inside their slices (checked
        // above).
        unsafe { gemm_serial(dst.0, n, a, b) };
    } else {
        let band = side.div_ceil(MAX_BANDS).next_multiple_of(BAND_ALIGN);
        (0..side.div_ceil(band)).into_par_iter().for_each(|i| {
            let (start, len) = (i * band, band.min(side - i * band));
            let dst = &dst;
            // SAFETY: band `i` writes output rows (or columns) `start .. start + len` only, so
            // the bands write disjoint entries inside the capacity of `out`, which nothing
            // else touches until all of them are done; the sub-views lie inside the checked
            // views.
            unsafe {
                if m >= n {
                    gemm_serial(dst.0.add(start * n), n, a.sub_rows(start, len), b);
                } else {
                    gemm_serial(dst.0.add(start), n, a, b.sub_cols(start, len));
                }
            }
        });
    }
    // SAFETY: the GEMMs above wrote every one of the `m·n` entries.
    unsafe { out.set_len(m * n) };
    out
}

/// The destination pointer, shared by the bands (each writes its own entries).
struct SharedOut(*mut f32);

// SAFETY: the bands that share the pointer write disjoint entries (see `product`).
unsafe impl Sync for SharedOut {}

/// One single-threaded GEMM `dst = a · b` (`dst` is written, never read), `dst` with row
/// stride `dst_row_stride` and unit column stride.
///
/// # Safety
/// `dst` must be valid for writes of the `a.rows × b.cols` entries `dst[i·dst_row_stride + j]`,
/// which nothing else may access meanwhile; both views must lie inside their slices.
unsafe fn gemm_serial(dst: *mut f32, dst_row_stride: usize, a: View<'_>, b: View<'_>) {
    debug_assert!(a.in_bounds() && b.in_bounds());
    // SAFETY: the caller's contract, forwarded.
    unsafe {
        gemm::gemm(
            a.rows,
            b.cols,
            a.cols,
            dst,
            1,
            dst_row_stride as isize,
            false,
            a.data.as_ptr(),
            a.col_stride as isize,
            a.row_stride as isize,
            b.data.as_ptr(),
            b.col_stride as isize,
            b.row_stride as isize,
            1.0,
            1.0,
            false,
            false,
            false,
            gemm::Parallelism::None,
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn naive(a: View<'_>, b: View<'_>) -> Vec<f32> {
        let mut out = vec![0.0; a.rows * b.cols];
        for i in 0..a.rows {
            for j in 0..b.cols {
                for l in 0..a.cols {
                    out[i * b.cols + j] += a.data[i * a.row_stride + l * a.col_stride]
                        * b.data[l * b.row_stride + j * b.col_stride];
                }
            }
        }
        out
    }

    /// Serial (small) and banded (large, split along rows or columns) products, every
    /// transpose, on 1 and 3 threads; integer-valued data, so the sums are exact.
    #[test]
    fn products_match_naive() {
        for threads in [1, 3] {
            let pool = rayon::ThreadPoolBuilder::new()
                .num_threads(threads)
                .build()
                .unwrap();
            for (m, k, n) in [(7, 19, 33), (150, 40, 37), (37, 40, 150), (5, 0, 4)] {
                let a: Vec<f32> = (0..m * k).map(|i| ((i * 7) % 13) as f32 - 6.0).collect();
                let b: Vec<f32> = (0..k * n).map(|i| ((i * 5) % 11) as f32 - 5.0).collect();
                for (va, vb) in layouts(&a, &b, m, k, n) {
                    let got = pool.install(|| product(va, vb));
                    assert_eq!(got, naive(va, vb), "{m}×{k}×{n} on {threads} threads");
                }
            }
        }
    }

    /// The four layouts of `a` (`m×k`) and `b` (`k×n`): row-major or transposed each.
    fn layouts<'a>(
        a: &'a [f32],
        b: &'a [f32],
        m: usize,
        k: usize,
        n: usize,
    ) -> [(View<'a>, View<'a>); 4] {
        let (ar, at) = (View::rows(a, m, k), View::rows(a, k, m).t());
        let (br, bt) = (View::rows(b, k, n), View::rows(b, n, k).t());
        [(ar, br), (ar, bt), (at, br), (at, bt)]
    }

    /// Rounded (non-integer) sums give the same bits on 1, 2 and 3 threads, in every layout —
    /// including the shapes of a first convolution's weight gradient (`8 × 1024 · 1024 × 48`,
    /// `b` transposed), whose whole-product and band kernels round differently.
    #[test]
    fn any_thread_count_gives_the_same_bits() {
        for (m, k, n) in [(8, 1024, 48), (48, 1024, 8), (64, 700, 200), (300, 64, 40)] {
            let a: Vec<f32> = (0..m * k).map(|i| (i as f32 * 0.618_034).sin()).collect();
            let b: Vec<f32> = (0..k * n).map(|i| (i as f32 * 0.414_213).cos()).collect();
            for (va, vb) in layouts(&a, &b, m, k, n) {
                let runs: Vec<Vec<f32>> = [1, 2, 3]
                    .iter()
                    .map(|&threads| {
                        let pool = rayon::ThreadPoolBuilder::new()
                            .num_threads(threads)
                            .build()
                            .unwrap();
                        pool.install(|| product(va, vb))
                    })
                    .collect();
                assert_eq!(runs[0], runs[1], "{m}×{k}×{n}, 1 vs 2 threads");
                assert_eq!(runs[0], runs[2], "{m}×{k}×{n}, 1 vs 3 threads");
            }
        }
    }
}
