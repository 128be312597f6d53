//! Errors of the scene crate.

use std::path::PathBuf;

/// Everything that can go wrong generating, writing or reading scenes and datasets.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// An I/O operation on a file failed.
    // The cause is the source, not part of the message: error reports (`{err:#}`, anyhow)
    // print each cause once.
    #[error("{path}")]
    Io {
        /// The file or directory.
        path: PathBuf,
        /// The underlying error.
        source: std::io::Error,
    },
    /// A user-supplied value is out of range or malformed.
    #[error("{field}: {message}")]
    InvalidValue {
        /// The flag, config key or field.
        field: String,
        /// What is wrong, including the value.
        message: String,
    },
    /// A file's contents are malformed.
    #[error("{path}{}: {message}", line.map(|l| format!(":{l}")).unwrap_or_default())]
    Parse {
        /// The file.
        path: PathBuf,
        /// 1-based line number, where the format has lines.
        line: Option<usize>,
        /// What is wrong.
        message: String,
    },
    /// A shard file differs from the size or checksum its manifest records.
    #[error(
        "{path}: {message}: the file is altered or truncated; rerun the `pix2scene generate` \
         command that made the dataset, with --resume, to rewrite it"
    )]
    Corrupt {
        /// The shard file.
        path: PathBuf,
        /// What differs, with the expected and found values.
        message: String,
    },
}

/// `text` with line breaks and other control characters escaped (`\n`, `\u{1b}`), so that an
/// error message quoting outside text (a JSON key, a header) stays on one line.
pub fn one_line(text: &str) -> String {
    text.chars()
        .map(|c| {
            if c.is_control() {
                c.escape_default().to_string()
            } else {
                c.to_string()
            }
        })
        .collect()
}

/// Result type of this crate.
pub type Result<T> = std::result::Result<T, Error>;
