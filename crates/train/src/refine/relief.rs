//! The refinement's multi-scale parametrization of a log-depth correction on host slices: a
//! sum of bilinearly upsampled maps at `R, R/2, …, 4` pixels, less its mean, and the adjoint
//! that pulls a gradient back to the maps.

/// One axis of a bilinear upsampling from `from` to `to` samples (half-pixel centres, edges
/// clamped: burn's `interpolate` with `align_corners = false`): per output sample, the lower
/// input index, the upper one and the upper one's weight.
#[derive(Clone, Debug)]
struct Axis {
    from: usize,
    taps: Vec<(usize, usize, f32)>,
}

impl Axis {
    fn new(from: usize, to: usize) -> Self {
        let ratio = from as f64 / to as f64;
        let taps = (0..to)
            .map(|o| {
                let x = (o as f64 + 0.5) * ratio - 0.5;
                let low = x.floor().max(0.0) as usize;
                let high = (low + 1).min(from - 1);
                (low, high, (x - low as f64).max(0.0) as f32)
            })
            .collect();
        Self { from, taps }
    }
}

/// `s = m₀ + Σ_l up(m_l) − mean(…)` over the levels `R, R/2, …, 4` of an `R`² map (level 0 is
/// the full-resolution map itself).
#[derive(Clone, Debug)]
pub(crate) struct Relief {
    size: usize,
    /// Upsampling of each coarse level (1, 2, …), the same along rows and columns.
    axes: Vec<Axis>,
}

impl Relief {
    /// The levels of an `size`² map: `size`, `size/2`, … down to 4 pixels.
    ///
    /// # Panics
    /// If `size` is not `4·2^L`.
    pub fn new(size: usize) -> Self {
        assert!(
            size >= 4 && size.is_power_of_two(),
            "refinement needs R = 4·2^L pixels, got {size}"
        );
        let axes = (1..)
            .map(|l| size >> l)
            .take_while(|&s| s >= 4)
            .map(|s| Axis::new(s, size))
            .collect();
        Self { size, axes }
    }

    /// The side of each level's map, finest first.
    pub fn level_sizes(&self) -> Vec<usize> {
        std::iter::once(self.size)
            .chain(self.axes.iter().map(|a| a.from))
            .collect()
    }

    /// Writes `s` (see [`Relief`]) into `out`.
    ///
    /// # Shapes
    /// - `maps[l]`: `[R/2^l, R/2^l]`
    /// - `out`: `[R, R]`
    pub fn compose(&self, maps: &[Vec<f32>], out: &mut [f32]) {
        let r = self.size;
        out.copy_from_slice(&maps[0]);
        let mut rows = vec![0.0f32; r * r];
        for (axis, m) in self.axes.iter().zip(&maps[1..]) {
            let s = axis.from;
            // Along each row of the coarse map, then along the columns.
            for i in 0..s {
                let src = &m[i * s..(i + 1) * s];
                for (x, &(lo, hi, wt)) in axis.taps.iter().enumerate() {
                    rows[i * r + x] = src[lo] * (1.0 - wt) + src[hi] * wt;
                }
            }
            for (y, &(lo, hi, wt)) in axis.taps.iter().enumerate() {
                let (a, b) = (&rows[lo * r..(lo + 1) * r], &rows[hi * r..(hi + 1) * r]);
                for ((o, p), q) in out[y * r..(y + 1) * r].iter_mut().zip(a).zip(b) {
                    *o += p * (1.0 - wt) + q * wt;
                }
            }
        }
        subtract_mean(out);
    }

