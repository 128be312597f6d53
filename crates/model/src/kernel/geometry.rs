//! The geometry shared by a convolution and its transpose, and the patch copies between the
//! "big" feature map and its patch matrix (im2col and its adjoint, col2im).
//!
//! A convolution with a `k×k` kernel, stride `s` and padding `p` maps a big map
//! `[channels, big_h, big_w]` to a small map `[n, small_h, small_w]`; its transpose maps the
//! small map back to the big one. Both go through the patch matrix
//! `[channels·k·k, small_h·small_w]`, whose column `(oy, ox)` holds the big map's `k×k` patch
//! at `(oy·s − p, ox·s − p)` (zero outside the map). The copies work one channel at a time, with
//! a row stride so that the patch matrices of a whole batch can sit side by side, and write
//! every entry of their destination, so that it needs no zero fill.

use std::mem::MaybeUninit;

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

    /// im2col of one channel: writes every entry of its `k·k` patch-matrix rows
    /// (`small_h·small_w` entries each, row `ky·k + kx` starting at `ky·k + kx` times `ld`) from
    /// the `[big_h, big_w]` plane; the rows need not be initialized.
    ///
    /// The plane is first copied into `scratch` with its zero padding, so that every patch row
    /// is a plain strided copy with no bounds to work out.
    ///
    /// Inlined into its callers, which compile it for the CPU's widest vectors ([`super::isa`]).
    ///
    /// # Panics
    /// If the slices are too short for the geometry and `ld`.
    #[inline(always)]
    pub fn im2col(
        &self,
        plane: &[f32],
        patches: &mut [MaybeUninit<f32>],
        ld: usize,
        scratch: &mut Vec<f32>,
    ) {
        self.check(plane.len(), patches.len(), ld);
        let [bh, bw] = self.big;
        let [sh, sw] = self.small;
        let (k, s, p) = (self.kernel, self.stride, self.padding);
        let pw = bw + 2 * p;
        // One spare row: the stride-2 pairs below read one entry past a row's last tap.
        let ph = bh + 2 * p + 1;
        scratch.clear();
        scratch.resize(ph * pw, 0.0);
        for (y, src) in plane.chunks_exact(bw).enumerate() {
            scratch[(y + p) * pw + p..][..bw].copy_from_slice(src);
        }
        for ky in 0..k {
            for kx in 0..k {
                let start = (ky * k + kx) * ld;
                let block = &mut patches[start..start + sh * sw];
                for (oy, dst) in block.chunks_exact_mut(sw).enumerate() {
                    let src = &scratch[(oy * s + ky) * pw + kx..];
                    match s {
                        1 => write(dst, &src[..sw]),
                        2 => {
                            for (d, pair) in dst.iter_mut().zip(src[..2 * sw].chunks_exact(2)) {
                                d.write(pair[0]);
                            }
                        }
                        _ => {
                            for (d, v) in dst.iter_mut().zip(src.iter().step_by(s)) {
                                d.write(*v);
                            }
                        }
                    }
                }
            }
        }
    }

    /// col2im of one channel, the adjoint of [`Geometry::im2col`]: writes every entry of the
    /// `[big_h, big_w]` plane (which need not be initialized) as the sum of the patch-row
    /// entries (row stride `ld`) that im2col would copy from it, plus `offset`.
    ///
    /// Each pixel gathers its taps in the order `(ky, kx)` ascending, starting from 0, and adds
    /// `offset` last: the bits of adding the rows onto a zero plane one tap after the other
    /// (the reference in the tests), without the plane's zero fill or its scattered
    /// read-modify-writes. A big row is built in `scratch`, phase by phase (the columns
    /// `x = s·j + r` of phase `r`, which the same kernel columns reach), then interleaved.
    ///
    /// Inlined into its callers, which compile it for the CPU's widest vectors ([`super::isa`]).
    ///
    /// # Panics
    /// If the slices are too short for the geometry and `ld`.
    #[inline(always)]
    pub fn col2im(
        &self,
        patches: &[f32],
        plane: &mut [MaybeUninit<f32>],
        ld: usize,
        offset: f32,
        scratch: &mut Vec<f32>,
    ) {
        self.check(plane.len(), patches.len(), ld);
        let [_, bw] = self.big;
        let [sh, sw] = self.small;
        let (k, s, p) = (self.kernel, self.stride, self.padding);
        if bw == 0 {
            return;
        }
        let phase = bw.div_ceil(s);
        scratch.resize(s * phase, 0.0);
        // Per kernel column with valid taps: kx, where its first valid tap lands in the
        // scratch row (phase (x0 mod s), index ⌊x0/s⌋), its first patch column and their count.
        let taps: Vec<[usize; 4]> = (0..k)
            .filter_map(|kx| {
                let cols = self.valid(kx, bw, sw);
                let x0 = (cols.start * s + kx).checked_sub(p)?;
                (!cols.is_empty()).then(|| [kx, x0 % s * phase + x0 / s, cols.start, cols.len()])
            })
            .collect();
        for (y, out) in plane.chunks_exact_mut(bw).enumerate() {
            scratch.fill(0.0);
            // Kernel rows with y = oy·s + ky − p: ky ≡ y + p (mod s), ky ≤ y + p.
            let t = y + p;
            for ky in (t % s..k.min(t + 1)).step_by(s) {
                let oy = (t - ky) / s;
                if oy >= sh {
                    continue;
                }
                let row = &patches[ky * k * ld + oy * sw..];
                for &[kx, at, ox, len] in &taps {
                    let src = &row[kx * ld + ox..][..len];
                    for (a, v) in scratch[at..at + len].iter_mut().zip(src) {
                        *a += v;
                    }
                }
            }
            if s == 2 {
                let (even, odd) = scratch.split_at(phase);
                for (pair, (e, o)) in out.chunks_exact_mut(2).zip(even.iter().zip(odd)) {
                    pair[0].write(e + offset);
                    pair[1].write(o + offset);
                }
                if bw % 2 == 1 {
                    out[bw - 1].write(even[phase - 1] + offset);
                }
            } else {
                for (x, o) in out.iter_mut().enumerate() {
                    o.write(scratch[x % s * phase + x / s] + offset);
                }
            }
        }
    }
}

