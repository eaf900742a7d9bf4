//! The kiosk's Live mirror on the farm. One painter holds the mirror through the kiosk's
//! lease (see `protocol`), so its temporal loss and optimiser memory carry from frame to
//! frame. Frames go to it at a bounded rate, at most one ahead of what it has painted; it
//! paints the newest. When the lease is gone (the painter died, stalled or stopped) the
//! kiosk asks again, one generation up, with the last painting it received, and the next
//! painter goes on from there. A restyle, and a resume after a pause, are new generations too.

use std::collections::VecDeque;
use std::sync::Arc;
use std::time::{Duration, Instant};

use async_nats::jetstream::kv::Operation;

use super::paint::snapshot_of;
use super::{CALL_TIMEOUT, IDLE_FOR, Incoming, LOST_AFTER, Mode, Refusal, Remote};
use crate::capture::Frame;
use crate::config::Policy;
use crate::engine::imageio;
use crate::farm::proofs;
use crate::farm::protocol::{self, Lease, LiveSpec};
use crate::painting::{Event, Notice};

/// The kiosk looks at its lease this often.
const LEASE_CHECK: Duration = Duration::from_secs(1);
/// Frames go when the painter asks for one; without a word from it this long (an ask lost on
/// the way, a painter slower than one frame per this) one goes anyway. With no new frame (a
/// still camera feed) the last one is sent again: the painter knows the kiosk is there (it
/// lets the mirror go after `protocol::LIVE_IDLE`).
const UNASKED_AFTER: Duration = Duration::from_secs(3);
/// Frames and the painting to go on from travel as JPEG at this quality.
const FRAME_QUALITY: u8 = 90;
/// Frames remembered for the capture-to-painting latency.
const KEPT_SENT: usize = 16;

/// One generation of the kiosk's Live session on the farm.
pub(super) struct LiveSession {
    generation: u32,
    requested: Instant,
    last_heard: Instant,
    last_lease_check: Instant,
    /// The painter holding the lease (seen on the lease or on its snapshots).
    holder: Option<String>,
    /// Asked again because the last holder was lost: say so when the next one paints.
    takeover: bool,
    said_takeover: bool,
    /// The last time the lease was seen proven as this generation's.
    lease_proven_at: Instant,
    /// Frames sent (number, captured at), for the capture-to-painting latency.
    sent: VecDeque<(u64, Instant)>,
    last_sent: Option<Instant>,
    last_sent_seq: u64,
    /// The newest frame the painter has painted.
    painted_seq: u64,
    /// The painter asked for the next frame (a couple of steps before it takes one, so the
    /// frame is fresh when it is painted).
    wanted: bool,
    first_seen: bool,
}

impl LiveSession {
    fn new(generation: u32, frame: &Frame, takeover: bool) -> LiveSession {
        let now = Instant::now();
        LiveSession {
            generation,
            requested: now,
            last_heard: now,
            last_lease_check: now,
            lease_proven_at: now,
            holder: None,
            takeover,
            said_takeover: false,
            sent: VecDeque::from([(frame.seq, frame.captured_at)]),
            last_sent: Some(now),
            last_sent_seq: frame.seq,
            painted_seq: 0,
            wanted: false,
            first_seen: false,
        }
    }

    /// Since when nothing was heard of this generation.
    pub(super) fn last_heard(&self) -> Instant {
        self.last_heard
    }

    /// Asked for a while ago and no painter holds it yet.
    pub(super) fn waiting_for_a_painter(&self) -> bool {
        self.holder.is_none() && self.requested.elapsed() >= Duration::from_millis(500)
    }
}

impl Remote {
    /// The Live policy on the farm: a session held by one painter, fed with frames.
    pub(super) fn live_tick(&mut self) {
        if self.mode != Mode::Farm || self.cfg.policy != Policy::Live || self.paused || self.selection.is_none() {
            return;
        }
        if let Some(frame) = self.frames.try_iter().last() {
            self.photo = Some(frame);
            self.live_frame_unsent = true;
        }
        if self.live.is_none() {
            // Not reachable yet: wait (after `fallback_after_s` the kiosk paints it itself).
            if !self.farm.connected {
                return;
            }
            let refused =
                self.live_refused.is_some() && self.live_refused.as_ref() == self.selection.as_ref().map(|s| &s.key);
            if !refused && let Some(frame) = self.newest_frame() {
                self.request_live(frame, false);
            }
            return;
        }
        self.check_lease();
        self.send_live_frame();
    }

    /// The newest camera frame (it counts as sent from now on).
    pub(super) fn newest_frame(&mut self) -> Option<Frame> {
        self.live_frame_unsent = false;
        self.photo.clone()
    }

