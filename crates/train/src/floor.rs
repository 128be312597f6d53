//! The floor of a training iteration: the floating-point work it must do, counted from the
//! layer shapes ([`pix2scene_model::work`]), per part, pass and convolution.
//!
//! What one [`Trainer::iteration`](crate::Trainer::iteration) runs, per batch of `b` samples:
//!
//! - each critic step: the encoder and decoder forward on `b` (no gradients); the critic forward
//!   on `2b` (real and generated pairs in one pass), its weight gradient on `2b` and its input
//!   gradient on `2b` at every layer but the first (images need none); the gradient penalty on
//!   `b` interpolates: the stride-2 convolutions forward (the slope masks), their transposes
//!   forward (`∂D/∂x`, the first one back to the image channels only), and those transposes'
//!   input and weight gradients (the penalty's backward);
//! - each regression step (`optim.regress_steps`): encoder and decoder forward on `b`, their
//!   weight gradients, the decoder's input gradient at every layer and the encoder's at every
//!   layer but the first;
//! - the encoder/decoder step: the encoder forward on `2b` (the image and the rendered sample),
//!   the decoder forward on `2b` (reconstruction and sample), the critic forward and input
//!   gradient on `2b` (no weight gradient: the critic is fixed), the encoder's and decoder's
//!   weight gradients on `2b`, and their input gradients where a gradient flows: every encoder
//!   layer for the rendered sample and all but the first for the image, every decoder layer for
//!   the reconstruction and all but the projection for the sample (its input `z` is fixed).
//!
//! Each pass of a convolution costs [`ConvShape::macs`] multiply-adds per sample, 2 FLOP each.
//! The critic's first layer counts the image channels only: its camera planes are constant, and
//! their response is one convolution of a plane of ones per pass (forward and weight gradient),
//! whatever the batch ([`pix2scene_model::CriticConfig::camera_response_shape`]).
//! The renderer, the planarity prior and the pyramid's block means are elementwise work, given
//! here as estimates per pixel ([`Floor::elementwise_flop`]); they are a few percent of the
//! convolutions' work.

use std::collections::BTreeMap;

use pix2scene_model::IMAGE_CHANNELS;
use pix2scene_model::work::{ConvShape, Part, Pass};
use serde::Serialize;

use crate::config::TrainPreset;
use crate::error::{Error, Result};

/// Estimated FLOP per pixel of the fused surfel renderer's forward pass (3 lights): 4 edges of
/// the plane fit (difference, normalization, 5 products, added to both ends: ≈ 30 each), the
/// 2×2 solve (≈ 20), Eq. 1 for 3 lights (≈ 30 each), the back-projection (3).
pub const RENDER_FORWARD_FLOP_PER_PIXEL: u64 = 240;

/// Estimated FLOP per pixel of the renderer's backward pass (about twice its forward).
pub const RENDER_BACKWARD_FLOP_PER_PIXEL: u64 = 480;

/// Estimated FLOP per pixel of the planarity prior, forward and backward (inverse depth,
/// two second differences, the robust penalty and their gradients).
pub const PLANARITY_FLOP_PER_PIXEL: u64 = 120;

/// The floor of one iteration of a preset.
#[derive(Clone, Debug, Serialize)]
pub struct Floor {
    /// The convolutions' FLOP per part, pass and operation shape.
    pub convolutions: Vec<FloorLine>,
    /// Total FLOP of the convolutions.
    pub convolution_flop: u64,
    /// Estimated FLOP of the elementwise work: renders (forward and backward), the planarity
    /// prior and the pyramid's block means and squared errors.
    pub elementwise_flop: u64,
}

/// The FLOP of one part, pass and convolution shape in one iteration.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub struct FloorLine {
    /// Whose convolution.
    pub part: Part,
    /// Which pass.
    pub pass: Pass,
    /// The operation.
    pub shape: ConvShape,
    /// FLOP in one iteration (2 per multiply-add).
    pub flop: u64,
}

