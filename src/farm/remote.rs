//! The kiosk's remote worker: the worker contract (commands and frames in, events out) kept
//! over the painter farm, so display, journey, picker and rotation do not know where the
//! painting is made. A photo becomes a job on the kiosk's own subject (a new one replaces a
//! queued one); snapshots come back on the job's subject and are shown as they arrive.
//!
//! When the farm cannot paint (the server unreachable, or no painter alive while a painting
//! waits) the kiosk's own engine paints, the local worker behind the same contract, and the
//! kiosk goes back to the farm by itself once the server answers again.

use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use async_nats::jetstream;
use bytes::Bytes;
use crossbeam_channel::{Receiver, Sender};
use futures_util::StreamExt;
use image::RgbImage;

use super::protocol::{self, JobSpec, JobStyle, Progress};
use super::styles::Uploads;
use crate::capture::Frame;
use crate::config::{Policy, RemoteConfig};
use crate::engine::imageio;
use crate::worker::outbox::Outbox;
use crate::worker::{
    Command, Event, FarmStatus, Intake, Notice, PainterSeen, Snapshot, StyleSelection, WorkerConfig, WorkerHandle,
    WorkerState, WorkerStatus, spawn_worker,
};

mod live;

/// Connected this long before the kiosk trusts the farm again.
const BACK_AFTER: Duration = Duration::from_secs(2);
/// A painting with no news this long: say on screen that it waits for a painter.
const QUIET_NOTICE: Duration = Duration::from_secs(6);
/// While a job is out and quiet, ask the results stream this often (a result published while
/// this kiosk was cut off is not missed).
const RESULT_POLL: Duration = Duration::from_secs(2);
/// A job silent this long while a painter sits idle is no longer queued anywhere (its
/// painters died more often than the server redelivers it): it is sent again.
const LOST_AFTER: Duration = Duration::from_secs(20);
/// ... and a painter has been idle this long (two announcements; it pulls every 2 s).
const IDLE_FOR: Duration = Duration::from_secs(7);
/// Server round trips from the worker's loop wait at most this long.
const CALL_TIMEOUT: Duration = Duration::from_secs(3);

pub fn spawn_remote_worker(config: WorkerConfig, remote: RemoteConfig, frames: Receiver<Frame>) -> WorkerHandle {
    let (cmd_tx, cmd_rx) = crossbeam_channel::unbounded();
    let (events, ev_rx) = Outbox::bounded(16);
    let status = Arc::new(Mutex::new(WorkerStatus {
        device: format!("painter farm {}", remote.url),
        farm: Some(FarmStatus { url: remote.url.clone(), ..Default::default() }),
        ..Default::default()
    }));
    let shared = status.clone();
    let thread = std::thread::Builder::new()
        .name("farm-worker".into())
        .spawn(move || {
            // As the local worker's supervisor does: a panic starts the remote worker again.
            loop {
                let run = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                    let started = Remote::start(
                        config.clone(),
                        remote.clone(),
                        frames.clone(),
                        cmd_rx.clone(),
                        events.clone(),
                        shared.clone(),
                    );
                    match started {
                        Ok(mut r) => r.run(),
                        Err(e) => {
                            // Cannot even start a client (a missing CA file): say so, and stay failed.
                            tracing::error!("farm: {e:#}");
                            events.send(Event::Notice(Notice {
                                error: true,
                                text: format!("painter farm unusable: {e:#}"),
                            }));
                            shared.lock().expect("worker status").state = WorkerState::Failed(format!("{e:#}"));
                        }
                    }
                }));
                match run {
                    Ok(()) => return,
                    Err(p) => {
                        let msg = crate::worker::panic_message(&*p);
                        tracing::error!("farm worker crashed: {msg}; starting again");
                        {
                            let mut s = shared.lock().expect("worker status");
                            s.restarts += 1;
                            s.last_crash = Some(Instant::now());
                            s.last_error = Some(format!("farm worker crashed: {msg}"));
                        }
                        std::thread::sleep(Duration::from_secs(1));
                    }
                }
            }
        })
        .expect("spawn farm worker thread");
    WorkerHandle::new(cmd_tx, ev_rx, status, thread)
}

/// A snapshot or result for this kiosk, decoded off the worker's loop.
struct Incoming {
    progress: Progress,
    image: Option<Arc<RgbImage>>,
    /// The message's payload size (what the link carries).
    bytes: usize,
}

