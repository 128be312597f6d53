//! The 3D-IQ test task (paper section 4.4): mental-rotation questions drawn from a pool of
//! Shepard–Metzler-like snakes, the image-only shortcut baselines that answer them without 3D
//! understanding, the accuracy of a set of answers with its 95 % interval, and the human
//! test page.

mod accuracy;
mod human;
mod options;
mod pool;
mod question;
mod shortcut;

pub use accuracy::Accuracy;
pub use human::{
    ANSWERS_FORMAT, ANSWERS_VERSION, AnswerSheet, HumanAnswer, HumanTest, MAX_HUMAN_SIZE,
    score_answer_text, score_answers, write_human_page,
};
pub use options::IqttOptions;
pub(crate) use pool::ShapePool;
pub use question::Question;
pub use shortcut::{Shortcut, shortcut_accuracies};