/// Accumulates FLOP per (part, pass, shape).
#[derive(Default)]
struct Tally(BTreeMap<(Part, Pass, ConvShape), u64>);

impl Tally {
    /// Adds one pass of each of `shapes` over `samples` samples.
    fn add(&mut self, part: Part, pass: Pass, shapes: &[ConvShape], samples: usize) {
        for &shape in shapes {
            *self.0.entry((part, pass, shape)).or_default() += 2 * shape.macs() * samples as u64;
        }
    }
}

impl Floor {
    /// Counts the floor of one iteration of `preset` (see the module documentation).
    ///
    /// # Errors
    /// [`Error::InvalidValue`] naming `model.resolution` when the networks' configurations
    /// are invalid.
    pub fn of(preset: &TrainPreset) -> Result<Self> {
        let m = &preset.model;
        let bad = |e: pix2scene_model::Error| Error::InvalidValue {
            key: "model.resolution".into(),
            value: m.resolution.to_string(),
            message: e.to_string(),
        };
        let enc = m.encoder().conv_shapes().map_err(bad)?;
        let dec = m.decoder().conv_shapes().map_err(bad)?;
        let critic = m.critic().conv_shapes().map_err(bad)?;
        let response = m.critic().camera_response_shape().map_err(bad)?;
        let response = response.as_slice();
        let o = &preset.optim;
        let b = o.batch;
        let stride2 = &critic[..critic.len() - 1];
        // The penalty's chain of transposes, back to the image channels only (not the camera
        // planes) at the first layer.
        let chain: Vec<ConvShape> = stride2
            .iter()
            .enumerate()
            .map(|(i, c)| {
                let c_out = if i == 0 { IMAGE_CHANNELS } else { c.c_in };
                ConvShape::transpose(c.c_out, c_out, c.kernel, c.stride, c.padding).on(c.output())
            })
            .collect();
        let mut t = Tally::default();
        use Part::{Critic, Decoder, Encoder, Penalty};
        use Pass::{Forward, InputGradient, WeightGradient};
        for _ in 0..o.critic_steps {
            t.add(Encoder, Forward, &enc, b);
            t.add(Decoder, Forward, &dec, b);
            t.add(Critic, Forward, &critic, 2 * b);
            t.add(Critic, Forward, response, 1);
            t.add(Critic, WeightGradient, &critic, 2 * b);
            t.add(Critic, WeightGradient, response, 1);
            t.add(Critic, InputGradient, &critic[1..], 2 * b);
            t.add(Penalty, Forward, stride2, b);
            t.add(Penalty, Forward, response, 1);
            t.add(Penalty, Forward, &chain, b);
            t.add(Penalty, InputGradient, &chain, b);
            t.add(Penalty, WeightGradient, &chain, b);
        }
        for _ in 0..o.regress_steps {
            t.add(Encoder, Forward, &enc, b);
            t.add(Decoder, Forward, &dec, b);
            t.add(Decoder, WeightGradient, &dec, b);
            t.add(Decoder, InputGradient, &dec, b);
            t.add(Encoder, WeightGradient, &enc, b);
            t.add(Encoder, InputGradient, &enc[1..], b);
        }
        t.add(Encoder, Forward, &enc, 2 * b);
        t.add(Decoder, Forward, &dec, 2 * b);
        t.add(Critic, Forward, &critic, 2 * b);
        t.add(Critic, Forward, response, 1);
        t.add(Critic, InputGradient, &critic, 2 * b);
        t.add(Encoder, WeightGradient, &enc, 2 * b);
        t.add(Encoder, InputGradient, &enc, b);
        t.add(Encoder, InputGradient, &enc[1..], b);
        t.add(Decoder, WeightGradient, &dec, 2 * b);
        t.add(Decoder, InputGradient, &dec, b);
        t.add(Decoder, InputGradient, &dec[1..], b);
        let convolutions: Vec<FloorLine> =
            t.0.into_iter()
                .map(|((part, pass, shape), flop)| FloorLine {
                    part,
                    pass,
                    shape,
                    flop,
                })
                .collect();
        Ok(Self {
            convolution_flop: convolutions.iter().map(|l| l.flop).sum(),
            convolutions,
            elementwise_flop: elementwise_flop(preset),
        })
    }

