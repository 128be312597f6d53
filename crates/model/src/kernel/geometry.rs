//! The geometry shared by a convolution and its transpose, and the patch copies between the
//! "big" feature map and its patch matrix (im2col and its adjoint, col2im).
//!
//! A convolution with a `k×k` kernel, stride `s` and padding `p` maps a big map
//! `[channels, big_h, big_w]` to a small map `[n, small_h, small_w]`; its transpose maps the
//! small map back to the big one. Both go through the patch matrix
//! `[channels·k·k, small_h·small_w]`, whose column `(oy, ox)` holds the big map's `k×k` patch
//! at `(oy·s − p, ox·s − p)` (zero outside the map). The copies work one channel at a time, with
//! a row stride so that the patch matrices of a whole batch can sit side by side.

/// Sizes of one convolution: its big and small maps and the kernel, stride and padding.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Geometry {
    /// Channels of the big map (the convolution's input, the transpose's output).
    pub channels: usize,
    /// Height and width of the big map.
    pub big: [usize; 2],
    /// Height and width of the small map (the convolution's output, the transpose's input).
    pub small: [usize; 2],
    /// Kernel side.
    pub kernel: usize,
    /// Stride (both axes).
    pub stride: usize,
    /// Zero padding of the big map (both axes, both sides).
    pub padding: usize,
}

impl Geometry {
    /// Geometry of a convolution of a `[channels, big_h, big_w]` map; the small size follows.
    ///
    /// # Panics
    /// If the padded map is smaller than the kernel or the stride is 0.
    pub fn of_conv(
        channels: usize,
        big: [usize; 2],
        kernel: usize,
        stride: usize,
        padding: usize,
    ) -> Self {
        assert!(stride > 0, "stride 0");
        let out = |n: usize| {
            let padded = n + 2 * padding;
            assert!(
                padded >= kernel,
                "map {n} + 2·{padding} smaller than kernel {kernel}"
            );
            (padded - kernel) / stride + 1
        };
        Self {
            channels,
            big,
            small: [out(big[0]), out(big[1])],
            kernel,
            stride,
            padding,
        }
    }

    /// Geometry of a transposed convolution (no output padding) of a `[_, small_h, small_w]`
    /// map to `channels` channels; the big size follows.
    ///
    /// # Panics
    /// If the big map would be empty or the stride is 0.
    pub fn of_transpose(
        channels: usize,
        small: [usize; 2],
        kernel: usize,
        stride: usize,
        padding: usize,
    ) -> Self {
        assert!(
            stride > 0 && small[0] > 0 && small[1] > 0,
            "empty transpose"
        );
        let big = |n: usize| {
            let full = (n - 1) * stride + kernel;
            assert!(full > 2 * padding, "padding {padding} crops the whole map");
            full - 2 * padding
        };
        Self {
            channels,
            big: [big(small[0]), big(small[1])],
            small,
            kernel,
            stride,
            padding,
        }
    }

    /// Elements of one sample's big map, `channels·big_h·big_w`.
    pub fn big_len(&self) -> usize {
        self.channels * self.big[0] * self.big[1]
    }

    /// Pixels of the small map, `small_h·small_w` (columns of the patch matrix).
    pub fn small_pixels(&self) -> usize {
        self.small[0] * self.small[1]
    }

    /// Rows of the patch matrix, `channels·k·k`.
    pub fn patch_len(&self) -> usize {
        self.channels * self.kernel * self.kernel
    }

    /// Whether the kernel covers the whole unpadded big map once (a 1×1 small map): then a
    /// sample's patch column is its big map as it lies in memory, and the convolution is a
    /// dense layer (the networks' heads and the decoder's projection).
    pub fn is_dense(&self) -> bool {
        self.padding == 0 && self.small == [1, 1] && self.big == [self.kernel, self.kernel]
    }

    /// Range of small-map indices `o` whose tap `o·s + tap − p` falls inside `0..size`.
    fn valid(&self, tap: usize, size: usize, small: usize) -> std::ops::Range<usize> {
        let (s, p) = (self.stride, self.padding);
        // o·s + tap ≥ p  ⇔  o ≥ ⌈(p − tap)/s⌉;  o·s + tap − p < size  ⇔  o < ⌈(size + p − tap)/s⌉.
        let lo = p.saturating_sub(tap).div_ceil(s);
        let hi = (size + p).saturating_sub(tap).div_ceil(s).min(small);
        lo.min(hi)..hi
    }

