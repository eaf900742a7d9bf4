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
use crossbeam_channel::Receiver;
use image::RgbImage;

use super::FarmConnection;
use super::protocol::{self, Progress};
use super::style_uploads::Uploads;
use super::trust::{Identity, JobSecret, Role};
use crate::capture::Frame;
use crate::config::{Policy, RemoteConfig};
use crate::engine::imageio;
use crate::painting::outbox::Outbox;
use crate::painting::{
    Command, Event, FarmStatus, Notice, PainterSeen, StyleSelection, WorkerConfig, WorkerHandle, WorkerState,
    WorkerStatus,
};

mod arrivals;
mod jobs;
mod link;
mod live;
mod paint;

use arrivals::{FromFarm, Proofs, keep_ready, receive};

use jobs::Refusal;

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
    /// On a finished painting: the painter's making-of frames before it.
    making_of: Vec<Arc<RgbImage>>,
}

impl Incoming {
    /// A message's picture, and on a result the making-of's frames after it.
    fn decode(progress: Progress, headers: &async_nats::HeaderMap, payload: &[u8]) -> Incoming {
        let lengths = headers.get(protocol::H_MAKING_OF).map(|v| v.as_str());
        let (painting, frames) = crate::farm::making_of::unpack(lengths, payload);
        let making_of = crate::farm::making_of::decode(&frames);
        Incoming { progress, image: decode(painting), bytes: payload.len(), making_of }
    }
}

