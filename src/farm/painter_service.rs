//! `gallery-painter painter`: one process per GPU (or CPU) that paints for every kiosk.
//! It pulls jobs from the shared consumer one at a time, keeps the job alive with progress
//! acks while it paints, publishes snapshots as it goes and the finished painting durably,
//! then acknowledges. What it cannot paint is terminated with a message for the kiosk; what
//! does not fit in memory goes back to the queue with a delay.
//!
//! The engine runs on this (blocking) thread; the NATS client runs on a small tokio runtime
//! beside it, and the thread waits on it only to publish.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anyhow::Context as _;
use async_nats::jetstream::{self, AckKind};
use bytes::Bytes;
use futures_util::StreamExt;
use image::RgbImage;

use super::connection::FarmConnection;
use super::proofs;
use super::protocol::{self, Announcement, JobSpec, Progress};
use super::setup;
use super::trust::{ForgeryLog, Identity, JobSecret, Role};
use crate::engine::{EngineDevice, EngineError, Refiner, StyleParams, Vgg, imageio};
use crate::painting::{MakingOf, Pacing, PaintLoop, StyleCache};
use crate::service::faults::{FaultKind, ScheduledFault};

mod intake;
mod live;
mod snapshots;
mod style_fetch;

use intake::{Cancelled, listen_for_cancels};

/// Style images kept decoded, by hash (the painter's Gram cache is keyed by their identity).
const KEPT_STYLES: usize = 16;
/// Cancelled job ids remembered (a cancel may arrive before its job is pulled).
const KEPT_CANCELS: usize = 256;
/// Snapshots of a painting in progress are JPEG at this quality; the finished one is PNG.
const SNAPSHOT_QUALITY: u8 = 88;

pub struct PainterOptions {
    pub name: String,
    pub connection: FarmConnection,
    pub weights: std::path::PathBuf,
    pub device: EngineDevice,
    /// Jobs asking for more are painted at this size (a kiosk cannot make a painter run out of memory).
    pub max_size: u32,
    /// On a GPU: the size and schedule this painter paints at, whatever the kiosk asked.
    pub on_gpu: Option<crate::config::GpuSchedule>,
    /// Drills: `worker-oom@T` makes the first step after T seconds fail as out of memory.
    pub faults: Vec<ScheduledFault>,
    /// This painter's identity on a farm with users (`identities/NAME` of scripts/farm-certs.sh):
    /// it paints only jobs its kiosks signed, and signs its announcements.
    pub identity: Option<std::path::PathBuf>,
}

