//! The networks' LeakyReLU, routed to the parallel [`crate::kernel`] operation on `Flex` and to
//! burn's own `leaky_relu` (the reference) everywhere else.

use burn::backend::{Dispatch, DispatchDevice};
use burn::tensor::activation;
use burn::tensor::{DType, Tensor};

use crate::LEAKY_SLOPE;
use crate::kernel::LeakyReluBackend;

/// LeakyReLU with the networks' slope ([`LEAKY_SLOPE`]): `x` where `x ≥ 0`, else `0.2·x`.
///
/// # Shapes
/// - `x`: any; returns the same shape
pub(crate) fn leaky_relu<const D: usize>(x: Tensor<D>) -> Tensor<D> {
    let on_flex = matches!(x.device().inner().as_dispatch(), DispatchDevice::Flex(_));
    if !(on_flex && x.dtype() == DType::F32) {
        return activation::leaky_relu(x, LEAKY_SLOPE);
    }
    Tensor::from_dispatch(<Dispatch as LeakyReluBackend>::par_leaky_relu(
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
}