/// The job this kiosk has out on the farm.
struct Job {
    id: String,
    /// What a painter given the job proves its messages with.
    secret: JobSecret,
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
    inbox: Receiver<FromFarm>,
    /// Signs this kiosk's jobs (a farm with users).
    identity: Option<Arc<Identity>>,
    proofs: Arc<Mutex<Proofs>>,
    /// The last time a job was sent again because a painter said it was put out of the queue.
    last_displaced_resend: Option<Instant>,
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
    /// This run's Live session (a restart of the kiosk is a new session) and its secret.
    live_session_id: String,
    live_secret: JobSecret,
    live_generation: u32,
    /// Live: `photo` holds a camera frame not sent to the painter yet.
    live_frame_unsent: bool,
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
        anyhow::ensure!(
            remote.user.is_none() || remote.identity.is_some(),
            "farm user `{}` has no identity: its jobs could not be told from forgeries\n  fix: add identity: \"/etc/gallery-painter/farm/identities/{}\" to engine.remote (scripts/farm-certs.sh makes it)",
            remote.user.as_deref().unwrap_or_default(),
            remote.kiosk
        );
        let identity = match &remote.identity {
            Some(path) => Some(Arc::new(Identity::load(path, Role::Kiosk, &remote.kiosk)?)),
            None => None,
        };
        let client = runtime.block_on(FarmConnection::from(&remote).connect("kiosk", &remote.kiosk))?;
        // The JetStream context starts a task of its own: inside the runtime.
        let js = {
            let _inside = runtime.enter();
            jetstream::new(client.clone())
        };
        let setup = Arc::new(Mutex::new(None));
        let painters = Arc::new(Mutex::new(Vec::new()));
        let proofs = Arc::new(Mutex::new(Proofs::default()));
        runtime.spawn(keep_ready(
            client.clone(),
            remote.kiosk.clone(),
            setup.clone(),
            painters.clone(),
            events.clone(),
            identity.clone(),
            proofs.clone(),
        ));
        let (tx, inbox) = crossbeam_channel::bounded(64);
        for subject in [format!("gp.snap.{}.*", remote.kiosk), format!("gp.results.{}.*", remote.kiosk)] {
            let subscription = runtime.block_on(client.subscribe(subject))?;
            runtime.spawn(receive(subscription, tx.clone(), proofs.clone()));
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
            identity,
            proofs,
            last_displaced_resend: None,
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
            live_session_id: format!("live-{}", crate::ids::random_hex::<8>()),
            live_secret: JobSecret::random(),
            live_generation: 0,
            live_frame_unsent: false,
            live_painting: None,
            live_refused: None,
        })
    }

    fn status(&self) -> MutexGuard<'_, WorkerStatus> {
        self.status.lock().expect("worker status lock")
    }

    fn notice(&self, error: bool, text: String) {
        self.events.notice("farm", error, text);
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
            self.sync_secrets();
            while let Ok(from_farm) = self.inbox.try_recv() {
                match from_farm {
                    FromFarm::Picture(incoming) => self.take(incoming),
                    FromFarm::Displaced => self.displaced(),
                }
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
                let live = self.cfg.policy == Policy::Live;
                if self.mode == Mode::Farm && live {
                    // As the local worker does: the mirror morphs into the new style (a new
                    // generation going on from the last painting).
                    self.live_refused = None;
                    if self.live.is_some()
                        && let Some(frame) = self.newest_frame()
                    {
                        self.request_live(frame, false);
                    }
                } else if self.mode == Mode::Farm
                    && let Some(photo) = self.photo.clone()
                {
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
                    Mode::Farm if self.cfg.policy == Policy::Live => self.live_frame_unsent = true,
                    Mode::Farm => self.submit(frame),
                    Mode::Local => self.tell_local(Command::PaintFrame(frame)),
                }
            }
            Command::Forget => self.forget(),
            c @ (Command::InjectFault(_) | Command::ContinueFrom { .. }) => self.tell_local(c),
            Command::Restart => self.restart(),
            Command::Shutdown => {}
        }
    }

    /// Staff "Restart" on a farm kiosk: the link to the farm starts again (a new connection,
    /// its subscriptions made again), the painting in hand starts again (a Paint job is sent
    /// anew; a mirror asks for a new generation from the painting on screen), and the local
    /// engine, if one runs, restarts as a kiosk without a farm does (its network loads again).
    fn restart(&mut self) {
        self.notice(false, "restarting the link to the farm and the painting, as asked".into());
        let client = self.client.clone();
        // The new connection is up within moments on a healthy farm; the job waits for it.
        let reconnected = self.runtime.block_on(async {
            tokio::time::timeout(CALL_TIMEOUT * 2, async {
                client.force_reconnect().await.map_err(|e| e.to_string())?;
                let connected = || client.connection_state() == async_nats::connection::State::Connected;
                let left = tokio::time::Instant::now() + Duration::from_millis(500);
                while connected() && tokio::time::Instant::now() < left {
                    tokio::time::sleep(Duration::from_millis(20)).await;
                }
                while !connected() {
                    tokio::time::sleep(Duration::from_millis(50)).await;
                }
                Ok::<_, String>(())
            })
            .await
        });
        if !matches!(reconnected, Ok(Ok(()))) {
            tracing::warn!("farm: the link is not back yet after the restart; it keeps trying by itself");
        }
        self.tell_local(Command::Restart);
        if self.mode != Mode::Farm || self.paused {
            return;
        }
        if self.cfg.policy == Policy::Live {
            self.live_refused = None;
            if let Some(frame) = self.newest_frame() {
                self.request_live(frame, false);
            }
        } else if self.finished_at.is_none()
            && let Some(photo) = self.photo.clone()
        {
            self.submit(photo);
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

    fn proofs(&self) -> MutexGuard<'_, Proofs> {
        self.proofs.lock().expect("farm proofs")
    }

    /// The receiving tasks know the secrets of what is out now, and of nothing else.
    fn sync_secrets(&mut self) {
        let job = self.job.as_ref().map(|j| (j.id.clone(), j.secret.clone()));
        let live = self.live.is_some().then(|| (self.live_session_id.clone(), self.live_secret.clone()));
        let mut proofs = self.proofs();
        proofs
            .secrets
            .retain(|id, _| job.as_ref().is_some_and(|j| &j.0 == id) || live.as_ref().is_some_and(|l| &l.0 == id));
        proofs.secrets.extend(job.into_iter().chain(live));
    }

    /// A painter says what was queued on this kiosk's subject was no job of it: a job not
    /// heard of yet may have been put out of the queue by it, and is sent again (once in a
    /// while at most: whoever puts it out can do it again).
    fn displaced(&mut self) {
        let recently = self.last_displaced_resend.is_some_and(|t| t.elapsed() < Duration::from_secs(2));
        if self.mode != Mode::Farm || self.paused || recently {
            return;
        }
        if let Some(job) = &self.job
            && !job.first_seen
            && job.submitted.elapsed() >= Duration::from_millis(500)
            && let Some(photo) = self.photo.clone()
        {
            tracing::warn!(
                "farm: what was queued for this kiosk was not its job (an empty or forged one); sending job {} again",
                job.id
            );
            self.last_displaced_resend = Some(Instant::now());
            self.farm.resent += 1;
            self.submit(photo);
        } else if self.live.as_ref().is_some_and(|l| l.waiting_for_a_painter()) {
            tracing::warn!("farm: what was queued for this kiosk was not its Live request; asking again");
            self.last_displaced_resend = Some(Instant::now());
            self.farm.resent += 1;
            self.retake_live();
        }
    }
}

fn decode(payload: &[u8]) -> Option<Arc<RgbImage>> {
    if payload.is_empty() {
        return None;
    }
    imageio::decode_rgb(payload).ok().map(Arc::new)
}
