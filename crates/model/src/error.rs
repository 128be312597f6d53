//! Errors of the `pix2scene-model` crate.

/// What can go wrong when configuring a network.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A configuration field holds a value the network cannot be built with.
    #[error("{config} config: field `{field}` is {value}, expected {expected}")]
    Config {
        /// Which configuration (`encoder`, `decoder`, `critic`, `conditional norm`).
        config: &'static str,
        /// The offending field, spelled as in the config struct.
        field: &'static str,
        /// The value found, as written.
        value: String,
        /// What the field must be.
        expected: String,
    },
}

impl Error {
    /// A [`Error::Config`] for `field` of `config` holding `value`, which must be `expected`.
    pub(crate) fn config(
        config: &'static str,
        field: &'static str,
        value: impl std::fmt::Display,
        expected: impl Into<String>,
    ) -> Self {
        Self::Config {
            config,
            field,
            value: value.to_string(),
            expected: expected.into(),
        }
    }
}

/// Result of this crate's fallible functions.
pub type Result<T> = std::result::Result<T, Error>;
