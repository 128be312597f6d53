//! The patch convolutions as burn operations: a backend extension of `Flex`, with hand-written
//! backwards (input and weight gradients) registered for `Autodiff<Flex>`.

use burn::backend::autodiff::{
    Autodiff,
    checkpoint::{base::Checkpointer, strategy::CheckpointStrategy},
    grads::Gradients,
    ops::{Backward, Ops, OpsKind},
};
use burn::backend::flex::FlexTensor;
use burn::backend::{Flex, TensorMetadata, backend_extension, tensor::FloatTensor};
use burn::tensor::{DType, TensorData};

use super::batched::{
    channel_sums, gather, patches, row_sums, scatter, stack, unstack, weight_grad,
};
use super::geometry::Geometry;
use crate::work::{ConvShape, Part, Pass, current_part, timed};

/// Stride and (symmetric) zero padding of a square-kernel convolution, both axes alike.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Taps {
    /// Stride.
    pub stride: usize,
    /// Zero padding on every side of the big map.
    pub padding: usize,
}

/// Backends that run the patch convolutions. Implemented for `Flex` and `Autodiff<Flex>`.
#[backend_extension(Flex, Autodiff)]
pub trait PatchConvBackend: burn::backend::Backend {
    /// Convolution: `x` `[batch, c_in, h, w]`, `weight` `[c_out, c_in, k, k]`, `bias`
    /// `[c_out]` (added in the output's copy-out; zeros for a layer without bias) →
    /// `[batch, c_out, h', w']`.
    fn patch_conv2d(
        x: FloatTensor<Self>,
        weight: FloatTensor<Self>,
        bias: FloatTensor<Self>,
        taps: Taps,
    ) -> FloatTensor<Self>;

    /// Transposed convolution without output padding: `x` `[batch, c_in, h, w]`, `weight`
    /// `[c_in, c_out, k, k]`, `bias` `[c_out]` (added as col2im writes the output; zeros for a
    /// layer without bias) → `[batch, c_out, h', w']`.
    fn patch_conv_transpose2d(
        x: FloatTensor<Self>,
        weight: FloatTensor<Self>,
        bias: FloatTensor<Self>,
        taps: Taps,
    ) -> FloatTensor<Self>;
}

/// A contiguous `f32` view of a Flex tensor (copies only when it is strided or shared).
pub(super) fn contiguous(t: FlexTensor) -> FlexTensor {
    assert_eq!(t.dtype(), DType::F32, "the Flex kernels need f32 tensors");
    if t.as_slice::<f32>().is_some() {
        t
    } else {
        t.to_contiguous()
    }
}

/// The values of a contiguous `f32` Flex tensor.
pub(super) fn slice(t: &FlexTensor) -> &[f32] {
    t.as_slice().expect("contiguous f32")
}

fn tensor<const D: usize>(values: Vec<f32>, shape: [usize; D]) -> FlexTensor {
    FlexTensor::from_data(TensorData::new(values, shape))
}

/// Geometry of the convolution of a `[batch, c, h, w]` input by a `[n, c, k, k]` weight.
fn conv_geometry(x: [usize; 4], weight: [usize; 4], taps: Taps) -> Geometry {
    let ([_, c, h, w], [_, wc, k, k2]) = (x, weight);
    assert!(wc == c && k == k2, "conv weight {weight:?} for input {x:?}");
    Geometry::of_conv(c, [h, w], k, taps.stride, taps.padding)
}

/// Geometry of the transposed convolution of a `[batch, n, h, w]` input by a `[n, c, k, k]`
/// weight.
fn transpose_geometry(x: [usize; 4], weight: [usize; 4], taps: Taps) -> Geometry {
    let ([_, n, h, w], [wn, c, k, k2]) = (x, weight);
    assert!(
        wn == n && k == k2,
        "transpose weight {weight:?} for input {x:?}"
    );
    Geometry::of_transpose(c, [h, w], k, taps.stride, taps.padding)
}

fn dims(t: &FlexTensor) -> [usize; 4] {
    t.shape().dims::<4>()
}

/// The work ledger's shape of the convolution of `x` by `weight`.
fn conv_shape(x: [usize; 4], weight: [usize; 4], taps: Taps) -> ConvShape {
    ConvShape::conv(x[1], weight[0], weight[2], taps.stride, taps.padding).on([x[2], x[3]])
}

/// The work ledger's shape of the transposed convolution of `x` by `weight`.
fn transpose_shape(x: [usize; 4], weight: [usize; 4], taps: Taps) -> ConvShape {
    ConvShape::transpose(x[1], weight[1], weight[2], taps.stride, taps.padding).on([x[2], x[3]])
}

