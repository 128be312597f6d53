//! The fused CPU kernel and the tensor-op reference compute the same function: forward outputs
//! and depth gradients (through image, points and normals) agree to 1e-5; the image-only kernel
//! of `render_image` equals the packed one exactly.

mod common;

use burn::tensor::{Device, Tensor, TensorData};
use common::*;
use pix2scene_render::{RenderImpl, RendererConfig, SurfelRenderer};

// Not a multiple of the kernel's 8 lanes and more than one 32-row band: covers full and partial
// lane groups and the band halos.
const SIZE: usize = 37;
const BATCH: usize = 3;

struct Run {
    image: Vec<f32>,
    points: Vec<f32>,
    normals: Vec<f32>,
    grad: Vec<f32>,
}

/// A renderer of `imp` on an autodiff Flex device, the depth maps (requiring grad) and lights.
struct Inputs {
    renderer: SurfelRenderer,
    d: Tensor<3>,
    pos: Tensor<3>,
    col: Tensor<3>,
}

fn inputs(depth: &[f32], setup: &[([f32; 3], [f32; 3])], imp: RenderImpl) -> Inputs {
    let device = Device::flex().autodiff();
    let renderer = RendererConfig::new(SIZE)
        .with_implementation(imp)
        .init(&device);
    let d = Tensor::<3>::from_data(
        TensorData::new(depth.to_vec(), [BATCH, SIZE, SIZE]),
        &device,
    )
    .require_grad();
    let (pos, col) = light_tensors(setup, BATCH, &device);
    Inputs {
        renderer,
        d,
        pos,
        col,
    }
}

fn run(depth: &[f32], setup: &[([f32; 3], [f32; 3])], imp: RenderImpl) -> Run {
    let Inputs {
        renderer,
        d,
        pos,
        col,
    } = inputs(depth, setup, imp);
    let out = renderer.forward(d.clone(), pos, col);
    let n = BATCH * SIZE * SIZE * 3;
    let w = |seed| Tensor::<1>::from_data(TensorData::new(weights(n, seed), [n]), &d.device());
    let loss = (out.image.clone().reshape([n]) * w(1)).sum()
        + (out.points.clone().reshape([n]) * w(2)).sum()
        + (out.normals.clone().reshape([n]) * w(3)).sum();
    let grads = loss.backward();
    Run {
        image: values(out.image),
        points: values(out.points),
        normals: values(out.normals),
        grad: values(d.grad(&grads).unwrap()),
    }
}

fn assert_close(a: &[f32], b: &[f32], what: &str) {
    assert_eq!(a.len(), b.len());
    // Scaled by the largest magnitude of the array (at least 1): the gradients pass through the
    // normalization of neighbour differences ~1/size long, where f32 rounding of either
    // implementation is amplified by the same factor as the gradient itself.
    let scale = b.iter().fold(1.0f32, |m, v| m.max(v.abs()));
    let mut worst = 0.0f32;
    for (i, (x, y)) in a.iter().zip(b).enumerate() {
        let err = (x - y).abs() / scale;
        assert!(
            err <= 1e-5,
            "{what}[{i}]: fused {x} vs reference {y} (scale {scale})"
        );
        worst = worst.max(err);
    }
    eprintln!(
        "{what}: max |fused - reference| / max(1, max |reference|) = {worst:e} (scale {scale})"
    );
}

#[test]
fn fused_kernel_matches_reference_forward_and_backward() {
    for (s, setup) in light_setups().iter().enumerate() {
        let depth: Vec<f32> = (0..BATCH as u64)
            .flat_map(|b| {
                if b % 2 == 0 {
                    smooth_depth(SIZE, b + 10 * s as u64)
                } else {
                    discontinuous_depth(SIZE, b)
                }
            })
            .collect();
        let fused = run(&depth, setup, RenderImpl::Fused);
        let reference = run(&depth, setup, RenderImpl::Reference);
        assert_close(&fused.image, &reference.image, &format!("lights {s} image"));
        assert_close(
            &fused.points,
            &reference.points,
            &format!("lights {s} points"),
        );
        assert_close(
            &fused.normals,
            &reference.normals,
            &format!("lights {s} normals"),
        );
        assert_close(
            &fused.grad,
            &reference.grad,
            &format!("lights {s} depth gradient"),
        );
    }
}