/// The job this kiosk has out on the farm.
struct Job {
    id: String,
    key: String,
    frame_seq: u64,
    captured_at: Instant,
    submitted: Instant,
    last_heard: Instant,
    last_polled: Instant,
    attempt: u32,
    /// The furthest iteration shown: a takeover's early snapshots are not shown over it.
    shown_iteration: u32,
    first_seen: bool,
    said_quiet: bool,
    levels: u32,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Mode {
    Farm,
    Local,
}

struct Remote {
    cfg: WorkerConfig,
    remote: RemoteConfig,
    runtime: tokio::runtime::Runtime,
    client: async_nats::Client,
    js: jetstream::Context,
    /// Set once the server has answered (streams, consumer and buckets exist).
    setup: Arc<Mutex<Option<Ready>>>,
    painters: Arc<Mutex<Vec<PainterSeen>>>,
    inbox: Receiver<Incoming>,
    commands: Receiver<Command>,
    frames: Receiver<Frame>,
    events: Outbox,
    status: Arc<Mutex<WorkerStatus>>,
    uploads: Uploads,
    selection: Option<StyleSelection>,
    /// The photo being painted (a new style paints it again; the local engine takes it over).
    photo: Option<Frame>,
    job: Option<Job>,
    paused: bool,
    want_frame: bool,
    finished_at: Option<Instant>,
    mode: Mode,
    local: Option<WorkerHandle>,
    /// A photo handed to the local worker and not finished yet: the kiosk stays local for it.
    local_pending: bool,
    /// Since when some painter has been announced idle without a break.
    painter_idle_since: Option<Instant>,
    connected_since: Option<Instant>,
    disconnected_since: Option<Instant>,
    /// `Forget` while the server was away: delete the kiosk's jobs and results when it is back.
    forget_pending: bool,
    farm: FarmStatus,
    finished_on_farm: u64,
    snapshots_on_farm: u64,
    first_snapshots_on_farm: u64,
    last_rate: f64,
    last_losses: crate::engine::LossParts,
    /// The Live mirror's generation on the farm, when one is asked for or painted.
    live: Option<live::LiveSession>,
    /// This run's Live session (a restart of the kiosk is a new session).
    live_session_id: String,
    live_generation: u32,
    /// The newest camera frame not sent yet.
    live_frame: Option<Frame>,
    /// The last painting of the mirror received: where a takeover goes on from.
    live_painting: Option<Arc<RgbImage>>,
    /// The farm refused to paint the mirror in this style: not asked again until a new one.
    live_refused: Option<String>,
}

#[derive(Clone)]
struct Ready {
    styles: jetstream::object_store::ObjectStore,
    /// Who paints each kiosk's Live mirror (this kiosk reads its own key).
    leases: jetstream::kv::Store,
    /// This kiosk's own finished paintings.
    results: jetstream::stream::Stream,
}

impl Remote {
    fn start(
        cfg: WorkerConfig,
        remote: RemoteConfig,
        frames: Receiver<Frame>,
        commands: Receiver<Command>,
        events: Outbox,
        status: Arc<Mutex<WorkerStatus>>,
    ) -> anyhow::Result<Remote> {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .thread_name("farm-nats")
            .enable_all()
            .build()?;
        let client = runtime.block_on(remote.connection().connect("kiosk", &remote.kiosk))?;
        // The JetStream context starts a task of its own: inside the runtime.
        let js = {
            let _inside = runtime.enter();
            jetstream::new(client.clone())
        };
        let setup = Arc::new(Mutex::new(None));
        let painters = Arc::new(Mutex::new(Vec::new()));
        runtime.spawn(keep_ready(client.clone(), remote.kiosk.clone(), setup.clone(), painters.clone()));
        let (tx, inbox) = crossbeam_channel::bounded(64);
        for subject in [format!("gp.snap.{}.*", remote.kiosk), format!("gp.results.{}.*", remote.kiosk)] {
            let subscription = runtime.block_on(client.subscribe(subject))?;
            runtime.spawn(receive(subscription, tx.clone()));
        }
        let farm = FarmStatus { url: remote.url.clone(), ..Default::default() };
        Ok(Remote {
            cfg,
            remote,
            runtime,
            client,
            js,
            setup,
            painters,
            inbox,
            commands,
            frames,
            events,
            status,
            uploads: Uploads::default(),
            selection: None,
            photo: None,
            job: None,
            paused: false,
            want_frame: true,
            finished_at: None,
            mode: Mode::Farm,
            local: None,
            local_pending: false,
            painter_idle_since: None,
            connected_since: None,
            disconnected_since: Some(Instant::now()),
            forget_pending: false,
            farm,
            finished_on_farm: 0,
            snapshots_on_farm: 0,
            first_snapshots_on_farm: 0,
            last_rate: 0.0,
            last_losses: Default::default(),
            live: None,
            live_session_id: format!("live-{}", random_hex()),
            live_generation: 0,
            live_frame: None,
            live_painting: None,
            live_refused: None,
        })
    }

