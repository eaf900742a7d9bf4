//! What kiosks and painters agree on: the JetStream streams, subjects, headers and the job
//! description. Everything else (delivery, redelivery, acks, storage, expiry) is the server's.
//!
//! ```text
//! kiosk K ──job──▶ stream GP_JOBS  (gp.jobs.K, work queue, one message per kiosk)
//!                        │ durable pull consumer "painters", shared by all painters
//!                        ▼
//!                   painter P ──snapshots──▶ gp.snap.K.JOB    (core NATS: newest wins, nothing kept)
//!                             ──finished───▶ GP_RESULTS_K     (gp.results.K.JOB, kept minutes, not hours:
//!                                                              the painting, then its making-of's frames)
//! kiosk K ──cancel──▶ gp.cancel.K          (a new photo, or the visitor left: the painter stops)
//! styles: object store "gp-styles-K" per kiosk, named by the SHA-256 of the file
//! painters alive: KV "gp-painters" with a TTL, one key per painter
//!
//! Live mirror: the job starts a session instead of a painting
//! kiosk K ──session request──▶ GP_JOBS (gp.jobs.K; payload: the last painting the kiosk got, then a frame)
//!                   painter P takes the lease: KV "gp-leases", key K, TTL, renewed while it paints
//! kiosk K ──frames──▶ gp.live.K.SESSION   (core NATS, a bounded rate; the painter keeps the newest)
//!                   painter P ──snapshots──▶ gp.snap.K.SESSION
//! the lease expires (painter gone): the kiosk asks again, one generation up, with its last painting
//! ```
//!
//! No subject proves who sent a message (the server lets any client have JetStream write into
//! any subject as a reply): jobs are signed by their kiosk, announcements by their painter,
//! and everything of a job carries a proof made with the job's secret ([`super::trust`]).
//!
//! Each kiosk's finished paintings are in a stream of its own, so the server's permissions
//! (subject-based) can let a kiosk read and delete its own and nobody else's. A visitor who
//! leaves is deleted by an empty job on the kiosk's subject (it replaces a queued photo:
//! one message per subject) and a purge of the kiosk's results stream. Streams and buckets
//! are made by the setup role only (see `setup`).

use std::time::Duration;

pub use crate::config::valid_name;
use async_nats::HeaderMap;
use serde::{Deserialize, Serialize};

use super::trust::JobSecret;
use crate::engine::{FaceBox, LiveSettings, LossParts, StyleParams};

pub const JOBS_STREAM: &str = "GP_JOBS";
pub const PAINTERS_CONSUMER: &str = "painters";
pub const PAINTERS_BUCKET: &str = "gp-painters";
/// Who holds each kiosk's Live session: one key per kiosk.
pub const LEASES_BUCKET: &str = "gp-leases";

/// A painter that stops acknowledging progress for this long has its job given to another.
pub const ACK_WAIT: Duration = Duration::from_secs(6);
/// A painter reports progress this often (well inside [`ACK_WAIT`]).
pub const PROGRESS_EVERY: Duration = Duration::from_secs(2);
/// Deliveries of one job before the server gives up on it (a job that kills painters).
pub const MAX_DELIVER: i64 = 4;
/// A queued job older than this is dropped: its visitor has gone.
pub const JOB_MAX_AGE: Duration = Duration::from_secs(5 * 60);
/// Finished paintings stay on the server this long at most (a kiosk that was cut off
/// fetches its painting when it comes back); the visitor's `Forget` deletes them sooner.
pub const RESULT_MAX_AGE: Duration = Duration::from_secs(10 * 60);
/// A painter's announcement lives this long unless renewed: a dead painter disappears.
pub const ANNOUNCE_TTL: Duration = Duration::from_secs(10);
pub const ANNOUNCE_EVERY: Duration = Duration::from_secs(3);
/// A Live session's lease lives this long unless its painter renews it: a painter that dies
/// leaves the session free within this time, and the kiosk asks for another.
/// Short, because the mirror stands still until another painter has it (renewing is cheap,
/// and three renewals fit in it: one lost on the way does not end the lease).
pub const LEASE_TTL: Duration = Duration::from_secs(4);
pub const LEASE_RENEW_EVERY: Duration = Duration::from_secs(1);
/// A Live painter with no frame this long ends the session (its kiosk paused or went away).
pub const LIVE_IDLE: Duration = Duration::from_secs(10);
/// In a cluster, a stream whose leading server died answers nobody until the others elect a
/// new leader (seconds): a job or a painting is offered again for this long meanwhile.
pub const LEADER_ELECTION: Duration = Duration::from_secs(10);

