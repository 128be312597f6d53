//! PNG sample grids written during training.

use std::io::BufWriter;
use std::path::Path;

use pix2scene_scene::{depth_to_rgb, normal_to_rgb};

use crate::error::{Error, Result};

/// An RGB canvas of square tiles, linear values in [0, 1] written as 8-bit PNG.
#[derive(Clone, Debug, PartialEq)]
pub struct TileGrid {
    tile: usize,
    cols: usize,
    rows: usize,
    /// `[rows·(tile+gap), cols·(tile+gap), 3]`.
    data: Vec<f32>,
}

/// Pixels between tiles.
const GAP: usize = 2;

impl TileGrid {
    /// A white grid of `rows × cols` tiles of `tile²` pixels.
    pub fn new(rows: usize, cols: usize, tile: usize) -> Self {
        let (w, h) = (cols * (tile + GAP), rows * (tile + GAP));
        Self {
            tile,
            cols,
            rows,
            data: vec![1.0; w * h * 3],
        }
    }

    fn width(&self) -> usize {
        self.cols * (self.tile + GAP)
    }

    /// Puts an RGB tile `[tile, tile, 3]` at (`row`, `col`).
    ///
    /// # Panics
    /// If the tile has the wrong size or lies outside the grid.
    pub fn put(&mut self, row: usize, col: usize, rgb: &[f32]) {
        let t = self.tile;
        assert!(
            row < self.rows && col < self.cols && rgb.len() == t * t * 3,
            "tile out of bounds"
        );
        let width = self.width();
        for r in 0..t {
            let dst = ((row * (t + GAP) + r) * width + col * (t + GAP)) * 3;
            self.data[dst..dst + t * 3].copy_from_slice(&rgb[r * t * 3..(r + 1) * t * 3]);
        }
    }

    /// Writes the grid as an 8-bit RGB PNG (atomically).
    ///
    /// # Errors
    /// [`Error::Io`] naming the file.
    pub fn write_png(&self, path: &Path) -> Result<()> {
        let mut bytes = Vec::new();
        {
            let mut enc = png::Encoder::new(
                BufWriter::new(&mut bytes),
                self.width() as u32,
                (self.rows * (self.tile + GAP)) as u32,
            );
            enc.set_color(png::ColorType::Rgb);
            enc.set_depth(png::BitDepth::Eight);
            let to_io = |e: png::EncodingError| Error::Io {
                path: path.to_path_buf(),
                source: std::io::Error::other(e),
            };
            let mut writer = enc.write_header().map_err(to_io)?;
            let pixels: Vec<u8> = self
                .data
                .iter()
                .map(|v| (v.clamp(0.0, 1.0) * 255.0).round() as u8)
                .collect();
            writer.write_image_data(&pixels).map_err(to_io)?;
        }
        Ok(pix2scene_scene::atomic_file::write_atomic(path, &bytes)?)
    }
}

/// `[3, S, S]` channel-first image to `[S, S, 3]`.
pub fn chw_to_hwc(chw: &[f32], size: usize) -> Vec<f32> {
    let n = size * size;
    (0..n)
        .flat_map(|p| [chw[p], chw[n + p], chw[2 * n + p]])
        .collect()
}

/// Depth `[S·S]` to viridis RGB over the joint range of `depth` and `reference` (so a
/// reconstruction and its ground truth share one colour scale).
pub fn depth_tile(depth: &[f32], reference: &[f32], mask: &[u8]) -> Vec<f32> {
    let joint: Vec<f32> = depth.iter().chain(reference).copied().collect();
    let joint_mask: Vec<u8> = mask.iter().chain(mask).copied().collect();
    depth_to_rgb(&joint, &joint_mask)[..depth.len() * 3].to_vec()
}

/// Camera-frame normals `[S·S·3]` to RGB.
pub fn normal_tile(normal: &[f32], mask: &[u8]) -> Vec<f32> {
    normal_to_rgb(normal, mask)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn png_has_the_grid_size_and_tile_pixels() {
        let mut grid = TileGrid::new(2, 3, 4);
        grid.put(1, 2, &[0.0, 1.0, 0.0].repeat(16));
        let path = std::env::temp_dir().join(format!("p2s-grid-{}.png", std::process::id()));
        grid.write_png(&path).unwrap();
        let decoder =
            png::Decoder::new(std::io::BufReader::new(std::fs::File::open(&path).unwrap()));
        let mut reader = decoder.read_info().unwrap();
        let mut buf = vec![0; reader.output_buffer_size().unwrap()];
        let info = reader.next_frame(&mut buf).unwrap();
        assert_eq!((info.width, info.height), (18, 12));
        // Pixel (row 6, col 12) is the first of tile (1, 2): green.
        let i = (6 * 18 + 12) * 3;
        assert_eq!(&buf[i..i + 3], &[0, 255, 0]);
        std::fs::remove_file(&path).unwrap();
    }
}
