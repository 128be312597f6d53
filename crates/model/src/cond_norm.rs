//! Camera-conditional batch normalization (paper section 3.3.3, after Dumoulin et al. 2016 and
//! Perez et al. 2017).

use burn::backend::Dispatch;
use burn::config::Config;
use burn::module::{Flag, Module, Param, RunningState};
use burn::nn::{Initializer, Linear, LinearConfig};
use burn::tensor::module::{batch_norm, batch_norm_train};
use burn::tensor::{Device, Tensor, assert_shape};

use crate::error::Error;
use crate::kernel::{CondNormBackend, on_flex_f32};

/// Configuration for a [`CondNorm`]; build it with [`CondNormConfig::init`].
#[derive(Config, Debug)]
pub struct CondNormConfig {
    /// Number of feature channels normalized.
    pub channels: usize,
    /// Length of the conditioning vector (3: the camera position); 0 for an unconditional
    /// layer: batch normalization with a learned per-channel scale and shift.
    #[config(default = 3)]
    pub cond_dim: usize,
    /// Added to the variance before the square root.
    #[config(default = 1e-5)]
    pub epsilon: f64,
    /// Weight of the newest batch in the running statistics (PyTorch's default, 0.1).
    #[config(default = 0.1)]
    pub momentum: f64,
}

/// Batch normalization without affine parameters, followed by a per-sample scale and shift
/// predicted from a conditioning vector (the camera position) by a linear layer.
///
/// `y = γ(c) · (x − μ) / √(σ² + ε) + β(c)`, with `[γ(c), β(c)] = A c + b`. At initialisation
/// `A = 0`, `b = [1…1, 0…0]`, so the layer starts as a plain batch normalization, as in the
/// PyTorch yardstick (`bench/torch_reference.py`, class `CondNorm`).
///
/// With `cond_dim = 0` (networks without camera conditioning, paper Appendix D) the layer is
/// the same with the constant conditioning input `c = 1`: batch normalization with a learned
/// per-channel scale and shift (`A + b`), one code path for both.
///
/// Statistics: in training mode (the default, and after [`Module::train`]) the batch's own mean
/// and biased variance normalize it — also for tensors without autodiff, matching PyTorch's
/// `train()` mode, which the authors' code and the yardstick use throughout — and the running mean and
/// unbiased running variance are updated with [`CondNormConfig::momentum`]. After
/// [`Module::valid`] the running statistics are used instead.
#[derive(Module, Debug)]
pub struct CondNorm {
    /// Predicts `[γ, β]` (`[batch, 2·channels]`) from the conditioning vector (from the constant
    /// 1 when `cond_dim = 0`).
    pub affine: Linear,
    /// Whether batch statistics are used (and the running ones updated).
    pub training: Param<Flag>,
    /// Running mean per channel, `[channels]`.
    pub running_mean: RunningState<Tensor<1>>,
    /// Running unbiased variance per channel, `[channels]`.
    pub running_var: RunningState<Tensor<1>>,
    /// Number of channels.
    pub channels: usize,
    /// Length of the conditioning vector; 0 for an unconditional layer.
    pub cond_dim: usize,
    /// Added to the variance before the square root.
    pub epsilon: f64,
    /// Weight of the newest batch in the running statistics.
    pub momentum: f64,
}

impl CondNormConfig {
    /// Checks the configuration.
    ///
    /// # Errors
    /// [`Error::Config`] naming `channels` when it is 0.
    pub fn validate(&self) -> crate::Result<()> {
        if self.channels == 0 {
            return Err(Error::config(
                "conditional norm",
                "channels",
                self.channels,
                "at least 1",
            ));
        }
        Ok(())
    }

