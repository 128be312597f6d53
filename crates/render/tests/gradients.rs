//! Gradient checks: both implementations' depth gradients against central finite differences
//! of an independent `f64` evaluation of the same formula ([`pix2scene_render::reference`]).

mod common;

use burn::tensor::{Device, Tensor, TensorData};
use common::*;
use pix2scene_render::{RenderImpl, RendererConfig, reference::render_f64};
use pix2scene_scene::ShadingConstants;

const SIZE: usize = 8;

/// `∂(Σ w ⊙ image)/∂depth` by central differences of the `f64` reference.
fn fd_gradient(
    depth: &[f32],
    setup: &[([f32; 3], [f32; 3])],
    w: &[f32],
    k: &ShadingConstants,
) -> Vec<f64> {
    let lights = lights_f64(setup);
    let loss = |d: &[f64]| -> f64 {
        render_f64(d, SIZE, 26.0, &lights, k)
            .iter()
            .zip(w)
            .map(|(i, w)| i * *w as f64)
            .sum()
    };
    let base: Vec<f64> = depth.iter().map(|&d| d as f64).collect();
    (0..base.len())
        .map(|i| {
            let h = 1e-6;
            let mut plus = base.clone();
            plus[i] += h;
            let mut minus = base.clone();
            minus[i] -= h;
            (loss(&plus) - loss(&minus)) / (2.0 * h)
        })
        .collect()
}

fn burn_gradient(
    depth: &[f32],
    setup: &[([f32; 3], [f32; 3])],
    w: &[f32],
    imp: RenderImpl,
) -> Vec<f32> {
    let device = Device::flex().autodiff();
    let renderer = RendererConfig::new(SIZE)
        .with_implementation(imp)
        .init(&device);
    let d = Tensor::<3>::from_data(TensorData::new(depth.to_vec(), [1, SIZE, SIZE]), &device)
        .require_grad();
    let (pos, col) = light_tensors(setup, 1, &device);
    let image = renderer.forward(d.clone(), pos, col).image;
    let w = Tensor::<4>::from_data(TensorData::new(w.to_vec(), [1, 3, SIZE, SIZE]), &device);
    let grads = (image * w).sum().backward();
    values(d.grad(&grads).unwrap())
}

fn check(depth: &[f32], what: &str) {
    let k = ShadingConstants::default();
    for (s, setup) in light_setups().iter().enumerate() {
        let w = weights(3 * SIZE * SIZE, s as u64 + 7);
        let fd = fd_gradient(depth, setup, &w, &k);
        let scale = fd.iter().fold(0.0f64, |m, v| m.max(v.abs()));
        for imp in [RenderImpl::Reference, RenderImpl::Fused] {
            let g = burn_gradient(depth, setup, &w, imp);
            for (i, (got, want)) in g.iter().zip(&fd).enumerate() {
                let err = (*got as f64 - want).abs();
                assert!(
                    err <= 2e-3 * want.abs() + 1e-4 * scale,
                    "{what}, lights {s}, {imp:?}, pixel {i}: {got} vs finite difference {want} (max |grad| {scale})"
                );
            }
        }
    }
}

#[test]
fn depth_gradients_match_finite_differences_on_smooth_maps() {
    for seed in 0..3 {
        check(&smooth_depth(SIZE, seed), &format!("smooth seed {seed}"));
    }
}

#[test]
fn depth_gradients_match_finite_differences_on_discontinuous_maps() {
    for seed in 0..3 {
        check(
            &discontinuous_depth(SIZE, seed),
            &format!("step seed {seed}"),
        );
    }
}
