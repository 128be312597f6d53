//! The WGAN-GP gradient penalty on the joint (image, code) input (Gulrajani et al. 2017, adapted
//! to the bidirectional critic as in paper section 3.3.3).

use burn::tensor::{Tensor, assert_shape};

use crate::critic::Critic;

/// Added under the square root so that the norm's gradient stays finite at 0 (as the PyTorch yardstick does).
const NORM_EPSILON: f64 = 1e-12;

/// Gradient penalty `mean_b (√(‖∂D/∂x̂_b‖² + ‖∂D/∂ẑ_b‖² + 1e-12) − 1)²` at the interpolates
/// `x̂ = α x_real + (1 − α) x_fake`, `ẑ = α z_real + (1 − α) z_fake`, exactly as the PyTorch yardstick
/// (`bench/torch_reference.py`) computes it; the camera planes (and the class planes of a
/// class-conditional critic) are not part of the gradient.
///
/// The input gradient comes from [`Critic::input_gradient`], so the result is differentiable
/// w.r.t. the critic's parameters with first-order autodiff only. The interpolates are
/// constants for the penalty (the yardstick builds them from no-grad encoder and decoder outputs; a
/// piecewise-linear critic's input gradient has zero derivative w.r.t. its input almost
/// everywhere anyway), so no graph is recorded through `x_*` and `z_*`. Multiply by the penalty
/// weight (10 in the paper's setup) before adding it to the critic loss.
///
/// # Shapes
/// - `real`: `(x_real, z_real)`, the images `[batch, 3, resolution, resolution]` and the
///   encoder's codes `[batch, z_dim]`
/// - `fake`: `(x_fake, z_fake)`, the rendered samples and their prior codes, the same shapes
/// - `camera`: `[batch, 3]`, camera position, world frame, scene units; `None` for a critic
///   without camera conditioning
/// - `class`: as [`Critic::forward`]: `[batch, num_classes]` one-hot vectors for a
///   class-conditional critic, else `None`
/// - `alpha`: `[batch]`, interpolation weights in `[0, 1]`
/// - returns `[1]`
///
/// # Panics
/// If the shapes do not match the above, or `class` does not match the critic's
/// `num_classes` (see [`Critic::forward`]).
pub fn gradient_penalty(
    critic: &Critic,
    real: (Tensor<4>, Tensor<2>),
    fake: (Tensor<4>, Tensor<2>),
    camera: Option<Tensor<2>>,
    class: Option<Tensor<2>>,
    alpha: Tensor<1>,
) -> Tensor<1> {
    let (x_hat, z_hat) = interpolate(real, fake, alpha);
    let (grad_x, grad_z) = critic.input_gradient(x_hat, z_hat, camera, class);
    penalty(grad_x, grad_z)
}

/// Interpolates computed outside autodiff.
fn interpolate(
    (x_real, z_real): (Tensor<4>, Tensor<2>),
    (x_fake, z_fake): (Tensor<4>, Tensor<2>),
    alpha: Tensor<1>,
) -> (Tensor<4>, Tensor<2>) {
    let [batch] = alpha.dims();
    assert_shape!(x_real, [batch, _, _, _]);
    assert_shape!(z_real, [batch, _]);
    let alpha = alpha.without_autodiff();
    let a4 = alpha.clone().reshape([batch, 1, 1, 1]);
    let a2 = alpha.reshape([batch, 1]);
    let x_hat = x_fake
        .without_autodiff()
        .clone()
        .mul(a4.clone().neg().add_scalar(1.0))
        + x_real.without_autodiff() * a4;
    let z_hat = z_fake
        .without_autodiff()
        .mul(a2.clone().neg().add_scalar(1.0))
        + z_real.without_autodiff() * a2;
    (x_hat, z_hat)
}

