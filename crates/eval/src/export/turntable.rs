//! Turntable GIFs: novel views of one scene, each frame the rendered image, its depth and its
//! normals side by side.

use std::path::Path;

use pix2scene_scene::atomic_file::write_atomic;
use pix2scene_scene::{RgbImage, depth_range, depth_to_rgb_in, normal_to_rgb, to_u8};

use crate::error::{Error, Result};
use crate::points::PixelRays;

/// Gap between the three panels of a frame, pixels.
const GAP: usize = 2;

/// NeuQuant sampling factor of the GIF palettes (1 = best, 30 = fastest; 10 is the `gif`
/// crate's default quality).
const QUANTIZER_SPEED: i32 = 10;

/// One view of a turntable.
///
/// # Shapes
/// - `image`: `[size, size, 3]`, linear RGB in [0, 1] (clamped)
/// - `depth`: `[size, size]`, depth along each pixel ray, scene units
/// - `normal`: `[size, size, 3]`, unit normals, camera frame
/// - `mask`: `[size, size]`, nonzero where depth and normals are shown (black elsewhere)
#[derive(Clone, Debug, PartialEq)]
pub struct TurntableFrame {
    /// The rendered view.
    pub image: Vec<f32>,
    /// Its depth map.
    pub depth: Vec<f32>,
    /// Its normal map.
    pub normal: Vec<f32>,
    /// Where depth and normals are shown.
    pub mask: Vec<u8>,
}

/// Pixel size `(width, height)` of the frames of a turntable of `size`-pixel views.
pub fn turntable_frame_size(size: usize) -> (usize, usize) {
    (3 * size + 2 * GAP, size)
}

/// Writes `frames` as an animated GIF that loops forever (atomically): each frame shows image |
/// depth | normals, the depth coloured (viridis, dark = near) over one range shared by all
/// frames so that colours compare across views, `delay_ms` per frame (GIF rounds it to 10 ms).
///
/// # Errors
/// [`Error::InvalidValue`] if `frames` is empty or a frame is too wide for a GIF;
/// [`Error::Shape`] for an array of the wrong length; [`Error::Encode`] or [`Error::Io`]
/// naming the file.
pub fn write_turntable_gif(
    path: &Path,
    rays: &PixelRays,
    frames: &[TurntableFrame],
    delay_ms: u32,
) -> Result<()> {
    if frames.is_empty() {
        return Err(Error::InvalidValue {
            field: "turntable".into(),
            message: "no frame to write".into(),
        });
    }
    for f in frames {
        rays.check_len("image", f.image.len(), 3)?;
        rays.check_len("depth", f.depth.len(), 1)?;
        rays.check_len("normal", f.normal.len(), 3)?;
        rays.check_len("mask", f.mask.len(), 1)?;
    }
    let s = rays.size_px();
    let (w, h) = turntable_frame_size(s);
    let too_big = || Error::InvalidValue {
        field: "turntable".into(),
        message: format!("{w}×{h} frames exceed the GIF limit of 65535 pixels"),
    };
    let (w16, h16) = (
        u16::try_from(w).map_err(|_| too_big())?,
        u16::try_from(h).map_err(|_| too_big())?,
    );
    let [lo, hi] = frames
        .iter()
        .filter_map(|f| depth_range(&f.depth, &f.mask))
        .reduce(|a, b| [a[0].min(b[0]), a[1].max(b[1])])
        .unwrap_or([0.0, 1.0]);
    let encode = |e: gif::EncodingError| Error::Encode {
        path: path.to_path_buf(),
        message: e.to_string(),
    };
    let mut bytes = Vec::new();
    {
        let mut encoder = gif::Encoder::new(&mut bytes, w16, h16, &[]).map_err(encode)?;
        encoder.set_repeat(gif::Repeat::Infinite).map_err(encode)?;
        for f in frames {
            let mut panel = RgbImage::new(w, h);
            panel.paste(&f.image, s, 0, 0);
            panel.paste(&depth_to_rgb_in(&f.depth, &f.mask, lo, hi), s, s + GAP, 0);
            panel.paste(&normal_to_rgb(&f.normal, &f.mask), s, 2 * (s + GAP), 0);
            let mut frame =
                gif::Frame::from_rgb_speed(w16, h16, &to_u8(&panel.data), QUANTIZER_SPEED);
            frame.delay = u16::try_from(delay_ms.div_ceil(10)).unwrap_or(u16::MAX);
            encoder.write_frame(&frame).map_err(encode)?;
        }
    }
    Ok(write_atomic(path, &bytes)?)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testutil::Scratch;

    fn frame(s: usize, k: usize) -> TurntableFrame {
        let n = s * s;
        TurntableFrame {
            image: (0..3 * n)
                .map(|i| ((i + k * 7) % 11) as f32 / 10.0)
                .collect(),
            depth: (0..n).map(|i| 0.5 + (i + k) as f32 / n as f32).collect(),
            normal: (0..3 * n)
                .map(|i| ((i * 3 + k) as f32 * 0.1).sin())
                .collect(),
            mask: (0..n).map(|i| u8::from(i % 7 != 0)).collect(),
        }
    }

    #[test]
    fn the_gif_decodes_with_its_frame_count_size_and_delay() {
        let dir = Scratch::new("gif");
        let rays = PixelRays::new(26.0, 12);
        let frames: Vec<TurntableFrame> = (0..5).map(|k| frame(12, k)).collect();
        let path = dir.join("turntable.gif");
        write_turntable_gif(&path, &rays, &frames, 120).unwrap();
        let mut options = gif::DecodeOptions::new();
        options.set_color_output(gif::ColorOutput::RGBA);
        let mut decoder = options
            .read_info(std::fs::File::open(&path).unwrap())
            .unwrap();
        let (w, h) = turntable_frame_size(12);
        assert_eq!(
            (decoder.width() as usize, decoder.height() as usize),
            (w, h)
        );
        assert_eq!((w, h), (40, 12));
        let mut count = 0;
        while let Some(f) = decoder.read_next_frame().unwrap() {
            assert_eq!((f.width as usize, f.height as usize), (w, h));
            assert_eq!(f.delay, 12);
            count += 1;
        }
        assert_eq!(count, 5);
        assert_eq!(
            write_turntable_gif(&path, &rays, &[], 100)
                .unwrap_err()
                .to_string(),
            "turntable: no frame to write"
        );
    }
}
