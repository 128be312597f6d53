//! The lane width of the kernel's sweeps, the lane types they run on, lane loads and stores,
//! and the run-time choice of instruction set.
//!
//! The sweeps process [`LANES`] consecutive pixels of a row at once (structure of arrays),
//! written once against [`Simd`]. [`run`] runs a [`Sweep`] on [`avx::F32x8`] — one AVX register
//! per value, arithmetic by explicit intrinsics — when the CPU has AVX2 and FMA (checked at run
//! time, so the binary stays portable), and on the portable [`Lanes`] otherwise. Explicit
//! registers matter: with `Lanes` (plain `[f32; 8]` loops left to the auto-vectorizer) LLVM
//! vectorizes parts of the plane fit's backward pass across the 8 neighbours instead of across
//! the pixels, and runs the rest one lane at a time with gathers and stack traffic — 3–4× slower.

use pix2scene_scene::{Lane, Lanes, Vec3s};

/// Pixels per lane group: one AVX register of `f32`.
pub(crate) const LANES: usize = 8;

/// A lane type of [`LANES`] pixels: [`Lane`] arithmetic plus loads and stores.
pub(crate) trait Simd: Lane {
    /// The `LANES` values of `src`.
    fn load(src: &[f32; LANES]) -> Self;
    /// Writes the lanes to `dst`.
    fn store(self, dst: &mut [f32; LANES]);
}

impl Simd for Lanes<LANES> {
    #[inline(always)]
    fn load(src: &[f32; LANES]) -> Self {
        Lanes(*src)
    }

    #[inline(always)]
    fn store(self, dst: &mut [f32; LANES]) {
        *dst = self.0;
    }
}

/// The `LANES` values at `src[start..]`.
#[inline(always)]
pub(crate) fn lanes_at(src: &[f32], start: usize) -> &[f32; LANES] {
    src[start..start + LANES]
        .try_into()
        .expect("slice of LANES")
}

/// The `LANES` values at `dst[start..]`, mutably.
#[inline(always)]
pub(crate) fn lanes_at_mut(dst: &mut [f32], start: usize) -> &mut [f32; LANES] {
    (&mut dst[start..start + LANES])
        .try_into()
        .expect("slice of LANES")
}

/// Loads `src[start..start + valid]` into the first `valid` lanes; the other lanes are 0.
#[inline(always)]
pub(crate) fn load<L: Simd>(src: &[f32], start: usize, valid: usize) -> L {
    if valid == LANES {
        L::load(lanes_at(src, start))
    } else {
        let mut a = [0.0; LANES];
        a[..valid].copy_from_slice(&src[start..start + valid]);
        L::load(&a)
    }
}

/// Stores the first `valid` lanes of `v` to `dst[start..start + valid]`.
#[inline(always)]
pub(crate) fn store<L: Simd>(dst: &mut [f32], start: usize, valid: usize, v: L) {
    if valid == LANES {
        v.store(lanes_at_mut(dst, start));
    } else {
        let mut a = [0.0; LANES];
        v.store(&mut a);
        dst[start..start + valid].copy_from_slice(&a[..valid]);
    }
}

/// 1 in the first `valid` lanes, 0 in the others.
#[inline(always)]
pub(crate) fn first_lanes<L: Simd>(valid: usize) -> L {
    let mut a = [0.0; LANES];
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
    /// Runs the sweep on lane type `L`. Implementations are `#[inline(always)]`, so that their
    /// body (with the lane arithmetic it inlines) is compiled inside [`run`]'s
    /// `#[target_feature]` function.
    fn sweep<L: Simd>(self);
}

/// Runs `sweep` on [`avx::F32x8`], compiled for AVX-512F/VL (32 registers instead of 16) or
/// AVX2 + FMA if this CPU supports them, and on [`Lanes`] otherwise.
pub(crate) fn run(sweep: impl Sweep) {
    #[cfg(target_arch = "x86_64")]
    if !portable_forced() {
        let avx2 = is_x86_feature_detected!("avx2") && is_x86_feature_detected!("fma");
        if avx2 && is_x86_feature_detected!("avx512f") && is_x86_feature_detected!("avx512vl") {
            #[target_feature(enable = "avx512f,avx512vl,avx2,fma")]
            fn avx512(sweep: impl Sweep) {
                sweep.sweep::<avx::F32x8>();
            }
            // SAFETY: the CPU supports AVX-512F/VL, AVX2 and FMA (checked just above), so
            // `avx512` and the AVX intrinsics of `F32x8` may run.
            unsafe { avx512(sweep) };
            return;
        }
        if avx2 {
            #[target_feature(enable = "avx2,fma")]
            fn avx2(sweep: impl Sweep) {
                sweep.sweep::<avx::F32x8>();
            }
            // SAFETY: the CPU supports AVX2 and FMA (checked just above), so `avx2` and the AVX
            // intrinsics of `F32x8` may run.
            unsafe { avx2(sweep) };
            return;
        }
    }
    sweep.sweep::<Lanes<LANES>>();
}

