//! What a 3D-IQTT run logs: the loss terms of an iteration, their average between log lines,
//! and one line of `metrics.jsonl`.

use pix2scene_scene::Accuracy;
use serde::{Deserialize, Serialize};

use crate::metrics::{LossAverager, Losses};

/// The loss terms of one 3D-IQTT iteration.
#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct IqttLosses {
    /// Pix2Scene's ALI and Eq. 4 terms (all 0 for the baselines).
    #[serde(flatten)]
    pub ali: Losses,
    /// The MINE estimate of `I(z_scene; z_view)` on the iteration's codes, nats (Pix2Scene).
    pub mine: f32,
    /// The supervised loss on labelled questions (Pix2Scene: Eq. 5 or the contrastive loss;
    /// CNN: cross-entropy; Siamese: Eq. 7), on iterations that have a labelled batch.
    pub question: f32,
    /// The camera-roll term (`iqtt.roll_weight`; Pix2Scene), 0 when off.
    #[serde(default)]
    pub roll: f32,
    /// The pseudo-label term (`iqtt.pseudo_weight`; Pix2Scene), 0 when off or when no
    /// question was answered confidently.
    #[serde(default)]
    pub pseudo: f32,
    /// The fraction of the unlabelled batch answered confidently enough to be pseudo-labelled.
    #[serde(default)]
    pub pseudo_kept: f32,
    /// Whether this iteration had a labelled batch.
    #[serde(skip)]
    pub supervised: bool,
}

/// Averages [`IqttLosses`] between two log lines: the supervised loss over the iterations
/// that had a labelled batch, the rest over all. Checkpoints store it, so a resumed run logs
/// what an uninterrupted one does.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct IqttAverager {
    /// The ALI terms.
    pub ali: LossAverager,
    /// Sum of the MINE estimates.
    pub mine: f32,
    /// Sum of the supervised losses.
    pub question: f32,
    /// Sum of the camera-roll terms.
    #[serde(default)]
    pub roll: f32,
    /// Sum of the pseudo-label terms.
    #[serde(default)]
    pub pseudo: f32,
    /// Sum of the fractions pseudo-labelled.
    #[serde(default)]
    pub pseudo_kept: f32,
    /// Iterations summed.
    pub count: u32,
    /// Iterations with a labelled batch summed.
    pub supervised: u32,
}

impl IqttAverager {
    /// Adds one iteration's losses.
    pub fn push(&mut self, losses: &IqttLosses) {
        self.ali.push(&losses.ali);
        self.mine += losses.mine;
        self.roll += losses.roll;
        self.pseudo += losses.pseudo;
        self.pseudo_kept += losses.pseudo_kept;
        self.count += 1;
        if losses.supervised {
            self.question += losses.question;
            self.supervised += 1;
        }
    }

    /// The means since the last call, and resets.
    pub fn take(&mut self) -> IqttLosses {
        let count = self.count.max(1) as f32;
        let out = IqttLosses {
            ali: self.ali.take(),
            mine: self.mine / count,
            question: self.question / self.supervised.max(1) as f32,
            roll: self.roll / count,
            pseudo: self.pseudo / count,
            pseudo_kept: self.pseudo_kept / count,
            supervised: self.supervised > 0,
        };
        *self = Self::default();
        out
    }
}

/// One line of a 3D-IQTT run's `metrics.jsonl`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct IqttRecord {
    /// Iterations completed.
    pub step: u64,
    /// Loss terms averaged since the previous line.
    #[serde(flatten)]
    pub losses: IqttLosses,
    /// Accuracy on the validation questions, on the lines of evaluation steps.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub validation: Option<Accuracy>,
    /// Training throughput since the previous line, iterations per second.
    pub iters_per_s: f32,
    /// Wall-clock seconds since this process started training.
    pub elapsed_s: f32,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_supervised_loss_averages_over_supervised_iterations_only() {
        let mut avg = IqttAverager::default();
        let plain = IqttLosses {
            mine: 1.0,
            ..IqttLosses::default()
        };
        let supervised = IqttLosses {
            mine: 3.0,
            question: -4.0,
            supervised: true,
            ..IqttLosses::default()
        };
        avg.push(&plain);
        avg.push(&supervised);
        let mean = avg.take();
        assert_eq!(
            (mean.mine, mean.question, mean.supervised),
            (2.0, -4.0, true)
        );
        assert_eq!(avg, IqttAverager::default());
        let line = serde_json::to_string(&IqttRecord {
            step: 2,
            losses: mean,
            validation: Some(Accuracy::new(1, 3)),
            iters_per_s: 1.0,
            elapsed_s: 2.0,
        })
        .unwrap();
        assert!(line.starts_with("{\"step\":2,\"critic\":0.0,"), "{line}");
        assert!(
            line.contains(
                "\"mine\":2.0,\"question\":-4.0,\"roll\":0.0,\"pseudo\":0.0,\"pseudo_kept\":0.0,\"validation\":{\"correct\":1,\"total\":3}"
            ),
            "{line}"
        );
    }
}
