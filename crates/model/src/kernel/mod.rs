//! Fast CPU convolutions for burn's `Flex` backend: im2col + one GEMM per product over the whole
//! batch (the `gemm` crate, split over rayon's current pool), with hand-written input and
//! weight gradients.
//!
//! burn 0.22.1's Flex convolution computes weight gradients as a dilated convolution of the
//! swapped input by the swapped output gradient (a large im2col with 16 output pixels) and
//! converts every input to NHWC on one thread; these kernels instead share one patch matrix
//! layout between the convolution, its transpose and both of their gradients
//! ([`batched`]). [`crate::conv`] chooses them for `f32` tensors on a `Flex` device and keeps
//! burn's own convolutions as the reference they are tested against. [`leaky`] is the networks'
//! LeakyReLU as one parallel operation with its backward.

mod adam;
mod batched;
mod geometry;
mod isa;
mod leaky;
mod matmul;
mod norm;
mod op;

pub(crate) use adam::{AdamScalars, adam_step};

use burn::backend::DispatchDevice;
use burn::tensor::{DType, Tensor};

/// Whether `t` is an `f32` tensor on a `Flex` device (autodiff or not): where the kernels of
/// this module apply.
pub(crate) fn on_flex_f32<const D: usize>(t: &Tensor<D>) -> bool {
    matches!(t.device().inner().as_dispatch(), DispatchDevice::Flex(_)) && t.dtype() == DType::F32
}
pub(crate) use leaky::LeakyReluBackend;
pub(crate) use norm::CondNormBackend;
pub(crate) use op::{PatchConvBackend, Taps};
