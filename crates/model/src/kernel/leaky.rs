//! LeakyReLU as one burn operation with a hand-written backward, over rayon's pool.
//!
//! burn 0.22.1 builds LeakyReLU on autodiff from a comparison, a scaling and a masked select,
//! each recorded and each run on one thread by `Flex`; here the forward and the backward are
//! one parallel pass each.

use std::mem::MaybeUninit;

use burn::backend::autodiff::{
    Autodiff,
    checkpoint::{base::Checkpointer, strategy::CheckpointStrategy},
    grads::Gradients,
    ops::{Backward, Ops, OpsKind},
};
use burn::backend::flex::FlexTensor;
use burn::backend::{Flex, TensorMetadata, backend_extension, tensor::FloatTensor};
use burn::tensor::{Shape, TensorData};
use rayon::prelude::*;

use super::isa::vectorized;
use super::op::{ConstantBackward, contiguous, slice};

/// Elements per parallel task.
const CHUNK: usize = 1 << 14;

/// Backends that run the parallel LeakyReLU. Implemented for `Flex` and `Autodiff<Flex>`.
#[backend_extension(Flex, Autodiff)]
pub trait LeakyReluBackend: burn::backend::Backend {
    /// `x` where `x ≥ 0`, else `slope·x`, elementwise; any shape.
    fn par_leaky_relu(x: FloatTensor<Self>, slope: f32) -> FloatTensor<Self>;

    /// The slope mask of LeakyReLU at `x`: 1 where `x > 0`, else `slope`, elementwise; any
    /// shape. A constant: on autodiff it records no graph (its derivative is zero almost
    /// everywhere).
    fn par_slope_mask(x: FloatTensor<Self>, slope: f32) -> FloatTensor<Self>;
}

/// An elementwise kernel on one chunk: `(out, a, b, slope)`, writing every entry of `out`.
type ChunkKernel = fn(&mut [MaybeUninit<f32>], &[f32], &[f32], f32);

/// `kernel(out, a_chunk, b_chunk, slope)` over parallel chunks of `a` and `b`, written into fresh
/// memory without a zero fill, as a tensor of `shape`.
fn zip_map(a: &[f32], b: &[f32], shape: Shape, slope: f32, kernel: ChunkKernel) -> FlexTensor {
    assert_eq!(a.len(), b.len(), "operand lengths");
    let mut out: Vec<f32> = Vec::with_capacity(a.len());
    out.spare_capacity_mut()[..a.len()]
        .par_chunks_mut(CHUNK)
        .zip(a.par_chunks(CHUNK).zip(b.par_chunks(CHUNK)))
        .for_each(|(out, (a, b))| kernel(out, a, b, slope));
    // SAFETY: the chunks tile the first `a.len()` entries and each kernel writes its chunk whole.
    unsafe { out.set_len(a.len()) };
    FlexTensor::from_data(TensorData::new(out, shape))
}

/// `v·(1 if sign ≥ 0 else slope)`: LeakyReLU of `v` (with `sign = v`), or its derivative at
/// `sign` times the gradient `v`.
#[inline(always)]
fn leaky(sign: f32, v: f32, slope: f32) -> f32 {
    if sign >= 0.0 { v } else { slope * v }
}

vectorized! {
    /// LeakyReLU of `x` into `out` (`b` unused: the [`zip_map`] kernel shape).
    pub(super) fn forward_chunk(out: &mut [MaybeUninit<f32>], x: &[f32], _b: &[f32], slope: f32) {
        for (o, &v) in out.iter_mut().zip(x) {
            o.write(leaky(v, v, slope));
        }
    }
}

vectorized! {
    /// LeakyReLU's input gradient at `x` from the output gradient `g`, into `out`.
    pub(super) fn backward_chunk(out: &mut [MaybeUninit<f32>], x: &[f32], g: &[f32], slope: f32) {
        for (o, (&x, &g)) in out.iter_mut().zip(x.iter().zip(g)) {
            o.write(leaky(x, g, slope));
        }
    }
}

vectorized! {
    /// The slope mask of `x` (1 where `x > 0`, else `slope`) into `out` (`b` unused).
    pub(super) fn mask_chunk(out: &mut [MaybeUninit<f32>], x: &[f32], _b: &[f32], slope: f32) {
        for (o, &v) in out.iter_mut().zip(x) {
            o.write(if v > 0.0 { 1.0 } else { slope });
        }
    }
}

fn slope_mask(x: &FlexTensor, slope: f32) -> FlexTensor {
    let values = slice(x);
    zip_map(values, values, x.shape(), slope, mask_chunk)
}

fn forward(x: &FlexTensor, slope: f32) -> FlexTensor {
    let values = slice(x);
    zip_map(values, values, x.shape(), slope, forward_chunk)
}

impl LeakyReluBackend for Flex {
    fn par_leaky_relu(x: FlexTensor, slope: f32) -> FlexTensor {
        forward(&contiguous(x), slope)
    }

    fn par_slope_mask(x: FlexTensor, slope: f32) -> FlexTensor {
        slope_mask(&contiguous(x), slope)
    }
}

/// Backward step of [`LeakyReluBackend::par_leaky_relu`]: `g` where `x ≥ 0`, else `slope·g`.
#[derive(Debug)]
struct LeakyBackward;

impl Backward<Flex, 1> for LeakyBackward {
    /// The contiguous input and the slope.
    type State = (FlexTensor, f32);

    fn backward(self, ops: Ops<Self::State, 1>, grads: &mut Gradients, _: &mut Checkpointer) {
        let [node] = ops.parents;
        let grad = contiguous(grads.consume::<Flex>(&ops.node));
        let (x, slope) = ops.state;
        if let Some(node) = node {
            let g = slice(&grad);
            let x = slice(&x);
            let dx = zip_map(x, g, grad.shape(), slope, backward_chunk);
            grads.register::<Flex>(node.id, dx);
        }
    }
}

impl<C: CheckpointStrategy> LeakyReluBackend for Autodiff<Flex, C> {
    fn par_leaky_relu(x: FloatTensor<Self>, slope: f32) -> FloatTensor<Self> {
        let kind = LeakyBackward
            .prepare::<C>([x.node()])
            .compute_bound()
            .stateful();
        let x = contiguous(x.into_primitive());
        match kind {
            OpsKind::Tracked(prep) => {
                let out = forward(&x, slope);
                prep.finish((x, slope), out)
            }
            OpsKind::UnTracked(prep) => prep.finish(forward(&x, slope)),
        }
    }

    fn par_slope_mask(x: FloatTensor<Self>, slope: f32) -> FloatTensor<Self> {
        // The mask is piecewise constant: it passes no gradient on.
        let prep = ConstantBackward.prepare::<C>([x.node()]).compute_bound();
        prep.stateless(slope_mask(&contiguous(x.into_primitive()), slope))
    }
}
