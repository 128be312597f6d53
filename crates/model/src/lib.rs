//! Pix2Scene networks (paper section 3.3 and Appendix A) on burn 0.22: the [`Encoder`], the
//! camera-conditioned depth [`Decoder`], the joint image–code [`Critic`] with its hand-written
//! differentiable input gradient, and the WGAN-GP [`gradient_penalty`] built on it (burn has no
//! double backward). A class-conditional decoder and critic (`num_classes > 0`, paper section
//! 4.3) take one-hot class vectors ([`one_hot`]) as an optional argument beside the camera.
//! Camera conditioning is an option too (`camera_dim = 0`: no camera, for 3D-IQTT where the view
//! is unknown), and the decoder can output a foreground mask beside the depth
//! ([`Decoder::forward_with_mask`]) for objects on a black background.
//!
//! For the 3D-IQ test task (paper section 4.4, Appendix D): the MINE [`StatisticsNetwork`] and
//! the [`mine`] estimate of `I(z_scene; z_view)` (Eq. 6), the supervised [`question_loss`]
//! (Eq. 5), [`contrastive_loss`] (Eq. 7) and [`triplet_loss`], answer selection by the nearest code
//! ([`option_distances`], [`nearest_options`]), and the two baselines of Fig. 13 on a [`ResNet`]
//! trunk ([`CnnBaseline`], [`SiameseBaseline`]).
//!
//! Resolution `R = 4·2^L`; each network has `L` stride-2 stages of widths `width·2^i`. The
//! architecture matches the PyTorch yardstick `bench/torch_reference.py` layer for layer. Cameras are
//! camera positions in the world frame, scene units; depth is the distance along each pixel ray
//! in scene units (see the `# Conventions` of `pix2scene-scene`).
//!
//! On burn's `Flex` CPU backend every convolution runs through a batched im2col + GEMM kernel
//! with hand-written input and weight gradients (`kernel/`); other backends use burn's own
//! convolutions, which are also the reference the kernel is tested against.
//!
//! # Example
//! ```
//! use burn::tensor::{Device, Tensor};
//! use pix2scene_model::{CriticConfig, DecoderConfig, EncoderConfig, gradient_penalty};
//!
//! let device = Device::flex().autodiff();
//! let (r, w, z_dim, batch) = (8, 4, 6, 2);
//! let encoder = EncoderConfig::new(r).with_width(w).with_z_dim(z_dim).init(&device);
//! let decoder = DecoderConfig::new(r).with_width(w).with_z_dim(z_dim).init(&device);
//! let critic = CriticConfig::new(r).with_width(w).with_z_dim(z_dim).init(&device);
//!
//! let image = Tensor::<4>::ones([batch, 3, r, r], &device).mul_scalar(0.5);
//! let camera = Tensor::<2>::ones([batch, 3], &device).mul_scalar(0.4);
//! let z = encoder.forward(image.clone(), Some(camera.clone()));
//! let depth = decoder.forward(z.clone(), Some(camera.clone()), None); // [batch, r, r], scene units
//! assert_eq!(depth.dims(), [batch, r, r]);
//!
//! let prior = Tensor::<2>::zeros([batch, z_dim], &device);
//! let alpha = Tensor::<1>::ones([batch], &device).mul_scalar(0.3);
//! let gp = gradient_penalty(&critic, (image.clone(), z), (image, prior), Some(camera), None, alpha);
//! let _grads = gp.mul_scalar(10.0).backward();
//! ```
//!
//! # Feature flags
//! None; the crate uses burn's `flex` CPU backend with `autodiff` from the workspace.

mod activation;
mod adam;
mod answer;
mod baseline;
mod camera;
mod class;
mod cond_norm;
mod conv;
mod critic;
mod decoder;
mod encoder;
mod error;
mod gradient_penalty;
mod kernel;
mod mine;
mod question_loss;
mod resnet;
mod stages;
mod statistics;
#[cfg(test)]
mod testutil;
pub mod work;

pub use adam::{FusedAdam, FusedAdamConfig};
pub use answer::{ANSWERS, VIEWS, answer_mask, nearest_options, option_distances};
pub use baseline::{CnnBaseline, CnnBaselineConfig, SiameseBaseline, SiameseBaselineConfig};
pub use class::one_hot;
pub use cond_norm::{CondNorm, CondNormConfig};
pub use critic::{Critic, CriticConfig};
pub use decoder::{Decoder, DecoderConfig, MIN_DEPTH};
pub use encoder::{Encoder, EncoderConfig};
pub use error::{Error, Result};
pub use gradient_penalty::gradient_penalty;
pub use mine::{MineAverage, MineEstimate, mine};
pub use question_loss::{CONTRASTIVE_MARGIN, contrastive_loss, question_loss, triplet_loss};
pub use resnet::{Block, BlockConfig, ResNet, ResNetConfig};
pub use statistics::{StatisticsConfig, StatisticsNetwork};

/// Negative slope of every LeakyReLU (paper Appendix A; the yardstick's `LEAKY_SLOPE`).
pub const LEAKY_SLOPE: f64 = 0.2;

/// Channels of an input image (RGB).
pub const IMAGE_CHANNELS: usize = 3;

/// Length of the camera vector: the camera position, world frame, scene units.
pub const CAMERA_DIM: usize = 3;
