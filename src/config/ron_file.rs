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
    /// A bad value of `field`, a dotted path such as `engine.style.size`: points at where
    /// the file sets it (each name found after the one before it, outside comments), or at
    /// the whole file when it does not (the value is a default).
    pub fn at_field(path: &Path, field: &str, message: impl Into<String>, fix: impl Into<String>) -> ConfigError {
        let text = std::fs::read_to_string(path).unwrap_or_default();
        let (line, col) = locate_field(&text, field).unwrap_or((0, 0));
        ConfigError { path: path.to_path_buf(), line, col, message: message.into(), fix: fix.into() }
    }

    pub fn whole_file(path: &Path, message: impl Into<String>, fix: impl Into<String>) -> ConfigError {
        ConfigError { path: path.to_path_buf(), line: 0, col: 0, message: message.into(), fix: fix.into() }
    }
}

/// 1-based line and column of a dotted `field` path's last name: `a.b.c` is the first `c:`
/// after the first `b:` after the first `a:`, none in a comment or part of a longer name.
fn locate_field(text: &str, field: &str) -> Option<(usize, usize)> {
    let mut at = 0;
    for name in field.split('.') {
        at = find_name(text, name, at)?;
    }
    let line = text[..at].matches('\n').count() + 1;
    let col = at - text[..at].rfind('\n').map_or(0, |n| n + 1) + 1;
    Some((line, col))
}

/// Byte offset of the first `name:` at or after `from` that is code, not a comment.
fn find_name(text: &str, name: &str, from: usize) -> Option<usize> {
    let needle = format!("{name}:");
    text[from..].match_indices(&needle).map(|(i, _)| from + i).find(|&i| {
        let before = text[..i].chars().next_back();
        let line_start = text[..i].rfind('\n').map_or(0, |n| n + 1);
        !before.is_some_and(|c| c.is_alphanumeric() || c == '_') && !text[line_start..i].contains("//")
    })
}

fn fix_for(code: &ron::Error) -> String {
    use ron::Error as E;
    match code {
        E::NoSuchStructField { found, .. } if found == "invitation" || found == "attract_hint" => {
            "visitor texts are translated now: remove this line and change the wording in assets/i18n/<language>/kiosk.ftl (attract-invitation, picker-hint)".into()
        }
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
    options.from_str(text).map_err(|e| {
        let line_text = text.lines().nth(e.span.start.line.saturating_sub(1)).unwrap_or("");
        let fix = if e.code == ron::Error::ExpectedIdentifier && line_text.contains("Some((") {
            // IMPLICIT_SOME reads `Some(` as the name of a struct: a group goes in without it.
            "leave `Some` out before a group in ( ): write e.g. `faces: (content_gain: 5.0)`".to_string()
        } else {
            fix_for(&e.code)
        };
        ConfigError {
            path: path.to_path_buf(),
            line: e.span.start.line,
            col: e.span.start.col,
            message: e.code.to_string(),
            fix,
        }
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
