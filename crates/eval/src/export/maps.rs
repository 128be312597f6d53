//! Depth and normal maps as PNG images with a legend.

use std::path::Path;

use pix2scene_scene::{RgbImage, depth_range, depth_to_rgb_in, normal_to_rgb, to_u8};

use super::legend::{colour_bar, draw_text, fill, normal_key, text_height, text_width};
use crate::error::Result;
use crate::points::PixelRays;

/// Background of the legend panel.
const PANEL: [f32; 3] = [0.12, 0.12, 0.12];
/// Colour of legend text.
const INK: [f32; 3] = [0.95, 0.95, 0.95];

/// Scale of the legend font and margins for a `size`-pixel map: 1 up to 95 pixels, then one
/// more per 64 pixels.
fn legend_scale(size: usize) -> usize {
    (size / 64).max(1)
}

/// Writes a depth map as a PNG (atomically): viridis from dark (near) to bright (far) over the
/// valid pixels' range, black where `mask` is 0, and to its right a colour bar labelled with the
/// depth at its top, middle and bottom (scene units).
///
/// # Shapes
/// `depth`, `mask`: `[size, size]` for the `size` of `rays`.
///
/// # Errors
/// [`crate::Error::Shape`] for a wrong length; [`crate::Error::Io`] naming the file.
pub fn write_depth_png(path: &Path, rays: &PixelRays, depth: &[f32], mask: &[u8]) -> Result<()> {
    rays.check_len("depth", depth.len(), 1)?;
    rays.check_len("mask", mask.len(), 1)?;
    let s = rays.size_px();
    let [lo, hi] = depth_range(depth, mask).unwrap_or([0.0, 0.0]);
    let labels = [hi, 0.5 * (lo + hi), lo].map(|v| format!("{v:.3}"));
    let k = legend_scale(s);
    let text_w = labels.iter().map(|l| text_width(l, k)).max().unwrap_or(0);
    let bar_w = 4 * k;
    let margin = 3 * k;
    let width = s + margin + bar_w + margin + text_w + margin;
    let mut img = RgbImage::new(width, s);
    fill(&mut img, s, 0, width - s, s, PANEL);
    img.paste(&depth_to_rgb_in(depth, mask, lo, hi), s, 0, 0);
    let (bar_x, bar_y, bar_h) = (s + margin, margin, s.saturating_sub(2 * margin));
    colour_bar(&mut img, bar_x, bar_y, bar_w, bar_h);
    let text_x = bar_x + bar_w + margin;
    let th = text_height(k);
    let ys = [
        bar_y,
        (bar_y + bar_h / 2).saturating_sub(th / 2),
        (bar_y + bar_h).saturating_sub(th),
    ];
    for (label, y) in labels.iter().zip(ys) {
        draw_text(&mut img, text_x, y, label, k, INK);
    }
    write_rgb_png(path, &img)
}

/// Writes a camera-frame normal map as a PNG (atomically): `(n + 1) / 2` as RGB (red/green/blue
/// for x/y/z, the paper's convention), black where `mask` is 0, and to its right the normal
/// key with its `+x` and `+y` directions.
///
/// # Shapes
/// `normal`: `[size, size, 3]`, `mask`: `[size, size]` for the `size` of `rays`.
///
/// # Errors
/// [`crate::Error::Shape`] for a wrong length; [`crate::Error::Io`] naming the file.
pub fn write_normal_png(path: &Path, rays: &PixelRays, normal: &[f32], mask: &[u8]) -> Result<()> {
    rays.check_len("normal", normal.len(), 3)?;
    rays.check_len("mask", mask.len(), 1)?;
    let s = rays.size_px();
    let k = legend_scale(s);
    let margin = 3 * k;
    let d = (s / 3).max(8);
    let label_w = text_width("+x", k);
    let width = s + margin + d + margin + label_w + margin;
    let mut img = RgbImage::new(width, s);
    fill(&mut img, s, 0, width - s, s, PANEL);
    img.paste(&normal_to_rgb(normal, mask), s, 0, 0);
    let th = text_height(k);
    let (key_x, key_y) = (s + margin, margin + th + margin);
    normal_key(&mut img, key_x, key_y, d);
    draw_text(&mut img, key_x + d / 2 - label_w / 2, margin, "+y", k, INK);
    draw_text(
        &mut img,
        key_x + d + margin,
        key_y + d / 2 - th / 2,
        "+x",
        k,
        INK,
    );
    write_rgb_png(path, &img)
}

/// Writes an RGB image (linear values in [0, 1], clamped) as an 8-bit PNG (atomically).
///
/// # Errors
/// [`crate::Error::Io`] naming the file.
pub fn write_rgb_png(path: &Path, image: &RgbImage) -> Result<()> {
    let bytes = encode_png(image).map_err(|message| crate::Error::Encode {
        path: path.to_path_buf(),
        message,
    })?;
    Ok(pix2scene_scene::atomic_file::write_atomic(path, &bytes)?)
}