    fn status(&self) -> MutexGuard<'_, WorkerStatus> {
        self.status.lock().expect("worker status lock")
    }

    fn notice(&self, error: bool, text: String) {
        if error {
            tracing::warn!("farm: {text}");
        } else {
            tracing::info!("farm: {text}");
        }
        self.events.send(Event::Notice(Notice { error, text }));
    }

    fn run(&mut self) {
        if let Some(sel) = self.cfg.initial.clone() {
            self.selection = Some(sel);
        }
        loop {
            self.status().heartbeat = Some(Instant::now());
            let first = self.commands.recv_timeout(Duration::from_millis(40)).ok();
            let pending: Vec<Command> = first.into_iter().chain(self.commands.try_iter()).collect();
            for cmd in pending {
                if let Command::Shutdown = cmd {
                    self.cancel_live(true);
                    if let Some(mut local) = self.local.take() {
                        local.shutdown();
                    }
                    return;
                }
                self.handle(cmd);
            }
            while let Ok(incoming) = self.inbox.try_recv() {
                self.take(incoming);
            }
            self.watch_connection();
            self.poll_result();
            self.take_stream_frame();
            self.live_tick();
            self.forward_local_events();
            self.publish_status();
        }
    }

    fn handle(&mut self, cmd: Command) {
        match cmd {
            Command::SelectStyle(sel) => {
                self.selection = Some(sel.clone());
                if let Some(local) = &self.local {
                    let _ = local.commands.send(Command::SelectStyle(sel));
                }
                if self.mode != Mode::Farm {
                } else if self.cfg.policy == Policy::Live {
                    // As the local worker does: the mirror morphs into the new style (a new
                    // generation going on from the last painting).
                    self.live_refused = None;
                    if self.live.is_some()
                        && let Some(frame) = self.live_frame.take().or_else(|| self.photo.clone())
                    {
                        self.request_live(frame, false);
                    }
                } else if let Some(photo) = self.photo.clone() {
                    // As the local worker does: a new style paints the same photo again.
                    self.submit(photo);
                }
            }
            Command::Pause => {
                self.paused = true;
                // The painter lets the mirror go; resuming asks again from the last painting.
                self.cancel_live(true);
                self.tell_local(Command::Pause);
            }
            Command::Resume => {
                self.paused = false;
                if self.mode == Mode::Local {
                    self.tell_local(Command::Resume);
                }
            }
            Command::CaptureNow => {
                self.want_frame = true;
                self.tell_local(Command::CaptureNow);
            }
            Command::PaintFrame(frame) => {
                self.photo = Some(frame.clone());
                match self.mode {
                    Mode::Farm if self.cfg.policy == Policy::Live => self.live_frame = Some(frame),
                    Mode::Farm => self.submit(frame),
                    Mode::Local => self.tell_local(Command::PaintFrame(frame)),
                }
            }
            Command::Forget => self.forget(),
            c @ (Command::InjectFault(_) | Command::Restart) => self.tell_local(c),
            Command::Shutdown => {}
        }
    }

    fn tell_local(&mut self, cmd: Command) {
        match &cmd {
            Command::PaintFrame(_) => self.local_pending = true,
            Command::Forget => self.local_pending = false,
            _ => {}
        }
        if let Some(local) = &self.local {
            let _ = local.commands.send(cmd);
        }
    }

    fn ready(&self) -> Option<Ready> {
        self.setup.lock().expect("farm setup").clone()
    }

