//! The status report `run --status-file PATH` rewrites twice a second, and `gallery-painter
//! status` reads: one screen for the technician.

use serde::{Deserialize, Serialize};

use super::health::Health;

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

/// What only the display knows: its screens and how often the painting changed on them.
#[derive(Debug, Default, Clone)]
pub struct Screen {
    pub picker: String,
    pub opening: String,
    pub journey: String,
    pub painting_updates: u64,
}

impl StatusReport {
    /// The report of this moment: everything from the one health record (the same the
    /// `/health` verdict, `/metrics` and the console read), and the display's screens.
    pub fn new(h: &Health, now: std::time::Instant, written_unix_s: f64, screen: Screen) -> StatusReport {
        let d = &h.details;
        StatusReport {
            written_unix_s,
            health: match h.verdict(now) {
                Ok(s) => format!("ok: {s}"),
                Err(e) => format!("unhealthy: {e}"),
            },
            caption: h.artwork.clone(),
            artwork_index: d.artwork_index,
            style_key: d.style_key.clone(),
            worker_state: h.worker_state.clone(),
            device: d.device.clone(),
            gpu_memory_mb: h.gpu_memory.map(|m| (m.allocated as f64 / 1048576.0, m.peak_allocated as f64 / 1048576.0)),
            iterations_per_second: h.iterations_per_second,
            snapshots: h.snapshots,
            paintings_finished: h.paintings_finished,
            worker_restarts: h.worker_restarts,
            last_error: d.last_error.clone().unwrap_or_default(),
            capture_state: h.camera_state.clone(),
            camera_source: d.camera_source.clone(),
            camera_frames: h.camera_frames,
            camera_fps: h.camera_fps,
            bad_frames: h.bad_frames,
            camera_reconnects: h.camera_reconnects,
            display_fps: h.fps,
            picker: screen.picker,
            opening: screen.opening,
            painting_updates: screen.painting_updates,
            journey: screen.journey,
            presence: d.presence.to_string(),
            presence_foreground: d.presence_foreground,
            presence_cost_ms: d.presence_cost_ms,
            faces_in_view: d.faces_in_view,
            face_detection_ms: d.face_detection_ms,
            visitors: h.visitors,
            still_to_countdown_ms: d.still_to_countdown_ms,
            farm: h.farm.as_ref().map(|f| f.describe()).unwrap_or_default(),
        }
    }

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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_report_says_what_the_health_record_says() {
        let now = std::time::Instant::now();
        let mut h = Health::new(now);
        h.worker_state = "Painting".into();
        h.paintings_finished = 7;
        h.camera_frames = 120;
        h.artwork = "Ink Waves".into();
        h.details.artwork_index = 2;
        h.details.faces_in_view = 1;
        h.details.last_error = Some("the camera was lost".into());
        let screen = Screen { journey: "Reveal".into(), painting_updates: 3, ..Screen::default() };
        let r = StatusReport::new(&h, now, 1.5, screen);
        assert_eq!((r.worker_state.as_str(), r.paintings_finished, r.camera_frames), ("Painting", 7, 120));
        assert_eq!((r.caption.as_str(), r.artwork_index, r.faces_in_view), ("Ink Waves", 2, 1));
        assert_eq!(
            (r.last_error.as_str(), r.journey.as_str(), r.painting_updates),
            ("the camera was lost", "Reveal", 3)
        );
        // The verdict is the one /health gives for the same record.
        let verdict = h.verdict(now);
        assert_eq!(r.health, verdict.map(|s| format!("ok: {s}")).unwrap_or_else(|e| format!("unhealthy: {e}")));
        assert_eq!(r.written_unix_s, 1.5);
    }
}
