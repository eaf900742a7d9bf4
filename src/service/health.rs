//! What the installation reports about itself: one [`Health`] snapshot, refreshed by the
//! display every frame, read by the HTTP endpoint and the watchdog.

use std::time::{Duration, Instant};

use std::sync::atomic::AtomicU64;

use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{Histogram, exponential_buckets};
use prometheus_client::registry::Registry;

use crate::capture::CaptureState;

/// A render loop silent this long is frozen (the display redraws at least once a second).
pub const RENDER_STALE: Duration = Duration::from_secs(10);
/// A worker loop silent this long is hung (its longest step is a few seconds on a CPU).
pub const WORKER_STALE: Duration = Duration::from_secs(30);

#[derive(Clone, Debug)]
pub struct Health {
    pub started: Instant,
    /// The last frame the display ran its systems.
    pub render_heartbeat: Instant,
    pub worker_heartbeat: Option<Instant>,
    /// Display frames per second.
    pub fps: f64,
    pub worker_state: String,
    /// Why the worker cannot paint, if it cannot.
    pub worker_failed: Option<String>,
    pub worker_restarts: u32,
    pub iterations_per_second: f64,
    pub capture_to_first_painting_s: Option<f64>,
    pub paintings_finished: u64,
    pub snapshots: u64,
    pub camera_state: String,
    /// The camera (not a stand-in) is lost, stalled or, when required, not found: the reason.
    pub camera_problem: Option<String>,
    /// No camera, and a stand-in (the demo) paints instead: why the camera did not open.
    pub camera_standin: Option<String>,
    pub camera_frames: u64,
    pub camera_fps: f64,
    pub dropped_frames: u64,
    pub bad_frames: u64,
    pub camera_reconnects: u64,
    pub visitors: u64,
    /// Outside opening hours: resting on schedule.
    pub resting: bool,
    pub artwork: String,
    /// Artworks left out of the show because they cannot be used ("Title": why).
    pub artworks_refused: Vec<String>,
    /// The spoken journey is configured and cannot be heard: why.
    pub voice_silent: Option<String>,
    /// GPU memory of the engine's device (CUDA only).
    pub gpu_memory: Option<crate::engine::cuda::MemoryStats>,
    /// With a painter farm: its link, as the worker sees it.
    pub farm: Option<crate::painting::FarmStatus>,
    pub histograms: Histograms,
    /// The rest of what the status report says, copied here from the pipeline with the above.
    pub details: Details,
}

/// What the status file and `gallery-painter status` show beyond the verdict and the metrics.
#[derive(Clone, Debug, Default)]
pub struct Details {
    pub last_error: Option<String>,
    pub camera_source: String,
    pub artwork_index: usize,
    pub style_key: String,
    /// Where the engine runs, e.g. "CPU (2 threads)".
    pub device: String,
    /// absent | present | still (empty when presence detection is off).
    pub presence: &'static str,
    pub presence_foreground: f32,
    pub presence_cost_ms: f64,
    /// Faces the detector sees now (a count: nothing of a face is kept).
    pub faces_in_view: usize,
    pub face_detection_ms: f64,
    pub still_to_countdown_ms: Option<f64>,
}

/// Distributions kept since start (the rest of the metrics are this moment's values).
#[derive(Clone, Debug)]
pub struct Histograms {
    pub capture_to_first_painting: Histogram,
    pub farm_queue_wait: Histogram,
}

impl Default for Histograms {
    fn default() -> Self {
        // 50 ms to ~100 s: a GPU's first snapshot to a long queue on a CPU.
        let buckets = || exponential_buckets(0.05, 2.0, 12);
        Histograms { capture_to_first_painting: Histogram::new(buckets()), farm_queue_wait: Histogram::new(buckets()) }
    }
}

fn gauge(r: &mut Registry, name: &str, help: &str, value: f64) {
    let g = Gauge::<f64, AtomicU64>::default();
    g.set(value);
    r.register(name, help, g);
}

