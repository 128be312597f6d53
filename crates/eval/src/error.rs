//! Errors of the eval crate.

use std::path::PathBuf;

/// Everything that can go wrong scoring reconstructions and writing what people look at.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A point cloud has no point, so its Hausdorff distances are undefined.
    #[error("the {cloud} point cloud is empty (no valid pixel)")]
    EmptyPointCloud {
        /// Which cloud (`"reconstruction"`, `"ground-truth"`, `"source"`, `"target"`).
        cloud: &'static str,
    },
    /// An image has no valid pixel for a metric.
    #[error("{metric}: no valid pixel in the ground-truth mask")]
    NoValidPixels {
        /// The metric's key (`"mse_depth"`, `"mad_deg"`).
        metric: &'static str,
    },
    /// An array has the wrong length for the image size.
    #[error("{name} has {got} values, expected {expected} ({what})")]
    Shape {
        /// What the array is (`"predicted depth"`).
        name: &'static str,
        /// Values expected.
        expected: usize,
        /// Values found.
        got: usize,
        /// The expected layout in words (`"[128, 128]"`).
        what: String,
    },
    /// A depth map holds a value that is not a positive finite distance where it is scored.
    #[error("{name}[{index}] = {value} is not a positive finite distance")]
    InvalidDepth {
        /// Which map (`"predicted depth"`).
        name: &'static str,
        /// Flat (row-major) index of the first bad value.
        index: usize,
        /// The bad value.
        value: f32,
    },
    /// A setting or flag is out of range or malformed.
    #[error("{field}: {message}")]
    InvalidValue {
        /// The flag, field or key.
        field: String,
        /// What is wrong, including the value.
        message: String,
    },
    /// The scene regenerated from a dataset's manifest does not reproduce the stored record.
    #[error(
        "record {index}: the scene regenerated from the manifest's generator config does not \
         reproduce the stored {what} (dataset written by another version of pix2scene?)"
    )]
    StaleDataset {
        /// Index of the record.
        index: u64,
        /// What differs (`"depth"`, `"camera"`).
        what: &'static str,
    },
    /// An I/O operation on a file failed.
    #[error("{path}: {source}")]
    Io {
        /// The file or directory.
        path: PathBuf,
        /// The underlying error.
        source: std::io::Error,
    },
    /// An encoder (PNG, GIF) refused its input.
    #[error("{path}: {message}")]
    Encode {
        /// The file being written.
        path: PathBuf,
        /// What the encoder said.
        message: String,
    },
    /// A run or model directory cannot serve as a model, or a model and its input disagree.
    #[error("{path}: {message}")]
    Model {
        /// The run or model directory.
        path: PathBuf,
        /// What is wrong.
        message: String,
    },
    /// An input file (an image, a camera file, a dataset) is unreadable as what it should be.
    #[error("{path}: {message}")]
    Input {
        /// The file or directory.
        path: PathBuf,
        /// What is wrong with it.
        message: String,
    },
    /// An error of the train crate (presets, checkpoints, data).
    #[error(transparent)]
    Train(#[from] pix2scene_train::Error),
    /// An error of the scene crate (regenerating scenes, reading datasets).
    #[error(transparent)]
    Scene(#[from] pix2scene_scene::Error),
    /// An error of the render crate (`.npy` files).
    #[error(transparent)]
    Render(#[from] pix2scene_render::Error),
}

/// Result type of this crate.
pub type Result<T> = std::result::Result<T, Error>;
