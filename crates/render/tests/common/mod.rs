//! Inputs shared by the render integration tests.
#![allow(dead_code)]

use burn::tensor::{Device, Tensor, TensorData};
use pix2scene_render::reference::LightF64;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

/// A smooth depth map: a tilted, gently curved surface in front of the camera.
pub fn smooth_depth(size: usize, seed: u64) -> Vec<f32> {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let (a, b, c): (f32, f32, f32) = (
        rng.random_range(-0.3..0.3),
        rng.random_range(-0.3..0.3),
        rng.random_range(1.0..4.0),
    );
    (0..size * size)
        .map(|i| {
            let (y, x) = (
                (i / size) as f32 / size as f32,
                (i % size) as f32 / size as f32,
            );
            0.9 + a * x + b * y + 0.05 * (c * x).sin() * (c * y).cos()
        })
        .collect()
}

/// A depth map with a step: a box edge in front of a back wall, plus pixel noise.
pub fn discontinuous_depth(size: usize, seed: u64) -> Vec<f32> {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let edge = rng.random_range(size / 3..2 * size / 3);
    (0..size * size)
        .map(|i| {
            let (y, x) = (i / size, i % size);
            let base = if x > edge && y > size / 4 {
                0.7
            } else {
                1.1 + 0.02 * y as f32 / size as f32
            };
            base + 0.004 * rng.random_range(-1.0f32..1.0)
        })
        .collect()
}

/// Light set-ups `(positions, colours)`, camera frame.
pub fn light_setups() -> Vec<Vec<([f32; 3], [f32; 3])>> {
    vec![
        vec![([0.3, 0.6, 0.2], [0.8, 0.8, 0.8])],
        vec![
            ([0.3, 0.6, 0.2], [0.8, 0.8, 0.8]),
            ([-0.5, 0.4, 0.1], [0.8, 0.1, 0.1]),
            ([0.4, -0.2, 0.3], [0.2, 0.8, 0.2]),
        ],
        // A light close to the surface, one grazing from the side, a zero-colour pad.
        vec![
            ([0.05, 0.0, -0.6], [0.5, 0.6, 0.7]),
            ([-2.0, 0.1, -0.9], [0.9, 0.9, 0.2]),
            ([0.0, 0.0, 0.0], [0.0, 0.0, 0.0]),
        ],
    ]
}

/// Light tensors `[batch, lights, 3]` repeating one set-up over the batch.
pub fn light_tensors(
    setup: &[([f32; 3], [f32; 3])],
    batch: usize,
    device: &Device,
) -> (Tensor<3>, Tensor<3>) {
    let l = setup.len();
    let pos: Vec<f32> = (0..batch)
        .flat_map(|_| setup.iter().flat_map(|(p, _)| *p))
        .collect();
    let col: Vec<f32> = (0..batch)
        .flat_map(|_| setup.iter().flat_map(|(_, c)| *c))
        .collect();
    (
        Tensor::from_data(TensorData::new(pos, [batch, l, 3]), device),
        Tensor::from_data(TensorData::new(col, [batch, l, 3]), device),
    )
}

/// The same set-up for the `f64` reference.
pub fn lights_f64(setup: &[([f32; 3], [f32; 3])]) -> Vec<LightF64> {
    setup
        .iter()
        .map(|(p, c)| LightF64 {
            position: p.map(f64::from),
            color: c.map(f64::from),
        })
        .collect()
}

/// Fixed pseudo-random weights in [0, 1).
pub fn weights(n: usize, seed: u64) -> Vec<f32> {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    (0..n).map(|_| rng.random::<f32>()).collect()
}

/// Flattens a tensor to `f32` values.
pub fn values<const D: usize>(t: Tensor<D>) -> Vec<f32> {
    t.into_data()
        .convert::<f32>()
        .try_into_vec::<f32>()
        .unwrap()
}