/// The server's answer while a stream has no leader (or its leader is being replaced).
pub fn leaderless(error: &str) -> bool {
    let e = error.to_lowercase();
    e.contains("no stream") || e.contains("no responders") || e.contains("leader")
}

/// An OOM painter hands the job back, to be tried again after this (elsewhere, or smaller).
pub const OOM_RETRY_DELAY: Duration = Duration::from_secs(5);

// Headers of snapshots and results.
pub const H_JOB: &str = "Gp-Job";
pub const H_ATTEMPT: &str = "Gp-Attempt";
pub const H_SEQ: &str = "Gp-Seq";
pub const H_LEVEL: &str = "Gp-Level";
pub const H_LEVELS: &str = "Gp-Levels";
pub const H_ITERATION: &str = "Gp-Iteration";
pub const H_TOTAL: &str = "Gp-Total";
pub const H_LOSS: &str = "Gp-Loss";
/// The loss's terms, raw (F12 shows them as the kiosk's own engine does).
pub const H_CONTENT: &str = "Gp-Content";
pub const H_STYLE: &str = "Gp-Style";
pub const H_TV: &str = "Gp-Tv";
pub const H_TEMPORAL: &str = "Gp-Temporal";
pub const H_RATE: &str = "Gp-Rate";
pub const H_PAINTER: &str = "Gp-Painter";
pub const H_FINISHED: &str = "Gp-Finished";
/// On a result: the job cannot be painted, and why.
pub const H_ERROR: &str = "Gp-Error";
/// On a result: the byte lengths of its making-of's frames (JPEG, comma-separated), which
/// follow the painting's PNG in the payload ([`super::making_of`]).
pub const H_MAKING_OF: &str = "Gp-Making-Of";
/// On a job: its description ([`JobSpec`] as JSON).
pub const H_SPEC: &str = "Gp-Spec";
/// On a Live frame: its sequence number at the kiosk; on a Live snapshot: the frame it paints.
pub const H_FRAME: &str = "Gp-Frame";
/// On a Live frame: the faces found in it ([`FaceBox`]es as JSON).
pub const H_FACES: &str = "Gp-Faces";
/// On a Live painter's message (no picture): it will take the next frame in a moment.
pub const H_WANT: &str = "Gp-Want";
/// On a snapshot, result or Live message: the HMAC with the job's secret ([`super::proofs`]).
pub const H_MAC: &str = "Gp-Mac";
/// On a job: the kiosk's certificate and its signature of the job ([`super::trust::Identity`]).
pub const H_SIGNER: &str = "Gp-Signer";
pub const H_SIGNATURE: &str = "Gp-Signature";
/// On a Live frame: the nonce it is sealed with (the payload is encrypted with the session's secret).
pub const H_NONCE: &str = "Gp-Nonce";

/// The last token of `gp.snap.<kiosk>.<token>` on which a painter says that what was queued
/// on the kiosk's subject was not a job of the kiosk (an empty or forged one): a job the kiosk
/// sent may have been put out of the queue by it. Job ids never start with `_`.
pub const DISPLACED: &str = "_displaced";

