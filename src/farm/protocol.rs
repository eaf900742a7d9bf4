//! What kiosks and painters agree on: the JetStream streams, subjects, headers and the job
//! description. Everything else (delivery, redelivery, acks, storage, expiry) is the server's.
//!
//! ```text
//! kiosk K ──job──▶ stream GP_JOBS  (gp.jobs.K, work queue, one message per kiosk)
//!                        │ durable pull consumer "painters", shared by all painters
//!                        ▼
//!                   painter P ──snapshots──▶ gp.snap.K.JOB    (core NATS: newest wins, nothing kept)
//!                             ──finished───▶ GP_RESULTS_K     (gp.results.K.JOB, kept minutes, not hours)
//! kiosk K ──cancel──▶ gp.cancel.K          (a new photo, or the visitor left: the painter stops)
//! styles: object store "gp-styles", named by the SHA-256 of the file
//! painters alive: KV "gp-painters" with a TTL, one key per painter
//! ```
//!
//! Each kiosk's finished paintings are in a stream of its own, so the server's permissions
//! (subject-based) can let a kiosk read and delete its own and nobody else's. A visitor who
//! leaves is deleted by an empty job on the kiosk's subject (it replaces a queued photo:
//! one message per subject) and a purge of the kiosk's results stream.

use std::time::Duration;

use async_nats::HeaderMap;
use async_nats::jetstream::{self, consumer, stream};
use serde::{Deserialize, Serialize};

use crate::engine::{FaceBox, LossParts, StyleParams};

pub const JOBS_STREAM: &str = "GP_JOBS";
pub const PAINTERS_CONSUMER: &str = "painters";
pub const STYLES_BUCKET: &str = "gp-styles";
pub const PAINTERS_BUCKET: &str = "gp-painters";

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
pub const H_RATE: &str = "Gp-Rate";
pub const H_PAINTER: &str = "Gp-Painter";
pub const H_FINISHED: &str = "Gp-Finished";
/// On a result: the job cannot be painted, and why.
pub const H_ERROR: &str = "Gp-Error";
/// On a job: its description ([`JobSpec`] as JSON).
pub const H_SPEC: &str = "Gp-Spec";

pub fn job_subject(kiosk: &str) -> String {
    format!("gp.jobs.{kiosk}")
}
pub fn snapshot_subject(kiosk: &str, job: &str) -> String {
    format!("gp.snap.{kiosk}.{job}")
}
pub fn result_subject(kiosk: &str, job: &str) -> String {
    format!("gp.results.{kiosk}.{job}")
}
pub fn cancel_subject(kiosk: &str) -> String {
    format!("gp.cancel.{kiosk}")
}
/// The stream of one kiosk's finished paintings.
pub fn results_stream(kiosk: &str) -> String {
    format!("GP_RESULTS_{kiosk}")
}
/// Replies to this client's requests come here, and only this user may listen there.
pub fn inbox_prefix(name: &str) -> String {
    format!("_INBOX_{name}")
}

/// A kiosk name is one subject token: letters, digits, `-` and `_` (it names subjects and
/// the kiosk's user in the server's permissions).
pub fn valid_name(name: &str) -> bool {
    !name.is_empty() && name.len() <= 64 && name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
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
    pub loss: f64,
    pub iterations_per_second: f64,
    pub painter: String,
    pub finished: bool,
    pub error: Option<String>,
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
        h.insert(H_LOSS, format!("{:e}", self.loss).as_str());
        h.insert(H_RATE, format!("{:.3}", self.iterations_per_second).as_str());
        h.insert(H_PAINTER, self.painter.as_str());
        h.insert(H_FINISHED, if self.finished { "1" } else { "0" });
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
            loss: num(H_LOSS),
            iterations_per_second: num(H_RATE),
            painter: text(H_PAINTER).unwrap_or_default(),
            finished: text(H_FINISHED).as_deref() == Some("1"),
            error: text(H_ERROR),
        })
    }

    pub fn losses(&self) -> LossParts {
        LossParts { total: self.loss, ..LossParts::default() }
    }
}

/// What a painter says about itself in [`PAINTERS_BUCKET`].
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Announcement {
    pub name: String,
    pub device: String,
    pub iterations_per_second: f64,
    /// The job it paints now (kiosk/job), if any.
    pub job: Option<String>,
    pub paintings: u64,
}

