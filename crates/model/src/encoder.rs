//! The encoder `E(x, c) → z` (paper Appendix A, Table 4).

use burn::config::Config;
use burn::module::Module;
use burn::nn::PaddingConfig2d;
use burn::nn::conv::{Conv2d, Conv2dConfig};
use burn::tensor::{Device, Tensor, assert_shape};

use crate::activation::leaky_relu;
use crate::camera::check_camera;
use crate::cond_norm::{CondNorm, CondNormConfig};

use crate::conv::conv2d_layer;
use crate::resnet::{Block, BlockConfig};
use crate::stages::{stage_widths, validate};
use crate::work::{ConvShape, Part, part_scope};
use crate::{CAMERA_DIM, IMAGE_CHANNELS};

/// Configuration for an [`Encoder`]; build it with [`EncoderConfig::init`].
#[derive(Config, Debug)]
pub struct EncoderConfig {
    /// Input resolution in pixels, `4·2^L` with `L ≥ 1` (8, 16, 32, 64, 128, …).
    pub resolution: usize,
    /// Base channel width: stage `i` has `width·2^i` channels (the paper uses 85 at 128²).
    #[config(default = 32)]
    pub width: usize,
    /// Length of the latent code `z`.
    #[config(default = 128)]
    pub z_dim: usize,
    /// Length of the camera vector the normalizations are conditioned on: 3 (the camera
    /// position), or 0 for an encoder that takes no camera (3D-IQTT, paper Appendix D).
    #[config(default = "CAMERA_DIM")]
    pub camera_dim: usize,
    /// Basic residual blocks (two 3×3 convolutions, [`Block`]) after each stride-2 layer, at
    /// that layer's width and resolution: depth without downsampling. 0 = the paper's encoder.
    #[config(default = 0)]
    pub blocks: usize,
}

/// Maps an image seen from a known camera to a latent code.
///
/// Layers: `L` convolutions 4×4, stride 2, padding 1, no bias, widths `width·2^i`, each
/// followed by camera-conditional batch normalization ([`CondNorm`]; all but the last) and
/// LeakyReLU(0.2); then a 4×4 valid convolution (with bias) from 4×4 to `z_dim`. With
/// `camera_dim = 0` the normalizations are unconditional (learned scale and shift) and no
/// camera is passed. With `blocks = n`, `n` basic residual blocks (unconditional batch
/// normalization, ReLU) follow each stride-2 layer's activation.
///
/// Paper Table 4 (128², width 85, "BatchNorm: Yes" on all but the last stride-2 layer). Departures:
/// the width is a parameter, the normalization is conditioned on the camera (paper section
/// 3.3.3: "conditional normalization … in the encoder, decoder"), and the last layer outputs
/// `z_dim` values rather than Table 4's `1×1×1` — exactly as the PyTorch yardstick
/// (`bench/torch_reference.py`, class `Encoder`).
#[derive(Module, Debug)]
pub struct Encoder {
    /// The stride-2 convolutions, from the image side.
    pub convs: Vec<Conv2d>,
    /// Conditional normalizations after `convs[i]` for `i < L − 1`.
    pub norms: Vec<CondNorm>,
    /// The residual blocks, `blocks` per stride-2 layer, stage after stage.
    pub blocks: Vec<Block>,
    /// The final 4×4 valid convolution to `z_dim` channels.
    pub head: Conv2d,
    /// Input resolution in pixels.
    pub resolution: usize,
    /// Length of the latent code.
    pub z_dim: usize,
    /// Length of the camera vector (0: no camera conditioning).
    pub camera_dim: usize,
}

impl EncoderConfig {
    /// Checks the configuration.
    ///
    /// # Errors
    /// [`Error::Config`](crate::Error::Config) naming the field when `resolution` is not
    /// `4·2^L` with `L ≥ 1`, or `width` or `z_dim` is 0.
    pub fn validate(&self) -> crate::Result<()> {
        validate("encoder", self.resolution, self.width, self.z_dim).map(|_| ())
    }

    /// The encoder's convolutions on one sample, from the image side (see [`crate::work`]).
    ///
    /// # Errors
    /// As [`EncoderConfig::validate`].
    pub fn conv_shapes(&self) -> crate::Result<Vec<ConvShape>> {
        let stages = validate("encoder", self.resolution, self.width, self.z_dim)?;
        let (mut c_in, mut size) = (IMAGE_CHANNELS, self.resolution);
        let mut shapes = Vec::with_capacity(stages + 1);
        for w in stage_widths(self.width, stages) {
            shapes.push(ConvShape::conv(c_in, w, 4, 2, 1).on([size, size]));
            (c_in, size) = (w, size / 2);
            for _ in 0..2 * self.blocks {
                shapes.push(ConvShape::conv(w, w, 3, 1, 1).on([size, size]));
            }
        }
        shapes.push(ConvShape::conv(c_in, self.z_dim, 4, 1, 0).on([4, 4]));
        Ok(shapes)
    }

