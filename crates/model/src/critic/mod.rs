//! The joint critic `D(x, z, c)` (paper Appendix A, Table 6); its hand-written input gradient
//! is in [`input_gradient`](self::input_gradient).

mod input_gradient;

use burn::config::Config;
use burn::module::Module;
use burn::nn::PaddingConfig2d;
use burn::nn::conv::{Conv2d, Conv2dConfig};
use burn::tensor::ops::ConvOptions;
use burn::tensor::{Device, Tensor, assert_shape};

use crate::activation::leaky_relu;
use crate::camera::check_camera;
use crate::class::check_class;
use crate::conv::{conv2d, conv2d_layer};
use crate::stages::{stage_widths, validate};
use crate::work::{ConvShape, Part, part_scope};
use crate::{CAMERA_DIM, IMAGE_CHANNELS};

/// Configuration for a [`Critic`]; build it with [`CriticConfig::init`].
#[derive(Config, Debug)]
pub struct CriticConfig {
    /// Input resolution in pixels, `4·2^L` with `L ≥ 1` (8, 16, 32, 64, 128, …).
    pub resolution: usize,
    /// Base channel width: stage `i` has `width·2^i` channels (the paper uses 85 at 128²).
    #[config(default = 32)]
    pub width: usize,
    /// Length of the latent code `z`.
    #[config(default = 128)]
    pub z_dim: usize,
    /// Number of classes for a class-conditional critic (the one-hot class joins `z` at 4×4);
    /// 0 for an unconditional critic.
    #[config(default = 0)]
    pub num_classes: usize,
    /// Number of camera planes joined to the image: 3 (the camera position), or 0 for a critic
    /// that sees no camera (3D-IQTT, paper Appendix D).
    #[config(default = "CAMERA_DIM")]
    pub camera_dim: usize,
}

/// Scores an (image, latent code) pair seen from a known camera; WGAN critic of the BiGAN/ALI
/// objective.
///
/// Layers: the image concatenated with 3 constant planes holding the camera position (6
/// channels) → `L` convolutions 4×4, stride 2, padding 1, with bias, no normalization,
/// LeakyReLU(0.2), widths `width·2^i` → at 4×4, `z` (and the one-hot class) broadcast to 4×4
/// planes and concatenated → a 4×4 valid convolution to one scalar. With `camera_dim = 0` the
/// image enters alone (3 channels). The camera planes are never built: the first layer adds
/// their response, which is the same for every image of a camera ([`first_conv`]).
///
/// Paper Table 6 (128², width 85, "BatchNorm: No"; the camera enters as input planes). The
/// width is a parameter; otherwise exactly the PyTorch yardstick (`bench/torch_reference.py`, class
/// `Critic`). The critic has only layers whose input gradient [`Critic::input_gradient`] writes
/// with differentiable ops — burn has no double backward — so keep it that way when changing
/// it.
#[derive(Module, Debug)]
pub struct Critic {
    /// The stride-2 convolutions, from the image side.
    pub convs: Vec<Conv2d>,
    /// The final 4×4 valid convolution from `[features, z(, class)]` to one channel.
    pub head: Conv2d,
    /// Input resolution in pixels.
    pub resolution: usize,
    /// Length of the latent code.
    pub z_dim: usize,
    /// Number of classes (0: unconditional).
    pub num_classes: usize,
    /// Number of camera planes (0: no camera).
    pub camera_dim: usize,
}

impl CriticConfig {
    /// Checks the configuration.
    ///
    /// # Errors
    /// [`Error::Config`](crate::Error::Config) naming the field when `resolution` is not
    /// `4·2^L` with `L ≥ 1`, or `width` or `z_dim` is 0.
    pub fn validate(&self) -> crate::Result<()> {
        validate("critic", self.resolution, self.width, self.z_dim).map(|_| ())
    }

    /// The critic's convolutions on one sample, from the image side, the head last (see
    /// [`crate::work`]).
    ///
    /// # Errors
    /// As [`CriticConfig::validate`].
    pub fn conv_shapes(&self) -> crate::Result<Vec<ConvShape>> {
        let stages = validate("critic", self.resolution, self.width, self.z_dim)?;
        // The camera planes are constant: their response is one small convolution per pass,
        // whatever the batch (see [`first_conv`]), so the first layer counts the image channels.
        let (mut c_in, mut size) = (IMAGE_CHANNELS, self.resolution);
        let mut shapes = Vec::with_capacity(stages + 1);
        for w in stage_widths(self.width, stages) {
            shapes.push(ConvShape::conv(c_in, w, 4, 2, 1).on([size, size]));
            (c_in, size) = (w, size / 2);
        }
        let joined = c_in + self.z_dim + self.num_classes;
        shapes.push(ConvShape::conv(joined, 1, 4, 1, 0).on([4, 4]));
        Ok(shapes)
    }

