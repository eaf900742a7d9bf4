//! The worker thread and its supervisor: a panic restarts the worker (same style, same
//! policy) after a short delay; the display keeps showing the last painting meanwhile.

use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use crossbeam_channel::{Receiver, select};
use image::RgbImage;

use crate::capture::Frame;
use crate::config::Policy;
use crate::engine::{EngineError, Refiner, StyleParams, Vgg};
use crate::painting::outbox::Outbox;
use crate::painting::styles::KEPT_IMAGES;
use crate::painting::*;
use crate::paths::FileVersion;

/// The smallest size an out-of-memory error shrinks the painting to.
const SMALLEST_SIZE: u32 = 64;
const FIRST_RETRY_WAIT: Duration = Duration::from_secs(1);
const LONGEST_RETRY_WAIT: Duration = Duration::from_secs(60);

/// What survives a worker restart.
struct Persistent {
    selection: Option<StyleSelection>,
    paused: bool,
    /// Largest size that fitted in memory after an out-of-memory error.
    size_cap: Option<u32>,
    /// Out of memory at the smallest size: no step before this time (doubling waits).
    retry_at: Option<Instant>,
    retry_wait: Duration,
}

/// The thread's connections, shared by every run of the worker.
struct Link {
    cfg: WorkerConfig,
    frames: Receiver<Frame>,
    commands: Receiver<Command>,
    events: Outbox,
    status: Arc<Mutex<WorkerStatus>>,
}

impl Link {
    fn status(&self) -> MutexGuard<'_, WorkerStatus> {
        self.status.lock().expect("worker status lock")
    }

    fn notice(&self, error: bool, text: String) {
        self.events.notice("worker", error, text);
    }

    fn set_state(&self, state: WorkerState) {
        let mut s = self.status();
        if s.state != state {
            s.state = state;
        }
    }
}

pub fn spawn_worker(config: WorkerConfig, frames: Receiver<Frame>) -> WorkerHandle {
    let (cmd_tx, cmd_rx) = crossbeam_channel::unbounded();
    // Bounded: if the display stalls, the oldest events make room; the worker never blocks.
    let (events, ev_rx) = Outbox::bounded(16);
    let status = Arc::new(Mutex::new(WorkerStatus { device: config.device.describe(), ..Default::default() }));
    let link = Link { cfg: config, frames, commands: cmd_rx, events, status: status.clone() };
    let thread = std::thread::Builder::new()
        .name("style-worker".into())
        .spawn(move || supervise(link))
        .expect("spawn worker thread");
    WorkerHandle::new(cmd_tx, ev_rx, status, thread)
}

pub(crate) fn panic_message(p: &(dyn std::any::Any + Send)) -> String {
    p.downcast_ref::<String>()
        .cloned()
        .or_else(|| p.downcast_ref::<&str>().map(|s| s.to_string()))
        .unwrap_or_else(|| "unknown panic".into())
}

fn supervise(link: Link) {
    let mut persist = Persistent {
        selection: link.cfg.initial.clone(),
        paused: false,
        size_cap: None,
        retry_at: None,
        retry_wait: FIRST_RETRY_WAIT,
    };
    loop {
        let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| run(&link, &mut persist)));
        match outcome {
            Ok(RunEnd::Shutdown) => break,
            Ok(RunEnd::Restart) => tracing::info!("worker: restarting as asked (the network loads again)"),
            Err(p) => {
                let msg = panic_message(&*p);
                tracing::error!("worker crashed: {msg}; restarting in {:?}", link.cfg.restart_delay);
                {
                    let mut s = link.status();
                    s.restarts += 1;
                    s.last_crash = Some(Instant::now());
                    s.last_error = Some(format!("worker crashed: {msg}"));
                }
                link.events
                    .send(Event::Notice(Notice { error: true, text: format!("worker crashed ({msg}); restarted") }));
                std::thread::sleep(link.cfg.restart_delay);
            }
        }
    }
}

