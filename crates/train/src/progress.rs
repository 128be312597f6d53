//! What a training run reports while it trains. The library draws nothing itself; the
//! `pix2scene` binary turns these reports into its progress bar (as ripgrep keeps terminal
//! concerns in its binary crate).

use crate::depth_error::DepthError;
use crate::metrics::Losses;

/// An observer of a training run. Every method has an empty default, so an observer implements
/// only what it shows; `()` is the observer that shows nothing.
///
/// The loop calls, in order: [`Progress::started`] once, then for each iteration
/// [`Progress::evaluated`] (on evaluation steps) and [`Progress::step_done`], and
/// [`Progress::finished`] once the run has ended normally or on
/// [`TrainOptions::stop`](crate::TrainOptions::stop) (not when it fails).
pub trait Progress: Send {
    /// The run starts at iteration `step` (0, or the resumed checkpoint's) of `total`.
    fn started(&mut self, step: u64, total: u64) {
        let _ = (step, total);
    }

    /// Iteration `step` (1-based) finished with these losses (critic terms averaged over its
    /// critic steps).
    fn step_done(&mut self, step: u64, losses: &Losses) {
        let _ = (step, losses);
    }

    /// The held-out depth error of the weights after `step` iterations.
    fn evaluated(&mut self, step: u64, depth: &DepthError) {
        let _ = (step, depth);
    }

    /// Something the run worked around and the user should know about, in one line (e.g. a
    /// damaged checkpoint skipped when resuming).
    fn warning(&mut self, message: &str) {
        let _ = message;
    }

    /// The run ended after `step` iterations: completed, or `interrupted` (stopped on request,
    /// after saving).
    fn finished(&mut self, step: u64, interrupted: bool) {
        let _ = (step, interrupted);
    }
}

/// Reports nothing.
impl Progress for () {}
