//! Loss bookkeeping and the run's `metrics.jsonl`: one JSON object per logged step.

use std::fs::{File, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};

use pix2scene_scene::atomic_file::write_atomic;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};

/// The loss terms of one iteration (all critic steps and the encoder/decoder step).
///
/// Critic terms are means over the iteration's critic steps.
#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Losses {
    /// Critic loss `D(fake) − D(real) + λ·GP` (minimized by the critic).
    pub critic: f32,
    /// Wasserstein estimate `D(x, E(x)) − D(rend(G(z)), z)`, critic side.
    pub wasserstein: f32,
    /// Gradient penalty `E[(‖∇D(x̂, ẑ)‖ − 1)²]` on the joint input (unweighted).
    pub gradient_penalty: f32,
    /// Encoder/decoder loss: the weighted sum of the five terms below (`regress` has steps of
    /// its own).
    pub generator: f32,
    /// Adversarial (ALI) term `D(x, E(x)) − D(rend(G(z)), z)`, encoder/decoder side.
    pub adversarial: f32,
    /// Image reconstruction `mean (x − rend(G(E(x))))²` (paper Eq. 4, first term).
    pub recon_x: f32,
    /// Latent reconstruction `mean (z − E(rend(G(z))))²` (paper Eq. 4, second term).
    pub recon_z: f32,
    /// Planarity prior on the generated depth maps, mean of the reconstructions' and the
    /// samples' (see [`PlanarityPrior`](crate::planarity::PlanarityPrior)).
    pub planarity: f32,
    /// Regression of the reconstruction on its renderer-refined depth, `mean (ln G(E(x)) −
    /// ln refined)²` (see [`refine`](crate::refine)); 0 when `optim.refine_steps = 0`.
    #[serde(default)]
    pub refine: f32,
    /// The same regression in the extra steps on kept targets (`optim.regress_steps`), mean
    /// over those steps; 0 without them.
    #[serde(default)]
    pub regress: f32,
}

impl Losses {
    /// Each term with its name as in `metrics.jsonl`.
    pub fn named(&self) -> [(&'static str, f32); 10] {
        [
            ("critic", self.critic),
            ("wasserstein", self.wasserstein),
            ("gradient_penalty", self.gradient_penalty),
            ("generator", self.generator),
            ("adversarial", self.adversarial),
            ("recon_x", self.recon_x),
            ("recon_z", self.recon_z),
            ("planarity", self.planarity),
            ("refine", self.refine),
            ("regress", self.regress),
        ]
    }

    /// The first term that is NaN or infinite, with its value.
    pub fn first_non_finite(&self) -> Option<(&'static str, f32)> {
        self.named().into_iter().find(|(_, v)| !v.is_finite())
    }

    fn add(&mut self, other: &Losses, w: f32) {
        self.critic += w * other.critic;
        self.wasserstein += w * other.wasserstein;
        self.gradient_penalty += w * other.gradient_penalty;
        self.generator += w * other.generator;
        self.adversarial += w * other.adversarial;
        self.recon_x += w * other.recon_x;
        self.recon_z += w * other.recon_z;
        self.planarity += w * other.planarity;
        self.refine += w * other.refine;
        self.regress += w * other.regress;
    }
}

/// One line of `metrics.jsonl`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct MetricsRecord {
    /// Iterations completed.
    pub step: u64,
    /// Loss terms averaged over the iterations since the previous line.
    #[serde(flatten)]
    pub losses: Losses,
    /// Held-out depth MSE (masked, scene units²), on the lines of evaluation steps.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub held_out_mse_depth: Option<f32>,
    /// Held-out depth MSE with each image's best scale (shape error), on the same lines.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub held_out_mse_depth_scaled: Option<f32>,
    /// Held-out mean predicted over mean true depth (1 = right distance), on the same lines.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub held_out_depth_ratio: Option<f32>,
    /// Training throughput since the previous line, iterations per second.
    pub iters_per_s: f32,
    /// Wall-clock seconds since this process started training.
    pub elapsed_s: f32,
}

/// Averages losses over the iterations between two log lines. Checkpoints store it, so a
/// resumed run logs the same averages as one that never stopped.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct LossAverager {
    /// Sum of the losses since the last log line.
    pub sum: Losses,
    /// Number of iterations summed.
    pub count: u32,
}

impl LossAverager {
    /// Adds one iteration's losses.
    pub fn push(&mut self, losses: &Losses) {
        self.sum.add(losses, 1.0);
        self.count += 1;
    }

    /// The mean since the last call, and resets.
    pub fn take(&mut self) -> Losses {
        let mut mean = Losses::default();
        if self.count > 0 {
            mean.add(&self.sum, 1.0 / self.count as f32);
        }
        *self = Self::default();
        mean
    }
}

/// The field every `metrics.jsonl` line has, whatever else it holds.
#[derive(Deserialize)]
struct StepOnly {
    step: u64,
}

/// Appends records to a run's `metrics.jsonl`, flushing each line. Every record is a JSON
/// object with a `step` field.
pub struct MetricsLog {
    path: PathBuf,
    file: File,
}

