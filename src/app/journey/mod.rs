//! The visitor's moment: noticed, counted down, captured, painted before their eyes,
//! revealed, and forgotten when they leave.
//!
//! `flow` is the state machine (logic only, testable headless); each other file draws one
//! state's screen and turns its buttons into [`JourneyRequest`]s.
//!
//! ```text
//! Attract --someone enters / a touch--> Noticed --holds still (auto) / "Touch to be painted"-->
//! Countdown --3-2-1, flash, frozen frame--> Painting --finished--> Reveal
//!     ^                                                                 | "Paint me again" / a pick
//!     |                                                                 v   (same capture, no countdown)
//!     +--- left for leave_grace_s (any state), left during the countdown,  Painting
//!          reveal_s over, painting_timeout_s over
//! ```

mod attract;
mod countdown;
pub mod flow;
mod live_view;
mod noticed;
mod painting;
mod reveal;

use std::collections::VecDeque;
use std::sync::Arc;
use std::time::{Duration, Instant};

use bevy::prelude::*;
use image::RgbImage;

use crate::app::language;
use crate::capture::Frame;
use crate::config::{CaptureTrigger, JourneyConfig};

/// How visitors meet this kiosk, chosen once from the config: the journey (Paint policy with
/// `journey.enabled`), or the stream that paints whatever the camera sees (Live, or no
/// journey). The journey's plugins are always part of the app; their systems run in
/// `Visit::Journey` only, and the [`Journey`] state exists only there.
#[derive(States, Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum Visit {
    #[default]
    Stream,
    Journey,
}

/// The journey's systems that no [`Journey`] state gates by itself (those of `Update` and
/// `Startup`): they run in `Visit::Journey` only.
#[derive(SystemSet, Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct JourneySystems;

/// The journey is this kiosk's way of meeting visitors, with these settings. Call after
/// [`crate::app::logic_plugins`].
pub fn begin(app: &mut App, settings: JourneySettings) {
    app.insert_resource(settings).world_mut().resource_mut::<NextState<Visit>>().set(Visit::Journey);
}

#[derive(SubStates, Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
#[source(Visit = Visit::Journey)]
pub enum Journey {
    /// Nobody there: artworks and (if allowed) recent paintings, with an invitation.
    #[default]
    Attract,
    /// Someone is in front of the camera: their live image grows, a prompt asks them to hold still.
    Noticed,
    /// 3-2-1 over the live image, then a flash and the frozen frame.
    Countdown,
    /// The painting evolves from the frozen frame.
    Painting,
    /// The finished painting holds; "Paint me again" repaints the same capture.
    Reveal,
}

impl Journey {
    /// Does the screen show the live camera image big?
    pub fn shows_live_view(self) -> bool {
        matches!(self, Journey::Noticed | Journey::Countdown)
    }
}

/// The journey's settings, from `journey: (..)` in the installation config.
#[derive(Resource, Clone, Debug)]
pub struct JourneySettings {
    pub config: JourneyConfig,
    /// Presence detection runs: leaving is noticed by the camera, not only by time.
    pub presence_enabled: bool,
    /// Finished paintings are saved (the privacy line on screen says so).
    pub keepsake: bool,
}

impl JourneySettings {
    pub fn new(config: JourneyConfig, presence_enabled: bool, keepsake: bool) -> JourneySettings {
        JourneySettings { config, presence_enabled, keepsake }
    }
    pub fn auto_capture(&self) -> bool {
        self.config.capture == CaptureTrigger::Auto && self.presence_enabled
    }
}

/// Where the visitor is, as the journey sees it: from presence signals and touches.
#[derive(Resource, Default, Debug)]
pub struct VisitorPresence {
    pub present: bool,
    pub still: bool,
    /// App seconds when presence was lost (None while present).
    pub absent_since: Option<f64>,
    /// When the camera saw the visitor become still (capture-thread clock).
    pub still_at: Option<Instant>,
    /// App seconds of the last touch or click.
    pub last_touch: f64,
    /// Somebody touched the screen in this frame.
    pub touched: bool,
    /// After a reveal timed out with the visitor still there, wait for a new arrival
    /// (or a touch) before inviting again, so nobody is painted over and over.
    pub needs_fresh_entry: bool,
}

