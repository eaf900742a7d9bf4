//! Optional machine-readable status (`run --status-file PATH`), rewritten twice a second:
//! for monitoring by the museum's IT and for the end-to-end tests.

use std::path::PathBuf;

use bevy::prelude::*;
use serde::Serialize;

use super::journey::{Journey, JourneyTimings};
use super::picker::Picker;
use super::pipeline::PipelineStatus;
use super::rotation::{Opening, Playlist};

#[derive(Resource, Clone)]
pub struct StatusFile(pub PathBuf);

#[derive(Serialize)]
struct StatusReport {
    caption: String,
    artwork_index: usize,
    style_key: String,
    worker_state: String,
    iterations_per_second: f64,
    snapshots: u64,
    capture_state: String,
    picker: String,
    opening: String,
    painting_updates: u64,
    /// Attract | Noticed | Countdown | Painting | Reveal (empty without the journey).
    journey: String,
    /// absent | present | still (empty when presence detection is off).
    presence: String,
    /// Share of the region that differs from the background.
    presence_foreground: f32,
    presence_cost_ms: f64,
    visitors: u64,
    /// From "still" seen by the camera to the countdown's start, ms.
    still_to_countdown_ms: Option<f64>,
}

pub(super) fn plugin(app: &mut App) {
    app.add_systems(Last, write_status.run_if(resource_exists::<StatusFile>));
}

#[allow(clippy::too_many_arguments)] // a Bevy system: each parameter is one part of the report
fn write_status(
    file: Res<StatusFile>,
    time: Res<Time>,
    mut last: Local<f64>,
    status: Res<PipelineStatus>,
    playlist: Option<Res<Playlist>>,
    picker: Res<State<Picker>>,
    opening: Res<State<Opening>>,
    canvas: Option<Res<super::display::Canvas>>,
    journey: Option<Res<State<Journey>>>,
    timings: Option<Res<JourneyTimings>>,
) {
    let now = time.elapsed_secs_f64();
    if now - *last < 0.5 {
        return;
    }
    *last = now;
    let presence = status.capture.as_ref().and_then(|c| c.presence);
    let report = StatusReport {
        caption: playlist.as_ref().map(|p| p.entry().caption()).unwrap_or_default(),
        artwork_index: playlist.as_ref().map(|p| p.current).unwrap_or(0),
        style_key: status.worker.style_key.clone(),
        worker_state: format!("{:?}", status.worker.state),
        iterations_per_second: status.worker.iterations_per_second,
        snapshots: status.worker.snapshots,
        capture_state: status.capture.as_ref().map(|c| format!("{:?}", c.state)).unwrap_or_default(),
        picker: format!("{:?}", picker.get()),
        opening: format!("{:?}", opening.get()),
        painting_updates: canvas.map(|c| c.updates).unwrap_or(0),
        journey: journey.map(|j| format!("{:?}", j.get())).unwrap_or_default(),
        presence: presence.map(|p| p.describe().to_string()).unwrap_or_default(),
        presence_foreground: presence.map(|p| p.foreground).unwrap_or(0.0),
        presence_cost_ms: status.capture.as_ref().map(|c| c.presence_cost_us / 1000.0).unwrap_or(0.0),
        visitors: timings.as_ref().map(|t| t.visitors).unwrap_or(0),
        still_to_countdown_ms: timings.and_then(|t| t.still_to_countdown).map(|d| d.as_secs_f64() * 1000.0),
    };
    let text = ron::ser::to_string_pretty(&report, ron::ser::PrettyConfig::default()).unwrap_or_default();
    let tmp = file.0.with_extension("tmp");
    if std::fs::write(&tmp, text).is_ok() {
        let _ = std::fs::rename(&tmp, &file.0);
    }
}