    /// Sends the photo to the farm; when it cannot, the local engine paints it.
    fn submit(&mut self, frame: Frame) {
        self.want_frame = false;
        self.finished_at = None;
        let Some(sel) = self.selection.clone() else { return };
        match self.try_submit(&frame, &sel) {
            Ok(job) => {
                self.farm.jobs_submitted += 1;
                self.job = Some(job);
            }
            Err(Refusal::Style(reason)) => {
                self.notice(true, format!("cannot use \"{}\": {reason}", sel.key));
                self.events.send(Event::StyleUnusable { key: sel.key, reason });
            }
            Err(Refusal::Farm(reason)) => {
                if let Some(old) = self.job.take() {
                    self.cancel(&old.id);
                }
                self.go_local(&reason);
                self.tell_local(Command::PaintFrame(frame));
            }
        }
    }

    fn try_submit(&mut self, frame: &Frame, sel: &StyleSelection) -> Result<Job, Refusal> {
        let styles = self.job_styles(sel)?;
        // The painter paints at most this size: send no more pixels than that.
        let photo = imageio::shrink_to((*frame.image).clone(), sel.params.size);
        let png = imageio::encode_png(&photo);
        let job_id = format!("{}-{}", frame.seq, random_hex());
        let spec = self.job_spec(job_id.clone(), sel, styles, frame, None);
        self.check_size(&spec, png.len())?;
        // Only one job per kiosk: the one being painted stops (a queued one is replaced by the server).
        if let Some(old) = self.job.take() {
            self.cancel(&old.id);
        }
        self.send_job(&spec, png)?;
        let now = Instant::now();
        tracing::info!("farm: job {job_id} sent for frame {} in \"{}\"", frame.seq, sel.key);
        Ok(Job {
            id: job_id,
            key: sel.key.clone(),
            frame_seq: frame.seq,
            captured_at: frame.captured_at,
            submitted: now,
            last_heard: now,
            last_polled: now,
            attempt: 1,
            shown_iteration: 0,
            first_seen: false,
            said_quiet: false,
            levels: sel.params.levels,
        })
    }

    fn job_spec(
        &self,
        job: String,
        sel: &StyleSelection,
        styles: Vec<JobStyle>,
        frame: &Frame,
        live: Option<protocol::LiveSpec>,
    ) -> JobSpec {
        JobSpec {
            job,
            kiosk: self.remote.kiosk.clone(),
            key: sel.key.clone(),
            styles,
            params: sel.params.clone(),
            faces: frame.faces.clone(),
            snapshot_every: self.cfg.snapshot_every,
            snapshot_interval_s: self.cfg.snapshot_interval.as_secs_f64(),
            live,
        }
    }

    /// The selection's styles on the server (each uploaded once, named by its hash).
    fn job_styles(&mut self, sel: &StyleSelection) -> Result<Vec<JobStyle>, Refusal> {
        let ready = match (self.ready(), self.client.connection_state()) {
            (Some(r), async_nats::connection::State::Connected) => r,
            _ => return Err(Refusal::Farm("the painter farm is not reachable".into())),
        };
        let mut styles = Vec::new();
        let max_payload = super::connection::max_payload(&self.client);
        for (path, weight) in &sel.styles {
            let full = crate::paths::resolve(&self.cfg.root, path);
            if !full.is_file() {
                return Err(Refusal::Style(format!("style image {} is missing", full.display())));
            }
            let hash = self
                .runtime
                .block_on(async {
                    tokio::time::timeout(CALL_TIMEOUT * 4, self.uploads.ensure(&ready.styles, &full, max_payload)).await
                })
                .map_err(|_| Refusal::Farm("sending a style image timed out".into()))?
                .map_err(Refusal::Farm)?;
            styles.push(JobStyle { sha256: hash, weight: *weight });
        }
        Ok(styles)
    }

    /// A job larger than the server takes is painted here, with the fix named.
    fn check_size(&self, spec: &JobSpec, payload: usize) -> Result<(), Refusal> {
        let spec_text = serde_json::to_string(spec).expect("job spec is JSON");
        let limit = super::connection::max_payload(&self.client);
        if payload + spec_text.len() + 1024 > limit {
            return Err(Refusal::Farm(format!(
                "the photo is {} KiB, more than the farm's max_payload of {} KiB (fix: raise max_payload in the server's config, or lower engine.style.size)",
                payload >> 10,
                limit >> 10
            )));
        }
        Ok(())
    }