/// Tests set this to make [`run`] take the portable path, to check it against the AVX one.
#[cfg(test)]
pub(crate) static FORCE_PORTABLE: std::sync::atomic::AtomicBool =
    std::sync::atomic::AtomicBool::new(false);

#[cfg(all(test, target_arch = "x86_64"))]
fn portable_forced() -> bool {
    FORCE_PORTABLE.load(std::sync::atomic::Ordering::Relaxed)
}

#[cfg(all(not(test), target_arch = "x86_64"))]
#[inline(always)]
fn portable_forced() -> bool {
    false
}

#[cfg(target_arch = "x86_64")]
pub(crate) mod avx {
    //! [`F32x8`]: 8 `f32` lanes in one AVX register.

    use std::arch::x86_64::*;
    use std::ops::{Add, AddAssign, Div, Mul, Neg, Sub, SubAssign};

    use pix2scene_scene::Lane;

    use super::{LANES, Simd};

    /// 8 `f32` lanes in one `__m256` register, with arithmetic by AVX intrinsics.
    ///
    /// Invariant: values of this type exist only on CPUs with AVX2 and FMA — [`super::run`]
    /// is the one place that instantiates a sweep with it, after checking — so every intrinsic
    /// below runs on a CPU that has it.
    #[derive(Clone, Copy, Debug)]
    #[repr(transparent)]
    pub(crate) struct F32x8(__m256);

    macro_rules! binary {
        ($trait:ident, $method:ident, $intrinsic:ident) => {
            impl $trait for F32x8 {
                type Output = Self;
                #[inline(always)]
                fn $method(self, o: Self) -> Self {
                    // SAFETY: AVX is available (type invariant).
                    Self(unsafe { $intrinsic(self.0, o.0) })
                }
            }
        };
    }
    binary!(Add, add, _mm256_add_ps);
    binary!(Sub, sub, _mm256_sub_ps);
    binary!(Mul, mul, _mm256_mul_ps);
    binary!(Div, div, _mm256_div_ps);

    impl Neg for F32x8 {
        type Output = Self;
        #[inline(always)]
        fn neg(self) -> Self {
            // SAFETY: AVX is available (type invariant).
            Self(unsafe { _mm256_xor_ps(self.0, _mm256_set1_ps(-0.0)) })
        }
    }

    impl AddAssign for F32x8 {
        #[inline(always)]
        fn add_assign(&mut self, o: Self) {
            *self = *self + o;
        }
    }

    impl SubAssign for F32x8 {
        #[inline(always)]
        fn sub_assign(&mut self, o: Self) {
            *self = *self - o;
        }
    }

    impl Lane for F32x8 {
        #[inline(always)]
        fn splat(v: f32) -> Self {
            // SAFETY: AVX is available (type invariant).
            Self(unsafe { _mm256_set1_ps(v) })
        }

        #[inline(always)]
        fn sqrt(self) -> Self {
            // SAFETY: AVX is available (type invariant).
            Self(unsafe { _mm256_sqrt_ps(self.0) })
        }

        #[inline(always)]
        fn where_positive(cond: Self, v: Self) -> Self {
            // SAFETY: AVX is available (type invariant). The ordered comparison is false for
            // NaN, as `Lane::where_positive` requires.
            Self(unsafe {
                let keep = _mm256_cmp_ps::<_CMP_GT_OQ>(cond.0, _mm256_setzero_ps());
                _mm256_and_ps(keep, v.0)
            })
        }
    }

    impl Simd for F32x8 {
        #[inline(always)]
        fn load(src: &[f32; LANES]) -> Self {
            // SAFETY: AVX is available (type invariant); `src` holds 8 readable `f32`.
            Self(unsafe { _mm256_loadu_ps(src.as_ptr()) })
        }

        #[inline(always)]
        fn store(self, dst: &mut [f32; LANES]) {
            // SAFETY: AVX is available (type invariant); `dst` holds 8 writable `f32`.
            unsafe { _mm256_storeu_ps(dst.as_mut_ptr(), self.0) }
        }
    }
}
