//! `display: (..)`: the window, the crossfade, what shows beside the painting.

use serde::{Deserialize, Serialize};

use super::{Checked, MAX_FRAME_EDGE, MAX_SECONDS, problem};

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct DisplayConfig {
    /// Borderless fullscreen (exhibition) or a window (development).
    pub fullscreen: bool,
    /// Window size when not fullscreen.
    pub width: u32,
    pub height: u32,
    /// Crossfade between successive snapshots of the painting, milliseconds.
    pub crossfade_ms: u32,
    /// Small live camera view in a corner.
    pub camera_preview: bool,
    /// Title, artist and year of the current artwork.
    pub caption: bool,
    /// Seconds without a touch before the picker hides and the hint shows.
    pub attract_after_s: f64,
}

impl Default for DisplayConfig {
    fn default() -> Self {
        DisplayConfig {
            fullscreen: true,
            width: 1280,
            height: 720,
            crossfade_ms: 400,
            camera_preview: true,
            caption: true,
            attract_after_s: 30.0,
        }
    }
}

impl DisplayConfig {
    pub(super) fn check(&self) -> Checked {
        let bad = problem;
        let d = self;
        if !(64..=MAX_FRAME_EDGE * 2).contains(&d.width) || !(64..=MAX_FRAME_EDGE * 2).contains(&d.height) {
            return bad(
                "display.width",
                format!(
                    "display: window {}x{} must be within 64..{} px each way",
                    d.width,
                    d.height,
                    MAX_FRAME_EDGE * 2
                ),
                "use e.g. width: 1280, height: 720",
            );
        }
        if d.crossfade_ms > 60_000 {
            return bad(
                "display.crossfade_ms",
                format!("display.crossfade_ms {} is more than a minute", d.crossfade_ms),
                "use e.g. 400",
            );
        }
        if !(0.0..=MAX_SECONDS).contains(&d.attract_after_s) {
            return bad(
                "display.attract_after_s",
                format!("display.attract_after_s {} must be seconds within 0..{MAX_SECONDS}", d.attract_after_s),
                "use e.g. 30.0",
            );
        }
        Ok(())
    }
}