#[test]
fn auto_picks_fused_on_flex_and_reference_for_tracked_lights() {
    let device = Device::flex().autodiff();
    let renderer = RendererConfig::new(4).init(&device);
    let d = Tensor::<3>::full([1, 4, 4], 1.0, &device);
    let (pos, col) = light_tensors(&light_setups()[0], 1, &device);
    assert_eq!(
        renderer.implementation_for(&d, &pos, &col),
        RenderImpl::Fused
    );
    let tracked = pos.clone().require_grad();
    assert_eq!(
        renderer.implementation_for(&d, &tracked, &col),
        RenderImpl::Reference
    );
    // Gradients do reach tracked lights through the reference.
    let out = renderer.forward(d, tracked.clone(), col);
    let grads = out.image.sum().backward();
    assert!(
        values(tracked.grad(&grads).unwrap())
            .iter()
            .any(|g| g.abs() > 0.0)
    );
}

/// The image and its depth gradient under a weighted image loss, from `render_image` or (with
/// `via_forward`) from `forward(..).image`.
fn image_run(
    depth: &[f32],
    setup: &[([f32; 3], [f32; 3])],
    imp: RenderImpl,
    via_forward: bool,
) -> [Vec<f32>; 2] {
    let Inputs {
        renderer,
        d,
        pos,
        col,
    } = inputs(depth, setup, imp);
    let image = if via_forward {
        renderer.forward(d.clone(), pos, col).image
    } else {
        renderer.render_image(d.clone(), pos, col)
    };
    let n = BATCH * SIZE * SIZE * 3;
    let w = Tensor::<1>::from_data(TensorData::new(weights(n, 1), [n]), &d.device());
    let grads = (image.clone().reshape([n]) * w).sum().backward();
    [values(image), values(d.grad(&grads).unwrap())]
}

#[test]
fn image_only_kernel_equals_the_packed_one_and_the_reference() {
    let setup = &light_setups()[1];
    let depth: Vec<f32> = (0..BATCH as u64)
        .flat_map(|b| discontinuous_depth(SIZE, b + 3))
        .collect();
    let [image, grad] = image_run(&depth, setup, RenderImpl::Fused, false);
    // The image-only kernel runs the packed kernel's arithmetic: bit-for-bit equal.
    let [packed_image, packed_grad] = image_run(&depth, setup, RenderImpl::Fused, true);
    assert_eq!(image, packed_image, "image-only vs packed image");
    assert_eq!(grad, packed_grad, "image-only vs packed depth gradient");
    let [ref_image, ref_grad] = image_run(&depth, setup, RenderImpl::Reference, false);
    assert_close(&image, &ref_image, "image-only image");
    assert_close(&grad, &ref_grad, "image-only depth gradient");
}

/// The host-slice kernel (`SurfelRenderer::host_image_kernel`) runs `render_image`'s kernel:
/// the same image and the same depth gradient, bit for bit, also one map at a time.
#[test]
fn host_image_kernel_equals_render_image() {
    let setup = &light_setups()[2];
    let depth: Vec<f32> = (0..BATCH as u64)
        .flat_map(|b| discontinuous_depth(SIZE, b + 5))
        .collect();
    let [image, grad] = image_run(&depth, setup, RenderImpl::Fused, false);
    let Inputs {
        renderer, pos, col, ..
    } = inputs(&depth, setup, RenderImpl::Fused);
    let kernel = renderer.host_image_kernel();
    let (pos, col) = (values(pos), values(col));
    let weights = weights(BATCH * SIZE * SIZE * 3, 1);
    let (host_image, tape) = kernel.forward(depth.clone(), &pos, &col);
    assert_eq!(host_image, image, "host kernel image");
    assert_eq!(
        kernel.backward(&tape, &weights),
        grad,
        "host kernel depth gradient"
    );
    // One map at a time gives the batch's slices.
    let (hw, lights) = (SIZE * SIZE, pos.len() / BATCH);
    for b in 0..BATCH {
        let (one_image, one_tape) = kernel.forward(
            depth[b * hw..(b + 1) * hw].to_vec(),
            &pos[b * lights..(b + 1) * lights],
            &col[b * lights..(b + 1) * lights],
        );
        assert_eq!(
            one_image,
            image[b * 3 * hw..(b + 1) * 3 * hw],
            "map {b} image"
        );
        let one_grad = kernel.backward(&one_tape, &weights[b * 3 * hw..(b + 1) * 3 * hw]);
        assert_eq!(
            one_grad,
            grad[b * hw..(b + 1) * hw],
            "map {b} depth gradient"
        );
    }
}
