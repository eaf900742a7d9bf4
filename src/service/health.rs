//! What the installation reports about itself: one [`Health`] snapshot, refreshed by the
//! display every frame, read by the HTTP endpoint and the watchdog.

use std::time::{Duration, Instant};

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
    /// GPU memory of the engine's device (CUDA only).
    pub gpu_memory: Option<crate::engine::cuda::MemoryStats>,
    /// With a painter farm: its link, as the worker sees it.
    pub farm: Option<crate::worker::FarmStatus>,
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
            artwork: String::new(),
            gpu_memory: None,
            farm: None,
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
        Ok(match (&self.resting, &self.camera_standin) {
            (true, _) => "resting (outside opening hours)".into(),
            (false, Some(why)) => format!("painting \"{}\" from the demo source, not a camera ({why})", self.artwork),
            (false, None) => format!("painting \"{}\"", self.artwork),
        })
    }

    /// The Prometheus text exposition format (version 0.0.4).
    pub fn prometheus(&self, now: Instant) -> String {
        let mut out = String::new();
        let mut metric = |name: &str, kind: &str, help: &str, value: f64| {
            out.push_str(&format!(
                "# HELP gallery_{name} {help}\n# TYPE gallery_{name} {kind}\ngallery_{name} {value}\n"
            ));
        };
        metric("up", "gauge", "1 when /health answers 200.", self.verdict(now).is_ok() as u8 as f64);
        metric(
            "uptime_seconds",
            "gauge",
            "Seconds since the app started.",
            now.duration_since(self.started).as_secs_f64(),
        );
        metric("display_fps", "gauge", "Display frames per second.", self.fps);
        metric("engine_iterations_per_second", "gauge", "Optimiser iterations per second.", self.iterations_per_second);
        metric(
            "capture_to_first_painting_seconds",
            "gauge",
            "From a frame's capture to its first painting on screen.",
            self.capture_to_first_painting_s.unwrap_or(f64::NAN),
        );
        metric("worker_restarts_total", "counter", "Worker restarts after a crash.", self.worker_restarts as f64);
        metric("paintings_finished_total", "counter", "Paintings run to the end.", self.paintings_finished as f64);
        metric("snapshots_total", "counter", "Snapshots published by the worker.", self.snapshots as f64);
        metric("camera_frames_total", "counter", "Frames captured.", self.camera_frames as f64);
        metric("camera_fps", "gauge", "Frames captured per second.", self.camera_fps);
        metric(
            "dropped_frames_total",
            "counter",
            "Frames replaced before the worker took them.",
            self.dropped_frames as f64,
        );
        metric("bad_frames_total", "counter", "Frames that did not decode.", self.bad_frames as f64);
        metric(
            "camera_reconnects_total",
            "counter",
            "Attempts to reopen a lost camera.",
            self.camera_reconnects as f64,
        );
        metric(
            "camera_ok",
            "gauge",
            "1 while a camera delivers: 0 when it is lost, stalled, not found, or a demo source stands in.",
            (self.camera_problem.is_none() && self.camera_standin.is_none()) as u8 as f64,
        );
        metric("visitors_total", "counter", "Visitors noticed.", self.visitors as f64);
        if let Some(f) = &self.farm {
            metric("farm_connected", "gauge", "1 while the painter farm's server answers.", f.connected as u8 as f64);
            metric(
                "farm_painting_locally",
                "gauge",
                "1 while this kiosk paints with its own engine because the farm cannot.",
                f.painting_locally as u8 as f64,
            );
            metric("farm_painters_alive", "gauge", "Painters announced on the farm.", f.painters.len() as f64);
            metric("farm_jobs_total", "counter", "Paintings sent to the farm.", f.jobs_submitted as f64);
            metric(
                "farm_jobs_redelivered_total",
                "counter",
                "Paintings another painter took over.",
                f.redelivered as f64,
            );
            metric(
                "farm_local_fallbacks_total",
                "counter",
                "Times the kiosk went to painting locally.",
                f.fallbacks as f64,
            );
            metric(
                "farm_queue_wait_seconds",
                "gauge",
                "From sending the last job to its first snapshot.",
                f.last_queue_wait.map_or(f64::NAN, |d| d.as_secs_f64()),
            );
        }
        if let Some(m) = self.gpu_memory {
            metric("gpu_memory_allocated_bytes", "gauge", "GPU memory held by tensors now.", m.allocated as f64);
            metric(
                "gpu_memory_peak_allocated_bytes",
                "gauge",
                "Most GPU memory held by tensors since start.",
                m.peak_allocated as f64,
            );
            metric(
                "gpu_memory_reserved_bytes",
                "gauge",
                "GPU memory reserved by the caching allocator.",
                m.reserved as f64,
            );
        }
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