    /// Builds the layer: scale 1 and shift 0 for every conditioning vector.
    ///
    /// # Panics
    /// If [`CondNormConfig::validate`] fails (the message names the field).
    pub fn init(&self, device: &Device) -> CondNorm {
        if let Err(err) = self.validate() {
            panic!("{err}");
        }
        let c = self.channels;
        let mut affine = LinearConfig::new(self.cond_dim.max(1), 2 * c)
            .with_initializer(Initializer::Zeros)
            .init(device);
        let bias = Tensor::cat(
            vec![Tensor::ones([c], device), Tensor::zeros([c], device)],
            0,
        );
        affine.bias = Some(Param::from_tensor(bias));
        CondNorm {
            affine,
            training: Param::from_bool(true),
            running_mean: RunningState::new(Tensor::zeros([c], device)),
            running_var: RunningState::new(Tensor::ones([c], device)),
            channels: c,
            cond_dim: self.cond_dim,
            epsilon: self.epsilon,
            momentum: self.momentum,
        }
    }
}

impl CondNorm {
    /// Normalizes `x` and applies the scale and shift predicted from `cond`.
    ///
    /// # Shapes
    /// - `x`: `[batch, channels, height, width]`
    /// - `cond`: `[batch, cond_dim]`, here the camera position (world frame, scene units; see
    ///   the `# Conventions` of `pix2scene-scene`); `None` when `cond_dim = 0`
    /// - returns `[batch, channels, height, width]`
    ///
    /// # Panics
    /// If the shapes do not match the above, or `cond` is given to an unconditional layer or
    /// missing for a conditional one.
    pub fn forward(&self, x: Tensor<4>, cond: Option<Tensor<2>>) -> Tensor<4> {
        let [batch, channels, height, width] = x.dims();
        assert_shape!(x, [_, self.channels, _, _]);
        let device = x.device();
        let cond = match (self.cond_dim, cond) {
            (0, None) => Tensor::ones([batch, 1], &device),
            (0, Some(_)) => panic!("conditional norm has cond_dim = 0: pass no condition"),
            (_, None) => panic!(
                "conditional norm has cond_dim = {}: pass one",
                self.cond_dim
            ),
            (d, Some(cond)) => {
                assert_shape!(cond, [batch, d]);
                cond
            }
        };
        let scale_shift = self.affine.forward(cond);
        let scale = scale_shift.clone().narrow(1, 0, channels);
        let shift = scale_shift.narrow(1, channels, channels);
        if !self.training.is_enabled() {
            let mean = self.running_mean.value().to_device(&device);
            let var = self.running_var.value().to_device(&device);
            let (ones, zeros) = (
                Tensor::ones([channels], &device),
                Tensor::zeros([channels], &device),
            );
            let normalized = batch_norm(x, ones, zeros, mean, var, self.epsilon);
            return affine(normalized, scale, shift);
        }
        let (out, mean, variance) = match fused_train(x.clone(), &scale, &shift, self.epsilon) {
            Some(fused) => fused,
            None => {
                let ones = Tensor::ones([channels], &device);
                let out = batch_norm_train(x, ones.clone(), ones.zeros_like(), self.epsilon);
                (affine(out.output, scale, shift), out.mean, out.variance)
            }
        };
        let n = (batch * height * width) as f64;
        let unbiased = if n > 1.0 { n / (n - 1.0) } else { 1.0 };
        let m = self.momentum;
        let running_mean = self
            .running_mean
            .value_sync()
            .to_device(&device)
            .mul_scalar(1.0 - m)
            .add(mean.detach().mul_scalar(m));
        let running_var = self
            .running_var
            .value_sync()
            .to_device(&device)
            .mul_scalar(1.0 - m)
            .add(variance.detach().mul_scalar(m * unbiased));
        self.running_mean.update(running_mean.detach());
        self.running_var.update(running_var.detach());
        out
    }
}

/// `normalized · scale + shift` with the per-sample `[batch, channels]` scale and shift
/// broadcast over the pixels.
fn affine(normalized: Tensor<4>, scale: Tensor<2>, shift: Tensor<2>) -> Tensor<4> {
    let [batch, channels] = scale.dims();
    normalized * scale.reshape([batch, channels, 1, 1]) + shift.reshape([batch, channels, 1, 1])
}