    /// FLOP of one part and pass, over every shape.
    pub fn flop_of(&self, part: Part, pass: Pass) -> u64 {
        self.convolutions
            .iter()
            .filter(|l| l.part == part && l.pass == pass)
            .map(|l| l.flop)
            .sum()
    }
}

/// The estimated elementwise FLOP of one iteration: a forward render per critic step, a forward
/// and backward render of the sample and of each pyramid level in the encoder/decoder step
/// (plus the refinement's `refine_steps` of each, when on), the planarity prior on two maps, and
/// the pyramid's block means and squared errors (4 channels, about 2 FLOP per pixel each).
fn elementwise_flop(preset: &TrainPreset) -> u64 {
    let (o, r) = (&preset.optim, preset.model.resolution as u64);
    let b = o.batch as u64;
    let pixels = b * r * r;
    let both = RENDER_FORWARD_FLOP_PER_PIXEL + RENDER_BACKWARD_FLOP_PER_PIXEL;
    let pyramid: u64 = (0..o.recon_levels).map(|l| pixels >> (2 * l)).sum();
    let renders = o.critic_steps as u64 * pixels * RENDER_FORWARD_FLOP_PER_PIXEL
        + (pixels + pyramid) * both
        + o.refine_steps as u64 * pixels * both;
    renders + 2 * pixels * PLANARITY_FLOP_PER_PIXEL + o.recon_levels as u64 * pixels * 4 * 2
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A hand count for a small configuration: 8², width 2, z 3, batch 2, one critic step.
    ///
    /// Encoder: conv 3→2 on 8² (4² outputs): 3·2·16·16 = 1536 MACs; head 2→3 on 4² (1 output):
    /// 2·3·16 = 96. Decoder: projection 6→2, 1² → 4²: 6·2·16 = 192; transpose 2→1, 4² → 8²:
    /// 2·1·16·16 = 512. Critic: conv 3→2 on 8² (the image channels): 3·2·16·16 = 1536; head
    /// (2+3)→1: 80; and once per pass, whatever the batch, the camera response 1→6 on 8²:
    /// 6·16·16 = 1536.
    /// Per sample: encoder 1632, decoder 704, critic 1616; the penalty's conv 1536 and its
    /// transpose 2→3 (back to the image channels only) on 4²: 2·3·16·16 = 1536.
    ///
    /// Critic step (b = 2): encoder F 2·1632, decoder F 2·704, critic F 4·1616 + 1536, critic W
    /// 4·1616 + 1536, critic I 4·80, penalty F 2·(1536 + 1536) + 1536, penalty I 2·1536,
    /// penalty W 2·1536. Encoder/decoder step: encoder F 4·1632, decoder F 4·704, critic F
    /// 4·1616 + 1536, critic I 4·1616, encoder W 4·1632, encoder I 2·1632 + 2·96, decoder W
    /// 4·704, decoder I 2·704 + 2·512. Sum of MACs: 3264 + 1408 + 8000 + 8000 + 320 + 7680 +
    /// 3072 + 3072 + 6528 + 2816 + 8000 + 6464 + 6528 + 3456 + 2816 + 2432 = 73856.
    #[test]
    fn floor_matches_a_hand_count() {
        let preset = crate::testutil::preset(&[
            "model.resolution=8",
            "model.width=2",
            "model.z_dim=3",
            "optim.batch=2",
            "optim.critic_steps=1",
            "optim.recon_levels=1",
        ])
        .unwrap();
        let floor = Floor::of(&preset).unwrap();
        assert_eq!(floor.convolution_flop, 2 * 73_856);
        assert_eq!(floor.flop_of(Part::Penalty, Pass::InputGradient), 2 * 3072);
        assert_eq!(
            floor.flop_of(Part::Critic, Pass::InputGradient),
            2 * (320 + 6464)
        );
    }
}
