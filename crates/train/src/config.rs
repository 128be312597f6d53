//! Training presets: TOML files in `configs/` parsed into plain serde structs, command-line
//! overrides (`--set key=value`), validation, and the resolved `config.toml` of a run.
//!
//! Every section is `#[serde(deny_unknown_fields)]`, so a typo in a preset is an error naming the
//! key instead of a run that silently trains with a default. Missing keys take the defaults
//! documented on each field (those of `configs/cpu-64.toml`).

use std::path::{Path, PathBuf};

use pix2scene_scene::MAX_LIGHTS;
use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};

/// A whole training preset: what `configs/*.toml` holds and what a run records as `config.toml`.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TrainPreset {
    /// Network sizes.
    #[serde(default)]
    pub model: ModelSection,
    /// Where the training images come from.
    #[serde(default)]
    pub data: DataSection,
    /// Objective and optimizer.
    #[serde(default)]
    pub optim: OptimSection,
    /// Length of the run, logging, checkpoints, device.
    #[serde(default)]
    pub run: RunSection,
}

/// `[model]`: sizes of the encoder, decoder and critic (paper Appendix A, scaled).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ModelSection {
    /// Image side in pixels, `4·2^L` with `L ≥ 1` (8, 16, 32, 64, 128, …). Default 64.
    pub resolution: usize,
    /// Base channel width `w`; layer `i` has `w·2^i` channels. The paper uses 85 at 128². Default 32.
    pub width: usize,
    /// Length of the latent code `z`. Default 128.
    pub z_dim: usize,
    /// Number of scene classes for the class-conditional decoder and critic; 0 = unconditional.
    pub num_classes: usize,
    /// Coarse depth heads of the decoder (see `pix2scene_model::DecoderConfig::coarse_heads`):
    /// 1×1 projections of the features at `R/2, R/4, …`, upsampled and less their image means,
    /// added to the depth before its softplus; at most `log2(resolution / 4)`. 0 = the decoder of DESIGN.md §6 and the
    /// PyTorch peer. Default 0.
    pub decoder_coarse_heads: usize,
    /// Factor on the decoder's last-layer output (see `pix2scene_model::DecoderConfig::fine_gain`);
    /// 1 = DESIGN.md §6. Default 1.
    pub decoder_fine_gain: f64,
}

impl Default for ModelSection {
    fn default() -> Self {
        Self {
            resolution: 64,
            width: 32,
            z_dim: 128,
            num_classes: 0,
            decoder_coarse_heads: 0,
            decoder_fine_gain: 1.0,
        }
    }
}

/// `[data]`: on-the-fly scenes from a generator preset, or a dataset directory.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct DataSection {
    /// Scene-generator preset (`boxes`, `boxes-rot`, `shapes`, …) used when `dir` is empty.
    /// Default `boxes`.
    pub preset: String,
    /// Dataset directory written by `pix2scene generate`; overrides `preset` when non-empty.
    pub dir: String,
    /// Seed of the scene generator (training and held-out scenes). Default 0.
    pub seed: u64,
    /// Number of held-out scenes for validation (fixed indices, disjoint from training). Default 48.
    pub held_out: usize,
    /// Background threads producing batches. Default 1.
    pub workers: usize,
    /// Batches queued ahead of the training loop per worker. Default 4.
    pub prefetch: usize,
    /// Appendix B ablation: the generator side renders with random lights (positions and colours)
    /// instead of the input's. Default false.
    pub random_lights: bool,
    /// Number of point lights per on-the-fly scene, `[min, max]` within `1..=3`. Default
    /// `[1, 3]` (the generator's).
    pub light_count: [usize; 2],
    /// Random light hues for on-the-fly scenes instead of white (paper Appendix B: "light
    /// colors chosen randomly"). Default false (the generator's white lights).
    pub random_light_colors: bool,
    /// One pure red, one green and one blue light per on-the-fly scene (colour photometric
    /// stereo, as the authors' released code lights its scenes with fixed coloured lights);
    /// needs `light_count = [3, 3]`. Default false.
    pub channel_light_colors: bool,
    /// Replaces each scene's ray-traced image, where its rays hit a surface, by the surfel
    /// renderer's image of its true depth under its own lights (clamped to [0, 1]), so that the
    /// training and held-out images are exactly what the model's renderer can reproduce: no
    /// mismatch at silhouettes, where the renderer's estimated normals differ from the ray
    /// tracer's true ones (DESIGN.md §3). Works with on-the-fly scenes and datasets. Default
    /// false.
    pub surfel_images: bool,
    /// Size of a finite training set drawn from the generator: scenes `0 .. train_scenes`,
    /// visited once per epoch in a seeded order (the held-out scenes stay disjoint); 0 draws a
    /// new scene for every position of the run (an endless stream). A dataset directory is
    /// finite already: there it must stay 0. Default 0.
    pub train_scenes: u64,
    /// With a finite training set from the generator (`train_scenes > 0`): each epoch after the
    /// first shows every training scene under lights drawn afresh (same room, object and
    /// camera, so the same depth; [`pix2scene_scene::Generator::relit`]), so that the encoder
    /// sees a new image of each geometry at every visit. Default false.
    pub relight: bool,
}

