//! Surfel point clouds as binary PLY files (MeshLab, Open3D, CloudCompare read them).

use std::path::Path;

use pix2scene_scene::atomic_file::write_atomic;
use pix2scene_scene::to_u8;

use crate::error::Result;
use crate::points::{PixelRays, Point};

/// The surfels of a view: one per valid pixel, with position, normal and colour.
///
/// # Units and frames
/// Positions in scene units and unit normals, both in the frame of whoever built them (the
/// camera frame for [`Surfels::from_view`]); colours 8-bit RGB.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Surfels {
    /// Surfel centres.
    pub positions: Vec<Point>,
    /// Unit normals.
    pub normals: Vec<Point>,
    /// Colours, 8-bit RGB.
    pub colors: Vec<[u8; 3]>,
}

impl Surfels {
    /// The surfels of the valid pixels (`mask != 0`) of a view, in row-major pixel order:
    /// `depth` back-projected along `rays`, with the pixel's normal and colour.
    ///
    /// # Shapes
    /// - `depth`, `mask`: `[size, size]`; `normal`, `image`: `[size, size, 3]` (image values
    ///   in [0, 1], clamped)
    ///
    /// # Units and frames
    /// Camera frame (+x right, +y up, looking along −z), scene units.
    ///
    /// # Errors
    /// [`crate::Error::Shape`] for a wrong length.
    pub fn from_view(
        rays: &PixelRays,
        depth: &[f32],
        normal: &[f32],
        image: &[f32],
        mask: &[u8],
    ) -> Result<Self> {
        rays.check_len("normal", normal.len(), 3)?;
        rays.check_len("image", image.len(), 3)?;
        let positions = rays.back_project(depth, mask)?;
        let rgb = to_u8(image);
        let valid = || (0..mask.len()).filter(|&i| mask[i] != 0);
        Ok(Self {
            positions,
            normals: valid()
                .map(|i| [normal[3 * i], normal[3 * i + 1], normal[3 * i + 2]])
                .collect(),
            colors: valid()
                .map(|i| [rgb[3 * i], rgb[3 * i + 1], rgb[3 * i + 2]])
                .collect(),
        })
    }

    /// Number of surfels.
    pub fn len(&self) -> usize {
        self.positions.len()
    }

    /// Whether there is no surfel.
    pub fn is_empty(&self) -> bool {
        self.positions.is_empty()
    }
}

/// Writes `surfels` as a binary little-endian PLY file (atomically): one `vertex` element with
/// `float x y z nx ny nz` and `uchar red green blue`.
///
/// # Errors
/// [`crate::Error::Io`] naming the file.
///
/// # Panics
/// If `surfels`' three arrays differ in length.
pub fn write_ply(path: &Path, surfels: &Surfels) -> Result<()> {
    let n = surfels.len();
    assert!(
        surfels.normals.len() == n && surfels.colors.len() == n,
        "surfel arrays of different lengths"
    );
    let mut bytes = Vec::with_capacity(512 + n * 27);
    let header = format!(
        "ply\nformat binary_little_endian 1.0\ncomment pix2scene surfels, scene \
         units\nelement vertex {n}\nproperty float \
         x\nproperty float y\nproperty float z\nproperty float nx\nproperty float ny\nproperty \
         float nz\nproperty uchar red\nproperty uchar green\nproperty uchar blue\nend_header\n"
    );
    bytes.extend_from_slice(header.as_bytes());
    for ((p, nrm), c) in surfels
        .positions
        .iter()
        .zip(&surfels.normals)
        .zip(&surfels.colors)
    {
        for v in p.iter().chain(nrm) {
            bytes.extend_from_slice(&v.to_le_bytes());
        }
        bytes.extend_from_slice(c);
    }
    Ok(write_atomic(path, &bytes)?)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testutil::Scratch;

    /// A minimal reader of the binary little-endian PLY files this module writes: the header's
    /// properties (checked in order) and the vertices.
    fn read_ply(bytes: &[u8]) -> (Vec<String>, Surfels) {
        let end = bytes
            .windows(11)
            .position(|w| w == b"end_header\n")
            .expect("end_header")
            + 11;
        let header = std::str::from_utf8(&bytes[..end]).unwrap();
        let lines: Vec<String> = header.lines().map(str::to_string).collect();
        let n: usize = lines
            .iter()
            .find_map(|l| l.strip_prefix("element vertex "))
            .expect("vertex element")
            .parse()
            .unwrap();
        let body = &bytes[end..];
        assert_eq!(body.len(), n * 27, "27 bytes per vertex");
        let mut s = Surfels::default();
        for v in body.chunks_exact(27) {
            let f = |k: usize| f32::from_le_bytes(v[4 * k..4 * k + 4].try_into().unwrap());
            s.positions.push([f(0), f(1), f(2)]);
            s.normals.push([f(3), f(4), f(5)]);
            s.colors.push([v[24], v[25], v[26]]);
        }
        (lines, s)
    }

    #[test]
    fn ply_header_parses_and_holds_one_vertex_per_valid_pixel_that_round_trips() {
        let dir = Scratch::new("ply");
        let rays = PixelRays::new(26.0, 6);
        let depth: Vec<f32> = (0..36).map(|i| 0.5 + 0.01 * i as f32).collect();
        let normal: Vec<f32> = (0..108).map(|i| (i as f32 * 0.3).cos()).collect();
        let image: Vec<f32> = (0..108).map(|i| i as f32 / 107.0).collect();
        let mask: Vec<u8> = (0..36).map(|i| u8::from(i % 5 != 0)).collect();
        let surfels = Surfels::from_view(&rays, &depth, &normal, &image, &mask).unwrap();
        let path = dir.join("cloud.ply");
        write_ply(&path, &surfels).unwrap();
        let (header, back) = read_ply(&std::fs::read(&path).unwrap());
        assert_eq!(header[0], "ply");
        assert_eq!(header[1], "format binary_little_endian 1.0");
        let props: Vec<&str> = header
            .iter()
            .filter_map(|l| l.strip_prefix("property "))
            .collect();
        assert_eq!(
            props,
            [
                "float x",
                "float y",
                "float z",
                "float nx",
                "float ny",
                "float nz",
                "uchar red",
                "uchar green",
                "uchar blue"
            ]
        );
        let valid = mask.iter().filter(|m| **m != 0).count();
        assert_eq!(back.len(), valid);
        assert_eq!(back, surfels);
        // The first valid pixel is pixel 1: its depth along its ray, normal and colour.
        let p = rays.directions()[1] * depth[1];
        assert_eq!(back.positions[0], p.to_array());
        assert_eq!(back.normals[0], [normal[3], normal[4], normal[5]]);
        let c = |v: f32| (v * 255.0 + 0.5) as u8;
        assert_eq!(back.colors[0], [c(image[3]), c(image[4]), c(image[5])]);
    }
}
