//! Surfel shading by paper Eq. 1, as tensor operations.
//!
//! The reference implementation of [`pix2scene_scene::ShadingConstants::radiance`] for whole
//! batches, differentiated by burn's autodiff; the fused CPU kernel calls `radiance` itself.

use burn::tensor::{Tensor, activation::relu};
use pix2scene_scene::ShadingConstants;

/// Radiance of every surfel (paper Eq. 1):
/// `I = ρ ⊙ (L_a + Σ_j L_j · max(0, nᵀd_j / ‖d_j‖) / (k_l‖d_j‖ + k_q‖d_j‖²))`, `d_j = light_j − p`.
///
/// Not clamped. A light of colour 0 contributes nothing, so batches may pad their light lists
/// with zero-colour lights.
///
/// # Shapes
/// - `points`: `[batch, height, width, 3]`, surfel centres
/// - `normals`: `[batch, height, width, 3]`, unit normals
/// - `light_pos`: `[batch, lights, 3]`, light positions
/// - `light_color`: `[batch, lights, 3]`, linear RGB light colours
/// - returns `[batch, height, width, 3]`, linear RGB
///
/// # Units and frames
/// Points, normals and lights in the camera frame, scene units.
pub fn shade(
    points: Tensor<4>,
    normals: Tensor<4>,
    light_pos: Tensor<3>,
    light_color: Tensor<3>,
    constants: &ShadingConstants,
) -> Tensor<4> {
    let [batch, lights, _] = light_pos.dims();
    let device = points.device();
    let vec3 = |v: pix2scene_scene::glam::Vec3| {
        Tensor::<1>::from_floats(v.to_array(), &device).reshape([1, 1, 1, 3])
    };
    let mut sum = vec3(constants.ambient).expand(points.dims());
    for j in 0..lights {
        let pos = light_pos.clone().narrow(1, j, 1).reshape([batch, 1, 1, 3]);
        let color = light_color
            .clone()
            .narrow(1, j, 1)
            .reshape([batch, 1, 1, 3]);
        let d = pos - points.clone();
        let dist = d.clone().square().sum_dim(3).sqrt();
        let cos = relu((normals.clone() * d).sum_dim(3) / dist.clone());
        let att = (dist.clone().mul_scalar(constants.k_l)
            + dist.square().mul_scalar(constants.k_q))
        .recip();
        sum = sum + att * cos * color;
    }
    sum * vec3(constants.albedo)
}

#[cfg(test)]
mod tests {
    use super::*;
    use burn::tensor::Device;
    use pix2scene_scene::{PointLight, glam::Vec3};

    #[test]
    fn matches_scene_radiance_per_pixel() {
        let device = Device::flex();
        let consts = ShadingConstants::default();
        let p = [[0.1f32, -0.05, -0.9], [-0.2, 0.1, -1.1]];
        let n = [
            Vec3::new(0.2, 0.3, 0.9).normalize(),
            Vec3::new(0.6, -0.1, 0.2).normalize(),
        ];
        let lights = [
            PointLight {
                position: Vec3::new(0.3, 0.6, 0.2),
                color: Vec3::new(0.8, 0.7, 0.6),
            },
            PointLight {
                position: Vec3::new(-0.5, 0.4, 0.1),
                color: Vec3::new(0.8, 0.1, 0.1),
            },
            PointLight {
                position: Vec3::new(0.4, -0.2, 0.3),
                color: Vec3::ZERO,
            },
        ];
        let pt = Tensor::<4>::from_floats([[p]], &device);
        let nt = Tensor::<4>::from_floats([[[n[0].to_array(), n[1].to_array()]]], &device);
        let lp = Tensor::<3>::from_floats([lights.map(|l| l.position.to_array())], &device);
        let lc = Tensor::<3>::from_floats([lights.map(|l| l.color.to_array())], &device);
        let got = shade(pt, nt, lp, lc, &consts)
            .into_data()
            .try_to_vec::<f32>()
            .unwrap();
        for i in 0..2 {
            let want = consts.radiance(Vec3::from(p[i]), n[i], &lights);
            for k in 0..3 {
                assert!((got[3 * i + k] - want[k]).abs() < 1e-6);
            }
        }
    }
}
