//! The status report `run --status-file PATH` rewrites twice a second, and `gallery-painter
//! status` reads: one screen for the technician.

use serde::{Deserialize, Serialize};

#[derive(Serialize, Deserialize, Debug, Default, Clone)]
#[serde(default)]
pub struct StatusReport {
    /// When it was written (seconds since 1970): an old one means the app is not running.
    pub written_unix_s: f64,
    /// "ok: ..." or "unhealthy: ..." as /health says it.
    pub health: String,
    pub caption: String,
    pub artwork_index: usize,
    pub style_key: String,
    pub worker_state: String,
    /// Where the engine runs, e.g. "CPU (2 threads)" or "CUDA:0 (Fp32, ...)".
    pub device: String,
    /// GPU memory held by tensors now and at most since start, MB (CUDA only).
    pub gpu_memory_mb: Option<(f64, f64)>,
    pub iterations_per_second: f64,
    pub snapshots: u64,
    pub paintings_finished: u64,
    pub worker_restarts: u32,
    pub last_error: String,
    pub capture_state: String,
    pub camera_source: String,
    pub camera_frames: u64,
    pub camera_fps: f64,
    pub bad_frames: u64,
    pub camera_reconnects: u64,
    pub display_fps: f64,
    pub picker: String,
    pub opening: String,
    pub painting_updates: u64,
    /// Attract | Noticed | Countdown | Painting | Reveal (empty without the journey).
    pub journey: String,
    /// absent | present | still (empty when presence detection is off).
    pub presence: String,
    /// Share of the region that differs from the background.
    pub presence_foreground: f32,
    pub presence_cost_ms: f64,
    /// Faces the detector sees now (a count: nothing of a face is written).
    pub faces_in_view: usize,
    /// Mean time of one face detection, ms (0: the detector is off).
    pub face_detection_ms: f64,
    pub visitors: u64,
    /// From "still" seen by the camera to the countdown's start, ms.
    pub still_to_countdown_ms: Option<f64>,
    /// With a painter farm: where the painting is made and which painters are alive.
    pub farm: String,
}

impl StatusReport {
    /// The technician's screen; `age_s`: how old the report is.
    pub fn render(&self, source: &str, age_s: f64) -> String {
        let mut out = format!("Gallery Painter - {source}, written {age_s:.1} s ago\n");
        if age_s > 10.0 {
            out.push_str("  STALE: the app is not running, or cannot write this file (the journal says which: `journalctl --user -u gallery-painter`)\n");
        }
        let row = |out: &mut String, k: &str, v: String| out.push_str(&format!("  {k:<10} {v}\n"));
        row(&mut out, "health", self.health.clone());
        row(
            &mut out,
            "artwork",
            format!("{} (#{}), {}, picker {}", self.caption, self.artwork_index + 1, self.opening, self.picker),
        );
        row(
            &mut out,
            "painter",
            format!(
                "{}, {:.2} it/s, {} snapshots, {} paintings finished, {} restarts",
                self.worker_state,
                self.iterations_per_second,
                self.snapshots,
                self.paintings_finished,
                self.worker_restarts
            ),
        );
        if !self.device.is_empty() {
            let memory = match self.gpu_memory_mb {
                Some((now, peak)) => format!(", GPU memory {now:.0} MB (peak {peak:.0} MB)"),
                None => String::new(),
            };
            row(&mut out, "engine", format!("{}{memory}", self.device));
        }
        if !self.farm.is_empty() {
            row(&mut out, "farm", self.farm.clone());
        }
        if !self.last_error.is_empty() {
            row(&mut out, "last error", self.last_error.clone());
        }
        row(
            &mut out,
            "camera",
            format!(
                "{} - {}, {} frames, {:.1} fps, {} bad, {} reconnects",
                self.capture_state,
                self.camera_source,
                self.camera_frames,
                self.camera_fps,
                self.bad_frames,
                self.camera_reconnects
            ),
        );
        row(&mut out, "display", format!("{:.1} fps, {} paintings shown", self.display_fps, self.painting_updates));
        row(
            &mut out,
            "faces",
            if self.face_detection_ms > 0.0 {
                format!("{} in view ({:.1} ms per detection)", self.faces_in_view, self.face_detection_ms)
            } else {
                "detector off".to_string()
            },
        );
        if !self.journey.is_empty() {
            row(
                &mut out,
                "journey",
                format!("{}, presence {}, {} visitors", self.journey, self.presence, self.visitors),
            );
        }
        out
    }
}
