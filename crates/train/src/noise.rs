//! The random draws of a training iteration: latent codes, penalty mixing weights and (for the
//! random-lights ablation) generator-side lights, a pure function of `(run.seed, step)` so that
//! a resumed run draws exactly what an uninterrupted one does.

use burn::tensor::{Device, Tensor};
use pix2scene_scene::{LightSampling, MAX_LIGHTS};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

use crate::batch::{DeviceBatch, tensor};
use crate::config::TrainPreset;

/// The random draws of one iteration, a pure function of `(run.seed, step)`.
#[derive(Clone, Debug)]
pub struct IterationNoise {
    /// Latent codes of each critic step, `[batch·z_dim]` each.
    pub critic_z: Vec<Vec<f32>>,
    /// Penalty mixing weights of each critic step, `[batch]` each, uniform in [0, 1).
    pub critic_alpha: Vec<Vec<f32>>,
    /// Latent code of the encoder/decoder step, `[batch·z_dim]`.
    pub generator_z: Vec<f32>,
    /// Generator-side lights for each of the `critic_steps + 1` steps when `data.random_lights`
    /// is on: `(positions, colours)`, `[batch·MAX_LIGHTS·3]` each.
    pub random_lights: Vec<(Vec<f32>, Vec<f32>)>,
}

impl IterationNoise {
    /// Draws the noise of iteration `step` (0-based).
    pub fn draw(preset: &TrainPreset, step: u64) -> Self {
        let mut rng = ChaCha8Rng::seed_from_u64(preset.run.seed);
        rng.set_stream(step);
        let (b, z, c) = (
            preset.optim.batch,
            preset.model.z_dim,
            preset.optim.critic_steps,
        );
        let mut normals =
            |n: usize| -> Vec<f32> { (0..n).map(|_| standard_normal(&mut rng)).collect() };
        let critic_z: Vec<Vec<f32>> = (0..c).map(|_| normals(b * z)).collect();
        let generator_z = normals(b * z);
        let critic_alpha = (0..c)
            .map(|_| (0..b).map(|_| rng.random::<f32>()).collect())
            .collect();
        let mut random_lights = Vec::new();
        if preset.data.random_lights {
            let sampler = LightSampling {
                random_colors: true,
                ..LightSampling::default()
            };
            for _ in 0..=c {
                let mut pos = vec![0.0; b * MAX_LIGHTS * 3];
                let mut col = vec![0.0; b * MAX_LIGHTS * 3];
                for i in 0..b {
                    for (l, light) in sampler
                        .sample_camera_relative(&mut rng)
                        .iter()
                        .take(MAX_LIGHTS)
                        .enumerate()
                    {
                        let at = (i * MAX_LIGHTS + l) * 3;
                        pos[at..at + 3].copy_from_slice(&light.position.to_array());
                        col[at..at + 3].copy_from_slice(&light.color.to_array());
                    }
                }
                random_lights.push((pos, col));
            }
        }
        Self {
            critic_z,
            critic_alpha,
            generator_z,
            random_lights,
        }
    }

    /// The generator-side lights of step `j` of the iteration (`j < critic_steps` a critic
    /// step, `j = critic_steps` the encoder/decoder step) for `batch`: the batch's own, or this
    /// iteration's random ones with `data.random_lights` (paper Appendix B). Both `[batch,
    /// MAX_LIGHTS, 3]`, camera-frame positions and colours, on `device`.
    pub fn generator_lights(
        &self,
        j: usize,
        batch: &DeviceBatch,
        device: &Device,
    ) -> (Tensor<3>, Tensor<3>) {
        match self.random_lights.get(j) {
            Some((pos, col)) => {
                let b = batch.batch();
                (
                    tensor(pos, [b, MAX_LIGHTS, 3], device),
                    tensor(col, [b, MAX_LIGHTS, 3], device),
                )
            }
            None => (batch.light_pos.clone(), batch.light_color.clone()),
        }
    }
}

/// A standard normal draw (Box–Muller), so the noise depends on no distribution crate's
/// algorithm.
pub fn standard_normal(rng: &mut ChaCha8Rng) -> f32 {
    let u1: f64 = 1.0 - rng.random::<f64>(); // (0, 1]
    let u2: f64 = rng.random::<f64>();
    ((-2.0 * u1.ln()).sqrt() * (std::f64::consts::TAU * u2).cos()) as f32
}
