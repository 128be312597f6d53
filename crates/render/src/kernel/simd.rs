//! The lane types the kernel's sweeps run on, lane loads and stores, and the run-time choice of
//! instruction set.
//!
//! The sweeps process [`Simd::LANES`] consecutive pixels of a row at once (structure of
//! arrays), written once against [`Simd`]. [`run`] runs a [`Sweep`] on
//! [`x86::F32x16`] (16 lanes in one AVX-512 register) where the CPU has AVX-512F/VL, on
//! [`x86::F32x8`] (8 lanes in one AVX register) where it has AVX2 + FMA — arithmetic by explicit
//! intrinsics in both, checked at run time so the binary stays portable — and on the portable
//! [`Portable`] lanes otherwise. Explicit registers matter: with plain `[f32; 8]` loops left to
//! the auto-vectorizer LLVM vectorizes parts of the plane fit's backward pass across the 8
//! neighbours instead of across the pixels, and runs the rest one lane at a time with gathers and
//! stack traffic — 2× slower.

use pix2scene_scene::{Lane, Lanes, Vec3s};

/// The widest lane group any lane type has: rows of the point grid are padded to a multiple of
/// it.
pub(crate) const MAX_LANES: usize = 16;

/// A lane type: [`Lane`] arithmetic on `LANES` pixels, plus loads and stores.
pub(crate) trait Simd: Lane {
    /// Pixels per lane group (at most [`MAX_LANES`]).
    const LANES: usize;
    /// The first `LANES` values of `src`.
    ///
    /// # Panics
    /// If `src` is shorter than `LANES`.
    fn load(src: &[f32]) -> Self;
    /// Writes the lanes to the first `LANES` values of `dst`.
    ///
    /// # Panics
    /// If `dst` is shorter than `LANES`.
    fn store(self, dst: &mut [f32]);
    /// `[prev[LANES − 1], cur[0], …, cur[LANES − 2]]`: `cur` moved one lane up, with the last
    /// lane of the group before it moved in — what a lane group one pixel to the right receives
    /// from the pixels on its left.
    fn shift_in(prev: Self, cur: Self) -> Self;
}

/// The portable lane type: 8 lanes as a plain array, vectorized by the compiler.
pub(crate) type Portable = Lanes<8>;

impl Simd for Portable {
    const LANES: usize = 8;

    #[inline(always)]
    fn load(src: &[f32]) -> Self {
        Lanes(src[..8].try_into().expect("8 lanes"))
    }

    #[inline(always)]
    fn store(self, dst: &mut [f32]) {
        dst[..8].copy_from_slice(&self.0);
    }

    #[inline(always)]
    fn shift_in(prev: Self, cur: Self) -> Self {
        Lanes(std::array::from_fn(|i| {
            if i == 0 { prev.0[7] } else { cur.0[i - 1] }
        }))
    }
}

/// Loads `src[start..start + valid]` into the first `valid` lanes; the other lanes are 0.
#[inline(always)]
pub(crate) fn load<L: Simd>(src: &[f32], start: usize, valid: usize) -> L {
    if valid == L::LANES {
        L::load(&src[start..])
    } else {
        let mut a = [0.0; MAX_LANES];
        a[..valid].copy_from_slice(&src[start..start + valid]);
        L::load(&a)
    }
}

/// Stores the first `valid` lanes of `v` to `dst[start..start + valid]`.
#[inline(always)]
pub(crate) fn store<L: Simd>(dst: &mut [f32], start: usize, valid: usize, v: L) {
    if valid == L::LANES {
        v.store(&mut dst[start..]);
    } else {
        let mut a = [0.0; MAX_LANES];
        v.store(&mut a);
        dst[start..start + valid].copy_from_slice(&a[..valid]);
    }
}

/// 1 in the first `valid` lanes, 0 in the others.
#[inline(always)]
pub(crate) fn first_lanes<L: Simd>(valid: usize) -> L {
    let mut a = [0.0; MAX_LANES];
    a[..valid].fill(1.0);
    L::load(&a)
}

/// Loads a lane group of 3-vectors stored as three planes `stride` apart (x at `start`), as
/// [`load`].
#[inline(always)]
pub(crate) fn load3<L: Simd>(src: &[f32], start: usize, stride: usize, valid: usize) -> Vec3s<L> {
    Vec3s {
        x: load(src, start, valid),
        y: load(src, start + stride, valid),
        z: load(src, start + 2 * stride, valid),
    }
}

