//! Images of an object on a black background from the surfel renderer: the rendered surfels
//! composited over black by the decoder's foreground mask (3D-IQTT, DESIGN.md §6).
//!
//! The renderer has one surfel per pixel and, with ambient light, never renders black, while
//! 3D-IQTT's question images show the object on black. A decoder with a foreground mask
//! (`model.foreground_mask`, [`pix2scene_model::DecoderConfig::foreground_mask`]) predicts, per
//! pixel, the probability `m` that the pixel shows the object; the model's image is
//! `m · rend(depth)`. Nothing supervises `m` but the images: the image reconstruction and the
//! critic reach it through this product, so a background pixel is learned as `m → 0` and the
//! depth there is free.

use burn::tensor::Tensor;

/// `rendered · mask`, channel by channel; `rendered` itself without a mask.
///
/// # Shapes
/// - `rendered`: `[batch, 3, height, width]`, the surfel renderer's image
/// - `mask`: `[batch, height, width]`, foreground probabilities in `[0, 1]`
/// - returns `[batch, 3, height, width]`
pub fn composite(rendered: Tensor<4>, mask: Option<Tensor<3>>) -> Tensor<4> {
    match mask {
        Some(mask) => rendered * mask.unsqueeze_dim(1),
        None => rendered,
    }
}

#[cfg(test)]
mod tests {
    use burn::tensor::activation::sigmoid;
    use burn::tensor::{Device, TensorData};

    use super::*;

    fn tensor<const D: usize>(values: Vec<f32>, shape: [usize; D], device: &Device) -> Tensor<D> {
        Tensor::from_data(TensorData::new(values, shape), device)
    }

    /// Where the mask is 0 the pixel is black, where it is 1 the rendered colour, between them
    /// the colour scaled.
    #[test]
    fn a_zero_mask_gives_a_black_pixel() {
        let device = Device::flex();
        let rendered = tensor(
            vec![0.2, 0.4, 0.6, 0.8, 0.5, 0.5, 0.5, 0.5, 0.9, 0.1, 0.3, 0.7],
            [1, 3, 2, 2],
            &device,
        );
        let mask = tensor(vec![0.0, 1.0, 0.5, 0.0], [1, 2, 2], &device);
        let out = composite(rendered, Some(mask))
            .into_data()
            .try_to_vec::<f32>()
            .unwrap();
        assert_eq!(
            out,
            [0.0, 0.4, 0.3, 0.0, 0.0, 0.5, 0.25, 0.0, 0.0, 0.1, 0.15, 0.0]
        );
    }

    /// The gradient of an image loss reaches the mask logits, and equals the finite
    /// difference of the loss.
    #[test]
    fn gradient_reaches_the_mask_logits() {
        let device = Device::flex().autodiff();
        let rendered = tensor(
            vec![0.3, 0.6, 0.9, 0.2, 0.4, 0.8, 0.1, 0.5, 0.7, 0.6, 0.2, 0.4],
            [1, 3, 2, 2],
            &device,
        );
        let target = tensor(
            vec![0.0, 0.6, 0.9, 0.0, 0.0, 0.8, 0.1, 0.0, 0.0, 0.2, 0.4, 0.0],
            [1, 3, 2, 2],
            &device,
        );
        let logits0 = vec![0.3f32, -0.2, 1.1, 0.0];
        let loss = |logits: Tensor<3>| {
            (composite(rendered.clone(), Some(sigmoid(logits))) - target.clone())
                .square()
                .sum()
        };
        let logits = tensor(logits0.clone(), [1, 2, 2], &device).require_grad();
        let grads = loss(logits.clone()).backward();
        let grad = logits
            .grad(&grads)
            .expect("logit gradient")
            .to_data()
            .try_to_vec::<f32>()
            .unwrap();
        assert!(grad.iter().all(|g| g.abs() > 1e-3), "{grad:?}");
        let h = 1e-2f32;
        for (i, g) in grad.iter().enumerate() {
            let at = |d: f32| {
                let mut v = logits0.clone();
                v[i] += d;
                loss(tensor(v, [1, 2, 2], &device)).into_scalar::<f32>()
            };
            let fd = (at(h) - at(-h)) / (2.0 * h);
            assert!(
                (fd - g).abs() < 2e-3 * (1.0 + g.abs()),
                "pixel {i}: {g} vs {fd}"
            );
        }
    }
}
