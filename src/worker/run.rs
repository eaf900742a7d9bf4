//! The worker thread and its supervisor: a panic restarts the worker (same style, same
//! policy) after a short delay; the display keeps showing the last painting meanwhile.

use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use crossbeam_channel::{Receiver, Sender, select};

use super::messages::*;
use super::styles::StyleLibrary;
use crate::capture::Frame;
use crate::config::Policy;
use crate::engine::{EngineDevice, EngineError, Painter, StyleParams, Vgg};

/// Where the worker gets the frames it paints.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Intake {
    /// From the capture stream, as the policy asks (after each hold, or continuously).
    #[default]
    Stream,
    /// Only frames handed over with [`Command::PaintFrame`] (the visitor journey).
    OnCommand,
}

#[derive(Clone, Debug)]
pub struct WorkerConfig {
    /// Relative style paths resolve against this.
    pub root: PathBuf,
    pub weights: PathBuf,
    pub device: EngineDevice,
    pub policy: Policy,
    pub snapshot_every: u32,
    pub hold_finished: Duration,
    pub live_keep: f64,
    pub live_iterations_per_frame: u32,
    /// Parameters used until a selection brings its own.
    pub default_params: StyleParams,
    pub initial: Option<StyleSelection>,
    pub restart_delay: Duration,
    pub intake: Intake,
}

pub struct WorkerHandle {
    pub commands: Sender<Command>,
    pub events: Receiver<Event>,
    pub status: Arc<Mutex<WorkerStatus>>,
    thread: Option<JoinHandle<()>>,
}

impl WorkerHandle {
    pub fn status(&self) -> WorkerStatus {
        self.status.lock().expect("worker status lock").clone()
    }
    pub fn shutdown(&mut self) {
        let _ = self.commands.send(Command::Shutdown);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

impl Drop for WorkerHandle {
    fn drop(&mut self) {
        let _ = self.commands.send(Command::Shutdown);
    }
}

/// What survives a worker restart.
struct Persistent {
    selection: Option<StyleSelection>,
    paused: bool,
    /// Largest size that fitted in memory after an out-of-memory error.
    size_cap: Option<u32>,
    fault: Option<Fault>,
    /// Out of memory at the smallest size: no step before this time (doubling waits).
    retry_at: Option<Instant>,
    retry_wait: Duration,
}

/// The smallest size an out-of-memory error shrinks the painting to.
const SMALLEST_SIZE: u32 = 64;
const FIRST_RETRY_WAIT: Duration = Duration::from_secs(1);
const LONGEST_RETRY_WAIT: Duration = Duration::from_secs(60);

pub fn spawn_worker(config: WorkerConfig, frames: Receiver<Frame>) -> WorkerHandle {
    let (cmd_tx, cmd_rx) = crossbeam_channel::unbounded();
    // Bounded: if the display stalls, old snapshots are dropped, the worker never blocks.
    let (ev_tx, ev_rx) = crossbeam_channel::bounded(16);
    let status = Arc::new(Mutex::new(WorkerStatus { device: config.device.describe(), ..Default::default() }));
    let thread = {
        let status = status.clone();
        std::thread::Builder::new()
            .name("style-worker".into())
            .spawn(move || supervise(config, frames, cmd_rx, ev_tx, status))
            .expect("spawn worker thread")
    };
    WorkerHandle { commands: cmd_tx, events: ev_rx, status, thread: Some(thread) }
}

fn panic_message(p: &(dyn std::any::Any + Send)) -> String {
    p.downcast_ref::<String>()
        .cloned()
        .or_else(|| p.downcast_ref::<&str>().map(|s| s.to_string()))
        .unwrap_or_else(|| "unknown panic".into())
}

fn supervise(
    cfg: WorkerConfig,
    frames: Receiver<Frame>,
    commands: Receiver<Command>,
    events: Sender<Event>,
    status: Arc<Mutex<WorkerStatus>>,
) {
    let mut persist = Persistent {
        selection: cfg.initial.clone(),
        paused: false,
        size_cap: None,
        fault: None,
        retry_at: None,
        retry_wait: FIRST_RETRY_WAIT,
    };
    loop {
        let mut w = Worker { cfg: &cfg, frames: &frames, commands: &commands, events: &events, status: &status };
        let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| w.run(&mut persist)));
        match outcome {
            Ok(()) => break,
            Err(p) => {
                let msg = panic_message(&*p);
                tracing::error!("worker crashed: {msg}; restarting in {:?}", cfg.restart_delay);
                {
                    let mut s = status.lock().expect("lock");
                    s.restarts += 1;
                    s.last_error = Some(format!("worker crashed: {msg}"));
                }
                let _ = events.try_send(Event::Notice(Notice {
                    error: true,
                    text: format!("worker crashed ({msg}); restarted"),
                }));
                std::thread::sleep(cfg.restart_delay);
            }
        }
    }
}

