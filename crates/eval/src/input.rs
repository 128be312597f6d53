//! A bare image given to `reconstruct`: an 8-bit PNG and a small JSON file with its camera and
//! lights.
//!
//! # Camera file
//!
//! ```json
//! {
//!   "eye": [0.75, 0.45, 0.8],
//!   "at": [0.25, 0.1, 0.25],
//!   "up": [0, 1, 0],
//!   "fov_y_deg": 26,
//!   "lights": [{"position": [0.6, 0.9, 0.5], "color": [1, 1, 1]}]
//! }
//! ```
//!
//! World frame and scene units (the crate's [conventions](pix2scene_scene#conventions)): the
//! camera's centre `eye`, its look-at point `at`, its `up` vector (optional, default +y) and
//! vertical field of view in degrees (optional, default the model's scenes'); one to three
//! point lights, positions in the world frame and linear RGB colours. `camera.json`, written
//! by `reconstruct` for a dataset record, has this format.

use std::path::Path;

use pix2scene_scene::glam::Vec3;
use pix2scene_scene::{Camera, Frame, MAX_LIGHTS, PointLight, Sample};
use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};

/// The camera and lights of a bare image (see the module's [camera file](self#camera-file)).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CameraFile {
    /// Centre of projection, world frame.
    pub eye: Vec3,
    /// Look-at point, world frame.
    pub at: Vec3,
    /// Up vector, world frame.
    #[serde(default = "up")]
    pub up: Vec3,
    /// Vertical field of view, degrees.
    #[serde(default)]
    pub fov_y_deg: Option<f32>,
    /// Point lights, world frame.
    pub lights: Vec<PointLight>,
}

fn up() -> Vec3 {
    Vec3::Y
}

impl CameraFile {
    /// The camera file of a record.
    pub fn of(sample: &Sample) -> Self {
        Self {
            eye: sample.camera.eye,
            at: sample.camera.at,
            up: sample.camera.up,
            fov_y_deg: Some(sample.camera.fov_y_deg),
            lights: sample.lights.clone(),
        }
    }

    /// Reads and checks a camera file.
    ///
    /// # Errors
    /// [`Error::Input`] naming the file: unreadable, not JSON of this format, no light or more
    /// than three, a non-finite value, `eye` at `at`, or a field of view outside (0, 180).
    pub fn read(path: &Path) -> Result<Self> {
        let bad = |message: String| Error::Input {
            path: path.to_path_buf(),
            message,
        };
        let text = std::fs::read_to_string(path).map_err(|e| bad(e.to_string()))?;
        let file: Self = serde_json::from_str(&text).map_err(|e| bad(one_line(&e.to_string())))?;
        if file.lights.is_empty() || file.lights.len() > MAX_LIGHTS {
            return Err(bad(format!(
                "lights: {} given, expected 1 to {MAX_LIGHTS}",
                file.lights.len()
            )));
        }
        let values = [file.eye, file.at, file.up]
            .into_iter()
            .chain(file.lights.iter().flat_map(|l| [l.position, l.color]));
        if values.into_iter().any(|v| !v.is_finite()) || file.eye == file.at {
            return Err(bad("eye, at, up and lights must be finite, eye ≠ at".into()));
        }
        if let Some(f) = file.fov_y_deg
            && !(f > 0.0 && f < 180.0)
        {
            return Err(bad(format!(
                "fov_y_deg = {f}: expected a value in (0, 180)"
            )));
        }
        Ok(file)
    }

    /// The camera, with `default_fov_y_deg` where the file gives none.
    pub fn camera(&self, default_fov_y_deg: f32) -> Camera {
        Camera {
            eye: self.eye,
            at: self.at,
            up: self.up,
            fov_y_deg: self.fov_y_deg.unwrap_or(default_fov_y_deg),
        }
    }
}

/// serde's message without line breaks.
fn one_line(message: &str) -> String {
    message.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// Reads an 8-bit RGB or RGBA PNG of `size`² pixels as linear values in [0, 1] (the dataset's
/// images are stored and shown without a transfer curve), `[size, size, 3]`.
///
/// # Errors
/// [`Error::Input`] naming the file: unreadable, not a PNG, not 8-bit RGB(A) or greyscale, not
/// square, or not `size` pixels on a side.
pub fn read_png(path: &Path, size: usize) -> Result<Vec<f32>> {
    let bad = |message: String| Error::Input {
        path: path.to_path_buf(),
        message,
    };
    let file = std::fs::File::open(path).map_err(|e| bad(e.to_string()))?;
    let mut decoder = png::Decoder::new(std::io::BufReader::new(file));
    decoder.set_transformations(png::Transformations::EXPAND | png::Transformations::STRIP_16);
    let mut reader = decoder
        .read_info()
        .map_err(|e| bad(format!("not a readable PNG ({e})")))?;
    let (w, h) = (reader.info().width as usize, reader.info().height as usize);
    if w != h {
        return Err(bad(format!(
            "image is {w}×{h} pixels; a square image is needed"
        )));
    }
    if w != size {
        return Err(bad(format!(
            "image is {w}×{w} pixels, the model takes {size}×{size}"
        )));
    }
    let mut buf = vec![0; reader.output_buffer_size().unwrap_or(0)];
    let info = reader
        .next_frame(&mut buf)
        .map_err(|e| bad(format!("not a readable PNG ({e})")))?;
    let channels = info.color_type.samples();
    let bytes = &buf[..info.buffer_size()];
    Ok((0..w * h)
        .flat_map(|p| {
            let px = &bytes[p * channels..(p + 1) * channels];
            let rgb = if channels >= 3 {
                [px[0], px[1], px[2]]
            } else {
                [px[0]; 3]
            };
            rgb.map(|v| f32::from(v) / 255.0)
        })
        .collect())
}

/// A bare image as a record: the image, its camera and lights; no ground truth (depth 0, mask
/// 0) and no class label.
pub fn bare_sample(
    image: Vec<f32>,
    size: usize,
    camera: Camera,
    lights: Vec<PointLight>,
) -> Sample {
    let lights_cam = lights
        .iter()
        .map(|l| PointLight {
            position: camera.point_to_camera(l.position),
            color: l.color,
        })
        .collect();
    let mut frame = Frame::empty(size);
    frame.image = image;
    Sample {
        frame,
        camera,
        lights,
        lights_cam,
        class: None,
    }
}