/// Writes `src` into `dst` (same length).
#[inline(always)]
fn write(dst: &mut [MaybeUninit<f32>], src: &[f32]) {
    for (d, v) in dst.iter_mut().zip(src) {
        d.write(*v);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every tap of the geometry by its definition, in the order `(c, ky, kx, oy, ox)`: the
    /// index of the patch-matrix entry and that of the big-map pixel it reads, for the taps
    /// inside the map.
    fn taps(g: &Geometry) -> Vec<(usize, usize)> {
        let [bh, bw] = g.big;
        let [sh, sw] = g.small;
        let k = g.kernel;
        let mut taps = Vec::new();
        for c in 0..g.channels {
            for ky in 0..k {
                for kx in 0..k {
                    for oy in 0..sh {
                        for ox in 0..sw {
                            let y = (oy * g.stride + ky) as isize - g.padding as isize;
                            let x = (ox * g.stride + kx) as isize - g.padding as isize;
                            if (0..bh as isize).contains(&y) && (0..bw as isize).contains(&x) {
                                taps.push((
                                    (((c * k + ky) * k + kx) * sh + oy) * sw + ox,
                                    (c * bh + y as usize) * bw + x as usize,
                                ));
                            }
                        }
                    }
                }
            }
        }
        taps
    }

    /// Direct definition of the patch matrix, one entry at a time.
    fn im2col_reference(g: &Geometry, big: &[f32]) -> Vec<f32> {
        let mut out = vec![0.0; g.patch_len() * g.small_pixels()];
        for (patch, pixel) in taps(g) {
            out[patch] = big[pixel];
        }
        out
    }

    /// The whole patch matrix `[channels·k·k, small_h·small_w]` of one sample, written into
    /// uninitialized memory.
    fn im2col_all(g: &Geometry, big: &[f32]) -> Vec<f32> {
        let (plane, rows) = (g.big[0] * g.big[1], g.kernel * g.kernel * g.small_pixels());
        let mut out = vec![MaybeUninit::uninit(); g.channels * rows];
        let mut scratch = Vec::new();
        for (src, dst) in big.chunks_exact(plane).zip(out.chunks_exact_mut(rows)) {
            g.im2col(src, dst, g.small_pixels(), &mut scratch);
        }
        // SAFETY: im2col wrote every entry of every channel's rows.
        out.into_iter()
            .map(|v| unsafe { v.assume_init() })
            .collect()
    }

    /// All planes of one sample by col2im, from its patch matrix `[channels·k·k, small_h·small_w]`.
    fn col2im_all(g: &Geometry, cols: &[f32], offset: f32) -> Vec<f32> {
        let (plane, rows) = (g.big[0] * g.big[1], g.kernel * g.kernel * g.small_pixels());
        let mut out = vec![MaybeUninit::uninit(); g.big_len()];
        let mut scratch = Vec::new();
        for (dst, src) in out.chunks_exact_mut(plane).zip(cols.chunks_exact(rows)) {
            g.col2im(src, dst, g.small_pixels(), offset, &mut scratch);
        }
        // SAFETY: col2im wrote every entry of every plane.
        out.into_iter()
            .map(|v| unsafe { v.assume_init() })
            .collect()
    }

    /// col2im by its definition: each patch entry added onto a zero plane, taps `(ky, kx)` in
    /// ascending order, then the offset.
    fn col2im_reference(g: &Geometry, cols: &[f32], offset: f32) -> Vec<f32> {
        let mut out = vec![0.0f32; g.big_len()];
        for (patch, pixel) in taps(g) {
            out[pixel] += cols[patch];
        }
        out.iter().map(|v| v + offset).collect()
    }

    fn geometries() -> Vec<Geometry> {
        vec![
            Geometry::of_conv(3, [8, 8], 4, 2, 1),
            Geometry::of_conv(2, [7, 5], 4, 2, 1),
            Geometry::of_conv(5, [4, 4], 4, 1, 0),
            Geometry::of_conv(2, [6, 6], 3, 1, 1),
            Geometry::of_transpose(3, [1, 1], 4, 1, 0),
            Geometry::of_transpose(2, [4, 4], 4, 2, 1),
            Geometry::of_conv(2, [9, 11], 5, 3, 2),
            Geometry::of_conv(1, [5, 6], 3, 2, 0),
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
            assert_eq!(im2col_all(&g, &big), im2col_reference(&g, &big), "{g:?}");
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
            let cols = im2col_all(&g, &a);
            let back = col2im_all(&g, &b, 0.0);
            let lhs: f64 = cols.iter().zip(&b).map(|(x, y)| (x * y) as f64).sum();
            let rhs: f64 = a.iter().zip(&back).map(|(x, y)| (x * y) as f64).sum();
            assert_eq!(lhs, rhs, "{g:?}");
        }
    }

    /// The gathered col2im gives the bits of the tap-by-tap sum, on rounded (non-integer) data,
    /// with and without an offset.
    #[test]
    fn col2im_matches_the_tap_by_tap_sum_bit_for_bit() {
        for g in geometries() {
            let n = g.patch_len() * g.small_pixels();
            let cols: Vec<f32> = (0..n).map(|i| (i as f32 * 0.618_034).sin()).collect();
            for offset in [0.0, -0.37] {
                let got = col2im_all(&g, &cols, offset);
                let want = col2im_reference(&g, &cols, offset);
                let bits = |v: &[f32]| v.iter().map(|x| x.to_bits()).collect::<Vec<_>>();
                assert_eq!(bits(&got), bits(&want), "{g:?}, offset {offset}");
            }
        }
    }
}
