//! `console:` in `config/installation.ron`: the curator console (served by `crate::console`).

use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ConsoleConfig {
    pub enabled: bool,
    /// IP:PORT of the console; "0.0.0.0:9180" for the museum network (`run --console` overrides).
    pub listen: String,
    /// Where the password hash is kept (relative paths from the project root).
    pub state_dir: PathBuf,
    /// Where uploaded artworks are kept (relative paths from the project root).
    pub artworks_dir: PathBuf,
    /// The console is reached through a TLS proxy: cookies are sent over HTTPS only.
    pub behind_tls: bool,
    /// A session ends after this long without a request.
    pub session_idle_minutes: f64,
    /// ... and after this long in any case.
    pub session_longest_hours: f64,
}

impl Default for ConsoleConfig {
    fn default() -> Self {
        ConsoleConfig {
            enabled: false,
            listen: "127.0.0.1:9180".into(),
            state_dir: "state".into(),
            artworks_dir: "artworks".into(),
            behind_tls: false,
            session_idle_minutes: 30.0,
            session_longest_hours: 12.0,
        }
    }
}

impl ConsoleConfig {
    /// `Err((field, what is wrong, fix))`.
    pub fn validate(&self) -> Result<(), (&'static str, String, &'static str)> {
        // Checked even when off: `run --console` turns it on.
        if !(self.session_idle_minutes > 0.0 && self.session_idle_minutes <= 24.0 * 60.0) {
            return Err((
                "console.session_idle_minutes",
                format!("console.session_idle_minutes {} must be within 0..1440", self.session_idle_minutes),
                "use e.g. session_idle_minutes: 30",
            ));
        }
        if !(self.session_longest_hours > 0.0 && self.session_longest_hours <= 24.0 * 31.0) {
            return Err((
                "console.session_longest_hours",
                format!("console.session_longest_hours {} must be within 0..744", self.session_longest_hours),
                "use e.g. session_longest_hours: 12",
            ));
        }
        if !self.enabled {
            return Ok(());
        }
        if self.listen.parse::<std::net::SocketAddr>().is_err() {
            return Err((
                "console.listen",
                format!("console.listen `{}` is not IP:PORT", self.listen),
                "use e.g. listen: \"0.0.0.0:9180\" (the museum network) or \"127.0.0.1:9180\" (this machine)",
            ));
        }
        Ok(())
    }

    /// (a session ends after this long idle, and after this long in any case).
    pub fn session_times(&self) -> (Duration, Duration) {
        (
            Duration::from_secs_f64(self.session_idle_minutes * 60.0),
            Duration::from_secs_f64(self.session_longest_hours * 3600.0),
        )
    }

    pub fn state_dir(&self, root: &Path) -> PathBuf {
        crate::paths::resolve(root, &self.state_dir)
    }
}
