//! The generator configuration inside a manifest (`config`), from which the manifest's
//! dataset can be regenerated.

use pix2scene_scene::{GeneratorConfig, Preset, one_line};
use rand::SeedableRng;

use super::JSON_TOKENS;
use crate::target::{AllocBound, Target};

/// JSON → `GeneratorConfig` (errors made one-line as `Manifest::parse` does) → `validate`, then a camera and lights drawn from a valid config
/// (what every generated record starts with).
pub const GENERATOR_CONFIG: Target = Target {
    name: "generator-config",
    what: "generator configuration (a manifest's config)",
    seeds,
    dictionary: JSON_TOKENS,
    run,
    bound: AllocBound {
        per_input_byte: 32,
        fixed: 64 << 10,
    },
};

fn run(data: &[u8]) -> Result<(), String> {
    let text = std::str::from_utf8(data).map_err(|e| format!("not UTF-8: {e}"))?;
    let config: GeneratorConfig =
        serde_json::from_str(text).map_err(|e| one_line(&e.to_string()))?;
    config.validate().map_err(|e| e.to_string())?;
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(0);
    for _ in 0..4 {
        let camera = config.camera.sample(&mut rng);
        config.lights.sample(&mut rng, camera.at);
        config.lights.sample_camera_relative(&mut rng);
    }
    Ok(())
}

fn seeds() -> Vec<Vec<u8>> {
    [
        Preset::Boxes,
        Preset::ShapenetLike,
        Preset::MultiShapes,
        Preset::Iqtt,
    ]
    .into_iter()
    .map(|p| {
        let mut c = GeneratorConfig::new(p, 64, 3);
        c.lights.channel_colors = p == Preset::MultiShapes;
        if c.lights.channel_colors {
            (c.lights.count_min, c.lights.count_max) = (3, 3);
        }
        serde_json::to_vec_pretty(&c).expect("configs serialize")
    })
    .collect()
}