/// The visitor's frozen frame and their painting; dropped when they leave.
#[derive(Resource, Clone)]
pub struct VisitorCapture {
    pub frame: Frame,
    pub finished: Option<Arc<RgbImage>>,
    /// The scene entry the finished painting is in (its label, in the visitor's language).
    pub finished_entry: Option<usize>,
}

impl VisitorCapture {
    /// The scene entry of the finished painting: where its title, artist and credit come from
    /// (the reveal, the voice and the take-home page all read it here).
    pub fn painting_entry<'a>(
        &self,
        playlist: Option<&'a crate::app::rotation::Playlist>,
    ) -> Option<&'a crate::scene::SceneEntry> {
        playlist?.scene.entries.get(self.finished_entry?)
    }
}

/// Whether a visitor can be photographed now: the capture has frames to give (a camera, or
/// a stand-in where one is allowed). Without, the journey stays in Attract and invites
/// nobody: a kiosk must not pretend to paint a visitor it cannot see.
pub fn camera_available(status: &crate::app::pipeline::PipelineStatus) -> bool {
    use crate::capture::CaptureState as S;
    status.capture.as_ref().is_none_or(|c| matches!(c.state, S::Starting | S::Running | S::Fallback { .. }))
}

/// A short apology the attract screen shows after a painting could not be made (its
/// artwork turned out unusable), until `until` (app seconds).
#[derive(Resource, Default, Debug, Clone)]
pub struct JourneyApology {
    /// The Fluent message that says why.
    pub key: Option<&'static str>,
    pub until: f64,
}

impl JourneyApology {
    pub fn current(&self, now: f64) -> Option<&'static str> {
        self.key.filter(|_| now < self.until)
    }
}

/// App seconds when the current journey state began.
#[derive(Resource, Default, Debug, Clone, Copy)]
pub struct JourneyClock {
    pub entered: f64,
}

/// Finished paintings for the attract loop (in memory only; see `show_recent_paintings`),
/// each with the scene entry it was painted in: the loop shows only the artwork's own, so a
/// painting never stands under another artwork's label.
#[derive(Resource, Default)]
pub struct RecentPaintings(pub VecDeque<(Option<usize>, Arc<RgbImage>)>);

/// What the journey measured, for the admin overlay and the benchmark.
#[derive(Resource, Default, Debug, Clone)]
pub struct JourneyTimings {
    /// From the camera frame in which the visitor became still to the countdown's start.
    pub still_to_countdown: Option<Duration>,
    /// Visitors noticed since the start.
    pub visitors: u64,
    pub paintings_revealed: u64,
}

/// What the screens ask of the journey.
#[derive(Message, Clone, Copy, Debug, PartialEq, Eq)]
pub enum JourneyRequest {
    /// "Touch to be painted".
    PaintMe,
    /// "Paint me again": the same capture in the next artwork.
    PaintAgain,
}

/// The state machine (headless tests run this alone).
pub fn logic_plugin(app: &mut App) {
    flow::plugin(app);
}

/// The screens.
pub fn view_plugin(app: &mut App) {
    live_view::plugin(app);
    attract::plugin(app);
    noticed::plugin(app);
    countdown::plugin(app);
    painting::plugin(app);
    reveal::plugin(app);
}

/// A small red dot and a line of text: visitors always see when their picture is taken
/// and what happens to it.
pub(crate) fn spawn_capture_indicator(commands: &mut Commands, state: Journey, key: &'static str) {
    use super::theme;
    commands
        .spawn((
            DespawnOnExit(state),
            Node {
                position_type: PositionType::Absolute,
                left: px(24),
                // Above the picker strip (and the visitor's controls), never hidden by them.
                bottom: px(theme::ABOVE_PICKER),
                padding: UiRect::axes(px(14), px(8)),
                column_gap: px(10),
                align_items: AlignItems::Center,
                border_radius: BorderRadius::all(px(18)),
                ..default()
            },
            theme::fill(theme::Fill::Panel),
            theme::VisitorPanel("indicator"),
            GlobalZIndex(theme::z::CAPTURE_INDICATOR),
            theme::Anchor::AbovePicker(0.0),
        ))
        .with_children(|p| {
            p.spawn((
                Node { width: px(16), height: px(16), border_radius: BorderRadius::MAX, ..default() },
                theme::fill(theme::Fill::CaptureRed),
            ));
            p.spawn(language::label(key, 20.0, theme::Ink::Text));
        });
}