/// Paints until `stop` is set (SIGTERM): the job in hand then goes back to the queue at once.
pub fn serve(opts: PainterOptions, stop: Arc<AtomicBool>) -> anyhow::Result<()> {
    anyhow::ensure!(
        protocol::valid_name(&opts.name),
        "painter name `{}` must be letters, digits, `-` or `_`\n  fix: --name gpu-1",
        opts.name
    );
    if opts.connection.user.is_some() && opts.identity.is_none() {
        anyhow::bail!(
            "painter {} has a farm user but no identity: its jobs could not be told from forgeries\n  fix: --identity /etc/gallery-painter/farm/identities/{} (made by scripts/farm-certs.sh --painter {})",
            opts.name,
            opts.name,
            opts.name
        );
    }
    let identity = match &opts.identity {
        Some(path) => Some(Arc::new(Identity::load(path, Role::Painter, &opts.name)?)),
        None => None,
    };
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .thread_name("painter-nats")
        .enable_all()
        .build()
        .context("cannot start the NATS client's runtime")?;
    // SIGTERM (systemctl stop) and Ctrl-C: the job in hand goes back to the queue at once.
    runtime.spawn(stop_on_signal(stop.clone()));
    let client = runtime.block_on(opts.connection.connect("painter", &opts.name))?;
    let mut told = false;
    while client.connection_state() != async_nats::connection::State::Connected {
        if stop.load(Ordering::Relaxed) {
            return Ok(());
        }
        if !told {
            tracing::warn!("painter: waiting for the farm's server at {}", opts.connection.url);
            told = true;
        }
        std::thread::sleep(Duration::from_millis(200));
    }
    let js = {
        let _inside = runtime.enter();
        jetstream::new(client.clone())
    };
    // The setup role makes the streams (a painter may not): wait for it, saying so once.
    let mut said = String::new();
    let setup = loop {
        match runtime.block_on(setup::open_for_painter(&js)) {
            Ok(setup) => break setup,
            Err(e) => {
                if stop.load(Ordering::Relaxed) {
                    return Ok(());
                }
                if e != said {
                    tracing::warn!("painter: waiting: {e}");
                    said = e;
                }
                std::thread::sleep(Duration::from_millis(500));
            }
        }
    };
    let vgg = Vgg::load(&opts.weights, opts.device.device, StyleParams::default().pooling)?;
    let refiner = Refiner::new(vgg, opts.device, StyleParams::default())?;
    // The drills of the painting, on this process's clock.
    let drills = opts
        .faults
        .iter()
        .filter_map(|f| match f.kind {
            FaultKind::Painting(fault) => Some((f.at, fault)),
            FaultKind::RenderHang(_) => None,
        })
        .collect();
    let mut paint = PaintLoop::new(refiner, "painter", Pacing { every: 1, interval: Duration::ZERO }, true);
    paint.schedule(drills);
    tracing::info!("painter {} ready on {} (farm {})", opts.name, opts.device.describe(), opts.connection.url);

    let announcement = Arc::new(Mutex::new(Announcement {
        name: opts.name.clone(),
        device: opts.device.describe(),
        // Grows from this start on (seconds since 1970 above, a counter below): a copy of an
        // older announcement never passes for a newer one.
        seq: std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_secs()) << 20,
        ..Default::default()
    }));
    runtime.spawn(announce(
        js.clone(),
        setup.announcements.clone(),
        announcement.clone(),
        identity.clone(),
        stop.clone(),
    ));
    let cancelled = Arc::new(Mutex::new(Cancelled::default()));
    let subscription = runtime.block_on(client.subscribe("gp.cancel.*"))?;
    runtime.spawn(listen_for_cancels(subscription, cancelled.clone()));

    let snapshots = snapshots::SnapshotSender::start(runtime.handle().clone(), client.clone(), SNAPSHOT_QUALITY);
    let mut service = PainterService {
        runtime: &runtime,
        client,
        js,
        styles: HashMap::new(),
        leases: setup.leases,
        paint,
        decoded: StyleCache::new(KEPT_STYLES),
        announcement: announcement.clone(),
        cancelled,
        identity,
        forgeries: ForgeryLog::default(),
        stop: stop.clone(),
        opts,
        snapshots,
    };
    while !stop.load(Ordering::Relaxed) {
        let next = runtime.block_on(async {
            let mut batch = setup.painters.batch().max_messages(1).expires(Duration::from_secs(2)).messages().await?;
            batch.next().await.transpose()
        });
        match next {
            Ok(Some(job)) => service.paint(job),
            Ok(None) => {}
            Err(e) => {
                tracing::warn!("painter: cannot pull jobs ({e}); retrying");
                std::thread::sleep(Duration::from_secs(1));
            }
        }
    }
    // Gone at once from the list, not after the TTL.
    let name = service.opts.name.clone();
    let _ = runtime
        .block_on(async { tokio::time::timeout(Duration::from_secs(2), setup.announcements.delete(&name)).await });
    tracing::info!("painter {name} stopped");
    Ok(())
}

async fn stop_on_signal(stop: Arc<AtomicBool>) {
    use tokio::signal::unix::{SignalKind, signal};
    let (Ok(mut term), Ok(mut int)) = (signal(SignalKind::terminate()), signal(SignalKind::interrupt())) else {
        return;
    };
    let term = Box::pin(term.recv());
    let int = Box::pin(int.recv());
    futures_util::future::select(term, int).await;
    tracing::info!("painter: stopping (signal); the job in hand goes back to the queue");
    stop.store(true, Ordering::Relaxed);
}

async fn announce(
    js: jetstream::Context,
    mut kv: jetstream::kv::Store,
    what: Arc<Mutex<Announcement>>,
    identity: Option<Arc<Identity>>,
    stop: Arc<AtomicBool>,
) {
    let mut failures = 0;
    while !stop.load(Ordering::Relaxed) {
        let (name, body) = {
            let mut a = what.lock().expect("announcement");
            a.seq += 1;
            (a.name.clone(), a.to_value(identity.as_deref()))
        };
        match kv.put(&name, body.into()).await {
            Ok(_) => failures = 0,
            Err(e) => {
                failures += 1;
                tracing::debug!("painter: announcement not stored ({e})");
                // The bucket was made again (farm-setup after a lost store): open it again.
                if failures >= 3
                    && let Ok(again) = js.get_key_value(protocol::PAINTERS_BUCKET).await
                {
                    kv = again;
                }
            }
        }
        tokio::time::sleep(protocol::ANNOUNCE_EVERY).await;
    }
}