/// Stores a lane group of 3-vectors to the planes `dst[0..3]` at `start`, as [`store`].
#[inline(always)]
pub(crate) fn store3<L: Simd>(dst: &mut [&mut [f32]], start: usize, valid: usize, v: Vec3s<L>) {
    store(dst[0], start, valid, v.x);
    store(dst[1], start, valid, v.y);
    store(dst[2], start, valid, v.z);
}

/// A sweep over lane groups of pixels, run by [`run`].
pub(crate) trait Sweep {
    /// What the sweep returns.
    type Output;

    /// Runs the sweep on lane type `L`. Implementations are `#[inline(always)]`, so that their
    /// body (with the lane arithmetic it inlines) is compiled inside [`run`]'s
    /// `#[target_feature]` function.
    fn sweep<L: Simd>(self) -> Self::Output;
}

/// Runs `sweep` on [`x86::F32x8`], compiled for AVX-512F/VL (32 registers instead of 16) or
/// AVX2 + FMA if this CPU supports them, and on [`Lanes`] otherwise.
pub(crate) fn run<S: Sweep>(sweep: S) -> S::Output {
    #[cfg(target_arch = "x86_64")]
    {
        let level = pix2scene_scene::isa::level();
        if level == pix2scene_scene::isa::AVX512 {
            #[target_feature(enable = "avx512f,avx512vl,avx2,fma")]
            fn avx512<S: Sweep>(sweep: S) -> S::Output {
                sweep.sweep::<x86::F32x16>()
            }
            // SAFETY: level AVX512: the CPU supports AVX-512F/VL, AVX2 and FMA, so
            // `avx512` and the AVX-512 intrinsics of `F32x16` may run.
            return unsafe { avx512(sweep) };
        }
        if level == pix2scene_scene::isa::AVX2 {
            #[target_feature(enable = "avx2,fma")]
            fn avx2<S: Sweep>(sweep: S) -> S::Output {
                sweep.sweep::<x86::F32x8>()
            }
            // SAFETY: level AVX2: the CPU supports AVX2 and FMA, so `avx2` and the AVX
            // intrinsics of `F32x8` may run.
            return unsafe { avx2(sweep) };
        }
    }
    sweep.sweep::<Portable>()
}

/// Implements the binary operator `$trait::$method` of a lane type of [`x86_lanes`] by the
/// intrinsic `$intrinsic`.
#[cfg(target_arch = "x86_64")]
macro_rules! x86_binary {
    ($name:ident, $trait:ident, $method:ident, $intrinsic:ident) => {
        impl std::ops::$trait for $name {
            type Output = Self;
            #[inline(always)]
            fn $method(self, o: Self) -> Self {
                // SAFETY: the instruction set is available (type invariant of `x86_lanes`).
                Self(unsafe { $intrinsic(self.0, o.0) })
            }
        }
    };
}

