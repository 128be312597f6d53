//! Several Pix2Scene runs answering the same questions together (`iqtt eval --run A --run B
//! …`; not in the paper): each run's three scene-code distances of a question, divided by their
//! sum so that no run's code scale outweighs another's, are added over the runs, and the option
//! with the least total is the answer. Runs trained with other seeds, or at other image sizes,
//! make their errors on different questions; how much answering together gains measures how
//! much of a run's error is its own rather than the method's.

use std::path::{Path, PathBuf};

use pix2scene_model::option_distances;
use pix2scene_scene::Accuracy;

use super::config::{IqttPreset, IqttSection};
use super::method::Method;
use super::pix2scene::Pix2SceneLearner;
use super::question_batch::QuestionBatch;
use super::questions::QuestionSet;
use super::run::{Split, load_checkpoint, run_preset, tested_checkpoint};
use crate::batch::host_values;
use crate::device::TrainDevice;
use crate::error::{Error, Result};

/// One run of an ensemble: its preset, its questions (at its image size) and its tested
/// weights.
struct Member {
    preset: IqttPreset,
    questions: QuestionSet,
    learner: Pix2SceneLearner,
}

impl Member {
    /// The run in `dir` at its tested checkpoint ([`tested_checkpoint`]).
    fn load(dir: &Path, overrides: &[String]) -> Result<Self> {
        let preset = run_preset(dir, overrides)?;
        if preset.method() != Method::Pix2Scene {
            return Err(Error::Checkpoint {
                path: dir.to_path_buf(),
                message: format!(
                    "a {} run: an ensemble adds Pix2Scene runs' scene-code distances",
                    preset.iqtt.method
                ),
            });
        }
        let labels = preset.single_label_count()?;
        let device = TrainDevice::parse(&preset.run.device)?.autodiff_device();
        let questions = QuestionSet::open(&preset.iqtt, preset.model.resolution, labels)?;
        let mut learner = Pix2SceneLearner::new(&preset, questions.clone(), &device);
        load_checkpoint(&mut learner, &tested_checkpoint(dir)?)?;
        Ok(Self {
            preset,
            questions,
            learner,
        })
    }

    /// The squared scene-code distances of questions `ids`, `[ids, 3]` flattened, and their
    /// right answers.
    fn distances(&self, ids: &[u64]) -> Result<(Vec<f32>, Vec<u8>)> {
        let drawn = self.questions.draw(ids);
        let batch = QuestionBatch::new(&drawn, self.preset.model.resolution)?;
        let d = host_values(option_distances(self.learner.scene_codes(&batch)));
        Ok((d, batch.answers))
    }
}

/// Whether two runs' held-out questions are the same questions (their image sizes may differ).
fn same_questions(a: &IqttSection, b: &IqttSection) -> bool {
    (a.seed, a.hard, &a.dir, a.validation, a.test) == (b.seed, b.hard, &b.dir, b.validation, b.test)
}

/// The answer of each question (0, 1 or 2) from the squared distances `[questions, 3]`
/// (flattened) of every run: each run's distances of a question divided by their sum, added
/// over the runs, the least total (ties to the lowest option; a question whose three distances
/// are all 0 in a run adds nothing from that run).
///
/// # Panics
/// Without runs, or if the runs' lengths differ or are not a multiple of 3.
pub fn combine(distances: &[Vec<f32>]) -> Vec<u8> {
    let n = distances[0].len();
    assert!(n.is_multiple_of(3), "3 distances per question");
    assert!(distances.iter().all(|d| d.len() == n), "one length");
    (0..n / 3)
        .map(|q| {
            let mut total = [0.0f64; 3];
            for d in distances {
                let d = &d[3 * q..3 * q + 3];
                let sum: f64 = d.iter().map(|&v| f64::from(v)).sum();
                if sum > 0.0 {
                    for (t, &v) in total.iter_mut().zip(d) {
                        *t += f64::from(v) / sum;
                    }
                }
            }
            (0..3u8).fold(0, |best, k| {
                if total[k as usize] < total[best as usize] {
                    k
                } else {
                    best
                }
            })
        })
        .collect()
}

/// Evaluates the Pix2Scene runs `runs` together on their `split` questions (see the module
/// documentation), each at its tested checkpoint; `overrides` apply to every run's preset.
/// Returns each run's preset and the ensemble's accuracy.
///
/// # Errors
/// [`Error::Checkpoint`] naming a run that is not a Pix2Scene run or whose held-out questions
/// differ from the first run's (`iqtt.seed`, `iqtt.hard`, `iqtt.dir`, `iqtt.validation`,
/// `iqtt.test`); each run's loading errors as in [`super::evaluate_run`].
///
/// # Panics
/// Without runs.
pub fn evaluate_ensemble(
    runs: &[PathBuf],
    overrides: &[String],
    split: Split,
) -> Result<(Vec<IqttPreset>, Accuracy)> {
    let members = runs
        .iter()
        .map(|dir| Member::load(dir, overrides))
        .collect::<Result<Vec<_>>>()?;
    let first = &members[0];
    for (dir, m) in runs.iter().zip(&members).skip(1) {
        if !same_questions(&first.preset.iqtt, &m.preset.iqtt) {
            return Err(Error::Checkpoint {
                path: dir.clone(),
                message: format!(
                    "its held-out questions are not those of {} (iqtt.seed, iqtt.hard, iqtt.dir, \
                     iqtt.validation and iqtt.test must agree)",
                    runs[0].display()
                ),
            });
        }
    }
    let ids: Vec<u64> = match split {
        Split::Validation => first.questions.validation(),
        Split::Test => first.questions.test(),
    }
    .collect();
    let mut total = Accuracy::default();
    for chunk in ids.chunks(first.preset.iqtt.eval_batch) {
        let mut all = Vec::with_capacity(members.len());
        let mut right = Vec::new();
        for m in &members {
            let (d, answers) = m.distances(chunk)?;
            all.push(d);
            right = answers;
        }
        let correct = combine(&all)
            .iter()
            .zip(&right)
            .filter(|(a, b)| a == b)
            .count();
        total = total + Accuracy::new(correct as u64, chunk.len() as u64);
    }
    Ok((members.into_iter().map(|m| m.preset).collect(), total))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_run_answers_by_its_nearest_option() {
        let d = vec![vec![4.0, 1.0, 9.0, 0.5, 0.5, 2.0, 3.0, 2.0, 1.0]];
        assert_eq!(combine(&d), [1, 0, 2]);
    }

    #[test]
    fn each_run_counts_by_its_distances_relative_to_their_sum() {
        // Run 1 prefers option 0 (shares 0.1, 0.4, 0.5); run 2, whose codes are 100 times
        // larger, prefers option 1 (shares 0.3, 0.2, 0.5). Totals 0.4, 0.6, 1.0: option 0,
        // where the raw sums (301, 204, 505) would follow run 2 alone.
        let runs = vec![vec![1.0, 4.0, 5.0], vec![300.0, 200.0, 500.0]];
        assert_eq!(combine(&runs), [0]);
        let runs = vec![vec![3.0, 4.0, 3.0], vec![5.0, 7.0, 3.0]];
        // Shares 0.3, 0.4, 0.3 and 1/3, 7/15, 0.2: totals 0.633, 0.867, 0.5: option 2.
        assert_eq!(combine(&runs), [2]);
    }

    #[test]
    fn a_run_with_coinciding_codes_adds_nothing() {
        let runs = vec![vec![0.0, 0.0, 0.0], vec![2.0, 1.0, 3.0]];
        assert_eq!(combine(&runs), [1]);
    }
}
