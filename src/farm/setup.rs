//! The farm's streams and buckets: made by the setup role only, opened by kiosks and painters.
//!
//! A client that may create a stream may also shape it: a kiosk allowed to create its own
//! results stream could give it another kiosk's subjects or `sources` and read that kiosk's
//! pictures with the `MSG.GET` it is allowed (NATS checks the API subject, not the stream's
//! settings). So `gallery-painter farm-setup`, run with the `admin` user of
//! scripts/farm-certs.sh, makes everything; kiosks and painters only open what is there, and a
//! kiosk refuses a results stream that is not exactly what the setup makes.
//!
//! Per kiosk: `GP_RESULTS_<kiosk>` (its finished paintings) and the object store
//! `gp-styles-<kiosk>` (its style images: a kiosk writes only its own, so it can neither
//! overwrite nor delete another kiosk's). Shared: `GP_JOBS` with the painters' consumer, and
//! the key-value buckets of painters alive and Live leases.
//!
//! Every stream has a byte quota, reserved on the server when the stream is made: whoever
//! writes into one kiosk's results (any client can have the server write anywhere, see
//! `trust`) fills that kiosk's quota and nothing another kiosk needs. The work queue holds
//! the farm's kiosks' subjects only, one job each.
//!
//! Visitors' photos and paintings (`GP_JOBS`, the results streams) are kept in memory only,
//! never in the server's store on disk; in a cluster each stream has `replicas` copies, so
//! one server's loss keeps them. Style images (not private) and the buckets (no pictures)
//! are on disk.

use std::time::Duration;

use async_nats::jetstream::{self, consumer, stream};

use super::protocol::{
    ACK_WAIT, ANNOUNCE_TTL, JOB_MAX_AGE, JOBS_STREAM, LEASE_TTL, LEASES_BUCKET, MAX_DELIVER, PAINTERS_BUCKET,
    PAINTERS_CONSUMER, RESULT_MAX_AGE, results_stream, styles_bucket, valid_name,
};

/// Room for one kiosk's style images on the server (a scene's artworks are a few MB each).
pub const STYLES_MAX_BYTES: i64 = 256 << 20;
/// A kiosk's results stream holds this many of the largest messages (a painting with its
/// making-of kept for the kiosk, and the next one arriving).
pub const RESULTS_PER_KIOSK: i64 = 2;
/// What the server adds to a stored message beyond its payload (subject, headers), at most.
const STORED_OVERHEAD: i64 = 64 << 10;
/// The painters' and leases' buckets: small values, a bounded whole.
const BUCKET_MAX_BYTES: i64 = 1 << 20;
const BUCKET_MAX_VALUE: i32 = 16 << 10;

type Error = async_nats::Error;

/// The work queue's settings for the farm's kiosks: each kiosk's subject, one job each.
pub fn jobs_config(kiosks: &[String], max_payload: usize) -> stream::Config {
    let mut subjects: Vec<String> = kiosks.iter().map(|k| super::protocol::job_subject(k)).collect();
    subjects.sort();
    subjects.dedup();
    stream::Config {
        name: JOBS_STREAM.into(),
        max_bytes: subjects.len().max(1) as i64 * (max_payload as i64 + STORED_OVERHEAD),
        subjects,
        retention: stream::RetentionPolicy::WorkQueue,
        // One job per kiosk: a kiosk that submits again replaces its queued job.
        max_messages_per_subject: 1,
        discard: stream::DiscardPolicy::Old,
        max_age: JOB_MAX_AGE,
        max_message_size: max_payload as i32,
        // A visitor's photo: never on the server's disk.
        storage: stream::StorageType::Memory,
        ..Default::default()
    }
}

/// One kiosk's finished paintings: its own subjects, nothing copied in or out, its quota.
pub fn results_config(kiosk: &str, max_payload: usize) -> stream::Config {
    stream::Config {
        name: results_stream(kiosk),
        subjects: vec![format!("gp.results.{kiosk}.*")],
        max_messages_per_subject: 1,
        max_messages: 64,
        max_bytes: RESULTS_PER_KIOSK * (max_payload as i64 + STORED_OVERHEAD),
        // Full: the oldest goes (a flood into it pushes out only this kiosk's own).
        discard: stream::DiscardPolicy::Old,
        max_age: RESULT_MAX_AGE,
        max_message_size: max_payload as i32,
        // A visitor's painting: never on the server's disk.
        storage: stream::StorageType::Memory,
        ..Default::default()
    }
}

