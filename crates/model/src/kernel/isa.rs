//! Runtime choice of the widest vector instructions for the kernels' plain loops.
//!
//! The workspace compiles for the baseline x86-64 (SSE2), so the compiler vectorizes the copy
//! and elementwise loops of the kernels (im2col, col2im, the stacked copies, LeakyReLU, Adam,
//! the batch norm) four lanes wide at most, and loops whose closures capture a scalar by
//! reference not at all. [`vectorized!`] compiles such a loop also for AVX-512 and for AVX2 +
//! FMA and runs the widest copy this CPU supports ([`pix2scene_scene::isa::level`]), so that
//! the compiler can use 16 (or 8) lanes there. The loops do the same operations on every element
//! in the same order whatever the lane width (no reductions are reordered, no multiply-adds
//! fused: Rust never contracts `a·b + c`), so every instruction set gives the same bits; the
//! tests check it.

/// Defines a function (no generics, returning nothing) whose body is compiled three times —
/// for AVX-512F/VL, for AVX2 + FMA and for the baseline — and runs the widest that
/// [`pix2scene_scene::isa::level`] allows. The body and what it calls with `#[inline(always)]`
/// are inlined into each copy, so that the compiler vectorizes its loops for that instruction
/// set; keep the loops in the body (a rayon task's work, not a `par_iter` chain, whose tasks run
/// elsewhere).
macro_rules! vectorized {
    ($(#[$attr:meta])* $vis:vis fn $name:ident($($arg:ident: $ty:ty),* $(,)?) $body:block) => {
        $(#[$attr])*
        $vis fn $name($($arg: $ty),*) {
            #[inline(always)]
            fn body($($arg: $ty),*) $body
            #[cfg(target_arch = "x86_64")]
            {
                #[target_feature(enable = "avx512f,avx512vl,avx2,fma")]
                fn avx512($($arg: $ty),*) {
                    body($($arg),*)
                }
                #[target_feature(enable = "avx2,fma")]
                fn avx2($($arg: $ty),*) {
                    body($($arg),*)
                }
                match pix2scene_scene::isa::level() {
                    // SAFETY: level AVX512: the CPU supports AVX-512F/VL, AVX2 and FMA.
                    pix2scene_scene::isa::AVX512 => return unsafe { avx512($($arg),*) },
                    // SAFETY: level AVX2: the CPU supports AVX2 and FMA.
                    pix2scene_scene::isa::AVX2 => return unsafe { avx2($($arg),*) },
                    _ => {}
                }
            }
            body($($arg),*)
        }
    };
}
pub(crate) use vectorized;

#[cfg(test)]
mod tests {
    use pix2scene_scene::isa::{AVX512, cap_level, level};

    use crate::kernel::batched::{patches, scatter, stack, unstack};
    use crate::kernel::geometry::Geometry;
    use crate::kernel::leaky::{backward_chunk, forward_chunk, mask_chunk};
    use crate::kernel::norm::{gradient_sums, input_gradient_plane, normalize_plane, plane_sums};

    /// Every [`vectorized!`] kernel's output on every instruction set this CPU has, as bits.
    fn outputs() -> Vec<Vec<u32>> {
        let val = |i: usize, m: f32| ((i as f32 + m) * 0.618_034).sin() * 3.0;
        let mut outs = Vec::new();
        // Odd shapes: rows of 1–13 pixels, strides 1–3, a padding that clips taps on both sides.
        for g in [
            Geometry::of_conv(3, [13, 11], 4, 2, 1),
            Geometry::of_conv(2, [7, 9], 3, 1, 1),
            Geometry::of_conv(5, [16, 16], 5, 3, 2),
            Geometry::of_transpose(4, [3, 5], 4, 2, 1),
        ] {
            let (n, batch) = (6, 3);
            let big: Vec<f32> = (0..batch * g.big_len()).map(|i| val(i, 0.1)).collect();
            let weight: Vec<f32> = (0..n * g.patch_len()).map(|i| val(i, 0.2)).collect();
            let small: Vec<f32> = (0..batch * n * g.small_pixels())
                .map(|i| val(i, 0.3))
                .collect();
            let offset: Vec<f32> = (0..n).map(|i| val(i, 0.4)).collect();
            let bias: Vec<f32> = (0..g.channels).map(|i| val(i, 0.5)).collect();
            let stacked = stack(&small, n, g.small_pixels());
            outs.push(patches(&g, &big));
            outs.push(scatter(&g, &stacked, &weight, n, Some(&bias)));
            outs.push(unstack(&stacked, n, g.small_pixels(), Some(&offset)));
            outs.push(stacked);
        }
        let x: Vec<f32> = (0..1000).map(|i| val(i, 0.6)).collect();
        let g: Vec<f32> = (0..1000).map(|i| val(i, 0.7)).collect();
        for kernel in [forward_chunk, backward_chunk, mask_chunk] {
            let mut out = vec![std::mem::MaybeUninit::new(f32::NAN); x.len()];
            kernel(&mut out, &x, &g, 0.2);
            // SAFETY: the kernels write every entry (and it was initialized to NaN anyway).
            outs.push(out.iter().map(|v| unsafe { v.assume_init() }).collect());
        }
        // The normalization's sums (f64, 35-pixel planes: 4 lanes of 8 and a tail) and planes.
        let (plane, planes) = (35, 6);
        let xs = &x[..plane * planes];
        let gs = &g[..plane * planes];
        let centre: Vec<f64> = (0..planes).map(|i| f64::from(val(i, 0.8))).collect();
        let mut sums = Vec::new();
        for square in [false, true] {
            let mut out = vec![0.0f64; planes];
            plane_sums(xs, plane, &centre, square, &mut out);
            sums.extend(out);
        }
        let mut pairs = vec![0.0f64; 2 * planes];
        gradient_sums(xs, gs, plane, 4, 1, (&centre, &centre), &mut pairs);
        sums.extend(pairs);
        let mut planes_out = Vec::new();
        let mut out = vec![std::mem::MaybeUninit::new(f32::NAN); plane];
        normalize_plane(&xs[..plane], &mut out, 0.3, 1.7, 0.9, -0.2);
        // SAFETY: written whole (and initialized to NaN before).
        planes_out.extend(out.iter().map(|v| unsafe { v.assume_init() }));
        input_gradient_plane(
            &xs[..plane],
            &gs[..plane],
            &mut out,
            [0.3, 1.7, 0.9, 0.05, -0.4],
        );
        // SAFETY: as above.
        planes_out.extend(out.iter().map(|v| unsafe { v.assume_init() }));
        outs.push(planes_out);
        let mut bits: Vec<Vec<u32>> = outs
            .into_iter()
            .map(|v| v.iter().map(|f| f.to_bits()).collect())
            .collect();
        bits.push(
            sums.iter()
                .flat_map(|v| {
                    let b = v.to_bits();
                    [b as u32, (b >> 32) as u32]
                })
                .collect(),
        );
        bits
    }

    /// The AVX-512, AVX2 and baseline copies of the kernels give the same bits (on the
    /// instruction sets this CPU has; the baseline always runs).
    #[test]
    fn every_instruction_set_gives_the_same_bits() {
        let widest = level();
        let runs: Vec<(u8, Vec<Vec<u32>>)> = (0..=widest)
            .rev()
            .map(|isa| {
                cap_level(isa);
                assert_eq!(level(), isa);
                let out = outputs();
                (isa, out)
            })
            .collect();
        cap_level(AVX512);
        let (_, first) = &runs[0];
        for (isa, out) in &runs[1..] {
            assert_eq!(out, first, "instruction set {isa} against {widest}");
        }
    }
}
