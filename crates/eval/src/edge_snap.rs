//! Edge snapping: flying pixels of a predicted depth map moved onto one side of the depth edge
//! they straddle (`eval --snap-edges`, `reconstruct --snap-edges`).
//!
//! A network regressing depth draws a depth edge (a box in front of a wall) as a ramp a few
//! pixels wide: the pixels on the ramp become surfels floating between the two surfaces, and
//! Hausdorff-F, the worst surfel of an image, is set by them in most images (on validation box
//! scenes, 3 of 4 images' worst surfels lie within 2 pixels of a true depth edge). Snapping
//! moves every pixel whose neighbourhood spans a large depth range to the nearer of the
//! neighbourhood's nearest and farthest depth, turning the ramp into a step. It is a fixed
//! filter on the single predicted map (no learning, no other image), reported as its own row.

use crate::error::{Error, Result};

/// The filter's two parameters. The default (a 5 × 5 window, a range of 10 % of the pixel's
/// depth) was chosen on validation scenes (docs/results.md, "Edge snapping").
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct EdgeSnap {
    window: usize,
    relative_range: f32,
}

impl Default for EdgeSnap {
    fn default() -> Self {
        Self {
            window: 5,
            relative_range: 0.1,
        }
    }
}

impl EdgeSnap {
    /// A square window of `window` pixels a side (odd, at least 3) and the depth range, as a
    /// fraction of the pixel's own depth (> 0), above which a pixel is snapped.
    ///
    /// # Errors
    /// [`Error::InvalidValue`] for an even or too small window or a range that is not positive.
    pub fn new(window: usize, relative_range: f32) -> Result<Self> {
        if window < 3 || window.is_multiple_of(2) {
            return Err(Error::InvalidValue {
                field: "edge-snapping window".into(),
                message: format!("{window} pixels: must be odd and at least 3"),
            });
        }
        if !(relative_range > 0.0 && relative_range.is_finite()) {
            return Err(Error::InvalidValue {
                field: "edge-snapping range".into(),
                message: format!("{relative_range}: must be a positive fraction of the depth"),
            });
        }
        Ok(Self {
            window,
            relative_range,
        })
    }

    /// Window side, pixels.
    pub fn window(&self) -> usize {
        self.window
    }

    /// Range above which a pixel is snapped, as a fraction of its depth.
    pub fn relative_range(&self) -> f32 {
        self.relative_range
    }

    /// Snaps one `[R, R]` depth map (row-major, ray depth): for each pixel with depth `d`, let
    /// `lo` and `hi` be the least and greatest depth in the window centred on it (cut at the
    /// image border); where `hi − lo > relative_range · d` the pixel takes `lo` if `d − lo ≤
    /// hi − d`, else `hi`. Every other pixel keeps its depth. Each output pixel depends on the
    /// input only, not on other pixels' snapped values.
    ///
    /// # Panics
    /// If `depth.len() != size²`.
    pub fn apply(&self, depth: &[f32], size: usize) -> Vec<f32> {
        assert_eq!(depth.len(), size * size, "a depth map of {size}×{size}");
        let half = self.window / 2;
        let mut out = depth.to_vec();
        for y in 0..size {
            let rows = y.saturating_sub(half)..(y + half + 1).min(size);
            for x in 0..size {
                let cols = x.saturating_sub(half)..(x + half + 1).min(size);
                let (mut lo, mut hi) = (f32::INFINITY, f32::NEG_INFINITY);
                for row in rows.clone() {
                    for &v in &depth[row * size + cols.start..row * size + cols.end] {
                        lo = lo.min(v);
                        hi = hi.max(v);
                    }
                }
                let d = depth[y * size + x];
                if hi - lo > self.relative_range * d {
                    out[y * size + x] = if d - lo <= hi - d { lo } else { hi };
                }
            }
        }
        out
    }