pub fn job_subject(kiosk: &str) -> String {
    format!("gp.jobs.{kiosk}")
}
pub fn snapshot_subject(kiosk: &str, job: &str) -> String {
    format!("gp.snap.{kiosk}.{job}")
}
pub fn result_subject(kiosk: &str, job: &str) -> String {
    format!("gp.results.{kiosk}.{job}")
}
/// A Live session's frames.
pub fn live_subject(kiosk: &str, session: &str) -> String {
    format!("gp.live.{kiosk}.{session}")
}
/// What a cancel names for one generation of a Live session (a Paint job is named by its id).
pub fn live_cancel(session: &str, generation: u32) -> String {
    format!("{session}/{generation}")
}
pub fn cancel_subject(kiosk: &str) -> String {
    format!("gp.cancel.{kiosk}")
}
/// The stream of one kiosk's finished paintings.
pub fn results_stream(kiosk: &str) -> String {
    format!("GP_RESULTS_{kiosk}")
}
/// One kiosk's style images (object store, named by SHA-256): a kiosk writes only its own.
pub fn styles_bucket(kiosk: &str) -> String {
    format!("gp-styles-{kiosk}")
}
/// Replies to this client's requests come here, and only this user may listen there.
pub fn inbox_prefix(name: &str) -> String {
    format!("_INBOX_{name}")
}

/// One style of a job: the SHA-256 of the file in the object store, and its blend weight.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct JobStyle {
    pub sha256: String,
    pub weight: f64,
}

/// What to paint. The photo is the message's payload (PNG); this rides in [`H_SPEC`].
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct JobSpec {
    pub job: String,
    pub kiosk: String,
    /// The selection's key, echoed in snapshots' style key.
    pub key: String,
    pub styles: Vec<JobStyle>,
    pub params: StyleParams,
    pub faces: Vec<FaceBox>,
    pub snapshot_every: u32,
    /// Snapshots between the first and the finished one at most this often, seconds.
    #[serde(default)]
    pub snapshot_interval_s: f64,
    /// A Live session instead of one painting (`job` is then the session's id).
    #[serde(default)]
    pub live: Option<LiveSpec>,
    /// The job's (a Live session's) secret, hex: what the painter proves its messages with.
    #[serde(default)]
    pub secret: String,
}

impl JobSpec {
    /// The description as it rides in [`H_SPEC`], made once per job (its length counts
    /// against the server's message limit too).
    pub fn to_header(&self) -> String {
        serde_json::to_string(self).expect("a job description is JSON")
    }
}

/// A Live session request: who paints the kiosk's mirror from now on, and from where.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct LiveSpec {
    /// Each request of a session is one generation up: a restyle, a resume, a takeover.
    /// The newest generation takes the lease from an older one.
    pub generation: u32,
    pub settings: LiveSettings,
    /// The payload's first bytes are the last painting the kiosk received (PNG or JPEG),
    /// this many; the rest is the newest frame (PNG). 0: no painting, start afresh.
    pub painting_bytes: u64,
    /// The kiosk's sequence number of the frame in the payload.
    pub frame: u64,
}

impl LiveSpec {
    /// The request's payload: the painting to continue (if any), then the frame.
    pub fn pack(painting: Option<&[u8]>, frame: &[u8]) -> (Vec<u8>, u64) {
        let painting = painting.unwrap_or_default();
        ([painting, frame].concat(), painting.len() as u64)
    }

    /// The painting to continue (if any) and the frame, from a request's payload.
    pub fn unpack<'a>(&self, payload: &'a [u8]) -> Option<(Option<&'a [u8]>, &'a [u8])> {
        let split = usize::try_from(self.painting_bytes).ok().filter(|&n| n < payload.len())?;
        let (painting, frame) = payload.split_at(split);
        Some(((!painting.is_empty()).then_some(painting), frame))
    }
}

/// A Live session's lease ([`LEASES_BUCKET`], key: the kiosk), proven with the session's
/// secret: a write by anyone not given the session is no lease.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Lease {
    pub painter: String,
    pub session: String,
    pub generation: u32,
    #[serde(default)]
    pub mac: String,
}

