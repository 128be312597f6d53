//! `[optim]`: the objective (WGAN-GP ALI plus paper Eq. 4 and the optional terms) and Adam.

use serde::{Deserialize, Serialize};

use super::{DataSection, ModelSection};
use crate::error::{Error, Result};

/// `[optim]`: the objective (WGAN-GP ALI + Eq. 4) and Adam.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct OptimSection {
    /// Scenes per batch. Default 6 (the paper's).
    pub batch: usize,
    /// Adam learning rate, both optimizers. Default 2e-4 (the authors').
    pub lr: f64,
    /// Steps over which the learning rate falls from `lr` to `lr_final` along a half cosine
    /// (it stays at `lr_final` afterwards); 0 keeps `lr` throughout. Default 0 (the authors').
    pub lr_decay_steps: u64,
    /// Learning rate at the end of the decay (see `lr_decay_steps`), in `[0, lr]`. Default 0.
    pub lr_final: f64,
    /// Adam β₁. Default 0.0 (the authors').
    pub beta1: f32,
    /// Adam β₂. Default 0.999.
    pub beta2: f32,
    /// Adam ε. Default 1e-8.
    pub epsilon: f32,
    /// Critic steps per encoder/decoder step. Default 5 (the authors').
    pub critic_steps: usize,
    /// Gradient-penalty weight on the joint (x, z) input. Default 10.
    pub gp_weight: f32,
    /// Weight of the adversarial (ALI) term in the encoder/decoder loss. Default 1.
    pub adv_weight: f32,
    /// Weight of the image reconstruction term ‖x − rend(G(E(x)))‖² (mean over pixels). Default 1.
    pub recon_x_weight: f32,
    /// Weight of the latent reconstruction term ‖z − E(rend(G(z)))‖² (mean over entries). Default 1.
    pub recon_z_weight: f32,
    /// Weight of the planarity prior on generated depth maps (see
    /// [`PlanarityPrior`](crate::planarity::PlanarityPrior)); not in the paper's Eq. 4.
    /// Default 0.
    pub planarity_weight: f32,
    /// τ of the planarity prior's robust cost `τ·ln(1 + x/τ)` per stencil (dimensionless; see
    /// [`PlanarityPrior`](crate::planarity::PlanarityPrior)); 0 is the L1 prior. Default 0.
    pub planarity_scale: f32,
    /// Levels of the image pyramid the image reconstruction is measured on (see
    /// [`PyramidLoss`](crate::pyramid::PyramidLoss)); 1 is paper Eq. 4 at full resolution
    /// only. Default 1.
    pub recon_levels: usize,
    /// Adam steps of the per-pixel refinement of each reconstruction through the renderer
    /// whose result the decoder regresses on (see [`refine`](crate::refine)); 0 turns the
    /// term off (the paper). Default 0.
    pub refine_steps: usize,
    /// Adam learning rate of that refinement, on log depth. Default 0.003.
    pub refine_lr: f32,
    /// Weight of the regression `mean (ln G(E(x)) − ln refined)²` in the encoder/decoder loss
    /// (used when `refine_steps > 0`). Default 100.
    pub refine_weight: f32,
    /// Keeps each training scene's refined depth between visits and refines it further at the
    /// next one, instead of starting again from the decoder's reconstruction (see
    /// [`targets`](crate::targets)); needs `refine_steps > 0` and a finite training set
    /// (`data.train_scenes > 0` or `data.dir`). Default false.
    pub refine_keep: bool,
    /// Passes each refined map through a 3×3 median filter that keeps its scale before the
    /// decoder regresses on it (and before it is kept), removing the speckle refinement leaves
    /// along silhouettes (see [`median`](crate::median)); needs `refine_steps > 0`. Default
    /// false.
    pub refine_median: bool,
    /// Extra encoder/decoder steps per iteration that regress the reconstructions of the first
    /// `regress_steps` critic batches on those scenes' kept refined targets (weight
    /// `refine_weight`, no other term, no refinement: scenes not yet refined contribute
    /// nothing); needs `refine_keep`, at most `critic_steps`. The decoder otherwise learns from
    /// one batch in `critic_steps + 1`; each step costs about 0.1 s at 64² on one thread (five
    /// add 0.4 s to the 1.4 s of an iteration of `cpu-64-kept` without them; `bench train`
    /// reports `regression_s`).
    /// Default 0.
    pub regress_steps: usize,
    /// Shows the second, fourth, … regression step its batch mirrored: images flipped left–right,
    /// the camera reflected across the plane `x = z` that the room is symmetric about, the
    /// kept targets flipped (see [`mirror`](crate::mirror)): a second view of each kept scene for
    /// the encoder and decoder at no extra cost. Needs `regress_steps ≥ 2` and scenes drawn
    /// symmetrically about that plane (checked when the run starts). Default false.
    pub regress_mirror: bool,
}

