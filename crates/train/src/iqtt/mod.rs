//! 3D-IQTT (paper section 4.4, Algorithm 1, Appendix D): Pix2Scene trained semi-supervised on
//! mental-rotation questions, the paper's CNN and Siamese CNN baselines, their runs and paper
//! Table 3.
//!
//! - [`config`]: `configs/iqtt-*.toml` presets (`[model]`, `[optim]`, `[run]` as in training,
//!   plus `[iqtt]` and `[baselines]`).
//! - [`questions`]: the training (labelled and unlabelled), validation and test questions,
//!   disjoint index ranges of one seeded generator or a dataset's.
//! - [`question_batch`]: questions as the networks take them.
//! - [`method`], [`learner`], [`pix2scene`], [`baseline`]: what a run trains, behind one
//!   interface.
//! - [`losses`]: what a run logs.
//! - [`run`]: one resumable run (`iqtt train`), its evaluation (`iqtt eval`), and every method
//!   at every label count (`iqtt run`), into a [`table`].
//! - [`ensemble`]: several Pix2Scene runs answering together (`iqtt eval --run A --run B`).
//! - [`figures`]: reconstructions of test questions and questions with their codes' distances.

pub mod baseline;
pub mod config;
pub mod ensemble;
pub mod figures;
pub mod learner;
pub mod losses;
pub mod method;
pub mod pix2scene;
pub mod question_batch;
pub mod questions;
pub mod run;
pub mod table;

pub use config::IqttPreset;
pub use ensemble::evaluate_ensemble;
pub use method::Method;
pub use run::{
    IqttOptions, IqttRunSummary, Split, evaluate_run, load_checkpoint, run_all, tested_checkpoint,
    train_iqtt,
};
pub use table::IqttTable;