impl Lease {
    fn parts(&self, kiosk: &str) -> [Vec<u8>; 4] {
        [kiosk.into(), self.painter.clone().into(), self.session.clone().into(), self.generation.to_string().into()]
    }

    /// The lease with its proof, for the kiosk `kiosk`.
    pub fn signed(painter: &str, session: &str, generation: u32, kiosk: &str, secret: &JobSecret) -> Lease {
        let mut lease = Lease { painter: painter.into(), session: session.into(), generation, mac: String::new() };
        let parts = lease.parts(kiosk);
        lease.mac = secret.mac("lease", &parts.each_ref().map(Vec::as_slice));
        lease
    }

    /// A lease in the bucket, if it was written by a painter given the session (`secret`).
    pub fn proven(value: &[u8], kiosk: &str, secret: &JobSecret) -> Option<Lease> {
        let lease: Lease = serde_json::from_slice(value).ok()?;
        let parts = lease.parts(kiosk);
        secret.verify("lease", &parts.each_ref().map(Vec::as_slice), &lease.mac).then_some(lease)
    }

    /// Does this lease give way to a request for `session`'s `generation`? A request of the
    /// kiosk's current session takes it from an older generation; a new session (the kiosk
    /// started again) takes it from any; a stale request takes nothing.
    pub fn yields_to(&self, session: &str, generation: u32) -> bool {
        self.session != session || self.generation < generation
    }
}

/// A snapshot's or result's headers, read back.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Progress {
    pub job: String,
    pub attempt: u32,
    pub seq: u64,
    pub level: u32,
    pub levels: u32,
    pub iteration: u32,
    pub total_iterations: u32,
    /// The total and each term (content, style, TV, Live's temporal).
    pub losses: LossParts,
    pub iterations_per_second: f64,
    pub painter: String,
    pub finished: bool,
    pub error: Option<String>,
    /// Live: the kiosk's frame this snapshot paints (0 for a Paint job).
    pub frame: u64,
    /// Live: the painter asks for the next frame.
    pub want: bool,
}

impl Progress {
    pub fn to_headers(&self) -> HeaderMap {
        let mut h = HeaderMap::new();
        h.insert(H_JOB, self.job.as_str());
        h.insert(H_ATTEMPT, self.attempt.to_string().as_str());
        h.insert(H_SEQ, self.seq.to_string().as_str());
        h.insert(H_LEVEL, self.level.to_string().as_str());
        h.insert(H_LEVELS, self.levels.to_string().as_str());
        h.insert(H_ITERATION, self.iteration.to_string().as_str());
        h.insert(H_TOTAL, self.total_iterations.to_string().as_str());
        let l = &self.losses;
        for (name, value) in
            [(H_LOSS, l.total), (H_CONTENT, l.content), (H_STYLE, l.style), (H_TV, l.tv), (H_TEMPORAL, l.temporal)]
        {
            h.insert(name, format!("{value:e}").as_str());
        }
        h.insert(H_RATE, format!("{:.3}", self.iterations_per_second).as_str());
        h.insert(H_PAINTER, self.painter.as_str());
        h.insert(H_FINISHED, if self.finished { "1" } else { "0" });
        if self.frame > 0 {
            h.insert(H_FRAME, self.frame.to_string().as_str());
        }
        if self.want {
            h.insert(H_WANT, "1");
        }
        if let Some(e) = &self.error {
            // Header values are one line.
            h.insert(H_ERROR, e.replace(['\r', '\n'], " ").as_str());
        }
        h
    }