    /// Checks a plane length and that `k·k` rows of `small_h·small_w` entries with row stride
    /// `ld` fit in `patches` entries.
    fn check(&self, plane: usize, patches: usize, ld: usize) {
        let (kk, px) = (self.kernel * self.kernel, self.small_pixels());
        assert_eq!(plane, self.big[0] * self.big[1], "plane length");
        assert!(ld >= px, "row stride {ld} below row length {px}");
        assert!(patches >= (kk - 1) * ld + px, "patch rows too short");
    }

    /// im2col of one channel: writes its `k·k` patch-matrix rows (`small_h·small_w` entries
    /// each, row `ky·k + kx` starting at `ky·k + kx` times `ld`) from the `[big_h, big_w]` plane.
    ///
    /// # Panics
    /// If the slices are too short for the geometry and `ld`.
    pub fn im2col(&self, plane: &[f32], patches: &mut [f32], ld: usize) {
        self.check(plane.len(), patches.len(), ld);
        let [bh, bw] = self.big;
        let [sh, sw] = self.small;
        let (k, s, p) = (self.kernel, self.stride, self.padding);
        for ky in 0..k {
            let rows = self.valid(ky, bh, sh);
            for kx in 0..k {
                let cols = self.valid(kx, bw, sw);
                let start = (ky * k + kx) * ld;
                let row = &mut patches[start..start + sh * sw];
                for (oy, dst) in row.chunks_exact_mut(sw).enumerate() {
                    if !rows.contains(&oy) || cols.is_empty() {
                        dst.fill(0.0);
                        continue;
                    }
                    // Zero padding taps left and right of the valid columns.
                    dst[..cols.start].fill(0.0);
                    dst[cols.end..].fill(0.0);
                    let dst = &mut dst[cols.clone()];
                    let first = (oy * s + ky - p) * bw + cols.start * s + kx - p;
                    let src = &plane[first..first + (dst.len() - 1) * s + 1];
                    match s {
                        1 => dst.copy_from_slice(src),
                        2 => {
                            // Pairs let the compiler vectorize the stride-2 gather.
                            let (last, head) = dst.split_last_mut().expect("valid columns");
                            for (d, pair) in head.iter_mut().zip(src.chunks_exact(2)) {
                                *d = pair[0];
                            }
                            *last = src[src.len() - 1];
                        }
                        _ => {
                            for (d, v) in dst.iter_mut().zip(src.iter().step_by(s)) {
                                *d = *v;
                            }
                        }
                    }
                }
            }
        }
    }

