//! The decoder `G(z, c) → depth` (paper Appendix A, Table 5); its optional coarse depth heads
//! are in [`coarse_heads`](self::coarse_heads).

mod coarse_heads;

use burn::config::Config;
use burn::module::Module;
use burn::nn::Initializer;
use burn::nn::conv::{Conv2d, ConvTranspose2d, ConvTranspose2dConfig};
use burn::tensor::activation::{sigmoid, softplus};
use burn::tensor::{Device, Tensor, assert_shape};

use crate::activation::leaky_relu;
use crate::cond_norm::{CondNorm, CondNormConfig};

use crate::CAMERA_DIM;
use crate::camera::check_camera;
use crate::class::check_class;
use crate::conv::conv_transpose2d_layer;
use crate::error::Error;
use crate::stages::{stage_widths, validate};
use crate::work::{ConvShape, Part, part_scope};

/// Smallest depth the decoder can output, in scene units: `depth = MIN_DEPTH + softplus(h)`.
pub const MIN_DEPTH: f64 = 0.2;

/// burn's Kaiming-uniform initializer (PyTorch's default for convolutions) scaled by `gain`.
fn kaiming(gain: f64) -> Initializer {
    Initializer::KaimingUniform {
        gain: gain / 3f64.sqrt(),
        fan_out_only: false,
    }
}

/// Configuration for a [`Decoder`]; build it with [`DecoderConfig::init`].
#[derive(Config, Debug)]
pub struct DecoderConfig {
    /// Output resolution in pixels, `4·2^L` with `L ≥ 1` (8, 16, 32, 64, 128, …).
    pub resolution: usize,
    /// Base channel width: the stage at resolution `R/2^(i+1)` has `width·2^i` channels (the
    /// paper uses about 85 at 128²).
    #[config(default = 32)]
    pub width: usize,
    /// Length of the latent code `z`.
    #[config(default = 128)]
    pub z_dim: usize,
    /// Number of classes for class-conditional generation; 0 for an unconditional decoder.
    #[config(default = 0)]
    pub num_classes: usize,
    /// Scale of the last layer's initial weights and bias relative to burn's (PyTorch's)
    /// default Kaiming-uniform. At scale 1 the initial depth map is per-pixel noise of about
    /// one scene unit (the last transposed convolution has a fan-in of only 16), whose normals
    /// are random: every early gradient then goes into that noise. The default 0.01 starts
    /// from a nearly flat depth map at `0.2 + softplus(0) ≈ 0.89`, the scale of the scenes.
    #[config(default = 0.01)]
    pub output_init_scale: f64,
    /// Number of coarse depth heads (0 = paper Table 5: the depth is the last layer's output
    /// alone). Head `j` is a 1×1 convolution from the features at resolution `R/2^(j+1)` to
    /// one channel, bilinearly upsampled to `R×R`, less its mean over the image, and added to
    /// the last layer's output before the softplus; at most `L` (down to the 4×4 features).
    /// The heads add relief only: with their means, they made the whole scene's distance a
    /// cheap direction too, and runs drifted away from the camera faster. The renderer sees
    /// depth only through normals (neighbour differences), so the image loss's gradient on a
    /// depth map grows with spatial frequency; a coarse head moves a whole block of pixels
    /// with one weight, which gives box-sized relief the step size that pixel texture gets.
    /// Initialized like the last layer (scaled by `output_init_scale`).
    #[config(default = 0)]
    pub coarse_heads: usize,
    /// Constant factor on the last layer's output `h` before the coarse heads are added (1 =
    /// paper). Under Adam a parameter moves about `lr` per step whatever its gradient's size,
    /// so a factor below 1 slows the pixel-level part of the depth by that factor relative to
    /// the coarse heads: per-pixel texture becomes a slow way to explain shading.
    #[config(default = 1.0)]
    pub fine_gain: f64,
    /// Length of the camera vector the decoder is conditioned on: 3 (the camera position), or 0
    /// for a decoder that takes no camera (3D-IQTT, paper Appendix D; the view is then part of
    /// `z`).
    #[config(default = "CAMERA_DIM")]
    pub camera_dim: usize,
    /// A second output channel: the logit of a foreground mask, for images of an object on a
    /// black background (3D-IQTT). The surfel renderer has one surfel per pixel and, with
    /// ambient light, never renders black; the image of such a decoder is the rendered surfels
    /// composited over black by the mask (see [`Decoder::forward_with_mask`]), and the mask is
    /// learned from the images alone through that composite. Not in the paper (the authors'
    /// IQ runs rendered the foreground only).
    #[config(default = false)]
    pub foreground_mask: bool,
}