    /// The convolution of one plane of ones with the first layer's camera kernels (see
    /// [`first_conv`]), one per pass whatever the batch: `1 → camera_dim·width` channels on
    /// the input resolution; `None` without camera planes.
    ///
    /// # Errors
    /// As [`CriticConfig::validate`].
    pub fn camera_response_shape(&self) -> crate::Result<Option<ConvShape>> {
        let stages = validate("critic", self.resolution, self.width, self.z_dim)?;
        let first = stage_widths(self.width, stages)[0];
        let r = self.resolution;
        Ok((self.camera_dim > 0)
            .then(|| ConvShape::conv(1, self.camera_dim * first, 4, 2, 1).on([r, r])))
    }

    /// Builds the critic with PyTorch-style (Kaiming-uniform) initial weights.
    ///
    /// # Panics
    /// If [`CriticConfig::validate`] fails; the message names the field.
    pub fn init(&self, device: &Device) -> Critic {
        let stages = match validate("critic", self.resolution, self.width, self.z_dim) {
            Ok(stages) => stages,
            Err(err) => panic!("{err}"),
        };
        let mut c_in = IMAGE_CHANNELS + self.camera_dim;
        let mut convs = Vec::with_capacity(stages);
        for w in stage_widths(self.width, stages) {
            convs.push(
                Conv2dConfig::new([c_in, w], [4, 4])
                    .with_stride([2, 2])
                    .with_padding(PaddingConfig2d::Explicit(1, 1, 1, 1))
                    .init(device),
            );
            c_in = w;
        }
        let joined = c_in + self.z_dim + self.num_classes;
        let head = Conv2dConfig::new([joined, 1], [4, 4]).init(device);
        Critic {
            convs,
            head,
            resolution: self.resolution,
            z_dim: self.z_dim,
            num_classes: self.num_classes,
            camera_dim: self.camera_dim,
        }
    }
}

impl Critic {
    /// Critic scores of (image, code) pairs, of the given classes for a class-conditional
    /// critic.
    ///
    /// # Shapes
    /// - `x`: `[batch, 3, resolution, resolution]`, RGB in `[0, 1]`
    /// - `z`: `[batch, z_dim]`
    /// - `camera`: `[batch, 3]`, camera position, world frame, scene units (see the
    ///   `# Conventions` of `pix2scene-scene`); `None` when `camera_dim = 0`
    /// - `class`: `[batch, num_classes]` one-hot class vectors ([`one_hot`](crate::one_hot))
    ///   when `num_classes > 0`, else `None`
    /// - returns `[batch]`, unbounded scores (higher: more "real")
    ///
    /// # Panics
    /// If the shapes do not match the above, or `camera` or `class` is given to a critic
    /// without that conditioning or missing for one with it.
    pub fn forward(
        &self,
        x: Tensor<4>,
        z: Tensor<2>,
        camera: Option<Tensor<2>>,
        class: Option<Tensor<2>>,
    ) -> Tensor<1> {
        self.check_shapes(&x, &z, camera.as_ref(), class.as_ref());
        let _part = part_scope(Part::Critic);
        let [batch, _, _, _] = x.dims();
        let (first, rest) = self
            .convs
            .split_first()
            .expect("at least one stride-2 layer");
        let bias = first.bias.as_ref().map(|b| b.val());
        let mut h = leaky_relu(first_conv(x, camera, first.weight.val(), bias));
        for conv in rest {
            h = leaky_relu(conv2d_layer(conv, h));
        }
        let h = Self::join_latent(h, z, class);
        conv2d_layer(&self.head, h).reshape([batch])
    }

