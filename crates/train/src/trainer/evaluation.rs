//! Evaluation: the networks in inference mode (running batch statistics), and the held-out
//! depth error logged during training.

use burn::module::Module;
use burn::tensor::Tensor;

use super::Trainer;
use crate::batch::{DeviceBatch, HostBatch, host_values};
use crate::depth_error::{DepthError, DepthErrorSum};

impl Trainer {
    /// Encodes and decodes a batch with the networks in inference mode (running batch
    /// statistics): `(z, depth)`, `[batch, z_dim]` and `[batch, R, R]`, without autodiff.
    pub fn reconstruct(&self, batch: &DeviceBatch) -> (Tensor<2>, Tensor<3>) {
        let nets = self.nets.valid();
        let camera = self.camera(batch).map(Tensor::inner);
        let class = batch.class.clone().map(Tensor::inner);
        let z = nets
            .encoder
            .forward(batch.image.clone().inner(), camera.clone());
        let depth = nets.decoder.forward(z.clone(), camera, class);
        (z, depth)
    }

    /// Decodes latent codes for a batch's cameras (and classes) in inference mode:
    /// `[batch, R, R]` depth, without autodiff.
    pub fn decode(&self, z: Tensor<2>, batch: &DeviceBatch) -> Tensor<3> {
        let class = batch.class.clone().map(Tensor::inner);
        let camera = self.camera(batch).map(Tensor::inner);
        self.nets.valid().decoder.forward(z.inner(), camera, class)
    }

    /// Depth error of [`Trainer::reconstruct`] on host batches: paper Table 1's masked
    /// MSE-depth (scene units²), the same with each image's best scale, and the depth ratio.
    pub fn held_out_depth(&self, batches: &[HostBatch]) -> DepthError {
        let mut sum = DepthErrorSum::default();
        for b in batches {
            let (_, depth) = self.reconstruct(&self.upload(b));
            let pred = host_values(depth);
            let pixels = b.size * b.size;
            for ((p, g), m) in pred
                .chunks(pixels)
                .zip(b.depth.chunks(pixels))
                .zip(b.mask.chunks(pixels))
            {
                sum.add_image(p, g, m);
            }
        }
        sum.finish()
    }
}
