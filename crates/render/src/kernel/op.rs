//! The fused kernel as a burn operation: a backend extension of `Flex`, with a hand-written
//! backward registered for `Autodiff<Flex>`.

use burn::backend::autodiff::{
    Autodiff,
    checkpoint::{base::Checkpointer, strategy::CheckpointStrategy},
    grads::Gradients,
    ops::{Backward, Ops, OpsKind},
};
use burn::backend::flex::FlexTensor;
use burn::backend::{Dispatch, Flex, TensorMetadata, backend_extension, tensor::FloatTensor};
use burn::tensor::{DType, Tensor, TensorData};

use super::backward::backward;
use super::forward::forward;
use super::inputs::{KernelInputs, KernelParams, PACKED_CHANNELS};

/// Backends that run the fused surfel kernel. Implemented for `Flex` and `Autodiff<Flex>`.
#[backend_extension(Flex, Autodiff)]
pub trait SurfelKernelBackend: burn::backend::Backend {
    /// Packed render `[batch, PACKED_CHANNELS, size, size]` of `depth` `[batch, size, size]`
    /// with lights `[batch, lights, 3]` (camera frame).
    fn surfel_render_packed(
        depth: FloatTensor<Self>,
        light_pos: FloatTensor<Self>,
        light_color: FloatTensor<Self>,
        params: KernelParams,
    ) -> FloatTensor<Self>;
}

/// A contiguous `f32` view of a Flex tensor (copies only when it is strided or shared).
fn contiguous(t: FlexTensor) -> FlexTensor {
    assert_eq!(
        t.dtype(),
        DType::F32,
        "fused surfel kernel needs f32 tensors"
    );
    if t.as_slice::<f32>().is_some() {
        t
    } else {
        t.to_contiguous()
    }
}

fn run_forward(
    depth: &FlexTensor,
    light_pos: &FlexTensor,
    light_color: &FlexTensor,
    params: &KernelParams,
) -> FlexTensor {
    let dims = depth.shape().dims::<3>();
    let [batch, size, _] = dims;
    let inputs = KernelInputs::new(
        depth.as_slice().expect("contiguous"),
        light_pos.as_slice().expect("contiguous"),
        light_color.as_slice().expect("contiguous"),
        [batch, size],
        params,
    );
    let packed = forward(&inputs);
    FlexTensor::from_data(TensorData::new(
        packed,
        [batch, PACKED_CHANNELS, size, size],
    ))
}

impl SurfelKernelBackend for Flex {
    fn surfel_render_packed(
        depth: FlexTensor,
        light_pos: FlexTensor,
        light_color: FlexTensor,
        params: KernelParams,
    ) -> FlexTensor {
        run_forward(
            &contiguous(depth),
            &contiguous(light_pos),
            &contiguous(light_color),
            &params,
        )
    }
}

/// Backward step of [`SurfelKernelBackend::surfel_render_packed`]: gradient to `depth` only.
#[derive(Debug)]
struct SurfelRenderBackward;

impl Backward<Flex, 1> for SurfelRenderBackward {
    /// Contiguous depth, light positions and colours, and the kernel settings.
    type State = (FlexTensor, FlexTensor, FlexTensor, KernelParams);

    fn backward(self, ops: Ops<Self::State, 1>, grads: &mut Gradients, _: &mut Checkpointer) {
        let [node_depth] = ops.parents;
        let grad = contiguous(grads.consume::<Flex>(&ops.node));
        let (depth, light_pos, light_color, params) = ops.state;
        let Some(node) = node_depth else { return };
        let [batch, size, _] = depth.shape().dims::<3>();
        let inputs = KernelInputs::new(
            depth.as_slice().expect("contiguous"),
            light_pos.as_slice().expect("contiguous"),
            light_color.as_slice().expect("contiguous"),
            [batch, size],
            &params,
        );
        let g = backward(&inputs, grad.as_slice().expect("contiguous"));
        grads.register::<Flex>(
            node.id,
            FlexTensor::from_data(TensorData::new(g, [batch, size, size])),
        );
    }
}

impl<C: CheckpointStrategy> SurfelKernelBackend for Autodiff<Flex, C> {
    /// Gradients flow to `depth` only; the light tensors are treated as constants (the
    /// renderer uses the reference implementation when they are tracked).
    fn surfel_render_packed(
        depth: FloatTensor<Self>,
        light_pos: FloatTensor<Self>,
        light_color: FloatTensor<Self>,
        params: KernelParams,
    ) -> FloatTensor<Self> {
        let lp = contiguous(light_pos.into_primitive());
        let lc = contiguous(light_color.into_primitive());
        match SurfelRenderBackward
            .prepare::<C>([depth.node()])
            .compute_bound()
            .stateful()
        {
            OpsKind::Tracked(prep) => {
                let d = contiguous(depth.primitive().clone());
                let out = run_forward(&d, &lp, &lc, &params);
                prep.finish((d, lp, lc, params), out)
            }
            OpsKind::UnTracked(prep) => {
                let d = contiguous(depth.into_primitive());
                prep.finish(run_forward(&d, &lp, &lc, &params))
            }
        }
    }
}

/// Runs the fused kernel on tensors of a `Flex` device (with or without autodiff).
///
/// # Shapes
/// - `depth`: `[batch, size, size]`; `light_pos`, `light_color`: `[batch, lights, 3]`
/// - returns `[batch, PACKED_CHANNELS, size, size]`: image RGB, points xyz, normals xyz
///
/// # Panics
/// If the tensors are not `f32` on a `Flex` device.
pub fn render_packed(
    depth: Tensor<3>,
    light_pos: Tensor<3>,
    light_color: Tensor<3>,
    params: KernelParams,
) -> Tensor<4> {
    Tensor::from_dispatch(<Dispatch as SurfelKernelBackend>::surfel_render_packed(
        depth.into_dispatch(),
        light_pos.into_dispatch(),
        light_color.into_dispatch(),
        params,
    ))
}