impl OptimSection {
    /// The learning rate of iteration `step` (0-based): `lr`, or on the half cosine from `lr`
    /// to `lr_final` over the first `lr_decay_steps` iterations.
    pub fn lr_at(&self, step: u64) -> f64 {
        if self.lr_decay_steps == 0 {
            return self.lr;
        }
        let t = step.min(self.lr_decay_steps) as f64 / self.lr_decay_steps as f64;
        self.lr_final + (self.lr - self.lr_final) * 0.5 * (1.0 + (std::f64::consts::PI * t).cos())
    }

    /// Checks the section's values and the options that need each other, given the `[model]`
    /// (whose resolution bounds `recon_levels`) and `[data]` (whose finite training set kept
    /// targets need) sections.
    ///
    /// # Errors
    /// [`Error::InvalidValue`] naming the first bad key and its value.
    pub fn validate(&self, model: &ModelSection, data: &DataSection) -> Result<()> {
        self.validate_refinement(data)?;
        if self.batch < 2 {
            return Err(Error::invalid(
                "optim.batch",
                self.batch,
                "must be at least 2 (batch normalization)",
            ));
        }
        if !(self.lr.is_finite() && self.lr > 0.0) {
            return Err(Error::invalid(
                "optim.lr",
                self.lr,
                "must be a positive number",
            ));
        }
        if !(self.lr_final.is_finite() && (0.0..=self.lr).contains(&self.lr_final)) {
            return Err(Error::invalid(
                "optim.lr_final",
                self.lr_final,
                format!("must be in [0, optim.lr] = [0, {}]", self.lr),
            ));
        }
        for (key, beta) in [("optim.beta1", self.beta1), ("optim.beta2", self.beta2)] {
            if !(0.0..1.0).contains(&beta) {
                return Err(Error::invalid(key, beta, "must be in [0, 1)"));
            }
        }
        if !(self.epsilon.is_finite() && self.epsilon > 0.0) {
            return Err(Error::invalid(
                "optim.epsilon",
                self.epsilon,
                "must be a positive number",
            ));
        }
        for (key, w) in [
            ("optim.gp_weight", self.gp_weight),
            ("optim.adv_weight", self.adv_weight),
            ("optim.recon_x_weight", self.recon_x_weight),
            ("optim.recon_z_weight", self.recon_z_weight),
            ("optim.planarity_weight", self.planarity_weight),
            ("optim.planarity_scale", self.planarity_scale),
            ("optim.refine_weight", self.refine_weight),
        ] {
            if !(w.is_finite() && w >= 0.0) {
                return Err(Error::invalid(key, w, "must be a finite number ≥ 0"));
            }
        }
        // model.resolution is 4·2^L (checked by the model section): levels 1 ..= L + 1 keep
        // ≥ 4² pixels.
        let max_levels = (model.resolution / 4).ilog2() as usize + 1;
        if !(1..=max_levels).contains(&self.recon_levels) {
            return Err(Error::invalid(
                "optim.recon_levels",
                self.recon_levels,
                format!(
                    "must be in 1..={max_levels} ({}² images, at least 4² pixels at the coarsest \
                     level)",
                    model.resolution
                ),
            ));
        }
        if !(self.refine_lr.is_finite() && self.refine_lr > 0.0) {
            return Err(Error::invalid(
                "optim.refine_lr",
                self.refine_lr,
                "must be a positive number",
            ));
        }
        Ok(())
    }

    /// Checks that the refinement options have what they build on.
    fn validate_refinement(&self, data: &DataSection) -> Result<()> {
        if self.refine_keep && self.refine_steps == 0 {
            return Err(Error::invalid(
                "optim.refine_keep",
                true,
                "needs optim.refine_steps > 0 (there is nothing to keep without refinement)",
            ));
        }
        if self.refine_keep && !data.is_finite() {
            return Err(Error::invalid(
                "optim.refine_keep",
                true,
                "needs a finite training set: data.train_scenes > 0 or data.dir",
            ));
        }
        if self.refine_median && self.refine_steps == 0 {
            return Err(Error::invalid(
                "optim.refine_median",
                true,
                "needs optim.refine_steps > 0 (it filters refined maps)",
            ));
        }
        if self.regress_steps > 0 && !self.refine_keep {
            return Err(Error::invalid(
                "optim.regress_steps",
                self.regress_steps,
                "needs optim.refine_keep = true (the steps regress on kept refined targets)",
            ));
        }
        if self.regress_steps > self.critic_steps {
            return Err(Error::invalid(
                "optim.regress_steps",
                self.regress_steps,
                format!(
                    "must be at most optim.critic_steps = {} (one step per critic batch)",
                    self.critic_steps
                ),
            ));
        }
        if self.regress_mirror && self.regress_steps < 2 {
            return Err(Error::invalid(
                "optim.regress_mirror",
                true,
                format!(
                    "needs optim.regress_steps >= 2 (it mirrors every second regression step; \
                     regress_steps is {})",
                    self.regress_steps
                ),
            ));
        }
        Ok(())
    }
}