struct Worker<'a> {
    cfg: &'a WorkerConfig,
    frames: &'a Receiver<Frame>,
    commands: &'a Receiver<Command>,
    events: &'a Sender<Event>,
    status: &'a Mutex<WorkerStatus>,
}

enum Flow {
    Continue,
    Exit,
}

/// Per-run painting state (rebuilt after a restart).
struct Canvas {
    frame_seq: u64,
    first_snapshot_due: Option<Instant>,
    finished_at: Option<Instant>,
    want_frame: bool,
    steps_since_snapshot: u32,
    steps_since_frame: u32,
    has_styles: bool,
    /// A frame handed over by command, painted at the next step.
    handed_over: Option<Frame>,
}

impl Worker<'_> {
    fn notice(&self, error: bool, text: String) {
        if error {
            tracing::warn!("worker: {text}");
        } else {
            tracing::info!("worker: {text}");
        }
        let _ = self.events.try_send(Event::Notice(Notice { error, text }));
    }

    fn set_state(&self, state: WorkerState) {
        let mut s = self.status.lock().expect("lock");
        if s.state != state {
            s.state = state;
        }
    }

    fn params_for(&self, persist: &Persistent) -> StyleParams {
        let mut p =
            persist.selection.as_ref().map(|s| s.params.clone()).unwrap_or_else(|| self.cfg.default_params.clone());
        if let Some(cap) = persist.size_cap {
            p.size = p.size.min(cap);
        }
        p
    }

    fn run(&mut self, persist: &mut Persistent) {
        self.set_state(WorkerState::Starting);
        let params = self.params_for(persist);
        let vgg = match Vgg::load(&self.cfg.root.join(&self.cfg.weights), self.cfg.device.device, params.pooling) {
            Ok(v) => v,
            Err(e) => return self.fail_until_shutdown(e.to_string()),
        };
        let mut painter = match Painter::new(vgg, self.cfg.device, params) {
            Ok(p) => p,
            Err(e) => return self.fail_until_shutdown(e.to_string()),
        };
        // Losses are shown with snapshots only: no need to wait for the GPU more often.
        painter.set_loss_readback_every(self.cfg.snapshot_every);
        let mut library = StyleLibrary::default();
        let mut canvas = Canvas {
            frame_seq: 0,
            first_snapshot_due: None,
            finished_at: None,
            want_frame: true,
            steps_since_snapshot: 0,
            steps_since_frame: 0,
            has_styles: false,
            handed_over: None,
        };
        if let Some(sel) = persist.selection.clone() {
            self.apply_selection(&mut painter, &mut library, &mut canvas, persist, sel);
        }
        loop {
            let waiting_to_retry = persist.retry_at.is_some_and(|t| Instant::now() < t);
            let busy = !persist.paused
                && !waiting_to_retry
                && canvas.has_styles
                && painter.has_content()
                && !painter.is_finished();
            let wait = if busy { Duration::ZERO } else { Duration::from_millis(40) };
            // Commands first, so a tap on the screen takes effect at the next step.
            let first =
                if wait.is_zero() { self.commands.try_recv().ok() } else { self.commands.recv_timeout(wait).ok() };
            for cmd in first.into_iter().chain(std::iter::from_fn(|| self.commands.try_recv().ok())) {
                if let Flow::Exit = self.handle(cmd, &mut painter, &mut library, &mut canvas, persist) {
                    return;
                }
            }
            if persist.paused {
                self.set_state(WorkerState::Paused);
                continue;
            }
            if !canvas.has_styles {
                self.set_state(WorkerState::WaitingForStyle);
                continue;
            }
            if waiting_to_retry {
                continue;
            }
            if !self.take_frame(&mut painter, &mut canvas) {
                continue;
            }
            if painter.is_finished() {
                if canvas.finished_at.is_none() {
                    canvas.finished_at = Some(Instant::now());
                    self.publish(&painter, &mut canvas, true);
                }
                self.set_state(WorkerState::Holding);
                continue;
            }
            self.set_state(WorkerState::Painting);
            self.step(&mut painter, &mut canvas, persist);
        }
    }

    /// Gets a frame when the policy wants one. Returns false when there is nothing to paint.
    fn take_frame(&self, painter: &mut Painter, canvas: &mut Canvas) -> bool {
        let due = match self.cfg.policy {
            _ if self.cfg.intake == Intake::OnCommand => false,
            Policy::Paint => {
                canvas.want_frame || canvas.finished_at.is_some_and(|t| t.elapsed() >= self.cfg.hold_finished)
            }
            Policy::Live => {
                !painter.has_content() || canvas.steps_since_frame >= self.cfg.live_iterations_per_frame.max(1)
            }
        };
        if let Some(frame) = canvas.handed_over.take() {
            painter.set_content((*frame.image).clone());
            if let Err(e) = painter.restart(None) {
                self.notice(true, format!("cannot start painting: {e}"));
                return false;
            }
            self.started_frame(canvas, &frame);
        } else if due {
            let frame = if painter.has_content() {
                self.frames.try_recv().ok()
            } else {
                // Nothing on screen yet: wait a little for the first frame (commands stay responsive).
                select! {
                    recv(self.frames) -> f => f.ok(),
                    default(Duration::from_millis(40)) => None,
                }
            };
            if let Some(frame) = frame {
                painter.set_content((*frame.image).clone());
                let started = match self.cfg.policy {
                    Policy::Live if canvas.frame_seq != 0 => painter.warm_start(self.cfg.live_keep),
                    _ => painter.restart(None),
                };
                if let Err(e) = started {
                    self.notice(true, format!("cannot start painting: {e}"));
                    return false;
                }
                self.started_frame(canvas, &frame);
            }
        }
        if !painter.has_content() {
            self.set_state(WorkerState::WaitingForFrame);
            return false;
        }
        true
    }

    fn started_frame(&self, canvas: &mut Canvas, frame: &Frame) {
        canvas.frame_seq = frame.seq;
        canvas.first_snapshot_due = Some(frame.captured_at);
        canvas.finished_at = None;
        canvas.want_frame = false;
        canvas.steps_since_frame = 0;
        canvas.steps_since_snapshot = 0;
    }

    fn step(&self, painter: &mut Painter, canvas: &mut Canvas, persist: &mut Persistent) {
        let result = match persist.fault.take() {
            Some(Fault::Panic) => panic!("injected fault: worker panic"),
            Some(Fault::OutOfMemory) => Err(EngineError::Torch("CUDA out of memory (injected fault)".into())),
            None => painter.step(),
        };
        match result {
            Ok(p) => {
                persist.retry_at = None;
                persist.retry_wait = FIRST_RETRY_WAIT;
                canvas.steps_since_snapshot += 1;
                canvas.steps_since_frame += 1;
                {
                    let mut s = self.status.lock().expect("lock");
                    s.iterations_per_second = p.iterations_per_second;
                    s.losses = p.losses;
                    s.size = painter.params().size;
                }
                if canvas.first_snapshot_due.is_some() || canvas.steps_since_snapshot >= self.cfg.snapshot_every {
                    let finished = painter.is_finished();
                    self.publish(painter, canvas, finished);
                    if finished {
                        canvas.finished_at = Some(Instant::now());
                    }
                }
            }
            Err(e) if e.is_out_of_memory() && painter.params().size <= SMALLEST_SIZE => {
                // Nothing smaller to try: wait (longer each time) instead of failing in a loop;
                // the memory may come back (another process on the GPU finishing).
                let wait = persist.retry_wait;
                persist.retry_at = Some(Instant::now() + wait);
                persist.retry_wait = (wait * 2).min(LONGEST_RETRY_WAIT);
                self.status.lock().expect("lock").last_error = Some(e.to_string());
                self.notice(
                    true,
                    format!(
                        "out of memory even at {SMALLEST_SIZE} px, the smallest size; retrying in {:.0} s",
                        wait.as_secs_f64()
                    ),
                );
            }
            Err(e) if e.is_out_of_memory() => {
                let old = painter.params().size;
                let new = (old * 3 / 4).max(SMALLEST_SIZE);
                persist.size_cap = Some(new);
                let mut params = painter.params().clone();
                params.size = new;
                if let Err(e2) = painter.set_params(params).and_then(|_| painter.restart(None)) {
                    self.notice(true, format!("out of memory at {old} px and cannot restart smaller: {e2}"));
                } else {
                    self.notice(true, format!("out of memory at {old} px; painting at {new} px from now on"));
                }
                self.status.lock().expect("lock").size = new;
            }
            Err(e) => {
                self.status.lock().expect("lock").last_error = Some(e.to_string());
                self.notice(true, format!("painting step failed: {e}"));
                canvas.want_frame = true;
                std::thread::sleep(Duration::from_millis(200));
            }
        }
    }

    fn publish(&self, painter: &Painter, canvas: &mut Canvas, finished: bool) {
        let image = match painter.painting() {
            Ok(img) => Arc::new(img),
            Err(e) => return self.notice(true, format!("cannot read the painting: {e}")),
        };
        let p = painter.progress();
        let latency = canvas.first_snapshot_due.take().map(|t| t.elapsed());
        let style_key = self.status.lock().expect("lock").style_key.clone();
        let snap = Snapshot {
            image,
            iteration: p.iteration,
            total_iterations: p.total_iterations,
            level: p.level,
            losses: p.losses,
            iterations_per_second: p.iterations_per_second,
            frame_seq: canvas.frame_seq,
            style_key,
            finished,
            latency,
            levels: painter.params().levels,
        };
        canvas.steps_since_snapshot = 0;
        if finished {
            tracing::info!(
                "painting finished: frame {}, \"{}\", {} iterations, {:.2} it/s, loss {:.3e}",
                canvas.frame_seq,
                snap.style_key,
                p.iteration,
                p.iterations_per_second,
                p.losses.total
            );
        }
        {
            let mut s = self.status.lock().expect("lock");
            s.snapshots += 1;
            if let Some(l) = latency {
                s.last_latency = Some(l);
                tracing::debug!("frame {} first painting after {:?}", canvas.frame_seq, l);
            }
        }
        let _ = self.events.try_send(Event::Snapshot(snap));
    }

    fn handle(
        &self,
        cmd: Command,
        painter: &mut Painter,
        library: &mut StyleLibrary,
        canvas: &mut Canvas,
        persist: &mut Persistent,
    ) -> Flow {
        match cmd {
            Command::SelectStyle(sel) => self.apply_selection(painter, library, canvas, persist, sel),
            Command::Pause => persist.paused = true,
            Command::Resume => persist.paused = false,
            Command::CaptureNow => canvas.want_frame = true,
            Command::PaintFrame(frame) => canvas.handed_over = Some(frame),
            Command::Forget => {
                painter.forget();
                canvas.handed_over = None;
                canvas.first_snapshot_due = None;
                canvas.finished_at = None;
                self.set_state(WorkerState::WaitingForFrame);
            }
            Command::InjectFault(f) => persist.fault = Some(f),
            Command::Shutdown => return Flow::Exit,
        }
        Flow::Continue
    }

    fn apply_selection(
        &self,
        painter: &mut Painter,
        library: &mut StyleLibrary,
        canvas: &mut Canvas,
        persist: &mut Persistent,
        sel: StyleSelection,
    ) {
        let (styles, skipped) = library.resolve(&self.cfg.root, &sel.styles);
        for s in skipped {
            self.notice(true, s);
        }
        if styles.is_empty() {
            self.notice(true, format!("no usable style image for \"{}\"; keeping the current style", sel.key));
            return;
        }
        persist.selection = Some(sel.clone());
        let params = self.params_for(persist);
        if let Err(e) = painter.set_params(params).and_then(|_| painter.set_styles(styles)) {
            self.notice(true, format!("cannot use \"{}\": {e}", sel.key));
            return;
        }
        canvas.has_styles = true;
        self.status.lock().expect("lock").style_key = sel.key.clone();
        if painter.has_content() {
            // The new style shows at once: paint the same frame again (paint) or morph the
            // current painting into the new style (live).
            let r = match self.cfg.policy {
                Policy::Paint => painter.restart(None),
                Policy::Live => painter.warm_start(1.0),
            };
            if let Err(e) = r {
                self.notice(true, format!("cannot restart with the new style: {e}"));
            }
            canvas.finished_at = None;
            canvas.first_snapshot_due = Some(Instant::now());
        }
    }

    fn fail_until_shutdown(&self, reason: String) {
        tracing::error!("worker cannot paint: {reason}");
        self.set_state(WorkerState::Failed(reason.clone()));
        self.status.lock().expect("lock").last_error = Some(reason.clone());
        let _ = self.events.try_send(Event::Notice(Notice { error: true, text: reason }));
        while let Ok(cmd) = self.commands.recv() {
            if matches!(cmd, Command::Shutdown) {
                return;
            }
        }
    }
}