    /// Asks the farm for a painter for the mirror: the next generation, going on from the last
    /// painting this kiosk received (if any).
    pub(super) fn request_live(&mut self, frame: Frame, takeover: bool) {
        let Some(sel) = self.selection.clone() else { return };
        let generation = self.live_generation + 1;
        let request = self.job_styles(&sel).and_then(|styles| {
            let size = sel.params.size;
            let painting = self
                .live_painting
                .as_ref()
                .map(|p| imageio::encode_jpeg(&imageio::shrink_to((**p).clone(), size), FRAME_QUALITY));
            let photo = imageio::encode_jpeg(&imageio::shrink_to((*frame.image).clone(), size), FRAME_QUALITY);
            let (payload, painting_bytes) = LiveSpec::pack(painting.as_deref(), &photo);
            let live = LiveSpec { generation, settings: self.cfg.live, painting_bytes, frame: frame.seq };
            let secret = self.live_secret.clone();
            let spec = self.job_spec(self.live_session_id.clone(), &sel, styles, &frame, Some(live), &secret);
            let spec = spec.to_header();
            self.check_size(&spec, payload.len())?;
            // The generation before stops at once (its painter would lose the lease anyway).
            self.cancel_live(false);
            self.proofs().secrets.insert(self.live_session_id.clone(), secret);
            self.send_job(&spec, payload)
        });
        match request {
            Ok(()) => {
                tracing::info!(
                    "farm: Live mirror asked for (generation {generation}{}) in \"{}\"",
                    if takeover { ", taking over from the last painting" } else { "" },
                    sel.key
                );
                self.live_generation = generation;
                self.farm.jobs_submitted += 1;
                self.live = Some(LiveSession::new(generation, &frame, takeover));
            }
            Err(Refusal::Style(reason)) => {
                self.notice(true, format!("cannot use \"{}\": {reason}", sel.key));
                self.live_refused = Some(sel.key.clone());
                self.events.send(Event::StyleUnusable { key: sel.key, reason });
            }
            Err(Refusal::Farm(reason)) => self.go_local(&reason),
        }
    }

    /// Ends this kiosk's generation on the farm. `withdraw`: no other request follows, so a
    /// request still queued is replaced by an empty one.
    pub(super) fn cancel_live(&mut self, withdraw: bool) {
        let Some(session) = self.live.take() else { return };
        self.cancel(&protocol::live_cancel(&self.live_session_id, session.generation), &self.live_secret);
        if withdraw && session.holder.is_none() {
            self.withdraw_queued_photo();
        }
        self.farm.painter = None;
    }

    /// Who holds the lease now: this generation's painter, nobody yet, or nobody any more.
    fn check_lease(&mut self) {
        let Some(session) = self.live.as_mut() else { return };
        if session.last_lease_check.elapsed() < LEASE_CHECK {
            return;
        }
        session.last_lease_check = Instant::now();
        let Some(ready) = self.ready() else { return };
        if self.client.connection_state() != async_nats::connection::State::Connected {
            return;
        }
        let kiosk = self.remote.kiosk.clone();
        let entry = self
            .runtime
            .block_on(async { tokio::time::timeout(CALL_TIMEOUT, ready.leases.entry(kiosk.clone())).await });
        let lease = match entry {
            Ok(Ok(Some(e))) if e.operation == Operation::Put => {
                match Lease::proven(&e.value, &kiosk, &self.live_secret) {
                    Some(lease) => Some(lease),
                    None => {
                        // Not written by a painter given this session: no lease of it. Only a lease
                        // gone for as long as a lease lives means the mirror's painter is gone.
                        let ours =
                            serde_json::from_slice::<Lease>(&e.value).is_ok_and(|l| l.session == self.live_session_id);
                        let lapsed =
                            self.live.as_ref().is_some_and(|s| s.lease_proven_at.elapsed() >= protocol::LEASE_TTL);
                        if ours {
                            self.proofs()
                                .forgery(&format!("the lease of kiosk {kiosk}"), &"it proves nothing of this session");
                            if !lapsed {
                                return;
                            }
                        }
                        None
                    }
                }
            }
            Ok(Ok(_)) => None,
            // No answer: nothing can be told.
            _ => return,
        };
        let Some(session) = self.live.as_mut() else { return };
        let ours = lease.filter(|l| l.session == self.live_session_id && l.generation == session.generation);
        match (ours, session.holder.clone()) {
            (Some(lease), _) => {
                session.lease_proven_at = Instant::now();
                session.holder = Some(lease.painter.clone());
                self.farm.painter = Some(lease.painter);
            }
            (None, Some(holder)) => {
                let text =
                    format!("painter {holder} stopped holding the mirror; another goes on from the last painting");
                tracing::warn!("farm: {text}");
                self.farm.redelivered += 1;
                self.farm.painter = None;
                self.retake_live();
            }
            // Not taken yet: the request waits in the queue.
            (None, None) => {
                let idle_painter = self.painter_idle_since.is_some_and(|t| t.elapsed() >= IDLE_FOR);
                if idle_painter && session.requested.elapsed() >= LOST_AFTER {
                    tracing::warn!("farm: the Live request was not taken (a painter is idle); asking again");
                    self.farm.resent += 1;
                    self.retake_live();
                }
            }
        }
    }

