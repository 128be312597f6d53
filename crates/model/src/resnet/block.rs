//! The residual blocks of a ResNet (He et al. 2016): basic (two 3×3 convolutions, ResNet-18/34)
//! and bottleneck (1×1, 3×3, 1×1 with a 4× wider output, ResNet-50).

use burn::config::Config;
use burn::module::Module;
use burn::nn::conv::{Conv2d, Conv2dConfig};
use burn::nn::{BatchNorm, BatchNormConfig, PaddingConfig2d};
use burn::tensor::{Device, Tensor, activation, assert_shape};

use crate::conv::conv2d_layer;

/// Output channels of a bottleneck block per inner channel.
pub(crate) const BOTTLENECK_EXPANSION: usize = 4;

/// Configuration for a [`Block`]; build it with [`BlockConfig::init`].
#[derive(Config, Debug)]
pub struct BlockConfig {
    /// Channels of the block's input.
    pub in_channels: usize,
    /// Inner width: the output channels of a basic block, a quarter of a bottleneck's.
    pub inner: usize,
    /// Stride of the block (1, or 2 where a stage halves the map).
    #[config(default = 1)]
    pub stride: usize,
    /// Bottleneck block (1×1, 3×3, 1×1) rather than basic (3×3, 3×3).
    #[config(default = true)]
    pub bottleneck: bool,
}

/// A residual block: `relu(F(x) + shortcut(x))`.
///
/// `F` is a chain of bias-free convolutions, each followed by batch normalization and, but for
/// the last, ReLU: basic `3×3/s, 3×3`; bottleneck `1×1, 3×3/s, 1×1` (the stride on the 3×3
/// convolution, as in torchvision's ResNet "v1.5"). The shortcut is the identity, or a
/// 1×1 convolution with stride `s` and batch normalization where the shape changes.
#[derive(Module, Debug)]
pub struct Block {
    /// The convolutions of `F`, from the input side.
    pub convs: Vec<Conv2d>,
    /// Batch normalization after each convolution of `F`.
    pub norms: Vec<BatchNorm>,
    /// The projection shortcut, where the block changes the shape.
    pub shortcut: Option<(Conv2d, BatchNorm)>,
    /// Channels of the block's output.
    pub out_channels: usize,
}

/// A bias-free square convolution with symmetric zero padding `kernel / 2`.
pub(crate) fn conv(channels: [usize; 2], kernel: usize, stride: usize, device: &Device) -> Conv2d {
    let p = kernel / 2;
    Conv2dConfig::new(channels, [kernel, kernel])
        .with_stride([stride, stride])
        .with_padding(PaddingConfig2d::Explicit(p, p, p, p))
        .with_bias(false)
        .init(device)
}

impl BlockConfig {
    /// Channels of the block's output: `inner`, times 4 for a bottleneck.
    pub fn out_channels(&self) -> usize {
        if self.bottleneck {
            BOTTLENECK_EXPANSION * self.inner
        } else {
            self.inner
        }
    }

    /// Builds the block with burn's default (Kaiming-uniform) convolution weights and unit
    /// batch-normalization scales.
    ///
    /// # Panics
    /// If a width or the stride is 0.
    pub fn init(&self, device: &Device) -> Block {
        assert!(
            self.in_channels > 0 && self.inner > 0 && self.stride > 0,
            "block config with a zero size: {self:?}"
        );
        let (c, out, s) = (self.in_channels, self.out_channels(), self.stride);
        // (input channels, output channels, kernel, stride) of each convolution of F.
        let layers = if self.bottleneck {
            vec![
                (c, self.inner, 1, 1),
                (self.inner, self.inner, 3, s),
                (self.inner, out, 1, 1),
            ]
        } else {
            vec![(c, out, 3, s), (out, out, 3, 1)]
        };
        let shortcut = (s != 1 || c != out).then(|| {
            (
                conv([c, out], 1, s, device),
                BatchNormConfig::new(out).init(device),
            )
        });
        Block {
            convs: layers
                .iter()
                .map(|&(i, o, k, s)| conv([i, o], k, s, device))
                .collect(),
            norms: layers
                .iter()
                .map(|&(_, o, _, _)| BatchNormConfig::new(o).init(device))
                .collect(),
            shortcut,
            out_channels: out,
        }
    }
}

impl Block {
    /// Applies the block.
    ///
    /// # Shapes
    /// - `x`: `[batch, in_channels, h, w]`
    /// - returns `[batch, out_channels, ⌈h/s⌉, ⌈w/s⌉]`
    ///
    /// # Panics
    /// If `x` does not have the block's input channels.
    pub fn forward(&self, x: Tensor<4>) -> Tensor<4> {
        let [_, c_in, _, _] = self.convs[0].weight.dims();
        assert_shape!(x, [_, c_in, _, _]);
        let last = self.convs.len() - 1;
        let mut h = x.clone();
        for (i, (conv, norm)) in self.convs.iter().zip(&self.norms).enumerate() {
            h = norm.forward(conv2d_layer(conv, h));
            if i < last {
                h = activation::relu(h);
            }
        }
        let identity = match &self.shortcut {
            Some((conv, norm)) => norm.forward(conv2d_layer(conv, x)),
            None => x,
        };
        activation::relu(h + identity)
    }
}
