//! The convolutions of every network, routed to the fast [`crate::kernel`] where it applies and
//! to burn's own `conv2d` / `conv_transpose2d` (the reference) everywhere else.

use burn::backend::Dispatch;
use burn::nn::PaddingConfig2d;
use burn::nn::conv::{Conv2d, ConvTranspose2d};
use burn::tensor::ops::{ConvOptions, ConvTransposeOptions};
use burn::tensor::{DType, Tensor, module};

use crate::kernel::{PatchConvBackend, Taps, on_flex_f32};

/// `conv.forward(x)` of a burn [`Conv2d`] module (`Same` padding goes to burn directly).
///
/// # Shapes
/// - `x`: `[batch, c_in, h, w]`; returns `[batch, c_out, h', w']`
pub(crate) fn conv2d_layer(conv: &Conv2d, x: Tensor<4>) -> Tensor<4> {
    let ((top, bottom), (left, right)) = match conv.padding {
        PaddingConfig2d::Valid => ((0, 0), (0, 0)),
        PaddingConfig2d::Explicit(top, left, bottom, right) => ((top, bottom), (left, right)),
        PaddingConfig2d::Same => return conv.forward(x),
    };
    let options = ConvOptions::new_with_padding(
        conv.stride,
        [(top, bottom), (left, right)],
        conv.dilation,
        conv.groups,
    );
    conv2d(
        x,
        conv.weight.val(),
        conv.bias.as_ref().map(|b| b.val()),
        options,
    )
}

/// `conv.forward(x)` of a burn [`ConvTranspose2d`] module.
///
/// # Shapes
/// - `x`: `[batch, c_in, h, w]`; returns `[batch, c_out, h', w']`
pub(crate) fn conv_transpose2d_layer(conv: &ConvTranspose2d, x: Tensor<4>) -> Tensor<4> {
    let options = ConvTransposeOptions::new(
        conv.stride,
        conv.padding,
        conv.padding_out,
        conv.dilation,
        conv.groups,
    );
    conv_transpose2d(
        x,
        conv.weight.val(),
        conv.bias.as_ref().map(|b| b.val()),
        options,
    )
}

/// [`burn::tensor::module::conv2d`], by the patch kernel when it applies.
///
/// # Shapes
/// - `x`: `[batch, c_in, h, w]`; `weight`: `[c_out, c_in, k, k]`; `bias`: `[c_out]`
/// - returns `[batch, c_out, h', w']`
pub(crate) fn conv2d(
    x: Tensor<4>,
    weight: Tensor<4>,
    bias: Option<Tensor<1>>,
    options: ConvOptions<2>,
) -> Tensor<4> {
    let [(p0, p1), (p2, p3)] = options.padding;
    let taps = Taps {
        stride: options.stride[0],
        padding: p0,
    };
    let plain = options.stride[1] == taps.stride
        && [p1, p2, p3] == [p0; 3]
        && options.dilation == [1, 1]
        && options.groups == 1;
    if !(plain && fast_applies(&x, &weight, bias.as_ref())) {
        return module::conv2d(x, weight, bias, options);
    }
    let bias = bias_or_zeros(bias, weight.dims()[0], &x);
    Tensor::from_dispatch(<Dispatch as PatchConvBackend>::patch_conv2d(
        x.into_dispatch(),
        weight.into_dispatch(),
        bias.into_dispatch(),
        taps,
    ))
}

/// [`burn::tensor::module::conv_transpose2d`], by the patch kernel when it applies.
///
/// # Shapes
/// - `x`: `[batch, c_in, h, w]`; `weight`: `[c_in, c_out, k, k]`; `bias`: `[c_out]`
/// - returns `[batch, c_out, h', w']`
pub(crate) fn conv_transpose2d(
    x: Tensor<4>,
    weight: Tensor<4>,
    bias: Option<Tensor<1>>,
    options: ConvTransposeOptions<2>,
) -> Tensor<4> {
    let taps = Taps {
        stride: options.stride[0],
        padding: options.padding[0],
    };
    let plain = options.stride[1] == taps.stride
        && options.padding[1] == taps.padding
        && options.padding_out == [0, 0]
        && options.dilation == [1, 1]
        && options.groups == 1;
    if !(plain && fast_applies(&x, &weight, bias.as_ref())) {
        return module::conv_transpose2d(x, weight, bias, options);
    }
    let bias = bias_or_zeros(bias, weight.dims()[1], &x);
    Tensor::from_dispatch(<Dispatch as PatchConvBackend>::patch_conv_transpose2d(
        x.into_dispatch(),
        weight.into_dispatch(),
        bias.into_dispatch(),
        taps,
    ))
}

/// Whether the patch kernel can run these tensors: all `f32` on a `Flex` device (autodiff or
/// not), with a square kernel.
fn fast_applies(x: &Tensor<4>, weight: &Tensor<4>, bias: Option<&Tensor<1>>) -> bool {
    let [_, _, k0, k1] = weight.dims();
    on_flex_f32(x)
        && k0 == k1
        && weight.dtype() == DType::F32
        && bias.is_none_or(|b| b.dtype() == DType::F32)
}