/// A key-value bucket's stream, made directly: `create_key_value` first asks for the
/// account's limits in a form nats-server 2.9 does not answer.
fn key_value_config(bucket: &str, description: &str, ttl: Duration) -> stream::Config {
    stream::Config {
        name: format!("KV_{bucket}"),
        description: Some(description.into()),
        subjects: vec![format!("$KV.{bucket}.>")],
        max_messages_per_subject: 1,
        max_age: ttl,
        // On disk: the bucket outlives a server restart (its entries expire anyway).
        storage: stream::StorageType::File,
        allow_rollup: true,
        deny_delete: true,
        allow_direct: true,
        max_bytes: BUCKET_MAX_BYTES,
        max_message_size: BUCKET_MAX_VALUE,
        // Full (a flood written into it): the oldest entries go, so the next genuine
        // announcement or lease is always taken.
        discard: stream::DiscardPolicy::Old,
        ..Default::default()
    }
}

/// How a stream on the server differs from the expected one, in the settings that decide
/// what it holds and who can get at it (empty: the same).
pub fn differences(actual: &stream::Config, expected: &stream::Config) -> Vec<String> {
    let mut out = Vec::new();
    let mut check = |what: &str, a: String, e: String| {
        if a != e {
            out.push(format!("{what} is {a}, expected {e}"));
        }
    };
    check("subjects", format!("{:?}", actual.subjects), format!("{:?}", expected.subjects));
    check("retention", format!("{:?}", actual.retention), format!("{:?}", expected.retention));
    check("storage", format!("{:?}", actual.storage), format!("{:?}", expected.storage));
    check("max_age", format!("{:?}", actual.max_age), format!("{:?}", expected.max_age));
    check(
        "max messages per subject",
        actual.max_messages_per_subject.to_string(),
        expected.max_messages_per_subject.to_string(),
    );
    check("max message size", actual.max_message_size.to_string(), expected.max_message_size.to_string());
    // The server says -1 for "no limit" where a config asks 0.
    let limit = |n: i64| if n <= 0 { "none".to_string() } else { n.to_string() };
    check("max bytes", limit(actual.max_bytes), limit(expected.max_bytes));
    check("max messages", limit(actual.max_messages), limit(expected.max_messages));
    check("discard", format!("{:?}", actual.discard), format!("{:?}", expected.discard));
    // What would copy pictures elsewhere, or in from elsewhere.
    let sources = |c: &stream::Config| c.sources.as_ref().map_or(0, Vec::len).to_string() + " source(s)";
    check("sources", sources(actual), sources(expected));
    check("mirror", format!("{:?}", actual.mirror.as_ref().map(|m| &m.name)), "None".into());
    check("republish", format!("{:?}", actual.republish.as_ref().map(|r| &r.destination)), "None".into());
    out
}

/// What `farm-setup` did to one stream.
#[derive(Debug, PartialEq)]
pub enum Made {
    Kept,
    Created,
    /// It was there with other settings (listed): deleted and made again.
    Replaced(Vec<String>),
    /// It was there with other limits or subjects (listed): changed in place, nothing lost.
    Updated(Vec<String>),
}

/// Deletes the stream if it is there with other settings (its copies included); what differed.
async fn remove_if_wrong(js: &jetstream::Context, expected: &stream::Config) -> Result<Option<Vec<String>>, Error> {
    let name = &expected.name;
    match js.get_stream(name).await {
        Ok(mut s) => {
            let actual = s.info().await?.config.clone();
            let mut diff = differences(&actual, expected);
            if actual.num_replicas.max(1) != expected.num_replicas.max(1) {
                diff.push(format!("replicas is {}, expected {}", actual.num_replicas, expected.num_replicas));
            }
            if diff.is_empty() {
                return Ok(None);
            }
            js.delete_stream(name).await.map_err(|e| format!("stream {name}: cannot delete it: {e}"))?;
            Ok(Some(diff))
        }
        Err(e)
            if matches!(e.kind(), jetstream::context::GetStreamErrorKind::JetStream(j)
            if j.error_code() == jetstream::ErrorCode::STREAM_NOT_FOUND) =>
        {
            Ok(None)
        }
        Err(e) => Err(format!("stream {name}: {e}").into()),
    }
}

/// Changes a stream found with other limits or subjects in place (the work queue keeps its
/// jobs, the buckets their entries); None when it is not there or its kind differs.
async fn update_if_limits_differ(js: &jetstream::Context, expected: &stream::Config) -> Option<(stream::Stream, Made)> {
    let mut s = js.get_stream(&expected.name).await.ok()?;
    let actual = s.info().await.ok()?.config.clone();
    let diff = differences(&actual, expected);
    let immutable = actual.storage != expected.storage
        || actual.retention != expected.retention
        || actual.num_replicas.max(1) != expected.num_replicas.max(1);
    if diff.is_empty() || immutable {
        return None;
    }
    js.update_stream(expected).await.ok()?;
    Some((js.get_stream(&expected.name).await.ok()?, Made::Updated(diff)))
}

