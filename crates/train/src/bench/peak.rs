//! This CPU's peak single-precision FLOP/s: a loop of independent fused multiply-adds on the
//! widest vector registers the CPU has (AVX-512, else AVX2 + FMA, else scalar), on one thread and
//! on several at once.
//!
//! The loop keeps 24 accumulators, enough to cover the FMA latency on two FMA ports (latency 4,
//! two issued per cycle: 8 in flight), with operands in registers only, so that it measures the
//! arithmetic units and nothing else. It is the ceiling against which the networks' achieved
//! FLOP/s are read ([`super::Breakdown`]).

use std::time::Instant;

use serde::Serialize;

/// Independent accumulators in the loop.
const ACCUMULATORS: usize = 24;

/// Loop trips per timed run (about 0.05 s at 150 GFLOP/s on AVX-512).
const TRIPS: u64 = 400_000;

/// The measured peak, printed by `pix2scene bench peak --json`.
#[derive(Clone, Debug, Serialize)]
pub struct Peak {
    /// The vector unit used: `"avx512"`, `"avx2+fma"` or `"scalar"`.
    pub isa: &'static str,
    /// Single-precision lanes per register.
    pub lanes: usize,
    /// Threads of the multi-thread figure.
    pub threads: usize,
    /// Peak GFLOP/s of one thread (best of the repetitions).
    pub gflops_1_thread: f64,
    /// Peak GFLOP/s of `threads` threads running the loop at once (best of the repetitions).
    pub gflops_all_threads: f64,
}

/// The vector unit the loop runs on.
#[derive(Clone, Copy, Debug)]
enum Isa {
    Avx512,
    Avx2,
    Scalar,
}

impl Isa {
    fn detect() -> Self {
        #[cfg(target_arch = "x86_64")]
        {
            if is_x86_feature_detected!("avx512f") {
                return Self::Avx512;
            }
            if is_x86_feature_detected!("avx2") && is_x86_feature_detected!("fma") {
                return Self::Avx2;
            }
        }
        Self::Scalar
    }

    fn name(self) -> &'static str {
        match self {
            Self::Avx512 => "avx512",
            Self::Avx2 => "avx2+fma",
            Self::Scalar => "scalar",
        }
    }

    fn lanes(self) -> usize {
        match self {
            Self::Avx512 => 16,
            Self::Avx2 => 8,
            Self::Scalar => 1,
        }
    }

    /// Runs `trips` trips of the loop (`ACCUMULATORS · lanes · 2` FLOP each); returns a value
    /// that depends on every accumulator, so that nothing is optimized away.
    fn run(self, trips: u64) -> f32 {
        match self {
            // SAFETY: `detect` saw the features these functions are compiled for.
            #[cfg(target_arch = "x86_64")]
            Self::Avx512 => unsafe { x86::fma_avx512(trips) },
            // SAFETY: as above.
            #[cfg(target_arch = "x86_64")]
            Self::Avx2 => unsafe { x86::fma_avx2(trips) },
            _ => fma_scalar(trips),
        }
    }
}

/// The scalar loop (`f32::mul_add`).
fn fma_scalar(trips: u64) -> f32 {
    let (a, b) = (
        std::hint::black_box(0.999_f32),
        std::hint::black_box(1e-3_f32),
    );
    let mut acc = [0.0f32; ACCUMULATORS];
    for _ in 0..trips {
        for r in &mut acc {
            *r = r.mul_add(a, b);
        }
    }
    acc.iter().sum()
}

#[cfg(target_arch = "x86_64")]
mod x86 {
    use std::arch::x86_64::*;

    use super::ACCUMULATORS;

    /// The loop on 16-lane AVX-512 registers.
    ///
    /// # Safety
    /// The CPU must have AVX-512F.
    #[target_feature(enable = "avx512f")]
    pub(super) unsafe fn fma_avx512(trips: u64) -> f32 {
        let a = _mm512_set1_ps(std::hint::black_box(0.999));
        let b = _mm512_set1_ps(std::hint::black_box(1e-3));
        let mut acc = [_mm512_setzero_ps(); ACCUMULATORS];
        for _ in 0..trips {
            for r in &mut acc {
                *r = _mm512_fmadd_ps(*r, a, b);
            }
        }
        let sum = acc
            .iter()
            .fold(_mm512_setzero_ps(), |s, r| _mm512_add_ps(s, *r));
        _mm512_reduce_add_ps(sum)
    }

    /// The loop on 8-lane AVX registers.
    ///
    /// # Safety
    /// The CPU must have AVX2 and FMA.
    #[target_feature(enable = "avx2,fma")]
    pub(super) unsafe fn fma_avx2(trips: u64) -> f32 {
        let a = _mm256_set1_ps(std::hint::black_box(0.999));
        let b = _mm256_set1_ps(std::hint::black_box(1e-3));
        let mut acc = [_mm256_setzero_ps(); ACCUMULATORS];
        for _ in 0..trips {
            for r in &mut acc {
                *r = _mm256_fmadd_ps(*r, a, b);
            }
        }
        let sum = acc
            .iter()
            .fold(_mm256_setzero_ps(), |s, r| _mm256_add_ps(s, *r));
        let mut lanes = [0.0f32; 8];
        // SAFETY: `lanes` holds the 8 values the store writes.
        unsafe { _mm256_storeu_ps(lanes.as_mut_ptr(), sum) };
        lanes.iter().sum()
    }
}

/// GFLOP/s of `threads` threads each running the loop once at the same time: all their FLOP
/// over the wall-clock time until the last one is done.
fn gflops(isa: Isa, threads: usize) -> f64 {
    let start = Instant::now();
    std::thread::scope(|s| {
        for _ in 0..threads {
            s.spawn(|| std::hint::black_box(isa.run(std::hint::black_box(TRIPS))));
        }
    });
    let seconds = start.elapsed().as_secs_f64();
    let flop = (TRIPS as usize * ACCUMULATORS * isa.lanes() * 2 * threads) as f64;
    flop / seconds * 1e-9
}

/// Measures the peak of one thread and of `threads` threads, the best of `reps` runs each (a
/// peak is a best case: other processes only ever lower it).
///
/// # Panics
/// If `threads` or `reps` is 0.
pub fn measure_peak(threads: usize, reps: usize) -> Peak {
    assert!(
        threads > 0 && reps > 0,
        "peak: threads and reps must be positive"
    );
    let isa = Isa::detect();
    let best = |n: usize| (0..reps).map(|_| gflops(isa, n)).fold(0.0, f64::max);
    Peak {
        isa: isa.name(),
        lanes: isa.lanes(),
        threads,
        gflops_1_thread: best(1),
        gflops_all_threads: best(threads),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The vector loop computes what the scalar loop computes (same recurrence per lane), so
    /// the figure counts real work: every lane of every accumulator runs
    /// `r ← r·a + b` from 0, the sum of `ACCUMULATORS · lanes` equal values.
    #[test]
    fn every_loop_computes_the_same_recurrence() {
        let trips = 50;
        let one = fma_scalar(trips) / ACCUMULATORS as f32;
        let mut expected = 0.0f32;
        for _ in 0..trips {
            expected = expected.mul_add(0.999, 1e-3);
        }
        assert!((one - expected).abs() < 1e-6, "{one} vs {expected}");
        let isa = Isa::detect();
        let per_lane = isa.run(trips) / (ACCUMULATORS * isa.lanes()) as f32;
        assert!((per_lane - expected).abs() < 1e-5, "{isa:?}: {per_lane}");
    }
}
