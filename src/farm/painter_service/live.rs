//! A kiosk's Live mirror on a painter. The session request is taken off the work queue once
//! the painter holds the kiosk's lease (a KV entry with a TTL, renewed while it paints), so
//! one painter paints the mirror frame after frame: the temporal loss and the optimiser's
//! memory carry over as they do on the kiosk's own engine. Frames come on core NATS and
//! only the newest is kept. The session ends when the kiosk cancels it, stops sending
//! frames, or a newer request takes the lease; a painter that dies lets the lease expire,
//! and the kiosk asks another to go on from the last painting it received.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use async_nats::jetstream::kv::{Operation, Store, UpdateErrorKind};
use async_nats::jetstream::{self, AckKind};
use bytes::Bytes;
use futures_util::StreamExt;
use image::RgbImage;

use super::{Outcome, PainterService, SNAPSHOT_QUALITY, classify};
use crate::engine::{FaceBox, imageio};
use crate::farm::proofs;
use crate::farm::protocol::{self, JobSpec, Lease, LiveSpec, Progress};
use crate::farm::trust::JobSecret;
use crate::painting::Pacing;

/// A Live step longer than this is a hung painter: the lease is left to expire so that
/// another painter takes the mirror over (a Live step is a few frames' worth of work).
const LIVE_STEP_STALL: Duration = Duration::from_secs(15);

/// How a Live session ended on this painter.
enum LiveEnd {
    /// Normally, or handed on (the reason is for the log).
    Ended(String),
    /// It cannot be painted anywhere: the kiosk is told.
    Refused(String),
}

impl From<Outcome> for LiveEnd {
    fn from(o: Outcome) -> LiveEnd {
        match o {
            Outcome::Refused(r) => LiveEnd::Refused(r),
            Outcome::OutOfMemory(e) => LiveEnd::Ended(format!("out of memory ({e})")),
            Outcome::ServerBusy(e) => LiveEnd::Ended(e),
            Outcome::Cancelled => LiveEnd::Ended("the kiosk ended the session".into()),
            Outcome::Stopping => LiveEnd::Ended("this painter is stopping".into()),
            Outcome::Finished(..) => LiveEnd::Ended("finished".into()),
        }
    }
}

struct LiveFrame {
    seq: u64,
    faces: Vec<FaceBox>,
    image: RgbImage,
}

/// The session's newest frame (older ones are dropped unpainted) and when a frame last came.
struct FrameSlot {
    newest: Option<LiveFrame>,
    /// The newest frame's number so far (a late, older frame is not painted after a newer one).
    newest_seq: u64,
    last_at: Instant,
}