/// Defines a lane type over one x86 vector register, its arithmetic by the given intrinsics.
///
/// Invariant of every type it defines: values exist only on CPUs with the instruction set of its
/// intrinsics (named in the type's documentation) — [`run`] is the one place that instantiates a sweep with them, after checking — so
/// every intrinsic runs on a CPU that has it.
#[cfg(target_arch = "x86_64")]
macro_rules! x86_lanes {
    (
        $(#[$doc:meta])* $name:ident($reg:ty), lanes: $lanes:literal,
        add: $add:ident, sub: $sub:ident, mul: $mul:ident, div: $div:ident, sqrt: $sqrt:ident,
        splat: $splat:ident, load: $load:ident, store: $store:ident,
        neg: |$x:ident| $neg:expr,
        where_positive: |$c:ident, $v:ident| $wp:expr,
        shift_in: |$prev:ident, $cur:ident| $shift:expr $(,)?
    ) => {
        $(#[$doc])*
        #[derive(Clone, Copy, Debug)]
        #[repr(transparent)]
        pub(crate) struct $name($reg);

        x86_binary!($name, Add, add, $add);
        x86_binary!($name, Sub, sub, $sub);
        x86_binary!($name, Mul, mul, $mul);
        x86_binary!($name, Div, div, $div);

        impl std::ops::Neg for $name {
            type Output = Self;
            #[inline(always)]
            fn neg(self) -> Self {
                let $x = self.0;
                // SAFETY: the instruction set is available (type invariant).
                Self(unsafe { $neg })
            }
        }

        impl std::ops::AddAssign for $name {
            #[inline(always)]
            fn add_assign(&mut self, o: Self) {
                *self = *self + o;
            }
        }

        impl std::ops::SubAssign for $name {
            #[inline(always)]
            fn sub_assign(&mut self, o: Self) {
                *self = *self - o;
            }
        }

        impl Lane for $name {
            #[inline(always)]
            fn splat(v: f32) -> Self {
                // SAFETY: the instruction set is available (type invariant).
                Self(unsafe { $splat(v) })
            }

            #[inline(always)]
            fn sqrt(self) -> Self {
                // SAFETY: the instruction set is available (type invariant).
                Self(unsafe { $sqrt(self.0) })
            }

            #[inline(always)]
            fn where_positive(cond: Self, v: Self) -> Self {
                let ($c, $v) = (cond.0, v.0);
                // SAFETY: the instruction set is available (type invariant).
                Self(unsafe { $wp })
            }
        }

        impl Simd for $name {
            const LANES: usize = $lanes;

            #[inline(always)]
            fn load(src: &[f32]) -> Self {
                let src: &[f32; $lanes] = src[..$lanes].try_into().expect("a lane group");
                // SAFETY: the instruction set is available (type invariant); `src` holds
                // `LANES` readable `f32`.
                Self(unsafe { $load(src.as_ptr()) })
            }

            #[inline(always)]
            fn store(self, dst: &mut [f32]) {
                let dst: &mut [f32; $lanes] =
                    (&mut dst[..$lanes]).try_into().expect("a lane group");
                // SAFETY: the instruction set is available (type invariant); `dst` holds
                // `LANES` writable `f32`.
                unsafe { $store(dst.as_mut_ptr(), self.0) }
            }

            #[inline(always)]
            fn shift_in(prev: Self, cur: Self) -> Self {
                let ($prev, $cur) = (prev.0, cur.0);
                // SAFETY: the instruction set is available (type invariant).
                Self(unsafe { $shift })
            }
        }
    };
}

#[cfg(target_arch = "x86_64")]
pub(crate) mod x86 {
    //! [`F32x8`] (8 `f32` lanes in one AVX register) and [`F32x16`] (16 in one AVX-512
    //! register).

    use std::arch::x86_64::*;

    use pix2scene_scene::Lane;

    use super::Simd;

    x86_lanes! {
        /// 8 `f32` lanes in one `__m256` register (AVX2 + FMA CPUs only: see `x86_lanes`).
        F32x8(__m256), lanes: 8,
        add: _mm256_add_ps, sub: _mm256_sub_ps, mul: _mm256_mul_ps, div: _mm256_div_ps,
        sqrt: _mm256_sqrt_ps, splat: _mm256_set1_ps, load: _mm256_loadu_ps,
        store: _mm256_storeu_ps,
        neg: |x| _mm256_xor_ps(x, _mm256_set1_ps(-0.0)),
        // The ordered comparison is false for NaN, as `Lane::where_positive` requires.
        where_positive: |c, v| _mm256_and_ps(_mm256_cmp_ps::<_CMP_GT_OQ>(c, _mm256_setzero_ps()), v),
        // `t` = [prev's upper half, cur's lower half]; then, in each 128-bit half, the last
        // lane of `t` followed by the first three of `cur`.
        shift_in: |prev, cur| {
            let t = _mm256_castps_si256(_mm256_permute2f128_ps::<0x21>(prev, cur));
            _mm256_castsi256_ps(_mm256_alignr_epi8::<12>(_mm256_castps_si256(cur), t))
        },
    }

    x86_lanes! {
        /// 16 `f32` lanes in one `__m512` register (AVX-512F CPUs only: see `x86_lanes`).
        F32x16(__m512), lanes: 16,
        add: _mm512_add_ps, sub: _mm512_sub_ps, mul: _mm512_mul_ps, div: _mm512_div_ps,
        sqrt: _mm512_sqrt_ps, splat: _mm512_set1_ps, load: _mm512_loadu_ps,
        store: _mm512_storeu_ps,
        // Flips the sign bit (−0 included, as `-x` does) by an integer xor: AVX-512F alone has
        // no float xor.
        neg: |x| _mm512_castsi512_ps(_mm512_xor_si512(_mm512_castps_si512(x), _mm512_set1_epi32(i32::MIN))),
        // The ordered comparison is false for NaN, as `Lane::where_positive` requires.
        where_positive: |c, v| _mm512_maskz_mov_ps(_mm512_cmp_ps_mask::<_CMP_GT_OQ>(c, _mm512_setzero_ps()), v),
        // Lanes 15..31 of the 32-lane concatenation [prev, cur].
        shift_in: |prev, cur| _mm512_castsi512_ps(_mm512_alignr_epi32::<15>(_mm512_castps_si512(cur), _mm512_castps_si512(prev))),
    }
}
