//! A painter's own part in faults, against a real nats-server and real painter processes:
//! SIGTERM hands the job back at once, a hung engine lets its job go to another painter, a
//! cancel stops the job in hand, a job whose description names another kiosk than its subject
//! is dropped, a style whose bytes do not match its hash is refused, a job the server gave
//! up on (every delivery died) is sent again by its kiosk, and staff "Restart" on a farm
//! kiosk starts its link and the painting again.

use crate::common;
use crate::farm::{farm, finished, kiosk, paint, wait_for, wait_painters};

use std::time::{Duration, Instant};

use async_nats::jetstream;
use gallery_painter::config::EngineConfig;
use gallery_painter::engine::{StyleParams, imageio};
use gallery_painter::farm::protocol::{self, JobSpec, JobStyle};
use gallery_painter::ids::sha256_hex;
use gallery_painter::painting::{Command, Event};

/// Waits until the painter's log says `text`.
fn log_says(p: &common::nats::PainterProcess, text: &str, secs: u64) {
    let end = Instant::now() + Duration::from_secs(secs);
    while !p.log().contains(text) {
        assert!(Instant::now() < end, "{} never said {text:?}:\n{}", p.name, p.log());
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// The painter that sent the last snapshot, once it is `name`.
fn painted_by(name: &'static str) -> impl FnMut(&Event, &gallery_painter::painting::WorkerStatus) -> Option<()> {
    move |e, s| matches!(e, Event::Snapshot(_) if farm(s).painter.as_deref() == Some(name)).then_some(())
}

/// A server, painter p1 and kiosk hall-a, with p1 painting a long job (400 iterations).
struct LongJob {
    server: common::nats::NatsServer,
    dir: tempfile::TempDir,
    p1: common::nats::PainterProcess,
    w: gallery_painter::painting::WorkerHandle,
}

fn p1_painting_a_long_job(fallback_after_s: f64) -> LongJob {
    let server = common::nats::server();
    let dir = tempfile::tempdir().unwrap();
    let p1 = common::nats::painter(&server.url, "p1", dir.path(), None, &[]);
    let w = kiosk(&server.url, "hall-a", 400, fallback_after_s);
    wait_painters(&w, 1);
    paint(&w, 1);
    wait_for(&w, 120, "p1 painting", painted_by("p1"));
    LongJob { server, dir, p1, w }
}

#[test]
fn sigterm_hands_the_job_back_at_once_and_another_painter_finishes_it() {
    let LongJob { server, dir, mut p1, w } = p1_painting_a_long_job(60.0);
    let p2 = common::nats::painter(&server.url, "p2", dir.path(), None, &[]);
    wait_painters(&w, 2);
    let stopped = Instant::now();
    p1.terminate().unwrap();
    assert!(p1.log().contains("the job in hand goes back to the queue"), "{}", p1.log());
    wait_for(&w, 60, "p2 painting", painted_by("p2"));
    // Handed back, not left for the server's ack wait to notice.
    let took = stopped.elapsed();
    assert!(took < protocol::ACK_WAIT, "p2 took over {took:?} after SIGTERM: no faster than a kill -9");
    log_says(&p2, "again (delivery 2)", 5);
    wait_for(&w, 240, "the painting", finished(1));
}

/// A job of kiosk `kiosk` put on the queue directly (no kiosk to send it again): 48 px.
fn queue_job(url: &str, kiosk: &str, job: &str, iterations: u32) {
    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    let style = std::fs::read(common::style_path("primary_rhythm.png")).unwrap();
    let spec = JobSpec {
        job: job.into(),
        kiosk: kiosk.into(),
        key: "Primary Rhythm".into(),
        styles: vec![JobStyle { sha256: sha256_hex(&style), weight: 1.0 }],
        params: StyleParams { size: 48, iterations, levels: 1, ..EngineConfig::default().style },
        faces: vec![],
        snapshot_every: 2,
        snapshot_interval_s: 0.0,
        live: None,
        secret: gallery_painter::farm::trust::JobSecret::random().to_hex(),
    };
    rt.block_on(async {
        let js = jetstream::new(async_nats::connect(url).await.unwrap());
        let store = js.get_object_store(protocol::styles_bucket(kiosk)).await.unwrap();
        store.put(sha256_hex(&style).as_str(), &mut style.as_slice()).await.unwrap();
        let mut headers = async_nats::HeaderMap::new();
        headers.insert(protocol::H_SPEC, spec.to_header().as_str());
        let photo = imageio::encode_png(&common::photo(96, 72));
        js.publish_with_headers(protocol::job_subject(kiosk), headers, photo.into()).await.unwrap().await.unwrap();
    });
}

#[test]
fn a_hung_painter_hands_its_job_back_by_itself_before_it_wakes() {
    // No kiosk here: nobody could send the job again; only the painter's own stall
    // detection (15 s without a finished step) lets the server give it to another.
    let server = common::nats::server();
    let dir = tempfile::tempdir().unwrap();
    // p1's first step hangs for 60 s.
    let p1 = common::nats::painter(&server.url, "p1", dir.path(), Some("worker-hang@0:60"), &[]);
    log_says(&p1, "painter p1 ready", 60);
    queue_job(&server.url, "hall-a", "j1", 12);
    log_says(&p1, "injected fault: the painter hangs", 30);
    let held = Instant::now();
    let p2 = common::nats::painter(&server.url, "p2", dir.path(), None, &[]);
    // A 15 s stall, then the 6 s ack wait: well before p1 wakes.
    log_says(&p2, "job j1 of kiosk hall-a again (delivery 2)", 50);
    let took = held.elapsed();
    assert!(took < Duration::from_secs(45), "the hung painter kept the job {took:?}");
    log_says(&p2, "job j1 of kiosk hall-a finished", 60);
}

#[test]
fn a_job_held_by_a_painter_that_never_paints_it_is_sent_again_by_its_kiosk() {
    // A painter hung in a way its own detection misses: it keeps acknowledging progress, so
    // the server never hands the job on. Only the kiosk, hearing nothing for 20 s while
    // another painter sits idle, can save the visitor.
    let server = common::nats::server();
    let dir = tempfile::tempdir().unwrap();
    let w = kiosk(&server.url, "hall-a", 12, 600.0);
    wait_for(&w, 30, "connected", |_, s| farm(s).connected.then_some(()));
    let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(1).enable_all().build().unwrap();
    let (took_tx, took_rx) = std::sync::mpsc::channel();
    let url = server.url.clone();
    rt.spawn(async move {
        use futures_util::StreamExt;
        let js = jetstream::new(async_nats::connect(&url).await.unwrap());
        let stream = js.get_stream(protocol::JOBS_STREAM).await.unwrap();
        let consumer: jetstream::consumer::PullConsumer =
            stream.get_consumer(protocol::PAINTERS_CONSUMER).await.unwrap();
        let mut batch = consumer.batch().max_messages(1).expires(Duration::from_secs(60)).messages().await.unwrap();
        let job = batch.next().await.unwrap().unwrap();
        let _ = took_tx.send(());
        loop {
            let _ = job.ack_with(jetstream::AckKind::Progress).await;
            tokio::time::sleep(protocol::PROGRESS_EVERY).await;
        }
    });
    paint(&w, 1);
    took_rx.recv_timeout(Duration::from_secs(30)).expect("the silent painter took the job");
    let p1 = common::nats::painter(&server.url, "p1", dir.path(), None, &[]);
    let s = wait_for(&w, 120, "the painting", finished(1));
    assert_eq!(s.iteration, 12);
    assert_eq!(farm(&w.status()).resent, 1, "sent again by the kiosk");
    assert!(!p1.log().contains("again (delivery"), "the server handed it on:\n{}", p1.log());
}

#[test]
fn a_cancel_stops_the_job_a_painter_holds() {
    // Bound, not `..`: the server and the logs' folder live to the end of the test.
    let LongJob { server: _server, dir: _dir, p1, w } = p1_painting_a_long_job(600.0);
    w.commands.send(Command::Forget).unwrap();
    log_says(&p1, "cancelled (the visitor left)", 10);
    wait_for(&w, 10, "p1 idle again", |_, s| farm(s).painters.iter().all(|p| !p.busy).then_some(()));
}

#[test]
fn a_job_naming_another_kiosk_is_dropped_and_a_style_that_does_not_match_its_hash_is_refused() {
    let server = common::nats::server();
    let dir = tempfile::tempdir().unwrap();
    let p1 = common::nats::painter(&server.url, "p1", dir.path(), None, &[]);
    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    let client = rt.block_on(async_nats::connect(&server.url)).unwrap();
    let js = {
        let _inside = rt.enter();
        jetstream::new(client.clone())
    };
    let style = std::fs::read(common::style_path("primary_rhythm.png")).unwrap();
    let good = sha256_hex(&style);
    let forged = "ab".repeat(32);
    let photo = imageio::encode_png(&common::photo(96, 72));
    let spec = |job: &str, kiosk: &str, sha: &str| JobSpec {
        job: job.into(),
        kiosk: kiosk.into(),
        key: "Primary Rhythm".into(),
        styles: vec![JobStyle { sha256: sha.into(), weight: 1.0 }],
        params: StyleParams { size: 48, iterations: 6, levels: 1, ..EngineConfig::default().style },
        faces: vec![],
        snapshot_every: 2,
        snapshot_interval_s: 0.0,
        live: None,
        secret: gallery_painter::farm::trust::JobSecret::random().to_hex(),
    };
    let (mut heard_b, mut results_a) = rt.block_on(async {
        // Both stores hold the real style: a painter fooled by the description would paint.
        for kiosk in ["hall-a", "hall-b"] {
            let store = js.get_object_store(protocol::styles_bucket(kiosk)).await.unwrap();
            store.put(good.as_str(), &mut style.as_slice()).await.unwrap();
        }
        // hall-a's store also holds a file under a hash that is not its own.
        let store = js.get_object_store(protocol::styles_bucket("hall-a")).await.unwrap();
        store.put(forged.as_str(), &mut style.as_slice()).await.unwrap();
        let heard_b = client.subscribe("gp.*.hall-b.*").await.unwrap();
        let results_a = client.subscribe("gp.results.hall-a.*").await.unwrap();
        (heard_b, results_a)
    });
    let send = |subject: &str, spec: JobSpec| {
        let mut headers = async_nats::HeaderMap::new();
        headers.insert(protocol::H_SPEC, spec.to_header().as_str());
        rt.block_on(async {
            js.publish_with_headers(subject.to_string(), headers, photo.clone().into()).await.unwrap().await.unwrap();
        });
    };
    // Sent on hall-a's subject (which only hall-a may publish on), claiming to be hall-b's.
    send(&protocol::job_subject("hall-a"), spec("j1", "hall-b", &good));
    log_says(&p1, "names kiosk hall-b but came on gp.jobs.hall-a", 30);
    let leaked = rt.block_on(async {
        use futures_util::StreamExt;
        tokio::time::timeout(Duration::from_secs(2), heard_b.next()).await.ok().flatten()
    });
    assert!(leaked.is_none(), "a painting went to hall-b: {:?}", leaked.map(|m| m.subject));

    send(&protocol::job_subject("hall-a"), spec("j2", "hall-a", &forged));
    let result = rt.block_on(async {
        use futures_util::StreamExt;
        tokio::time::timeout(Duration::from_secs(60), results_a.next()).await.ok().flatten()
    });
    let result = result.expect("no answer to the job with the forged style");
    let progress = protocol::Progress::from_headers(result.headers.as_ref().unwrap()).unwrap();
    assert!(result.payload.is_empty(), "a painting was made from a style that is not what it claims");
    let error = progress.error.unwrap_or_default();
    assert!(error.contains("does not match its hash"), "{error}");
}

#[test]
fn a_job_the_server_gave_up_on_is_sent_again_once_a_painter_sits_idle() {
    let server = common::nats::server();
    let dir = tempfile::tempdir().unwrap();
    let w = kiosk(&server.url, "hall-a", 6, 600.0);
    wait_for(&w, 30, "connected", |_, s| farm(s).connected.then_some(()));
    paint(&w, 1);
    wait_for(&w, 10, "the job sent", |_, s| (farm(s).jobs_submitted == 1).then_some(()));
    // Painters that die on every delivery: each takes the job and never answers.
    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    rt.block_on(async {
        use futures_util::StreamExt;
        let js = jetstream::new(async_nats::connect(&server.url).await.unwrap());
        let stream = js.get_stream(protocol::JOBS_STREAM).await.unwrap();
        let consumer: jetstream::consumer::PullConsumer =
            stream.get_consumer(protocol::PAINTERS_CONSUMER).await.unwrap();
        let expires = protocol::ACK_WAIT * 2;
        for n in 1..=protocol::MAX_DELIVER {
            let mut batch = consumer.batch().max_messages(1).expires(expires).messages().await.unwrap();
            let job = batch.next().await.expect("the job delivered").unwrap();
            assert_eq!(job.info().unwrap().delivered, n);
        }
        // After the last ack wait the server gives up: nothing is delivered any more.
        let mut batch = consumer.batch().max_messages(1).expires(expires).messages().await.unwrap();
        assert!(batch.next().await.is_none(), "delivered a fifth time");
    });
    // A painter comes and sits idle: the kiosk hears nothing of its job and sends it again.
    let _p1 = common::nats::painter(&server.url, "p1", dir.path(), None, &[]);
    wait_for(&w, 120, "the painting", finished(1));
    assert_eq!(farm(&w.status()).resent, 1);
}

/// The connection id of the kiosk's client on the server (its name is "kiosk NAME").
fn kiosk_connection(server: &common::nats::NatsServer, kiosk: &str) -> Option<u64> {
    let connz = server.monitor("/connz").ok()?;
    connz["connections"]
        .as_array()?
        .iter()
        .find(|c| c["name"] == format!("kiosk {kiosk}").as_str())
        .and_then(|c| c["cid"].as_u64())
}

#[test]
fn restart_on_a_farm_kiosk_starts_its_link_and_the_painting_again() {
    let LongJob { server, dir: _dir, p1, w } = p1_painting_a_long_job(600.0);
    let before = kiosk_connection(&server, "hall-a").expect("the kiosk is connected");
    w.commands.send(Command::Restart).unwrap();
    wait_for(&w, 30, "the job sent again", |_, s| (farm(s).jobs_submitted == 2).then_some(()));
    log_says(&p1, "cancelled", 10);
    let end = Instant::now() + Duration::from_secs(20);
    while kiosk_connection(&server, "hall-a").is_none_or(|cid| cid == before) {
        assert!(Instant::now() < end, "the kiosk's link was not started again");
        std::thread::sleep(Duration::from_millis(200));
    }
    wait_for(&w, 240, "the painting", finished(1));
    assert!(!farm(&w.status()).painting_locally);
}