    /// The gradient of a loss with respect to each level's map, given its gradient `grad` with
    /// respect to [`Self::compose`]'s output (overwrites `grads`).
    ///
    /// # Shapes
    /// - `grad`: `[R, R]`
    /// - `grads[l]`: `[R/2^l, R/2^l]`
    pub fn adjoint(&self, grad: &[f32], grads: &mut [Vec<f32>]) {
        let r = self.size;
        let (fine, coarse) = grads.split_at_mut(1);
        let g = &mut fine[0];
        g.copy_from_slice(grad);
        subtract_mean(g);
        let mut rows = vec![0.0f32; r * r];
        for (axis, gm) in self.axes.iter().zip(coarse) {
            let s = axis.from;
            rows[..s * r].fill(0.0);
            for (y, &(lo, hi, wt)) in axis.taps.iter().enumerate() {
                for (x, gy) in g[y * r..(y + 1) * r].iter().enumerate() {
                    rows[lo * r + x] += gy * (1.0 - wt);
                    rows[hi * r + x] += gy * wt;
                }
            }
            gm.fill(0.0);
            for i in 0..s {
                let dst = &mut gm[i * s..(i + 1) * s];
                for (x, &(lo, hi, wt)) in axis.taps.iter().enumerate() {
                    let v = rows[i * r + x];
                    dst[lo] += v * (1.0 - wt);
                    dst[hi] += v * wt;
                }
            }
        }
    }
}

/// Subtracts the mean of `v` from every element.
fn subtract_mean(v: &mut [f32]) {
    let mean = v.iter().sum::<f32>() / v.len() as f32;
    v.iter_mut().for_each(|x| *x -= mean);
}

#[cfg(test)]
mod tests {
    use super::*;
    use burn::tensor::module::interpolate;
    use burn::tensor::ops::{InterpolateMode, InterpolateOptions};
    use burn::tensor::{Tensor, TensorData};

    const R: usize = 16;

    fn maps(relief: &Relief, seed: usize) -> Vec<Vec<f32>> {
        relief
            .level_sizes()
            .iter()
            .enumerate()
            .map(|(l, &s)| {
                (0..s * s)
                    .map(|i| (0.37 * (i + 13 * l + seed) as f32).sin() * 0.1)
                    .collect()
            })
            .collect()
    }

    /// `compose` through burn's bilinear `interpolate` on an autodiff device, with the
    /// gradient of `Σ w ⊙ s` with respect to each level.
    fn burn_compose(maps: &[Vec<f32>], w: &[f32]) -> (Vec<f32>, Vec<Vec<f32>>) {
        let device = crate::TrainDevice::Cpu.autodiff_device();
        let params: Vec<Tensor<4>> = maps
            .iter()
            .map(|m| {
                let s = (m.len() as f64).sqrt() as usize;
                Tensor::from_data(TensorData::new(m.clone(), [1, 1, s, s]), &device).require_grad()
            })
            .collect();
        let up = InterpolateOptions::new(InterpolateMode::Bilinear)
            .with_align_corners(false)
            .with_output_size([R, R]);
        let mut s = params[0].clone();
        for p in &params[1..] {
            s = s + interpolate(p.clone(), up.clone());
        }
        let s = s.clone() - s.mean_dim(2).mean_dim(3);
        let weights = Tensor::<4>::from_data(TensorData::new(w.to_vec(), [1, 1, R, R]), &device);
        let grads = (s.clone() * weights).sum().backward();
        let value = s.into_data().try_to_vec().unwrap();
        let g = params
            .iter()
            .map(|p| p.grad(&grads).unwrap().into_data().try_to_vec().unwrap())
            .collect();
        (value, g)
    }

    #[test]
    fn compose_and_adjoint_match_burn_interpolate_and_autodiff() {
        let relief = Relief::new(R);
        assert_eq!(relief.level_sizes(), vec![16, 8, 4]);
        let m = maps(&relief, 0);
        let w: Vec<f32> = (0..R * R).map(|i| (0.91 * i as f32).cos()).collect();
        let (want, want_grads) = burn_compose(&m, &w);
        let mut got = vec![0.0; R * R];
        relief.compose(&m, &mut got);
        for (i, (a, b)) in got.iter().zip(&want).enumerate() {
            assert!((a - b).abs() < 1e-6, "s[{i}]: {a} vs burn {b}");
        }
        let mut grads = maps(&relief, 1);
        relief.adjoint(&w, &mut grads);
        for (l, (g, want)) in grads.iter().zip(&want_grads).enumerate() {
            for (i, (a, b)) in g.iter().zip(want).enumerate() {
                assert!(
                    (a - b).abs() < 1e-5,
                    "level {l} gradient[{i}]: {a} vs burn {b}"
                );
            }
        }
    }
}