    /// Puts the job on the kiosk's subject of the work queue (replacing a queued one).
    fn send_job(&self, spec: &JobSpec, payload: Vec<u8>) -> Result<(), Refusal> {
        let mut headers = async_nats::HeaderMap::new();
        headers.insert(protocol::H_SPEC, serde_json::to_string(spec).expect("job spec is JSON").as_str());
        let subject = protocol::job_subject(&self.remote.kiosk);
        let sent = self.runtime.block_on(async {
            let ack = self
                .js
                .publish_with_headers(subject, headers, Bytes::from(payload))
                .await
                .map_err(|e| e.to_string())?;
            tokio::time::timeout(CALL_TIMEOUT, ack)
                .await
                .map_err(|_| "no answer".to_string())?
                .map_err(|e| e.to_string())
        });
        sent.map(|_| ()).map_err(|e| Refusal::Farm(format!("the job was not taken ({e})")))
    }

    /// An empty job replaces this kiosk's queued photo (one message per kiosk subject), so a
    /// photo painted elsewhere does not wait on the server. Best effort: when the server is
    /// away, the job's max age removes it.
    fn withdraw_queued_photo(&self) {
        if self.client.connection_state() != async_nats::connection::State::Connected {
            return;
        }
        let subject = protocol::job_subject(&self.remote.kiosk);
        let _ = self.runtime.block_on(async {
            tokio::time::timeout(CALL_TIMEOUT, async { self.js.publish(subject, Bytes::new()).await?.await }).await
        });
    }

    fn cancel(&self, job: &str) {
        let subject = protocol::cancel_subject(&self.remote.kiosk);
        let _ = self.runtime.block_on(self.client.publish(subject, Bytes::from(job.to_string())));
    }

    /// The visitor left: nothing of them stays, here or on the server.
    fn forget(&mut self) {
        if let Some(job) = self.job.take() {
            self.cancel(&job.id);
        }
        self.cancel_live(true);
        self.live_painting = None;
        self.live_frame = None;
        self.photo = None;
        self.finished_at = None;
        self.tell_local(Command::Forget);
        self.forget_pending = true;
        self.delete_from_server();
    }

    fn delete_from_server(&mut self) {
        if !self.forget_pending || self.client.connection_state() != async_nats::connection::State::Connected {
            return;
        }
        let Some(ready) = self.ready() else { return };
        let subject = protocol::job_subject(&self.remote.kiosk);
        let purged = self.runtime.block_on(async {
            tokio::time::timeout(CALL_TIMEOUT, async {
                // An empty job replaces a queued photo (one message per kiosk); painters drop it.
                self.js.publish(subject, Bytes::new()).await?.await?;
                ready.results.purge().await?;
                Ok::<_, async_nats::Error>(())
            })
            .await
        });
        match purged {
            Ok(Ok(())) => self.forget_pending = false,
            Ok(Err(e)) => tracing::warn!("farm: the visitor's job and painting were not deleted yet ({e}); retrying"),
            Err(_) => tracing::warn!("farm: deleting the visitor's job and painting timed out; retrying"),
        }
    }

