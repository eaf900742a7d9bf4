//! The capture thread: opens the source, reconnects with backoff when it fails, falls back
//! to a stand-in when no camera exists, and hands frames over latest-wins.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use crossbeam_channel::{Receiver, Sender, TrySendError};

use super::faces::{FaceDetectionConfig, FaceDetector, FaceModel, FaceWatch, FacesSeen};
use super::presence::{PresenceDetector, PresenceEvent, PresenceReading};
use super::{CaptureError, Frame, FrameSource};
use crate::config::PresenceConfig;

/// A presence event and the moment the frame that caused it was captured.
#[derive(Clone, Copy, Debug)]
pub struct PresenceSignal {
    pub event: PresenceEvent,
    pub at: Instant,
}

/// Opens a source; called again after each failure.
pub type SourceFactory = Box<dyn FnMut() -> Result<Box<dyn FrameSource>, CaptureError> + Send>;

#[derive(Clone, Debug, PartialEq)]
pub enum CaptureState {
    Starting,
    Running,
    /// The primary source worked and then failed; retrying.
    Lost {
        reason: String,
        retry_in: Duration,
    },
    /// The primary source never opened; frames come from the fallback.
    Fallback {
        reason: String,
    },
    /// The primary source never opened and there is no fallback (a kiosk that needs its
    /// camera): no frames; looking for it again with backoff.
    Missing {
        reason: String,
        retry_in: Duration,
    },
    /// Open, but no frame for a while (a wedged camera or driver); reported, not retried:
    /// the capture thread is blocked in the driver and resumes when a frame comes.
    Stalled {
        since: Duration,
    },
    Stopped,
}

/// No frame for this long while running: stalled (cameras deliver at 5 fps or more).
pub const STALL_AFTER: Duration = Duration::from_secs(3);

/// This many undecodable frames in a row: the source is treated as failed and reopened.
const BAD_FRAMES_IN_A_ROW: u32 = 30;

/// Shared, readable by the display at any time.
#[derive(Clone, Debug)]
pub struct CaptureStatus {
    pub state: CaptureState,
    pub source: String,
    pub frames: u64,
    /// Frames replaced by a newer one before the worker took them.
    pub dropped: u64,
    pub fps: f64,
    pub reconnects: u64,
    /// The newest frame, for a live preview on screen.
    pub latest: Option<Frame>,
    /// Who is in front of the camera (None: presence detection is off).
    pub presence: Option<PresenceReading>,
    /// Mean time the presence detector takes per frame, microseconds.
    pub presence_cost_us: f64,
    /// Faces in the latest detection (fractions of the frame), for the staff overlay.
    pub faces: Vec<crate::engine::FaceBox>,
    /// Mean time one face detection takes, microseconds (0: detection off).
    pub face_cost_us: f64,
    /// Frames that could not be decoded and were skipped.
    pub bad_frames: u64,
    /// When the last frame arrived.
    pub last_frame_at: Option<Instant>,
}

