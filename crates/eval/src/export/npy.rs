//! `.npy` files of depth and normal maps: the render crate's format (little-endian `float32`,
//! C order, NumPy format 1.0), written atomically.

use std::path::Path;

use pix2scene_render::npy;

use crate::error::{Error, Result};

/// Writes `data` with `shape` as a little-endian `float32` C-order `.npy` file (readable by
/// `numpy.load` and by [`pix2scene_render::npy::read_f32`]), atomically.
///
/// # Shapes
/// `data` holds `shape.iter().product()` values in C (row-major) order, e.g. a depth map
/// `[size, size]` or a normal map `[size, size, 3]`.
///
/// # Errors
/// [`Error::Shape`] if the lengths disagree; [`Error::Io`] naming the file.
pub fn write_npy(path: &Path, shape: &[usize], data: &[f32]) -> Result<()> {
    let expected: usize = shape.iter().product();
    if data.len() != expected {
        return Err(Error::Shape {
            name: "npy array",
            expected,
            got: data.len(),
            what: format!("{shape:?}"),
        });
    }
    Ok(npy::write_f32(path, shape, data)?)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testutil::Scratch;

    #[test]
    fn depth_and_normal_maps_round_trip_through_the_render_crates_reader() {
        let dir = Scratch::new("npy");
        let depth: Vec<f32> = (0..12).map(|i| 0.5 + i as f32 * 0.125).collect();
        let normal: Vec<f32> = (0..36).map(|i| (i as f32 * 0.37).sin()).collect();
        for (name, shape, data) in [
            ("depth.npy", vec![3, 4], &depth),
            ("normal.npy", vec![3, 4, 3], &normal),
        ] {
            let path = dir.join(name);
            write_npy(&path, &shape, data).unwrap();
            let back = npy::read_f32(&path).unwrap();
            assert_eq!(back.shape, shape);
            assert_eq!(&back.data, data);
        }
        assert_eq!(
            write_npy(&dir.join("bad.npy"), &[2, 2], &depth)
                .unwrap_err()
                .to_string(),
            "npy array has 12 values, expected 4 ([2, 2])"
        );
        assert!(!dir.join("bad.npy").exists());
    }
}
