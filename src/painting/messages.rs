use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use image::RgbImage;

use crate::capture::Frame;
use crate::engine::{LossParts, StyleParams};

/// Which artwork(s) to paint with, and the parameters for it.
#[derive(Clone, Debug, PartialEq)]
pub struct StyleSelection {
    /// Identifies the selection in snapshots (e.g. the scene entry's title).
    pub key: String,
    pub styles: Vec<(PathBuf, f64)>,
    pub params: StyleParams,
}

/// Deliberate faults, for drills and tests of the recovery paths.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Fault {
    /// The worker thread panics at its next step.
    Panic,
    /// The next step fails as libtorch does when the GPU runs out of memory.
    OutOfMemory,
    /// The worker stops for this long at its next step, as a hung GPU call would.
    Hang(std::time::Duration),
}

#[derive(Clone, Debug)]
pub enum Command {
    SelectStyle(StyleSelection),
    Pause,
    Resume,
    /// Paint policy: drop the current painting and paint the newest frame now.
    CaptureNow,
    /// Paint this frame now (the visitor's frozen capture), from the start of the schedule.
    PaintFrame(Frame),
    /// Drop the photo and the painting (the visitor left): nothing of them stays in memory.
    Forget,
    /// Go on painting `frame` from `painting`, made elsewhere (the farm's last painting of the
    /// mirror, when the kiosk's own engine takes it over): no jump back to the camera's picture.
    ContinueFrom {
        frame: Frame,
        painting: Arc<RgbImage>,
    },
    InjectFault(Fault),
    /// Load the network again and go on painting (staff, from the console).
    Restart,
    Shutdown,
}

/// The painting at some iteration, ready for the display.
#[derive(Clone, Debug)]
pub struct Snapshot {
    pub image: Arc<RgbImage>,
    pub iteration: u32,
    pub total_iterations: u32,
    pub level: u32,
    pub losses: LossParts,
    pub iterations_per_second: f64,
    /// Sequence number of the captured frame it paints.
    pub frame_seq: u64,
    pub style_key: String,
    pub finished: bool,
    /// Set on the first snapshot of a frame: capture to first visible painting.
    pub latency: Option<Duration>,
    /// Number of levels in the schedule (`level` counts from 0).
    pub levels: u32,
    /// On a finished painting from the farm: the painter's snapshots before it, for the
    /// making-of (the kiosk may have missed some). Empty otherwise.
    pub making_of: Vec<Arc<RgbImage>>,
}

#[derive(Clone, Debug, Default, PartialEq)]
pub struct Notice {
    pub error: bool,
    pub text: String,
}

#[derive(Clone, Debug)]
pub enum Event {
    Snapshot(Snapshot),
    Notice(Notice),
    /// The selection `key` cannot be painted (its images do not decode, the engine refused
    /// them): whoever waits for a painting in it stops waiting.
    StyleUnusable {
        key: String,
        reason: String,
    },
}

#[derive(Clone, Debug, Default, PartialEq)]
pub enum WorkerState {
    #[default]
    Starting,
    WaitingForFrame,
    WaitingForStyle,
    Painting,
    Holding,
    Paused,
    /// Cannot paint (e.g. weights missing); the text says why and how to fix it.
    Failed(String),
}

#[derive(Clone, Debug, Default)]
pub struct WorkerStatus {
    pub state: WorkerState,
    pub device: String,
    pub iterations_per_second: f64,
    pub last_latency: Option<Duration>,
    /// Paintings whose first snapshot was shown (each sets `last_latency`).
    pub first_snapshots: u64,
    pub size: u32,
    pub restarts: u32,
    pub last_error: Option<String>,
    pub style_key: String,
    pub losses: LossParts,
    pub snapshots: u64,
    /// Paintings run to the end of their schedule.
    pub paintings_finished: u64,
    /// The last time the worker's loop came round (stale: hung in a step).
    pub heartbeat: Option<std::time::Instant>,
    /// When the current run of the worker began (after a crash: when it restarted).
    pub run_started: Option<std::time::Instant>,
    /// When the worker last crashed (a panic caught by its supervisor).
    pub last_crash: Option<std::time::Instant>,
    /// GPU memory of the engine's device (CUDA with the shim; None on CPU).
    pub gpu_memory: Option<crate::engine::cuda::MemoryStats>,
    /// With `engine.remote`: how the painter farm is doing.
    pub farm: Option<FarmStatus>,
}

/// The kiosk's view of the painter farm.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct FarmStatus {
    pub url: String,
    pub connected: bool,
    /// The farm cannot be used now: this kiosk paints with its own engine.
    pub painting_locally: bool,
    /// The painter painting this kiosk's job now.
    pub painter: Option<String>,
    pub painters: Vec<PainterSeen>,
    /// Times this kiosk went to painting locally.
    pub fallbacks: u64,
    /// Jobs of this kiosk another painter took over (the first one died or stalled).
    pub redelivered: u64,
    /// Jobs sent again: the server gave up on them (painters died on every delivery).
    pub resent: u64,
    pub jobs_submitted: u64,
    /// Submitted to first snapshot of the last job (waiting in the queue, then painting).
    pub last_queue_wait: Option<Duration>,
    /// Jobs whose first snapshot came (each sets `last_queue_wait`).
    pub queue_waits: u64,
    /// Bytes of snapshots and paintings received from painters.
    pub snapshot_bytes: u64,
    /// A painting is out and no painter has been heard from for a while.
    pub waiting: bool,
    /// Live mode: camera frames sent to the painter holding the mirror.
    pub live_frames_sent: u64,
    /// Messages dropped because they did not prove who sent them (forged snapshots,
    /// paintings, leases or painters' announcements: someone with farm credentials is at it).
    pub forgeries: u64,
}

impl FarmStatus {
    /// One line for the technician: `status`, the F12 overlay.
    pub fn describe(&self) -> String {
        let link = match (self.connected, self.painting_locally) {
            (_, true) => "painting locally",
            (true, false) => "painting on the farm",
            (false, false) => "farm unreachable",
        };
        let painters: Vec<String> = self
            .painters
            .iter()
            .map(|p| {
                format!(
                    "{} ({}, {:.1} it/s, {})",
                    p.name,
                    p.device,
                    p.iterations_per_second,
                    if p.busy { "busy" } else { "idle" }
                )
            })
            .collect();
        let mut mirror = if self.live_frames_sent > 0 {
            format!(" | Live frames sent {}", self.live_frames_sent)
        } else {
            String::new()
        };
        if self.forgeries > 0 {
            mirror.push_str(&format!(" | FORGED messages dropped {}", self.forgeries));
        }
        format!(
            "{link} | {} | painters alive: {} | jobs {}, taken over {}, sent again {}, local fallbacks {}{mirror}",
            self.url,
            if painters.is_empty() { "none".to_string() } else { painters.join(", ") },
            self.jobs_submitted,
            self.redelivered,
            self.resent,
            self.fallbacks
        )
    }
}

/// A painter announced on the farm.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct PainterSeen {
    pub name: String,
    pub device: String,
    pub iterations_per_second: f64,
    pub busy: bool,
}
