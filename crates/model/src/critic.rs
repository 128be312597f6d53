//! The joint critic `D(x, z, c)` (paper Appendix A, Table 6) and its hand-written input gradient.

use burn::config::Config;
use burn::module::Module;
use burn::nn::PaddingConfig2d;
use burn::nn::conv::{Conv2d, Conv2dConfig};
use burn::tensor::ops::{ConvOptions, ConvTransposeOptions};
use burn::tensor::{Device, Tensor, assert_shape};

use crate::activation::leaky_relu;
use crate::conv::{conv_transpose2d, conv2d, conv2d_layer};
use crate::stages::{stage_widths, validate};
use crate::{CAMERA_DIM, IMAGE_CHANNELS, LEAKY_SLOPE};

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
    /// Channels of a joint 1×1 convolution (with LeakyReLU) between the join of `z` and the
    /// head; 0 for none (DESIGN.md §6 and the PyTorch peer). Without it the score is
    /// `f(x) + w·z`, additive in `z`, so the critic cannot see how codes go with images.
    #[config(default = 0)]
    pub joint_width: usize,
}

/// Scores an (image, latent code) pair seen from a known camera; WGAN critic of the BiGAN/ALI
/// objective.
///
/// Layers: the image concatenated with 3 constant planes holding the camera position (6
/// channels) → `L` convolutions 4×4, stride 2, padding 1, with bias, no normalization,
/// LeakyReLU(0.2), widths `width·2^i` → at 4×4, `z` (and the one-hot class) broadcast to 4×4
/// planes and concatenated → with `joint_width > 0`, a 1×1 convolution to `joint_width`
/// channels and LeakyReLU(0.2) → a 4×4 valid convolution to one scalar.
///
/// Paper Table 6 (128², width 85, "BatchNorm: No"; the camera enters as input planes). The
/// width is a parameter; with `joint_width = 0`, otherwise exactly the PyTorch peer
/// (`peers/train_peer.py`, class `Critic`). The joint layer is the smallest change that lets
/// the score depend on `x` and `z` together, as ALI's joint discriminator does. The critic has
/// only layers whose input gradient [`Critic::input_gradient`] writes with differentiable ops —
/// burn has no double backward — so keep it that way when changing it.
#[derive(Module, Debug)]
pub struct Critic {
    /// The stride-2 convolutions, from the image side.
    pub convs: Vec<Conv2d>,
    /// The joint 1×1 convolution on `[features, z(, class)]`, if any.
    pub joint: Option<Conv2d>,
    /// The final 4×4 valid convolution from the joint layer's output, or from
    /// `[features, z(, class)]` without one, to one channel.
    pub head: Conv2d,
    /// Input resolution in pixels.
    pub resolution: usize,
    /// Length of the latent code.
    pub z_dim: usize,
    /// Number of classes (0: unconditional).
    pub num_classes: usize,
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

    /// Builds the critic with PyTorch-style (Kaiming-uniform) initial weights.
    ///
    /// # Panics
    /// If [`CriticConfig::validate`] fails; the message names the field.
    pub fn init(&self, device: &Device) -> Critic {
        let stages = match validate("critic", self.resolution, self.width, self.z_dim) {
            Ok(stages) => stages,
            Err(err) => panic!("{err}"),
        };
        let mut c_in = IMAGE_CHANNELS + CAMERA_DIM;
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
        let joint = (self.joint_width > 0)
            .then(|| Conv2dConfig::new([joined, self.joint_width], [1, 1]).init(device));
        let head_in = if self.joint_width > 0 {
            self.joint_width
        } else {
            joined
        };
        let head = Conv2dConfig::new([head_in, 1], [4, 4]).init(device);
        Critic {
            convs,
            joint,
            head,
            resolution: self.resolution,
            z_dim: self.z_dim,
            num_classes: self.num_classes,
        }
    }
}

/// Options of the stride-2 convolutions (4×4, padding 1).
fn stride2_options() -> ConvOptions<2> {
    ConvOptions::new([2, 2], [1, 1], [1, 1], 1)
}