async fn stream_as(
    js: &jetstream::Context,
    expected: stream::Config,
    replicas: usize,
) -> Result<(stream::Stream, Made), Error> {
    let expected = stream::Config { num_replicas: replicas, ..expected };
    if (expected.name == JOBS_STREAM || expected.name.starts_with("KV_"))
        && let Some(done) = update_if_limits_differ(js, &expected).await
    {
        return Ok(done);
    }
    let replaced = remove_if_wrong(js, &expected).await?;
    let name = expected.name.clone();
    if replaced.is_none()
        && let Ok(s) = js.get_stream(&name).await
    {
        return Ok((s, Made::Kept));
    }
    let s = js.create_stream(expected).await.map_err(|e| replicas_error(&name, replicas, e))?;
    Ok((s, replaced.map_or(Made::Created, Made::Replaced)))
}

/// A server that cannot keep `replicas` copies, or has no room for a quota, says so in its own
/// words; add what to do.
fn replicas_error(name: &str, replicas: usize, e: impl std::fmt::Display) -> Error {
    let text = e.to_string();
    if text.contains("insufficient memory") || text.contains("insufficient storage") {
        return format!(
            "stream {name}: {text}\n  fix: every kiosk's quotas are reserved on the server (about 3 x max_payload of memory and \
             {} MiB of disk per kiosk): raise max_memory_store / max_file_store in the server's jetstream block \
             (config/farm/nats-server.conf) and restart it",
            STYLES_MAX_BYTES >> 20
        )
        .into();
    }
    if replicas > 1 && (text.contains("replicas") || text.contains("insufficient resources")) {
        format!(
            "stream {name}: {text}\n  fix: --replicas {replicas} needs a cluster of at least {replicas} nats-servers \
             (scripts/farm.sh --servers 3; docs/farm.md, \"Three servers\"), or --replicas 1 on one server"
        )
        .into()
    } else {
        format!("stream {name}: {text}").into()
    }
}