fn whole(r: &mut Registry, name: &str, help: &str, value: i64) {
    let g = Gauge::<i64>::default();
    g.set(value);
    r.register(name, help, g);
}

fn flag(r: &mut Registry, name: &str, help: &str, on: bool) {
    let g = Gauge::<i64>::default();
    g.set(on as i64);
    r.register(name, help, g);
}

/// `name` without `_total`: the encoder adds it.
fn counter(r: &mut Registry, name: &str, help: &str, value: u64) {
    let c = Counter::<u64>::default();
    c.inc_by(value);
    r.register(name, help, c);
}

impl Health {
    pub fn new(now: Instant) -> Health {
        Health {
            started: now,
            render_heartbeat: now,
            worker_heartbeat: None,
            fps: 0.0,
            worker_state: String::new(),
            worker_failed: None,
            worker_restarts: 0,
            iterations_per_second: 0.0,
            capture_to_first_painting_s: None,
            paintings_finished: 0,
            snapshots: 0,
            camera_state: String::new(),
            camera_problem: None,
            camera_standin: None,
            camera_frames: 0,
            camera_fps: 0.0,
            dropped_frames: 0,
            bad_frames: 0,
            camera_reconnects: 0,
            visitors: 0,
            resting: false,
            artworks_refused: Vec::new(),
            voice_silent: None,
            artwork: String::new(),
            gpu_memory: None,
            farm: None,
            histograms: Histograms::default(),
            details: Details::default(),
        }
    }

    /// Is the render loop making progress?
    pub fn render_alive(&self, now: Instant) -> bool {
        now.duration_since(self.render_heartbeat) < RENDER_STALE
    }

    /// `Ok(what it is doing)` or `Err(what is wrong)`, the first problem found.
    pub fn verdict(&self, now: Instant) -> Result<String, String> {
        if !self.render_alive(now) {
            let s = now.duration_since(self.render_heartbeat).as_secs_f64();
            return Err(format!("the display has not updated for {s:.0} s"));
        }
        if let Some(reason) = &self.worker_failed {
            return Err(format!("the painter has stopped: {reason}"));
        }
        // A worker still loading the network has no heartbeat yet: give it the same grace.
        let worker_age = self.worker_heartbeat.unwrap_or(self.started);
        if now.duration_since(worker_age) >= WORKER_STALE {
            let s = now.duration_since(worker_age).as_secs_f64();
            return Err(format!("the painter has not responded for {s:.0} s"));
        }
        if let Some(problem) = &self.camera_problem {
            return Err(format!("camera: {problem}"));
        }
        let doing = match (&self.resting, &self.camera_standin) {
            (true, _) => "resting (outside opening hours)".into(),
            (false, Some(why)) => format!("painting \"{}\" from the demo source, not a camera ({why})", self.artwork),
            (false, None) => format!("painting \"{}\"", self.artwork),
        };
        // The show goes on without them; staff need to know which, and why.
        let mut doing = match self.artworks_refused.as_slice() {
            [] => doing,
            refused => format!("{doing}; not shown: {}", refused.join("; ")),
        };
        if let Some(why) = &self.voice_silent {
            doing.push_str(&format!("; voice silent: {why}"));
        }
        Ok(doing)
    }