    /// A snapshot or result from a painter.
    fn take(&mut self, incoming: Incoming) {
        self.farm.snapshot_bytes += incoming.bytes as u64;
        if self.take_live(&incoming) {
            return;
        }
        let Some(job) = self.job.as_mut() else { return };
        let p = incoming.progress;
        if p.job != job.id || p.attempt < job.attempt {
            return; // an earlier job of this kiosk, or the painter that was replaced
        }
        job.last_heard = Instant::now();
        job.said_quiet = false;
        self.farm.waiting = false;
        self.farm.painter = Some(p.painter.clone());
        if let Some(reason) = p.error {
            let key = job.key.clone();
            self.job = None;
            self.notice(true, format!("the farm cannot paint this: {reason}"));
            self.events.send(Event::StyleUnusable { key, reason });
            return;
        }
        if p.attempt > job.attempt {
            job.attempt = p.attempt;
            self.farm.redelivered += 1;
            let text = format!("a painter stopped; {} goes on with this painting", p.painter);
            self.events.send(Event::Notice(Notice { error: false, text: text.clone() }));
            tracing::info!("farm: {text}");
        }
        let Some(image) = incoming.image else { return };
        // A takeover starts again from the first iteration: the screen keeps the further one.
        if !p.finished && p.iteration < job.shown_iteration {
            return;
        }
        job.shown_iteration = p.iteration;
        let latency = (!job.first_seen).then(|| job.captured_at.elapsed());
        if !job.first_seen {
            job.first_seen = true;
            self.farm.last_queue_wait = Some(job.submitted.elapsed());
            self.farm.queue_waits += 1;
        }
        self.last_rate = p.iterations_per_second;
        self.last_losses = p.losses();
        let snapshot = snapshot_of(&p, image, job.frame_seq, job.key.clone(), latency, p.levels.max(job.levels));
        self.snapshots_on_farm += 1;
        if let Some(l) = latency {
            self.status.lock().expect("worker status lock").last_latency = Some(l);
            self.first_snapshots_on_farm += 1;
        }
        if p.finished {
            tracing::info!(
                "farm: job {} finished by {} ({} iterations, {:.2} it/s)",
                job.id,
                p.painter,
                p.iteration,
                p.iterations_per_second
            );
            self.finished_on_farm += 1;
            self.job = None;
            self.finished_at = Some(Instant::now());
            self.farm.painter = None;
        }
        self.events.send(Event::Snapshot(snapshot));
    }

    /// Asks the results stream for the job's painting when nothing was heard for a while.
    fn poll_result(&mut self) {
        let Some(job) = self.job.as_mut() else { return };
        if job.last_heard.elapsed() < RESULT_POLL || job.last_polled.elapsed() < RESULT_POLL {
            return;
        }
        job.last_polled = Instant::now();
        if !job.said_quiet && job.last_heard.elapsed() >= QUIET_NOTICE {
            job.said_quiet = true;
            self.farm.waiting = true;
            self.events.send(Event::Notice(Notice { error: false, text: "waiting for a painter".into() }));
        }
        let subject = protocol::result_subject(&self.remote.kiosk, &job.id);
        let Some(ready) = self.ready() else { return };
        if self.client.connection_state() != async_nats::connection::State::Connected {
            return;
        }
        let found = self.runtime.block_on(async {
            tokio::time::timeout(CALL_TIMEOUT, ready.results.get_last_raw_message_by_subject(&subject)).await
        });
        if let Ok(Ok(message)) = found
            && let Some(progress) = Progress::from_headers(&message.headers)
        {
            let image = decode(&message.payload);
            self.take(Incoming { progress, image, bytes: message.payload.len() });
        }
    }

    /// The Paint policy on the capture stream (no visitor journey): the next frame after the hold.
    fn take_stream_frame(&mut self) {
        if self.mode != Mode::Farm
            || self.cfg.policy != Policy::Paint
            || self.cfg.intake != Intake::Stream
            || self.paused
            || self.selection.is_none()
            || self.job.is_some()
        {
            return;
        }
        let held = self.finished_at.is_some_and(|t| t.elapsed() >= self.cfg.hold_finished);
        if !(self.want_frame || held) {
            return;
        }
        if let Some(frame) = self.frames.try_iter().last() {
            self.photo = Some(frame.clone());
            self.submit(frame);
        }
    }

