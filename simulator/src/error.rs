//! Errors of the coverage engine. Every error that comes from a file names
//! the file and, where the format allows, the line and column.

use std::path::PathBuf;

/// A location in a text file, 1-based, for `file:line:column: message`.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Location {
    /// The file, as given.
    pub file: PathBuf,
    /// 1-based line.
    pub line: usize,
    /// 1-based column (in characters).
    pub column: usize,
}

impl std::fmt::Display for Location {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}:{}:{}", self.file.display(), self.line, self.column)
    }
}

impl Location {
    /// The location of byte `offset` in `text` (clamped to the text).
    pub fn from_offset(file: impl Into<PathBuf>, text: &str, offset: usize) -> Self {
        let mut offset = offset.min(text.len());
        while !text.is_char_boundary(offset) {
            offset -= 1;
        }
        let before = &text[..offset];
        let line = before.matches('\n').count() + 1;
        let line_start = before.rfind('\n').map_or(0, |i| i + 1);
        let column = text[line_start..offset].chars().count() + 1;
        Self {
            file: file.into(),
            line,
            column,
        }
    }
}

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
    /// A text file (script, data file, recorded session) is malformed at a
    /// known place.
    #[error("{location}: {message}")]
    Parse {
        /// Where.
        location: Location,
        /// What is wrong there.
        message: String,
    },
    /// A file is malformed and the format gives no finer location.
    #[error("{}: {message}", path.display())]
    File {
        /// The file.
        path: PathBuf,
        /// What is wrong.
        message: String,
    },
    /// A mistake at a known place in a file, shown with its line and a
    /// caret (recorded sessions).
    #[error("{0}")]
    Source(Box<penlab_diagnostics::SourceError>),
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

    /// Turns a TOML error into `file:line:column: message`.
    pub fn toml(path: impl Into<PathBuf>, text: &str, err: &toml::de::Error) -> Self {
        let path = path.into();
        let message = err.message().trim().to_owned();
        match err.span() {
            Some(span) => Self::Parse {
                location: Location::from_offset(path, text, span.start),
                message,
            },
            None => Self::File { path, message },
        }
    }
}

/// Reads a whole text file, naming it on failure.
pub fn read_text(path: &std::path::Path) -> Result<String> {
    std::fs::read_to_string(path).map_err(|e| Error::io(path, e))
}
