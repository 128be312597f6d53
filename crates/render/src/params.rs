//! The shading parameters file read by `pix2scene shade` (and by `bench/torch_reference.py shade
//! --params`).

use std::path::Path;

use pix2scene_scene::{ShadingConstants, glam::Vec3, one_line};
use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};

/// Shading parameters: camera field of view, Eq. 1 constants and the lights.
///
/// JSON keys as `bench/torch_reference.py shade --params`: `fovy_deg`, `albedo`, `ambient`, `kl`, `kq`,
/// `lights: [{pos_cam, color}]`. A missing key takes its value from the yardstick's
/// defaults (see [`ShadeParams::default`]); an unknown key is an error.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ShadeParams {
    /// Vertical field of view, degrees.
    pub fovy_deg: f32,
    /// Diffuse reflectance ρ, RGB.
    pub albedo: [f32; 3],
    /// Ambient light colour, RGB.
    pub ambient: [f32; 3],
    /// Linear attenuation, per scene unit.
    pub kl: f32,
    /// Quadratic attenuation, per squared scene unit.
    pub kq: f32,
    /// Point lights, camera frame.
    pub lights: Vec<LightParams>,
}

/// One point light of a [`ShadeParams`] file.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LightParams {
    /// Position, camera frame, scene units: one for every sample, or one per sample.
    pub pos_cam: LightPosition,
    /// Linear RGB colour.
    pub color: [f32; 3],
}

/// Position of a light: shared by the whole batch or given per sample.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum LightPosition {
    /// The same position for every sample, `[x, y, z]`.
    Shared([f32; 3]),
    /// One position per sample, `[[x, y, z]; batch]`.
    PerSample(Vec<[f32; 3]>),
}

impl Default for ShadeParams {
    /// The yardstick's defaults (`bench/torch_reference.py`: `Shading()` and `LIGHTS`).
    fn default() -> Self {
        let light = |p: [f32; 3], c: [f32; 3]| LightParams {
            pos_cam: LightPosition::Shared(p),
            color: c,
        };
        Self {
            fovy_deg: 26.0,
            albedo: [0.6; 3],
            ambient: [0.1; 3],
            kl: 0.5,
            kq: 0.5,
            lights: vec![
                light([0.3, 0.6, 0.2], [0.8, 0.8, 0.8]),
                light([-0.5, 0.4, 0.1], [0.8, 0.1, 0.1]),
                light([0.4, -0.2, 0.3], [0.2, 0.8, 0.2]),
            ],
        }
    }
}

impl ShadeParams {
    /// Reads a parameters file.
    ///
    /// # Errors
    /// [`Error::Io`] if it cannot be read; [`Error::Params`] if it is not valid JSON of this
    /// format (the message names an unknown key), or a value is out of range.
    pub fn from_file(path: &Path) -> Result<Self> {
        let text = std::fs::read_to_string(path).map_err(|source| Error::Io {
            path: path.to_path_buf(),
            source,
        })?;
        Self::from_json(&text).map_err(|message| Error::Params {
            path: path.to_path_buf(),
            message,
        })
    }

    /// Parses the JSON text of a parameters file; the error is a one-line message.
    pub fn from_json(text: &str) -> std::result::Result<Self, String> {
        let params: Self = serde_json::from_str(text).map_err(|e| one_line(&e.to_string()))?;
        if !(params.fovy_deg > 0.0 && params.fovy_deg < 180.0) {
            return Err(format!("fovy_deg: {} is not in (0, 180)", params.fovy_deg));
        }
        if !(params.kl >= 0.0 && params.kq >= 0.0 && params.kl + params.kq > 0.0) {
            return Err(format!(
                "kl, kq: ({}, {}) must be non-negative and not both 0",
                params.kl, params.kq
            ));
        }
        Ok(params)
    }

    /// The Eq. 1 constants.
    pub fn shading(&self) -> ShadingConstants {
        ShadingConstants {
            albedo: Vec3::from(self.albedo),
            ambient: Vec3::from(self.ambient),
            k_l: self.kl,
            k_q: self.kq,
        }
    }

    /// Light positions and colours of each of `batch` samples, flattened `[batch, lights, 3]`.
    ///
    /// # Errors
    /// A message if a per-sample position list does not have `batch` entries.
    pub fn light_arrays(&self, batch: usize) -> std::result::Result<(Vec<f32>, Vec<f32>), String> {
        let mut pos = Vec::with_capacity(batch * self.lights.len() * 3);
        let mut col = Vec::with_capacity(pos.capacity());
        for b in 0..batch {
            for (j, light) in self.lights.iter().enumerate() {
                let p = match &light.pos_cam {
                    LightPosition::Shared(p) => *p,
                    LightPosition::PerSample(list) if list.len() == batch => list[b],
                    LightPosition::PerSample(list) => {
                        return Err(format!(
                            "lights[{j}].pos_cam has {} positions, expected one per sample ({batch})",
                            list.len()
                        ));
                    }
                };
                pos.extend(p);
                col.extend(light.color);
            }
        }
        Ok((pos, col))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn missing_keys_take_the_yardstick_defaults() {
        let p = ShadeParams::from_json(r#"{"kl": 0.25}"#).unwrap();
        assert_eq!(p.kl, 0.25);
        assert_eq!(p.albedo, [0.6; 3]);
        assert_eq!(p.lights.len(), 3);
    }

    #[test]
    fn unknown_key_is_rejected_by_name() {
        let e = ShadeParams::from_json(r#"{"fov_deg": 30}"#).unwrap_err();
        assert!(
            e.starts_with("unknown field `fov_deg`, expected one of"),
            "{e}"
        );
        let e =
            ShadeParams::from_json(r#"{"lights": [{"pos_cam": [0, 1, 0], "colour": [1, 1, 1]}]}"#)
                .unwrap_err();
        assert!(e.contains("unknown field `colour`"), "{e}");
    }

    /// Regression (found by fuzzing the manifest reader, which shares the cause): an unknown
    /// key holding an escaped line break made a two-line error.
    #[test]
    fn unknown_key_with_a_line_break_stays_on_one_line() {
        let e = ShadeParams::from_json("{\"k\\nl\": 1}").unwrap_err();
        assert!(
            e.starts_with("unknown field `k\\nl`, expected one of"),
            "{e}"
        );
    }

    #[test]
    fn per_sample_positions_must_match_batch() {
        let p = ShadeParams::from_json(
            r#"{"lights": [{"pos_cam": [[0, 1, 0], [0, 2, 0]], "color": [1, 1, 1]}]}"#,
        )
        .unwrap();
        let (pos, _) = p.light_arrays(2).unwrap();
        assert_eq!(pos, vec![0.0, 1.0, 0.0, 0.0, 2.0, 0.0]);
        assert_eq!(
            p.light_arrays(3).unwrap_err(),
            "lights[0].pos_cam has 2 positions, expected one per sample (3)"
        );
    }
}
