//! The journey's state machine: who is there (presence signals and touches), when the
//! countdown starts and ends, which frame the worker paints, and when everything of a
//! visitor is dropped again. No drawing here.

use std::time::Instant;

use bevy::prelude::*;

use super::{
    Journey, JourneyApology, JourneyClock, JourneyRequest, JourneySettings, JourneySystems, JourneyTimings,
    RecentPaintings, VisitorCapture, VisitorPresence,
};
use crate::app::AppSystems;
use crate::app::display::ShowOnCanvas;
use crate::app::pipeline::{PaintingGate, PaintingUpdated, PipelineStatus, PresenceSeen, SendCommand, StyleUnusable};
use crate::app::rotation::{ArtworkChanged, Playlist, StyleRequest};
use crate::app::theme::VisitorSetting;
use crate::capture::presence::PresenceEvent;
use crate::painting::Command;

/// Without presence detection, a visitor counts as gone after this long without a touch.
const UNTOUCHED_GONE_S: f64 = 30.0;

/// What a visitor reads when their painting cannot be made, and for how long.
/// Set like the invitation it replaces: a short headline (it must fit one line at 40 px).
/// The Fluent message of the apology.
pub const APOLOGY: &str = "attract-sorry";
const APOLOGY_S: f64 = 8.0;

pub(super) fn plugin(app: &mut App) {
    app.add_sub_state::<Journey>()
        .init_resource::<VisitorPresence>()
        .init_resource::<JourneyClock>()
        .init_resource::<RecentPaintings>()
        .init_resource::<JourneyTimings>()
        .init_resource::<JourneyApology>()
        .add_message::<JourneyRequest>()
        .add_message::<ShowOnCanvas>()
        .add_systems(Update, track_presence.in_set(AppSystems::Input).in_set(JourneySystems))
        .add_systems(
            Update,
            (
                from_attract.run_if(in_state(Journey::Attract)),
                from_noticed.run_if(in_state(Journey::Noticed)),
                from_countdown.run_if(in_state(Journey::Countdown)),
                from_painting.run_if(in_state(Journey::Painting)),
                from_reveal.run_if(in_state(Journey::Reveal)),
                // Last, so that leaving wins over anything else decided in the same frame.
                leave_when_gone.run_if(not(in_state(Journey::Attract))),
            )
                .chain()
                .in_set(AppSystems::Logic)
                .in_set(JourneySystems),
        )
        .add_systems(OnEnter(Journey::Attract), (stamp, back_to_attract))
        .add_systems(OnExit(Journey::Attract), hold_rotation)
        .add_systems(OnEnter(Journey::Noticed), (stamp, |mut t: ResMut<JourneyTimings>| t.visitors += 1))
        .add_systems(OnEnter(Journey::Countdown), (stamp, note_countdown_start))
        .add_systems(OnEnter(Journey::Painting), stamp)
        .add_systems(OnEnter(Journey::Reveal), (stamp, keep_for_attract));
}

fn stamp(time: Res<Time>, mut clock: ResMut<JourneyClock>, state: Res<State<Journey>>) {
    clock.entered = time.elapsed_secs_f64();
    tracing::info!("journey: {:?}", state.get());
}

fn track_presence(
    time: Res<Time>,
    mut signals: MessageReader<PresenceSeen>,
    mut presence: ResMut<VisitorPresence>,
    touches: Res<Touches>,
    mouse: Res<ButtonInput<MouseButton>>,
    visitor_settings: Query<&Interaction, (Changed<Interaction>, With<VisitorSetting>)>,
) {
    let now = time.elapsed_secs_f64();
    for PresenceSeen(signal) in signals.read() {
        match signal.event {
            PresenceEvent::Entered => {
                presence.present = true;
                presence.still = false;
                presence.absent_since = None;
            }
            PresenceEvent::Still => {
                presence.still = true;
                presence.still_at = Some(signal.at);
            }
            PresenceEvent::Moved => presence.still = false,
            PresenceEvent::Left => {
                presence.present = false;
                presence.still = false;
                presence.absent_since = Some(now);
                presence.needs_fresh_entry = false;
            }
        }
    }
    // Choosing a language or the theme is not asking to be painted: the visitor reads the
    // invitation their way first (the camera still notices them as usual).
    let chose_setting = visitor_settings.iter().any(|i| *i == Interaction::Pressed);
    presence.touched = !chose_setting && (touches.any_just_pressed() || mouse.get_just_pressed().next().is_some());
    if presence.touched {
        presence.last_touch = now;
    }
}