/// Generates a depth map (one surfel per pixel) from a latent code seen from a given camera.
///
/// Layers: `[z, camera(, one-hot class)]` as a `1×1` map → transposed convolution 4×4 (no
/// bias) to `width·2^(L−1)` channels at 4×4 → [`CondNorm`] → LeakyReLU(0.2); then `L` transposed
/// convolutions 4×4, stride 2, padding 1, halving the width, each but the last followed by
/// [`CondNorm`] and LeakyReLU; the last goes to 1 channel (with bias), `h`. With coarse heads,
/// `h` also gets the bilinearly upsampled 1×1 projections of the features at `R/2, R/4, …`,
/// each less its mean over the image (see [`DecoderConfig::coarse_heads`]; not in the paper).
/// Output `depth = 0.2 + softplus(h)`. A decoder with [`DecoderConfig::foreground_mask`] has a
/// second output channel `m`, the foreground probability `sigmoid(m)`.
///
/// Paper Table 5 (DCGAN-like generator with LeakyReLU, conditional normalization "in the
/// alternate layers"). Departures, all shared with the PyTorch yardstick (`bench/torch_reference.py`, class
/// `Decoder`) so that speed comparisons are like for like: width is a parameter, every
/// normalized layer is camera-conditioned, the camera also enters the input vector, and the
/// output is a strictly positive depth (scene units) through a softplus rather than an
/// unconstrained `nCh`-channel map.
#[derive(Module, Debug)]
pub struct Decoder {
    /// Transposed convolution from the `1×1` input vector to 4×4.
    pub project: ConvTranspose2d,
    /// Conditional normalization after [`Decoder::project`].
    pub project_norm: CondNorm,
    /// The `L` stride-2 transposed convolutions, from 4×4 to the output resolution.
    pub ups: Vec<ConvTranspose2d>,
    /// Conditional normalizations after `ups[i]` for `i < L − 1`.
    pub norms: Vec<CondNorm>,
    /// The coarse depth heads (1×1 convolutions to one channel), from the output side: head `j`
    /// reads the features at resolution `R/2^(j+1)` (see [`DecoderConfig::coarse_heads`]).
    pub coarse: Vec<Conv2d>,
    /// Output resolution in pixels.
    pub resolution: usize,
    /// Length of the latent code.
    pub z_dim: usize,
    /// Number of classes (0: unconditional).
    pub num_classes: usize,
    /// Factor on the last layer's output (see [`DecoderConfig::fine_gain`]).
    pub fine_gain: f64,
    /// Length of the camera vector (0: no camera conditioning).
    pub camera_dim: usize,
    /// Whether the last layer has the foreground-mask channel.
    pub foreground_mask: bool,
}

impl DecoderConfig {
    /// Checks the configuration.
    ///
    /// # Errors
    /// [`Error::Config`](crate::Error::Config) naming the field when `resolution` is not
    /// `4·2^L` with `L ≥ 1`, `width` or `z_dim` is 0, `coarse_heads` exceeds `L`, or
    /// `fine_gain` is not a positive number.
    pub fn validate(&self) -> crate::Result<()> {
        self.stages().map(|_| ())
    }

    /// Validates the configuration and returns the number of stride-2 stages `L`.
    fn stages(&self) -> crate::Result<usize> {
        let stages = validate("decoder", self.resolution, self.width, self.z_dim)?;
        if self.coarse_heads > stages {
            return Err(Error::config(
                "decoder",
                "coarse_heads",
                self.coarse_heads,
                format!("at most log2(resolution / 4) = {stages}"),
            ));
        }
        if !(self.fine_gain.is_finite() && self.fine_gain > 0.0) {
            return Err(Error::config(
                "decoder",
                "fine_gain",
                self.fine_gain,
                "a positive number",
            ));
        }
        Ok(stages)
    }

