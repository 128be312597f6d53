//! Colour maps for showing depth and normal maps as images.

use glam::Vec3;

/// The viridis colour map at `t ∈ [0, 1]` (polynomial fit), linear RGB in [0, 1].
pub fn viridis(t: f32) -> Vec3 {
    const C: [[f32; 3]; 7] = [
        [0.277_727_33, 0.005_407_344_5, 0.334_099_8],
        [0.105_093_04, 1.404_613_5, 1.384_590_1],
        [-0.330_861_83, 0.214_847_56, 0.095_095_16],
        [-4.634_230_6, -5.799_101, -19.332_441],
        [6.228_27, 14.179_933, 56.690_55],
        [4.776_385, -13.745_145, -65.353_03],
        [-5.435_456, 4.645_852_6, 26.312_435],
    ];
    let t = t.clamp(0.0, 1.0);
    let mut c = Vec3::from(C[6]);
    for k in (0..6).rev() {
        c = Vec3::from(C[k]) + t * c;
    }
    c.clamp(Vec3::ZERO, Vec3::ONE)
}

/// Depth map `[n]` with validity `mask` `[n]` to RGB `[n·3]`: viridis over the valid range, dark
/// = near (the paper's convention), black where invalid.
pub fn depth_to_rgb(depth: &[f32], mask: &[u8]) -> Vec<f32> {
    let [lo, hi] = depth_range(depth, mask).unwrap_or([0.0, 1.0]);
    depth_to_rgb_in(depth, mask, lo, hi)
}

/// The smallest and largest depth over the valid pixels (`mask != 0`), or `None` if there is
/// none.
pub fn depth_range(depth: &[f32], mask: &[u8]) -> Option<[f32; 2]> {
    depth
        .iter()
        .zip(mask)
        .filter(|(_, m)| **m != 0)
        .map(|(d, _)| *d)
        .fold(None, |r, d| match r {
            None => Some([d, d]),
            Some([lo, hi]) => Some([lo.min(d), hi.max(d)]),
        })
}

/// [`depth_to_rgb`] over a given depth range: `lo` maps to the dark end of viridis and `hi` to
/// the bright end (values outside are clamped), so that several maps (the frames of a
/// turntable) share one scale.
pub fn depth_to_rgb_in(depth: &[f32], mask: &[u8], lo: f32, hi: f32) -> Vec<f32> {
    let span = (hi - lo).max(1e-6);
    depth
        .iter()
        .zip(mask)
        .flat_map(|(d, m)| {
            if *m != 0 {
                viridis((d - lo) / span).to_array()
            } else {
                [0.0; 3]
            }
        })
        .collect()
}

/// Unit normals `[n·3]` to RGB `[n·3]` as `(n + 1) / 2` (red/green/blue for x/y/z), black where
/// `mask` is 0.
pub fn normal_to_rgb(normal: &[f32], mask: &[u8]) -> Vec<f32> {
    normal
        .chunks_exact(3)
        .zip(mask)
        .flat_map(|(n, m)| {
            if *m != 0 {
                [(n[0] + 1.0) * 0.5, (n[1] + 1.0) * 0.5, (n[2] + 1.0) * 0.5]
            } else {
                [0.0; 3]
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn viridis_runs_from_dark_purple_to_yellow() {
        let a = viridis(0.0);
        let b = viridis(1.0);
        assert!(a.element_sum() < 0.7 && a.z > a.y);
        assert!(b.x > 0.9 && b.y > 0.85 && b.z < 0.2);
        // Luminance grows monotonically.
        let lum = |c: Vec3| 0.2126 * c.x + 0.7152 * c.y + 0.0722 * c.z;
        for k in 0..20 {
            assert!(lum(viridis(k as f32 / 20.0)) < lum(viridis((k + 1) as f32 / 20.0)));
        }
    }

    #[test]
    fn depth_colours_ignore_masked_pixels() {
        let rgb = depth_to_rgb(&[1.0, 2.0, 100.0], &[1, 1, 0]);
        assert_eq!(&rgb[6..9], &[0.0, 0.0, 0.0]);
        assert_eq!(&rgb[0..3], &viridis(0.0).to_array());
        assert_eq!(&rgb[3..6], &viridis(1.0).to_array());
        assert_eq!(
            depth_range(&[1.0, 2.0, 100.0], &[1, 1, 0]),
            Some([1.0, 2.0])
        );
        assert_eq!(depth_range(&[1.0], &[0]), None);
        // A shared range: values map by it, clamped outside.
        let rgb = depth_to_rgb_in(&[1.5, 0.0, 9.0], &[1, 1, 1], 1.0, 2.0);
        assert_eq!(&rgb[0..3], &viridis(0.5).to_array());
        assert_eq!(&rgb[3..6], &viridis(0.0).to_array());
        assert_eq!(&rgb[6..9], &viridis(1.0).to_array());
    }
}
