//! Optional machine-readable status (`run --status-file PATH`), rewritten twice a second:
//! for monitoring by the museum's IT and for the end-to-end tests.

use std::path::PathBuf;

use bevy::prelude::*;

use super::journey::{Journey, JourneyTimings};
use super::picker::Picker;
use super::pipeline::PipelineStatus;
use super::rotation::{Opening, Playlist};
use super::service::HealthBoard;
use crate::service::status::StatusReport;

#[derive(Resource, Clone)]
pub struct StatusFile(pub PathBuf);

pub fn plugin(app: &mut App) {
    app.init_resource::<StatusFileProblem>().add_systems(Last, write_status.run_if(resource_exists::<StatusFile>));
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
    board: Option<Res<HealthBoard>>,
    mut problem: ResMut<StatusFileProblem>,
) {
    let now = time.elapsed_secs_f64();
    if now - *last < 0.5 {
        return;
    }
    *last = now;
    let presence = status.capture.as_ref().and_then(|c| c.presence);
    let health = board.map(|b| b.0.lock().expect("health lock").clone());
    let now_instant = std::time::Instant::now();
    let capture = status.capture.as_ref();
    let report = StatusReport {
        written_unix_s: std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_secs_f64())
            .unwrap_or(0.0),
        health: health
            .as_ref()
            .map(|h| match h.verdict(now_instant) {
                Ok(s) => format!("ok: {s}"),
                Err(e) => format!("unhealthy: {e}"),
            })
            .unwrap_or_default(),
        display_fps: health.as_ref().map(|h| h.fps).unwrap_or(0.0),
        worker_restarts: status.worker.restarts,
        paintings_finished: status.worker.paintings_finished,
        last_error: status.worker.last_error.clone().unwrap_or_default(),
        camera_frames: capture.map(|c| c.frames).unwrap_or(0),
        camera_fps: capture.map(|c| c.fps).unwrap_or(0.0),
        bad_frames: capture.map(|c| c.bad_frames).unwrap_or(0),
        camera_reconnects: capture.map(|c| c.reconnects).unwrap_or(0),
        camera_source: capture.map(|c| c.source.clone()).unwrap_or_default(),
        caption: playlist.as_ref().map(|p| p.entry().caption()).unwrap_or_default(),
        artwork_index: playlist.as_ref().map(|p| p.current).unwrap_or(0),
        style_key: status.worker.style_key.clone(),
        worker_state: format!("{:?}", status.worker.state),
        device: status.worker.device.clone(),
        gpu_memory_mb: status
            .worker
            .gpu_memory
            .map(|m| (m.allocated as f64 / 1048576.0, m.peak_allocated as f64 / 1048576.0)),
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
        faces_in_view: status.capture.as_ref().map(|c| c.faces.len()).unwrap_or(0),
        face_detection_ms: status.capture.as_ref().map(|c| c.face_cost_us / 1000.0).unwrap_or(0.0),
        visitors: timings.as_ref().map(|t| t.visitors).unwrap_or(0),
        still_to_countdown_ms: timings.and_then(|t| t.still_to_countdown).map(|d| d.as_secs_f64() * 1000.0),
        farm: status.worker.farm.as_ref().map(|f| f.describe()).unwrap_or_default(),
    };
    let text = ron::ser::to_string_pretty(&report, ron::ser::PrettyConfig::default()).unwrap_or_default();
    let result = write_atomically(&file.0, text.as_bytes());
    // Said once when it starts failing and once when it works again: a technician reading
    // "STALE" finds the reason in the journal and on the overlay.
    match (&result, &problem.0) {
        (Err(e), None) => tracing::error!("cannot write the status file: {e}"),
        (Ok(()), Some(_)) => tracing::info!("the status file {} is written again", file.0.display()),
        _ => {}
    }
    problem.0 = result.err();
}

/// A new file with a unique name in the same folder, renamed over the old one: a reader
/// never sees half a report, and two writers never share a temporary file.
fn write_atomically(path: &std::path::Path, bytes: &[u8]) -> Result<(), String> {
    let dir = path.parent().filter(|d| !d.as_os_str().is_empty()).unwrap_or(std::path::Path::new("."));
    let mut tmp =
        tempfile::Builder::new().prefix(".status-").tempfile_in(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    std::io::Write::write_all(&mut tmp, bytes).map_err(|e| format!("{}: {e}", tmp.path().display()))?;
    tmp.persist(path).map_err(|e| format!("{}: {}", path.display(), e.error))?;
    Ok(())
}

/// Why the status file cannot be written (None: it is), for the overlay.
#[derive(Resource, Default, Clone, Debug)]
pub struct StatusFileProblem(pub Option<String>);
