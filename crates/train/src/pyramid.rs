//! Image reconstruction over an image pyramid: the depth map and the image are averaged over
//! `2^l × 2^l` blocks, and the coarse depth is rendered at the coarse resolution (same camera,
//! same lights) and compared with the coarse image.
//!
//! Why: the renderer sees depth only through normals, i.e. neighbour differences. At full
//! resolution the gradient of the image error with respect to a region's overall slope cancels
//! between neighbours everywhere but at the region's border (integrating normals into depth by
//! gradient descent is a diffusion), while a fine texture changes the image locally and at once,
//! so descent finds textured depth first. At a coarse level one pixel spans a block, block
//! averages wash fine texture out, and the slope of a wall or a floor is a difference between
//! neighbouring coarse pixels: the loss sees large-scale geometry directly.

use burn::tensor::{Device, Tensor};
use pix2scene_render::{RendererConfig, SurfelRenderer};

use crate::foreground::composite;

/// Mean squared image error of rendered depth over `levels` pyramid levels.
#[derive(Clone, Debug)]
pub struct PyramidLoss {
    /// `(block side 2^l, renderer at size_px / 2^l)` for `l = 0 .. levels`.
    levels: Vec<(usize, SurfelRenderer)>,
}

impl PyramidLoss {
    /// Renderers for `levels` levels of `config` (level 0 is `config` itself).
    ///
    /// # Panics
    /// If `levels` is 0 or `config.size_px` is not divisible by `2^(levels−1)` with at least 4
    /// pixels left (the preset validation reports this as a bad `optim.recon_levels`).
    pub fn new(config: &RendererConfig, levels: usize, device: &Device) -> Self {
        assert!(levels >= 1, "at least one pyramid level");
        let levels = (0..levels)
            .map(|l| {
                let block = 1 << l;
                assert!(
                    config.size_px.is_multiple_of(block) && config.size_px / block >= 4,
                    "{}² images have no pyramid level {l}",
                    config.size_px
                );
                let coarse = RendererConfig {
                    size_px: config.size_px / block,
                    ..config.clone()
                };
                (block, coarse.init(device))
            })
            .collect();
        Self { levels }
    }

    /// The full-resolution renderer (level 0).
    pub fn finest(&self) -> &SurfelRenderer {
        &self.levels[0].1
    }

    /// `mean (image_l − rend_l(depth_l))²` for each level `l`, finest first; with a foreground
    /// mask, the rendered image of each level is composited over black by the block-averaged
    /// mask ([`composite`]).
    ///
    /// # Shapes
    /// - `depth`: `[batch, R, R]`, ray depth, scene units
    /// - `mask`: `[batch, R, R]`, foreground probabilities (see [`crate::foreground`]), or `None`
    /// - `image`: `[batch, 3, R, R]`, the target image
    /// - `light_pos`, `light_color`: `[batch, lights, 3]`, as for [`SurfelRenderer::forward`]
    /// - returns one `[1]` tensor per level
    pub fn forward(
        &self,
        depth: Tensor<3>,
        mask: Option<Tensor<3>>,
        image: Tensor<4>,
        light_pos: Tensor<3>,
        light_color: Tensor<3>,
    ) -> Vec<Tensor<1>> {
        self.levels
            .iter()
            .map(|(block, renderer)| {
                let (d, m, x) = if *block == 1 {
                    (depth.clone(), mask.clone(), image.clone())
                } else {
                    (
                        block_mean3(depth.clone(), *block),
                        mask.clone().map(|m| block_mean3(m, *block)),
                        block_mean4(image.clone(), *block),
                    )
                };
                let rendered = renderer.render_image(d, light_pos.clone(), light_color.clone());
                (composite(rendered, m) - x).square().mean()
            })
            .collect()
    }
}

/// Means over `block × block` pixel blocks: `[b, h, w] → [b, h/block, w/block]`.
fn block_mean3(t: Tensor<3>, block: usize) -> Tensor<3> {
    let [b, h, w] = t.dims();
    let (h, w) = (h / block, w / block);
    t.reshape([b, h, block, w, block])
        .mean_dim(4)
        .mean_dim(2)
        .reshape([b, h, w])
}

/// Means over `block × block` pixel blocks: `[b, c, h, w] → [b, c, h/block, w/block]`.
fn block_mean4(t: Tensor<4>, block: usize) -> Tensor<4> {
    let [b, c, h, w] = t.dims();
    let (h, w) = (h / block, w / block);
    t.reshape([b * c, h, block, w, block])
        .mean_dim(4)
        .mean_dim(2)
        .reshape([b, c, h, w])
}

#[cfg(test)]
mod tests {
    use super::*;
    use burn::tensor::TensorData;
    use pix2scene_scene::pixel_directions;

    #[test]
    fn block_means_average_each_block() {
        let device = Device::flex();
        let t = Tensor::<3>::from_data(
            TensorData::new((0..32).map(|v| v as f32).collect(), [2, 4, 4]),
            &device,
        );
        let m = block_mean3(t, 2).into_data().try_to_vec::<f32>().unwrap();
        // Block (0, 0) of image 0 holds 0, 1, 4, 5.
        assert_eq!(m, [2.5, 4.5, 10.5, 12.5, 18.5, 20.5, 26.5, 28.5]);
        let t4 = Tensor::<4>::from_data(
            TensorData::new((0..32).map(|v| v as f32).collect(), [1, 2, 4, 4]),
            &device,
        );
        let m4 = block_mean4(t4, 2).into_data().try_to_vec::<f32>().unwrap();
        assert_eq!(m4, m);
    }

    #[test]
    fn a_rendered_plane_is_reproduced_at_every_level() {
        // The image of a plane rendered at full resolution, block-averaged, matches the coarse
        // rendering of the block-averaged depth closely (shading varies slowly over a plane):
        // ground truth scores near zero at every level, a tilted plane does not.
        let (size, device) = (32, Device::flex());
        let config = RendererConfig::new(size);
        let loss = PyramidLoss::new(&config, 3, &device);
        let plane = |n: [f32; 3], c: f32| -> Tensor<3> {
            let d: Vec<f32> = pixel_directions(config.fov_y_deg, size)
                .into_iter()
                .map(|r| c / (n[0] * r.x + n[1] * r.y + n[2] * r.z))
                .collect();
            Tensor::from_data(TensorData::new(d, [1, size, size]), &device)
        };
        let lights = (
            Tensor::<3>::from_data(TensorData::new(vec![0.3, 0.5, 0.2], [1, 1, 3]), &device),
            Tensor::<3>::from_data(TensorData::new(vec![0.7, 0.7, 0.7], [1, 1, 3]), &device),
        );
        let truth = plane([0.2, 0.6, -0.77], 0.6);
        let image = config
            .init(&device)
            .forward(truth.clone(), lights.0.clone(), lights.1.clone())
            .image;
        let exact = loss.forward(
            truth,
            None,
            image.clone(),
            lights.0.clone(),
            lights.1.clone(),
        );
        let wrong = loss.forward(
            plane([-0.4, 0.1, -0.91], 0.6),
            None,
            image,
            lights.0,
            lights.1,
        );
        assert_eq!(exact.len(), 3);
        for (l, (e, w)) in exact.into_iter().zip(wrong).enumerate() {
            let (e, w) = (e.into_scalar::<f32>(), w.into_scalar::<f32>());
            assert!(e < 1e-5, "level {l}: {e}");
            assert!(w > 100.0 * e.max(1e-6), "level {l}: wrong plane {w} vs {e}");
        }
    }
}
