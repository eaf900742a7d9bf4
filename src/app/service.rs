//! Running unattended, the display's side: refreshes the [`Health`] snapshot every frame
//! (the HTTP endpoint reads it), pings the systemd watchdog from the render loop, and runs
//! scheduled faults for rehearsals (`GALLERY_PAINTER_FAULTS`).

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use bevy::prelude::*;

use super::journey::JourneyTimings;
use super::pipeline::{PipelineStatus, SendCommand};
use super::rotation::{Opening, Playlist};
use crate::painting::{Command, WorkerState};
use crate::service::faults::{FaultKind, ScheduledFault};
use crate::service::health::Health;
use crate::service::watchdog::Watchdog;

/// The shared snapshot the health endpoint and the watchdog read.
#[derive(Resource, Clone)]
pub struct HealthBoard(pub Arc<Mutex<Health>>);

impl Default for HealthBoard {
    fn default() -> Self {
        HealthBoard(Arc::new(Mutex::new(Health::new(Instant::now()))))
    }
}

#[derive(Resource)]
pub struct WatchdogState(pub Watchdog);

/// Faults still to come, in time order.
#[derive(Resource, Default)]
pub struct FaultSchedule(pub Vec<ScheduledFault>);

pub(super) fn plugin(app: &mut App) {
    app.init_resource::<HealthBoard>()
        .init_resource::<FaultSchedule>()
        .add_systems(Update, inject_faults.in_set(super::AppSystems::Send))
        .add_systems(Last, (refresh_health, ping_watchdog, daily_summary).chain());
}

/// One log line a day with the day's totals (journald keeps them; `journalctl --user -u
/// gallery-painter -g "daily summary"` lists the exhibition day by day).
pub const SUMMARY_EVERY: Duration = Duration::from_secs(24 * 3600);

/// The totals at the last summary.
#[derive(Default)]
struct SummaryMark {
    at: Option<Instant>,
    visitors: u64,
    paintings: u64,
    restarts: u32,
    reconnects: u64,
    bad_frames: u64,
}

fn daily_summary(board: Res<HealthBoard>, mut mark: Local<SummaryMark>) {
    let h = board.0.lock().expect("health lock");
    let now = Instant::now();
    let Some(at) = mark.at else {
        mark.at = Some(now);
        return;
    };
    if now.duration_since(at) < SUMMARY_EVERY {
        return;
    }
    tracing::info!(
        "daily summary: {} visitors, {} paintings finished, {} worker restarts, {} camera reconnects, {} bad frames; now {}",
        h.visitors - mark.visitors.min(h.visitors),
        h.paintings_finished - mark.paintings.min(h.paintings_finished),
        h.worker_restarts - mark.restarts.min(h.worker_restarts),
        h.camera_reconnects - mark.reconnects.min(h.camera_reconnects),
        h.bad_frames - mark.bad_frames.min(h.bad_frames),
        h.verdict(now).unwrap_or_else(|e| format!("UNHEALTHY: {e}"))
    );
    *mark = SummaryMark {
        at: Some(now),
        visitors: h.visitors,
        paintings: h.paintings_finished,
        restarts: h.worker_restarts,
        reconnects: h.camera_reconnects,
        bad_frames: h.bad_frames,
    };
}