impl Critic {
    /// Critic scores of (image, code) pairs (unconditional critic).
    ///
    /// # Shapes
    /// - `x`: `[batch, 3, resolution, resolution]`, RGB in `[0, 1]`
    /// - `z`: `[batch, z_dim]`
    /// - `camera`: `[batch, 3]`, camera position, world frame, scene units (see the
    ///   `# Conventions` of `pix2scene-scene`)
    /// - returns `[batch]`, unbounded scores (higher: more "real")
    ///
    /// # Panics
    /// If the shapes do not match the above, or the critic is class-conditional.
    pub fn forward(&self, x: Tensor<4>, z: Tensor<2>, camera: Tensor<2>) -> Tensor<1> {
        self.expect_classes(false);
        self.score(x, z, camera, None)
    }

    /// Critic scores of (image, code) pairs with their classes (class-conditional critic).
    ///
    /// # Shapes
    /// As [`Critic::forward`], plus `class`: `[batch, num_classes]`, one-hot class vectors.
    ///
    /// # Panics
    /// If the shapes do not match, or `num_classes` is 0.
    pub fn forward_with_class(
        &self,
        x: Tensor<4>,
        z: Tensor<2>,
        camera: Tensor<2>,
        class: Tensor<2>,
    ) -> Tensor<1> {
        self.expect_classes(true);
        self.score(x, z, camera, Some(class))
    }

    /// `(∂(Σ_b D_b)/∂x, ∂(Σ_b D_b)/∂z)`, written with ordinary differentiable ops so that it can
    /// itself be back-propagated to the critic's parameters (WGAN-GP without double backward).
    ///
    /// Each layer's backward is spelled out: the head convolution's input gradient is its weight
    /// broadcast over the batch (a 4×4 valid convolution of a 4×4 map); the joint layer's (if
    /// any) is that times its slope mask through its transposed 1×1 weight; the `z` channels
    /// of the joined input are summed over the 4×4 planes (the adjoint of the broadcast); each
    /// LeakyReLU multiplies by a constant slope mask (1 or 0.2) taken from a forward pass
    /// outside autodiff — exact, since the mask's own derivative is zero almost everywhere; each
    /// stride-2 convolution becomes `conv_transpose2d` with the same weight. The camera planes are constants, as in the peer.
    /// The result depends on `x` and `z` only through the masks, so no graph is recorded for
    /// them; it is differentiable w.r.t. every weight (biases enter only through the masks, so
    /// their gradients through it are zero, as with autograd).
    ///
    /// # Shapes
    /// - `x`, `z`, `camera`: as [`Critic::forward`]
    /// - returns (`[batch, 3, resolution, resolution]`, `[batch, z_dim]`)
    ///
    /// # Panics
    /// If the shapes do not match, or the critic is class-conditional.
    pub fn input_gradient(
        &self,
        x: Tensor<4>,
        z: Tensor<2>,
        camera: Tensor<2>,
    ) -> (Tensor<4>, Tensor<2>) {
        self.expect_classes(false);
        self.gradient(x, z, camera, None)
    }

    /// [`Critic::input_gradient`] of a class-conditional critic; the class planes, like the
    /// camera planes, are constants.
    ///
    /// # Shapes
    /// As [`Critic::forward_with_class`]; returns as [`Critic::input_gradient`].
    ///
    /// # Panics
    /// If the shapes do not match, or `num_classes` is 0.
    pub fn input_gradient_with_class(
        &self,
        x: Tensor<4>,
        z: Tensor<2>,
        camera: Tensor<2>,
        class: Tensor<2>,
    ) -> (Tensor<4>, Tensor<2>) {
        self.expect_classes(true);
        self.gradient(x, z, camera, Some(class))
    }

    fn expect_classes(&self, conditional: bool) {
        match (conditional, self.num_classes) {
            (false, 0) | (true, 1..) => {}
            (false, k) => panic!("critic has num_classes = {k}: call the *_with_class method"),
            (true, _) => panic!("critic has num_classes = 0: call the method without class"),
        }
    }

    fn check_shapes(
        &self,
        x: &Tensor<4>,
        z: &Tensor<2>,
        camera: &Tensor<2>,
        class: Option<&Tensor<2>>,
    ) {
        let [batch, _, _, _] = x.dims();
        assert_shape!(x, [_, IMAGE_CHANNELS, self.resolution, self.resolution]);
        assert_shape!(z, [batch, self.z_dim]);
        assert_shape!(camera, [batch, CAMERA_DIM]);
        if let Some(class) = class {
            assert_shape!(class, [batch, self.num_classes]);
        }
    }

