//! Errors of the coverage engine. Every error that comes from a file names
//! the file and, where the format allows, the line and column.

use std::ops::Range;
use std::path::PathBuf;

pub use penlab_diagnostics::{Location, SourceError};

/// Everything that can go wrong in the coverage engine.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A file could not be read or written.
    // The cause is shown inline, not chained, so `{:#}` prints it once.
    #[error("{}: {error}", path.display())]
    Io {
        /// The file.
        path: PathBuf,
        /// The cause.
        error: std::io::Error,
    },
    /// A text file (script, data file, mesh) is malformed at a known place:
    /// `file:line:column: message`, then the source line and a caret.
    #[error(transparent)]
    Source(Box<SourceError>),
    /// A file is malformed and the format gives no finer location.
    #[error("{}: {message}", path.display())]
    File {
        /// The file.
        path: PathBuf,
        /// What is wrong.
        message: String,
    },
    /// A value is out of its valid range or names something unknown.
    #[error("{0}")]
    Invalid(String),
    /// The heatmap could not be drawn or encoded.
    #[error("heatmap: {0}")]
    Render(String),
}

impl From<Box<penlab_diagnostics::SourceError>> for Error {
    fn from(e: Box<penlab_diagnostics::SourceError>) -> Self {
        Error::Source(e)
    }
}

impl From<penlab_diagnostics::SourceError> for Error {
    fn from(e: penlab_diagnostics::SourceError) -> Self {
        Error::Source(Box::new(e))
    }
}

/// Result alias for the coverage engine.
pub type Result<T, E = Error> = std::result::Result<T, E>;

impl Error {
    /// An [`Error::Io`] for `path`.
    pub fn io(path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        Self::Io {
            path: path.into(),
            error: source,
        }
    }

    /// Turns a TOML error into `file:line:column: message` with the line
    /// and a caret, at the span `toml` gives.
    pub fn toml(path: impl Into<PathBuf>, text: &str, err: &toml::de::Error) -> Self {
        Self::Source(Box::new(SourceError::from_toml(path, text, err)))
    }

    /// A mistake at the bytes `span` of `text`, the contents of `path`.
    pub fn at(
        path: impl Into<PathBuf>,
        text: &str,
        span: Range<usize>,
        message: impl Into<String>,
    ) -> Self {
        Self::Source(Box::new(SourceError::new(path, text, span, message)))
    }

    /// A mistake in the TOML entry at `keys` of `text` (`["settings",
    /// "depth_mm"]`, array items by index): the caret under the entry, or
    /// under its innermost table that exists.
    pub fn at_toml_keys(
        path: impl Into<PathBuf>,
        text: &str,
        keys: &[&str],
        message: impl Into<String>,
    ) -> Self {
        let span = (0..=keys.len())
            .rev()
            .find_map(|n| penlab_diagnostics::toml_entry_span(text, &keys[..n]))
            .unwrap_or(0..0);
        Self::at(path, text, span, message)
    }
}

/// Reads a whole text file, naming it on failure.
pub fn read_text(path: &std::path::Path) -> Result<String> {
    std::fs::read_to_string(path).map_err(|e| Error::io(path, e))
}