struct PainterService<'a> {
    runtime: &'a tokio::runtime::Runtime,
    client: async_nats::Client,
    js: jetstream::Context,
    /// Each kiosk's style bucket, opened when its first job comes.
    styles: HashMap<String, jetstream::object_store::ObjectStore>,
    /// Who holds each kiosk's Live session.
    leases: jetstream::kv::Store,
    paint: PaintLoop,
    decoded: StyleCache<()>,
    announcement: Arc<Mutex<Announcement>>,
    cancelled: Arc<Mutex<Cancelled>>,
    /// With identities: only jobs signed by the kiosk of their subject are painted.
    identity: Option<Arc<Identity>>,
    forgeries: ForgeryLog,
    stop: Arc<AtomicBool>,
    opts: PainterOptions,
    /// A visitor's painting in progress goes to the kiosk from here.
    snapshots: snapshots::SnapshotSender,
}

/// How a job ended on this painter.
enum Outcome {
    /// The painting, and the snapshots kept for its making-of (before it).
    Finished(Arc<RgbImage>, MakingOf),
    /// Cannot be painted anywhere: tell the kiosk, never deliver it again.
    Refused(String),
    /// Out of memory here: back to the queue, later.
    OutOfMemory(String),
    /// The server could not hand over what the job needs now (a cluster electing a leader):
    /// back to the queue, for this painter or another, a moment later.
    ServerBusy(String),
    Cancelled,
    /// This painter is stopping: back to the queue now.
    Stopping,
}