    pub fn from_headers(h: &HeaderMap) -> Option<Progress> {
        let text = |k: &str| h.get(k).map(|v| v.as_str().to_string());
        let num = |k: &str| text(k).and_then(|v| v.parse::<f64>().ok()).unwrap_or(0.0);
        Some(Progress {
            job: text(H_JOB)?,
            attempt: num(H_ATTEMPT) as u32,
            seq: num(H_SEQ) as u64,
            level: num(H_LEVEL) as u32,
            levels: num(H_LEVELS) as u32,
            iteration: num(H_ITERATION) as u32,
            total_iterations: num(H_TOTAL) as u32,
            losses: LossParts {
                total: num(H_LOSS),
                content: num(H_CONTENT),
                style: num(H_STYLE),
                tv: num(H_TV),
                temporal: num(H_TEMPORAL),
            },
            iterations_per_second: num(H_RATE),
            painter: text(H_PAINTER).unwrap_or_default(),
            finished: text(H_FINISHED).as_deref() == Some("1"),
            error: text(H_ERROR),
            frame: num(H_FRAME) as u64,
            want: text(H_WANT).as_deref() == Some("1"),
        })
    }

    /// Takes the engine's progress after a step.
    pub fn record(&mut self, p: &crate::engine::Progress) {
        self.iteration = p.iteration;
        self.total_iterations = p.total_iterations;
        self.level = p.level;
        self.losses = p.losses;
        self.iterations_per_second = p.iterations_per_second;
    }

    pub fn losses(&self) -> LossParts {
        self.losses
    }
}

/// What a painter says about itself in [`PAINTERS_BUCKET`]. Whose job it paints is not said:
/// every kiosk reads the bucket.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Announcement {
    pub name: String,
    pub device: String,
    pub iterations_per_second: f64,
    pub busy: bool,
    pub paintings: u64,
    /// Grows with each announcement: one that does not is a copy of an old one.
    pub seq: u64,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn progress_headers_round_trip() {
        let p = Progress {
            job: "k1-7".into(),
            attempt: 2,
            seq: 9,
            level: 1,
            levels: 2,
            iteration: 33,
            total_iterations: 80,
            losses: LossParts { total: 1.25e7, content: 3.5e5, style: 2.25e-3, tv: 812.0, temporal: 0.5 },
            iterations_per_second: 4.5,
            painter: "p1".into(),
            finished: true,
            error: Some("line one\nline two".into()),
            frame: 41,
            want: true,
        };
        let back = Progress::from_headers(&p.to_headers()).unwrap();
        assert_eq!(back.error.as_deref(), Some("line one line two"));
        assert_eq!(Progress { error: None, ..back }, Progress { error: None, ..p });
    }

    #[test]
    fn a_live_request_carries_the_painting_to_continue_then_the_frame() {
        let spec =
            |painting_bytes| LiveSpec { generation: 2, settings: LiveSettings::default(), painting_bytes, frame: 7 };
        let (payload, n) = LiveSpec::pack(Some(b"PAINT"), b"FRAME");
        assert_eq!(spec(n).unpack(&payload), Some((Some(&b"PAINT"[..]), &b"FRAME"[..])));
        let (payload, n) = LiveSpec::pack(None, b"FRAME");
        assert_eq!(spec(n).unpack(&payload), Some((None, &b"FRAME"[..])));
        // A split past the payload (or leaving no frame) is refused, not a panic.
        assert_eq!(spec(5).unpack(b"PAINT"), None);
        assert_eq!(spec(99).unpack(b"PAINT"), None);
    }

    #[test]
    fn a_lease_gives_way_to_a_newer_generation_or_a_new_session_only() {
        let lease = Lease { painter: "p1".into(), session: "s1".into(), generation: 3, mac: String::new() };
        assert!(lease.yields_to("s1", 4), "takeover, restyle or resume of the same mirror");
        assert!(!lease.yields_to("s1", 3), "a repeated request does not take it from its own holder");
        assert!(!lease.yields_to("s1", 2), "a stale request takes nothing");
        assert!(lease.yields_to("s2", 1), "the kiosk started again: its new session wins");
    }

    #[test]
    fn kiosk_names_are_single_subject_tokens() {
        assert!(valid_name("hall-2_east"));
        for bad in ["", "a.b", "a*", "a>", "a b", "ü", &"x".repeat(65)] {
            assert!(!valid_name(bad), "{bad:?}");
        }
    }
}