/// The layer's bias, or zeros (not tracked) for `channels` outputs where it has none: the fast
/// kernels add a bias as they write their output, so a bias-less layer adds zeros for free.
fn bias_or_zeros(bias: Option<Tensor<1>>, channels: usize, x: &Tensor<4>) -> Tensor<1> {
    bias.unwrap_or_else(|| Tensor::zeros([channels], &x.device()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testutil::{Rng, device, to_vec};

    /// `max|a − b| / max|b|`.
    fn rel_diff(a: &[f64], b: &[f64]) -> f64 {
        assert_eq!(a.len(), b.len());
        let scale = b.iter().fold(1e-6f64, |m, v| m.max(v.abs()));
        a.iter()
            .zip(b)
            .fold(0.0f64, |m, (x, y)| m.max((x - y).abs()))
            / scale
    }

    /// Output and the gradients w.r.t. input, weight and bias of `Σ out ⊙ r`, on the autodiff
    /// Flex device, for one convolution implementation `f`.
    fn run(
        f: impl Fn(Tensor<4>, Tensor<4>, Option<Tensor<1>>) -> Tensor<4>,
        x: &Tensor<4>,
        w: &Tensor<4>,
        b: &Tensor<1>,
        r_seed: u64,
    ) -> [Vec<f64>; 4] {
        let x = x.clone().autodiff().require_grad();
        let w = w.clone().autodiff().require_grad();
        let b = b.clone().autodiff().require_grad();
        let out = f(x.clone(), w.clone(), Some(b.clone()));
        let r = Rng::new(r_seed).tensor(out.dims(), -1.0, 1.0, &device());
        let grads = (out.clone() * r.autodiff()).sum().backward();
        let grad = |g: Option<Tensor<4>>| to_vec(g.expect("gradient"));
        [
            to_vec(out),
            grad(x.grad(&grads)),
            grad(w.grad(&grads)),
            to_vec(b.grad(&grads).expect("bias gradient")),
        ]
    }

    fn assert_close(fast: [Vec<f64>; 4], reference: [Vec<f64>; 4], case: &str) {
        for (name, (a, b)) in ["output", "input grad", "weight grad", "bias grad"]
            .iter()
            .zip(fast.iter().zip(&reference))
        {
            let d = rel_diff(a, b);
            assert!(d < 1e-5, "{case}: {name} differs by {d:e} (relative)");
        }
    }

    /// (batch, c_in, c_out, size, kernel, stride, padding): the networks' shapes and a few more,
    /// with the ResNet trunk's 1×1 (stride 1 and 2), 3×3 stride-2 and 7×7 stem convolutions, and
    /// dense ones (kernel = map, no padding: heads and projections) of odd sizes and stride 2.
    const CASES: [(usize, usize, usize, usize, usize, usize, usize); 12] = [
        (3, 6, 8, 16, 4, 2, 1),
        (2, 8, 4, 8, 4, 2, 1),
        (3, 10, 5, 4, 4, 1, 0),
        (2, 3, 4, 7, 4, 2, 1),
        (1, 4, 3, 6, 3, 1, 1),
        (2, 5, 2, 9, 3, 2, 0),
        (2, 6, 5, 8, 1, 1, 0),
        (2, 6, 5, 8, 1, 2, 0),
        (2, 4, 6, 9, 3, 2, 1),
        (2, 3, 4, 16, 7, 2, 3),
        (3, 7, 5, 5, 5, 1, 0),
        (5, 3, 4, 4, 4, 2, 0),
    ];

    #[test]
    fn fast_conv2d_matches_burn() {
        let mut rng = Rng::new(51);
        for (i, (batch, c_in, c_out, size, k, s, p)) in CASES.into_iter().enumerate() {
            let options = ConvOptions::new([s, s], [p, p], [1, 1], 1);
            let x = rng.tensor([batch, c_in, size, size], -1.0, 1.0, &device());
            let w = rng.tensor([c_out, c_in, k, k], -0.5, 0.5, &device());
            let b = rng.tensor([c_out], -0.5, 0.5, &device());
            let fast = run(
                |x, w, b| conv2d(x, w, b, options.clone()),
                &x,
                &w,
                &b,
                60 + i as u64,
            );
            let reference = run(
                |x, w, b| module::conv2d(x, w, b, options.clone()),
                &x,
                &w,
                &b,
                60 + i as u64,
            );
            assert_close(fast, reference, &format!("conv2d case {i}"));
        }
    }

    #[test]
    fn fast_conv_transpose2d_matches_burn() {
        let mut rng = Rng::new(52);
        for (i, (batch, c_in, c_out, size, k, s, p)) in CASES.into_iter().enumerate() {
            // Dense cases (kernel = map, no padding) start from one pixel.
            let size = if p == 0 && size == k { 1 } else { size / 2 };
            let options = ConvTransposeOptions::new([s, s], [p, p], [0, 0], [1, 1], 1);
            let x = rng.tensor([batch, c_in, size, size], -1.0, 1.0, &device());
            let w = rng.tensor([c_in, c_out, k, k], -0.5, 0.5, &device());
            let b = rng.tensor([c_out], -0.5, 0.5, &device());
            let fast = run(
                |x, w, b| conv_transpose2d(x, w, b, options.clone()),
                &x,
                &w,
                &b,
                70 + i as u64,
            );
            let reference = run(
                |x, w, b| module::conv_transpose2d(x, w, b, options.clone()),
                &x,
                &w,
                &b,
                70 + i as u64,
            );
            assert_close(fast, reference, &format!("conv_transpose2d case {i}"));
        }
    }

    #[test]
    fn fast_path_runs_without_autodiff() {
        let mut rng = Rng::new(53);
        let options = ConvOptions::new([2, 2], [1, 1], [1, 1], 1);
        let x = rng.tensor([2, 3, 8, 8], -1.0, 1.0, &device());
        let w = rng.tensor([4, 3, 4, 4], -0.5, 0.5, &device());
        let fast = to_vec(conv2d(x.clone(), w.clone(), None, options.clone()));
        let reference = to_vec(module::conv2d(x, w, None, options));
        assert!(rel_diff(&fast, &reference) < 1e-5);
    }
}
