//! A setting out of bounds, as data: which field and what is wrong. The config layer adds
//! the section the struct sits in (`engine.style.`), the file's line and the fix.

/// `field` is the struct's own name for it (`size`, or `faces.grow` one struct down).
#[derive(Clone, Debug, PartialEq, thiserror::Error)]
#[error("{message}")]
pub struct Invalid {
    pub field: String,
    pub message: String,
}

impl Invalid {
    pub fn new(field: impl Into<String>, message: impl Into<String>) -> Invalid {
        Invalid { field: field.into(), message: message.into() }
    }

    /// The same, one struct further out: `grow` in `faces` becomes `faces.grow`.
    pub fn within(self, parent: &str) -> Invalid {
        Invalid { field: format!("{parent}.{}", self.field), message: self.message }
    }
}