    /// [`EdgeSnap::apply`] on every map of a `[N, R, R]` batch.
    pub fn apply_batch(&self, depth: &[f32], size: usize) -> Vec<f32> {
        depth
            .chunks(size * size)
            .flat_map(|map| self.apply(map, size))
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Ray depth of the plane `z = b·x − a` (camera frame) seen through pixel-centre rays of a 30°
    /// camera.
    fn tilted_plane(size: usize, a: f32, b: f32) -> Vec<f32> {
        let f = 15f32.to_radians().tan();
        let mut depth = Vec::new();
        for y in 0..size {
            for x in 0..size {
                let u = ((x as f32 + 0.5) / size as f32 * 2.0 - 1.0) * f;
                let v = -((y as f32 + 0.5) / size as f32 * 2.0 - 1.0) * f;
                // The point t·(u, v, −1) is on the plane where t·(1 + b·u) = a; ray depth t·|(u, v, −1)|.
                let t = a / (1.0 + b * u);
                depth.push(t * (u * u + v * v + 1.0).sqrt());
            }
        }
        depth
    }

    #[test]
    fn a_smooth_surface_is_left_alone() {
        let plane = tilted_plane(32, 3.0, 0.4);
        assert_eq!(EdgeSnap::default().apply(&plane, 32), plane);
    }

    #[test]
    fn a_blurred_step_becomes_a_step_onto_the_nearer_side() {
        // Rows of 1.0 (near), a three-pixel ramp, then 2.0 (far).
        let row = [
            1.0, 1.0, 1.0, 1.0, 1.0, 1.3, 1.55, 1.7, 2.0, 2.0, 2.0, 2.0, 2.0, 2.0,
        ];
        let size = row.len();
        let depth: Vec<f32> = (0..size).flat_map(|_| row).collect();
        let out = EdgeSnap::default().apply(&depth, size);
        let want = [
            1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 2.0, 2.0, 2.0, 2.0, 2.0, 2.0, 2.0, 2.0,
        ];
        for y in 0..size {
            assert_eq!(out[y * size..(y + 1) * size], want, "row {y}");
        }
    }

    #[test]
    fn a_snapped_pixel_takes_its_windows_extreme_and_the_rest_keep_their_depth() {
        // Pseudo-random maps: every output pixel is its input, or the window's min or max by
        // the rule, checked against a direct scan with the window as explicit offsets.
        let size = 9;
        let mut state = 7u32;
        let depth: Vec<f32> = (0..size * size)
            .map(|_| {
                state = state.wrapping_mul(1_664_525).wrapping_add(1_013_904_223);
                1.0 + (state >> 8) as f32 / (1u32 << 24) as f32
            })
            .collect();
        let snap = EdgeSnap::new(3, 0.3).unwrap();
        let out = snap.apply(&depth, size);
        for y in 0..size as i64 {
            for x in 0..size as i64 {
                let window: Vec<f32> = (-1..=1)
                    .flat_map(|dy| (-1..=1).map(move |dx| (y + dy, x + dx)))
                    .filter(|&(r, c)| {
                        (0..size as i64).contains(&r) && (0..size as i64).contains(&c)
                    })
                    .map(|(r, c)| depth[r as usize * size + c as usize])
                    .collect();
                let lo = window.iter().copied().fold(f32::INFINITY, f32::min);
                let hi = window.iter().copied().fold(f32::NEG_INFINITY, f32::max);
                let d = depth[y as usize * size + x as usize];
                let want = if hi - lo <= 0.3 * d {
                    d
                } else if d - lo <= hi - d {
                    lo
                } else {
                    hi
                };
                assert_eq!(
                    out[y as usize * size + x as usize],
                    want,
                    "pixel ({x}, {y})"
                );
            }
        }
        assert_ne!(out, depth, "the test map has snapped pixels");
        let batch = [depth.clone(), depth].concat();
        assert_eq!(snap.apply_batch(&batch, size), [out.clone(), out].concat());
    }

    #[test]
    fn bad_parameters_are_refused() {
        let msg = |e: Error| e.to_string();
        assert_eq!(
            msg(EdgeSnap::new(4, 0.1).unwrap_err()),
            "edge-snapping window: 4 pixels: must be odd and at least 3"
        );
        assert_eq!(
            msg(EdgeSnap::new(1, 0.1).unwrap_err()),
            "edge-snapping window: 1 pixels: must be odd and at least 3"
        );
        assert_eq!(
            msg(EdgeSnap::new(5, 0.0).unwrap_err()),
            "edge-snapping range: 0: must be a positive fraction of the depth"
        );
        assert_eq!(
            msg(EdgeSnap::new(5, f32::NAN).unwrap_err()),
            "edge-snapping range: NaN: must be a positive fraction of the depth"
        );
    }
}
