//! The installation's configuration (`config/installation.ron`): every setting has a
//! documented default, unknown fields are rejected, and errors point at file:line:col.

mod error;
pub mod keys;
mod types;

pub use error::{ConfigError, load_ron, parse_ron, to_ron_string};
pub use types::*;
