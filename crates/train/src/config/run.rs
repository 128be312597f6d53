//! `[run]`: run length, seeds, logging, checkpoints and device.

use serde::{Deserialize, Serialize};

use crate::device::TrainDevice;
use crate::error::{Error, Result};

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

impl RunSection {
    /// Checks the section's values.
    ///
    /// # Errors
    /// [`Error::InvalidValue`] naming the first bad key and its value.
    pub fn validate(&self) -> Result<()> {
        for (key, every) in [
            ("run.log_every", self.log_every),
            ("run.eval_every", self.eval_every),
            ("run.checkpoint_every", self.checkpoint_every),
        ] {
            if every == 0 {
                return Err(Error::invalid(key, every, "must be at least 1"));
            }
        }
        if self.keep_last == 0 {
            return Err(Error::invalid(
                "run.keep_last",
                self.keep_last,
                "must be at least 1",
            ));
        }
        TrainDevice::parse(&self.device)?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use crate::testutil::preset;

    #[test]
    fn out_of_range_values_name_key_and_value() {
        let cases = [
            (
                "run.device=tpu",
                "run.device = tpu: unknown device (expected cpu, wgpu or cuda)",
            ),
            ("run.log_every=0", "run.log_every = 0: must be at least 1"),
            ("run.keep_last=0", "run.keep_last = 0: must be at least 1"),
        ];
        for (arg, expected) in cases {
            assert_eq!(preset(&[arg]).unwrap_err().to_string(), expected);
        }
    }
}