    /// col2im of one channel, the adjoint of [`Geometry::im2col`]: adds its `k·k` patch rows
    /// (row stride `ld`) back onto the `[big_h, big_w]` plane.
    ///
    /// # Panics
    /// If the slices are too short for the geometry and `ld`.
    pub fn col2im(&self, patches: &[f32], plane: &mut [f32], ld: usize) {
        self.check(plane.len(), patches.len(), ld);
        let [bh, bw] = self.big;
        let [sh, sw] = self.small;
        let (k, s, p) = (self.kernel, self.stride, self.padding);
        for ky in 0..k {
            let rows = self.valid(ky, bh, sh);
            for kx in 0..k {
                let cols = self.valid(kx, bw, sw);
                if cols.is_empty() {
                    continue;
                }
                let start = (ky * k + kx) * ld;
                for oy in rows.clone() {
                    let src = &patches[start + oy * sw + cols.start..start + oy * sw + cols.end];
                    let first = (oy * s + ky - p) * bw + cols.start * s + kx - p;
                    if s == 1 {
                        for (d, v) in plane[first..first + src.len()].iter_mut().zip(src) {
                            *d += v;
                        }
                    } else {
                        for (i, v) in src.iter().enumerate() {
                            plane[first + i * s] += v;
                        }
                    }
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Direct definition of the patch matrix, one entry at a time.
    fn im2col_reference(g: &Geometry, big: &[f32]) -> Vec<f32> {
        let [bh, bw] = g.big;
        let [sh, sw] = g.small;
        let k = g.kernel;
        let mut out = vec![0.0; g.patch_len() * g.small_pixels()];
        for c in 0..g.channels {
            for ky in 0..k {
                for kx in 0..k {
                    for oy in 0..sh {
                        for ox in 0..sw {
                            let y = (oy * g.stride + ky) as isize - g.padding as isize;
                            let x = (ox * g.stride + kx) as isize - g.padding as isize;
                            if (0..bh as isize).contains(&y) && (0..bw as isize).contains(&x) {
                                out[(((c * k + ky) * k + kx) * sh + oy) * sw + ox] =
                                    big[(c * bh + y as usize) * bw + x as usize];
                            }
                        }
                    }
                }
            }
        }
        out
    }

    /// The whole patch matrix `[channels·k·k, small_h·small_w]` of one sample.
    fn im2col_all(g: &Geometry, big: &[f32], out: &mut [f32]) {
        let (plane, rows) = (g.big[0] * g.big[1], g.kernel * g.kernel * g.small_pixels());
        for (src, dst) in big.chunks_exact(plane).zip(out.chunks_exact_mut(rows)) {
            g.im2col(src, dst, g.small_pixels());
        }
    }

    fn geometries() -> Vec<Geometry> {
        vec![
            Geometry::of_conv(3, [8, 8], 4, 2, 1),
            Geometry::of_conv(2, [7, 5], 4, 2, 1),
            Geometry::of_conv(5, [4, 4], 4, 1, 0),
            Geometry::of_conv(2, [6, 6], 3, 1, 1),
            Geometry::of_transpose(3, [1, 1], 4, 1, 0),
            Geometry::of_transpose(2, [4, 4], 4, 2, 1),
        ]
    }

    #[test]
    fn sizes_follow_the_conv_formulas() {
        assert_eq!(Geometry::of_conv(3, [64, 64], 4, 2, 1).small, [32, 32]);
        assert_eq!(Geometry::of_conv(3, [4, 4], 4, 1, 0).small, [1, 1]);
        assert_eq!(Geometry::of_transpose(3, [32, 32], 4, 2, 1).big, [64, 64]);
        assert_eq!(Geometry::of_transpose(3, [1, 1], 4, 1, 0).big, [4, 4]);
    }

    #[test]
    fn dense_geometries_are_the_kernel_sized_valid_ones() {
        assert!(Geometry::of_conv(3, [4, 4], 4, 1, 0).is_dense());
        assert!(Geometry::of_conv(3, [5, 5], 5, 2, 0).is_dense());
        assert!(Geometry::of_transpose(3, [1, 1], 4, 1, 0).is_dense());
        assert!(!Geometry::of_conv(3, [4, 4], 4, 2, 1).is_dense());
        assert!(!Geometry::of_conv(3, [5, 5], 4, 1, 0).is_dense());
        assert!(!Geometry::of_conv(3, [4, 4], 3, 1, 1).is_dense());
    }

    #[test]
    fn im2col_matches_definition() {
        for g in geometries() {
            let big: Vec<f32> = (0..g.big_len()).map(|i| i as f32 * 0.5 - 3.0).collect();
            let mut got = vec![f32::NAN; g.patch_len() * g.small_pixels()];
            im2col_all(&g, &big, &mut got);
            assert_eq!(got, im2col_reference(&g, &big), "{g:?}");
        }
    }

    #[test]
    fn col2im_is_the_adjoint_of_im2col() {
        // <im2col(a), b> = <a, col2im(b)> for all a, b.
        for g in geometries() {
            let a: Vec<f32> = (0..g.big_len())
                .map(|i| ((i * 7) % 11) as f32 - 5.0)
                .collect();
            let n = g.patch_len() * g.small_pixels();
            let b: Vec<f32> = (0..n).map(|i| ((i * 5) % 13) as f32 - 6.0).collect();
            let mut cols = vec![0.0; n];
            im2col_all(&g, &a, &mut cols);
            let mut back = vec![0.0; g.big_len()];
            let (plane, rows) = (g.big[0] * g.big[1], g.kernel * g.kernel * g.small_pixels());
            for (dst, src) in back.chunks_exact_mut(plane).zip(b.chunks_exact(rows)) {
                g.col2im(src, dst, g.small_pixels());
            }
            let lhs: f64 = cols.iter().zip(&b).map(|(x, y)| (x * y) as f64).sum();
            let rhs: f64 = a.iter().zip(&back).map(|(x, y)| (x * y) as f64).sum();
            assert_eq!(lhs, rhs, "{g:?}");
        }
    }
}
