//! `share:` in `config/installation.ron`: the take-home links (served by `crate::share`).

use std::net::SocketAddr;
use std::path::PathBuf;

use serde::{Deserialize, Serialize};

/// `share:` in `config/installation.ron`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ShareConfig {
    /// Off by default: the museum must provide a guest network that reaches the kiosk (or a
    /// public URL in front of it) and tell visitors what is kept.
    pub enabled: bool,
    /// The guest listener's address, e.g. "0.0.0.0:8470" (all interfaces of the kiosk).
    pub listen: String,
    /// The address phones use, put in the QR code: e.g. "http://10.20.0.5:8470" on the guest
    /// network, or "https://paint.museum.example" for a proxy in front of the kiosk.
    pub public_url: String,
    /// Minutes a painting stays downloadable; then its file and token are deleted.
    pub expire_min: f64,
    /// Folder for the painting files (emptied at start). None: a private temporary folder,
    /// removed when the installation stops.
    pub folder: Option<PathBuf>,
    /// Wrong links one address may try in a minute; beyond, every answer to it is 429.
    pub misses_per_minute: u32,
    /// Paintings kept at most (the oldest goes first): a bound on disk and memory.
    pub max_paintings: usize,
}

impl Default for ShareConfig {
    fn default() -> Self {
        ShareConfig {
            enabled: false,
            listen: "0.0.0.0:8470".into(),
            public_url: String::new(),
            expire_min: 30.0,
            folder: None,
            misses_per_minute: 20,
            max_paintings: 500,
        }
    }
}

impl ShareConfig {
    /// Checks an enabled config; `Err((field, message, fix))`.
    pub fn check(&self) -> Result<(), (&'static str, String, &'static str)> {
        if !self.enabled {
            return Ok(());
        }
        self.listen.parse::<SocketAddr>().map_err(|e| {
            (
                "share.listen",
                format!("share.listen `{}` is not IP:PORT ({e})", self.listen),
                "use e.g. \"0.0.0.0:8470\"",
            )
        })?;
        let url = self.public_url.trim_end_matches('/');
        if !(url.starts_with("http://") || url.starts_with("https://")) || url.len() < "http://x".len() {
            return Err((
                "share.public_url",
                format!("share.public_url `{}` is not an http(s) address", self.public_url),
                "give the address phones on the guest network use, e.g. \"http://10.20.0.5:8470\"",
            ));
        }
        if !(self.expire_min > 0.0 && self.expire_min <= 24.0 * 60.0) {
            return Err((
                "share.expire_min",
                format!("share.expire_min {} is out of range", self.expire_min),
                "use minutes between 1 and 1440 (the default is 30)",
            ));
        }
        if self.misses_per_minute == 0 || self.max_paintings == 0 {
            return Err((
                "share.misses_per_minute",
                "share limits must be at least 1".into(),
                "use the defaults (20, 500)",
            ));
        }
        Ok(())
    }
}
