//! Errors of the training crate.

use std::path::PathBuf;

/// Everything that can go wrong configuring, running, checkpointing or resuming a training run.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// An I/O operation on a file or directory failed.
    // The cause is the source, not part of the message: error reports (`{err:#}`, anyhow)
    // print each cause once.
    #[error("{path}")]
    Io {
        /// The file or directory.
        path: PathBuf,
        /// The underlying error.
        source: std::io::Error,
    },
    /// A preset file is not valid TOML or does not match the preset schema (unknown key, wrong
    /// type).
    #[error("{path}{}: {message}", line.map(|l| format!(":{l}")).unwrap_or_default())]
    Preset {
        /// The preset file.
        path: PathBuf,
        /// 1-based line of the offending key, where known.
        line: Option<usize>,
        /// What is wrong, naming the key.
        message: String,
    },
    /// A line of a file a run reads back (`metrics.jsonl`, a checkpoint's `checksums.b3`) is
    /// malformed.
    #[error("{path}:{line}: {message}")]
    Malformed {
        /// The file.
        path: PathBuf,
        /// 1-based line.
        line: usize,
        /// What is wrong.
        message: String,
    },
    /// A `--set key=value` override names no key of the preset schema.
    #[error("unknown config key `{key}`")]
    UnknownKey {
        /// The dotted key, e.g. `optim.lrr`.
        key: String,
    },
    /// A configuration value is out of range or malformed.
    #[error("{key} = {value}: {message}")]
    InvalidValue {
        /// The dotted config key (or flag).
        key: String,
        /// The offending value as written.
        value: String,
        /// What is wrong.
        message: String,
    },
    /// A loss became NaN or infinite; the run stopped and the last good checkpoint is kept.
    #[error(
        "loss `{loss}` is {value} at step {step}; stopped, last good checkpoint: {}",
        checkpoint.as_ref().map(|p| p.display().to_string()).unwrap_or_else(|| "none".into())
    )]
    NonFinite {
        /// Name of the loss term, as in `metrics.jsonl`.
        loss: String,
        /// The value (`NaN`, `inf` or `-inf`).
        value: f32,
        /// The training step (iteration) at which it happened.
        step: u64,
        /// The newest checkpoint on disk, untouched.
        checkpoint: Option<PathBuf>,
    },
    /// A checkpoint or run directory is missing, incomplete or inconsistent.
    #[error("{path}: {message}")]
    Checkpoint {
        /// The checkpoint or run directory.
        path: PathBuf,
        /// What is wrong.
        message: String,
    },
    /// The scene generator or a dataset reader failed.
    #[error(transparent)]
    Scene(#[from] pix2scene_scene::Error),
    /// A network configuration is invalid (other than a `[model]` key, which is reported as
    /// [`Error::InvalidValue`]).
    #[error(transparent)]
    Model(#[from] pix2scene_model::Error),
    /// The background data producer stopped unexpectedly.
    #[error("data producer: {0}")]
    Data(String),
}

impl Error {
    /// An [`Error::InvalidValue`] for `key` holding `value`.
    pub(crate) fn invalid(
        key: impl Into<String>,
        value: impl ToString,
        message: impl Into<String>,
    ) -> Self {
        Self::InvalidValue {
            key: key.into(),
            value: value.to_string(),
            message: message.into(),
        }
    }

    /// Wraps an I/O error with the path it concerns.
    pub(crate) fn io(path: impl Into<PathBuf>) -> impl FnOnce(std::io::Error) -> Self {
        let path = path.into();
        move |source| Self::Io { path, source }
    }
}

/// Result type of this crate.
pub type Result<T> = std::result::Result<T, Error>;