fn params_for(cfg: &WorkerConfig, persist: &Persistent) -> StyleParams {
    let mut p = persist.selection.as_ref().map(|s| s.params.clone()).unwrap_or_else(|| cfg.default_params.clone());
    if let (Some(gpu), true) = (cfg.on_gpu, cfg.device.is_cuda()) {
        p = gpu.apply(&p, cfg.policy);
    }
    if let Some(cap) = persist.size_cap {
        p.size = p.size.min(cap);
    }
    p
}

/// One run of the worker: loads the network, then paints until shutdown (or a panic).
/// Why one run of the worker ended.
enum RunEnd {
    Shutdown,
    /// Asked to restart: load the network again.
    Restart,
}

fn run(link: &Link, persist: &mut Persistent) -> RunEnd {
    link.set_state(WorkerState::Starting);
    {
        let mut s = link.status();
        s.heartbeat = Some(Instant::now());
        s.run_started = s.heartbeat;
    }
    let params = params_for(&link.cfg, persist);
    let refiner = Vgg::load(&link.cfg.root.join(&link.cfg.weights), link.cfg.device.device, params.pooling)
        .and_then(|vgg| Refiner::new(vgg, link.cfg.device, params));
    let mut refiner = match refiner {
        Ok(p) => p,
        Err(e) => return fail_until_shutdown(link, e.to_string()),
    };
    // Losses are shown with snapshots only: no need to wait for the GPU more often.
    refiner.set_loss_readback_every(link.cfg.snapshot_every);
    let pacing = Pacing { every: link.cfg.snapshot_every, interval: link.cfg.snapshot_interval };
    // Only a visitor's painting has a making-of (the mirror has no take-home).
    let paint = PaintLoop::new(refiner, "worker", pacing, link.cfg.policy == Policy::Paint);
    let library = StyleCache::new(KEPT_IMAGES);
    let mut worker = Worker { link, persist, paint, library, canvas: Canvas::default() };
    worker.run()
}

fn fail_until_shutdown(link: &Link, reason: String) -> RunEnd {
    tracing::error!("worker cannot paint: {reason}");
    link.set_state(WorkerState::Failed(reason.clone()));
    link.status().last_error = Some(reason.clone());
    link.events.send(Event::Notice(Notice { error: true, text: reason }));
    loop {
        // Failed, but alive: the heartbeat goes on (a restart would not load the weights either).
        link.status().heartbeat = Some(Instant::now());
        match link.commands.recv_timeout(Duration::from_secs(1)) {
            Ok(Command::Shutdown) | Err(crossbeam_channel::RecvTimeoutError::Disconnected) => return RunEnd::Shutdown,
            // The weights may have been fixed meanwhile: try again.
            Ok(Command::Restart) => return RunEnd::Restart,
            _ => {}
        }
    }
}

/// Per-run painting state (rebuilt after a restart).
struct Canvas {
    frame_seq: u64,
    first_snapshot_due: Option<Instant>,
    finished_at: Option<Instant>,
    want_frame: bool,
    steps_since_frame: u32,
    has_styles: bool,
    /// A frame handed over by command, painted at the next step.
    handed_over: Option<Frame>,
    /// A frame to go on painting from a painting made elsewhere, at the next step.
    continued: Option<(Frame, Arc<RgbImage>)>,
}

impl Default for Canvas {
    fn default() -> Self {
        Canvas {
            frame_seq: 0,
            first_snapshot_due: None,
            finished_at: None,
            want_frame: true,
            steps_since_frame: 0,
            has_styles: false,
            handed_over: None,
            continued: None,
        }
    }
}

/// How each policy continues the painting.
impl Policy {
    /// Does the policy want a new frame from the stream now?
    fn wants_frame(self, cfg: &WorkerConfig, refiner: &Refiner, canvas: &Canvas) -> bool {
        match self {
            _ if cfg.intake == Intake::OnCommand => false,
            Policy::Paint => canvas.want_frame || canvas.finished_at.is_some_and(|t| t.elapsed() >= cfg.hold_finished),
            Policy::Live => !refiner.has_content() || canvas.steps_since_frame >= cfg.live.iterations_per_frame.max(1),
        }
    }

