//! One fuzz target per parser of outside input, and the seed files they start from.

mod camera_json;
mod checkpoint;
mod dataset;
mod generator_config;
mod iqtt_answers;
mod manifest;
mod metrics;
mod npy;
mod obj;
mod overrides;
mod preset;
mod reconstruct_png;
mod seed_data;
mod shade_params;
mod shard;

pub use camera_json::CAMERA_JSON;
pub use checkpoint::CHECKPOINT;
pub use dataset::DATASET;
pub use generator_config::GENERATOR_CONFIG;
pub use iqtt_answers::IQTT_ANSWERS;
pub use manifest::MANIFEST;
pub use metrics::METRICS;
pub use npy::NPY;
pub use obj::OBJ;
pub use overrides::OVERRIDES;
pub use preset::PRESET;
pub use reconstruct_png::RECONSTRUCT_PNG;
pub use shade_params::SHADE_PARAMS;
pub use shard::SHARD;

use crate::target::Target;

/// Every target, in the order `scripts/fuzz.sh` runs them.
pub const ALL: [&Target; 14] = [
    &OBJ,
    &NPY,
    &SHADE_PARAMS,
    &MANIFEST,
    &GENERATOR_CONFIG,
    &SHARD,
    &DATASET,
    &PRESET,
    &OVERRIDES,
    &CHECKPOINT,
    &METRICS,
    &RECONSTRUCT_PNG,
    &CAMERA_JSON,
    &IQTT_ANSWERS,
];

/// Tokens of JSON formats: structure, literals, and keys of the project's JSON files.
const JSON_TOKENS: &[&[u8]] = &[
    b"null",
    b"true",
    b"false",
    b"[]",
    b"{}",
    b"\"\"",
    b"[1e300,0,0]",
    b"-0.0",
    b"1e-300",
    b"\"\\u0000\"",
    b"\"\\ud800\"",
    b"\"format_version\"",
    b"\"shards\"",
    b"\"count\"",
    b"\"start\"",
    b"\"bytes\"",
    b"\"blake3\"",
    b"\"file\"",
    b"\"config\"",
    b"\"size_px\"",
    b"\"lights\"",
    b"\"pos_cam\"",
    b"\"color\"",
    b"\"camera\"",
    b"\"fov_y_deg\"",
    b"\"preset\"",
    b"\"answers\"",
    b"\"question\"",
    b"\"choice\"",
    b"\"first\"",
    b"\"hard\"",
    b"18446744073709551615",
];