fn from_attract(
    mut presence: ResMut<VisitorPresence>,
    status: Res<PipelineStatus>,
    mut next: ResMut<NextState<Journey>>,
) {
    if !super::camera_available(&status) {
        // No camera (missing, lost, silent): a touch picks an artwork, nothing more.
        return;
    }
    if presence.touched {
        // A touch is the clearest sign that someone is there, camera or not.
        presence.needs_fresh_entry = false;
        next.set(Journey::Noticed);
    } else if presence.present && !presence.needs_fresh_entry {
        next.set(Journey::Noticed);
    }
}

fn from_noticed(
    settings: Res<JourneySettings>,
    presence: Res<VisitorPresence>,
    mut requests: MessageReader<JourneyRequest>,
    mut next: ResMut<NextState<Journey>>,
) {
    let asked = requests.read().any(|r| *r == JourneyRequest::PaintMe);
    if asked || (settings.auto_capture() && presence.still) {
        next.set(Journey::Countdown);
    }
}

fn note_countdown_start(presence: Res<VisitorPresence>, mut timings: ResMut<JourneyTimings>) {
    if let Some(still_at) = presence.still_at.filter(|_| presence.still) {
        let latency = Instant::now().saturating_duration_since(still_at);
        tracing::info!("visitor held still: countdown started {:.0} ms later", latency.as_secs_f64() * 1000.0);
        timings.still_to_countdown = Some(latency);
    }
}

#[allow(clippy::too_many_arguments)] // one system: the countdown's end is one moment
fn from_countdown(
    mut commands: Commands,
    time: Res<Time>,
    clock: Res<JourneyClock>,
    settings: Res<JourneySettings>,
    presence: Res<VisitorPresence>,
    status: Res<PipelineStatus>,
    mut gate: ResMut<PaintingGate>,
    mut out: MessageWriter<SendCommand>,
    mut show: MessageWriter<ShowOnCanvas>,
    mut next: ResMut<NextState<Journey>>,
) {
    if settings.presence_enabled && !presence.present {
        tracing::info!("visitor left during the countdown: cancelled");
        next.set(Journey::Attract);
        return;
    }
    if time.elapsed_secs_f64() - clock.entered < settings.config.countdown_s {
        return;
    }
    // The photo is taken only of somebody: a face in the latest detection, or a body in the
    // picture (presence's "present" lags a visitor who walked out by a few seconds).
    let in_view = status.capture.as_ref().and_then(|c| c.presence).is_none_or(|r| r.in_view);
    if settings.presence_enabled && !in_view {
        tracing::info!("nobody in view as the countdown ends: no photo");
        next.set(Journey::Attract);
        return;
    }
    let Some(frame) = status.capture.as_ref().and_then(|c| c.latest.clone()) else {
        tracing::warn!("countdown over but the camera has no frame: back to attract");
        next.set(Journey::Attract);
        return;
    };
    tracing::info!("captured frame {} for the visitor", frame.seq);
    *gate = PaintingGate::Frame(frame.seq);
    show.write(ShowOnCanvas(frame.image.clone()));
    out.write(SendCommand(Command::PaintFrame(frame.clone())));
    commands.insert_resource(VisitorCapture { frame, finished: None, finished_entry: None });
    next.set(Journey::Painting);
}

#[allow(clippy::too_many_arguments)] // a Bevy system: each parameter is one input of the decision
fn from_painting(
    time: Res<Time>,
    clock: Res<JourneyClock>,
    settings: Res<JourneySettings>,
    capture: Option<ResMut<VisitorCapture>>,
    playlist: Option<Res<Playlist>>,
    mut painted: MessageReader<PaintingUpdated>,
    mut unusable: MessageReader<StyleUnusable>,
    mut apology: ResMut<JourneyApology>,
    mut next: ResMut<NextState<Journey>>,
) {
    let Some(mut capture) = capture else {
        next.set(Journey::Attract);
        return;
    };
    // The artwork being painted: a finished snapshot in any other one (a late one from
    // before "Paint me again") is stale. Selections are keyed by the entry's artwork id
    // (worked out per message, not per frame).
    let on_show = |key: &str| playlist.as_ref().is_none_or(|p| p.is_current(key));
    // The worker cannot paint this artwork: the visitor must not stand and wait for nothing.
    if let Some(u) = unusable.read().find(|u| on_show(&u.key)) {
        let title = playlist.as_ref().map(|p| p.entry().title.as_str()).unwrap_or_default();
        tracing::error!("the painting in \"{title}\" cannot be made ({}): back to attract", u.reason);
        *apology = JourneyApology { key: Some(APOLOGY), until: time.elapsed_secs_f64() + APOLOGY_S };
        next.set(Journey::Attract);
        return;
    }
    for PaintingUpdated(s) in painted.read() {
        if s.finished && s.frame_seq == capture.frame.seq && on_show(&s.style_key) {
            capture.finished = Some(s.image.clone());
            capture.finished_entry = playlist.as_ref().map(|p| p.current);
            next.set(Journey::Reveal);
            return;
        }
    }
    if time.elapsed_secs_f64() - clock.entered > settings.config.painting_timeout_s {
        tracing::warn!("painting did not finish in {} s: back to attract", settings.config.painting_timeout_s);
        next.set(Journey::Attract);
    }
}