impl Default for OptimSection {
    fn default() -> Self {
        Self {
            batch: 6,
            lr: 2e-4,
            lr_decay_steps: 0,
            lr_final: 0.0,
            beta1: 0.0,
            beta2: 0.999,
            epsilon: 1e-8,
            critic_steps: 5,
            gp_weight: 10.0,
            adv_weight: 1.0,
            recon_x_weight: 1.0,
            recon_z_weight: 1.0,
            planarity_weight: 0.0,
            planarity_scale: 0.0,
            recon_levels: 1,
            refine_steps: 0,
            refine_lr: 0.003,
            refine_weight: 100.0,
            refine_keep: false,
            refine_median: false,
            regress_steps: 0,
            regress_mirror: false,
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::testutil::preset;

    #[test]
    fn kept_refinement_options_need_what_they_build_on() {
        let keep = [
            "data.train_scenes=10",
            "optim.refine_steps=5",
            "optim.refine_keep=true",
        ];
        let cases: [(&[&str], &str); 6] = [
            (
                &["optim.refine_keep=true"],
                "optim.refine_keep = true: needs optim.refine_steps > 0 (there is nothing to keep \
                 without refinement)",
            ),
            (
                &["optim.refine_keep=true", "optim.refine_steps=5"],
                "optim.refine_keep = true: needs a finite training set: data.train_scenes > 0 or \
                 data.dir",
            ),
            (
                &["optim.refine_median=true"],
                "optim.refine_median = true: needs optim.refine_steps > 0 (it filters refined \
                 maps)",
            ),
            (
                &["optim.regress_steps=2"],
                "optim.regress_steps = 2: needs optim.refine_keep = true (the steps regress on \
                 kept refined targets)",
            ),
            (
                &[keep[0], keep[1], keep[2], "optim.regress_steps=6"],
                "optim.regress_steps = 6: must be at most optim.critic_steps = 5 (one step per \
                 critic batch)",
            ),
            (
                &[
                    keep[0],
                    keep[1],
                    keep[2],
                    "optim.regress_steps=1",
                    "optim.regress_mirror=true",
                ],
                "optim.regress_mirror = true: needs optim.regress_steps >= 2 (it mirrors every \
                 second regression step; regress_steps is 1)",
            ),
        ];
        for (overrides, expected) in cases {
            let msg = preset(overrides).unwrap_err().to_string();
            assert_eq!(msg, expected, "{overrides:?}");
        }
        for overrides in [
            [
                "optim.refine_keep=true",
                "optim.refine_steps=5",
                "data.train_scenes=60",
            ],
            [
                "optim.refine_keep=true",
                "optim.refine_steps=5",
                "data.dir=/d",
            ],
        ] {
            let p = preset(&overrides).unwrap();
            assert!(p.optim.refine_keep, "{overrides:?}");
        }
    }

    #[test]
    fn learning_rate_follows_a_half_cosine_then_stays_at_its_final_value() {
        let p = preset(&["optim.lr_decay_steps=100", "optim.lr_final=5e-5"]).unwrap();
        let o = &p.optim;
        assert_eq!(o.lr_at(0), 2e-4);
        assert!((o.lr_at(50) - 1.25e-4).abs() < 1e-12);
        assert!((o.lr_at(25) - (5e-5 + 1.5e-4 * (1.0 + 0.5f64.sqrt()) / 2.0)).abs() < 1e-12);
        assert!((1..=100).all(|t| o.lr_at(t) < o.lr_at(t - 1)));
        assert_eq!(o.lr_at(100), 5e-5);
        assert_eq!(o.lr_at(10_000), 5e-5);
        let constant = preset(&[]).unwrap();
        assert!(
            [0, 99, 10_000]
                .iter()
                .all(|&t| constant.optim.lr_at(t) == 2e-4)
        );
    }

    #[test]
    fn out_of_range_values_name_key_and_value() {
        let cases = [
            ("optim.beta2=1.5", "optim.beta2 = 1.5: must be in [0, 1)"),
            (
                "optim.batch=1",
                "optim.batch = 1: must be at least 2 (batch normalization)",
            ),
            ("optim.lr=-1", "optim.lr = -1: must be a positive number"),
            (
                "optim.lr_final=1e-3",
                "optim.lr_final = 0.001: must be in [0, optim.lr] = [0, 0.0002]",
            ),
            (
                "optim.recon_levels=6",
                "optim.recon_levels = 6: must be in 1..=5 (64² images, at least 4² pixels at the \
                 coarsest level)",
            ),
            (
                "optim.planarity_weight=-1",
                "optim.planarity_weight = -1: must be a finite number ≥ 0",
            ),
            (
                "optim.planarity_scale=-0.5",
                "optim.planarity_scale = -0.5: must be a finite number ≥ 0",
            ),
            (
                "optim.refine_lr=0",
                "optim.refine_lr = 0: must be a positive number",
            ),
            (
                "optim.refine_weight=-3",
                "optim.refine_weight = -3: must be a finite number ≥ 0",
            ),
        ];
        for (arg, expected) in cases {
            assert_eq!(preset(&[arg]).unwrap_err().to_string(), expected);
        }
    }
}
