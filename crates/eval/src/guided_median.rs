//! Colour-guided weighted median: a predicted depth map's edges moved onto the input image's
//! colour edges (the `guided` step of `eval --post` and `reconstruct --post`).
//!
//! A network regressing depth draws a box's outline a pixel or two off and rounds its faces
//! into the wall behind; the image it was given shows the outline exactly, as a change of
//! colour. Each pixel's depth becomes the weighted median of the depths in a square window
//! around it, a neighbour weighing `exp(−|c_p − c_q|² / 2σ²)` by how close its colour `c_q` is
//! to the pixel's own `c_p`: depths from the pixel's own surface outvote those across a colour
//! edge, so ramps straddling an outline become steps on the image's edge, and a median (unlike
//! a mean) keeps steps sharp. A fixed filter on the single predicted map guided by its input
//! image (no learning, no other image), reported as its own row; run after [`EdgeSnap`] where
//! both are asked for.
//!
//! [`EdgeSnap`]: crate::EdgeSnap

use crate::error::{Error, Result};

/// The filter's two parameters. The default (an 11 × 11 window, σ = 0.05 in linear colour)
/// was chosen on validation scenes of the four families, after edge snapping
/// (docs/results.md, "Colour-guided median").
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct GuidedMedian {
    radius: usize,
    sigma: f32,
}

impl Default for GuidedMedian {
    fn default() -> Self {
        Self {
            radius: 5,
            sigma: 0.05,
        }
    }
}

impl GuidedMedian {
    /// A window of `2·radius + 1` pixels a side (`radius` ≥ 1) and colour scale `sigma` (> 0,
    /// in the image's linear colour units).
    ///
    /// # Errors
    /// [`Error::InvalidValue`] for a radius of 0 or a scale that is not positive.
    pub fn new(radius: usize, sigma: f32) -> Result<Self> {
        if radius == 0 {
            return Err(Error::InvalidValue {
                field: "guided-median radius".into(),
                message: "0 pixels: must be at least 1".into(),
            });
        }
        if !(sigma > 0.0 && sigma.is_finite()) {
            return Err(Error::InvalidValue {
                field: "guided-median colour scale".into(),
                message: format!("{sigma}: must be positive"),
            });
        }
        Ok(Self { radius, sigma })
    }

    /// Window radius, pixels.
    pub fn radius(&self) -> usize {
        self.radius
    }

    /// Colour scale σ.
    pub fn sigma(&self) -> f32 {
        self.sigma
    }

    /// Filters one `[R, R]` depth map (row-major, ray depth) guided by its `[R, R, 3]` image:
    /// each pixel takes the lower weighted median of the depths in the window centred on it
    /// (cut at the image border) — the least depth at which the weights of the depths at or
    /// below it reach half the window's total weight. Each output pixel depends on the input
    /// only, not on other pixels' filtered values.
    ///
    /// # Panics
    /// If `depth.len() != size²` or `image.len() != 3·size²`.
    pub fn apply(&self, depth: &[f32], image: &[f32], size: usize) -> Vec<f32> {
        assert_eq!(depth.len(), size * size, "a depth map of {size}×{size}");
        assert_eq!(image.len(), 3 * size * size, "an image of {size}×{size}×3");
        let scale = -0.5 / (self.sigma * self.sigma);
        let mut window: Vec<(f32, f32)> = Vec::with_capacity((2 * self.radius + 1).pow(2));
        let mut out = Vec::with_capacity(depth.len());
        for y in 0..size {
            let rows = y.saturating_sub(self.radius)..(y + self.radius + 1).min(size);
            for x in 0..size {
                let cols = x.saturating_sub(self.radius)..(x + self.radius + 1).min(size);
                let p = &image[3 * (y * size + x)..3 * (y * size + x) + 3];
                window.clear();
                for row in rows.clone() {
                    for q in row * size + cols.start..row * size + cols.end {
                        let c = &image[3 * q..3 * q + 3];
                        let d2: f32 = p.iter().zip(c).map(|(a, b)| (a - b) * (a - b)).sum();
                        window.push((depth[q], (d2 * scale).exp()));
                    }
                }
                window.sort_unstable_by(|a, b| a.0.total_cmp(&b.0));
                let half = 0.5 * window.iter().map(|w| w.1).sum::<f32>();
                let mut below = 0.0;
                let median = window.iter().find(|w| {
                    below += w.1;
                    below >= half
                });
                // The pixel's own weight is 1, so the total is positive and some depth
                // reaches half of it; the last one stands in for rounding.
                out.push(median.map_or(window[window.len() - 1].0, |w| w.0));
            }
        }
        out
    }

