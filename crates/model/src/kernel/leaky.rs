//! LeakyReLU as one burn operation with a hand-written backward, over rayon's pool.
//!
//! burn 0.22.1 builds LeakyReLU on autodiff from a comparison, a scaling and a masked select,
//! each recorded and each run on one thread by `Flex`; here the forward and the backward are
//! one parallel pass each.

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

use super::op::contiguous;

/// Elements per parallel task.
const CHUNK: usize = 1 << 14;

/// Backends that run the parallel LeakyReLU. Implemented for `Flex` and `Autodiff<Flex>`.
#[backend_extension(Flex, Autodiff)]
pub trait LeakyReluBackend: burn::backend::Backend {
    /// `x` where `x ≥ 0`, else `slope·x`, elementwise; any shape.
    fn par_leaky_relu(x: FloatTensor<Self>, slope: f32) -> FloatTensor<Self>;
}

/// `f(x_i)` for every element, in parallel, as a tensor of `shape`.
fn map(x: &[f32], shape: Shape, f: impl Fn(usize, f32) -> f32 + Sync) -> FlexTensor {
    let out: Vec<f32> = x
        .par_iter()
        .with_min_len(CHUNK)
        .enumerate()
        .map(|(i, &v)| f(i, v))
        .collect();
    FlexTensor::from_data(TensorData::new(out, shape))
}

fn forward(x: &FlexTensor, slope: f32) -> FlexTensor {
    let values = x.as_slice::<f32>().expect("contiguous f32");
    map(
        values,
        x.shape(),
        |_, v| if v >= 0.0 { v } else { slope * v },
    )
}

impl LeakyReluBackend for Flex {
    fn par_leaky_relu(x: FlexTensor, slope: f32) -> FlexTensor {
        forward(&contiguous(x), slope)
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
            let g = grad.as_slice::<f32>().expect("contiguous f32");
            let x = x.as_slice::<f32>().expect("contiguous f32");
            let dx = map(
                g,
                grad.shape(),
                |i, g| if x[i] >= 0.0 { g } else { slope * g },
            );
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
}