    /// Checks the shapes of [`Critic::forward`]'s inputs.
    fn check_shapes(
        &self,
        x: &Tensor<4>,
        z: &Tensor<2>,
        camera: Option<&Tensor<2>>,
        class: Option<&Tensor<2>>,
    ) {
        let [batch, _, _, _] = x.dims();
        assert_shape!(x, [_, IMAGE_CHANNELS, self.resolution, self.resolution]);
        assert_shape!(z, [batch, self.z_dim]);
        check_camera("critic", self.camera_dim, camera, batch);
        check_class("critic", self.num_classes, class, batch);
    }

    /// `[features, z planes(, class planes)]` at the 4×4 level.
    fn join_latent(h: Tensor<4>, z: Tensor<2>, class: Option<Tensor<2>>) -> Tensor<4> {
        let [batch, _, s, _] = h.dims();
        let latent = match class {
            Some(class) => Tensor::cat(vec![z, class], 1),
            None => z,
        };
        let [_, n] = latent.dims();
        let planes = latent.reshape([batch, n, 1, 1]).expand([batch, n, s, s]);
        Tensor::cat(vec![h, planes], 1)
    }
}

/// The critic's first stride-2 convolution (4×4, stride 2, padding 1) of the image joined with
/// its constant camera planes, `conv([x, planes(camera)], weight) + bias`, without building the
/// planes: the convolution runs on the image channels alone, and adds `Σ_c camera[b, c] · R_c`,
/// where `R_c` is the response of the camera kernels of channel `c` to a plane of ones (their
/// tap sums, smaller at the border, where the taps reach into the zero padding). `R` is one
/// small convolution per call, whatever the batch; the image convolution's patch matrix and
/// product are half as wide as with the planes. Differentiable w.r.t. `weight` and `bias` (and
/// `x`); `camera` is a constant. With `camera = None` it is the plain convolution.
///
/// # Shapes
/// - `x`: `[batch, 3, R, R]`; `camera`: `[batch, camera_dim]`
/// - `weight`: `[c_out, 3 + camera_dim, 4, 4]`; `bias`: `[c_out]`
/// - returns `[batch, c_out, R/2, R/2]`
pub(crate) fn first_conv(
    x: Tensor<4>,
    camera: Option<Tensor<2>>,
    weight: Tensor<4>,
    bias: Option<Tensor<1>>,
) -> Tensor<4> {
    let options = ConvOptions::new([2, 2], [1, 1], [1, 1], 1);
    let Some(camera) = camera else {
        return conv2d(x, weight, bias, options);
    };
    let [batch, _, r, _] = x.dims();
    let [c_out, _, k, _] = weight.dims();
    let [_, dim] = camera.dims();
    let device = x.device();
    let image = conv2d(
        x,
        weight.clone().narrow(1, 0, IMAGE_CHANNELS),
        bias,
        options.clone(),
    );
    let [_, _, h, w] = image.dims();
    let kernels = weight
        .narrow(1, IMAGE_CHANNELS, dim)
        .reshape([c_out * dim, 1, k, k]);
    let response = conv2d(Tensor::ones([1, 1, r, r], &device), kernels, None, options)
        .reshape([c_out, dim, h * w])
        .swap_dims(0, 1)
        .reshape([dim, c_out * h * w]);
    image + camera.matmul(response).reshape([batch, c_out, h, w])
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testutil::{RefCritic, Rng, device, max_abs_diff, to_vec};

    /// Hand count: convs `Σ (c_in·w·16 + w)` with `c_in = 6` first, head
    /// `(c_L + z + k)·16 + 1`.
    fn expected_params(resolution: usize, width: usize, z: usize, classes: usize) -> usize {
        let stages = (resolution / 4).trailing_zeros() as usize;
        let mut c_in = 6;
        let mut total = 0;
        for i in 0..stages {
            let w = width << i;
            total += c_in * w * 16 + w;
            c_in = w;
        }
        total + (c_in + z + classes) * 16 + 1
    }

    #[test]
    fn critic_parameter_count_matches_formula() {
        let device = device();
        for (r, w, z, k) in [(8, 4, 5, 0), (16, 4, 6, 0), (32, 3, 7, 2)] {
            let critic = CriticConfig::new(r)
                .with_width(w)
                .with_z_dim(z)
                .with_num_classes(k)
                .init(&device);
            assert_eq!(critic.num_params(), expected_params(r, w, z, k));
        }
        // (16, 4, 6, 0): 6·4·16 + 4 + 4·8·16 + 8 + (8 + 6)·16 + 1 = 388 + 520 + 225.
        assert_eq!(expected_params(16, 4, 6, 0), 1133);
    }

    #[test]
    fn critic_forward_matches_f64_reference() {
        let (device, mut rng) = (device(), Rng::new(31));
        let critic = CriticConfig::new(16)
            .with_width(4)
            .with_z_dim(5)
            .init(&device);
        let x = rng.tensor([3, 3, 16, 16], 0.0, 1.0, &device);
        let z = rng.tensor([3, 5], -2.0, 2.0, &device);
        let cam = rng.tensor([3, 3], 0.0, 1.0, &device);
        let got = to_vec(critic.forward(x.clone(), z.clone(), Some(cam.clone()), None));
        let reference = RefCritic::from_critic(&critic);
        let (xs, zs, cs) = (to_vec(x), to_vec(z), to_vec(cam));
        let want: Vec<f64> = (0..3)
            .map(|b| {
                reference.forward(
                    &xs[b * 768..(b + 1) * 768],
                    16,
                    &zs[b * 5..b * 5 + 5],
                    &cs[b * 3..b * 3 + 3],
                )
            })
            .collect();
        assert!(max_abs_diff(&got, &want) < 1e-4, "{got:?} vs {want:?}");
    }

    /// [`first_conv`] against burn's convolution of the image with its camera planes
    /// concatenated: output and the gradients of the image, the weight (camera channels
    /// included) and the bias, on odd sizes, where the border responses differ from the
    /// interior ones.
    #[test]
    fn first_conv_matches_the_concatenated_planes() {
        let (device, mut rng) = (device(), Rng::new(36));
        for (batch, r, c_out) in [(3, 10, 5), (2, 7, 4)] {
            let x = rng.tensor([batch, 3, r, r], 0.0, 1.0, &device);
            let cam = rng.tensor([batch, 3], -2.0, 2.0, &device);
            let w = rng.tensor([c_out, 6, 4, 4], -0.5, 0.5, &device);
            let b = rng.tensor([c_out], -0.5, 0.5, &device);
            let seed = rng.tensor([batch, c_out, r / 2, r / 2], -1.0, 1.0, &device);
            let run = |fast: bool| {
                let (x, w, b) = (
                    x.clone().autodiff().require_grad(),
                    w.clone().autodiff().require_grad(),
                    b.clone().autodiff().require_grad(),
                );
                let cam = cam.clone().autodiff();
                let out = if fast {
                    first_conv(x.clone(), Some(cam), w.clone(), Some(b.clone()))
                } else {
                    let planes = cam.reshape([batch, 3, 1, 1]).expand([batch, 3, r, r]);
                    let joined = Tensor::cat(vec![x.clone(), planes], 1);
                    let options = ConvOptions::new([2, 2], [1, 1], [1, 1], 1);
                    burn::tensor::module::conv2d(joined, w.clone(), Some(b.clone()), options)
                };
                let grads = (out.clone() * seed.clone().autodiff()).sum().backward();
                [
                    to_vec(out),
                    to_vec(x.grad(&grads).expect("image gradient")),
                    to_vec(w.grad(&grads).expect("weight gradient")),
                    to_vec(b.grad(&grads).expect("bias gradient")),
                ]
            };
            let (fast, reference) = (run(true), run(false));
            for (name, (got, want)) in ["output", "image", "weight", "bias"]
                .iter()
                .zip(fast.iter().zip(&reference))
            {
                assert_eq!(got.len(), want.len(), "{name}");
                let diff = max_abs_diff(got, want);
                assert!(diff < 1e-4, "{name} ({batch}, {r}, {c_out}): {diff}");
            }
            // The camera kernels do receive a gradient (channels 3..6 of the weight).
            let camera_grads = fast[2].chunks(16).skip(3).step_by(6).flatten();
            assert!(camera_grads.map(|g| g.abs()).sum::<f64>() > 1e-2);
        }
    }

    #[test]
    fn bad_critic_config_is_rejected_by_name() {
        let err = CriticConfig::new(96).validate().unwrap_err();
        assert!(
            err.to_string()
                .starts_with("critic config: field `resolution` is 96"),
            "{err}"
        );
        let err = CriticConfig::new(16).with_width(0).validate().unwrap_err();
        assert_eq!(
            err.to_string(),
            "critic config: field `width` is 0, expected at least 1"
        );
    }
}
