//! `keepsake: (..)`: saving (and printing) finished paintings, off by default.

use std::path::PathBuf;

use serde::{Deserialize, Serialize};

use super::{Checked, problem};

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct KeepsakeConfig {
    /// Save each finished painting (off by default: visitors' faces are personal data).
    pub enabled: bool,
    pub folder: PathBuf,
    /// Run after each save, e.g. `["lp", "-d", "gallery-printer", "{file}"]`; `{file}` is
    /// the saved painting. Empty: nothing is run. A failure shows on the admin overlay; the
    /// saved file stays.
    pub command: Vec<String>,
    /// The command is stopped (with everything it started) after this many seconds.
    pub command_timeout_s: f64,
}

impl Default for KeepsakeConfig {
    fn default() -> Self {
        KeepsakeConfig { enabled: false, folder: "gallery".into(), command: Vec::new(), command_timeout_s: 60.0 }
    }
}

impl KeepsakeConfig {
    pub(super) fn check(&self) -> Checked {
        let bad = problem;
        if !(1.0..=3600.0).contains(&self.command_timeout_s) {
            return bad(
                "keepsake.command_timeout_s",
                format!("keepsake.command_timeout_s {} must be seconds within 1..3600", self.command_timeout_s),
                "use e.g. command_timeout_s: 60.0",
            );
        }
        Ok(())
    }
}