impl Default for DataSection {
    fn default() -> Self {
        Self {
            preset: "boxes".into(),
            dir: String::new(),
            seed: 0,
            held_out: 48,
            workers: 1,
            prefetch: 4,
            random_lights: false,
            light_count: [1, MAX_LIGHTS],
            random_light_colors: false,
            channel_light_colors: false,
            surfel_images: false,
            train_scenes: 0,
            relight: false,
        }
    }
}

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

/// `[run]`: run length, seeds, logging, checkpoints and device.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct RunSection {
    /// Total iterations (each = `critic_steps` critic steps + one encoder/decoder step). Default 20000.
    pub steps: u64,
    /// Seed of the weights, latent noise and penalty mixing. Default 0.
    pub seed: u64,
    /// Write a `metrics.jsonl` line every this many steps. Default 10.
    pub log_every: u64,
    /// Held-out depth MSE every this many steps (and at the end). Default 250.
    pub eval_every: u64,
    /// PNG sample grids every this many steps (and at the end); 0 = never. Default 1000.
    pub sample_every: u64,
    /// Checkpoint every this many steps (and at the end). Default 500.
    pub checkpoint_every: u64,
    /// Number of recent checkpoints kept (the best by held-out MSE is kept besides). Default 3.
    pub keep_last: usize,
    /// `cpu` (default), or `wgpu` / `cuda` when built with those features.
    pub device: String,
    /// Compute threads; 0 = one per core. Default 0.
    pub threads: usize,
}

impl Default for RunSection {
    fn default() -> Self {
        Self {
            steps: 20_000,
            seed: 0,
            log_every: 10,
            eval_every: 250,
            sample_every: 1000,
            checkpoint_every: 500,
            keep_last: 3,
            device: "cpu".into(),
            threads: 0,
        }
    }
}

impl TrainPreset {
    /// Reads a preset file and applies `overrides` (`key=value`, dotted keys such as
    /// `optim.lr=1e-4`), then validates the result.
    ///
    /// # Errors
    /// [`Error::Io`] when the file can't be read, [`Error::Preset`] for bad TOML or an unknown
    /// key (naming it and its line), [`Error::UnknownKey`] / [`Error::InvalidValue`] for a bad
    /// override or an out-of-range value.
    pub fn load(path: &Path, overrides: &[String]) -> Result<Self> {
        let text = std::fs::read_to_string(path).map_err(Error::io(path))?;
        Self::parse(&text, path, overrides)
    }

    /// Parses preset text (`path` only names it in errors); see [`TrainPreset::load`].
    ///
    /// # Errors
    /// As [`TrainPreset::load`], except for I/O.
    pub fn parse(text: &str, path: &Path, overrides: &[String]) -> Result<Self> {
        let preset_error = |err: toml::de::Error| {
            let line = err
                .span()
                .map(|span| text[..span.start.min(text.len())].matches('\n').count() + 1);
            Error::Preset {
                path: path.to_path_buf(),
                line,
                message: err.message().trim().to_string(),
            }
        };
        // Parse into the schema first so that unknown keys and wrong types in the file are
        // reported with their line.
        let preset: Self = toml::from_str(text).map_err(preset_error)?;
        let preset = preset.with_overrides(overrides)?;
        preset.validate()?;
        Ok(preset)
    }

