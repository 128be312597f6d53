//! Legends drawn beside depth and normal maps: a colour bar with its depth values, a normal
//! key (the colours of the normals of a hemisphere facing the camera), and the small bitmap
//! font they are labelled with.

use pix2scene_scene::{RgbImage, viridis};

/// Glyph width and height of the bitmap font, pixels at scale 1.
const GLYPH: (usize, usize) = (3, 5);

/// Rows of a 3×5 glyph, most significant of the 3 bits on the left; `None` for a character
/// the font lacks.
fn glyph(c: char) -> Option<[u8; 5]> {
    Some(match c {
        '0' => [0b111, 0b101, 0b101, 0b101, 0b111],
        '1' => [0b010, 0b110, 0b010, 0b010, 0b111],
        '2' => [0b111, 0b001, 0b111, 0b100, 0b111],
        '3' => [0b111, 0b001, 0b111, 0b001, 0b111],
        '4' => [0b101, 0b101, 0b111, 0b001, 0b001],
        '5' => [0b111, 0b100, 0b111, 0b001, 0b111],
        '6' => [0b111, 0b100, 0b111, 0b101, 0b111],
        '7' => [0b111, 0b001, 0b001, 0b001, 0b001],
        '8' => [0b111, 0b101, 0b111, 0b101, 0b111],
        '9' => [0b111, 0b101, 0b111, 0b001, 0b111],
        '.' => [0b000, 0b000, 0b000, 0b000, 0b010],
        '-' => [0b000, 0b000, 0b111, 0b000, 0b000],
        '+' => [0b000, 0b010, 0b111, 0b010, 0b000],
        'x' => [0b000, 0b101, 0b010, 0b101, 0b000],
        'y' => [0b101, 0b101, 0b011, 0b001, 0b110],
        ' ' => [0; 5],
        _ => return None,
    })
}

/// Width in pixels of `text` drawn at `scale` (one blank column between glyphs).
pub(crate) fn text_width(text: &str, scale: usize) -> usize {
    let n = text.chars().count();
    (n * (GLYPH.0 + 1)).saturating_sub(1) * scale
}

/// Height in pixels of a line of text at `scale`.
pub(crate) fn text_height(scale: usize) -> usize {
    GLYPH.1 * scale
}

/// Draws `text` with its top-left corner at (`x`, `y`); pixels outside the image and
/// characters the font lacks are skipped.
pub(crate) fn draw_text(
    img: &mut RgbImage,
    x: usize,
    y: usize,
    text: &str,
    scale: usize,
    color: [f32; 3],
) {
    for (k, c) in text.chars().enumerate() {
        let Some(rows) = glyph(c) else { continue };
        let x0 = x + k * (GLYPH.0 + 1) * scale;
        for (r, bits) in rows.iter().enumerate() {
            for col in 0..GLYPH.0 {
                if bits >> (GLYPH.0 - 1 - col) & 1 == 1 {
                    fill(img, x0 + col * scale, y + r * scale, scale, scale, color);
                }
            }
        }
    }
}

/// Fills a `w`×`h` rectangle, clipped to the image.
pub(crate) fn fill(img: &mut RgbImage, x: usize, y: usize, w: usize, h: usize, color: [f32; 3]) {
    for r in y..(y + h).min(img.height) {
        for c in x..(x + w).min(img.width) {
            let i = (r * img.width + c) * 3;
            img.data[i..i + 3].copy_from_slice(&color);
        }
    }
}

/// Draws a vertical viridis colour bar `w`×`h` at (`x`, `y`): `hi` (bright) at the top, `lo`
/// (dark) at the bottom, as [`pix2scene_scene::depth_to_rgb_in`] colours depth.
pub(crate) fn colour_bar(img: &mut RgbImage, x: usize, y: usize, w: usize, h: usize) {
    for r in 0..h {
        let t = 1.0 - r as f32 / (h.max(2) - 1) as f32;
        fill(img, x, y + r, w, 1, viridis(t).to_array());
    }
}

/// Draws the normal key, a disc of diameter `d` at (`x`, `y`): each point shows the colour of
/// the camera-frame normal of a hemisphere facing the camera there, `(n + 1) / 2` as
/// [`pix2scene_scene::normal_to_rgb`] colours normals (+x right is red, +y up is green).
pub(crate) fn normal_key(img: &mut RgbImage, x: usize, y: usize, d: usize) {
    let radius = d as f32 / 2.0;
    for r in 0..d {
        for c in 0..d {
            let u = (c as f32 + 0.5 - radius) / radius;
            let v = (radius - r as f32 - 0.5) / radius;
            let zz = 1.0 - u * u - v * v;
            if zz >= 0.0 {
                let n = [u, v, zz.sqrt()];
                fill(img, x + c, y + r, 1, 1, n.map(|a| (a + 1.0) * 0.5));
            }
        }
    }
}