pub struct CaptureHandle {
    pub frames: Receiver<Frame>,
    /// Entered / still / moved / left, in order (bounded: a stalled reader loses the oldest).
    pub presence: Receiver<PresenceSignal>,
    pub status: Arc<Mutex<CaptureStatus>>,
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl CaptureHandle {
    /// The status, with a running source that has not delivered for [`STALL_AFTER`] reported
    /// as stalled (the capture thread cannot say so itself: it waits inside the driver).
    pub fn status(&self) -> CaptureStatus {
        let mut s = self.status.lock().expect("capture status lock").clone();
        if s.state == CaptureState::Running
            && let Some(since) = s.last_frame_at.map(|t| t.elapsed()).filter(|d| *d >= STALL_AFTER)
        {
            s.state = CaptureState::Stalled { since };
        }
        s
    }
    pub fn stop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

impl Drop for CaptureHandle {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
    }
}

pub struct CaptureOptions {
    pub backoff_start: Duration,
    pub backoff_max: Duration,
    /// While on the fallback, how often to look for the camera again.
    pub probe_primary_every: Duration,
    /// Look for visitors in every frame (None: off).
    pub presence: Option<PresenceConfig>,
    /// Look for faces (None: off): boxes go with each frame and to presence.
    pub faces: Option<(FaceModel, FaceDetectionConfig)>,
}

impl Default for CaptureOptions {
    fn default() -> Self {
        CaptureOptions {
            backoff_start: Duration::from_millis(500),
            backoff_max: Duration::from_secs(10),
            probe_primary_every: Duration::from_secs(30),
            presence: None,
            faces: None,
        }
    }
}

/// Starts the capture thread. `fallback` is used when `primary` cannot be opened at start.
pub fn spawn_capture(
    primary: SourceFactory,
    fallback: Option<SourceFactory>,
    options: CaptureOptions,
) -> CaptureHandle {
    // Capacity one plus a drain handle on the sending side: latest frame wins.
    let (tx, rx) = crossbeam_channel::bounded::<Frame>(1);
    let drain = rx.clone();
    let status = Arc::new(Mutex::new(CaptureStatus {
        state: CaptureState::Starting,
        source: String::new(),
        frames: 0,
        dropped: 0,
        fps: 0.0,
        reconnects: 0,
        latest: None,
        presence: None,
        presence_cost_us: 0.0,
        faces: Vec::new(),
        face_cost_us: 0.0,
        bad_frames: 0,
        last_frame_at: None,
    }));
    let stop = Arc::new(AtomicBool::new(false));
    let (presence_tx, presence_rx) = crossbeam_channel::bounded(64);
    let presence = Presence {
        detector: options.presence.clone().map(PresenceDetector::new),
        events: presence_tx,
        drain: presence_rx.clone(),
        origin: Instant::now(),
        cost_us: 0.0,
    };
    let thread = {
        let (status, stop) = (status.clone(), stop.clone());
        let run = CaptureThread { primary, fallback, options, tx, drain, status, stop, presence };
        std::thread::Builder::new().name("capture".into()).spawn(move || run.run()).expect("spawn capture thread")
    };
    CaptureHandle { frames: rx, presence: presence_rx, status, stop, thread: Some(thread) }
}

/// The presence detector and where its events go, owned by the capture thread.
struct Presence {
    detector: Option<PresenceDetector>,
    events: Sender<PresenceSignal>,
    drain: Receiver<PresenceSignal>,
    origin: Instant,
    /// Exponential mean of the per-frame cost, microseconds.
    cost_us: f64,
}

impl Presence {
    fn send(&self, event: PresenceEvent, at: Instant) {
        tracing::info!("presence: {event:?}");
        let signal = PresenceSignal { event, at };
        if let Err(TrySendError::Full(signal)) = self.events.try_send(signal) {
            // Keep the newest: drop the oldest.
            let _ = self.drain.try_recv();
            let _ = self.events.try_send(signal);
        }
    }

    /// `seen`: what the face detector said of this frame (None: it is off).
    fn look(&mut self, frame: &Frame, seen: Option<FacesSeen>) -> Option<PresenceReading> {
        let detector = self.detector.as_mut()?;
        let started = Instant::now();
        let t = frame.captured_at.duration_since(self.origin).as_secs_f64();
        let events = detector.update_with_faces(&frame.image, t, seen);
        let reading = detector.reading();
        let cost = started.elapsed().as_secs_f64() * 1e6;
        self.cost_us = if self.cost_us == 0.0 { cost } else { 0.95 * self.cost_us + 0.05 * cost };
        for e in events {
            self.send(e, frame.captured_at);
        }
        Some(reading)
    }