    /// The decoder's convolutions on one sample, from the code side: the projection, the
    /// stride-2 transposed convolutions, then the coarse heads from the finest (see
    /// [`crate::work`]).
    ///
    /// # Errors
    /// As [`DecoderConfig::validate`].
    pub fn conv_shapes(&self) -> crate::Result<Vec<ConvShape>> {
        let stages = self.stages()?;
        let mut widths = stage_widths(self.width, stages);
        widths.reverse();
        let c_in = self.z_dim + CAMERA_DIM + self.num_classes;
        let mut shapes = vec![ConvShape::transpose(c_in, widths[0], 4, 1, 0).on([1, 1])];
        let mut size = 4;
        for (i, &w) in widths.iter().enumerate() {
            let c_out = widths.get(i + 1).copied().unwrap_or(1);
            shapes.push(ConvShape::transpose(w, c_out, 4, 2, 1).on([size, size]));
            size *= 2;
        }
        for (j, &w) in widths.iter().rev().take(self.coarse_heads).enumerate() {
            let side = self.resolution >> (j + 1);
            shapes.push(ConvShape::conv(w, 1, 1, 1, 0).on([side, side]));
        }
        Ok(shapes)
    }

    /// Builds the decoder with PyTorch-style (Kaiming-uniform) initial weights.
    ///
    /// # Panics
    /// If [`DecoderConfig::validate`] fails; the message names the field.
    pub fn init(&self, device: &Device) -> Decoder {
        let stages = match self.stages() {
            Ok(stages) => stages,
            Err(err) => panic!("{err}"),
        };
        let mut widths = stage_widths(self.width, stages);
        widths.reverse();
        let c_in = self.z_dim + self.camera_dim + self.num_classes;
        let project = ConvTranspose2dConfig::new([c_in, widths[0]], [4, 4])
            .with_bias(false)
            .init(device);
        let cond_norm = |w| {
            CondNormConfig::new(w)
                .with_cond_dim(self.camera_dim)
                .init(device)
        };
        let project_norm = cond_norm(widths[0]);
        let mut ups = Vec::with_capacity(stages);
        let mut norms = Vec::with_capacity(stages - 1);
        for (i, &w) in widths.iter().enumerate() {
            let last = i + 1 == stages;
            let c_out = if last {
                1 + usize::from(self.foreground_mask)
            } else {
                widths[i + 1]
            };
            let gain = if last { self.output_init_scale } else { 1.0 };
            ups.push(
                ConvTranspose2dConfig::new([w, c_out], [4, 4])
                    .with_stride([2, 2])
                    .with_padding([1, 1])
                    .with_bias(last)
                    .with_initializer(kaiming(gain))
                    .init(device),
            );
            if !last {
                norms.push(cond_norm(c_out));
            }
        }
        let coarse = coarse_heads::init(&widths, self.coarse_heads, self.output_init_scale, device);
        Decoder {
            project,
            project_norm,
            ups,
            norms,
            coarse,
            resolution: self.resolution,
            z_dim: self.z_dim,
            num_classes: self.num_classes,
            fine_gain: self.fine_gain,
            camera_dim: self.camera_dim,
            foreground_mask: self.foreground_mask,
        }
    }
}

impl Decoder {
    /// Decodes latent codes into depth maps seen from the given cameras, of the given classes
    /// for a class-conditional decoder.
    ///
    /// # Shapes
    /// - `z`: `[batch, z_dim]`
    /// - `camera`: `[batch, 3]`, camera position, world frame, scene units (see the
    ///   `# Conventions` of `pix2scene-scene`); `None` when `camera_dim = 0`
    /// - `class`: `[batch, num_classes]` one-hot class vectors ([`one_hot`](crate::one_hot);
    ///   any weights are accepted) when `num_classes > 0`, else `None`
    /// - returns `[batch, resolution, resolution]`, depth along each pixel ray (distance from the
    ///   camera centre, not z) in scene units, always `> 0.2` ([`MIN_DEPTH`])
    ///
    /// # Panics
    /// If the shapes do not match the above, or `camera` or `class` is given to a decoder
    /// without that conditioning or missing for one with it.
    pub fn forward(
        &self,
        z: Tensor<2>,
        camera: Option<Tensor<2>>,
        class: Option<Tensor<2>>,
    ) -> Tensor<3> {
        self.forward_with_mask(z, camera, class).0
    }