/// An RGB image (linear values in [0, 1], clamped) as the bytes of an 8-bit PNG file.
///
/// # Errors
/// The encoder's message (an image too large for PNG).
pub fn encode_png(image: &RgbImage) -> std::result::Result<Vec<u8>, String> {
    let mut bytes = Vec::new();
    let (w, h) = (
        u32::try_from(image.width).map_err(|e| e.to_string())?,
        u32::try_from(image.height).map_err(|e| e.to_string())?,
    );
    let mut encoder = png::Encoder::new(&mut bytes, w, h);
    encoder.set_color(png::ColorType::Rgb);
    encoder.set_depth(png::BitDepth::Eight);
    let mut writer = encoder.write_header().map_err(|e| e.to_string())?;
    writer
        .write_image_data(&to_u8(&image.data))
        .map_err(|e| e.to_string())?;
    writer.finish().map_err(|e| e.to_string())?;
    Ok(bytes)
}

/// Writes a `[size, size, 3]` image (linear values in [0, 1], clamped) as an 8-bit PNG
/// (atomically).
///
/// # Errors
/// [`crate::Error::Shape`] for a wrong length; [`crate::Error::Io`] naming the file.
pub fn write_image_png(path: &Path, rays: &PixelRays, image: &[f32]) -> Result<()> {
    rays.check_len("image", image.len(), 3)?;
    let s = rays.size_px();
    let mut img = RgbImage::new(s, s);
    img.paste(image, s, 0, 0);
    write_rgb_png(path, &img)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testutil::Scratch;

    /// Decodes an 8-bit RGB PNG: width, height, pixels.
    fn read_png(path: &Path) -> (usize, usize, Vec<u8>) {
        let decoder =
            png::Decoder::new(std::io::BufReader::new(std::fs::File::open(path).unwrap()));
        let mut reader = decoder.read_info().unwrap();
        let mut buf = vec![0; reader.output_buffer_size().unwrap()];
        let info = reader.next_frame(&mut buf).unwrap();
        assert_eq!(info.color_type, png::ColorType::Rgb);
        buf.truncate(info.buffer_size());
        (info.width as usize, info.height as usize, buf)
    }

    #[test]
    fn depth_png_shows_the_map_and_a_labelled_colour_bar() {
        let dir = Scratch::new("depth-png");
        let s = 64;
        let rays = PixelRays::new(26.0, s);
        let depth: Vec<f32> = (0..s * s)
            .map(|i| 0.5 + (i % s) as f32 / s as f32)
            .collect();
        let mut mask = vec![1u8; s * s];
        mask[0] = 0;
        let path = dir.join("depth.png");
        write_depth_png(&path, &rays, &depth, &mask).unwrap();
        let (w, h, px) = read_png(&path);
        assert_eq!(h, s);
        assert!(w > s + 20, "room for the legend: {w}");
        let at = |x: usize, y: usize| &px[(y * w + x) * 3..(y * w + x) * 3 + 3];
        // Masked pixel black; near (left) darker than far (right); the bar bright at the top.
        assert_eq!(at(0, 0), [0, 0, 0]);
        let lum = |p: &[u8]| p.iter().map(|v| u32::from(*v)).sum::<u32>();
        assert!(lum(at(1, 5)) < lum(at(s - 1, 5)));
        let bar_x = s + 3 + 1;
        assert!(lum(at(bar_x, 4)) > lum(at(bar_x, s - 5)));
        // Labels are drawn: some light pixels right of the bar.
        assert!((s + 12..w).any(|x| (0..h).any(|y| lum(at(x, y)) > 600)));
    }

    #[test]
    fn normal_png_colours_normals_and_shows_the_key() {
        let dir = Scratch::new("normal-png");
        let s = 32;
        let rays = PixelRays::new(26.0, s);
        let normal: Vec<f32> = (0..s * s).flat_map(|_| [0.0, 0.0, 1.0]).collect();
        let path = dir.join("normal.png");
        write_normal_png(&path, &rays, &normal, &vec![1; s * s]).unwrap();
        let (w, h, px) = read_png(&path);
        assert_eq!(h, s);
        assert!(w > s + s / 3);
        // A normal facing the camera is (0.5, 0.5, 1) → (128, 128, 255).
        assert_eq!(&px[0..3], [128, 128, 255]);
        assert_eq!(
            write_normal_png(&path, &rays, &normal[..9], &vec![1; s * s])
                .unwrap_err()
                .to_string(),
            "normal has 9 values, expected 3072 ([32, 32, 3])"
        );
    }
}
