//! `journey: (..)`: the visitor's moment, from noticed to the reveal.

use serde::{Deserialize, Serialize};

use super::{Checked, MAX_RECENT_PAINTINGS, MAX_SECONDS, problem};

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum CaptureTrigger {
    /// The countdown starts by itself when the visitor holds still (a touch starts it too).
    #[default]
    Auto,
    /// Only a touch on "Touch to be painted" starts the countdown.
    Touch,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct JourneyConfig {
    /// Paint policy: each visitor is noticed, counted down, captured and shown their
    /// painting. Off: the installation paints whatever the camera sees, one after another.
    pub enabled: bool,
    pub capture: CaptureTrigger,
    /// Length of the 3-2-1 countdown, seconds.
    pub countdown_s: f64,
    /// The visitor counts as gone after this many seconds without presence.
    pub leave_grace_s: f64,
    /// Photo and painting side by side when the painting is finished, seconds (0 = off).
    pub side_by_side_s: f64,
    /// The finished painting holds at most this long, then the installation invites the next visitor.
    pub reveal_s: f64,
    /// Gives up on a painting that does not finish (engine trouble) after this long.
    pub painting_timeout_s: f64,
    /// Finished paintings the attract loop shows after their visitor left, kept in memory
    /// only (never on disk). 0 = none: a visitor's portrait leaves with them. Use more only
    /// with a sign that tells visitors.
    pub show_recent_paintings: usize,
    /// Seconds each picture stays in the attract loop.
    pub attract_cycle_s: f64,
}

impl Default for JourneyConfig {
    fn default() -> Self {
        JourneyConfig {
            enabled: true,
            capture: CaptureTrigger::Auto,
            countdown_s: 3.0,
            leave_grace_s: 4.0,
            side_by_side_s: 5.0,
            reveal_s: 45.0,
            painting_timeout_s: 300.0,
            show_recent_paintings: 0,
            attract_cycle_s: 8.0,
        }
    }
}

impl JourneyConfig {
    pub(super) fn check(&self) -> Checked {
        let bad = problem;
        let j = self;
        for (name, v) in [
            ("countdown_s", j.countdown_s),
            ("leave_grace_s", j.leave_grace_s),
            ("side_by_side_s", j.side_by_side_s),
            ("reveal_s", j.reveal_s),
            ("painting_timeout_s", j.painting_timeout_s),
            ("attract_cycle_s", j.attract_cycle_s),
        ] {
            if !(0.0..=MAX_SECONDS).contains(&v) {
                return bad(
                    &format!("journey.{name}"),
                    format!("journey.{name} {v} must be seconds within 0..{MAX_SECONDS}"),
                    "e.g. 3.0",
                );
            }
        }
        if j.show_recent_paintings > MAX_RECENT_PAINTINGS {
            return bad(
                "journey.show_recent_paintings",
                format!(
                    "journey.show_recent_paintings {} is more than {MAX_RECENT_PAINTINGS}",
                    j.show_recent_paintings
                ),
                "use 0 (a portrait leaves with its visitor) or a few",
            );
        }
        Ok(())
    }
}