    /// The OpenMetrics text format (Prometheus reads it), from a registry of this snapshot's
    /// values and the histograms kept since start.
    pub fn prometheus(&self, now: Instant) -> String {
        let mut registry = Registry::with_prefix("gallery");
        let r = &mut registry;
        flag(r, "up", "1 when /health answers 200.", self.verdict(now).is_ok());
        flag(r, "voice_silent", "1 when the spoken journey is on and cannot be heard.", self.voice_silent.is_some());
        whole(
            r,
            "artworks_refused",
            "Artworks of the scene left out because they cannot be used.",
            self.artworks_refused.len() as i64,
        );
        gauge(r, "uptime_seconds", "Seconds since the app started.", now.duration_since(self.started).as_secs_f64());
        gauge(r, "display_fps", "Display frames per second.", self.fps);
        gauge(r, "engine_iterations_per_second", "Optimiser iterations per second.", self.iterations_per_second);
        r.register(
            "capture_to_first_painting_seconds",
            "From a frame's capture to its first painting on screen (here or on the farm).",
            self.histograms.capture_to_first_painting.clone(),
        );
        counter(r, "worker_restarts", "Worker restarts after a crash.", self.worker_restarts as u64);
        counter(r, "paintings_finished", "Paintings run to the end.", self.paintings_finished);
        counter(r, "snapshots", "Snapshots published by the worker.", self.snapshots);
        counter(r, "camera_frames", "Frames captured.", self.camera_frames);
        gauge(r, "camera_fps", "Frames captured per second.", self.camera_fps);
        counter(r, "dropped_frames", "Frames replaced before the worker took them.", self.dropped_frames);
        counter(r, "bad_frames", "Frames that did not decode.", self.bad_frames);
        counter(r, "camera_reconnects", "Attempts to reopen a lost camera.", self.camera_reconnects);
        flag(
            r,
            "camera_ok",
            "1 while a camera delivers: 0 when it is lost, stalled, not found, or a demo source stands in.",
            self.camera_problem.is_none() && self.camera_standin.is_none(),
        );
        counter(r, "visitors", "Visitors noticed.", self.visitors);
        if let Some(f) = &self.farm {
            flag(r, "farm_connected", "1 while the painter farm's server answers.", f.connected);
            flag(
                r,
                "farm_painting_locally",
                "1 while this kiosk paints with its own engine because the farm cannot.",
                f.painting_locally,
            );
            whole(r, "farm_painters_alive", "Painters announced on the farm.", f.painters.len() as i64);
            counter(r, "farm_jobs", "Paintings sent to the farm.", f.jobs_submitted);
            counter(r, "farm_jobs_redelivered", "Paintings another painter took over.", f.redelivered);
            counter(r, "farm_local_fallbacks", "Times the kiosk went to painting locally.", f.fallbacks);
            counter(r, "farm_jobs_resent", "Paintings sent again after the server gave up on them.", f.resent);
            counter(
                r,
                "farm_snapshot_bytes",
                "Bytes of snapshots and paintings received from painters.",
                f.snapshot_bytes,
            );
            r.register(
                "farm_queue_wait_seconds",
                "From sending a job to the farm to its first snapshot (queue, then the first steps).",
                self.histograms.farm_queue_wait.clone(),
            );
        }
        if let Some(m) = self.gpu_memory {
            whole(r, "gpu_memory_allocated_bytes", "GPU memory held by tensors now.", m.allocated);
            whole(
                r,
                "gpu_memory_peak_allocated_bytes",
                "Most GPU memory held by tensors since start.",
                m.peak_allocated,
            );
            whole(r, "gpu_memory_reserved_bytes", "GPU memory reserved by the caching allocator.", m.reserved);
        }
        let mut out = String::new();
        prometheus_client::encoding::text::encode(&mut out, &registry).expect("encoding into a String cannot fail");
        out
    }
}

/// What the capture state means for health: (a problem that makes the kiosk unhealthy, the
/// reason a stand-in source paints instead of the camera).
pub fn camera_report(state: &CaptureState) -> (Option<String>, Option<String>) {
    match state {
        CaptureState::Lost { reason, .. } => (Some(format!("lost ({reason})")), None),
        CaptureState::Missing { reason, retry_in } => {
            (Some(format!("not found ({reason}); looking again in {:.0} s", retry_in.as_secs_f64())), None)
        }
        CaptureState::Stalled { since } => (Some(format!("no frame for {:.0} s", since.as_secs_f64())), None),
        CaptureState::Fallback { reason } => (None, Some(reason.clone())),
        CaptureState::Starting | CaptureState::Running | CaptureState::Stopped => (None, None),
    }
}