    /// Returns a copy with `key=value` overrides applied (not validated; see
    /// [`TrainPreset::validate`]). Values are TOML (`1e-4`, `true`, `"boxes"`); a bare word that
    /// is not valid TOML is taken as a string (`data.preset=shapes`).
    ///
    /// # Errors
    /// [`Error::UnknownKey`] for a key outside the schema, [`Error::InvalidValue`] for a value of
    /// the wrong type or an argument without `=`.
    pub fn with_overrides(&self, overrides: &[String]) -> Result<Self> {
        if overrides.is_empty() {
            return Ok(self.clone());
        }
        // Every field of the schema serializes (none is optional), so the table holds every
        // key an override may name.
        let mut table = toml::Table::try_from(self).expect("a preset always serializes to TOML");
        for arg in overrides {
            let (key, raw) = arg.split_once('=').ok_or_else(|| Error::InvalidValue {
                key: arg.clone(),
                value: String::new(),
                message: "expected key=value".into(),
            })?;
            let (key, raw) = (key.trim(), raw.trim());
            let parts: Vec<&str> = key.split('.').collect();
            let Some((leaf, sections)) = parts.split_last() else {
                return Err(Error::UnknownKey { key: key.into() });
            };
            let mut node = &mut table;
            for section in sections {
                node = match node.get_mut(*section) {
                    Some(toml::Value::Table(t)) => t,
                    _ => return Err(Error::UnknownKey { key: key.into() }),
                };
            }
            match node.get_mut(*leaf) {
                Some(slot) if !slot.is_table() => *slot = parse_value(raw),
                _ => return Err(Error::UnknownKey { key: key.into() }),
            }
            let candidate: std::result::Result<Self, _> = table.clone().try_into();
            if let Err(err) = candidate {
                return Err(Error::InvalidValue {
                    key: key.into(),
                    value: raw.into(),
                    message: err.message().trim().to_string(),
                });
            }
        }
        Ok(table.try_into().expect("checked after each override"))
    }

