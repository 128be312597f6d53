//! `[model]`: the sizes of the encoder, decoder and critic, checked by the model crate's own
//! configurations.

use pix2scene_model::{CAMERA_DIM, CriticConfig, DecoderConfig, EncoderConfig};
use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};

/// `[model]`: sizes of the encoder, decoder and critic (paper Appendix A, scaled).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ModelSection {
    /// Image side in pixels, `4·2^L` with `L ≥ 1` (8, 16, 32, 64, 128, …). Default 64.
    pub resolution: usize,
    /// Base channel width `w`; layer `i` has `w·2^i` channels. The paper uses 85 at 128². Default 32.
    pub width: usize,
    /// Length of the latent code `z`. Default 128.
    pub z_dim: usize,
    /// Number of scene classes for the class-conditional decoder and critic; 0 = unconditional.
    pub num_classes: usize,
    /// Coarse depth heads of the decoder (see `pix2scene_model::DecoderConfig::coarse_heads`):
    /// 1×1 projections of the features at `R/2, R/4, …`, upsampled and less their image means,
    /// added to the depth before its softplus; at most `log2(resolution / 4)`. 0 = the decoder
    /// of the paper's Table 5 and the PyTorch yardstick. Default 0.
    pub decoder_coarse_heads: usize,
    /// Basic residual blocks after each of the encoder's stride-2 layers (see
    /// `pix2scene_model::EncoderConfig::blocks`); 0 = the encoder of the paper's Table 4.
    /// Default 0.
    pub encoder_blocks: usize,
    /// Factor on the decoder's last-layer output (see `pix2scene_model::DecoderConfig::fine_gain`);
    /// 1 = the paper's decoder. Default 1.
    pub decoder_fine_gain: f64,
    /// Whether the encoder, decoder and critic are conditioned on the camera position (paper
    /// section 3.3.3). `false` for 3D-IQTT, where the view is unknown and part of `z` (paper
    /// Appendix D). Default true.
    pub camera: bool,
    /// A foreground-mask channel in the decoder whose mask composites the rendered surfels over
    /// black (see [`foreground`](crate::foreground)), for images of an object on a black
    /// background (3D-IQTT). Default false.
    pub foreground_mask: bool,
}

impl Default for ModelSection {
    fn default() -> Self {
        Self {
            resolution: 64,
            width: 32,
            z_dim: 128,
            num_classes: 0,
            decoder_coarse_heads: 0,
            encoder_blocks: 0,
            decoder_fine_gain: 1.0,
            camera: true,
            foreground_mask: false,
        }
    }
}

impl ModelSection {
    /// Length of the camera vector the networks take: 3, or 0 without camera conditioning.
    pub fn camera_dim(&self) -> usize {
        if self.camera { CAMERA_DIM } else { 0 }
    }

    /// The encoder's configuration.
    pub fn encoder(&self) -> EncoderConfig {
        EncoderConfig::new(self.resolution)
            .with_width(self.width)
            .with_z_dim(self.z_dim)
            .with_camera_dim(self.camera_dim())
            .with_blocks(self.encoder_blocks)
    }

    /// The decoder's configuration.
    pub fn decoder(&self) -> DecoderConfig {
        DecoderConfig::new(self.resolution)
            .with_width(self.width)
            .with_z_dim(self.z_dim)
            .with_num_classes(self.num_classes)
            .with_coarse_heads(self.decoder_coarse_heads)
            .with_fine_gain(self.decoder_fine_gain)
            .with_camera_dim(self.camera_dim())
            .with_foreground_mask(self.foreground_mask)
    }

    /// The critic's configuration.
    pub fn critic(&self) -> CriticConfig {
        CriticConfig::new(self.resolution)
            .with_width(self.width)
            .with_z_dim(self.z_dim)
            .with_num_classes(self.num_classes)
            .with_camera_dim(self.camera_dim())
    }

    /// Checks the section through the networks' own configurations
    /// ([`EncoderConfig::validate`] and the decoder's and critic's), naming the preset key.
    ///
    /// # Errors
    /// [`Error::InvalidValue`] naming the key (`model.resolution`, `model.decoder_fine_gain`, …)
    /// and its value.
    pub fn validate(&self) -> Result<()> {
        self.encoder().validate().map_err(preset_key)?;
        self.decoder().validate().map_err(preset_key)?;
        self.critic().validate().map_err(preset_key)
    }
}

/// A network configuration's error as the `[model]` key it comes from.
fn preset_key(err: pix2scene_model::Error) -> Error {
    match err {
        pix2scene_model::Error::Config {
            field,
            value,
            expected,
            ..
        } => {
            let key = match field {
                "coarse_heads" | "fine_gain" => format!("model.decoder_{field}"),
                field => format!("model.{field}"),
            };
            Error::invalid(key, value, format!("must be {expected}"))
        }
        err => Error::Model(err),
    }
}

#[cfg(test)]
mod tests {
    use crate::testutil::preset;

    #[test]
    fn out_of_range_values_name_key_and_value() {
        let cases = [
            (
                "model.resolution=48",
                "model.resolution = 48: must be 4·2^L with L ≥ 1 (8, 16, 32, 64, 128, …)",
            ),
            ("model.width=0", "model.width = 0: must be at least 1"),
            ("model.z_dim=0", "model.z_dim = 0: must be at least 1"),
            (
                "model.decoder_fine_gain=0",
                "model.decoder_fine_gain = 0: must be a positive number",
            ),
            (
                "model.decoder_coarse_heads=5",
                "model.decoder_coarse_heads = 5: must be at most log2(resolution / 4) = 4",
            ),
        ];
        for (arg, expected) in cases {
            assert_eq!(preset(&[arg]).unwrap_err().to_string(), expected);
        }
    }
}
