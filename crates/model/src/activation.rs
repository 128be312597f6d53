//! The networks' LeakyReLU, routed to the parallel [`crate::kernel`] operation on `Flex` and to
//! burn's own `leaky_relu` (the reference) everywhere else.

use burn::backend::Dispatch;
use burn::tensor::Tensor;
use burn::tensor::activation;

use crate::LEAKY_SLOPE;
use crate::kernel::{LeakyReluBackend, on_flex_f32};

/// LeakyReLU with the networks' slope ([`LEAKY_SLOPE`]): `x` where `x ≥ 0`, else `0.2·x`.
///
/// # Shapes
/// - `x`: any; returns the same shape
pub(crate) fn leaky_relu<const D: usize>(x: Tensor<D>) -> Tensor<D> {
    if !on_flex_f32(&x) {
        return activation::leaky_relu(x, LEAKY_SLOPE);
    }
    Tensor::from_dispatch(<Dispatch as LeakyReluBackend>::par_leaky_relu(
        x.into_dispatch(),
        LEAKY_SLOPE as f32,
    ))
}

/// LeakyReLU's slope mask at `x` (a constant): 1 where `x > 0`, else [`LEAKY_SLOPE`]; `x ⊙ mask`
/// is [`leaky_relu`]`(x)`.
///
/// # Shapes
/// - `x`: any; returns the same shape
pub(crate) fn slope_mask<const D: usize>(x: Tensor<D>) -> Tensor<D> {
    if !on_flex_f32(&x) {
        let positive = x.clone().greater_elem(0.0);
        return x.ones_like().mask_fill(positive.bool_not(), LEAKY_SLOPE);
    }
    Tensor::from_dispatch(<Dispatch as LeakyReluBackend>::par_slope_mask(
        x.into_dispatch(),
        LEAKY_SLOPE as f32,
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testutil::{Rng, device, max_abs_diff, to_vec};

    /// Output and input gradient of `Σ leaky(x) ⊙ r` on the autodiff Flex device.
    fn run(f: impl Fn(Tensor<4>) -> Tensor<4>, x: &Tensor<4>, r: &Tensor<4>) -> [Vec<f64>; 2] {
        let x = x.clone().autodiff().require_grad();
        let out = f(x.clone());
        let grads = (out.clone() * r.clone().autodiff()).sum().backward();
        [to_vec(out), to_vec(x.grad(&grads).expect("gradient"))]
    }

    #[test]
    fn parallel_leaky_relu_matches_burn_forward_and_backward() {
        let mut rng = Rng::new(81);
        // Larger than one parallel task, and a small one.
        for shape in [[3, 5, 64, 64], [2, 3, 4, 4]] {
            let x = rng.tensor(shape, -1.0, 1.0, &device());
            let r = rng.tensor(shape, -1.0, 1.0, &device());
            let fast = run(leaky_relu, &x, &r);
            let reference = run(|x| activation::leaky_relu(x, LEAKY_SLOPE), &x, &r);
            for (a, b) in fast.iter().zip(&reference) {
                assert_eq!(max_abs_diff(a, b), 0.0, "{shape:?}");
            }
            // And without autodiff.
            let plain = to_vec(leaky_relu(x.clone()));
            assert_eq!(plain, fast[0]);
        }
    }

    /// The parallel slope mask equals its definition (exact zeros included), on plain and
    /// autodiff tensors, and `x ⊙ mask` is LeakyReLU to the bit.
    #[test]
    fn parallel_slope_mask_matches_its_definition() {
        let mut rng = Rng::new(82);
        for shape in [[3, 5, 64, 64], [2, 3, 4, 4]] {
            let x = rng.tensor(shape, -1.0, 1.0, &device());
            let x = x.clone().mask_fill(x.lower_elem(-0.9), 0.0);
            let positive = x.clone().greater_elem(0.0);
            let reference = to_vec(x.ones_like().mask_fill(positive.bool_not(), LEAKY_SLOPE));
            let mask = slope_mask(x.clone());
            assert_eq!(to_vec(mask.clone()), reference, "{shape:?}");
            assert_eq!(
                to_vec(slope_mask(x.clone().autodiff())),
                reference,
                "{shape:?}"
            );
            let bits = |t: Tensor<4>| to_vec(t).iter().map(|v| v.to_bits()).collect::<Vec<_>>();
            assert_eq!(bits(x.clone() * mask), bits(leaky_relu(x)), "{shape:?}");
        }
    }
}