#[allow(clippy::too_many_arguments)] // a Bevy system: each parameter is one source of the report
fn refresh_health(
    board: Res<HealthBoard>,
    status: Res<PipelineStatus>,
    playlist: Option<Res<Playlist>>,
    opening: Option<Res<State<Opening>>>,
    timings: Option<Res<JourneyTimings>>,
    voice: (Option<Res<super::voice::VoiceDesk>>, Option<Res<super::voice::AudioOutputMissing>>),
    time: Res<Time>,
    mut fps: Local<f64>,
    mut observed: Local<(u64, u64)>,
) {
    let dt = time.delta_secs_f64();
    if dt > 0.0 {
        // A smoothed rate: one slow frame does not swing the reading.
        *fps = if *fps == 0.0 { 1.0 / dt } else { 0.9 * *fps + 0.1 / dt };
    }
    let mut h = board.0.lock().expect("health lock");
    h.render_heartbeat = Instant::now();
    h.fps = *fps;
    let w = &status.worker;
    h.worker_heartbeat = w.heartbeat;
    h.worker_state = format!("{:?}", w.state);
    h.worker_failed = match &w.state {
        WorkerState::Failed(reason) => Some(reason.clone()),
        _ => None,
    };
    h.worker_restarts = w.restarts;
    h.iterations_per_second = w.iterations_per_second;
    h.capture_to_first_painting_s = w.last_latency.map(|d| d.as_secs_f64());
    // Each new first snapshot (and farm queue wait) once into its histogram.
    if w.first_snapshots != observed.0 {
        observed.0 = w.first_snapshots;
        if let Some(l) = w.last_latency {
            h.histograms.capture_to_first_painting.observe(l.as_secs_f64());
        }
    }
    if let Some(f) = &w.farm
        && f.queue_waits != observed.1
    {
        observed.1 = f.queue_waits;
        if let Some(q) = f.last_queue_wait {
            h.histograms.farm_queue_wait.observe(q.as_secs_f64());
        }
    }
    h.paintings_finished = w.paintings_finished;
    h.snapshots = w.snapshots;
    h.gpu_memory = w.gpu_memory;
    h.farm = w.farm.clone();
    // Every frame: `clone_from` keeps the strings' memory when nothing changed.
    h.details.last_error.clone_from(&w.last_error);
    h.details.style_key.clone_from(&w.style_key);
    h.details.device.clone_from(&w.device);
    if let Some(c) = &status.capture {
        h.details.camera_source.clone_from(&c.source);
        h.details.presence = c.presence.map(|p| p.describe()).unwrap_or_default();
        h.details.presence_foreground = c.presence.map(|p| p.foreground).unwrap_or(0.0);
        h.details.presence_cost_ms = c.presence_cost_us / 1000.0;
        h.details.faces_in_view = c.faces.len();
        h.details.face_detection_ms = c.face_cost_us / 1000.0;
        h.camera_state = format!("{:?}", c.state);
        (h.camera_problem, h.camera_standin) = crate::service::health::camera_report(&c.state);
        h.camera_frames = c.frames;
        h.camera_fps = c.fps;
        h.dropped_frames = c.dropped;
        h.bad_frames = c.bad_frames;
        h.camera_reconnects = c.reconnects;
    }
    h.visitors = timings.as_ref().map(|t| t.visitors).unwrap_or(0);
    h.details.still_to_countdown_ms = timings.and_then(|t| t.still_to_countdown).map(|d| d.as_secs_f64() * 1000.0);
    h.resting = opening.is_some_and(|o| *o.get() == Opening::Closed);
    h.artworks_refused = playlist.as_ref().map(|p| p.refused()).unwrap_or_default();
    h.voice_silent = super::voice::silent_because(voice.0.as_deref(), voice.1.as_deref());
    h.details.artwork_index = playlist.as_ref().map(|p| p.current).unwrap_or(0);
    h.artwork = playlist.map(|p| p.entry().caption()).unwrap_or_default();
}

fn ping_watchdog(board: Res<HealthBoard>, watchdog: Option<ResMut<WatchdogState>>) {
    let Some(mut watchdog) = watchdog else { return };
    let h = board.0.lock().expect("health lock").clone();
    watchdog.0.tick(&h, Instant::now());
}

fn inject_faults(
    mut schedule: ResMut<FaultSchedule>,
    board: Res<HealthBoard>,
    mut commands: MessageWriter<SendCommand>,
) {
    let started = board.0.lock().expect("health lock").started;
    while schedule.0.first().is_some_and(|f| started.elapsed() >= f.at) {
        let fault = schedule.0.remove(0);
        tracing::warn!("injected fault: {}", fault.kind);
        match fault.kind {
            FaultKind::Painting(f) => {
                commands.write(SendCommand(Command::InjectFault(f)));
            }
            // The render loop itself stops, as a frozen display driver would stop it.
            FaultKind::RenderHang(d) => std::thread::sleep(d.min(Duration::from_secs(600))),
        }
    }
}
