//! Errors of the render crate.

use std::path::PathBuf;

/// Everything that can go wrong reading inputs of the renderer and writing its outputs.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// An I/O operation on a file failed.
    // The cause is the source, not part of the message: error reports (`{err:#}`, anyhow)
    // print each cause once.
    #[error("{path}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The underlying error.
        source: std::io::Error,
    },
    /// A `.npy` file is malformed or holds something other than what was expected.
    #[error("{path}: {message}")]
    Npy {
        /// The file.
        path: PathBuf,
        /// What is wrong.
        message: String,
    },
    /// An array has the wrong shape.
    #[error("{path}: {name} has shape {got:?}, expected {expected}")]
    Shape {
        /// The file the array came from.
        path: PathBuf,
        /// What the array is (`"depth"`).
        name: String,
        /// The accepted shapes, in words.
        expected: String,
        /// The shape found.
        got: Vec<usize>,
    },
    /// A depth map holds a value the renderer cannot place a surfel at.
    #[error("{path}: depth[{index}] = {value} is not a positive finite distance")]
    InvalidDepth {
        /// The file the depth map came from.
        path: PathBuf,
        /// Flat (C-order) index of the first bad value.
        index: usize,
        /// The bad value.
        value: f32,
    },
    /// A parameters file is malformed (bad JSON, unknown key, wrong type or value).
    #[error("{path}: {message}")]
    Params {
        /// The file.
        path: PathBuf,
        /// What is wrong.
        message: String,
    },
    /// A benchmark or renderer setting is out of range.
    #[error("{field}: {message}")]
    InvalidValue {
        /// The flag or field.
        field: String,
        /// What is wrong, including the value.
        message: String,
    },
    /// An atomic write (the scene crate's
    /// [`write_atomic`](pix2scene_scene::atomic_file::write_atomic)) failed.
    #[error(transparent)]
    Scene(#[from] pix2scene_scene::Error),
}

/// Result type of this crate.
pub type Result<T> = std::result::Result<T, Error>;
