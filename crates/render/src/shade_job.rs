//! `pix2scene shade`: depth maps in a `.npy` file → images in a `.npy` or `.png` file.

use std::path::{Path, PathBuf};

use burn::tensor::{Device, Tensor, TensorData};

use crate::error::{Error, Result};
use crate::npy::{self, NpyArray};
use crate::params::ShadeParams;
use crate::renderer::RendererConfig;

/// One run of `pix2scene shade`.
#[derive(Clone, Debug, PartialEq)]
pub struct ShadeJob {
    /// Depth maps: `.npy`, `float32`, `[height, width]` or `[batch, height, width]`, square.
    pub depth: PathBuf,
    /// Shading parameters (JSON, the format of [`ShadeParams`]); `None` for the defaults.
    pub params: Option<PathBuf>,
    /// Output: `.npy` (`[batch, height, width, 3]` float32, not clamped, as
    /// `bench/torch_reference.py shade`) or `.png` (the batch side by side, clamped to [0, 1], 8-bit).
    pub out: PathBuf,
}

impl ShadeJob {
    /// Reads, renders and writes. Returns the shape of the written image array.
    ///
    /// # Errors
    /// Any error of [`npy::read_f32`], [`ShadeParams::from_file`] and [`shade_depth`]; an
    /// [`Error::InvalidValue`] if `out` ends in neither `.npy` nor `.png`; [`Error::Io`] when
    /// writing fails.
    pub fn run(&self) -> Result<[usize; 4]> {
        let kind = self
            .out
            .extension()
            .and_then(|e| e.to_str())
            .map(str::to_ascii_lowercase);
        if !matches!(kind.as_deref(), Some("npy" | "png")) {
            return Err(Error::InvalidValue {
                field: "--out".into(),
                message: format!("{}: expected a .npy or .png file name", self.out.display()),
            });
        }
        let params = match &self.params {
            Some(path) => ShadeParams::from_file(path)?,
            None => ShadeParams::default(),
        };
        let depth = npy::read_f32(&self.depth)?;
        let (image, shape) = shade_depth(&depth, &params, &self.depth, &Device::flex())?;
        if kind.as_deref() == Some("npy") {
            npy::write_f32(&self.out, &shape, &image)?;
        } else {
            write_png(&self.out, &image, shape)?;
        }
        Ok(shape)
    }
}

/// Renders the depth maps of a `.npy` array with the given parameters.
///
/// Returns the images `[batch, height, width, 3]` (linear RGB, not clamped) and that shape.
/// `source` names the file in error messages.
///
/// # Errors
/// [`Error::Shape`] unless `depth` is `[height, width]` or `[batch, height, width]` with
/// `height = width ≥ 2`; [`Error::InvalidDepth`] at the first value that is NaN, infinite or not
/// positive; [`Error::Params`] if a per-sample light list does not match the batch.
pub fn shade_depth(
    depth: &NpyArray,
    params: &ShadeParams,
    source: &Path,
    device: &Device,
) -> Result<(Vec<f32>, [usize; 4])> {
    let [batch, h, w] = match depth.shape[..] {
        [h, w] => [1, h, w],
        [b, h, w] => [b, h, w],
        _ => [0, 0, 0],
    };
    if batch == 0 || h != w || h < 2 {
        return Err(Error::Shape {
            path: source.to_path_buf(),
            name: "depth".into(),
            expected: "[height, width] or [batch, height, width], square, at least 2×2".into(),
            got: depth.shape.clone(),
        });
    }
    if let Some((index, &value)) = depth
        .data
        .iter()
        .enumerate()
        .find(|(_, v)| !(v.is_finite() && **v > 0.0))
    {
        return Err(Error::InvalidDepth {
            path: source.to_path_buf(),
            index,
            value,
        });
    }
    let (pos, col) = params
        .light_arrays(batch)
        .map_err(|message| Error::Params {
            path: source.to_path_buf(),
            message,
        })?;
    let lights = params.lights.len();
    let renderer = RendererConfig::from_shading(h, &params.shading())
        .with_fov_y_deg(params.fovy_deg)
        .init(device);
    let depth_t =
        Tensor::<3>::from_data(TensorData::new(depth.data.clone(), [batch, h, w]), device);
    let pos = Tensor::<3>::from_data(TensorData::new(pos, [batch, lights, 3]), device);
    let col = Tensor::<3>::from_data(TensorData::new(col, [batch, lights, 3]), device);
    let image = renderer
        .forward(depth_t, pos, col)
        .image
        .permute([0, 2, 3, 1])
        .into_data()
        .try_into_vec::<f32>()
        .expect("renderer output is f32");
    Ok((image, [batch, h, w, 3]))
}

/// Writes `[batch, height, width, 3]` images side by side as one 8-bit RGB PNG.
fn write_png(path: &Path, image: &[f32], [batch, h, w, _]: [usize; 4]) -> Result<()> {
    let width = batch * w;
    let mut pixels = vec![0u8; h * width * 3];
    for b in 0..batch {
        for r in 0..h {
            for c in 0..w {
                for ch in 0..3 {
                    let v = image[((b * h + r) * w + c) * 3 + ch];
                    pixels[(r * width + b * w + c) * 3 + ch] =
                        (v.clamp(0.0, 1.0) * 255.0).round() as u8;
                }
            }
        }
    }
    let io = |source| Error::Io {
        path: path.to_path_buf(),
        source,
    };
    let file = std::fs::File::create(path).map_err(io)?;
    let mut encoder = png::Encoder::new(std::io::BufWriter::new(file), width as u32, h as u32);
    encoder.set_color(png::ColorType::Rgb);
    encoder.set_depth(png::BitDepth::Eight);
    let to_io = |e: png::EncodingError| Error::Io {
        path: path.to_path_buf(),
        source: std::io::Error::other(e),
    };
    let mut writer = encoder.write_header().map_err(to_io)?;
    writer.write_image_data(&pixels).map_err(to_io)?;
    writer.finish().map_err(to_io)
}
