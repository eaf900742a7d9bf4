//! `kiosk: (..)`: the unattended kiosk's keys, cursor and idle time.

use serde::{Deserialize, Serialize};

use super::{Checked, MAX_SECONDS, problem};

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct KioskConfig {
    /// Hide the mouse cursor (touchscreens).
    pub hide_cursor: bool,
    /// Ignore window close requests; exit only by the admin chord.
    pub ignore_close_requests: bool,
    /// Keys held together to quit (Bevy KeyCode names).
    pub admin_exit_chord: Vec<String>,
    /// Key that toggles the status overlay.
    pub admin_hud_key: String,
    /// After a visitor picks a style, resume the rotation after this many idle seconds.
    pub idle_timeout_s: f64,
}

impl Default for KioskConfig {
    fn default() -> Self {
        KioskConfig {
            hide_cursor: true,
            ignore_close_requests: true,
            admin_exit_chord: vec!["ControlLeft".into(), "AltLeft".into(), "KeyQ".into()],
            admin_hud_key: "F12".into(),
            idle_timeout_s: 90.0,
        }
    }
}

impl KioskConfig {
    pub(super) fn check(&self) -> Checked {
        let bad = problem;
        if !(0.0..=MAX_SECONDS).contains(&self.idle_timeout_s) {
            return bad(
                "kiosk.idle_timeout_s",
                format!("kiosk.idle_timeout_s {} must be seconds within 0..{MAX_SECONDS}", self.idle_timeout_s),
                "use e.g. 90.0",
            );
        }
        if self.admin_exit_chord.is_empty() {
            return bad(
                "kiosk.admin_exit_chord",
                "kiosk.admin_exit_chord is empty: the installation could not be quit".into(),
                "e.g. [\"ControlLeft\", \"AltLeft\", \"KeyQ\"]",
            );
        }
        for key in self.admin_exit_chord.iter().chain([&self.admin_hud_key]) {
            if super::keys::parse_key_name(key).is_none() {
                return bad(
                    if *key == self.admin_hud_key { "kiosk.admin_hud_key" } else { "kiosk.admin_exit_chord" },
                    format!("unknown key name `{key}`"),
                    "use Bevy KeyCode names: KeyQ, ControlLeft, AltLeft, F12, Escape, ...",
                );
            }
        }
        Ok(())
    }
}
