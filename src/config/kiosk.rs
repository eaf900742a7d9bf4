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
    /// Where a seated visitor's hand reaches (ADA 308: 15 to 48 inches above the floor):
    /// `reach: (bottom_fraction: 0.5)` puts every control a visitor touches in the lower half
    /// of the screen. None: the lower half on portrait screens, anywhere on landscape ones.
    pub reach: Option<ReachConfig>,
    /// Start every visit in the high-contrast theme (solid panels, larger text); a visitor's
    /// button switches it for their visit either way.
    pub high_contrast: bool,
    /// The spoken journey: each step said aloud in the visitor's language (espeak-ng).
    pub voice: VoiceConfig,
}

/// `kiosk.voice`: off by default; a visitor's button turns it on for their visit.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct VoiceConfig {
    /// Speak every visit (not only after a visitor asked with the button).
    pub enabled: bool,
    /// 0.0 (silent) to 1.0 (the synthesiser's full level).
    pub volume: f32,
    /// Offer visitors the "Read aloud" button (false where the kiosk has no loudspeaker).
    pub button: bool,
}

impl Default for VoiceConfig {
    fn default() -> Self {
        VoiceConfig { enabled: false, volume: 0.8, button: true }
    }
}

/// `kiosk.reach`: the share of the screen, from its bottom edge, that a visitor can reach.
/// For a screen whose lower edge is at height `b` and which is `h` tall (metres):
/// `(1.22 - b) / h`.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ReachConfig {
    pub bottom_fraction: f32,
}

impl Default for ReachConfig {
    fn default() -> Self {
        ReachConfig { bottom_fraction: 0.5 }
    }
}

impl Default for KioskConfig {
    fn default() -> Self {
        KioskConfig {
            hide_cursor: true,
            ignore_close_requests: true,
            admin_exit_chord: vec!["ControlLeft".into(), "AltLeft".into(), "KeyQ".into()],
            admin_hud_key: "F12".into(),
            idle_timeout_s: 90.0,
            reach: None,
            high_contrast: false,
            voice: VoiceConfig::default(),
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
        if let Some(reach) = self.reach
            && !(0.3..=1.0).contains(&reach.bottom_fraction)
        {
            return bad(
                "kiosk.reach",
                format!(
                    "kiosk.reach.bottom_fraction {} must be within 0.3..1.0 (below that the picker, buttons and prompts do not fit)",
                    reach.bottom_fraction
                ),
                "use e.g. reach: (bottom_fraction: 0.5), or 1.0 for the whole screen",
            );
        }
        if !(0.0..=1.0).contains(&self.voice.volume) {
            return bad(
                "kiosk.voice",
                format!("kiosk.voice.volume {} must be within 0.0..1.0", self.voice.volume),
                "use e.g. voice: (enabled: true, volume: 0.8)",
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
