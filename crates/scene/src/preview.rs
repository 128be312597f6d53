//! PNG images and grids: dataset previews and anything else people look at.

use std::fs;
use std::path::Path;

use crate::atomic_file::write_atomic;
use crate::colormap::{depth_to_rgb, normal_to_rgb};
use crate::error::{Error, Result};
use crate::generator::{Record, Sample};

/// An RGB image being assembled, linear values in [0, 1].
#[derive(Clone, Debug, PartialEq)]
pub struct RgbImage {
    /// Width in pixels.
    pub width: usize,
    /// Height in pixels.
    pub height: usize,
    /// `[height, width, 3]`, row-major.
    pub data: Vec<f32>,
}

impl RgbImage {
    /// A black image.
    pub fn new(width: usize, height: usize) -> Self {
        Self {
            width,
            height,
            data: vec![0.0; width * height * 3],
        }
    }

    /// Copies a square `[size, size, 3]` tile with its top-left corner at (`x`, `y`).
    ///
    /// # Panics
    /// If the tile does not fit.
    pub fn paste(&mut self, tile: &[f32], size: usize, x: usize, y: usize) {
        assert!(
            x + size <= self.width && y + size <= self.height,
            "tile out of bounds"
        );
        for r in 0..size {
            let dst = ((y + r) * self.width + x) * 3;
            self.data[dst..dst + size * 3].copy_from_slice(&tile[r * size * 3..(r + 1) * size * 3]);
        }
    }

    /// Draws a `width`-pixel frame of `color` just inside the rectangle.
    pub fn outline(
        &mut self,
        x: usize,
        y: usize,
        w: usize,
        h: usize,
        color: [f32; 3],
        width: usize,
    ) {
        for r in y..y + h {
            for c in x..x + w {
                let edge =
                    r < y + width || r >= y + h - width || c < x + width || c >= x + w - width;
                if edge && r < self.height && c < self.width {
                    let i = (r * self.width + c) * 3;
                    self.data[i..i + 3].copy_from_slice(&color);
                }
            }
        }
    }

    /// Writes an 8-bit sRGB-free (values scaled linearly) PNG, atomically (see
    /// [`write_atomic`]).
    ///
    /// # Errors
    /// [`Error::Io`] naming the path.
    pub fn write_png(&self, path: &Path) -> Result<()> {
        write_atomic(path, &self.to_png())
    }

    /// The image as the bytes of an 8-bit PNG file (values scaled linearly, see [`to_u8`]).
    ///
    /// # Panics
    /// If the image is empty (PNG has no 0-pixel images).
    pub fn to_png(&self) -> Vec<u8> {
        let mut bytes = Vec::new();
        let mut enc = png::Encoder::new(&mut bytes, self.width as u32, self.height as u32);
        enc.set_color(png::ColorType::Rgb);
        enc.set_depth(png::BitDepth::Eight);
        let mut w = enc
            .write_header()
            .expect("a non-empty image has a PNG header");
        w.write_image_data(&to_u8(&self.data))
            .expect("the pixel data has the image's size");
        w.finish().expect("writing into memory cannot fail");
        bytes
    }
}

/// Values in [0, 1] to 8-bit, as the PNGs of [`RgbImage::write_png`] store them (clamped,
/// scaled by 255 and rounded).
pub fn to_u8(values: &[f32]) -> Vec<u8> {
    values
        .iter()
        .map(|v| (v.clamp(0.0, 1.0) * 255.0 + 0.5) as u8)
        .collect()
}

/// Gap between tiles, pixels.
const GAP: usize = 2;

/// Tiles of one view: image, depth (viridis, dark = near), normals.
fn view_tiles(s: &Sample) -> [Vec<f32>; 3] {
    let f = &s.frame;
    [
        f.image.clone(),
        depth_to_rgb(&f.depth, &f.mask),
        normal_to_rgb(&f.normal, &f.mask),
    ]
}

/// Writes `dir/grid.png`: for views, one row per record with image | depth | normals; for
/// 3D-IQTT questions, one row per question with the reference and three answers, the correct
/// answer framed in green; plus `dir/question-depth.png` with the answers' depth maps.
///
/// # Errors
/// I/O errors naming the path.
///
/// # Panics
/// If `records` is empty.
pub fn write_previews(dir: &Path, records: &[Record]) -> Result<()> {
    fs::create_dir_all(dir).map_err(|source| Error::Io {
        path: dir.to_path_buf(),
        source,
    })?;
    let size = match &records[0] {
        Record::View(s) => s.frame.size_px,
        Record::Question(q) => q.views[0].frame.size_px,
    };
    let cell = size + GAP;
    match &records[0] {
        Record::View(_) => {
            let mut grid = RgbImage::new(3 * cell + GAP, records.len() * cell + GAP);
            for (row, r) in records.iter().enumerate() {
                if let Record::View(s) = r {
                    for (col, tile) in view_tiles(s).iter().enumerate() {
                        grid.paste(tile, size, GAP + col * cell, GAP + row * cell);
                    }
                }
            }
            grid.write_png(&dir.join("grid.png"))
        }
        Record::Question(_) => {
            let mut grid = RgbImage::new(4 * cell + 3 * GAP, records.len() * cell + GAP);
            let mut depth = grid.clone();
            for (row, r) in records.iter().enumerate() {
                if let Record::Question(q) = r {
                    for (col, v) in q.views.iter().enumerate() {
                        // A wider gap after the reference column.
                        let x = GAP + col * cell + if col > 0 { 2 * GAP } else { 0 };
                        let y = GAP + row * cell;
                        let [img, d, _] = view_tiles(v);
                        grid.paste(&img, size, x, y);
                        depth.paste(&d, size, x, y);
                        if col == q.answer as usize + 1 {
                            let w = (size / 32).max(1);
                            grid.outline(x, y, size, size, [0.1, 0.9, 0.2], w);
                        }
                    }
                }
            }
            grid.write_png(&dir.join("grid.png"))?;
            depth.write_png(&dir.join("question-depth.png"))
        }
    }
}