    fn watch_connection(&mut self) {
        let now = Instant::now();
        let connected =
            self.client.connection_state() == async_nats::connection::State::Connected && self.ready().is_some();
        if connected {
            self.disconnected_since = None;
            self.connected_since.get_or_insert(now);
            self.delete_from_server();
        } else {
            self.connected_since = None;
            self.disconnected_since.get_or_insert(now);
        }
        self.farm.connected = connected;
        self.farm.painters = self.painters.lock().expect("painters").clone();
        if self.farm.painters.iter().any(|p| !p.busy) {
            self.painter_idle_since.get_or_insert(now);
        } else {
            self.painter_idle_since = None;
        }
        let fallback_after = Duration::from_secs_f64(self.remote.fallback_after_s);
        match self.mode {
            Mode::Farm => {
                if self.disconnected_since.is_some_and(|t| now - t >= fallback_after) {
                    self.go_local("the painter farm is not reachable");
                } else if connected
                    && self.farm.painters.is_empty()
                    && self.quiet_since().is_some_and(|t| t.elapsed() >= fallback_after)
                {
                    self.go_local("no painter is running on the farm");
                } else if connected
                    && self.painter_idle_since.is_some_and(|t| now - t >= IDLE_FOR)
                    && self.job.as_ref().is_some_and(|j| j.last_heard.elapsed() >= LOST_AFTER)
                    && let Some(photo) = self.photo.clone()
                {
                    let id = self.job.as_ref().map(|j| j.id.clone()).unwrap_or_default();
                    tracing::warn!("farm: job {id} is lost (no news, and a painter is idle); sending it again");
                    self.farm.resent += 1;
                    self.submit(photo);
                }
            }
            Mode::Local => {
                // A mirror is always painting: it goes back as soon as the farm can take it,
                // from the painting made here.
                let local_busy = self.cfg.policy != Policy::Live
                    && (self.local_pending
                        || self.local.as_ref().is_some_and(|l| l.status().state == WorkerState::Painting));
                if self.connected_since.is_some_and(|t| now - t >= BACK_AFTER)
                    && !self.farm.painters.is_empty()
                    && !local_busy
                {
                    self.mode = Mode::Farm;
                    self.farm.painting_locally = false;
                    self.tell_local(Command::Pause);
                    self.notice(false, "painting on the farm again".into());
                }
            }
        }
    }

    fn go_local(&mut self, reason: &str) {
        if self.mode == Mode::Local && self.local.is_some() {
            return;
        }
        self.mode = Mode::Local;
        self.farm.painting_locally = true;
        self.farm.fallbacks += 1;
        self.farm.painter = None;
        self.notice(false, format!("painting locally: {reason}"));
        self.cancel_live(true);
        if self.local.is_none() {
            let config = WorkerConfig { remote: None, initial: self.selection.clone(), ..self.cfg.clone() };
            self.local = Some(spawn_worker(config, self.frames.clone()));
        } else if let Some(sel) = self.selection.clone() {
            self.tell_local(Command::SelectStyle(sel));
        }
        if !self.paused {
            self.tell_local(Command::Resume);
        }
        // The painting that was out on the farm is painted here, from the start.
        if let Some(job) = self.job.take() {
            self.cancel(&job.id);
            self.withdraw_queued_photo();
            if let Some(photo) = self.photo.clone() {
                self.tell_local(Command::PaintFrame(photo));
            }
        }
    }

    /// Since when the farm has said nothing of what this kiosk has out (a job or the mirror).
    fn quiet_since(&self) -> Option<Instant> {
        self.job.as_ref().map(|j| j.last_heard).or_else(|| self.live.as_ref().map(|l| l.last_heard()))
    }

    fn forward_local_events(&mut self) {
        let Some(local) = &self.local else { return };
        let events: Vec<Event> = local.events.try_iter().collect();
        for event in events {
            if let Event::Snapshot(s) = &event {
                self.keep_local_painting(&s.image);
            }
            match &event {
                Event::Snapshot(s) if s.finished => self.local_pending = false,
                Event::StyleUnusable { .. } => self.local_pending = false,
                _ => {}
            }
            self.events.send(event);
        }
    }

    fn publish_status(&mut self) {
        if self.job.is_none() || self.mode == Mode::Local {
            self.farm.waiting = false;
        }
        let farm = self.farm.clone();
        let local = match (self.mode, &self.local) {
            (Mode::Local, Some(l)) => Some(l.status()),
            _ => None,
        };
        let state = if self.paused {
            WorkerState::Paused
        } else if self.selection.is_none() {
            WorkerState::WaitingForStyle
        } else if self.job.is_some() || self.live.is_some() {
            WorkerState::Painting
        } else if self.finished_at.is_some() {
            WorkerState::Holding
        } else {
            WorkerState::WaitingForFrame
        };
        let url = self.remote.url.clone();
        let (finished, snapshots, rate) = (self.finished_on_farm, self.snapshots_on_farm, self.last_rate);
        let first_snapshots = self.first_snapshots_on_farm;
        let key = self.selection.as_ref().map(|s| s.key.clone()).unwrap_or_default();
        let (size, losses) = (self.selection.as_ref().map_or(0, |s| s.params.size), self.last_losses);
        let mut s = self.status();
        match local {
            Some(l) => {
                s.state = l.state;
                s.device = format!("{} (painting locally; farm {url})", l.device);
                s.iterations_per_second = l.iterations_per_second;
                s.size = l.size;
                s.losses = l.losses;
                s.gpu_memory = l.gpu_memory;
                s.restarts = l.restarts;
                s.last_error = l.last_error;
                s.paintings_finished = finished + l.paintings_finished;
                s.snapshots = snapshots + l.snapshots;
                s.first_snapshots = first_snapshots + l.first_snapshots;
                if l.last_latency.is_some() {
                    s.last_latency = l.last_latency;
                }
            }
            None => {
                s.state = state;
                s.device = format!("painter farm {url}");
                s.iterations_per_second = rate;
                s.size = size;
                s.losses = losses;
                s.paintings_finished = finished + self.local.as_ref().map_or(0, |l| l.status().paintings_finished);
                s.snapshots = snapshots;
                s.first_snapshots = first_snapshots + self.local.as_ref().map_or(0, |l| l.status().first_snapshots);
            }
        }
        s.style_key = key;
        s.farm = Some(farm);
    }
}