    /// `[x, camera planes]`: `[batch, 6, R, R]`.
    fn joint_input(x: Tensor<4>, camera: Tensor<2>) -> Tensor<4> {
        let [batch, _, r, _] = x.dims();
        let planes = camera
            .reshape([batch, CAMERA_DIM, 1, 1])
            .expand([batch, CAMERA_DIM, r, r]);
        Tensor::cat(vec![x, planes], 1)
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

    fn score(
        &self,
        x: Tensor<4>,
        z: Tensor<2>,
        camera: Tensor<2>,
        class: Option<Tensor<2>>,
    ) -> Tensor<1> {
        self.check_shapes(&x, &z, &camera, class.as_ref());
        let [batch, _, _, _] = x.dims();
        let mut h = Self::joint_input(x, camera);
        for conv in &self.convs {
            h = leaky_relu(conv2d_layer(conv, h));
        }
        let mut h = Self::join_latent(h, z, class);
        if let Some(joint) = &self.joint {
            h = leaky_relu(conv2d_layer(joint, h));
        }
        conv2d_layer(&self.head, h).reshape([batch])
    }

    /// LeakyReLU slope masks (1 where the pre-activation is positive, else 0.2) of every
    /// stride-2 layer and of the joint layer (if any), computed outside autodiff.
    fn slope_masks(
        &self,
        x: Tensor<4>,
        z: Tensor<2>,
        camera: Tensor<2>,
        class: Option<Tensor<2>>,
    ) -> (Vec<Tensor<4>>, Option<Tensor<4>>) {
        let layer = |h: Tensor<4>, conv: &Conv2d, options: ConvOptions<2>| {
            let weight = conv.weight.val().without_autodiff();
            let bias = conv.bias.as_ref().map(|b| b.val().without_autodiff());
            let pre = conv2d(h, weight, bias, options);
            let positive = pre.clone().greater_elem(0.0);
            let mask = pre.ones_like().mask_fill(positive.bool_not(), LEAKY_SLOPE);
            (pre * mask.clone(), mask)
        };
        let mut h = Self::joint_input(x.without_autodiff(), camera.without_autodiff());
        let mut masks = Vec::with_capacity(self.convs.len());
        for conv in &self.convs {
            let (out, mask) = layer(h, conv, stride2_options());
            h = out;
            masks.push(mask);
        }
        let joint_mask = self.joint.as_ref().map(|joint| {
            let class = class.map(Tensor::without_autodiff);
            let joined = Self::join_latent(h, z.without_autodiff(), class);
            layer(joined, joint, ConvOptions::new([1, 1], [0, 0], [1, 1], 1)).1
        });
        (masks, joint_mask)
    }

    fn gradient(
        &self,
        x: Tensor<4>,
        z: Tensor<2>,
        camera: Tensor<2>,
        class: Option<Tensor<2>>,
    ) -> (Tensor<4>, Tensor<2>) {
        self.check_shapes(&x, &z, &camera, class.as_ref());
        let [batch, _, _, _] = x.dims();
        let (masks, joint_mask) = self.slope_masks(x, z, camera, class);
        let head = self.head.weight.val();
        let [_, head_in, k, _] = head.dims();
        // ∂D/∂(the head's 4×4 input) is the head kernel itself, the same for every sample;
        // through the joint layer (a 1×1 convolution) it is that times the slope mask, by the
        // transposed weight.
        let grad_head_in = head.expand([batch, head_in, k, k]);
        let grad_joined = match &self.joint {
            Some(joint) => conv_transpose2d(
                grad_head_in * joint_mask.expect("slope_masks gives the joint layer's mask"),
                joint.weight.val(),
                None,
                ConvTransposeOptions::new([1, 1], [0, 0], [0, 0], [1, 1], 1),
            ),
            None => grad_head_in,
        };
        let joined = grad_joined.dims()[1];
        let features = joined - self.z_dim - self.num_classes;
        let grad_z = grad_joined
            .clone()
            .narrow(1, features, self.z_dim)
            .sum_dim(3)
            .sum_dim(2)
            .reshape([batch, self.z_dim]);
        let mut grad_h = grad_joined.narrow(1, 0, features);
        let transpose = ConvTransposeOptions::new([2, 2], [1, 1], [0, 0], [1, 1], 1);
        for (conv, mask) in self.convs.iter().zip(masks).rev() {
            let grad_pre = grad_h * mask;
            grad_h = conv_transpose2d(grad_pre, conv.weight.val(), None, transpose.clone());
        }
        (grad_h.narrow(1, 0, IMAGE_CHANNELS), grad_z)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testutil::{RefCritic, Rng, device, max_abs_diff, to_vec};

    /// Hand count: convs `Σ (c_in·w·16 + w)` with `c_in = 6` first; with a joint layer of `j`
    /// channels `(c_L + z + k)·j + j` and head `j·16 + 1`, else head `(c_L + z + k)·16 + 1`.
    fn expected_params(
        resolution: usize,
        width: usize,
        z: usize,
        classes: usize,
        j: usize,
    ) -> usize {
        let stages = (resolution / 4).trailing_zeros() as usize;
        let mut c_in = 6;
        let mut total = 0;
        for i in 0..stages {
            let w = width << i;
            total += c_in * w * 16 + w;
            c_in = w;
        }
        let joined = c_in + z + classes;
        match j {
            0 => total + joined * 16 + 1,
            j => total + joined * j + j + j * 16 + 1,
        }
    }

    #[test]
    fn critic_parameter_count_matches_formula() {
        let device = device();
        for (r, w, z, k, j) in [
            (8, 4, 5, 0, 0),
            (16, 4, 6, 0, 0),
            (32, 3, 7, 2, 0),
            (16, 4, 6, 0, 5),
        ] {
            let critic = CriticConfig::new(r)
                .with_width(w)
                .with_z_dim(z)
                .with_num_classes(k)
                .with_joint_width(j)
                .init(&device);
            assert_eq!(critic.num_params(), expected_params(r, w, z, k, j));
        }
        // (16, 4, 6, 0): 6·4·16 + 4 + 4·8·16 + 8 + (8 + 6)·16 + 1 = 388 + 520 + 225.
        assert_eq!(expected_params(16, 4, 6, 0, 0), 1133);
        // With a joint layer of 5: 388 + 520 + (14·5 + 5) + (5·16 + 1).
        assert_eq!(expected_params(16, 4, 6, 0, 5), 1064);
    }

    /// Without a joint layer the score is additive in `z`: its `z` gradient does not depend on
    /// the image or the code. With one it does.
    #[test]
    fn joint_layer_couples_image_and_code() {
        let (device, mut rng) = (device(), Rng::new(35));
        for (j, coupled) in [(0, false), (8, true)] {
            let critic = CriticConfig::new(16)
                .with_width(4)
                .with_z_dim(5)
                .with_joint_width(j)
                .init(&device);
            let x = rng.tensor([2, 3, 16, 16], 0.0, 1.0, &device);
            // Opposite, large codes: every joint unit's `z` term changes sign between the
            // samples and outweighs the image's, so their slope masks differ.
            let z = Tensor::<2>::from_floats([[3.0; 5], [-3.0; 5]], &device);
            let cam = rng.tensor([2, 3], 0.0, 1.0, &device);
            let gz = to_vec(critic.input_gradient(x, z, cam).1);
            let spread = max_abs_diff(&gz[..5], &gz[5..]);
            assert_eq!(
                spread > 1e-4,
                coupled,
                "joint width {j}: z gradients {gz:?}"
            );
        }
    }

    #[test]
    fn critic_forward_matches_f64_reference() {
        for joint_width in [0, 6] {
            check_forward_matches_f64_reference(joint_width);
        }
    }

    fn check_forward_matches_f64_reference(joint_width: usize) {
        let (device, mut rng) = (device(), Rng::new(31));
        let critic = CriticConfig::new(16)
            .with_width(4)
            .with_z_dim(5)
            .with_joint_width(joint_width)
            .init(&device);
        let x = rng.tensor([3, 3, 16, 16], 0.0, 1.0, &device);
        let z = rng.tensor([3, 5], -2.0, 2.0, &device);
        let cam = rng.tensor([3, 3], 0.0, 1.0, &device);
        let got = to_vec(critic.forward(x.clone(), z.clone(), cam.clone()));
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

    /// The hand-written input gradient equals burn's first-order autodiff gradient.
    fn check_input_gradient_matches_autodiff(class: bool, joint_width: usize) {
        let (device, mut rng) = (device(), Rng::new(32 + class as u64));
        let ad = device.clone().autodiff();
        let critic = CriticConfig::new(32)
            .with_width(4)
            .with_z_dim(6)
            .with_num_classes(if class { 3 } else { 0 })
            .with_joint_width(joint_width)
            .init(&ad);
        let x = rng.tensor([4, 3, 32, 32], 0.0, 1.0, &device);
        let z = rng.tensor([4, 6], -2.0, 2.0, &device);
        let cam = rng.tensor([4, 3], 0.0, 1.0, &device);
        let onehot = Tensor::<2>::from_floats(
            [
                [1.0, 0.0, 0.0],
                [0.0, 1.0, 0.0],
                [0.0, 0.0, 1.0],
                [1.0, 0.0, 0.0],
            ],
            &device,
        );
        let x_ad = x.clone().autodiff().require_grad();
        let z_ad = z.clone().autodiff().require_grad();
        let (scores, (gx, gz)) = if class {
            (
                critic.forward_with_class(
                    x_ad.clone(),
                    z_ad.clone(),
                    cam.clone().autodiff(),
                    onehot.clone().autodiff(),
                ),
                critic.input_gradient_with_class(x, z, cam, onehot),
            )
        } else {
            (
                critic.forward(x_ad.clone(), z_ad.clone(), cam.clone().autodiff()),
                critic.input_gradient(x, z, cam),
            )
        };
        let grads = scores.sum().backward();
        let want_x = to_vec(x_ad.grad(&grads).expect("x gradient"));
        let want_z = to_vec(z_ad.grad(&grads).expect("z gradient"));
        assert_eq!(gx.dims(), [4, 3, 32, 32]);
        assert_eq!(gz.dims(), [4, 6]);
        let scale = want_x.iter().map(|v| v.abs()).fold(0.0, f64::max);
        assert!(scale > 1e-4, "degenerate gradient");
        assert!(
            max_abs_diff(&to_vec(gx), &want_x) < 1e-5,
            "x gradient differs"
        );
        assert!(
            max_abs_diff(&to_vec(gz), &want_z) < 1e-5,
            "z gradient differs"
        );
    }

    #[test]
    fn input_gradient_matches_autodiff() {
        check_input_gradient_matches_autodiff(false, 0);
        check_input_gradient_matches_autodiff(false, 7);
    }

    #[test]
    fn class_conditional_input_gradient_matches_autodiff() {
        check_input_gradient_matches_autodiff(true, 0);
        check_input_gradient_matches_autodiff(true, 7);
    }

    #[test]
    fn input_gradient_matches_f64_finite_differences() {
        for joint_width in [0, 5] {
            check_input_gradient_matches_f64_finite_differences(joint_width);
        }
    }

    fn check_input_gradient_matches_f64_finite_differences(joint_width: usize) {
        let (device, mut rng) = (device(), Rng::new(34));
        let critic = CriticConfig::new(16)
            .with_width(3)
            .with_z_dim(4)
            .with_joint_width(joint_width)
            .init(&device);
        let x = rng.tensor([2, 3, 16, 16], 0.0, 1.0, &device);
        let z = rng.tensor([2, 4], -2.0, 2.0, &device);
        let cam = rng.tensor([2, 3], 0.0, 1.0, &device);
        let (gx, gz) = critic.input_gradient(x.clone(), z.clone(), cam.clone());
        let (gx, gz) = (to_vec(gx), to_vec(gz));
        let reference = RefCritic::from_critic(&critic);
        let (xs, zs, cs) = (to_vec(x), to_vec(z), to_vec(cam));
        for b in 0..2 {
            let (fx, fz) = reference.input_gradient_fd(
                &xs[b * 768..(b + 1) * 768],
                16,
                &zs[b * 4..b * 4 + 4],
                &cs[b * 3..b * 3 + 3],
            );
            assert!(max_abs_diff(&gx[b * 768..(b + 1) * 768], &fx) < 1e-5);
            assert!(max_abs_diff(&gz[b * 4..b * 4 + 4], &fz) < 1e-5);
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