/// The training-mode transform and the batch's per-channel mean and biased variance by the
/// fused [`CondNormBackend`] operation, for `f32` tensors on a `Flex` device; `None` elsewhere
/// (burn's `batch_norm_train` then, the reference in the tests).
fn fused_train(
    x: Tensor<4>,
    scale: &Tensor<2>,
    shift: &Tensor<2>,
    epsilon: f64,
) -> Option<(Tensor<4>, Tensor<1>, Tensor<1>)> {
    if !on_flex_f32(&x) {
        return None;
    }
    let channels = x.dims()[1];
    let moments: Tensor<2> = Tensor::from_dispatch(<Dispatch as CondNormBackend>::channel_moments(
        x.clone().detach().into_dispatch(),
    ));
    let out = Tensor::from_dispatch(<Dispatch as CondNormBackend>::cond_norm_train(
        x.into_dispatch(),
        moments.clone().into_dispatch(),
        scale.clone().into_dispatch(),
        shift.clone().into_dispatch(),
        epsilon as f32,
    ));
    let mean = moments.clone().narrow(0, 0, 1).reshape([channels]);
    let variance = moments.narrow(0, 1, 1).reshape([channels]);
    Some((out, mean, variance))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testutil::{Rng, device, max_abs_diff, to_vec};

    /// Independent reference: per-channel batch statistics and the affine map in f64.
    fn reference(
        x: &[f64],
        [b, c, h, w]: [usize; 4],
        cam: &[f64],
        weight: &[f64], // [3, 2c] row-major
        bias: &[f64],
        eps: f64,
    ) -> Vec<f64> {
        let n = (b * h * w) as f64;
        let mut out = vec![0.0; x.len()];
        for ch in 0..c {
            let idx = |bi: usize, p: usize| ((bi * c + ch) * h * w) + p;
            let mut mean = 0.0;
            for bi in 0..b {
                for p in 0..h * w {
                    mean += x[idx(bi, p)];
                }
            }
            mean /= n;
            let mut var = 0.0;
            for bi in 0..b {
                for p in 0..h * w {
                    var += (x[idx(bi, p)] - mean).powi(2);
                }
            }
            var /= n;
            for bi in 0..b {
                let lin = |o: usize| {
                    bias[o]
                        + (0..3)
                            .map(|k| cam[bi * 3 + k] * weight[k * 2 * c + o])
                            .sum::<f64>()
                };
                let (gamma, beta) = (lin(ch), lin(c + ch));
                for p in 0..h * w {
                    out[idx(bi, p)] = gamma * (x[idx(bi, p)] - mean) / (var + eps).sqrt() + beta;
                }
            }
        }
        out
    }

    #[test]
    fn conditional_norm_matches_reference_and_depends_on_camera() {
        let (device, mut rng) = (device(), Rng::new(3));
        let mut norm = CondNormConfig::new(5).init(&device);
        // Perturb the zero-initialised camera weights so that the camera matters.
        let weight = rng.tensor([3, 10], -1.0, 1.0, &device);
        norm.affine.weight = Param::from_tensor(weight.clone());
        let dims = [4, 5, 3, 2];
        let x = rng.tensor(dims, -3.0, 4.0, &device);
        let cam_a = rng.tensor([4, 3], 0.0, 1.0, &device);
        let cam_b = cam_a.clone().add_scalar(0.25);

        let out_a = norm.forward(x.clone(), Some(cam_a.clone()));
        let out_b = norm.forward(x.clone(), Some(cam_b));
        assert!(max_abs_diff(&to_vec(out_a.clone()), &to_vec(out_b)) > 1e-2);

        let bias = to_vec(norm.affine.bias.as_ref().unwrap().val());
        let want = reference(
            &to_vec(x),
            dims,
            &to_vec(cam_a),
            &to_vec(weight),
            &bias,
            1e-5,
        );
        assert!(max_abs_diff(&to_vec(out_a), &want) < 1e-4);
    }

    /// The layer's output, running statistics after the step, and the gradients of
    /// `Σ y ⊙ r` with respect to `x` and the affine weight and bias, on the autodiff Flex device;
    /// `burn` picks burn's `batch_norm_train` (the reference) instead of the fused operation.
    fn run_layer(
        norm: &CondNorm,
        x: &Tensor<4>,
        cam: &Tensor<2>,
        r: &Tensor<4>,
        burn: bool,
    ) -> Vec<Vec<f64>> {
        let x = x.clone().require_grad();
        let y = if burn {
            let [_, c, _, _] = x.dims();
            let scale_shift = norm.affine.forward(cam.clone());
            let ones = Tensor::ones([c], &x.device());
            let out = batch_norm_train(x.clone(), ones.clone(), ones.zeros_like(), norm.epsilon);
            let m = norm.momentum;
            let unbiased = {
                let [b, _, h, w] = x.dims();
                let n = (b * h * w) as f64;
                n / (n - 1.0)
            };
            let mean = norm
                .running_mean
                .value()
                .mul_scalar(1.0 - m)
                .add(out.mean.detach().mul_scalar(m));
            let var = norm
                .running_var
                .value()
                .mul_scalar(1.0 - m)
                .add(out.variance.detach().mul_scalar(m * unbiased));
            norm.running_mean.update(mean);
            norm.running_var.update(var);
            affine(
                out.output,
                scale_shift.clone().narrow(1, 0, c),
                scale_shift.narrow(1, c, c),
            )
        } else {
            norm.forward(x.clone(), Some(cam.clone()))
        };
        let grads = (y.clone() * r.clone()).sum().backward();
        let bias = norm.affine.bias.as_ref().expect("bias");
        vec![
            to_vec(y),
            to_vec(norm.running_mean.value()),
            to_vec(norm.running_var.value()),
            to_vec(x.grad(&grads).expect("x gradient")),
            to_vec(
                norm.affine
                    .weight
                    .val()
                    .grad(&grads)
                    .expect("weight gradient"),
            ),
            to_vec(bias.val().grad(&grads).expect("bias gradient")),
        ]
    }

    /// The fused training-mode operation (output, running statistics, and the gradients of the
    /// input and of the affine layer) against burn's `batch_norm_train` on odd shapes: planes of
    /// 35, 1 and 64 pixels, one sample, channels that are not a multiple of anything.
    #[test]
    fn fused_training_norm_matches_burn_forward_and_backward() {
        let (host, mut rng) = (device(), Rng::new(11));
        let dev = host.autodiff();
        for (i, dims) in [[3, 5, 7, 5], [6, 7, 1, 1], [1, 3, 8, 8]]
            .into_iter()
            .enumerate()
        {
            let weight = rng.tensor([3, 2 * dims[1]], -1.0, 1.0, &dev);
            // Two layers with the same weights (running statistics are shared between clones).
            let layer = || {
                let mut norm = CondNormConfig::new(dims[1]).init(&dev);
                norm.affine.weight = Param::from_tensor(weight.clone());
                norm
            };
            let x = rng.tensor(dims, -3.0, 4.0, &dev);
            let cam = rng.tensor([dims[0], 3], 0.0, 1.0, &dev);
            let r = rng.tensor(dims, -1.0, 1.0, &dev);
            let fused = run_layer(&layer(), &x, &cam, &r, false);
            let reference = run_layer(&layer(), &x, &cam, &r, true);
            let names = [
                "output",
                "running mean",
                "running variance",
                "x gradient",
                "weight gradient",
                "bias gradient",
            ];
            for ((f, r), name) in fused.iter().zip(&reference).zip(names) {
                let scale = r.iter().fold(1.0f64, |m, v| m.max(v.abs()));
                let diff = max_abs_diff(f, r);
                assert!(
                    diff < 2e-5 * scale,
                    "case {i}, {name}: {diff} (scale {scale})"
                );
            }
        }
    }

    #[test]
    fn fresh_layer_is_plain_batch_norm() {
        let (device, mut rng) = (device(), Rng::new(4));
        let norm = CondNormConfig::new(3).init(&device);
        let x = rng.tensor([2, 3, 4, 4], -2.0, 5.0, &device);
        let cam = rng.tensor([2, 3], 0.0, 1.0, &device);
        let got = to_vec(norm.forward(x.clone(), Some(cam.clone())));
        let weight = vec![0.0; 18];
        let bias = [1.0, 1.0, 1.0, 0.0, 0.0, 0.0];
        let want = reference(&to_vec(x), [2, 3, 4, 4], &to_vec(cam), &weight, &bias, 1e-5);
        assert!(max_abs_diff(&got, &want) < 1e-4);
    }

    #[test]
    fn eval_mode_uses_running_statistics() {
        let (device, mut rng) = (device(), Rng::new(5));
        let norm = CondNormConfig::new(2).init(&device);
        let x = rng.tensor([3, 2, 2, 2], 0.0, 4.0, &device);
        let cam = Tensor::<2>::zeros([3, 3], &device);
        let _ = norm.forward(x.clone(), Some(cam.clone()));
        // After one step from (mean 0, var 1): 0.1·batch + 0.9·initial, variance unbiased.
        let xs = to_vec(x.clone());
        let eval = norm.valid();
        let got = to_vec(eval.forward(x, Some(cam)));
        let n = 12.0;
        for ch in 0..2 {
            let vals: Vec<f64> = (0..3)
                .flat_map(|b| (0..4).map(move |p| (b * 2 + ch) * 4 + p))
                .map(|i| xs[i])
                .collect();
            let mean = vals.iter().sum::<f64>() / n;
            let var = vals.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / (n - 1.0);
            let (rm, rv) = (0.1 * mean, 0.1 * var + 0.9);
            for b in 0..3 {
                for p in 0..4 {
                    let i = (b * 2 + ch) * 4 + p;
                    let want = (xs[i] - rm) / (rv + 1e-5).sqrt();
                    assert!((got[i] - want).abs() < 1e-4, "{} vs {want}", got[i]);
                }
            }
        }
    }

    /// Without a condition the layer is batch normalization with a learned scale and shift:
    /// the reference with one constant input 1.
    #[test]
    fn unconditional_layer_has_a_learned_scale_and_shift() {
        let (device, mut rng) = (device(), Rng::new(6));
        let mut norm = CondNormConfig::new(3).with_cond_dim(0).init(&device);
        let weight = rng.tensor([1, 6], -1.0, 1.0, &device);
        norm.affine.weight = Param::from_tensor(weight.clone());
        let x = rng.tensor([2, 3, 4, 4], -2.0, 5.0, &device);
        let got = to_vec(norm.forward(x.clone(), None));
        // The reference's 3-vector condition (1, 0, 0) with the weight in its first row.
        let mut w3 = to_vec(weight);
        w3.extend([0.0; 12]);
        let bias = [1.0, 1.0, 1.0, 0.0, 0.0, 0.0];
        let cond = [1.0, 0.0, 0.0, 1.0, 0.0, 0.0];
        let want = reference(&to_vec(x), [2, 3, 4, 4], &cond, &w3, &bias, 1e-5);
        assert!(max_abs_diff(&got, &want) < 1e-4);
    }

    #[test]
    #[should_panic(expected = "conditional norm has cond_dim = 0: pass no condition")]
    fn unconditional_layer_refuses_a_condition() {
        let device = device();
        let norm = CondNormConfig::new(2).with_cond_dim(0).init(&device);
        let _ = norm.forward(
            Tensor::zeros([2, 2, 2, 2], &device),
            Some(Tensor::zeros([2, 3], &device)),
        );
    }

    #[test]
    fn zero_channels_is_rejected_by_name() {
        let err = CondNormConfig::new(0).validate().unwrap_err();
        assert_eq!(
            err.to_string(),
            "conditional norm config: field `channels` is 0, expected at least 1"
        );
    }
}
