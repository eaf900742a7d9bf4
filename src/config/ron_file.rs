//! Reading and writing RON files: parse errors become a [`ConfigError`] that names the
//! file, line and column and ends in a `fix:` line.

use std::fmt;
use std::path::{Path, PathBuf};

use serde::de::DeserializeOwned;

/// A config or scene file that cannot be used, with where and how to fix it.
#[derive(Debug, Clone, PartialEq)]
pub struct ConfigError {
    pub path: PathBuf,
    /// 1-based; 0 when the problem is the file as a whole.
    pub line: usize,
    pub col: usize,
    pub message: String,
    pub fix: String,
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.line > 0 {
            write!(f, "{}:{}:{}: {}", self.path.display(), self.line, self.col, self.message)?;
        } else {
            write!(f, "{}: {}", self.path.display(), self.message)?;
        }
        write!(f, "\n  fix: {}", self.fix)
    }
}

impl std::error::Error for ConfigError {}

impl ConfigError {
    pub fn whole_file(path: &Path, message: impl Into<String>, fix: impl Into<String>) -> ConfigError {
        ConfigError { path: path.to_path_buf(), line: 0, col: 0, message: message.into(), fix: fix.into() }
    }
}

fn fix_for(code: &ron::Error) -> String {
    use ron::Error as E;
    match code {
        E::NoSuchStructField { expected, .. } => {
            format!("remove or rename this field; valid fields here are: {}", expected.join(", "))
        }
        E::MissingStructField { field, .. } => format!("add `{field}: ...` to this struct"),
        E::DuplicateStructField { field, .. } => format!("`{field}` is given twice; keep one"),
        E::NoSuchEnumVariant { expected, .. } => format!("use one of: {}", expected.join(", ")),
        E::InvalidValueForType { expected, .. } => format!("write {expected} here"),
        E::ExpectedString | E::ExpectedStringEnd => "strings go in double quotes: \"like this\"".into(),
        E::Eof => "the file ends too early: check for a missing `)` or `]`".into(),
        _ => "check the syntax near this position (RON: Name(field: value, ...), lists in [ ], strings in \"quotes\")"
            .into(),
    }
}

/// RON extensions for every file we read and write: `Some` may be left out, and
/// `Camera(index: 0)` needs no double parentheses.
const EXTENSIONS: ron::extensions::Extensions =
    ron::extensions::Extensions::IMPLICIT_SOME.union(ron::extensions::Extensions::UNWRAP_VARIANT_NEWTYPES);

/// Writes a value the way [`parse_ron`] reads it.
pub fn to_ron_string<T: serde::Serialize>(value: &T) -> String {
    let pretty = ron::ser::PrettyConfig::default().extensions(EXTENSIONS);
    ron::ser::to_string_pretty(value, pretty).expect("config types serialise")
}

/// Parses RON text that came from `path` (used in messages).
pub fn parse_ron<T: DeserializeOwned>(text: &str, path: &Path) -> Result<T, ConfigError> {
    let options = ron::Options::default().with_default_extension(EXTENSIONS);
    options.from_str(text).map_err(|e| ConfigError {
        path: path.to_path_buf(),
        line: e.span.start.line,
        col: e.span.start.col,
        message: e.code.to_string(),
        fix: fix_for(&e.code),
    })
}

/// Reads and parses a RON file.
pub fn load_ron<T: DeserializeOwned>(path: &Path) -> Result<T, ConfigError> {
    let text = std::fs::read_to_string(path).map_err(|e| {
        ConfigError::whole_file(
            path,
            format!("cannot read: {e}"),
            "check the path; relative paths start at the project folder",
        )
    })?;
    parse_ron(&text, path)
}
