//! A 3×3 median filter for refined depth targets that keeps each map's scale
//! (`optim.refine_median`; not in the paper).
//!
//! Why: the surfel renderer computes a pixel's normal from its neighbours, so along a silhouette
//! its stencil straddles two surfaces at different depths, and the per-pixel refinement
//! ([`refine`](crate::refine)) can lower the image term there by moving single pixels to odd
//! depths. Kept targets accumulate that speckle visit after visit (docs/training-notes.md,
//! *Kept targets*), and a decoder regressing on it in the mean-square sense learns a smeared
//! edge. A median over 3×3
//! pixels removes specks of up to four pixels while leaving straight depth steps — the
//! silhouettes of boxes — exactly in place.

/// Replaces each pixel of each `size × size` map in `maps` (`[n, size²]` flattened, depth > 0,
/// scene units) by the median of its 3×3 neighbourhood (rows and columns clamped at the
/// borders), then multiplies each map by the factor that gives it back its geometric-mean
/// depth, so that its scale is unchanged.
///
/// # Panics
/// If `maps.len()` is not a multiple of `size²`, or `size` is 0.
pub fn median3_keep_scale(maps: &mut [f32], size: usize) {
    let pixels = size * size;
    assert!(
        pixels > 0 && maps.len().is_multiple_of(pixels),
        "{} values are not whole {size}×{size} maps",
        maps.len()
    );
    for map in maps.chunks_mut(pixels) {
        let before = log_mean(map);
        let mut filtered = vec![0.0f32; pixels];
        let mut window = [0.0f32; 9];
        for r in 0..size {
            for c in 0..size {
                let mut k = 0;
                for rr in [r.saturating_sub(1), r, (r + 1).min(size - 1)] {
                    for cc in [c.saturating_sub(1), c, (c + 1).min(size - 1)] {
                        window[k] = map[rr * size + cc];
                        k += 1;
                    }
                }
                let (_, median, _) = window.select_nth_unstable_by(4, f32::total_cmp);
                filtered[r * size + c] = *median;
            }
        }
        let factor = (before - log_mean(&filtered)).exp() as f32;
        for (d, f) in map.iter_mut().zip(&filtered) {
            *d = f * factor;
        }
    }
}

/// Mean of `ln d` over a map: the log of its geometric-mean depth.
fn log_mean(map: &[f32]) -> f64 {
    map.iter().map(|d| f64::from(*d).ln()).sum::<f64>() / map.len() as f64
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn specks_vanish_and_a_depth_step_stays_in_place() {
        let s = 8;
        // A box's silhouette: depth 1 left of column 4, 2 from it on; specks on both sides.
        let step: Vec<f32> = (0..s * s)
            .map(|i| if i % s < 4 { 1.0 } else { 2.0 })
            .collect();
        let mut specked = step.clone();
        specked[2 * s + 1] = 5.0;
        specked[5 * s + 6] = 0.3;
        specked[6 * s + 6] = 0.3;
        let mut filtered = specked.clone();
        median3_keep_scale(&mut filtered, s);
        let factor = (log_mean(&specked) - log_mean(&step)).exp() as f32;
        for (i, (f, t)) in filtered.iter().zip(&step).enumerate() {
            assert!(
                (f - t * factor).abs() < 1e-5,
                "pixel ({}, {}): {f}, expected {}",
                i / s,
                i % s,
                t * factor
            );
        }
    }

    #[test]
    fn each_map_keeps_its_geometric_mean_and_constant_maps_are_unchanged() {
        let s = 6;
        let mut maps: Vec<f32> = (0..2 * s * s)
            .map(|i| 1.0 + ((i * 7919) % 13) as f32 * 0.1)
            .collect();
        let flat = vec![0.7f32; s * s];
        maps.extend_from_slice(&flat);
        let before: Vec<f64> = maps.chunks(s * s).map(log_mean).collect();
        let original = maps.clone();
        median3_keep_scale(&mut maps, s);
        assert_ne!(
            maps[..2 * s * s],
            original[..2 * s * s],
            "noise was filtered"
        );
        for (map, g) in maps.chunks(s * s).zip(before) {
            assert!((log_mean(map) - g).abs() < 1e-6, "{} vs {g}", log_mean(map));
        }
        assert_eq!(maps[2 * s * s..], flat[..]);
    }

    #[test]
    #[should_panic(expected = "not whole 4×4 maps")]
    fn partial_maps_are_refused() {
        median3_keep_scale(&mut [1.0; 20], 4);
    }
}
