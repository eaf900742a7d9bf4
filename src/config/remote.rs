//! `engine.remote: (..)`: this kiosk's link to the painter farm.

use std::path::PathBuf;

use serde::{Deserialize, Serialize};

use super::{Checked, problem};

/// This kiosk's link to the painter farm.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct RemoteConfig {
    /// `nats://host:4222`, or `tls://host:4222` with `ca`; a farm of several servers as a
    /// comma-separated list (`tls://farm-1:4222,tls://farm-2:4222,tls://farm-3:4222`): the
    /// client moves to another when one goes away.
    pub url: String,
    /// This kiosk's name on the farm: one word (letters, digits, `-`, `_`), unique per kiosk.
    pub kiosk: String,
    pub user: Option<String>,
    pub password_file: Option<PathBuf>,
    pub ca: Option<PathBuf>,
    /// This kiosk's identity on a farm with users (`identities/NAME` of scripts/farm-certs.sh,
    /// mode 0600): it signs the kiosk's jobs, and names the farm's key that painters'
    /// announcements must be signed with.
    pub identity: Option<PathBuf>,
    /// The server unreachable this long (or no painter alive while a painting waits): paint
    /// locally, and go back to the farm by itself when it answers again.
    pub fallback_after_s: f64,
    /// Live mode: camera frames sent to the painter per second at most (it paints the
    /// newest; a frame waits until the painter has caught up with the one before).
    pub live_frames_per_second: f64,
}

impl Default for RemoteConfig {
    fn default() -> Self {
        RemoteConfig {
            url: "nats://127.0.0.1:4222".into(),
            kiosk: "kiosk-1".into(),
            user: None,
            password_file: None,
            ca: None,
            identity: None,
            fallback_after_s: 3.0,
            live_frames_per_second: 4.0,
        }
    }
}

impl RemoteConfig {
    pub(super) fn check(&self) -> Checked {
        let bad = problem;
        let r = self;
        if !valid_name(&r.kiosk) {
            return bad(
                "engine.remote.kiosk",
                format!("engine.remote.kiosk `{}` must be one word of letters, digits, `-` or `_`", r.kiosk),
                "use e.g. kiosk: \"hall-2\" (unique per kiosk)",
            );
        }
        if let Some(wrong) = server_urls(&r.url)
            .into_iter()
            .chain(r.url.trim().is_empty().then_some(""))
            .find(|u| !(u.starts_with("nats://") || u.starts_with("tls://")))
        {
            return bad(
                "engine.remote.url",
                format!("engine.remote.url `{wrong}` is not a nats:// or tls:// address"),
                "use e.g. url: \"nats://10.0.0.5:4222\", or several separated by commas",
            );
        }
        if !(0.5..=600.0).contains(&r.fallback_after_s) {
            return bad(
                "engine.remote.fallback_after_s",
                format!("engine.remote.fallback_after_s {} must be seconds within 0.5..600", r.fallback_after_s),
                "use e.g. fallback_after_s: 3.0",
            );
        }
        if !(0.2..=30.0).contains(&r.live_frames_per_second) {
            return bad(
                "engine.remote.live_frames_per_second",
                format!("engine.remote.live_frames_per_second {} must be within 0.2..30", r.live_frames_per_second),
                "use e.g. live_frames_per_second: 4.0",
            );
        }
        if r.user.is_some() != r.password_file.is_some() {
            return bad(
                "engine.remote.user",
                "engine.remote: user and password_file go together".into(),
                "set both (the farm's users are made by scripts/farm-certs.sh), or neither",
            );
        }
        if r.user.is_some() && r.identity.is_none() {
            return bad(
                "engine.remote.user",
                "engine.remote: a farm with users needs this kiosk's identity (its jobs are signed with it, and forged painters are told by it)".into(),
                "add identity: \"/etc/gallery-painter/farm/identities/KIOSK\" (scripts/farm-certs.sh --kiosk KIOSK makes it)",
            );
        }
        Ok(())
    }
}

/// A kiosk name is one subject token: letters, digits, `-` and `_` (it names subjects and
/// the kiosk's user in the server's permissions).
pub fn valid_name(name: &str) -> bool {
    !name.is_empty() && name.len() <= 64 && name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

/// The servers of a comma-separated list (one server: a list of one).
pub fn server_urls(list: &str) -> Vec<&str> {
    list.split(',').map(str::trim).filter(|u| !u.is_empty()).collect()
}
