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
use super::inputs::{KernelInputs, KernelParams};
use super::kept_sums::KeptSums;

/// Backends that run the fused surfel kernel. Implemented for `Flex` and `Autodiff<Flex>`.
#[backend_extension(Flex, Autodiff)]
pub trait SurfelKernelBackend: burn::backend::Backend {
    /// Render `[batch, params.outputs.channels(), size, size]` of `depth` `[batch, size, size]`
    /// seen along the unit ray directions `dirs` (`[3, size, size]` planes), with lights
    /// `[batch, lights, 3]` (camera frame).
    fn surfel_render_packed(
        depth: FloatTensor<Self>,
        dirs: FloatTensor<Self>,
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

/// The kernel's constant inputs: contiguous ray directions, light positions and colours.
type Constants = [FlexTensor; 3];

/// Runs the forward sweep; also returns the plane-fit sums for the backward pass when
/// `keep_sums`.
fn run_forward(
    depth: &FlexTensor,
    [dirs, light_pos, light_color]: &Constants,
    params: &KernelParams,
    keep_sums: bool,
) -> (FlexTensor, Option<KeptSums>) {
    let dims = depth.shape().dims::<3>();
    let [batch, size, _] = dims;
    let inputs = KernelInputs::new(
        depth.as_slice().expect("contiguous"),
        dirs.as_slice().expect("contiguous"),
        light_pos.as_slice().expect("contiguous"),
        light_color.as_slice().expect("contiguous"),
        [batch, size],
        params,
    );
    let (out, sums) = forward(&inputs, keep_sums);
    let out = FlexTensor::from_data(TensorData::new(
        out,
        [batch, inputs.outputs.channels(), size, size],
    ));
    (out, sums)
}

impl SurfelKernelBackend for Flex {
    fn surfel_render_packed(
        depth: FlexTensor,
        dirs: FlexTensor,
        light_pos: FlexTensor,
        light_color: FlexTensor,
        params: KernelParams,
    ) -> FlexTensor {
        let constants = [dirs, light_pos, light_color].map(contiguous);
        run_forward(&contiguous(depth), &constants, &params, false).0
    }
}

/// Backward step of [`SurfelKernelBackend::surfel_render_packed`]: gradient to `depth` only.
#[derive(Debug)]
struct SurfelRenderBackward;

impl Backward<Flex, 1> for SurfelRenderBackward {
    /// Contiguous depth, the constant inputs, the kernel settings, and the plane-fit sums of the
    /// forward pass.
    type State = (FlexTensor, Constants, KernelParams, KeptSums);

    fn backward(self, ops: Ops<Self::State, 1>, grads: &mut Gradients, _: &mut Checkpointer) {
        let [node_depth] = ops.parents;
        let grad = contiguous(grads.consume::<Flex>(&ops.node));
        let (depth, [dirs, light_pos, light_color], params, sums) = ops.state;
        let Some(node) = node_depth else { return };
        let [batch, size, _] = depth.shape().dims::<3>();
        let inputs = KernelInputs::new(
            depth.as_slice().expect("contiguous"),
            dirs.as_slice().expect("contiguous"),
            light_pos.as_slice().expect("contiguous"),
            light_color.as_slice().expect("contiguous"),
            [batch, size],
            &params,
        );
        let g = backward(&inputs, &sums, grad.as_slice().expect("contiguous"));
        grads.register::<Flex>(
            node.id,
            FlexTensor::from_data(TensorData::new(g, [batch, size, size])),
        );
    }
}

impl<C: CheckpointStrategy> SurfelKernelBackend for Autodiff<Flex, C> {
    /// Gradients flow to `depth` only; the ray directions and the light tensors are treated as
    /// constants (the renderer uses the reference implementation when lights are tracked).
    fn surfel_render_packed(
        depth: FloatTensor<Self>,
        dirs: FloatTensor<Self>,
        light_pos: FloatTensor<Self>,
        light_color: FloatTensor<Self>,
        params: KernelParams,
    ) -> FloatTensor<Self> {
        let constants = [dirs, light_pos, light_color].map(|t| contiguous(t.into_primitive()));
        match SurfelRenderBackward
            .prepare::<C>([depth.node()])
            .compute_bound()
            .stateful()
        {
            OpsKind::Tracked(prep) => {
                let d = contiguous(depth.primitive().clone());
                let (out, sums) = run_forward(&d, &constants, &params, true);
                let sums = sums.expect("kept when asked for");
                prep.finish((d, constants, params, sums), out)
            }
            OpsKind::UnTracked(prep) => {
                let d = contiguous(depth.into_primitive());
                prep.finish(run_forward(&d, &constants, &params, false).0)
            }
        }
    }
}

/// Runs the fused kernel on tensors of a `Flex` device (with or without autodiff).
///
/// # Shapes
/// - `depth`: `[batch, size, size]`; `dirs`: `[3, size, size]`, unit ray directions as planes;
///   `light_pos`, `light_color`: `[batch, lights, 3]`
/// - returns `[batch, params.outputs.channels(), size, size]`: image RGB, then (with
///   [`super::KernelOutputs::ImageAndGeometry`]) points xyz and normals xyz
///
/// # Panics
/// If the tensors are not `f32` on a `Flex` device.
pub fn render_packed(
    depth: Tensor<3>,
    dirs: Tensor<3>,
    light_pos: Tensor<3>,
    light_color: Tensor<3>,
    params: KernelParams,
) -> Tensor<4> {
    Tensor::from_dispatch(<Dispatch as SurfelKernelBackend>::surfel_render_packed(
        depth.into_dispatch(),
        dirs.into_dispatch(),
        light_pos.into_dispatch(),
        light_color.into_dispatch(),
        params,
    ))
}
