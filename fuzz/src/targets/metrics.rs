//! A run's `metrics.jsonl`, as `train --resume` and the evaluation read it.

use std::path::Path;

use pix2scene_train::metrics::{MetricsRecord, parse_records};

use super::JSON_TOKENS;
use crate::target::{AllocBound, Target};

/// Bytes → `parse_records` (every complete line a metrics record, an unterminated last line
/// dropped).
pub const METRICS: Target = Target {
    name: "metrics",
    what: "a run's metrics.jsonl",
    seeds,
    dictionary: JSON_TOKENS,
    run,
    // serde_json's values and the records.
    bound: AllocBound {
        per_input_byte: 32,
        fixed: 64 << 10,
    },
};

fn run(data: &[u8]) -> Result<(), String> {
    parse_records::<MetricsRecord>(Path::new("run/metrics.jsonl"), data)
        .map(drop)
        .map_err(|e| e.to_string())
}

fn seeds() -> Vec<Vec<u8>> {
    let line = |step: u64, eval: bool| {
        let held_out = if eval {
            ",\"held_out_mse_depth\":0.031,\"held_out_mse_depth_scaled\":0.02,\
             \"held_out_depth_ratio\":1.07"
        } else {
            ""
        };
        format!(
            "{{\"step\":{step},\"critic\":-0.5,\"wasserstein\":0.7,\"gradient_penalty\":0.01,\
             \"generator\":1.2,\"adversarial\":-0.3,\"recon_x\":0.05,\"recon_z\":0.9,\
             \"planarity\":0.001,\"refine\":0.0,\"regress\":0.0{held_out},\"iters_per_s\":2.5,\
             \"elapsed_s\":{}.5}}\n",
            step * 2
        )
    };
    vec![
        (1..=5)
            .map(|s| line(s, s == 5))
            .collect::<String>()
            .into_bytes(),
        format!("{}{}{{\"step\":3,\"cri", line(1, false), line(2, true)).into_bytes(),
    ]
}
