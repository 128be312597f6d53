//! A ResNet trunk (He et al. 2016) on burn: the shared feature extractor of the paper's 3D-IQTT
//! baselines (Appendix D, Fig. 13: ResNet-50), at any depth and width for CPU presets.

mod block;

use burn::config::Config;
use burn::module::Module;
use burn::nn::conv::Conv2d;
use burn::nn::pool::{MaxPool2d, MaxPool2dConfig};
use burn::nn::{BatchNorm, BatchNormConfig, PaddingConfig2d};
use burn::tensor::{Device, Tensor, activation, assert_shape};

pub use block::{Block, BlockConfig};

use crate::IMAGE_CHANNELS;
use crate::conv::conv2d_layer;
use crate::error::Error;
use block::{BOTTLENECK_EXPANSION, conv};

/// Configuration for a [`ResNet`]; build it with [`ResNetConfig::init`]. The defaults are
/// ResNet-50.
#[derive(Config, Debug)]
pub struct ResNetConfig {
    /// Blocks per stage; stage `i > 0` starts with a stride-2 block. ResNet-50:
    /// `[3, 4, 6, 3]`; ResNet-18: `[2, 2, 2, 2]`.
    #[config(default = "vec![3, 4, 6, 3]")]
    pub blocks: Vec<usize>,
    /// Bottleneck blocks (ResNet-50) rather than basic blocks (ResNet-18/34).
    #[config(default = true)]
    pub bottleneck: bool,
    /// Channels of the stem and inner width of the first stage; stage `i` has
    /// `width·2^i` (64 in the standard ResNets).
    #[config(default = 64)]
    pub width: usize,
    /// The ImageNet stem — a 7×7 stride-2 convolution and a 3×3 stride-2 max-pool, maps 4×
    /// smaller — rather than a 3×3 stride-1 convolution (for small images).
    #[config(default = true)]
    pub imagenet_stem: bool,
}

/// Maps an image to a feature vector: stem, residual stages, global average pooling.
///
/// Stem: convolution, batch normalization, ReLU (and max-pool with the ImageNet stem); then
/// the stages of [`Block`]s; then the mean over the map. With the defaults this is torchvision's
/// `resnet50` without its classifier (23,508,032 weights; 2048 features). The paper's "slightly
/// modified to support our image size" is not specified; here the pooling is global, so any
/// image size works (at 128² the last map is 4×4), and [`ResNetConfig::imagenet_stem`] keeps
/// small images from shrinking to 1×1 early.
#[derive(Module, Debug)]
pub struct ResNet {
    /// The stem convolution.
    pub stem: Conv2d,
    /// Batch normalization after the stem convolution.
    pub stem_norm: BatchNorm,
    /// The ImageNet stem's max-pool.
    pub pool: Option<MaxPool2d>,
    /// Every block of every stage, from the image side.
    pub blocks: Vec<Block>,
    /// Length of the feature vector.
    pub feature_dim: usize,
}

impl ResNetConfig {
    /// ResNet-50: bottleneck blocks `[3, 4, 6, 3]`, width 64, ImageNet stem (the defaults).
    pub fn resnet50() -> Self {
        Self::new()
    }

    /// ResNet-18: basic blocks `[2, 2, 2, 2]`, width 64, ImageNet stem.
    pub fn resnet18() -> Self {
        Self::new()
            .with_blocks(vec![2, 2, 2, 2])
            .with_bottleneck(false)
    }

    /// Length of the feature vector: `width·2^(stages − 1)`, times 4 with bottleneck blocks.
    pub fn feature_dim(&self) -> usize {
        let last = self.width << self.blocks.len().saturating_sub(1);
        if self.bottleneck {
            BOTTLENECK_EXPANSION * last
        } else {
            last
        }
    }

    /// Checks the configuration.
    ///
    /// # Errors
    /// [`Error::Config`] naming `blocks` (no stage, or a stage without blocks) or `width` (0).
    pub fn validate(&self) -> crate::Result<()> {
        let error =
            |field, value: usize, expected: &str| Error::config("resnet", field, value, expected);
        if self.blocks.is_empty() {
            return Err(error("blocks", 0, "at least one stage"));
        }
        if let Some(&n) = self.blocks.iter().find(|&&n| n == 0) {
            return Err(error("blocks", n, "at least 1 block per stage"));
        }
        if self.width == 0 {
            return Err(error("width", 0, "at least 1"));
        }
        Ok(())
    }