    /// [`Decoder::forward`], and for a decoder with [`DecoderConfig::foreground_mask`] the
    /// foreground probability of each pixel.
    ///
    /// # Shapes
    /// - `z`, `camera`, `class`: as [`Decoder::forward`]
    /// - returns the depth `[batch, resolution, resolution]` (as [`Decoder::forward`]) and the
    ///   mask `[batch, resolution, resolution]` in `(0, 1)`, `sigmoid` of the second output
    ///   channel (1: the pixel shows a surfel, 0: background), or `None` without the channel
    ///
    /// # Panics
    /// As [`Decoder::forward`].
    pub fn forward_with_mask(
        &self,
        z: Tensor<2>,
        camera: Option<Tensor<2>>,
        class: Option<Tensor<2>>,
    ) -> (Tensor<3>, Option<Tensor<3>>) {
        let [batch, _] = z.dims();
        assert_shape!(z, [_, self.z_dim]);
        check_camera("decoder", self.camera_dim, camera.as_ref(), batch);
        check_class("decoder", self.num_classes, class.as_ref(), batch);
        let _part = part_scope(Part::Decoder);
        let inputs = [Some(z), camera.clone(), class];
        let input = Tensor::cat(inputs.into_iter().flatten().collect(), 1);
        let [_, c_in] = input.dims();
        let h = conv_transpose2d_layer(&self.project, input.reshape([batch, c_in, 1, 1]));
        let mut h = leaky_relu(self.project_norm.forward(h, camera.clone()));
        // The inputs of the last `coarse.len()` layers of `ups` (… R/4, R/2), for the heads.
        let first_read = self.ups.len() - self.coarse.len();
        let mut features = Vec::with_capacity(self.coarse.len());
        for (i, up) in self.ups.iter().enumerate() {
            if i >= first_read {
                features.push(h.clone());
            }
            h = conv_transpose2d_layer(up, h);
            if let Some(norm) = self.norms.get(i) {
                h = leaky_relu(norm.forward(h, camera.clone()));
            }
        }
        let r = self.resolution;
        let mask = self
            .foreground_mask
            .then(|| sigmoid(h.clone().narrow(1, 1, 1).reshape([batch, r, r])));
        let mut h = h.narrow(1, 0, 1);
        if self.fine_gain != 1.0 {
            h = h.mul_scalar(self.fine_gain);
        }
        let h = coarse_heads::add_relief(h, &self.coarse, features, r);
        let depth = softplus(h.reshape([batch, r, r]), 1.0).add_scalar(MIN_DEPTH);
        (depth, mask)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testutil::{Rng, device, max_abs_diff, to_vec};

    /// Hand count: project `(z+3+k)·w_top·16`, norms `8w` each (Linear 3 → 2w), ups
    /// `w·c_out·16` (+1 bias on the last), coarse head `j` `width·2^j`.
    fn expected_params(
        resolution: usize,
        width: usize,
        z: usize,
        classes: usize,
        heads: usize,
    ) -> usize {
        let stages = (resolution / 4).trailing_zeros() as usize;
        let widths: Vec<usize> = (0..stages).rev().map(|i| width << i).collect();
        let mut total = (z + 3 + classes) * widths[0] * 16 + 8 * widths[0];
        total += (0..heads).map(|j| width << j).sum::<usize>();
        for (i, &w) in widths.iter().enumerate() {
            match widths.get(i + 1) {
                Some(&c_out) => total += w * c_out * 16 + 8 * c_out,
                None => total += w * 16 + 1,
            }
        }
        total
    }

    fn running_stats(dec: &Decoder) -> usize {
        2 * (dec.project_norm.channels + dec.norms.iter().map(|n| n.channels).sum::<usize>())
    }

    #[test]
    fn decoder_parameter_count_matches_formula() {
        let device = device();
        for (r, w, z, k, heads) in [
            (8, 4, 5, 0, 0),
            (16, 4, 6, 0, 0),
            (32, 3, 7, 2, 0),
            (32, 3, 7, 0, 3),
        ] {
            let dec = DecoderConfig::new(r)
                .with_width(w)
                .with_z_dim(z)
                .with_num_classes(k)
                .with_coarse_heads(heads)
                .init(&device);
            assert_eq!(
                dec.num_params() - running_stats(&dec),
                expected_params(r, w, z, k, heads)
            );
        }
        // (16, 4, 6, 0): 9·8·16 + 64 + 8·4·16 + 32 + 4·16 + 1 = 1152 + 64 + 512 + 32 + 65.
        assert_eq!(expected_params(16, 4, 6, 0, 0), 1825);
        // Two heads read the 8×8 (4 channels) and 4×4 (8 channels) features.
        assert_eq!(expected_params(16, 4, 6, 0, 2), 1825 + 12);
    }

    #[test]
    fn decoder_depth_is_positive_with_the_right_shape() {
        let (device, mut rng) = (device(), Rng::new(21));
        for r in [8, 16, 32] {
            let dec = DecoderConfig::new(r)
                .with_width(4)
                .with_z_dim(5)
                .with_output_init_scale(1.0)
                .init(&device);
            let z = rng.tensor([3, 5], -3.0, 3.0, &device);
            let cam = rng.tensor([3, 3], 0.0, 1.0, &device);
            let depth = dec.forward(z, Some(cam), None);
            assert_eq!(depth.dims(), [3, r, r]);
            let values = to_vec(depth);
            assert!(values.iter().all(|d| d.is_finite() && *d > MIN_DEPTH));
            // Not collapsed to a constant.
            let (lo, hi) = values
                .iter()
                .fold((f64::MAX, f64::MIN), |(l, h), v| (l.min(*v), h.max(*v)));
            assert!(hi - lo > 1e-3);
        }
    }

    #[test]
    fn initial_depth_is_a_nearly_flat_map_unless_asked_otherwise() {
        let (device, mut rng) = (device(), Rng::new(23));
        let z = rng.tensor([4, 16], -2.0, 2.0, &device);
        let cam = rng.tensor([4, 3], 0.0, 1.0, &device);
        let stats = |scale: f64| {
            let dec = DecoderConfig::new(32)
                .with_width(8)
                .with_z_dim(16)
                .with_output_init_scale(scale)
                .init(&device);
            let v = to_vec(dec.forward(z.clone(), Some(cam.clone()), None));
            let mean = v.iter().sum::<f64>() / v.len() as f64;
            let var = v.iter().map(|d| (d - mean).powi(2)).sum::<f64>() / v.len() as f64;
            (mean, var.sqrt())
        };
        let (mean, std) = stats(0.01);
        let flat = MIN_DEPTH + std::f64::consts::LN_2;
        assert!((mean - flat).abs() < 0.01 && std < 0.01, "{mean} ± {std}");
        let (_, std) = stats(1.0);
        assert!(
            std > 0.1,
            "default PyTorch init: per-pixel noise, got ± {std}"
        );
    }

    #[test]
    fn too_many_coarse_heads_are_rejected_by_name() {
        let err = DecoderConfig::new(16)
            .with_coarse_heads(3)
            .validate()
            .unwrap_err();
        assert_eq!(
            err.to_string(),
            "decoder config: field `coarse_heads` is 3, expected at most log2(resolution / 4) = 2"
        );
        assert!(
            DecoderConfig::new(16)
                .with_coarse_heads(2)
                .validate()
                .is_ok()
        );
        let err = DecoderConfig::new(16)
            .with_fine_gain(0.0)
            .validate()
            .unwrap_err();
        assert_eq!(
            err.to_string(),
            "decoder config: field `fine_gain` is 0, expected a positive number"
        );
    }

    #[test]
    fn decoder_conditions_on_camera_and_class() {
        let (device, mut rng) = (device(), Rng::new(22));
        let dec = DecoderConfig::new(16)
            .with_width(4)
            .with_z_dim(5)
            .with_num_classes(3)
            .with_output_init_scale(1.0)
            .init(&device);
        let z = rng.tensor([2, 5], -1.0, 1.0, &device);
        let cam = rng.tensor([2, 3], 0.0, 1.0, &device);
        let class_a = crate::one_hot(&[0, 1], 3, &device);
        let class_b = crate::one_hot(&[2, 2], 3, &device);
        let a = to_vec(dec.forward(z.clone(), Some(cam.clone()), Some(class_a.clone())));
        let b = to_vec(dec.forward(z.clone(), Some(cam.clone()), Some(class_b)));
        let c = to_vec(dec.forward(z, Some(cam.add_scalar(0.2)), Some(class_a)));
        assert!(max_abs_diff(&a, &b) > 1e-4, "class ignored");
        assert!(max_abs_diff(&a, &c) > 1e-4, "camera ignored");
    }

    #[test]
    #[should_panic(expected = "decoder has num_classes = 2: pass one-hot class vectors")]
    fn conditional_decoder_requires_a_class() {
        let device = device();
        let dec = DecoderConfig::new(8)
            .with_width(2)
            .with_z_dim(2)
            .with_num_classes(2)
            .init(&device);
        let _ = dec.forward(
            Tensor::zeros([1, 2], &device),
            Some(Tensor::zeros([1, 3], &device)),
            None,
        );
    }

    /// A camera-free decoder with a foreground mask (3D-IQTT): no camera input, the depth of
    /// the first output channel and `sigmoid` of the second, which starts near ½.
    #[test]
    fn masked_camera_free_decoder_outputs_depth_and_mask() {
        let (device, mut rng) = (device(), Rng::new(24));
        let config = DecoderConfig::new(16)
            .with_width(4)
            .with_z_dim(5)
            .with_camera_dim(0)
            .with_foreground_mask(true);
        let dec = config.init(&device);
        let z = rng.tensor([2, 5], -1.0, 1.0, &device);
        let (depth, mask) = dec.forward_with_mask(z.clone(), None, None);
        let mask = to_vec(mask.expect("a mask channel"));
        assert_eq!(mask.len(), 2 * 16 * 16);
        assert!(
            mask.iter().all(|m| (m - 0.5).abs() < 0.05),
            "near ½ at first"
        );
        assert_eq!(to_vec(depth), to_vec(dec.forward(z.clone(), None, None)));
        // The mask is the second channel of the last layer: perturbing that channel's weights
        // moves the mask and leaves the depth as it was.
        let mut moved = dec.clone();
        let last = moved.ups.len() - 1;
        let w = moved.ups[last].weight.val();
        let [c_in, _, k, _] = w.dims();
        let bump = Tensor::cat(
            vec![
                Tensor::zeros([c_in, 1, k, k], &device),
                rng.tensor([c_in, 1, k, k], -1.0, 1.0, &device),
            ],
            1,
        );
        moved.ups[last].weight = burn::module::Param::from_tensor(w + bump);
        let (depth2, mask2) = moved.forward_with_mask(z.clone(), None, None);
        assert_eq!(to_vec(depth2), to_vec(dec.forward(z, None, None)));
        assert!(max_abs_diff(&to_vec(mask2.unwrap()), &mask) > 1e-3);
        // Without the channel there is no mask.
        let plain = DecoderConfig::new(16)
            .with_width(4)
            .with_z_dim(5)
            .init(&device);
        let cam = rng.tensor([2, 3], 0.0, 1.0, &device);
        let z = rng.tensor([2, 5], -1.0, 1.0, &device);
        assert!(plain.forward_with_mask(z, Some(cam), None).1.is_none());
    }

    #[test]
    fn bad_decoder_config_is_rejected_by_name() {
        let err = DecoderConfig::new(4).validate().unwrap_err();
        assert!(
            err.to_string()
                .starts_with("decoder config: field `resolution` is 4"),
            "{err}"
        );
        let err = DecoderConfig::new(16).with_z_dim(0).validate().unwrap_err();
        assert_eq!(
            err.to_string(),
            "decoder config: field `z_dim` is 0, expected at least 1"
        );
    }
}