impl PainterService<'_> {
    pub(super) fn paint_live(&mut self, job: jetstream::Message, spec: JobSpec, live: LiveSpec, secret: JobSecret) {
        let kiosk = spec.kiosk.clone();
        let lease = Lease::signed(&self.opts.name, &spec.job, live.generation, &kiosk, &secret);
        let revision = match self.runtime.block_on(take_lease(&self.leases, &kiosk, &lease, &secret)) {
            Ok(Some(revision)) => revision,
            Ok(None) => {
                tracing::info!(
                    "painter: Live request {} of kiosk {kiosk} (generation {}) is older than the session's lease; dropped",
                    spec.job,
                    live.generation
                );
                return self.ack(&job, AckKind::Term);
            }
            Err(e) => {
                // Another painter took it at the same moment, or the server is busy: look again soon.
                tracing::info!("painter: the lease of kiosk {kiosk} was not taken ({e}); handed back");
                return self.ack(&job, AckKind::Nak(Some(Duration::from_secs(1))));
            }
        };
        // The session lives on the lease from now on: the request leaves the queue.
        self.ack(&job, AckKind::Ack);
        tracing::info!(
            "painter: holds the Live mirror of kiosk {kiosk} (session {}, generation {}{})",
            spec.job,
            live.generation,
            if live.painting_bytes > 0 { ", going on from the kiosk's last painting" } else { "" }
        );
        self.announcement.lock().expect("announcement").busy = true;
        let keeper = LeaseKeeper::start(self.runtime, self.leases.clone(), &kiosk, &lease, &secret, revision);
        let mut progress = Progress {
            job: spec.job.clone(),
            attempt: live.generation,
            painter: self.opts.name.clone(),
            levels: spec.params.levels,
            frame: live.frame,
            ..Default::default()
        };
        let end = self.run_live(&job.payload, &spec, &live, &secret, &keeper, &mut progress);
        keeper.release(self.runtime);
        self.paint.forget();
        self.announcement.lock().expect("announcement").busy = false;
        match end {
            LiveEnd::Ended(why) => tracing::info!("painter: Live mirror of kiosk {kiosk} ends: {why}"),
            LiveEnd::Refused(reason) => {
                tracing::warn!("painter: Live mirror of kiosk {kiosk} cannot be painted: {reason}");
                progress.error = Some(reason);
                let subject = protocol::snapshot_subject(&kiosk, &spec.job);
                let mut headers = progress.to_headers();
                proofs::prove_output(&secret, &subject, &mut headers, &[]);
                let _ = self.runtime.block_on(self.client.publish_with_headers(subject, headers, Bytes::new()));
            }
        }
    }

    fn run_live(
        &mut self,
        payload: &[u8],
        spec: &JobSpec,
        live: &LiveSpec,
        secret: &JobSecret,
        keeper: &LeaseKeeper,
        progress: &mut Progress,
    ) -> LiveEnd {
        let Some((painting, frame)) = live.unpack(payload) else {
            return LiveEnd::Refused("the Live request's payload does not match its description".into());
        };
        if let Err(outcome) = self.prepare(spec, frame) {
            return outcome.into();
        }
        let started = match painting.map(imageio::decode_rgb) {
            Some(Ok(painting)) => self.paint.engine.continue_from(&painting),
            Some(Err(e)) => return LiveEnd::Refused(format!("the painting to go on from cannot be used: {e}")),
            None => self.paint.engine.restart(None),
        };
        if let Err(e) = started {
            return classify(e).into();
        }
        let slot = Arc::new(Mutex::new(FrameSlot { newest: None, newest_seq: live.frame, last_at: Instant::now() }));
        // This session's frames only (the kiosk seals them with the session's secret).
        let frames = protocol::live_subject(&spec.kiosk, &spec.job);
        let subscription = match self.runtime.block_on(self.client.subscribe(frames)) {
            Ok(s) => s,
            Err(e) => return LiveEnd::Ended(format!("cannot listen for frames ({e})")),
        };
        // Aborting the task drops the subscription: the server stops sending this session's frames.
        let receiver = AbortOnDrop(self.runtime.spawn(keep_newest(subscription, slot.clone(), secret.clone())));
        let snapshots = protocol::snapshot_subject(&spec.kiosk, &spec.job);
        let cancel = protocol::live_cancel(&spec.job, live.generation);
        // Every so many steps, and at once after each new frame; the mirror has no making-of.
        self.paint.set_pacing(Pacing { every: spec.snapshot_every.clamp(1, 1000), interval: Duration::ZERO });
        self.paint.set_gathering(false);
        self.paint.new_painting();
        let per_frame = live.settings.iterations_per_frame.max(1);
        let mut steps_since_frame = 0;
        // Two steps before it takes the next frame, the painter asks for it: the kiosk sends its
        // newest then, and the frame is seconds fresher than one sent at the frame's start.
        let ask_after = per_frame.saturating_sub(2).max(1);
        let mut said_finished = false;
        self.ask_for_frame(&snapshots, secret, progress);
        let end = loop {
            if self.is_cancelled(&spec.kiosk, &cancel, secret) {
                break Outcome::Cancelled.into();
            }
            if self.stop.load(Ordering::Relaxed) {
                break Outcome::Stopping.into();
            }
            if keeper.lost() {
                break LiveEnd::Ended("the lease went to a newer request or expired".into());
            }
            if slot.lock().expect("frame slot").last_at.elapsed() >= protocol::LIVE_IDLE {
                break LiveEnd::Ended(format!("no frame for {} s", protocol::LIVE_IDLE.as_secs()));
            }
            let finished = self.paint.engine.is_finished();
            if steps_since_frame >= per_frame || finished {
                let newest = slot.lock().expect("frame slot").newest.take();
                if let Some(f) = newest {
                    self.paint.engine.set_faces(f.faces);
                    if let Err(e) = self.paint.engine.follow(f.image, &live.settings) {
                        break classify(e).into();
                    }
                    progress.frame = f.seq;
                    steps_since_frame = 0;
                    self.paint.show_next();
                    said_finished = false;
                } else if finished {
                    // The frame is painted to the end: show it as finished once, then wait for the next.
                    if !said_finished {
                        said_finished = true;
                        progress.finished = true;
                        if let Err(end) = self.publish_live(&snapshots, secret, progress) {
                            break end;
                        }
                        progress.finished = false;
                        self.ask_for_frame(&snapshots, secret, progress);
                    }
                    std::thread::sleep(Duration::from_millis(20));
                    continue;
                }
            }
            let stepped = match self.paint.step() {
                Ok(stepped) => stepped,
                Err(e) => break classify(e).into(),
            };
            keeper.stepped();
            self.announcement.lock().expect("announcement").iterations_per_second =
                stepped.progress.iterations_per_second;
            progress.record(&stepped.progress);
            steps_since_frame += 1;
            if steps_since_frame == ask_after {
                self.ask_for_frame(&snapshots, secret, progress);
            }
            if stepped.snapshot_due
                && let Err(end) = self.publish_live(&snapshots, secret, progress)
            {
                break end;
            }
        };
        drop(receiver);
        end
    }

    /// Asks the kiosk for its newest frame (no picture: the progress headers and `Gp-Want`).
    fn ask_for_frame(&self, subject: &str, secret: &JobSecret, progress: &mut Progress) {
        progress.want = true;
        let mut headers = progress.to_headers();
        proofs::prove_output(secret, subject, &mut headers, &[]);
        progress.want = false;
        let _ = self.runtime.block_on(self.client.publish_with_headers(subject.to_string(), headers, Bytes::new()));
    }

    /// A snapshot of the mirror (core NATS: newest wins, nothing kept on the server).
    fn publish_live(&mut self, subject: &str, secret: &JobSecret, progress: &mut Progress) -> Result<(), LiveEnd> {
        let image = self.paint.snapshot().map_err(|e| LiveEnd::from(classify(e)))?;
        progress.seq += 1;
        let body = Bytes::from(imageio::encode_jpeg(&image, SNAPSHOT_QUALITY));
        let mut headers = progress.to_headers();
        proofs::prove_output(secret, subject, &mut headers, &body);
        let _ = self.runtime.block_on(self.client.publish_with_headers(subject.to_string(), headers, body));
        Ok(())
    }
}