    /// Builds the trunk with burn's default (Kaiming-uniform) convolution weights.
    ///
    /// # Panics
    /// If [`ResNetConfig::validate`] fails; the message names the field.
    pub fn init(&self, device: &Device) -> ResNet {
        if let Err(err) = self.validate() {
            panic!("{err}");
        }
        let (kernel, stride) = if self.imagenet_stem { (7, 2) } else { (3, 1) };
        let pool = self.imagenet_stem.then(|| {
            MaxPool2dConfig::new([3, 3])
                .with_strides([2, 2])
                .with_padding(PaddingConfig2d::Explicit(1, 1, 1, 1))
                .init()
        });
        let mut blocks = Vec::new();
        let mut channels = self.width;
        for (stage, &count) in self.blocks.iter().enumerate() {
            for k in 0..count {
                let block = BlockConfig::new(channels, self.width << stage)
                    .with_stride(if stage > 0 && k == 0 { 2 } else { 1 })
                    .with_bottleneck(self.bottleneck);
                channels = block.out_channels();
                blocks.push(block.init(device));
            }
        }
        ResNet {
            stem: conv([IMAGE_CHANNELS, self.width], kernel, stride, device),
            stem_norm: BatchNormConfig::new(self.width).init(device),
            pool,
            blocks,
            feature_dim: channels,
        }
    }
}

impl ResNet {
    /// The features of each image.
    ///
    /// # Shapes
    /// - `x`: `[batch, 3, height, width]`, RGB in `[0, 1]`
    /// - returns `[batch, feature_dim]`
    ///
    /// # Panics
    /// If `x` does not have 3 channels.
    pub fn forward(&self, x: Tensor<4>) -> Tensor<2> {
        assert_shape!(x, [_, IMAGE_CHANNELS, _, _]);
        let mut h = activation::relu(self.stem_norm.forward(conv2d_layer(&self.stem, x)));
        if let Some(pool) = &self.pool {
            h = pool.forward(h);
        }
        for block in &self.blocks {
            h = block.forward(h);
        }
        let [batch, channels, _, _] = h.dims();
        h.mean_dim(3).mean_dim(2).reshape([batch, channels])
    }

    /// The features of every view of every question, all through the same weights.
    ///
    /// # Shapes
    /// - `images`: `[batch, views, 3, height, width]` (a 3D-IQTT question has 4 views)
    /// - returns `[batch, views, feature_dim]`
    ///
    /// # Panics
    /// If the images do not have 3 channels.
    pub fn forward_views(&self, images: Tensor<5>) -> Tensor<3> {
        let [batch, views, c, h, w] = images.dims();
        let features = self.forward(images.reshape([batch * views, c, h, w]));
        features.reshape([batch, views, self.feature_dim])
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testutil::{Rng, device};

    /// Running means and variances, which `num_params` counts beside the weights.
    fn running_statistics(net: &ResNet) -> usize {
        let norm = |n: &BatchNorm| 2 * n.gamma.dims()[0];
        let blocks: usize = net
            .blocks
            .iter()
            .map(|b| {
                b.norms.iter().map(norm).sum::<usize>()
                    + b.shortcut.as_ref().map_or(0, |(_, n)| norm(n))
            })
            .sum();
        norm(&net.stem_norm) + blocks
    }

    #[test]
    fn standard_depths_have_torchvision_weight_counts() {
        // torchvision's resnet50 and resnet18 have 25,557,032 and 11,689,512 parameters, of
        // which their 1000-class classifiers take 2048·1000 + 1000 and 512·1000 + 1000.
        for (config, want, features) in [
            (ResNetConfig::resnet50(), 25_557_032 - 2_049_000, 2048),
            (ResNetConfig::resnet18(), 11_689_512 - 513_000, 512),
        ] {
            let net = config.init(&device());
            assert_eq!(net.num_params() - running_statistics(&net), want);
            assert_eq!(
                (net.feature_dim, config.feature_dim()),
                (features, features)
            );
        }
    }

    #[test]
    fn features_have_the_configured_length_for_any_image_size() {
        let (device, mut rng) = (device(), Rng::new(41));
        for (bottleneck, imagenet_stem, size) in [
            (true, true, 16),
            (false, true, 32),
            (false, false, 12),
            (true, false, 8),
        ] {
            let config = ResNetConfig::new()
                .with_blocks(vec![1, 2])
                .with_width(4)
                .with_bottleneck(bottleneck)
                .with_imagenet_stem(imagenet_stem);
            let net = config.init(&device);
            let f = net.forward_views(rng.tensor([2, 4, 3, size, size], 0.0, 1.0, &device));
            assert_eq!(
                f.dims(),
                [2, 4, config.feature_dim()],
                "{config:?} at {size}²"
            );
            assert_eq!(config.feature_dim(), if bottleneck { 32 } else { 8 });
        }
    }

    #[test]
    fn bad_resnet_config_is_rejected_by_name() {
        let err = ResNetConfig::new()
            .with_blocks(vec![2, 0])
            .validate()
            .unwrap_err();
        assert_eq!(
            err.to_string(),
            "resnet config: field `blocks` is 0, expected at least 1 block per stage"
        );
        let err = ResNetConfig::new().with_width(0).validate().unwrap_err();
        assert_eq!(
            err.to_string(),
            "resnet config: field `width` is 0, expected at least 1"
        );
    }
}