impl PainterService<'_> {
    fn paint(&mut self, job: jetstream::Message) {
        let attempt = job.info().map(|i| i.delivered.max(1) as u32).unwrap_or(1);
        let Some((spec, secret)) = self.accept(&job) else {
            // Not a job of the kiosk its subject names: what that kiosk had queued may have been
            // put out of the queue by it, and the kiosk is told so (it sends its job again).
            self.tell_displaced(job.subject.as_str());
            return self.ack(&job, AckKind::Term);
        };
        if let Some(live) = spec.live.clone() {
            return self.paint_live(job, spec, live, secret);
        }
        let mut progress = Progress {
            job: spec.job.clone(),
            attempt,
            painter: self.opts.name.clone(),
            levels: spec.params.levels,
            ..Default::default()
        };
        if attempt > 1 {
            tracing::info!("painter: job {} of kiosk {} again (delivery {attempt})", spec.job, spec.kiosk);
        }
        self.announcement.lock().expect("announcement").busy = true;
        let keep_alive = KeepAlive::start(self.runtime, self.client.clone(), &job);
        let outcome = self.run_job(&job, &spec, &secret, &mut progress, &keep_alive);
        self.snapshots.drop_waiting();
        drop(keep_alive);
        self.announcement.lock().expect("announcement").busy = false;
        match outcome {
            Outcome::Finished(painting, making_of) => {
                progress.finished = true;
                let max_payload = super::connection::max_payload(&self.client);
                let (payload, frames) = super::making_of::result_payload(&painting, &making_of, max_payload);
                let mut headers = progress.to_headers();
                if let Some(lengths) = frames {
                    headers.insert(protocol::H_MAKING_OF, lengths.as_str());
                }
                let subject = protocol::result_subject(&spec.kiosk, &spec.job);
                proofs::prove_output(&secret, &subject, &mut headers, &payload);
                let published = self.publish_result(&job, &spec, headers, Bytes::from(payload));
                match published {
                    Ok(_) => {
                        self.announcement.lock().expect("announcement").paintings += 1;
                        tracing::info!(
                            "painter: job {} of kiosk {} finished ({} iterations, {:.2} it/s)",
                            spec.job,
                            spec.kiosk,
                            progress.iteration,
                            progress.iterations_per_second
                        );
                        self.ack(&job, AckKind::Ack)
                    }
                    // Not kept: the job comes back (here or elsewhere) after the ack wait.
                    Err(e) => tracing::warn!("painter: the painting of job {} was not stored ({e})", spec.job),
                }
            }
            Outcome::Refused(reason) => {
                tracing::warn!("painter: job {} of kiosk {} cannot be painted: {reason}", spec.job, spec.kiosk);
                progress.error = Some(reason);
                let subject = protocol::result_subject(&spec.kiosk, &spec.job);
                let mut headers = progress.to_headers();
                proofs::prove_output(&secret, &subject, &mut headers, &[]);
                let _ = self.runtime.block_on(async {
                    self.js
                        .publish_with_headers(subject, headers, Bytes::new())
                        .await?
                        .await
                        .map_err(async_nats::Error::from)
                });
                self.ack(&job, AckKind::Term);
            }
            Outcome::OutOfMemory(e) => {
                tracing::warn!(
                    "painter: out of memory on job {} ({e}); handed back for {:.0} s",
                    spec.job,
                    protocol::OOM_RETRY_DELAY.as_secs_f64()
                );
                self.ack(&job, AckKind::Nak(Some(protocol::OOM_RETRY_DELAY)));
            }
            Outcome::Cancelled => {
                tracing::info!("painter: job {} of kiosk {} cancelled (the visitor left)", spec.job, spec.kiosk);
                self.ack(&job, AckKind::Term);
            }
            Outcome::ServerBusy(e) => {
                tracing::warn!("painter: job {} handed back for a moment: {e}", spec.job);
                self.ack(&job, AckKind::Nak(Some(Duration::from_secs(2))));
            }
            Outcome::Stopping => self.ack(&job, AckKind::Nak(None)),
        }
    }

    /// Stores the painting in the kiosk's results stream. While a cluster elects the stream's
    /// new leader the painting is offered again (the job kept meanwhile), not painted again.
    fn publish_result(
        &self,
        job: &jetstream::Message,
        spec: &JobSpec,
        headers: async_nats::HeaderMap,
        payload: Bytes,
    ) -> Result<(), async_nats::Error> {
        let deadline = Instant::now() + protocol::LEADER_ELECTION;
        loop {
            let published = self.runtime.block_on(async {
                self.js
                    .publish_with_headers(
                        protocol::result_subject(&spec.kiosk, &spec.job),
                        headers.clone(),
                        payload.clone(),
                    )
                    .await?
                    .await
                    .map_err(async_nats::Error::from)
            });
            match published {
                Err(e) if protocol::leaderless(&e.to_string()) && Instant::now() < deadline => {
                    tracing::info!("painter: the results of kiosk {} have no leader now ({e}); again", spec.kiosk);
                    let _ = self.runtime.block_on(job.ack_with(AckKind::Progress));
                    std::thread::sleep(Duration::from_millis(500));
                }
                other => return other.map(|_| ()),
            }
        }
    }

    fn ack(&self, job: &jetstream::Message, kind: AckKind) {
        if let Err(e) = self.runtime.block_on(job.ack_with(kind)) {
            tracing::warn!("painter: acknowledgement not sent ({e})");
        }
    }

    /// Has the job's kiosk cancelled `what` (a job id, or a Live generation)? Only a cancel
    /// proven with the job's secret counts.
    fn is_cancelled(&self, kiosk: &str, what: &str, secret: &JobSecret) -> bool {
        self.cancelled.lock().expect("cancel list").proven(kiosk, what, secret)
    }

    fn run_job(
        &mut self,
        job: &jetstream::Message,
        spec: &JobSpec,
        secret: &JobSecret,
        progress: &mut Progress,
        keep_alive: &KeepAlive,
    ) -> Outcome {
        if let Err(outcome) =
            self.prepare(spec, &job.payload).and_then(|_| self.paint.engine.restart(None).map_err(classify))
        {
            return outcome;
        }
        self.paint.set_pacing(Pacing {
            every: spec.snapshot_every.clamp(1, 1000),
            interval: Duration::from_secs_f64(spec.snapshot_interval_s.clamp(0.0, 10.0)),
        });
        // Sent with the painting: the kiosk may not see every snapshot.
        self.paint.set_gathering(true);
        self.paint.new_painting();
        let snapshots = protocol::snapshot_subject(&spec.kiosk, &spec.job);
        loop {
            if self.is_cancelled(&spec.kiosk, &spec.job, secret) {
                self.paint.forget();
                return Outcome::Cancelled;
            }
            if self.stop.load(Ordering::Relaxed) {
                self.paint.forget();
                return Outcome::Stopping;
            }
            let stepped = match self.paint.step() {
                Ok(stepped) => stepped,
                Err(e) => {
                    self.paint.forget();
                    return classify(e);
                }
            };
            *keep_alive.last_step.lock().expect("last step") = Instant::now();
            self.announcement.lock().expect("announcement").iterations_per_second =
                stepped.progress.iterations_per_second;
            progress.record(&stepped.progress);
            if stepped.finished {
                let painting = self.paint.snapshot();
                let making_of = self.paint.take_making_of();
                self.paint.forget();
                return match painting {
                    Ok(img) => Outcome::Finished(img, making_of),
                    Err(e) => classify(e),
                };
            }
            if stepped.snapshot_due {
                progress.seq += 1;
                match self.paint.snapshot() {
                    // Encoded and sent beside the painting (the GPU goes on meanwhile).
                    Ok(img) => self.snapshots.send(snapshots.clone(), progress.to_headers(), secret.clone(), img),
                    Err(e) => return classify(e),
                }
            }
        }
    }

    /// The painter set up for a job: its parameters, styles, faces and photo (`photo`, an
    /// encoded image). How the painting starts is the caller's choice.
    fn prepare(&mut self, spec: &JobSpec, photo: &[u8]) -> Result<(), Outcome> {
        let content =
            imageio::decode_rgb(photo).map_err(|e| Outcome::Refused(format!("the photo cannot be used: {e}")))?;
        let styles = self.styles_of(spec)?;
        let mut params = spec.params.clone();
        if let (Some(gpu), true) = (self.opts.on_gpu, self.opts.device.is_cuda()) {
            let policy = if spec.live.is_some() { crate::config::Policy::Live } else { crate::config::Policy::Paint };
            params = gpu.apply(&params, policy);
        }
        params.size = params.size.min(self.opts.max_size);
        params.validate().map_err(|e| Outcome::Refused(format!("the parameters are refused: {e}")))?;
        if params.pooling != self.paint.engine.params().pooling {
            // Pooling is part of the network as loaded.
            self.paint.engine = Vgg::load(&self.opts.weights, self.opts.device.device, params.pooling)
                .and_then(|vgg| Refiner::new(vgg, self.opts.device, params.clone()))
                .map_err(classify)?;
        }
        let engine = &mut self.paint.engine;
        engine.set_loss_readback_every(spec.snapshot_every.clamp(1, 1000));
        engine.set_params(params).and_then(|_| engine.set_styles(styles)).map_err(classify)?;
        engine.set_faces(spec.faces.clone());
        engine.set_content(content);
        Ok(())
    }
}