    /// [`GuidedMedian::apply`] on every map of a `[N, R, R]` batch with its `[N, R, R, 3]`
    /// images.
    pub fn apply_batch(&self, depth: &[f32], images: &[f32], size: usize) -> Vec<f32> {
        depth
            .chunks(size * size)
            .zip(images.chunks(3 * size * size))
            .flat_map(|(map, image)| self.apply(map, image, size))
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A pseudo-random sequence in `[lo, lo + span)`.
    fn noise(n: usize, seed: u32, lo: f32, span: f32) -> Vec<f32> {
        let mut state = seed;
        (0..n)
            .map(|_| {
                state = state.wrapping_mul(1_664_525).wrapping_add(1_013_904_223);
                lo + span * (state >> 8) as f32 / (1u32 << 24) as f32
            })
            .collect()
    }

    #[test]
    fn on_a_uniform_image_it_is_the_plain_median() {
        // Equal colours weigh every neighbour 1: the lower median of the window.
        let size = 7;
        let depth = noise(size * size, 3, 1.0, 1.0);
        let image = vec![0.4; 3 * size * size];
        let filter = GuidedMedian::new(1, 0.05).unwrap();
        let out = filter.apply(&depth, &image, size);
        for y in 0..size {
            for x in 0..size {
                let mut window: Vec<f32> = (y.saturating_sub(1)..(y + 2).min(size))
                    .flat_map(|r| (x.saturating_sub(1)..(x + 2).min(size)).map(move |c| (r, c)))
                    .map(|(r, c)| depth[r * size + c])
                    .collect();
                window.sort_by(f32::total_cmp);
                let want = window[(window.len() - 1) / 2];
                assert_eq!(out[y * size + x], want, "pixel ({x}, {y})");
            }
        }
    }

    #[test]
    fn a_ramp_across_a_colour_edge_becomes_a_step_on_the_edge() {
        // Columns 0–6 are red (a near box at depth 1), 7–13 blue (a wall at 2); the depth map
        // ramps from 1 to 2 over columns 5–8, two pixels each side of the colour edge.
        let size = 14;
        let row: [f32; 14] = [
            1.0, 1.0, 1.0, 1.0, 1.0, 1.3, 1.45, 1.55, 1.7, 2.0, 2.0, 2.0, 2.0, 2.0,
        ];
        let depth: Vec<f32> = (0..size).flat_map(|_| row).collect();
        let image: Vec<f32> = (0..size * size)
            .flat_map(|i| {
                if i % size < 7 {
                    [0.8, 0.1, 0.1]
                } else {
                    [0.1, 0.1, 0.8]
                }
            })
            .collect();
        let out = GuidedMedian::new(4, 0.05)
            .unwrap()
            .apply(&depth, &image, size);
        let want = [
            1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 2.0, 2.0, 2.0, 2.0, 2.0, 2.0, 2.0,
        ];
        for y in 0..size {
            assert_eq!(out[y * size..(y + 1) * size], want, "row {y}");
        }
    }

    #[test]
    fn each_pixel_is_the_weighted_median_of_its_window() {
        // Against a direct definition: the least window depth whose cumulative weight (in
        // f64, depths in order) reaches half the total.
        let size = 9;
        let depth = noise(size * size, 7, 1.0, 2.0);
        let image = noise(3 * size * size, 11, 0.0, 0.3);
        let filter = GuidedMedian::new(2, 0.1).unwrap();
        let out = filter.apply(&depth, &image, size);
        for y in 0..size as i64 {
            for x in 0..size as i64 {
                let p = (y * size as i64 + x) as usize;
                let mut window: Vec<(f32, f64)> = (-2..=2)
                    .flat_map(|dy| (-2..=2).map(move |dx| (y + dy, x + dx)))
                    .filter(|&(r, c)| {
                        (0..size as i64).contains(&r) && (0..size as i64).contains(&c)
                    })
                    .map(|(r, c)| {
                        let q = r as usize * size + c as usize;
                        let d2: f64 = (0..3)
                            .map(|k| f64::from(image[3 * p + k] - image[3 * q + k]).powi(2))
                            .sum();
                        (depth[q], (-d2 / (2.0 * 0.01)).exp())
                    })
                    .collect();
                window.sort_by(|a, b| a.0.total_cmp(&b.0));
                let total: f64 = window.iter().map(|w| w.1).sum();
                let mut below = 0.0;
                let want = window
                    .iter()
                    .find(|w| {
                        below += w.1;
                        below >= total / 2.0
                    })
                    .unwrap()
                    .0;
                assert_eq!(out[p], want, "pixel ({x}, {y})");
            }
        }
        assert_ne!(out, depth, "the test map is changed");
        let batch = [depth.clone(), depth].concat();
        let images = [image.clone(), image].concat();
        assert_eq!(
            filter.apply_batch(&batch, &images, size),
            [out.clone(), out].concat()
        );
    }

    #[test]
    fn bad_parameters_are_refused() {
        let msg = |e: Error| e.to_string();
        assert_eq!(
            msg(GuidedMedian::new(0, 0.05).unwrap_err()),
            "guided-median radius: 0 pixels: must be at least 1"
        );
        assert_eq!(
            msg(GuidedMedian::new(5, 0.0).unwrap_err()),
            "guided-median colour scale: 0: must be positive"
        );
        assert_eq!(
            msg(GuidedMedian::new(5, f32::INFINITY).unwrap_err()),
            "guided-median colour scale: inf: must be positive"
        );
    }
}