    /// Another source or view: the background must be learnt again.
    fn reset(&mut self) {
        if let Some(event) = self.detector.as_mut().and_then(|d| d.reset()) {
            self.send(event, Instant::now());
        }
    }
}

/// Another source or view: the background and the faces must be learnt again.
fn look_again(presence: &mut Presence, faces: &mut Option<FaceWatch>) {
    presence.reset();
    if let Some(f) = faces {
        f.reset();
    }
}

fn set_state(status: &Mutex<CaptureStatus>, state: CaptureState, source: Option<String>) {
    let mut s = status.lock().expect("capture status lock");
    if state == CaptureState::Running && s.state != CaptureState::Running {
        // A source just opened: the stall clock starts now, not at the last frame of before.
        s.last_frame_at = Some(Instant::now());
    }
    s.state = state;
    if let Some(src) = source {
        s.source = src;
    }
}

/// Waits that double after each failure up to a ceiling, and start over after a success
/// (a delivered frame, not merely an open device: a camera that opens but never delivers
/// must not be reopened in a tight loop).
struct Backoff {
    start: Duration,
    max: Duration,
    next: Duration,
}

impl Backoff {
    fn new(start: Duration, max: Duration) -> Backoff {
        Backoff { start, max, next: start }
    }
    fn current(&self) -> Duration {
        self.next
    }
    fn reset(&mut self) {
        self.next = self.start;
    }
    /// Sleeps the current wait (false if asked to stop meanwhile), then doubles it.
    fn wait(&mut self, stop: &AtomicBool) -> bool {
        let go_on = sleep_unless_stopped(self.next, stop);
        self.next = (self.next * 2).min(self.max);
        go_on
    }
}

fn sleep_unless_stopped(d: Duration, stop: &AtomicBool) -> bool {
    let end = Instant::now() + d;
    while Instant::now() < end {
        if stop.load(Ordering::SeqCst) {
            return false;
        }
        std::thread::sleep(Duration::from_millis(20).min(end - Instant::now()));
    }
    !stop.load(Ordering::SeqCst)
}

/// What the capture thread owns.
struct CaptureThread {
    primary: SourceFactory,
    fallback: Option<SourceFactory>,
    options: CaptureOptions,
    /// Latest wins: a channel of one, and a receiving handle to drop the stale frame.
    tx: Sender<Frame>,
    drain: Receiver<Frame>,
    status: Arc<Mutex<CaptureStatus>>,
    stop: Arc<AtomicBool>,
    presence: Presence,
}

impl CaptureThread {
    fn run(self) {
        let CaptureThread { mut primary, mut fallback, mut options, tx, drain, status, stop, mut presence } = self;
        // Made here: a face detector is not `Send`, so it lives on this thread.
        let mut faces: Option<FaceWatch> =
            options.faces.take().map(|(model, cfg)| FaceWatch::new(FaceDetector::new(&model, cfg)));
        // The loop only borrows the shared status and the stop flag.
        let (status, stop): (&Mutex<CaptureStatus>, &AtomicBool) = (&status, &stop);
        let mut seq = 0u64;
        let mut primary_ever_opened = false;
        let mut backoff = Backoff::new(options.backoff_start, options.backoff_max);
        let mut last_probe = Instant::now();
        let mut fps_window = (Instant::now(), 0u32);
        let mut bad_in_a_row = 0u32;
        let mut source: Option<(Box<dyn FrameSource>, bool)> = None; // (source, is_primary)

        while !stop.load(Ordering::SeqCst) {
            // Open something if nothing is open.
            if source.is_none() {
                match primary() {
                    Ok(s) => {
                        if primary_ever_opened {
                            // A reopen that worked is a reconnect too, not only the failed tries.
                            status.lock().expect("lock").reconnects += 1;
                            tracing::info!("capture: {} is back", s.name());
                        } else {
                            tracing::info!("capture: using {}", s.name());
                        }
                        set_state(status, CaptureState::Running, Some(s.name()));
                        primary_ever_opened = true;
                        look_again(&mut presence, &mut faces);
                        source = Some((s, true));
                    }
                    Err(e) if primary_ever_opened => {
                        // Lost after it worked: keep the last painting, retry with backoff.
                        status.lock().expect("lock").reconnects += 1;
                        let retry_in = backoff.current();
                        set_state(status, CaptureState::Lost { reason: e.to_string(), retry_in }, None);
                        tracing::warn!("capture: camera lost ({e}); retrying in {:.1}s", retry_in.as_secs_f64());
                        if !backoff.wait(stop) {
                            break;
                        }
                        continue;
                    }
                    Err(e) => match fallback.as_mut().map(|f| f()) {
                        Some(Ok(s)) => {
                            // Said once, clearly; then we run on the stand-in.
                            tracing::warn!("capture: no camera ({e}); showing {} instead", s.name());
                            set_state(status, CaptureState::Fallback { reason: e.to_string() }, Some(s.name()));
                            last_probe = Instant::now();
                            look_again(&mut presence, &mut faces);
                            source = Some((s, false));
                        }
                        Some(Err(fe)) => {
                            tracing::error!("capture: no camera ({e}) and the fallback failed too ({fe})");
                            let reason = format!("{e}; fallback: {fe}");
                            set_state(status, CaptureState::Lost { reason, retry_in: backoff.current() }, None);
                            if !backoff.wait(stop) {
                                break;
                            }
                            continue;
                        }
                        None => {
                            let retry_in = backoff.current();
                            {
                                let mut s = status.lock().expect("lock");
                                if !matches!(s.state, CaptureState::Missing { .. }) {
                                    tracing::error!("capture: no camera ({e}); looking for it again with backoff");
                                }
                                s.reconnects += 1;
                            }
                            set_state(status, CaptureState::Missing { reason: e.to_string(), retry_in }, None);
                            if !backoff.wait(stop) {
                                break;
                            }
                            continue;
                        }
                    },
                }
            }

            // On the fallback, look for the camera now and then.
            if matches!(source, Some((_, false))) && last_probe.elapsed() >= options.probe_primary_every {
                last_probe = Instant::now();
                if let Ok(s) = primary() {
                    tracing::info!("capture: camera found: {}", s.name());
                    set_state(status, CaptureState::Running, Some(s.name()));
                    primary_ever_opened = true;
                    look_again(&mut presence, &mut faces);
                    source = Some((s, true));
                }
            }

            let (src, is_primary) = source.as_mut().expect("opened above");
            match src.next_frame() {
                Ok(img) => {
                    backoff.reset();
                    bad_in_a_row = 0;
                    seq += 1;
                    let captured_at = Instant::now();
                    let (found, fresh_faces) = match &mut faces {
                        Some(watch) => {
                            let seen = watch.look(&img, captured_at);
                            (seen.faces.to_vec(), seen.fresh)
                        }
                        None => (Vec::new(), false),
                    };
                    let frame = Frame { image: Arc::new(img), seq, captured_at, faces: found };
                    let mut dropped = 0;
                    match tx.try_send(frame.clone()) {
                        Ok(()) => {}
                        Err(TrySendError::Full(f)) => {
                            if drain.try_recv().is_ok() {
                                dropped = 1;
                            }
                            let _ = tx.try_send(f);
                        }
                        Err(TrySendError::Disconnected(_)) => break,
                    }
                    fps_window.1 += 1;
                    let seen = faces.as_ref().map(|_| FacesSeen { faces: &frame.faces, fresh: fresh_faces });
                    let reading = presence.look(&frame, seen);
                    let mut s = status.lock().expect("lock");
                    s.presence = reading;
                    s.presence_cost_us = presence.cost_us;
                    s.faces.clone_from(&frame.faces);
                    s.face_cost_us = faces.as_ref().map_or(0.0, |f| f.cost_us);
                    s.frames += 1;
                    s.dropped += dropped;
                    s.latest = Some(frame);
                    s.last_frame_at = Some(Instant::now());
                    let elapsed = fps_window.0.elapsed().as_secs_f64();
                    if elapsed >= 1.0 {
                        s.fps = fps_window.1 as f64 / elapsed;
                        fps_window = (Instant::now(), 0);
                    }
                }
                Err(CaptureError::BadFrame(reason)) if bad_in_a_row + 1 < BAD_FRAMES_IN_A_ROW => {
                    // Skip it and count it; the next frame comes at the camera's pace.
                    bad_in_a_row += 1;
                    let mut s = status.lock().expect("lock");
                    s.bad_frames += 1;
                    if s.bad_frames.is_power_of_two() {
                        tracing::warn!(
                            "capture: skipped a bad frame from {} ({reason}); {} so far",
                            src.name(),
                            s.bad_frames
                        );
                    }
                }
                Err(e) => {
                    if matches!(e, CaptureError::BadFrame(_)) {
                        status.lock().expect("lock").bad_frames += 1;
                    }
                    bad_in_a_row = 0;
                    // Wait before reopening: a source that opens and then fails every frame
                    // (undecodable frames, a wedged driver) must not spin.
                    let retry_in = backoff.current();
                    tracing::warn!("capture: {} failed: {e}; reopening in {:.1}s", src.name(), retry_in.as_secs_f64());
                    if *is_primary {
                        set_state(status, CaptureState::Lost { reason: e.to_string(), retry_in }, None);
                    }
                    look_again(&mut presence, &mut faces);
                    source = None;
                    if !backoff.wait(stop) {
                        break;
                    }
                }
            }
        }
        set_state(status, CaptureState::Stopped, None);
    }
}