    /// Checks every value's range, naming the key and value of the first bad one.
    ///
    /// # Errors
    /// [`Error::InvalidValue`].
    pub fn validate(&self) -> Result<()> {
        fn bad(key: &str, value: impl ToString, message: &str) -> Error {
            Error::InvalidValue {
                key: key.into(),
                value: value.to_string(),
                message: message.into(),
            }
        }
        let m = &self.model;
        let levels_ok = m.resolution >= 8
            && m.resolution.is_multiple_of(4)
            && (m.resolution / 4).is_power_of_two();
        if !levels_ok {
            return Err(bad(
                "model.resolution",
                m.resolution,
                "must be 4·2^L with L ≥ 1 (8, 16, 32, 64, 128, …)",
            ));
        }
        if m.width == 0 {
            return Err(bad("model.width", m.width, "must be at least 1"));
        }
        if m.z_dim == 0 {
            return Err(bad("model.z_dim", m.z_dim, "must be at least 1"));
        }
        if !(m.decoder_fine_gain.is_finite() && m.decoder_fine_gain > 0.0) {
            return Err(bad(
                "model.decoder_fine_gain",
                m.decoder_fine_gain,
                "must be a positive number",
            ));
        }
        let stages = (m.resolution / 4).trailing_zeros() as usize;
        if m.decoder_coarse_heads > stages {
            return Err(bad(
                "model.decoder_coarse_heads",
                m.decoder_coarse_heads,
                &format!("must be at most log2(resolution / 4) = {stages}"),
            ));
        }
        let d = &self.data;
        if d.dir.is_empty() && d.preset.is_empty() {
            return Err(bad(
                "data.preset",
                "\"\"",
                "give a generator preset or data.dir",
            ));
        }
        if d.held_out == 0 {
            return Err(bad("data.held_out", d.held_out, "must be at least 1"));
        }
        if d.workers == 0 {
            return Err(bad("data.workers", d.workers, "must be at least 1"));
        }
        if d.prefetch == 0 {
            return Err(bad("data.prefetch", d.prefetch, "must be at least 1"));
        }
        let [lights_min, lights_max] = d.light_count;
        if !(1 <= lights_min && lights_min <= lights_max && lights_max <= MAX_LIGHTS) {
            return Err(bad(
                "data.light_count",
                format!("[{lights_min}, {lights_max}]"),
                &format!("must be [min, max] with 1 ≤ min ≤ max ≤ {MAX_LIGHTS}"),
            ));
        }
        if d.channel_light_colors && d.light_count != [MAX_LIGHTS; 2] {
            return Err(bad(
                "data.channel_light_colors",
                true,
                &format!(
                    "needs data.light_count = [{MAX_LIGHTS}, {MAX_LIGHTS}] (one light per colour channel)"
                ),
            ));
        }
        if d.channel_light_colors && d.random_light_colors {
            return Err(bad(
                "data.channel_light_colors",
                true,
                "excludes data.random_light_colors",
            ));
        }
        let default = DataSection::default();
        if !d.dir.is_empty()
            && (d.light_count != default.light_count
                || d.random_light_colors != default.random_light_colors
                || d.channel_light_colors != default.channel_light_colors)
        {
            return Err(bad(
                "data.dir",
                &d.dir,
                "a dataset keeps the lights it was generated with: data.light_count, \
                 data.random_light_colors and data.channel_light_colors apply to on-the-fly \
                 scenes only",
            ));
        }
        if !d.dir.is_empty() && d.train_scenes > 0 {
            return Err(bad(
                "data.train_scenes",
                d.train_scenes,
                "a dataset directory is a finite training set already: leave it at 0 with data.dir",
            ));
        }
        if d.relight && (d.train_scenes == 0 || !d.dir.is_empty()) {
            return Err(bad(
                "data.relight",
                true,
                "needs a finite training set from the generator: data.train_scenes > 0 and no \
                 data.dir (a dataset keeps the lights it was generated with)",
            ));
        }
        let o = &self.optim;
        if o.refine_keep && o.refine_steps == 0 {
            return Err(bad(
                "optim.refine_keep",
                true,
                "needs optim.refine_steps > 0 (there is nothing to keep without refinement)",
            ));
        }
        if o.refine_keep && d.dir.is_empty() && d.train_scenes == 0 {
            return Err(bad(
                "optim.refine_keep",
                true,
                "needs a finite training set: data.train_scenes > 0 or data.dir",
            ));
        }
        if o.refine_median && o.refine_steps == 0 {
            return Err(bad(
                "optim.refine_median",
                true,
                "needs optim.refine_steps > 0 (it filters refined maps)",
            ));
        }
        if o.regress_steps > 0 && !o.refine_keep {
            return Err(bad(
                "optim.regress_steps",
                o.regress_steps,
                "needs optim.refine_keep = true (the steps regress on kept refined targets)",
            ));
        }
        if o.regress_steps > o.critic_steps {
            return Err(bad(
                "optim.regress_steps",
                o.regress_steps,
                &format!(
                    "must be at most optim.critic_steps = {} (one step per critic batch)",
                    o.critic_steps
                ),
            ));
        }
        if o.regress_mirror && o.regress_steps < 2 {
            return Err(bad(
                "optim.regress_mirror",
                true,
                &format!(
                    "needs optim.regress_steps >= 2 (it mirrors every second regression step; \
                     regress_steps is {})",
                    o.regress_steps
                ),
            ));
        }
        if o.batch < 2 {
            return Err(bad(
                "optim.batch",
                o.batch,
                "must be at least 2 (batch normalization)",
            ));
        }
        if !(o.lr.is_finite() && o.lr > 0.0) {
            return Err(bad("optim.lr", o.lr, "must be a positive number"));
        }
        if !(o.lr_final.is_finite() && (0.0..=o.lr).contains(&o.lr_final)) {
            return Err(bad(
                "optim.lr_final",
                o.lr_final,
                &format!("must be in [0, optim.lr] = [0, {}]", o.lr),
            ));
        }
        for (key, beta) in [("optim.beta1", o.beta1), ("optim.beta2", o.beta2)] {
            if !(0.0..1.0).contains(&beta) {
                return Err(bad(key, beta, "must be in [0, 1)"));
            }
        }
        if !(o.epsilon.is_finite() && o.epsilon > 0.0) {
            return Err(bad("optim.epsilon", o.epsilon, "must be a positive number"));
        }
        for (key, w) in [
            ("optim.gp_weight", o.gp_weight),
            ("optim.adv_weight", o.adv_weight),
            ("optim.recon_x_weight", o.recon_x_weight),
            ("optim.recon_z_weight", o.recon_z_weight),
            ("optim.planarity_weight", o.planarity_weight),
            ("optim.planarity_scale", o.planarity_scale),
            ("optim.refine_weight", o.refine_weight),
        ] {
            if !(w.is_finite() && w >= 0.0) {
                return Err(bad(key, w, "must be a finite number ≥ 0"));
            }
        }
        // model.resolution is 4·2^L (checked above): levels 1 ..= L + 1 keep ≥ 4² pixels.
        let max_levels = (m.resolution / 4).ilog2() as usize + 1;
        if !(1..=max_levels).contains(&o.recon_levels) {
            return Err(bad(
                "optim.recon_levels",
                o.recon_levels,
                &format!(
                    "must be in 1..={max_levels} ({}² images, at least 4² pixels at the coarsest \
                     level)",
                    m.resolution
                ),
            ));
        }
        if !(o.refine_lr.is_finite() && o.refine_lr > 0.0) {
            return Err(bad(
                "optim.refine_lr",
                o.refine_lr,
                "must be a positive number",
            ));
        }
        let r = &self.run;
        for (key, every) in [
            ("run.log_every", r.log_every),
            ("run.eval_every", r.eval_every),
            ("run.checkpoint_every", r.checkpoint_every),
        ] {
            if every == 0 {
                return Err(bad(key, every, "must be at least 1"));
            }
        }
        if r.keep_last == 0 {
            return Err(bad("run.keep_last", r.keep_last, "must be at least 1"));
        }
        crate::device::TrainDevice::parse(&r.device)?;
        Ok(())
    }