impl MetricsLog {
    /// Opens `path` for appending, first dropping every line with `step > keep_through` (lines a
    /// resumed run will write again) and an unterminated last line (a write the killed run did
    /// not finish, always after its newest checkpoint). `keep_through = 0` starts an empty file.
    ///
    /// # Errors
    /// [`Error::Io`] naming the file, or [`Error::Malformed`] naming the file and line of a
    /// line that is not a metrics record.
    pub fn open(path: &Path, keep_through: u64) -> Result<Self> {
        let mut kept = String::new();
        if keep_through > 0 && path.exists() {
            let text = std::fs::read(path).map_err(Error::io(path))?;
            for (text, record) in parse_records::<StepOnly>(path, &text)? {
                if record.step <= keep_through {
                    kept.push_str(text);
                    kept.push('\n');
                }
            }
        }
        write_atomic(path, kept.as_bytes())?;
        let file = OpenOptions::new()
            .append(true)
            .open(path)
            .map_err(Error::io(path))?;
        Ok(Self {
            path: path.to_path_buf(),
            file,
        })
    }

    /// Appends one record (a [`MetricsRecord`], or a 3D-IQTT run's record) as a JSON line.
    ///
    /// # Errors
    /// [`Error::Io`] naming the file.
    pub fn write<R: Serialize>(&mut self, record: &R) -> Result<()> {
        let mut line = serde_json::to_string(record).expect("metrics serialize");
        line.push('\n');
        self.file
            .write_all(line.as_bytes())
            .map_err(Error::io(&self.path))?;
        self.file.flush().map_err(Error::io(&self.path))
    }
}

/// Reads every record of a `metrics.jsonl` (an unterminated last line, a write cut short, is
/// left out).
///
/// # Errors
/// [`Error::Io`] naming the file, or [`Error::Malformed`] naming the file and line.
pub fn read_metrics(path: &Path) -> Result<Vec<MetricsRecord>> {
    let bytes = std::fs::read(path).map_err(Error::io(path))?;
    Ok(parse_records(path, &bytes)?
        .into_iter()
        .map(|(_, record)| record)
        .collect())
}

/// The records of a `metrics.jsonl`'s bytes (`path` only names it in errors), each with its
/// line's text; blank lines and an unterminated last line are skipped. `R` is the record type:
/// a [`MetricsRecord`] for a training run's file.
///
/// # Errors
/// [`Error::Malformed`] naming the file and line of text that is not UTF-8 or not a record.
pub fn parse_records<'a, R: DeserializeOwned>(
    path: &Path,
    bytes: &'a [u8],
) -> Result<Vec<(&'a str, R)>> {
    let mut out = Vec::new();
    for (i, raw) in bytes.split_inclusive(|&b| b == b'\n').enumerate() {
        let Some(raw) = raw.strip_suffix(b"\n") else {
            break; // the last line, unterminated
        };
        let bad = |message: String| Error::Malformed {
            path: path.to_path_buf(),
            line: i + 1,
            message,
        };
        let text = std::str::from_utf8(raw).map_err(|_| bad("not UTF-8 text".into()))?;
        if text.trim().is_empty() {
            continue;
        }
        let record = serde_json::from_str(text)
            .map_err(|e| bad(pix2scene_scene::one_line(&e.to_string())))?;
        out.push((text, record));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(step: u64) -> MetricsRecord {
        MetricsRecord {
            step,
            losses: Losses {
                recon_x: step as f32,
                ..Losses::default()
            },
            held_out_mse_depth: step.is_multiple_of(2).then_some(0.5),
            held_out_mse_depth_scaled: step.is_multiple_of(2).then_some(0.25),
            held_out_depth_ratio: step.is_multiple_of(2).then_some(1.1),
            iters_per_s: 1.0,
            elapsed_s: 2.0,
        }
    }

    #[test]
    fn reopening_drops_lines_after_the_checkpoint() {
        let dir = std::env::temp_dir().join(format!("p2s-metrics-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("metrics.jsonl");
        let mut log = MetricsLog::open(&path, 0).unwrap();
        for s in 1..=5 {
            log.write(&record(s)).unwrap();
        }
        drop(log);
        let mut log = MetricsLog::open(&path, 3).unwrap();
        log.write(&record(4)).unwrap();
        let steps: Vec<u64> = read_metrics(&path)
            .unwrap()
            .iter()
            .map(|r| r.step)
            .collect();
        assert_eq!(steps, [1, 2, 3, 4]);
        assert_eq!(read_metrics(&path).unwrap()[1], record(2));
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn lines_are_flat_json_objects() {
        let line = serde_json::to_string(&record(3)).unwrap();
        assert!(line.starts_with("{\"step\":3,\"critic\":0.0,"), "{line}");
        assert!(!line.contains("held_out"));
        let even = serde_json::to_string(&record(4)).unwrap();
        assert!(
            even.contains("\"held_out_mse_depth\":0.5,\"held_out_mse_depth_scaled\":0.25,")
                && even.contains("\"held_out_depth_ratio\":1.1"),
            "{even}"
        );
        let avg = {
            let mut a = LossAverager::default();
            a.push(&Losses {
                recon_z: 1.0,
                ..Losses::default()
            });
            a.push(&Losses {
                recon_z: 3.0,
                ..Losses::default()
            });
            a.take()
        };
        assert_eq!(avg.recon_z, 2.0);
    }

    #[test]
    fn first_non_finite_names_the_term() {
        let l = Losses {
            recon_z: f32::NAN,
            gradient_penalty: f32::INFINITY,
            ..Losses::default()
        };
        assert_eq!(
            l.first_non_finite().map(|(n, _)| n),
            Some("gradient_penalty")
        );
    }
}
