//! Which vector instruction set the CPU kernels of the other crates may use (the fused renderer
//! of `pix2scene-render`, the convolution and elementwise kernels of `pix2scene-model`): the
//! widest this CPU offers, at most a cap that tests lower to compare every level's kernels on
//! one machine. The kernels give the same results on every level; only their speed differs.

use std::sync::atomic::{AtomicU8, Ordering};

/// No vector extension beyond the compile target's (SSE2 on x86-64; any other architecture).
pub const BASELINE: u8 = 0;
/// AVX2 with FMA: 8 `f32` lanes.
pub const AVX2: u8 = 1;
/// AVX-512F and AVX-512VL (with AVX2 and FMA): 16 `f32` lanes, 32 vector registers.
pub const AVX512: u8 = 2;

/// The cap on [`level`].
static MAX_LEVEL: AtomicU8 = AtomicU8::new(AVX512);

/// The widest of [`AVX512`], [`AVX2`] and [`BASELINE`] that this CPU supports and the cap
/// ([`cap_level`]) allows. Cheap: the standard library caches the CPU's features.
#[inline]
pub fn level() -> u8 {
    let cap = MAX_LEVEL.load(Ordering::Relaxed);
    #[cfg(target_arch = "x86_64")]
    {
        let avx2 =
            cap >= AVX2 && is_x86_feature_detected!("avx2") && is_x86_feature_detected!("fma");
        if avx2
            && cap >= AVX512
            && is_x86_feature_detected!("avx512f")
            && is_x86_feature_detected!("avx512vl")
        {
            return AVX512;
        }
        if avx2 {
            return AVX2;
        }
    }
    let _ = cap;
    BASELINE
}

/// Caps [`level`] at `max` for the whole process, so that tests can run each level's kernels on
/// one machine and compare them ([`AVX512`] lifts the cap).
pub fn cap_level(max: u8) {
    MAX_LEVEL.store(max, Ordering::Relaxed);
}