enum Refusal {
    /// The selection cannot be painted anywhere.
    Style(String),
    /// The farm cannot take it now: paint locally.
    Farm(String),
}

/// What the display is given for a painter's snapshot.
fn snapshot_of(
    p: &Progress,
    image: Arc<RgbImage>,
    frame_seq: u64,
    style_key: String,
    latency: Option<Duration>,
    levels: u32,
) -> Snapshot {
    Snapshot {
        image,
        iteration: p.iteration,
        total_iterations: p.total_iterations,
        level: p.level,
        losses: p.losses(),
        iterations_per_second: p.iterations_per_second,
        frame_seq,
        style_key,
        finished: p.finished,
        latency,
        levels,
    }
}

fn random_hex() -> String {
    let mut bytes = [0u8; 8];
    getrandom::fill(&mut bytes).expect("the operating system's random source");
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn decode(payload: &[u8]) -> Option<Arc<RgbImage>> {
    if payload.is_empty() {
        return None;
    }
    imageio::decode_rgb(payload).ok().map(Arc::new)
}

/// Snapshots and results of this kiosk, decoded as they come (newest last).
async fn receive(mut subscription: async_nats::Subscriber, to_worker: Sender<Incoming>) {
    while let Some(message) = subscription.next().await {
        let Some(progress) = message.headers.as_ref().and_then(Progress::from_headers) else { continue };
        let payload = message.payload.clone();
        let bytes = payload.len();
        let image = tokio::task::spawn_blocking(move || decode(&payload)).await.ok().flatten();
        // Full (the worker busy): the oldest snapshots are the ones to lose, but a finished
        // one is also fetched from the results stream, so dropping here loses nothing.
        let _ = to_worker.try_send(Incoming { progress, image, bytes });
    }
}

/// Opens the farm once the server answers (and a painter has set it up), then keeps the
/// list of painters alive.
async fn keep_ready(
    client: async_nats::Client,
    kiosk: String,
    setup: Arc<Mutex<Option<Ready>>>,
    painters: Arc<Mutex<Vec<PainterSeen>>>,
) {
    let js = jetstream::new(client.clone());
    let mut said = String::new();
    let kv = loop {
        if client.connection_state() == async_nats::connection::State::Connected {
            let max_payload = super::connection::max_payload(&client);
            match protocol::open_for_kiosk(&js, &kiosk, max_payload).await {
                Ok(s) => {
                    *setup.lock().expect("farm setup") =
                        Some(Ready { styles: s.styles, leases: s.leases, results: s.results });
                    tracing::info!("farm: ready (kiosk {kiosk})");
                    break s.announcements;
                }
                Err(e) => {
                    let text = e.to_string();
                    if text != said {
                        tracing::warn!(
                            "farm: the server answers but the farm is not set up yet ({text}); is a painter running?"
                        );
                        said = text;
                    }
                }
            }
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    };
    loop {
        if client.connection_state() == async_nats::connection::State::Connected {
            let seen = protocol::painters_alive(&kv)
                .await
                .into_iter()
                .map(|a| PainterSeen {
                    name: a.name,
                    device: a.device,
                    iterations_per_second: a.iterations_per_second,
                    busy: a.job.is_some(),
                })
                .collect();
            *painters.lock().expect("painters") = seen;
        }
        tokio::time::sleep(Duration::from_secs(1)).await;
    }
}