#[allow(clippy::too_many_arguments)]
fn from_reveal(
    time: Res<Time>,
    clock: Res<JourneyClock>,
    settings: Res<JourneySettings>,
    playlist: Option<Res<Playlist>>,
    mut presence: ResMut<VisitorPresence>,
    mut requests: MessageReader<JourneyRequest>,
    mut changes: MessageReader<ArtworkChanged>,
    mut picks: MessageWriter<StyleRequest>,
    mut next: ResMut<NextState<Journey>>,
) {
    if requests.read().any(|r| *r == JourneyRequest::PaintAgain)
        && let Some(p) = &playlist
    {
        let n = p.scene.entries.len();
        picks.write(StyleRequest((p.current + 1) % n.max(1)));
    }
    if changes.read().any(|c| c.by_visitor) {
        // The same capture in another artwork: no new countdown.
        next.set(Journey::Painting);
        return;
    }
    if time.elapsed_secs_f64() - clock.entered > settings.config.reveal_s {
        presence.needs_fresh_entry = presence.present;
        next.set(Journey::Attract);
    }
}

/// The visitor walked away: back to attract (a short absence is forgiven).
fn leave_when_gone(
    time: Res<Time>,
    settings: Res<JourneySettings>,
    presence: Res<VisitorPresence>,
    clock: Res<JourneyClock>,
    state: Res<State<Journey>>,
    mut next: ResMut<NextState<Journey>>,
) {
    let now = time.elapsed_secs_f64();
    let gone = if settings.presence_enabled {
        presence.absent_since.is_some_and(|t| now - t >= settings.config.leave_grace_s) && !presence.present
    } else {
        // No camera judgement: only touches say someone is there (the reveal has its own timeout).
        *state.get() == Journey::Noticed && now - presence.last_touch.max(clock.entered) > UNTOUCHED_GONE_S
    };
    if gone {
        tracing::info!("visitor left ({:?}): back to attract", state.get());
        next.set(Journey::Attract);
    }
}

/// Nothing of the visitor stays: the worker drops photo and painting, the screen stops
/// showing paintings, the rotation goes on.
fn back_to_attract(
    mut commands: Commands,
    time: Res<Time>,
    mut presence: ResMut<VisitorPresence>,
    playlist: Option<ResMut<Playlist>>,
    mut gate: ResMut<PaintingGate>,
    mut out: MessageWriter<SendCommand>,
) {
    commands.remove_resource::<VisitorCapture>();
    *gate = PaintingGate::Nothing;
    out.write(SendCommand(Command::Forget));
    presence.still = false;
    presence.still_at = None;
    if presence.present {
        // Still there (reveal over, painting gave up): wait until they leave and come back.
        presence.needs_fresh_entry = true;
    }
    if let Some(mut p) = playlist {
        p.release_journey_hold(time.elapsed_secs_f64());
    }
}

fn hold_rotation(playlist: Option<ResMut<Playlist>>) {
    if let Some(mut p) = playlist {
        p.held_by_journey = true;
    }
}

fn keep_for_attract(
    settings: Res<JourneySettings>,
    capture: Option<Res<VisitorCapture>>,
    mut recent: ResMut<RecentPaintings>,
    mut timings: ResMut<JourneyTimings>,
) {
    timings.paintings_revealed += 1;
    let keep = settings.config.show_recent_paintings;
    let Some(capture) = capture else { return };
    let Some(painting) = capture.finished.clone() else { return };
    if keep == 0 {
        return;
    }
    recent.0.push_front((capture.finished_entry, painting));
    recent.0.truncate(keep);
}