/// The convolution's output and the stacked patch matrix of its input (for the weight
/// gradient), recorded for `part`.
fn conv_forward(
    x: &FlexTensor,
    weight: &FlexTensor,
    bias: &FlexTensor,
    taps: Taps,
    part: Option<Part>,
) -> (FlexTensor, Vec<f32>) {
    let (xd, wd) = (dims(x), dims(weight));
    timed(part, Pass::Forward, conv_shape(xd, wd, taps), xd[0], || {
        let g = conv_geometry(xd, wd, taps);
        let [batch, n] = [xd[0], wd[0]];
        let p = patches(&g, slice(x));
        let product = gather(&g, &p, slice(weight), n);
        let out = unstack(&product, n, g.small_pixels(), Some(slice(bias)));
        (tensor(out, [batch, n, g.small[0], g.small[1]]), p)
    })
}

/// The transposed convolution's output and its stacked input (for the weight gradient),
/// recorded for `part`.
fn transpose_forward(
    x: &FlexTensor,
    weight: &FlexTensor,
    bias: &FlexTensor,
    taps: Taps,
    part: Option<Part>,
) -> (FlexTensor, Vec<f32>) {
    let (xd, wd) = (dims(x), dims(weight));
    timed(
        part,
        Pass::Forward,
        transpose_shape(xd, wd, taps),
        xd[0],
        || {
            let g = transpose_geometry(xd, wd, taps);
            let [batch, n] = [xd[0], wd[0]];
            let stacked = stack(slice(x), n, g.small_pixels());
            let out = scatter(&g, &stacked, slice(weight), n, Some(slice(bias)));
            (
                tensor(out, [batch, g.channels, g.big[0], g.big[1]]),
                stacked,
            )
        },
    )
}

impl PatchConvBackend for Flex {
    fn patch_conv2d(x: FlexTensor, weight: FlexTensor, bias: FlexTensor, taps: Taps) -> FlexTensor {
        let (x, w, b) = (contiguous(x), contiguous(weight), contiguous(bias));
        conv_forward(&x, &w, &b, taps, current_part()).0
    }

    fn patch_conv_transpose2d(
        x: FlexTensor,
        weight: FlexTensor,
        bias: FlexTensor,
        taps: Taps,
    ) -> FlexTensor {
        let (x, w, b) = (contiguous(x), contiguous(weight), contiguous(bias));
        transpose_forward(&x, &w, &b, taps, current_part()).0
    }
}

/// Backward step of an operation whose output is a constant of its input (a slope mask, batch
/// moments taken as constants): it passes no gradient on.
#[derive(Debug)]
pub(super) struct ConstantBackward;

impl Backward<Flex, 1> for ConstantBackward {
    type State = ();

    fn backward(self, _: Ops<(), 1>, _: &mut Gradients, _: &mut Checkpointer) {}
}

/// Backward step of [`PatchConvBackend::patch_conv2d`].
#[derive(Debug)]
struct ConvBackward;

impl Backward<Flex, 3> for ConvBackward {
    /// Input shape, contiguous weight, the taps, and the stacked patch matrix of the input.
    type State = PatchState;

    fn backward(self, ops: Ops<Self::State, 3>, grads: &mut Gradients, _: &mut Checkpointer) {
        let [node_x, node_w, node_b] = ops.parents;
        let grad = contiguous(grads.consume::<Flex>(&ops.node));
        let PatchState {
            x_shape,
            weight,
            taps,
            stacked: p,
            part,
        } = ops.state;
        let g = conv_geometry(x_shape, dims(&weight), taps);
        let (n, batch) = (dims(&weight)[0], x_shape[0]);
        let shape = conv_shape(x_shape, dims(&weight), taps);
        let grad = stack(slice(&grad), n, g.small_pixels());
        if let Some(node) = node_x {
            let dx = timed(part, Pass::InputGradient, shape, batch, || {
                scatter(&g, &grad, slice(&weight), n, None)
            });
            grads.register::<Flex>(node.id, tensor(dx, x_shape));
        }
        if let Some(node) = node_w {
            let dw = timed(part, Pass::WeightGradient, shape, batch, || {
                weight_grad(&g, &p, &grad, n)
            });
            grads.register::<Flex>(node.id, tensor(dw, dims(&weight)));
        }
        if let Some(node) = node_b {
            grads.register::<Flex>(node.id, tensor(row_sums(&grad, n), [n]));
        }
    }
}