/// Makes (or keeps, or corrects) everything the farm needs for these kiosks, each stream with
/// `replicas` copies (1 on one server, 3 on a cluster of three). Run again to add kiosks.
/// Returns one line per stream and bucket.
pub async fn set_up(
    js: &jetstream::Context,
    kiosks: &[String],
    max_payload: usize,
    replicas: usize,
) -> Result<Vec<String>, Error> {
    if let Some(bad) = kiosks.iter().find(|k| !valid_name(k)) {
        return Err(format!("kiosk name `{bad}` must be letters, digits, `-` or `_`").into());
    }
    let mut report = Vec::new();
    let mut say = |name: &str, made: Made| {
        report.push(match made {
            Made::Kept => format!("{name}: as expected"),
            Made::Created => format!("{name}: created"),
            Made::Replaced(diff) => format!("{name}: replaced ({})", diff.join("; ")),
            Made::Updated(diff) => format!("{name}: updated ({})", diff.join("; ")),
        })
    };
    // The work queue takes the jobs of every kiosk set up so far and of these: adding a kiosk
    // later (farm-setup --kiosk NEW) keeps the others.
    let mut all = known_kiosks(js).await;
    all.extend(kiosks.iter().cloned());
    let (jobs, made) = stream_as(js, jobs_config(&all, max_payload), replicas).await?;
    say(JOBS_STREAM, made);
    jobs.get_or_create_consumer(
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
    for (bucket, about, ttl) in [
        (PAINTERS_BUCKET, "painters alive", ANNOUNCE_TTL),
        (LEASES_BUCKET, "who paints each kiosk's Live mirror", LEASE_TTL),
    ] {
        let (_, made) = stream_as(js, key_value_config(bucket, about, ttl), replicas).await?;
        say(&format!("KV_{bucket}"), made);
    }
    // Wrongly shaped results streams go first: one may hold another kiosk's subjects.
    let mut replaced = std::collections::HashMap::new();
    for kiosk in kiosks {
        let expected = stream::Config { num_replicas: replicas, ..results_config(kiosk, max_payload) };
        if let Some(diff) = remove_if_wrong(js, &expected).await? {
            replaced.insert(kiosk.clone(), diff);
        }
    }
    for kiosk in kiosks {
        let (_, made) = stream_as(js, results_config(kiosk, max_payload), replicas).await?;
        let made = match (made, replaced.remove(kiosk)) {
            (Made::Created, Some(diff)) => Made::Replaced(diff),
            (made, _) => made,
        };
        say(&results_stream(kiosk), made);
        let bucket = styles_bucket(kiosk);
        let made = match js.get_object_store(&bucket).await {
            Ok(_) => Made::Kept,
            Err(_) => {
                js.create_object_store(jetstream::object_store::Config {
                    bucket: bucket.clone(),
                    description: Some(format!("kiosk {kiosk}'s style images by SHA-256")),
                    storage: stream::StorageType::File,
                    max_bytes: STYLES_MAX_BYTES,
                    num_replicas: replicas,
                    ..Default::default()
                })
                .await
                .map_err(|e| replicas_error(&format!("OBJ_{bucket}"), replicas, e))?;
                Made::Created
            }
        };
        say(&format!("OBJ_{bucket}"), made);
    }
    Ok(report)
}

/// The kiosks whose results streams exist (set up by an earlier farm-setup).
async fn known_kiosks(js: &jetstream::Context) -> Vec<String> {
    use futures_util::StreamExt;
    let prefix = results_stream("");
    let mut names = js.stream_names();
    let mut out = Vec::new();
    while let Some(Ok(name)) = names.next().await {
        if let Some(kiosk) = name.strip_prefix(&prefix).filter(|k| valid_name(k)) {
            out.push(kiosk.to_string());
        }
    }
    out
}

/// What a painter uses, as the setup made it.
pub struct PainterSetup {
    pub painters: consumer::PullConsumer,
    pub announcements: jetstream::kv::Store,
    pub leases: jetstream::kv::Store,
}

/// What a kiosk uses, as the setup made it.
pub struct KioskSetup {
    pub styles: jetstream::object_store::ObjectStore,
    pub announcements: jetstream::kv::Store,
    /// Read for this kiosk's own key only.
    pub leases: jetstream::kv::Store,
    pub results: stream::Stream,
}

/// The farm is not set up (or not for this kiosk): what to run.
pub fn not_set_up(what: &str, e: impl std::fmt::Display, kiosk: Option<&str>) -> String {
    let kiosks = kiosk.map_or_else(|| "--kiosk NAME ...".to_string(), |k| format!("--kiosk {k}"));
    format!(
        "the farm is not set up: {what}: {e}\n  fix: gallery-painter farm-setup --nats URL {kiosks} (as the admin user of scripts/farm-certs.sh)"
    )
}

pub async fn open_for_painter(js: &jetstream::Context) -> Result<PainterSetup, String> {
    let jobs = js.get_stream(JOBS_STREAM).await.map_err(|e| not_set_up(JOBS_STREAM, e, None))?;
    let painters = jobs
        .get_consumer::<consumer::pull::Config>(PAINTERS_CONSUMER)
        .await
        .map_err(|e| not_set_up(PAINTERS_CONSUMER, e, None))?;
    let announcements = js.get_key_value(PAINTERS_BUCKET).await.map_err(|e| not_set_up(PAINTERS_BUCKET, e, None))?;
    let leases = js.get_key_value(LEASES_BUCKET).await.map_err(|e| not_set_up(LEASES_BUCKET, e, None))?;
    Ok(PainterSetup { painters, announcements, leases })
}

/// Why a kiosk will not use the farm.
pub enum KioskRefusal {
    /// Not there yet (the setup has not run, or not for this kiosk): try again later.
    NotSetUp(String),
    /// There, but not as the setup makes it: not used until the setup is run again.
    WrongShape(String),
}

pub async fn open_for_kiosk(
    js: &jetstream::Context,
    kiosk: &str,
    max_payload: usize,
) -> Result<KioskSetup, KioskRefusal> {
    let missing = |what: &str, e: &dyn std::fmt::Display| KioskRefusal::NotSetUp(not_set_up(what, e, Some(kiosk)));
    let name = results_stream(kiosk);
    let mut results = js.get_stream(&name).await.map_err(|e| missing(&name, &e))?;
    let config = results.info().await.map_err(|e| missing(&name, &e))?.config.clone();
    let diff = differences(&config, &results_config(kiosk, max_payload));
    if !diff.is_empty() {
        return Err(KioskRefusal::WrongShape(format!(
            "this kiosk's results stream {name} is not as farm-setup makes it ({}): the farm is not used, \
             so that nothing of a visitor goes where it should not\n  fix: run gallery-painter farm-setup --kiosk {kiosk} \
             as the admin user (it makes the stream again)",
            diff.join("; ")
        )));
    }
    let bucket = styles_bucket(kiosk);
    let styles = js.get_object_store(&bucket).await.map_err(|e| missing(&bucket, &e))?;
    let announcements = js.get_key_value(PAINTERS_BUCKET).await.map_err(|e| missing(PAINTERS_BUCKET, &e))?;
    let leases = js.get_key_value(LEASES_BUCKET).await.map_err(|e| missing(LEASES_BUCKET, &e))?;
    Ok(KioskSetup { styles, announcements, leases, results })
}
