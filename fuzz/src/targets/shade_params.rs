//! The renderer's parameter JSON (`pix2scene shade --params`).

use pix2scene_render::{LightParams, LightPosition, ShadeParams};

use super::JSON_TOKENS;
use crate::target::{AllocBound, Target};

/// `ShadeParams::from_json` on the text (`from_file` refuses invalid UTF-8 with its I/O error),
/// then the light arrays for batches of 1 and 2.
pub const SHADE_PARAMS: Target = Target {
    name: "shade-params",
    what: "renderer parameter JSON (shade --params)",
    seeds,
    dictionary: JSON_TOKENS,
    run,
    // serde's buffering of the untagged light position (a tree node per value), the vectors
    // parsed, and the light arrays of two samples.
    bound: AllocBound {
        per_input_byte: 64,
        fixed: 64 << 10,
    },
};

fn run(data: &[u8]) -> Result<(), String> {
    let text = std::str::from_utf8(data).map_err(|e| format!("not UTF-8: {e}"))?;
    let params = ShadeParams::from_json(text)?;
    params.light_arrays(1)?;
    params.light_arrays(2)?;
    Ok(())
}

fn seeds() -> Vec<Vec<u8>> {
    let default = ShadeParams::default();
    let mut per_sample = default.clone();
    per_sample.lights.push(LightParams {
        pos_cam: LightPosition::PerSample(vec![[0.1, 0.2, 0.3], [0.4, 0.5, 0.6]]),
        color: [1.0, 0.5, 0.25],
    });
    let mut seeds: Vec<Vec<u8>> = [default, per_sample]
        .iter()
        .map(|p| serde_json::to_vec_pretty(p).expect("parameters serialize"))
        .collect();
    seeds.push(br#"{"kl": 0.25, "lights": []}"#.to_vec());
    seeds
}
