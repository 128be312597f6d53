//! A bounds-checked single-threaded wrapper around the `gemm` crate's strided matrix product.

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

/// `dst = a · b` (or `dst += a · b` when `accumulate`), `dst` row-major `[a.rows, b.cols]`;
/// large products are split over rayon's current pool by output blocks (the sum over the inner
/// dimension is not split, so runs with the same thread count give the same bits).
///
/// # Panics
/// If the inner sizes disagree or a view or `dst` is too short.
pub fn matmul(dst: &mut [f32], a: View<'_>, b: View<'_>, accumulate: bool) {
    let (m, k, n) = (a.rows, a.cols, b.cols);
    assert_eq!(b.rows, k, "inner sizes");
    assert_eq!(dst.len(), m * n, "destination length");
    assert!(a.in_bounds() && b.in_bounds(), "view out of bounds");
    if m == 0 || n == 0 {
        return;
    }
    if k == 0 {
        if !accumulate {
            dst.fill(0.0);
        }
        return;
    }
    let threads = rayon::current_num_threads();
    let parallelism = if threads > 1 && m * n * k >= PARALLEL_WORK {
        gemm::Parallelism::Rayon(threads)
    } else {
        gemm::Parallelism::None
    };
    // SAFETY: every index the product touches was checked above: `dst` holds `m·n` row-major
    // entries and both views lie inside their slices; the slices do not overlap since `dst` is
    // borrowed mutably.
    unsafe {
        gemm::gemm(
            m,
            n,
            k,
            dst.as_mut_ptr(),
            1,
            n as isize,
            accumulate,
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
            parallelism,
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

    #[test]
    fn matmul_matches_naive_for_every_transpose() {
        let (m, k, n) = (7, 19, 33);
        let a: Vec<f32> = (0..m * k).map(|i| ((i * 7) % 13) as f32 - 6.0).collect();
        let b: Vec<f32> = (0..k * n).map(|i| ((i * 5) % 11) as f32 - 5.0).collect();
        let views = [
            (View::rows(&a, m, k), View::rows(&b, k, n)),
            (View::rows(&a, k, m).t(), View::rows(&b, n, k).t()),
        ];
        for (va, vb) in views {
            let want = naive(va, vb);
            let mut got = vec![f32::NAN; m * n];
            matmul(&mut got, va, vb, false);
            assert_eq!(got, want);
            matmul(&mut got, va, vb, true);
            let doubled: Vec<f32> = want.iter().map(|v| 2.0 * v).collect();
            assert_eq!(got, doubled);
        }
    }
}
