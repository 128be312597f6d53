//! The critic's input gradient `(∂D/∂x, ∂D/∂z)` written with ordinary differentiable ops, so
//! that the WGAN-GP penalty built on it can be back-propagated to the critic's weights: burn has
//! no double backward.

use burn::tensor::Tensor;
use burn::tensor::ops::{ConvOptions, ConvTransposeOptions};

use super::{Critic, first_conv};
use crate::IMAGE_CHANNELS;
use crate::activation::{leaky_relu, slope_mask};
use crate::conv::{conv_transpose2d, conv2d};
use crate::work::{Part, part_scope};

impl Critic {
    /// `(∂(Σ_b D_b)/∂x, ∂(Σ_b D_b)/∂z)`, written with ordinary differentiable ops so that it can
    /// itself be back-propagated to the critic's parameters (WGAN-GP without double backward).
    ///
    /// Each layer's backward is spelled out: the head convolution's input gradient is its weight
    /// broadcast over the batch (a 4×4 valid convolution of a 4×4 map); the `z` channels of the
    /// joined input are summed over the 4×4 planes (the adjoint of the broadcast); each
    /// LeakyReLU multiplies by a constant slope mask (1 or 0.2) taken from a forward pass
    /// outside autodiff — exact, since the mask's own derivative is zero almost everywhere; each
    /// stride-2 convolution becomes `conv_transpose2d` with the same weight. The camera planes
    /// and the class planes are constants, as in the PyTorch yardstick. The result depends on `x` and `z`
    /// only through the masks, so no graph is recorded for them; it is differentiable w.r.t.
    /// every weight (biases enter only through the masks, so their gradients through it are
    /// zero, as with autograd).
    ///
    /// # Shapes
    /// - `x`, `z`, `camera`, `class`: as [`Critic::forward`]
    /// - returns (`[batch, 3, resolution, resolution]`, `[batch, z_dim]`)
    ///
    /// # Panics
    /// As [`Critic::forward`].
    pub fn input_gradient(
        &self,
        x: Tensor<4>,
        z: Tensor<2>,
        camera: Option<Tensor<2>>,
        class: Option<Tensor<2>>,
    ) -> (Tensor<4>, Tensor<2>) {
        self.check_shapes(&x, &z, camera.as_ref(), class.as_ref());
        let _part = part_scope(Part::Penalty);
        let [batch, _, _, _] = x.dims();
        let masks = self.slope_masks(x, camera);
        let head = self.head.weight.val();
        let [_, joined, k, _] = head.dims();
        // ∂D/∂(the head's 4×4 input) is the head kernel itself, the same for every sample.
        let grad_joined = head.expand([batch, joined, k, k]);
        let features = joined - self.z_dim - self.num_classes;
        let grad_z = grad_joined
            .clone()
            .narrow(1, features, self.z_dim)
            .sum_dim(3)
            .sum_dim(2)
            .reshape([batch, self.z_dim]);
        let mut grad_h = grad_joined.narrow(1, 0, features);
        let transpose = ConvTransposeOptions::new([2, 2], [1, 1], [0, 0], [1, 1], 1);
        for (i, (conv, mask)) in self.convs.iter().zip(masks).enumerate().rev() {
            let grad_pre = grad_h * mask;
            // The first layer's gradient is wanted at the image channels only, not at the
            // camera planes: its transpose runs on the image channels' weights alone.
            let weight = match i {
                0 => conv.weight.val().narrow(1, 0, IMAGE_CHANNELS),
                _ => conv.weight.val(),
            };
            grad_h = conv_transpose2d(grad_pre, weight, None, transpose.clone());
        }
        (grad_h, grad_z)
    }