/// Backward step of [`PatchConvBackend::patch_conv_transpose2d`].
#[derive(Debug)]
struct TransposeBackward;

impl Backward<Flex, 3> for TransposeBackward {
    /// Input shape, contiguous weight, the taps, and the stacked input.
    type State = PatchState;

    fn backward(self, ops: Ops<Self::State, 3>, grads: &mut Gradients, _: &mut Checkpointer) {
        let [node_x, node_w, node_b] = ops.parents;
        let grad = contiguous(grads.consume::<Flex>(&ops.node));
        let PatchState {
            x_shape,
            weight,
            taps,
            stacked: x_stacked,
            part,
        } = ops.state;
        let g = transpose_geometry(x_shape, dims(&weight), taps);
        let (n, batch) = (dims(&weight)[0], x_shape[0]);
        let shape = transpose_shape(x_shape, dims(&weight), taps);
        let p = patches(&g, slice(&grad));
        if let Some(node) = node_x {
            let dx = timed(part, Pass::InputGradient, shape, batch, || {
                unstack(
                    &gather(&g, &p, slice(&weight), n),
                    n,
                    g.small_pixels(),
                    None,
                )
            });
            grads.register::<Flex>(node.id, tensor(dx, x_shape));
        }
        if let Some(node) = node_w {
            let dw = timed(part, Pass::WeightGradient, shape, batch, || {
                weight_grad(&g, &p, &x_stacked, n)
            });
            grads.register::<Flex>(node.id, tensor(dw, dims(&weight)));
        }
        if let Some(node) = node_b {
            let db = channel_sums(slice(&grad), g.channels, g.big[0] * g.big[1]);
            grads.register::<Flex>(node.id, tensor(db, [g.channels]));
        }
    }
}

/// What both backward steps keep.
#[derive(Clone, Debug)]
struct PatchState {
    /// The input's shape.
    x_shape: [usize; 4],
    /// The contiguous weight.
    weight: FlexTensor,
    /// Stride and padding.
    taps: Taps,
    /// The stacked matrix the forward built: the input's patches, or the stacked input.
    stacked: Vec<f32>,
    /// The part the forward ran for (for the work ledger).
    part: Option<Part>,
}

/// A patch operation's forward: input, weight, bias, taps and the part it runs for → the
/// output and the stacked matrix its backward needs.
type PatchForward =
    fn(&FlexTensor, &FlexTensor, &FlexTensor, Taps, Option<Part>) -> (FlexTensor, Vec<f32>);

/// A patch operation on autodiff: `forward` returns the output and the stacked matrix that
/// `step` needs for the weight gradient.
fn tracked<C, S>(
    step: S,
    x: FloatTensor<Autodiff<Flex, C>>,
    weight: FloatTensor<Autodiff<Flex, C>>,
    bias: FloatTensor<Autodiff<Flex, C>>,
    taps: Taps,
    forward: PatchForward,
) -> FloatTensor<Autodiff<Flex, C>>
where
    C: CheckpointStrategy,
    S: Backward<Flex, 3, State = PatchState> + 'static,
{
    let kind = step
        .prepare::<C>([x.node(), weight.node(), bias.node()])
        .compute_bound()
        .stateful();
    let x = contiguous(x.into_primitive());
    let w = contiguous(weight.into_primitive());
    let b = contiguous(bias.into_primitive());
    let part = current_part();
    match kind {
        OpsKind::Tracked(prep) => {
            let (out, stacked) = forward(&x, &w, &b, taps, part);
            let state = PatchState {
                x_shape: dims(&x),
                weight: w,
                taps,
                stacked,
                part,
            };
            prep.finish(state, out)
        }
        OpsKind::UnTracked(prep) => prep.finish(forward(&x, &w, &b, taps, part).0),
    }
}

impl<C: CheckpointStrategy> PatchConvBackend for Autodiff<Flex, C> {
    fn patch_conv2d(
        x: FloatTensor<Self>,
        weight: FloatTensor<Self>,
        bias: FloatTensor<Self>,
        taps: Taps,
    ) -> FloatTensor<Self> {
        tracked::<C, _>(ConvBackward, x, weight, bias, taps, conv_forward)
    }

    fn patch_conv_transpose2d(
        x: FloatTensor<Self>,
        weight: FloatTensor<Self>,
        bias: FloatTensor<Self>,
        taps: Taps,
    ) -> FloatTensor<Self> {
        tracked::<C, _>(TransposeBackward, x, weight, bias, taps, transpose_forward)
    }
}