    /// Builds the encoder with PyTorch-style (Kaiming-uniform) initial weights.
    ///
    /// # Panics
    /// If [`EncoderConfig::validate`] fails; the message names the field.
    pub fn init(&self, device: &Device) -> Encoder {
        let stages = match validate("encoder", self.resolution, self.width, self.z_dim) {
            Ok(stages) => stages,
            Err(err) => panic!("{err}"),
        };
        let widths = stage_widths(self.width, stages);
        let mut c_in = IMAGE_CHANNELS;
        let mut convs = Vec::with_capacity(stages);
        for &w in &widths {
            convs.push(
                Conv2dConfig::new([c_in, w], [4, 4])
                    .with_stride([2, 2])
                    .with_padding(PaddingConfig2d::Explicit(1, 1, 1, 1))
                    .with_bias(false)
                    .init(device),
            );
            c_in = w;
        }
        let norms = widths[..stages - 1]
            .iter()
            .map(|&w| {
                CondNormConfig::new(w)
                    .with_cond_dim(self.camera_dim)
                    .init(device)
            })
            .collect();
        let blocks = widths
            .iter()
            .flat_map(|&w| std::iter::repeat_n(w, self.blocks))
            .map(|w| BlockConfig::new(w, w).with_bottleneck(false).init(device))
            .collect();
        let head = Conv2dConfig::new([c_in, self.z_dim], [4, 4]).init(device);
        Encoder {
            convs,
            norms,
            blocks,
            head,
            resolution: self.resolution,
            z_dim: self.z_dim,
            camera_dim: self.camera_dim,
        }
    }
}