    /// The resolved preset as TOML, as written to a run's `config.toml`.
    pub fn to_toml(&self) -> String {
        toml::to_string_pretty(self).expect("a preset always serializes to TOML")
    }

    /// The dataset directory, when `data.dir` is set.
    pub fn data_dir(&self) -> Option<PathBuf> {
        (!self.data.dir.is_empty()).then(|| PathBuf::from(&self.data.dir))
    }
}

/// Parses an override value as TOML, falling back to a plain string for bare words.
fn parse_value(raw: &str) -> toml::Value {
    let doc = format!("v = {raw}");
    match toml::from_str::<toml::Table>(&doc) {
        Ok(mut table) => table.remove("v").expect("the key was just written"),
        Err(_) => toml::Value::String(raw.to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str, overrides: &[&str]) -> Result<TrainPreset> {
        let overrides: Vec<String> = overrides.iter().map(|s| s.to_string()).collect();
        TrainPreset::parse(text, Path::new("p.toml"), &overrides)
    }

    #[test]
    fn every_preset_in_configs_parses_and_validates() {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../configs");
        let mut names = Vec::new();
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            if path.extension().is_some_and(|e| e == "toml") {
                let preset = TrainPreset::load(&path, &[]).unwrap_or_else(|e| panic!("{e}"));
                // The resolved form reads back to the same preset.
                let again = TrainPreset::parse(&preset.to_toml(), &path, &[]).unwrap();
                assert_eq!(again, preset, "{}", path.display());
                names.push(path.file_name().unwrap().to_string_lossy().into_owned());
            }
        }
        names.sort();
        for expected in ["cpu-64.toml", "paper-128.toml", "tiny-32.toml"] {
            assert!(
                names.iter().any(|n| n == expected),
                "{expected} missing from {names:?}"
            );
        }
    }

    #[test]
    fn unknown_key_in_file_is_named_with_its_line() {
        let err = parse("[model]\nresolution = 32\n\n[optim]\nlrr = 0.1\n", &[]).unwrap_err();
        let msg = err.to_string();
        assert!(msg.starts_with("p.toml:5: unknown field `lrr`"), "{msg}");
    }

    #[test]
    fn unknown_section_is_rejected() {
        let msg = parse("[modle]\nwidth = 3\n", &[]).unwrap_err().to_string();
        assert!(msg.starts_with("p.toml:1: unknown field `modle`"), "{msg}");
    }

    #[test]
    fn wrong_type_in_file_is_named() {
        let msg = parse("[optim]\nbatch = \"six\"\n", &[])
            .unwrap_err()
            .to_string();
        assert!(
            msg.starts_with("p.toml:2: invalid type: string \"six\""),
            "{msg}"
        );
    }

    #[test]
    fn overrides_set_nested_keys() {
        let p = parse(
            "",
            &[
                "optim.lr=1e-3",
                "data.preset=shapes",
                "run.steps=7",
            ],
        )
        .unwrap();
        assert_eq!(p.optim.lr, 1e-3);
        assert_eq!(p.data.preset, "shapes");
        assert_eq!(p.run.steps, 7);
    }

    #[test]
    fn unknown_override_key_is_named() {
        let msg = parse("", &["optim.lrr=1"]).unwrap_err().to_string();
        assert_eq!(msg, "unknown config key `optim.lrr`");
        let msg = parse("", &["optim=1"]).unwrap_err().to_string();
        assert_eq!(msg, "unknown config key `optim`");
    }

    #[test]
    fn override_of_wrong_type_names_key_and_value() {
        let msg = parse("", &["optim.batch=abc"]).unwrap_err().to_string();
        assert!(
            msg.starts_with("optim.batch = abc: invalid type: string \"abc\""),
            "{msg}"
        );
    }

    #[test]
    fn kept_refinement_options_need_what_they_build_on() {
        let keep = [
            "data.train_scenes=10",
            "optim.refine_steps=5",
            "optim.refine_keep=true",
        ];
        let cases: [(&[&str], &str); 9] = [
            (
                &["data.relight=true"],
                "data.relight = true: needs a finite training set from the generator: \
                 data.train_scenes > 0 and no data.dir (a dataset keeps the lights it was \
                 generated with)",
            ),
            (
                &["data.relight=true", "data.dir=/d"],
                "data.relight = true: needs a finite training set from the generator: \
                 data.train_scenes > 0 and no data.dir (a dataset keeps the lights it was \
                 generated with)",
            ),
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
                &["data.dir=/d", "data.train_scenes=100"],
                "data.train_scenes = 100: a dataset directory is a finite training set already: \
                 leave it at 0 with data.dir",
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
            let msg = parse("", overrides).unwrap_err().to_string();
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
            let p = parse("", &overrides).unwrap();
            assert!(p.optim.refine_keep, "{overrides:?}");
        }
        let p = parse("", &["data.relight=true", "data.train_scenes=60"]).unwrap();
        assert!(p.data.relight);
    }

    #[test]
    fn light_options_are_rejected_with_a_dataset() {
        let msg = parse("", &["data.dir=/d", "data.random_light_colors=true"])
            .unwrap_err()
            .to_string();
        assert_eq!(
            msg,
            "data.dir = /d: a dataset keeps the lights it was generated with: data.light_count, \
             data.random_light_colors and data.channel_light_colors apply to on-the-fly scenes \
             only"
        );
        let msg = parse("", &["data.channel_light_colors=true"])
            .unwrap_err()
            .to_string();
        assert_eq!(
            msg,
            "data.channel_light_colors = true: needs data.light_count = [3, 3] (one light per \
             colour channel)"
        );
        let msg = parse(
            "",
            &[
                "data.channel_light_colors=true",
                "data.light_count=[3, 3]",
                "data.random_light_colors=true",
            ],
        )
        .unwrap_err()
        .to_string();
        assert_eq!(
            msg,
            "data.channel_light_colors = true: excludes data.random_light_colors"
        );
        assert!(
            parse(
                "",
                &["data.channel_light_colors=true", "data.light_count=[3, 3]"]
            )
            .is_ok()
        );
        assert!(parse("", &["data.dir=/d"]).is_ok());
    }

    #[test]
    fn learning_rate_follows_a_half_cosine_then_stays_at_its_final_value() {
        let p = parse("", &["optim.lr_decay_steps=100", "optim.lr_final=5e-5"]).unwrap();
        let o = &p.optim;
        assert_eq!(o.lr_at(0), 2e-4);
        assert!((o.lr_at(50) - 1.25e-4).abs() < 1e-12);
        assert!((o.lr_at(25) - (5e-5 + 1.5e-4 * (1.0 + 0.5f64.sqrt()) / 2.0)).abs() < 1e-12);
        assert!((1..=100).all(|t| o.lr_at(t) < o.lr_at(t - 1)));
        assert_eq!(o.lr_at(100), 5e-5);
        assert_eq!(o.lr_at(10_000), 5e-5);
        let constant = parse("", &[]).unwrap();
        assert!(
            [0, 99, 10_000]
                .iter()
                .all(|&t| constant.optim.lr_at(t) == 2e-4)
        );
    }

    #[test]
    fn out_of_range_values_name_key_and_value() {
        let cases = [
            (
                "model.resolution=48",
                "model.resolution = 48: must be 4·2^L with L ≥ 1 (8, 16, 32, 64, 128, …)",
            ),
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
                "model.decoder_fine_gain=0",
                "model.decoder_fine_gain = 0: must be a positive number",
            ),
            (
                "model.decoder_coarse_heads=5",
                "model.decoder_coarse_heads = 5: must be at most log2(resolution / 4) = 4",
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
            (
                "run.device=tpu",
                "run.device = tpu: unknown device (expected cpu, wgpu or cuda)",
            ),
            (
                "data.light_count=[2, 1]",
                "data.light_count = [2, 1]: must be [min, max] with 1 ≤ min ≤ max ≤ 3",
            ),
            (
                "data.light_count=[0, 3]",
                "data.light_count = [0, 3]: must be [min, max] with 1 ≤ min ≤ max ≤ 3",
            ),
        ];
        for (arg, expected) in cases {
            assert_eq!(parse("", &[arg]).unwrap_err().to_string(), expected);
        }
    }
}