    /// LeakyReLU slope masks (1 where the pre-activation is positive, else 0.2) of every
    /// stride-2 layer, computed outside autodiff.
    fn slope_masks(&self, x: Tensor<4>, camera: Option<Tensor<2>>) -> Vec<Tensor<4>> {
        let camera = camera.map(Tensor::without_autodiff);
        let mut h = x.without_autodiff();
        let mut masks = Vec::with_capacity(self.convs.len());
        let stride2 = ConvOptions::new([2, 2], [1, 1], [1, 1], 1);
        for (i, conv) in self.convs.iter().enumerate() {
            let weight = conv.weight.val().without_autodiff();
            let bias = conv.bias.as_ref().map(|b| b.val().without_autodiff());
            let pre = match i {
                0 => first_conv(h, camera.clone(), weight, bias),
                _ => conv2d(h, weight, bias, stride2.clone()),
            };
            masks.push(slope_mask(pre.clone()));
            h = leaky_relu(pre);
        }
        masks
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::critic::CriticConfig;
    use crate::testutil::{RefCritic, Rng, device, max_abs_diff, to_vec};

    /// The score is additive in `z` (`z` joins at 4×4 right before the linear
    /// head): its `z` gradient depends on neither the image nor the code.
    #[test]
    fn score_is_additive_in_the_code() {
        let (device, mut rng) = (device(), Rng::new(35));
        let critic = CriticConfig::new(16)
            .with_width(4)
            .with_z_dim(5)
            .init(&device);
        let x = rng.tensor([2, 3, 16, 16], 0.0, 1.0, &device);
        let z = Tensor::<2>::from_floats([[3.0; 5], [-3.0; 5]], &device);
        let cam = rng.tensor([2, 3], 0.0, 1.0, &device);
        let gz = to_vec(critic.input_gradient(x, z, Some(cam), None).1);
        assert!(max_abs_diff(&gz[..5], &gz[5..]) < 1e-6, "{gz:?}");
        assert!(gz.iter().any(|g| g.abs() > 1e-4), "{gz:?}");
    }

    /// The hand-written input gradient equals burn's first-order autodiff gradient.
    fn check_input_gradient_matches_autodiff(class: bool, camera: bool) {
        let (device, mut rng) = (device(), Rng::new(32 + class as u64));
        let ad = device.clone().autodiff();
        let critic = CriticConfig::new(32)
            .with_width(4)
            .with_z_dim(6)
            .with_num_classes(if class { 3 } else { 0 })
            .with_camera_dim(if camera { 3 } else { 0 })
            .init(&ad);
        let x = rng.tensor([4, 3, 32, 32], 0.0, 1.0, &device);
        let z = rng.tensor([4, 6], -2.0, 2.0, &device);
        let cam = camera.then(|| rng.tensor([4, 3], 0.0, 1.0, &device));
        let onehot = class.then(|| crate::one_hot(&[0, 1, 2, 0], 3, &device));
        let x_ad = x.clone().autodiff().require_grad();
        let z_ad = z.clone().autodiff().require_grad();
        let scores = critic.forward(
            x_ad.clone(),
            z_ad.clone(),
            cam.clone().map(Tensor::autodiff),
            onehot.clone().map(Tensor::autodiff),
        );
        let (gx, gz) = critic.input_gradient(x, z, cam, onehot);
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
        check_input_gradient_matches_autodiff(false, true);
    }

    #[test]
    fn class_conditional_input_gradient_matches_autodiff() {
        check_input_gradient_matches_autodiff(true, true);
    }

    /// The same without camera planes (3D-IQTT's critic).
    #[test]
    fn camera_free_input_gradient_matches_autodiff() {
        check_input_gradient_matches_autodiff(false, false);
    }

    #[test]
    fn input_gradient_matches_f64_finite_differences() {
        let (device, mut rng) = (device(), Rng::new(34));
        let critic = CriticConfig::new(16)
            .with_width(3)
            .with_z_dim(4)
            .init(&device);
        let x = rng.tensor([2, 3, 16, 16], 0.0, 1.0, &device);
        let z = rng.tensor([2, 4], -2.0, 2.0, &device);
        let cam = rng.tensor([2, 3], 0.0, 1.0, &device);
        let (gx, gz) = critic.input_gradient(x.clone(), z.clone(), Some(cam.clone()), None);
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
}