/// A step longer than this is a hung painter: its job stops being kept and goes to another
/// (as a Live painter's lease does; a GPU step is a fraction of a second).
const STEP_STALL: Duration = Duration::from_secs(15);

/// Progress acks for the job in hand, sent beside the engine (one L-BFGS step can outlast the
/// ack wait on a busy CPU) for as long as the engine keeps finishing steps.
struct KeepAlive {
    alive: Arc<AtomicBool>,
    last_step: Arc<Mutex<Instant>>,
}

impl KeepAlive {
    fn start(runtime: &tokio::runtime::Runtime, client: async_nats::Client, job: &jetstream::Message) -> KeepAlive {
        let alive = Arc::new(AtomicBool::new(true));
        let last_step = Arc::new(Mutex::new(Instant::now()));
        if let Some(reply) = job.reply.clone() {
            let (alive, last_step) = (alive.clone(), last_step.clone());
            runtime.spawn(async move {
                loop {
                    tokio::time::sleep(protocol::PROGRESS_EVERY).await;
                    if !alive.load(Ordering::Relaxed) {
                        break;
                    }
                    if last_step.lock().expect("last step").elapsed() < STEP_STALL {
                        let _ = client.publish(reply.clone(), Bytes::from(AckKind::Progress)).await;
                    }
                }
            });
        }
        KeepAlive { alive, last_step }
    }
}

impl Drop for KeepAlive {
    fn drop(&mut self) {
        self.alive.store(false, Ordering::Relaxed);
    }
}

fn short(hash: &str) -> &str {
    &hash[..hash.len().min(12)]
}

fn classify(e: EngineError) -> Outcome {
    if e.is_out_of_memory() { Outcome::OutOfMemory(e.to_string()) } else { Outcome::Refused(e.to_string()) }
}
