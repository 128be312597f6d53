//! # pix2scene-render
//!
//! The differentiable surfel renderer of *Pix2Scene* (ICLR 2019, section 3.2): one surfel per
//! pixel, placed along the pixel's camera ray at the given depth, oriented by the 8-neighbour
//! constrained plane fit of paper Eq. 3 and shaded by paper Eq. 1. Forward and backward, usable
//! as a layer inside training.
//!
//! The stages follow the math, one file each: [`rays`] (pixel → ray), [`surfels`] (depth →
//! points), [`normals`] (Eq. 3), [`shade`] (Eq. 1); [`SurfelRenderer::forward`] chains them.
//! Two implementations compute the same function:
//!
//! - the **reference**: composed burn tensor operations, differentiated by burn's autodiff and
//!   portable to every backend (GPU ones included);
//! - the **fused CPU kernel** ([`kernel`]): one pass over the pixels for the forward and one for
//!   the hand-written backward, rayon-parallel over image bands, registered as a custom autodiff
//!   operation of the `Flex` backend.
//!
//! [`SurfelRenderer::forward`] picks the fused kernel on `Flex` devices (with or without
//! autodiff) for `f32` tensors whose lights are not tracked by autodiff, and the reference
//! everywhere else. Both agree to 1e-5, forward and backward.
//!
//! Units and frames are those of the `pix2scene-scene` crate (see its `# Conventions`): depth is
//! the Euclidean distance along the pixel ray in scene units, points, normals and lights are in
//! the camera frame (+x right, +y up, looking along −z).
//!
//! ```
//! use burn::tensor::{Device, Tensor};
//! use pix2scene_render::RendererConfig;
//!
//! let device = Device::flex().autodiff();
//! let renderer = RendererConfig::new(16).init(&device);
//! let depth = Tensor::<3>::full([2, 16, 16], 0.8, &device).require_grad();
//! let light_pos = Tensor::<3>::from_floats([[[0.3, 0.6, 0.2]], [[-0.5, 0.4, 0.1]]], &device);
//! let light_color = Tensor::<3>::full([2, 1, 3], 0.8, &device);
//! let out = renderer.forward(depth.clone(), light_pos, light_color);
//! assert_eq!(out.image.dims(), [2, 3, 16, 16]);
//! let grads = out.image.sum().backward();
//! assert_eq!(depth.grad(&grads).unwrap().dims(), [2, 16, 16]);
//! ```
//!
//! # Feature flags
//! None.

pub mod bench;
mod error;
pub mod heap;
pub mod kernel;
pub mod normals;
pub mod npy;
mod params;
pub mod rays;
pub mod reference;
mod renderer;
pub mod shade;
mod shade_job;
pub mod surfels;

pub use error::{Error, Result};
pub use params::{LightParams, LightPosition, ShadeParams};
pub use renderer::{RenderImpl, RenderOutput, RendererConfig, SurfelRenderer};
pub use shade_job::{ShadeJob, shade_depth};