    pub(super) fn retake_live(&mut self) {
        if let Some(frame) = self.newest_frame() {
            self.request_live(frame, true);
        }
    }

    /// The newest frame to the painter when it asks for one, at most `live_frames_per_second`.
    fn send_live_frame(&mut self) {
        let min_gap = Duration::from_secs_f64(1.0 / self.remote.live_frames_per_second);
        let Some(session) = self.live.as_mut() else { return };
        if session.holder.is_none() {
            return;
        }
        let since = session.last_sent.map_or(Duration::MAX, |t| t.elapsed());
        if since < min_gap || !(session.wanted || since >= UNASKED_AFTER) {
            return;
        }
        // The newest frame; the one sent last again only when the painter has not asked.
        let fresh = std::mem::take(&mut self.live_frame_unsent);
        let frame = match self.photo.clone() {
            Some(frame) if fresh || since >= UNASKED_AFTER => frame,
            _ => return,
        };
        let size = self.selection.as_ref().map_or(512, |s| s.params.size);
        let jpeg = imageio::encode_jpeg(&imageio::shrink_to((*frame.image).clone(), size), FRAME_QUALITY);
        let subject = protocol::live_subject(&self.remote.kiosk, &self.live_session_id);
        let (seq, faces) = (frame.seq.to_string(), serde_json::to_string(&frame.faces).expect("faces are JSON"));
        // Sealed with the session's secret: only a painter given the session sees the camera.
        let (nonce, body) = self.live_secret.seal(&proofs::frame_aad(&subject, &seq, &faces), &jpeg);
        let mut headers = async_nats::HeaderMap::new();
        headers.insert(protocol::H_FRAME, seq.as_str());
        headers.insert(protocol::H_FACES, faces.as_str());
        headers.insert(protocol::H_NONCE, nonce.as_str());
        // Core NATS: a frame lost on the way is replaced by the next one.
        let _ = self.runtime.block_on(self.client.publish_with_headers(subject, headers, body.into()));
        session.last_sent = Some(Instant::now());
        session.wanted = false;
        session.last_sent_seq = frame.seq;
        session.sent.push_back((frame.seq, frame.captured_at));
        while session.sent.len() > KEPT_SENT {
            session.sent.pop_front();
        }
        self.farm.live_frames_sent += 1;
    }

    /// A snapshot of the mirror. Returns false when it is not this kiosk's Live session's.
    pub(super) fn take_live(&mut self, incoming: &Incoming) -> bool {
        let p = &incoming.progress;
        if p.job != self.live_session_id {
            return false;
        }
        let Some(session) = self.live.as_mut() else { return true };
        if p.attempt < session.generation {
            return true; // a painter of an older generation, on its way out
        }
        session.last_heard = Instant::now();
        session.holder = Some(p.painter.clone());
        self.farm.painter = Some(p.painter.clone());
        self.farm.waiting = false;
        if let Some(reason) = p.error.clone() {
            let key = self.selection.as_ref().map(|s| s.key.clone()).unwrap_or_default();
            self.live = None;
            self.live_refused = Some(key.clone());
            self.notice(true, format!("the farm cannot paint the mirror: {reason}"));
            self.events.send(Event::StyleUnusable { key, reason });
            return true;
        }
        if p.want {
            session.wanted = true;
        }
        let Some(image) = incoming.image.clone() else { return true };
        if session.takeover && !session.said_takeover {
            session.said_takeover = true;
            let text = format!("a painter stopped; {} goes on with the mirror", p.painter);
            tracing::info!("farm: {text}");
            self.events.send(Event::Notice(Notice { error: false, text }));
        }
        // A frame's first painting: how long from the camera to the screen.
        let latency = (p.frame > session.painted_seq)
            .then(|| session.sent.iter().find(|(seq, _)| *seq == p.frame).map(|(_, at)| at.elapsed()))
            .flatten();
        session.painted_seq = session.painted_seq.max(p.frame);
        if !session.first_seen {
            session.first_seen = true;
            self.farm.last_queue_wait = Some(session.requested.elapsed());
            self.farm.queue_waits += 1;
        }
        self.live_painting = Some(image.clone());
        self.last_rate = p.iterations_per_second;
        self.last_losses = p.losses();
        self.snapshots_on_farm += 1;
        if let Some(l) = latency {
            self.status().last_latency = Some(l);
            self.first_snapshots_on_farm += 1;
        }
        if p.finished {
            self.finished_on_farm += 1;
        }
        let key = self.selection.as_ref().map(|s| s.key.clone()).unwrap_or_default();
        let snapshot = snapshot_of(p, image, p.frame, key, latency, p.levels);
        self.events.send(Event::Snapshot(snapshot));
        true
    }

    /// A painting made here while the farm was away: the farm goes on from it when back.
    pub(super) fn keep_local_painting(&mut self, image: &Arc<image::RgbImage>) {
        if self.cfg.policy == Policy::Live {
            self.live_painting = Some(image.clone());
        }
    }
}
