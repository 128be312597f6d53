//! What the 3D-IQTT run loop trains: Pix2Scene or a baseline, behind one interface.

use std::path::Path;

use super::losses::IqttLosses;
use super::question_batch::QuestionBatch;
use crate::error::Result;

/// A model being trained for 3D-IQTT: it draws its own data for each iteration (a pure
/// function of the iteration's index), answers questions, and saves and restores its whole
/// state.
pub trait Learner {
    /// Number of iterations a run of this learner makes.
    fn steps(&self) -> u64;

    /// Iteration `step` (0-based).
    ///
    /// # Errors
    /// [`Error::NonFinite`](crate::Error::NonFinite) before the update when a loss is NaN or
    /// infinite; data errors.
    fn iteration(&mut self, step: u64) -> Result<IqttLosses>;

    /// The answer (0, 1 or 2) to each question, the networks in inference mode.
    fn answers(&self, batch: &QuestionBatch) -> Vec<u8>;

    /// Writes weights, optimizer states and any other state into checkpoint directory `dir`.
    ///
    /// # Errors
    /// I/O and checkpoint errors naming the file.
    fn save(&self, dir: &Path) -> Result<()>;

    /// The names of the files [`Learner::save`] writes, for the checkpoint's verification.
    fn files(&self) -> Vec<&'static str>;

    /// Reads what [`Learner::save`] wrote (verified by the caller).
    ///
    /// # Errors
    /// Checkpoint errors naming a missing or mismatched file.
    fn load(&mut self, dir: &Path) -> Result<()>;
}