/// Takes the kiosk's lease for `lease`'s request: creates it, or takes it over from an older
/// generation or session (compare-and-set on the revision seen, so two painters cannot
/// both win). `None`: a request at least as new holds it. A value not proven with the
/// session's secret is no lease (a forgery, or another session's): it is written over.
async fn take_lease(
    kv: &Store,
    kiosk: &str,
    lease: &Lease,
    secret: &JobSecret,
) -> Result<Option<u64>, async_nats::Error> {
    let body = Bytes::from(serde_json::to_vec(lease)?);
    match kv.entry(kiosk).await? {
        Some(held) if held.operation == Operation::Put => {
            let holder = Lease::proven(&held.value, kiosk, secret);
            if holder.is_some_and(|h| !h.yields_to(&lease.session, lease.generation)) {
                return Ok(None);
            }
            Ok(Some(kv.update(kiosk, body, held.revision).await?))
        }
        // Released (a delete marker): taken from that revision.
        Some(released) => Ok(Some(kv.update(kiosk, body, released.revision).await?)),
        None => Ok(Some(kv.create(kiosk, body).await?)),
    }
}

/// Renews the lease beside the engine while it keeps finishing steps; notices when it is lost.
struct LeaseKeeper {
    alive: Arc<AtomicBool>,
    lost: Arc<AtomicBool>,
    last_step: Arc<Mutex<Instant>>,
    revision: Arc<Mutex<u64>>,
    kv: Store,
    key: String,
}

