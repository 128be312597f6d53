//! Depth → surfel positions: back-projection along the pixel rays.

use burn::tensor::Tensor;

/// Places one surfel per pixel at distance `depth` along the pixel's ray.
///
/// # Shapes
/// - `depth`: `[batch, height, width]`, distance from the camera centre along the ray (not z),
///   scene units, positive
/// - `dirs`: `[height, width, 3]`, unit ray directions from [`crate::rays::ray_directions`]
/// - returns `[batch, height, width, 3]`, surfel centres
///
/// # Units and frames
/// Camera frame, scene units.
pub fn back_project(depth: Tensor<3>, dirs: Tensor<3>) -> Tensor<4> {
    depth.unsqueeze_dim::<4>(3) * dirs.unsqueeze::<4>()
}

#[cfg(test)]
mod tests {
    use super::*;
    use burn::tensor::Device;

    #[test]
    fn points_lie_at_depth_along_their_rays() {
        let device = Device::flex();
        let dirs = crate::rays::ray_directions(26.0, 3, &device);
        let depth = Tensor::<3>::from_floats(
            [[[0.5, 1.0, 1.5], [2.0, 2.5, 3.0], [3.5, 4.0, 4.5]]],
            &device,
        );
        let p = back_project(depth.clone(), dirs.clone());
        let len = p.clone().square().sum_dim(3).sqrt().reshape([1, 3, 3]);
        let diff = (len - depth).abs().max().into_scalar::<f32>();
        assert!(diff < 1e-6);
        // Direction is kept: p / |p| = dir.
        let unit = p.clone() / p.square().sum_dim(3).sqrt();
        let diff = (unit - dirs.unsqueeze::<4>())
            .abs()
            .max()
            .into_scalar::<f32>();
        assert!(diff < 1e-6);
    }
}