/// Creates (or finds) the work queue, the painters' consumer and the buckets. Painters call
/// it (kiosks only open what a painter made: a farm without painters is not ready).
pub async fn ensure(js: &jetstream::Context, max_payload: usize) -> Result<Setup, async_nats::Error> {
    let jobs = js
        .get_or_create_stream(stream::Config {
            name: JOBS_STREAM.into(),
            subjects: vec!["gp.jobs.*".into()],
            retention: stream::RetentionPolicy::WorkQueue,
            // One job per kiosk: a kiosk that submits again replaces its queued job.
            max_messages_per_subject: 1,
            discard: stream::DiscardPolicy::Old,
            max_age: JOB_MAX_AGE,
            max_message_size: max_payload as i32,
            storage: stream::StorageType::File,
            ..Default::default()
        })
        .await
        .map_err(|e| format!("stream {JOBS_STREAM}: {e}"))?;
    let painters: consumer::PullConsumer = jobs
        .get_or_create_consumer(
            PAINTERS_CONSUMER,
            consumer::pull::Config {
                durable_name: Some(PAINTERS_CONSUMER.into()),
                ack_policy: consumer::AckPolicy::Explicit,
                ack_wait: ACK_WAIT,
                max_deliver: MAX_DELIVER,
                ..Default::default()
            },
        )
        .await
        .map_err(|e| format!("consumer {PAINTERS_CONSUMER}: {e}"))?;
    let styles = match js.get_object_store(STYLES_BUCKET).await {
        Ok(s) => s,
        Err(_) => js
            .create_object_store(jetstream::object_store::Config {
                bucket: STYLES_BUCKET.into(),
                description: Some("style images by SHA-256".into()),
                storage: stream::StorageType::File,
                ..Default::default()
            })
            .await
            .map_err(|e| format!("object store {STYLES_BUCKET}: {e}"))?,
    };
    let announcements = match js.get_key_value(PAINTERS_BUCKET).await {
        Ok(kv) => kv,
        Err(_) => {
            // `create_key_value` first asks for the account's limits, in a form nats-server 2.9
            // does not answer; the bucket's stream is made directly, with the client's settings.
            js.get_or_create_stream(stream::Config {
                name: format!("KV_{PAINTERS_BUCKET}"),
                description: Some("painters alive".into()),
                subjects: vec![format!("$KV.{PAINTERS_BUCKET}.>")],
                max_messages_per_subject: 1,
                max_age: ANNOUNCE_TTL,
                // On disk: the bucket outlives a server restart (its entries expire anyway).
                storage: stream::StorageType::File,
                allow_rollup: true,
                deny_delete: true,
                allow_direct: true,
                discard: stream::DiscardPolicy::New,
                num_replicas: 1,
                ..Default::default()
            })
            .await
            .map_err(|e| format!("key-value bucket {PAINTERS_BUCKET}: {e}"))?;
            js.get_key_value(PAINTERS_BUCKET).await.map_err(|e| format!("key-value bucket {PAINTERS_BUCKET}: {e}"))?
        }
    };
    Ok(Setup { painters, styles, announcements })
}

/// The kiosk's side: the shared buckets a painter made, and the kiosk's own results stream.
pub async fn open_for_kiosk(
    js: &jetstream::Context,
    kiosk: &str,
    max_payload: usize,
) -> Result<KioskSetup, async_nats::Error> {
    let styles = js.get_object_store(STYLES_BUCKET).await?;
    let announcements = js.get_key_value(PAINTERS_BUCKET).await?;
    let results = js
        .get_or_create_stream(stream::Config {
            name: results_stream(kiosk),
            subjects: vec![format!("gp.results.{kiosk}.*")],
            max_messages_per_subject: 1,
            max_age: RESULT_MAX_AGE,
            max_message_size: max_payload as i32,
            storage: stream::StorageType::File,
            ..Default::default()
        })
        .await?;
    Ok(KioskSetup { styles, announcements, results })
}

pub struct KioskSetup {
    pub styles: jetstream::object_store::ObjectStore,
    pub announcements: jetstream::kv::Store,
    pub results: stream::Stream,
}

/// The server-side objects both roles use.
pub struct Setup {
    pub painters: consumer::PullConsumer,
    pub styles: jetstream::object_store::ObjectStore,
    pub announcements: jetstream::kv::Store,
}

/// The painters announced now (the bucket's TTL removes dead ones).
pub async fn painters_alive(kv: &jetstream::kv::Store) -> Vec<Announcement> {
    use futures_util::StreamExt;
    let mut out = Vec::new();
    let Ok(mut keys) = kv.keys().await else { return out };
    let mut names = Vec::new();
    while let Some(Ok(k)) = keys.next().await {
        names.push(k);
    }
    for k in names {
        if let Ok(Some(v)) = kv.get(&k).await
            && let Ok(a) = serde_json::from_slice::<Announcement>(&v)
        {
            out.push(a);
        }
    }
    out.sort_by(|a, b| a.name.cmp(&b.name));
    out
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
            loss: 1.25e7,
            iterations_per_second: 4.5,
            painter: "p1".into(),
            finished: true,
            error: Some("line one\nline two".into()),
        };
        let back = Progress::from_headers(&p.to_headers()).unwrap();
        assert_eq!(back.error.as_deref(), Some("line one line two"));
        assert_eq!(Progress { error: None, ..back }, Progress { error: None, ..p });
    }

    #[test]
    fn kiosk_names_are_single_subject_tokens() {
        assert!(valid_name("hall-2_east"));
        for bad in ["", "a.b", "a*", "a>", "a b", "ü", &"x".repeat(65)] {
            assert!(!valid_name(bad), "{bad:?}");
        }
    }
}
