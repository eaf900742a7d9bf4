//! The installation's configuration (`config/installation.ron`): every setting has a
//! documented default, unknown fields are rejected, and errors point at file:line:col.

pub mod keys;
mod ron_file;
mod types;

pub use ron_file::{ConfigError, load_ron, parse_ron, to_ron_string};
pub use types::*;