fn penalty(grad_x: Tensor<4>, grad_z: Tensor<2>) -> Tensor<1> {
    let [batch, _, _, _] = grad_x.dims();
    let sq_x = grad_x.square().reshape([batch as isize, -1]).sum_dim(1);
    let sq_z = grad_z.square().sum_dim(1);
    let norm = (sq_x + sq_z).add_scalar(NORM_EPSILON).sqrt();
    norm.sub_scalar(1.0).square().mean()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::critic::CriticConfig;
    use crate::testutil::{RefCritic, Rng, device, to_vec};
    use burn::module::Param;

    /// The critic's convolutions in order: stride-2 ones, the head.
    fn layers(critic: &Critic) -> Vec<&burn::nn::conv::Conv2d> {
        critic.convs.iter().chain([&critic.head]).collect()
    }

    /// Perturbs entry `index` of a flat parameter vector of layer `layer` (in the order of
    /// [`layers`]) in the reference critic.
    fn nudge(
        reference: &RefCritic,
        layer: usize,
        bias: bool,
        index: usize,
        delta: f64,
    ) -> RefCritic {
        let mut out = reference.clone();
        let conv = out
            .convs
            .iter_mut()
            .chain([&mut out.head])
            .nth(layer)
            .expect("a layer");
        if bias {
            conv.bias[index] += delta;
        } else {
            conv.weight[index] += delta;
        }
        out
    }

    /// Penalty and its parameter gradient (burn, f32) against a plain-Rust f64 reference: the
    /// input gradient by f64 central differences of the reference critic, the parameter
    /// gradient by f64 central differences of that penalty.
    #[test]
    fn gradient_penalty_matches_finite_differences() {
        let (device, mut rng) = (device(), Rng::new(41));
        let ad = device.clone().autodiff();
        let (n, zd, batch) = (16, 3, 2);
        let mut critic = CriticConfig::new(n).with_width(2).with_z_dim(zd).init(&ad);
        // Seeded weights and biases, three times the default init's scale, so that the penalty
        // is far from its minimum whatever burn's global generator did.
        for conv in critic
            .convs
            .iter_mut()
            .chain(std::iter::once(&mut critic.head))
        {
            let dims = conv.weight.dims();
            let bound = 3.0 / ((dims[1] * dims[2] * dims[3]) as f64).sqrt();
            let w = rng.tensor(dims, -bound, bound, &device);
            conv.weight = Param::from_tensor(w.autodiff());
            if let Some(bias) = &conv.bias {
                let b = rng.tensor(bias.dims(), -bound, bound, &device);
                conv.bias = Some(Param::from_tensor(b.autodiff()));
            }
        }
        let x_real = rng.tensor([batch, 3, n, n], 0.0, 1.0, &device);
        let x_fake = rng.tensor([batch, 3, n, n], 0.0, 1.0, &device);
        let z_real = rng.tensor([batch, zd], -1.0, 1.0, &device);
        let z_fake = rng.tensor([batch, zd], -1.0, 1.0, &device);
        let cam = rng.tensor([batch, 3], 0.0, 1.0, &device);
        let alpha = rng.tensor([batch], 0.0, 1.0, &device);

        let gp = gradient_penalty(
            &critic,
            (x_real.clone(), z_real.clone()),
            (x_fake.clone(), z_fake.clone()),
            Some(cam.clone()),
            None,
            alpha.clone(),
        );
        let grads = gp.backward();
        let gp = to_vec(gp)[0];

        let reference = RefCritic::from_critic(&critic);
        let inputs = [
            to_vec(x_real),
            to_vec(x_fake),
            to_vec(z_real),
            to_vec(z_fake),
            to_vec(cam),
            to_vec(alpha),
        ];
        let penalty_of = |r: &RefCritic| {
            r.gradient_penalty_fd(
                &inputs[0], &inputs[1], &inputs[2], &inputs[3], &inputs[4], &inputs[5], n,
            )
        };
        let want = penalty_of(&reference);
        assert!(
            (gp - want).abs() < 1e-4 * want.max(1.0),
            "penalty {gp} vs {want}"
        );
        assert!(
            want > 1e-2,
            "penalty too small to test its gradient: {want}"
        );

        let h = 1e-4;
        let convs = layers(&critic);
        for (layer, conv) in convs.iter().enumerate() {
            let burn_grad = to_vec(conv.weight.grad(&grads).expect("weight gradient"));
            let count = burn_grad.len();
            for index in [0, count / 3, count / 2 + 1, count - 1] {
                let up = penalty_of(&nudge(&reference, layer, false, index, h));
                let down = penalty_of(&nudge(&reference, layer, false, index, -h));
                let fd = (up - down) / (2.0 * h);
                let got = burn_grad[index];
                assert!(
                    (got - fd).abs() < 2e-3 * fd.abs().max(0.05),
                    "layer {layer} weight[{index}]: burn {got} vs finite differences {fd}"
                );
            }
            // Biases enter the input gradient only through the slope masks: zero gradient.
            if layer + 1 < convs.len() {
                let up = penalty_of(&nudge(&reference, layer, true, 0, h));
                let down = penalty_of(&nudge(&reference, layer, true, 0, -h));
                let fd = (up - down) / (2.0 * h);
                assert!(
                    fd.abs() < 1e-5,
                    "layer {layer} bias[0]: finite differences {fd}"
                );
                let bias = conv.bias.as_ref().expect("bias");
                let got = bias.grad(&grads).map_or(0.0, |g| to_vec(g)[0]);
                assert!(got.abs() < 1e-7);
            }
        }
    }

    #[test]
    fn penalty_is_zero_for_unit_gradient_norm() {
        let device = device();
        // grad_x = [0.6, 0, …], grad_z = [0.8]: norm 1 → penalty 0; norm 2 → (2 − 1)² = 1.
        let mut gx = vec![0.0f32; 12];
        gx[0] = 0.6;
        let gx = Tensor::<4>::from_data(burn::tensor::TensorData::new(gx, [1, 3, 2, 2]), &device);
        let gz = Tensor::<2>::from_floats([[0.8]], &device);
        assert!(to_vec(penalty(gx.clone(), gz.clone()))[0].abs() < 1e-6);
        let p = to_vec(penalty(gx.mul_scalar(2.0), gz.mul_scalar(2.0)))[0];
        assert!((p - 1.0).abs() < 1e-6);
    }
}