impl LeaseKeeper {
    fn start(
        runtime: &tokio::runtime::Runtime,
        kv: Store,
        key: &str,
        lease: &Lease,
        secret: &JobSecret,
        revision: u64,
    ) -> LeaseKeeper {
        let keeper = LeaseKeeper {
            alive: Arc::new(AtomicBool::new(true)),
            lost: Arc::new(AtomicBool::new(false)),
            last_step: Arc::new(Mutex::new(Instant::now())),
            revision: Arc::new(Mutex::new(revision)),
            kv: kv.clone(),
            key: key.to_string(),
        };
        let (alive, lost, last_step, revision) =
            (keeper.alive.clone(), keeper.lost.clone(), keeper.last_step.clone(), keeper.revision.clone());
        let (key, body) = (key.to_string(), Bytes::from(serde_json::to_vec(lease).expect("lease is JSON")));
        let (secret, session) = (secret.clone(), lease.session.clone());
        runtime.spawn(async move {
            let mut renewed = Instant::now();
            loop {
                tokio::time::sleep(protocol::LEASE_RENEW_EVERY).await;
                if !alive.load(Ordering::Relaxed) {
                    break;
                }
                // A hung engine lets the lease expire: another painter takes the mirror over.
                if last_step.lock().expect("last step").elapsed() >= LIVE_STEP_STALL {
                    continue;
                }
                let seen = *revision.lock().expect("revision");
                match kv.update(&key, body.clone(), seen).await {
                    Ok(r) => {
                        *revision.lock().expect("revision") = r;
                        renewed = Instant::now();
                    }
                    Err(e) if e.kind() == UpdateErrorKind::WrongLastRevision => {
                        // Written by someone else: a painter of a newer generation (proven with
                        // this session's secret) or of the kiosk's new session takes it; a
                        // value of this session that proves nothing is a forgery, written over.
                        match kv.entry(&key).await {
                            Ok(Some(e))
                                if e.operation == Operation::Put
                                    && serde_json::from_slice::<Lease>(&e.value)
                                        .is_ok_and(|l| l.session == session)
                                    && Lease::proven(&e.value, &key, &secret).is_none() =>
                            {
                                tracing::warn!("painter: a forged lease of {key} was dropped; the mirror stays here");
                                *revision.lock().expect("revision") = e.revision;
                            }
                            _ => {
                                lost.store(true, Ordering::Relaxed);
                                break;
                            }
                        }
                    }
                    Err(e) => {
                        tracing::debug!("painter: lease of {key} not renewed ({e})");
                        if renewed.elapsed() >= protocol::LEASE_TTL {
                            lost.store(true, Ordering::Relaxed);
                            break;
                        }
                    }
                }
            }
        });
        keeper
    }

    fn stepped(&self) {
        *self.last_step.lock().expect("last step") = Instant::now();
    }

    fn lost(&self) -> bool {
        self.lost.load(Ordering::Relaxed)
    }

    /// Stops renewing; a lease still ours is deleted at once (not left to expire), so the
    /// kiosk's next request is taken without waiting.
    fn release(self, runtime: &tokio::runtime::Runtime) {
        self.alive.store(false, Ordering::Relaxed);
        if self.lost() {
            return;
        }
        let revision = *self.revision.lock().expect("revision");
        let _ = runtime.block_on(async {
            tokio::time::timeout(Duration::from_secs(2), self.kv.delete_expect_revision(&self.key, Some(revision)))
                .await
        });
    }
}

struct AbortOnDrop(tokio::task::JoinHandle<()>);

impl Drop for AbortOnDrop {
    fn drop(&mut self) {
        self.0.abort();
    }
}

/// Keeps the newest frame of the session (opened and decoded off the engine's thread). A frame
/// not sealed with the session's secret is no frame of its kiosk: dropped.
async fn keep_newest(mut subscription: async_nats::Subscriber, slot: Arc<Mutex<FrameSlot>>, secret: JobSecret) {
    let mut said = false;
    while let Some(message) = subscription.next().await {
        let Some(headers) = message.headers.as_ref() else { continue };
        let text = |name: &str| headers.get(name).map(|v| v.as_str().to_string()).unwrap_or_default();
        let (frame, faces_text, nonce) = (text(protocol::H_FRAME), text(protocol::H_FACES), text(protocol::H_NONCE));
        let seq = frame.parse::<u64>().unwrap_or(0);
        let faces: Vec<FaceBox> = serde_json::from_str(&faces_text).unwrap_or_default();
        let aad = proofs::frame_aad(message.subject.as_str(), &frame, &faces_text);
        let Some(payload) = secret.open(&aad, &nonce, &message.payload) else {
            if !said {
                said = true;
                tracing::warn!("painter: a forged Live frame on {} was dropped", message.subject);
            }
            continue;
        };
        let image = match tokio::task::spawn_blocking(move || imageio::decode_rgb(&payload)).await {
            Ok(Ok(image)) => image,
            Ok(Err(e)) => {
                tracing::debug!("painter: a Live frame does not decode ({e}); skipped");
                continue;
            }
            Err(_) => continue,
        };
        let mut s = slot.lock().expect("frame slot");
        s.last_at = Instant::now();
        if seq > s.newest_seq {
            s.newest_seq = seq;
            s.newest = Some(LiveFrame { seq, faces, image });
        }
    }
}
