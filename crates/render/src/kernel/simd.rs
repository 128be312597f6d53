//! The lane width of the kernel's sweeps, lane loads and stores, and the run-time choice of
//! instruction set.
//!
//! The sweeps process [`LANES`] consecutive pixels of a row at once as [`Px`] (structure of
//! arrays); the element-wise loops of [`pix2scene_scene::Lanes`] are vectorized by the
//! compiler. [`run`] runs a [`Sweep`] compiled for AVX-512 (F + VL: the same 8-lane
//! arithmetic with 32 vector registers instead of 16, so the plane fit's state spills less) or
//! AVX2 + FMA when the CPU has them (checked at run time, so the binary stays portable), and the
//! portable build otherwise.

use pix2scene_scene::{Lanes, Vec3s};

/// Pixels per lane group: one AVX2 register of `f32`.
pub(crate) const LANES: usize = 8;

/// [`LANES`] values, one per pixel of a lane group.
pub(crate) type Px = Lanes<LANES>;

/// Loads `src[start..start + valid]` into the first `valid` lanes; the other lanes are 0.
#[inline(always)]
pub(crate) fn load(src: &[f32], start: usize, valid: usize) -> Px {
    if valid == LANES {
        Lanes(
            src[start..start + LANES]
                .try_into()
                .expect("slice of LANES"),
        )
    } else {
        let mut a = [0.0; LANES];
        a[..valid].copy_from_slice(&src[start..start + valid]);
        Lanes(a)
    }
}

/// Stores the first `valid` lanes of `v` to `dst[start..start + valid]`.
#[inline(always)]
pub(crate) fn store(dst: &mut [f32], start: usize, valid: usize, v: Px) {
    dst[start..start + valid].copy_from_slice(&v.0[..valid]);
}

/// Loads a lane group of 3-vectors stored as three planes `stride` apart (x at `start`), as
/// [`load`].
#[inline(always)]
pub(crate) fn load3(src: &[f32], start: usize, stride: usize, valid: usize) -> Vec3s<Px> {
    Vec3s {
        x: load(src, start, valid),
        y: load(src, start + stride, valid),
        z: load(src, start + 2 * stride, valid),
    }
}

/// Stores a lane group of 3-vectors to the planes `dst[0..3]` at `start`, as [`store`].
#[inline(always)]
pub(crate) fn store3(dst: &mut [&mut [f32]], start: usize, valid: usize, v: Vec3s<Px>) {
    store(dst[0], start, valid, v.x);
    store(dst[1], start, valid, v.y);
    store(dst[2], start, valid, v.z);
}

/// A sweep over lane groups of pixels, run by [`run`].
pub(crate) trait Sweep {
    /// Runs the sweep. Implementations are `#[inline(always)]`, so that their body (with the
    /// lane arithmetic it inlines) is compiled inside [`run`]'s `#[target_feature]` function.
    fn sweep(self);
}

/// Runs `sweep`, compiled for AVX-512F/VL or AVX2 + FMA if this CPU supports them.
pub(crate) fn run(sweep: impl Sweep) {
    #[cfg(target_arch = "x86_64")]
    if is_x86_feature_detected!("avx512f")
        && is_x86_feature_detected!("avx512vl")
        && is_x86_feature_detected!("avx2")
        && is_x86_feature_detected!("fma")
    {
        #[target_feature(enable = "avx512f,avx512vl,avx2,fma")]
        fn avx512(sweep: impl Sweep) {
            sweep.sweep();
        }
        // SAFETY: the CPU supports AVX-512F/VL, AVX2 and FMA (checked just above).
        unsafe { avx512(sweep) };
        return;
    }
    #[cfg(target_arch = "x86_64")]
    if is_x86_feature_detected!("avx2") && is_x86_feature_detected!("fma") {
        #[target_feature(enable = "avx2,fma")]
        fn avx2(sweep: impl Sweep) {
            sweep.sweep();
        }
        // SAFETY: the CPU supports AVX2 and FMA (checked just above).
        unsafe { avx2(sweep) };
        return;
    }
    sweep.sweep();
}