impl Encoder {
    /// Encodes images into latent codes.
    ///
    /// # Shapes
    /// - `x`: `[batch, 3, resolution, resolution]`, RGB in `[0, 1]`
    /// - `camera`: `[batch, 3]`, camera position, world frame, scene units (see the
    ///   `# Conventions` of `pix2scene-scene`); `None` when `camera_dim = 0`
    /// - returns `[batch, z_dim]`
    ///
    /// # Panics
    /// If the shapes do not match the above, or a camera is given to an encoder without camera
    /// conditioning or missing for a conditioned one.
    pub fn forward(&self, x: Tensor<4>, camera: Option<Tensor<2>>) -> Tensor<2> {
        let [batch, _, _, _] = x.dims();
        assert_shape!(x, [_, IMAGE_CHANNELS, self.resolution, self.resolution]);
        check_camera("encoder", self.camera_dim, camera.as_ref(), batch);
        let _part = part_scope(Part::Encoder);
        let per_stage = self.blocks.len() / self.convs.len();
        let mut h = x;
        for (i, conv) in self.convs.iter().enumerate() {
            h = conv2d_layer(conv, h);
            if let Some(norm) = self.norms.get(i) {
                h = norm.forward(h, camera.clone());
            }
            h = leaky_relu(h);
            for block in &self.blocks[i * per_stage..(i + 1) * per_stage] {
                h = block.forward(h);
            }
        }
        conv2d_layer(&self.head, h).reshape([batch, self.z_dim])
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testutil::{Rng, device};

    /// Hand count: convs `Σ c_in·w·16` (no bias), norms `Σ_{i<L-1} (3·2w + 2w)`, head
    /// `c_L·z·16 + z`.
    fn expected_params(resolution: usize, width: usize, z: usize) -> usize {
        let stages = (resolution / 4).trailing_zeros() as usize;
        let mut c_in = 3;
        let mut total = 0;
        for i in 0..stages {
            let w = width << i;
            total += c_in * w * 16;
            if i + 1 < stages {
                total += 8 * w;
            }
            c_in = w;
        }
        total + c_in * z * 16 + z
    }

    #[test]
    fn encoder_parameter_count_matches_formula() {
        let device = device();
        for (r, w, z) in [(8, 4, 5), (16, 4, 6), (32, 3, 7)] {
            let enc = EncoderConfig::new(r)
                .with_width(w)
                .with_z_dim(z)
                .init(&device);
            // num_params also counts the running mean and variance (2w per norm).
            let running: usize = enc.norms.iter().map(|n| 2 * n.channels).sum();
            assert_eq!(
                enc.num_params() - running,
                expected_params(r, w, z),
                "R={r} w={w}"
            );
        }
        // (16, 4, 6): 3·4·16 + 8·4 + 4·8·16 + 8·6·16 + 6 = 192 + 32 + 512 + 774 = 1510.
        assert_eq!(expected_params(16, 4, 6), 1510);
    }

    /// Each residual block adds two bias-free 3×3 convolutions of its stage's width and two
    /// batch normalizations (scale and shift; the running statistics are not parameters), and
    /// the forward pass runs exactly the convolutions [`EncoderConfig::conv_shapes`] lists.
    #[test]
    fn residual_blocks_add_their_weights_and_listed_convolutions() {
        let (device, mut rng) = (device(), Rng::new(13));
        let (r, w, z) = (16, 4, 6);
        let config = EncoderConfig::new(r).with_width(w).with_z_dim(z);
        let plain = config.init(&device);
        let deep = config.clone().with_blocks(2).init(&device);
        assert_eq!(deep.blocks.len(), 4);
        // Per block: 2·9·c² weights, 2·2c scale and shift, 2·2c running statistics.
        let per_block = |c: usize| 2 * 9 * c * c + 8 * c;
        assert_eq!(
            deep.num_params() - plain.num_params(),
            2 * (per_block(w) + per_block(2 * w))
        );
        let x = rng.tensor([2, 3, r, r], 0.0, 1.0, &device);
        let cam = rng.tensor([2, 3], 0.0, 1.0, &device);
        crate::work::start_recording();
        assert_eq!(deep.forward(x, Some(cam)).dims(), [2, z]);
        let mut ran: Vec<ConvShape> = crate::work::take_records()
            .into_iter()
            .flat_map(|rec| std::iter::repeat_n(rec.shape, rec.calls as usize))
            .collect();
        let mut listed = config.with_blocks(2).conv_shapes().unwrap();
        assert_eq!(listed.len(), 2 + 2 * 4 + 1);
        ran.sort();
        listed.sort();
        assert_eq!(ran, listed);
    }

    #[test]
    fn encoder_output_shape_and_camera_dependence() {
        let (device, mut rng) = (device(), Rng::new(11));
        let mut enc = EncoderConfig::new(16)
            .with_width(4)
            .with_z_dim(6)
            .init(&device);
        let x = rng.tensor([3, 3, 16, 16], 0.0, 1.0, &device);
        let cam = rng.tensor([3, 3], 0.0, 1.0, &device);
        let z = enc.forward(x.clone(), Some(cam.clone()));
        assert_eq!(z.dims(), [3, 6]);
        // With the zero-initialised camera weights the camera cannot matter …
        let z_moved = enc.forward(x.clone(), Some(cam.clone().add_scalar(0.3)));
        assert_eq!(z.to_data(), z_moved.to_data());
        // … and after perturbing them it does.
        enc.norms[0].affine.weight =
            burn::module::Param::from_tensor(rng.tensor([3, 8], -1.0, 1.0, &device));
        let a = crate::testutil::to_vec(enc.forward(x.clone(), Some(cam.clone())));
        let b = crate::testutil::to_vec(enc.forward(x, Some(cam.add_scalar(0.3))));
        assert!(crate::testutil::max_abs_diff(&a, &b) > 1e-4);
    }

    /// A camera-free encoder (3D-IQTT) maps a constant 1 to each norm's scale and shift where
    /// the conditioned one maps the 3 camera coordinates (`4w` fewer weights per norm), and
    /// runs without a camera.
    #[test]
    fn camera_free_encoder_takes_no_camera() {
        let (device, mut rng) = (device(), Rng::new(12));
        let config = EncoderConfig::new(16).with_width(4).with_z_dim(6);
        let with = config.init(&device);
        let without = config.clone().with_camera_dim(0).init(&device);
        // One norm of 4 channels: Linear 3 → 8 (32 weights) against Linear 1 → 8 (16).
        assert_eq!(with.num_params() - without.num_params(), 16);
        let x = rng.tensor([2, 3, 16, 16], 0.0, 1.0, &device);
        assert_eq!(without.forward(x, None).dims(), [2, 6]);
    }

    #[test]
    fn bad_encoder_config_is_rejected_by_name() {
        let err = EncoderConfig::new(24).validate().unwrap_err();
        assert!(
            err.to_string()
                .starts_with("encoder config: field `resolution` is 24"),
            "{err}"
        );
        let err = EncoderConfig::new(32).with_width(0).validate().unwrap_err();
        assert_eq!(
            err.to_string(),
            "encoder config: field `width` is 0, expected at least 1"
        );
    }

    #[test]
    #[should_panic(expected = "encoder config: field `resolution` is 20")]
    fn init_panics_naming_the_field() {
        let _ = EncoderConfig::new(20).init(&device());
    }
}
