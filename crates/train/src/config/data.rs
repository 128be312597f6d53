//! `[data]`: where the training scenes come from and how they are lit.

use pix2scene_scene::MAX_LIGHTS;
use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};

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
    /// tracer's true ones. Works with on-the-fly scenes and datasets. Default
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

impl DataSection {
    /// Checks the section's values and the options that need each other.
    ///
    /// # Errors
    /// [`Error::InvalidValue`] naming the first bad key and its value.
    pub fn validate(&self) -> Result<()> {
        if self.dir.is_empty() && self.preset.is_empty() {
            return Err(Error::invalid(
                "data.preset",
                "\"\"",
                "give a generator preset or data.dir",
            ));
        }
        for (key, value) in [
            ("data.held_out", self.held_out),
            ("data.workers", self.workers),
            ("data.prefetch", self.prefetch),
        ] {
            if value == 0 {
                return Err(Error::invalid(key, value, "must be at least 1"));
            }
        }
        let [lights_min, lights_max] = self.light_count;
        if !(1 <= lights_min && lights_min <= lights_max && lights_max <= MAX_LIGHTS) {
            return Err(Error::invalid(
                "data.light_count",
                format!("[{lights_min}, {lights_max}]"),
                format!("must be [min, max] with 1 ≤ min ≤ max ≤ {MAX_LIGHTS}"),
            ));
        }
        if self.channel_light_colors && self.light_count != [MAX_LIGHTS; 2] {
            return Err(Error::invalid(
                "data.channel_light_colors",
                true,
                format!(
                    "needs data.light_count = [{MAX_LIGHTS}, {MAX_LIGHTS}] (one light per colour \
                     channel)"
                ),
            ));
        }
        if self.channel_light_colors && self.random_light_colors {
            return Err(Error::invalid(
                "data.channel_light_colors",
                true,
                "excludes data.random_light_colors",
            ));
        }
        let default = Self::default();
        if !self.dir.is_empty()
            && (self.light_count != default.light_count
                || self.random_light_colors != default.random_light_colors
                || self.channel_light_colors != default.channel_light_colors)
        {
            return Err(Error::invalid(
                "data.dir",
                &self.dir,
                "a dataset keeps the lights it was generated with: data.light_count, \
                 data.random_light_colors and data.channel_light_colors apply to on-the-fly \
                 scenes only",
            ));
        }
        if !self.dir.is_empty() && self.train_scenes > 0 {
            return Err(Error::invalid(
                "data.train_scenes",
                self.train_scenes,
                "a dataset directory is a finite training set already: leave it at 0 with \
                 data.dir",
            ));
        }
        if self.relight && (self.train_scenes == 0 || !self.dir.is_empty()) {
            return Err(Error::invalid(
                "data.relight",
                true,
                "needs a finite training set from the generator: data.train_scenes > 0 and no \
                 data.dir (a dataset keeps the lights it was generated with)",
            ));
        }
        Ok(())
    }

    /// Whether the training set is finite: a dataset directory, or `train_scenes > 0`.
    pub fn is_finite(&self) -> bool {
        !self.dir.is_empty() || self.train_scenes > 0
    }
}

#[cfg(test)]
mod tests {
    use crate::testutil::preset;

    #[test]
    fn light_options_are_rejected_with_a_dataset() {
        let msg = preset(&["data.dir=/d", "data.random_light_colors=true"])
            .unwrap_err()
            .to_string();
        assert_eq!(
            msg,
            "data.dir = /d: a dataset keeps the lights it was generated with: data.light_count, \
             data.random_light_colors and data.channel_light_colors apply to on-the-fly scenes \
             only"
        );
        let msg = preset(&["data.channel_light_colors=true"])
            .unwrap_err()
            .to_string();
        assert_eq!(
            msg,
            "data.channel_light_colors = true: needs data.light_count = [3, 3] (one light per \
             colour channel)"
        );
        let msg = preset(&[
            "data.channel_light_colors=true",
            "data.light_count=[3, 3]",
            "data.random_light_colors=true",
        ])
        .unwrap_err()
        .to_string();
        assert_eq!(
            msg,
            "data.channel_light_colors = true: excludes data.random_light_colors"
        );
        assert!(preset(&["data.channel_light_colors=true", "data.light_count=[3, 3]"]).is_ok());
        assert!(preset(&["data.dir=/d"]).is_ok());
    }

    #[test]
    fn finite_training_sets_are_checked_against_the_data_source() {
        let relight = "data.relight = true: needs a finite training set from the generator: \
                       data.train_scenes > 0 and no data.dir (a dataset keeps the lights it was \
                       generated with)";
        let cases: [(&[&str], &str); 3] = [
            (&["data.relight=true"], relight),
            (&["data.relight=true", "data.dir=/d"], relight),
            (
                &["data.dir=/d", "data.train_scenes=100"],
                "data.train_scenes = 100: a dataset directory is a finite training set already: \
                 leave it at 0 with data.dir",
            ),
        ];
        for (overrides, expected) in cases {
            let msg = preset(overrides).unwrap_err().to_string();
            assert_eq!(msg, expected, "{overrides:?}");
        }
        let p = preset(&["data.relight=true", "data.train_scenes=60"]).unwrap();
        assert!(p.data.relight && p.data.is_finite());
        assert!(preset(&["data.dir=/d"]).unwrap().data.is_finite());
        assert!(!preset(&[]).unwrap().data.is_finite());
    }

    #[test]
    fn out_of_range_values_name_key_and_value() {
        let cases = [
            (
                "data.light_count=[2, 1]",
                "data.light_count = [2, 1]: must be [min, max] with 1 ≤ min ≤ max ≤ 3",
            ),
            (
                "data.light_count=[0, 3]",
                "data.light_count = [0, 3]: must be [min, max] with 1 ≤ min ≤ max ≤ 3",
            ),
            ("data.workers=0", "data.workers = 0: must be at least 1"),
        ];
        for (arg, expected) in cases {
            assert_eq!(preset(&[arg]).unwrap_err().to_string(), expected);
        }
    }
}