    /// A new frame: paint it from the start (Paint) or carry the painting over to it (Live).
    fn start_frame(self, cfg: &WorkerConfig, refiner: &mut Refiner, frame: &Frame) -> Result<(), EngineError> {
        // Live: the face map follows the faces, frame by frame.
        refiner.set_faces(frame.faces.clone());
        match self {
            Policy::Live => refiner.follow((*frame.image).clone(), &cfg.live).map(|_| ()),
            Policy::Paint => {
                refiner.set_content((*frame.image).clone());
                refiner.restart(None)
            }
        }
    }

    /// A new style: paint the same frame again (Paint) or morph the painting into it (Live).
    fn restyle(self, refiner: &mut Refiner) -> Result<(), EngineError> {
        match self {
            Policy::Paint => refiner.restart(None),
            Policy::Live => refiner.warm_start(1.0),
        }
    }
}

enum Flow {
    Continue,
    Exit(RunEnd),
}

/// Everything one run of the worker works with.
struct Worker<'a> {
    link: &'a Link,
    persist: &'a mut Persistent,
    paint: PaintLoop,
    library: StyleCache<Option<FileVersion>>,
    canvas: Canvas,
}

impl Worker<'_> {
    fn run(&mut self) -> RunEnd {
        if let Some(sel) = self.persist.selection.clone() {
            self.apply_selection(sel);
        }
        loop {
            self.link.status().heartbeat = Some(Instant::now());
            let waiting_to_retry = self.persist.retry_at.is_some_and(|t| Instant::now() < t);
            let busy = !self.persist.paused
                && !waiting_to_retry
                && self.canvas.has_styles
                && self.paint.engine.has_content()
                && !self.paint.engine.is_finished();
            let wait = if busy { Duration::ZERO } else { Duration::from_millis(40) };
            // Commands first, so a tap on the screen takes effect at the next step. (The link is
            // a shared reference of its own, so reading it does not hold `self`.)
            let commands = &self.link.commands;
            let first = if wait.is_zero() { commands.try_recv().ok() } else { commands.recv_timeout(wait).ok() };
            for cmd in first.into_iter().chain(commands.try_iter()) {
                if let Flow::Exit(end) = self.handle(cmd) {
                    return end;
                }
            }
            if self.persist.paused {
                self.link.set_state(WorkerState::Paused);
                continue;
            }
            if !self.canvas.has_styles {
                self.link.set_state(WorkerState::WaitingForStyle);
                continue;
            }
            if waiting_to_retry {
                continue;
            }
            if !self.take_frame() {
                continue;
            }
            if self.paint.engine.is_finished() {
                if self.canvas.finished_at.is_none() {
                    self.canvas.finished_at = Some(Instant::now());
                    self.publish(true);
                }
                self.link.set_state(WorkerState::Holding);
                continue;
            }
            self.link.set_state(WorkerState::Painting);
            self.step();
        }
    }

    /// Gets a frame when the policy wants one. Returns false when there is nothing to paint.
    fn take_frame(&mut self) -> bool {
        let cfg = &self.link.cfg;
        if let Some((frame, painting)) = self.canvas.continued.take() {
            self.paint.engine.set_faces(frame.faces.clone());
            self.paint.engine.set_content((*frame.image).clone());
            if let Err(e) = self.paint.engine.continue_from(&painting) {
                self.link.notice(true, format!("cannot go on from the painting on screen: {e}"));
                return false;
            }
            self.started_frame(&frame);
        } else if let Some(frame) = self.canvas.handed_over.take() {
            self.paint.engine.set_faces(frame.faces.clone());
            self.paint.engine.set_content((*frame.image).clone());
            if let Err(e) = self.paint.engine.restart(None) {
                self.link.notice(true, format!("cannot start painting: {e}"));
                return false;
            }
            self.started_frame(&frame);
        } else if cfg.policy.wants_frame(cfg, &self.paint.engine, &self.canvas) {
            let frames = &self.link.frames;
            let frame = if self.paint.engine.has_content() {
                frames.try_recv().ok()
            } else {
                // Nothing on screen yet: wait a little for the first frame (commands stay responsive).
                select! {
                    recv(frames) -> f => f.ok(),
                    default(Duration::from_millis(40)) => None,
                }
            };
            if let Some(frame) = frame {
                if let Err(e) = cfg.policy.start_frame(cfg, &mut self.paint.engine, &frame) {
                    self.link.notice(true, format!("cannot start painting: {e}"));
                    return false;
                }
                self.started_frame(&frame);
            }
        }
        if !self.paint.engine.has_content() {
            self.link.set_state(WorkerState::WaitingForFrame);
            return false;
        }
        true
    }

    fn started_frame(&mut self, frame: &Frame) {
        let c = &mut self.canvas;
        c.frame_seq = frame.seq;
        c.first_snapshot_due = Some(frame.captured_at);
        c.finished_at = None;
        c.want_frame = false;
        c.steps_since_frame = 0;
        self.paint.new_painting();
    }

    fn step(&mut self) {
        match self.paint.step() {
            Ok(stepped) => {
                let p = stepped.progress;
                self.persist.retry_at = None;
                self.persist.retry_wait = FIRST_RETRY_WAIT;
                self.canvas.steps_since_frame += 1;
                {
                    let mut s = self.link.status();
                    s.iterations_per_second = p.iterations_per_second;
                    s.losses = p.losses;
                    s.size = self.paint.engine.params().size;
                    // The caching allocator's own counters: no device sync (None on CPU).
                    s.gpu_memory = crate::engine::cuda::memory_stats(self.paint.engine.device().device);
                }
                if stepped.snapshot_due || stepped.finished {
                    self.publish(stepped.finished);
                    if stepped.finished {
                        self.canvas.finished_at = Some(Instant::now());
                    }
                }
            }
            Err(e) if e.is_out_of_memory() && self.paint.engine.params().size <= SMALLEST_SIZE => {
                // Nothing smaller to try: wait (longer each time) instead of failing in a loop;
                // the memory may come back (another process on the GPU finishing).
                let wait = self.persist.retry_wait;
                self.persist.retry_at = Some(Instant::now() + wait);
                self.persist.retry_wait = (wait * 2).min(LONGEST_RETRY_WAIT);
                self.link.status().last_error = Some(e.to_string());
                self.link.notice(
                    true,
                    format!(
                        "out of memory even at {SMALLEST_SIZE} px, the smallest size; retrying in {:.0} s",
                        wait.as_secs_f64()
                    ),
                );
            }
            Err(e) if e.is_out_of_memory() => {
                let old = self.paint.engine.params().size;
                let new = (old * 3 / 4).max(SMALLEST_SIZE);
                self.persist.size_cap = Some(new);
                let mut params = self.paint.engine.params().clone();
                params.size = new;
                if let Err(e2) = self.paint.engine.set_params(params).and_then(|_| self.paint.engine.restart(None)) {
                    self.link.notice(true, format!("out of memory at {old} px and cannot restart smaller: {e2}"));
                } else {
                    self.link.notice(true, format!("out of memory at {old} px; painting at {new} px from now on"));
                }
                self.link.status().size = new;
            }
            Err(e) => {
                self.link.status().last_error = Some(e.to_string());
                self.link.notice(true, format!("painting step failed: {e}"));
                self.canvas.want_frame = true;
                std::thread::sleep(Duration::from_millis(200));
            }
        }
    }

    fn publish(&mut self, finished: bool) {
        let image = match self.paint.snapshot() {
            Ok(img) => img,
            Err(e) => return self.link.notice(true, format!("cannot read the painting: {e}")),
        };
        let p = self.paint.engine.progress();
        let latency = self.canvas.first_snapshot_due.take().map(|t| t.elapsed());
        let style_key = self.link.status().style_key.clone();
        let snap = Snapshot {
            image,
            iteration: p.iteration,
            total_iterations: p.total_iterations,
            level: p.level,
            losses: p.losses,
            iterations_per_second: p.iterations_per_second,
            frame_seq: self.canvas.frame_seq,
            style_key,
            finished,
            latency,
            levels: self.paint.engine.params().levels,
            // Gathered here, where the painting is made; the painting itself is the last frame.
            making_of: if finished { self.paint.take_making_of().frames_before_last() } else { Vec::new() },
        };
        if finished {
            self.link.status().paintings_finished += 1;
            tracing::info!(
                "painting finished: frame {}, \"{}\", {} iterations, {:.2} it/s, loss {:.3e}",
                self.canvas.frame_seq,
                snap.style_key,
                p.iteration,
                p.iterations_per_second,
                p.losses.total
            );
        }
        {
            let mut s = self.link.status();
            s.snapshots += 1;
            if let Some(l) = latency {
                s.last_latency = Some(l);
                s.first_snapshots += 1;
                tracing::debug!("frame {} first painting after {:?}", self.canvas.frame_seq, l);
            }
        }
        self.link.events.send(Event::Snapshot(snap));
    }

    fn handle(&mut self, cmd: Command) -> Flow {
        match cmd {
            Command::SelectStyle(sel) => self.apply_selection(sel),
            Command::Pause => self.persist.paused = true,
            Command::Resume => self.persist.paused = false,
            Command::CaptureNow => self.canvas.want_frame = true,
            Command::PaintFrame(frame) => self.canvas.handed_over = Some(frame),
            Command::ContinueFrom { frame, painting } => {
                self.canvas.handed_over = None;
                self.canvas.continued = Some((frame, painting));
            }
            Command::Forget => {
                self.paint.forget();
                self.canvas.handed_over = None;
                self.canvas.first_snapshot_due = None;
                self.canvas.finished_at = None;
                self.link.set_state(WorkerState::WaitingForFrame);
            }
            Command::InjectFault(f) => self.paint.inject(f),
            Command::Restart => return Flow::Exit(RunEnd::Restart),
            Command::Shutdown => return Flow::Exit(RunEnd::Shutdown),
        }
        Flow::Continue
    }

    fn apply_selection(&mut self, sel: StyleSelection) {
        let (styles, skipped) = self.library.resolve(&self.link.cfg.root, &sel.styles);
        for s in skipped {
            self.link.notice(true, s);
        }
        if styles.is_empty() {
            let text = format!("no usable style image for \"{}\"; keeping the current style", sel.key);
            self.link.status().last_error = Some(text.clone());
            self.link.notice(true, text);
            self.link.events.send(Event::StyleUnusable { key: sel.key, reason: "no style image decodes".into() });
            return;
        }
        let previous = self.persist.selection.replace(sel.clone());
        let params = params_for(&self.link.cfg, self.persist);
        if let Err(e) = self.paint.engine.set_params(params).and_then(|_| self.paint.engine.set_styles(styles)) {
            self.persist.selection = previous;
            self.link.notice(true, format!("cannot use \"{}\": {e}", sel.key));
            self.link.events.send(Event::StyleUnusable { key: sel.key, reason: e.to_string() });
            return;
        }
        self.canvas.has_styles = true;
        self.link.status().style_key = sel.key.clone();
        if self.paint.engine.has_content() {
            // The new style shows at once.
            if let Err(e) = self.link.cfg.policy.restyle(&mut self.paint.engine) {
                self.link.notice(true, format!("cannot restart with the new style: {e}"));
            }
            self.canvas.finished_at = None;
            self.canvas.first_snapshot_due = Some(Instant::now());
            self.paint.new_painting();
        }
    }
}
