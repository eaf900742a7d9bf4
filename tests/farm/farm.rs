//! The painter farm against a real nats-server (Debian's 2.9) and real painter processes
//! (`gallery-painter painter`), with the kiosk's remote worker as the app uses it. Tiny
//! paintings on CPU: what is tested is who paints, what survives, and what is deleted.

use crate::common;

use std::sync::Arc;
use std::time::{Duration, Instant};

use common::nats::NatsServer;
use gallery_painter::capture::{CaptureHandle, Frame};
use gallery_painter::config::{EngineConfig, RemoteConfig};
use gallery_painter::engine::StyleParams;
use gallery_painter::farm::protocol;
use gallery_painter::painters;
use gallery_painter::painting::{
    Command, Event, Intake, Snapshot, StyleSelection, WorkerConfig, WorkerHandle, WorkerStatus,
};

fn params(iterations: u32) -> StyleParams {
    StyleParams { size: 48, iterations, levels: 1, ..EngineConfig::default().style }
}

fn selection(iterations: u32) -> StyleSelection {
    StyleSelection {
        key: "Primary Rhythm".into(),
        styles: vec![(common::style_path("primary_rhythm.png"), 1.0)],
        params: params(iterations),
    }
}

fn kiosk(url: &str, name: &str, iterations: u32, fallback_after_s: f64) -> WorkerHandle {
    kiosk_as(RemoteConfig { url: url.into(), kiosk: name.into(), fallback_after_s, ..Default::default() }, iterations)
}

fn kiosk_as(remote: RemoteConfig, iterations: u32) -> WorkerHandle {
    let engine = EngineConfig { weights: common::weights(), remote: Some(remote), ..EngineConfig::default() };
    let (_keep, frames) = crossbeam_channel::bounded::<Frame>(1);
    std::mem::forget(_keep);
    painters::start(
        WorkerConfig {
            intake: Intake::OnCommand,
            snapshot_every: 2,
            default_params: params(iterations),
            initial: Some(selection(iterations)),
            ..WorkerConfig::from_config(&common::root(), &engine, common::cpu())
        },
        frames,
    )
}

fn frame(seq: u64, seed: u32) -> Frame {
    let image = gallery_painter::capture::synthetic::SyntheticScene::new(seed as u64, 0.0, 96, 72).render(0.0);
    Frame { image: Arc::new(image), seq, captured_at: Instant::now(), faces: vec![] }
}

fn paint(w: &WorkerHandle, seq: u64) {
    w.commands.send(Command::PaintFrame(frame(seq, seq as u32))).unwrap();
}

/// Events until `until` says stop (returns what it stopped on), or panics at the deadline.
fn wait_for<T>(
    w: &WorkerHandle,
    secs: u64,
    what: &str,
    mut until: impl FnMut(&Event, &WorkerStatus) -> Option<T>,
) -> T {
    let end = Instant::now() + Duration::from_secs(secs);
    loop {
        match w.events.recv_timeout(Duration::from_millis(100)) {
            Ok(e) => {
                if let Event::Notice(n) = &e {
                    eprintln!("notice: {}", n.text);
                }
                if let Some(t) = until(&e, &w.status()) {
                    return t;
                }
            }
            Err(_) => {
                if let Some(t) = until(&Event::Notice(Default::default()), &w.status()) {
                    return t;
                }
            }
        }
        assert!(Instant::now() < end, "timed out waiting for {what}; status {:?}", w.status());
    }
}

fn finished(seq: u64) -> impl FnMut(&Event, &WorkerStatus) -> Option<Snapshot> {
    move |e, _| match e {
        Event::Snapshot(s) if s.finished && s.frame_seq == seq => Some(s.clone()),
        _ => None,
    }
}

fn farm(status: &WorkerStatus) -> gallery_painter::painting::FarmStatus {
    status.farm.clone().expect("a remote worker reports the farm")
}

fn wait_painters(w: &WorkerHandle, n: usize) {
    wait_for(w, 120, &format!("{n} painters announced"), |_, s| (farm(s).painters.len() >= n).then_some(()));
}

#[test]
fn two_kiosks_and_two_painters_paint_every_visitor_and_see_only_their_own() {
    let server = common::nats::server();
    let dir = tempfile::tempdir().unwrap();
    let _p1 = common::nats::painter(&server.url, "p1", dir.path(), None, &[]);
    let _p2 = common::nats::painter(&server.url, "p2", dir.path(), None, &[]);
    let a = kiosk(&server.url, "hall-a", 12, 60.0);
    let b = kiosk(&server.url, "hall-b", 12, 60.0);
    wait_painters(&a, 2);
    let mut alive = std::collections::BTreeSet::new();
    for round in 0..3u64 {
        paint(&a, 100 + round);
        paint(&b, 200 + round);
        let sa = wait_for(&a, 120, "kiosk a's painting", finished(100 + round));
        let sb = wait_for(&b, 120, "kiosk b's painting", finished(200 + round));
        for s in [&sa, &sb] {
            assert_eq!(s.iteration, 12);
            assert_eq!(s.style_key, "Primary Rhythm");
            assert_eq!(s.image.dimensions(), (48, 36), "painted at the selection's size");
        }
        // Each kiosk's events are its own visitor's only.
        for (w, other) in [(&a, 200..300), (&b, 100..200)] {
            for e in w.events.try_iter() {
                if let Event::Snapshot(s) = e {
                    assert!(!other.contains(&s.frame_seq), "a kiosk got another kiosk's painting");
                }
            }
        }
        alive.extend(farm(&a.status()).painters.iter().map(|p| p.name.clone()));
    }
    // The status follows the events within a turn of the worker's loop.
    wait_for(&a, 5, "three paintings counted", |_, s| (s.paintings_finished == 3).then_some(()));
    let fa = farm(&a.status());
    assert!(fa.connected && !fa.painting_locally, "{fa:?}");
    assert_eq!(fa.jobs_submitted, 3);
    assert_eq!(fa.fallbacks, 0);
    assert_eq!(alive, ["p1".to_string(), "p2".to_string()].into(), "both painters announced themselves");
    // The work queue is empty: every job was acknowledged.
    assert_eq!(queued_jobs(&server), 0);
}

#[test]
fn a_painter_killed_mid_painting_hands_the_job_to_another_and_the_visitor_gets_a_painting() {
    let server = common::nats::server();
    let dir = tempfile::tempdir().unwrap();
    let mut painters = [
        common::nats::painter(&server.url, "p1", dir.path(), None, &[]),
        common::nats::painter(&server.url, "p2", dir.path(), None, &[]),
    ];
    // Long enough to be killed in the middle.
    let w = kiosk(&server.url, "hall-a", 400, 60.0);
    wait_painters(&w, 2);
    paint(&w, 1);
    let (first, seen_at) = wait_for(&w, 120, "a first snapshot", |e, s| match e {
        Event::Snapshot(snap) if !snap.finished && snap.iteration >= 4 => {
            Some((farm(s).painter.clone().unwrap(), snap.iteration))
        }
        _ => None,
    });
    let victim = painters.iter_mut().find(|p| p.name == first).unwrap();
    victim.kill();
    eprintln!("killed {first} at iteration {seen_at}");
    let mut notices = Vec::new();
    let done = wait_for(&w, 240, "the painting finished by the other painter", |e, _| {
        match e {
            Event::Notice(n) if !n.text.is_empty() => {
                notices.push(n.text.clone());
                None
            }
            Event::Snapshot(s) if s.finished && s.frame_seq == 1 => Some(s.clone()),
            // Never back to an earlier state of the painting on screen.
            Event::Snapshot(s) => {
                assert!(s.iteration >= seen_at, "the screen went back to iteration {}", s.iteration);
                None
            }
            _ => None,
        }
    });
    assert_eq!(done.iteration, 400);
    assert!(!farm(&w.status()).waiting, "no waiting banner over a finished painting");
    let f = farm(&w.status());
    assert_eq!(f.redelivered, 1, "{f:?}");
    assert!(!f.painting_locally, "the farm finished it, not the kiosk: {f:?}");
    let survivor = if first == "p1" { "p2" } else { "p1" };
    assert!(notices.iter().any(|n| n.contains(survivor) && n.contains("painter stopped")), "{notices:?}");
}

#[test]
fn without_the_server_the_kiosk_paints_locally_and_returns_to_the_farm_by_itself() {
    let mut server = common::nats::server();
    let dir = tempfile::tempdir().unwrap();
    let _p = common::nats::painter(&server.url, "p1", dir.path(), None, &[]);
    let w = kiosk(&server.url, "hall-a", 10, 2.0);
    wait_painters(&w, 1);
    paint(&w, 1);
    wait_for(&w, 120, "a farm painting", finished(1));
    assert!(!farm(&w.status()).painting_locally);

    let fallbacks_before = farm(&w.status()).fallbacks;
    server.stop();
    let stopped = Instant::now();
    wait_for(&w, 30, "painting locally", |_, s| farm(s).painting_locally.then_some(()));
    let switched = stopped.elapsed();
    assert!(switched < Duration::from_secs(8), "took {switched:?}");
    assert!(w.status().device.contains("painting locally"), "{}", w.status().device);
    paint(&w, 2);
    wait_for(&w, 180, "a local painting", finished(2));
    assert_eq!(farm(&w.status()).jobs_submitted, 1, "nothing was sent while the server was away");

    server.restart().unwrap();
    wait_for(&w, 60, "back on the farm", |_, s| (!farm(s).painting_locally).then_some(()));
    paint(&w, 3);
    wait_for(&w, 120, "a farm painting again", finished(3));
    let f = farm(&w.status());
    assert_eq!((f.jobs_submitted, f.fallbacks), (2, fallbacks_before + 1), "{f:?}");
}

#[test]
fn a_photo_that_cannot_be_painted_is_refused_once_and_an_oom_painter_hands_the_job_back() {
    let server = common::nats::server();
    let dir = tempfile::tempdir().unwrap();
    // Its first step fails as a GPU out of memory would.
    let painter = common::nats::painter(&server.url, "p1", dir.path(), Some("worker-oom@0"), &[]);
    let w = kiosk(&server.url, "hall-a", 6, 60.0);
    wait_painters(&w, 1);
    let sent = Instant::now();
    paint(&w, 1);
    let s = wait_for(&w, 120, "the painting after the hand-back", finished(1));
    assert_eq!(s.iteration, 6);
    assert!(sent.elapsed() >= protocol::OOM_RETRY_DELAY, "handed back with a delay: {:?}", sent.elapsed());
    assert!(painter.log().contains("out of memory on job"), "{}", painter.log());

    // A job whose photo does not decode: terminated with a message, never delivered again.
    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    rt.block_on(async {
        use futures_util::StreamExt;
        let client = async_nats::connect(&server.url).await.unwrap();
        let mut results = client.subscribe("gp.results.hall-z.*").await.unwrap();
        let js = async_nats::jetstream::new(client.clone());
        let spec = protocol::JobSpec {
            job: "bad-1".into(),
            kiosk: "hall-z".into(),
            key: "x".into(),
            styles: vec![],
            params: params(6),
            faces: vec![],
            snapshot_every: 2,
            snapshot_interval_s: 0.1,
            live: None,
        };
        let mut headers = async_nats::HeaderMap::new();
        headers.insert(protocol::H_SPEC, serde_json::to_string(&spec).unwrap().as_str());
        js.publish_with_headers("gp.jobs.hall-z", headers, "not a picture".into()).await.unwrap().await.unwrap();
        let m = tokio::time::timeout(Duration::from_secs(30), results.next()).await.unwrap().unwrap();
        let p = protocol::Progress::from_headers(m.headers.as_ref().unwrap()).unwrap();
        assert_eq!(p.job, "bad-1");
        let error = p.error.unwrap();
        assert!(error.contains("photo cannot be used") && error.contains("not a PNG or JPEG"), "{error}");
        assert!(tokio::time::timeout(Duration::from_secs(8), results.next()).await.is_err(), "delivered again");
    });
    let consumer = server.monitor("/jsz?consumers=true").unwrap();
    let c = &consumer["account_details"][0]["stream_detail"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["name"] == protocol::JOBS_STREAM)
        .unwrap()["consumer_detail"][0];
    assert_eq!(c["num_ack_pending"], 0, "{c}");
    assert_eq!(c["num_pending"], 0, "{c}");
}

/// Messages in the work queue, from the server's monitoring port.
fn queued_jobs(server: &NatsServer) -> u64 {
    let jsz = server.monitor("/jsz?streams=true").unwrap();
    let streams = jsz["account_details"][0]["stream_detail"].as_array().unwrap().clone();
    let jobs = streams.iter().find(|s| s["name"] == protocol::JOBS_STREAM).unwrap_or_else(|| panic!("{jsz}"));
    jobs["state"]["messages"].as_u64().unwrap()
}

/// What the server holds of kiosk `hall-a`: (queued photo bytes, finished paintings kept).
fn held(server: &NatsServer) -> (usize, u64) {
    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    rt.block_on(async {
        let js = async_nats::jetstream::new(async_nats::connect(&server.url).await.unwrap());
        let jobs = js.get_stream(protocol::JOBS_STREAM).await.unwrap();
        let photo = match jobs.get_last_raw_message_by_subject("gp.jobs.hall-a").await {
            Ok(m) => m.payload.len(),
            Err(_) => 0,
        };
        let mut results = js.get_stream(protocol::results_stream("hall-a")).await.unwrap();
        (photo, results.info().await.unwrap().state.messages)
    })
}

/// The farm's streams and buckets, as a painter that has since gone would have left them.
fn set_up_farm(server: &NatsServer) {
    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    rt.block_on(async {
        let js = async_nats::jetstream::new(async_nats::connect(&server.url).await.unwrap());
        protocol::ensure(&js, 8 << 20).await.unwrap();
    });
}

#[test]
fn one_job_per_kiosk_and_forget_deletes_the_visitor_from_the_server() {
    let server = common::nats::server();
    let dir = tempfile::tempdir().unwrap();
    set_up_farm(&server);
    // No painter: jobs wait in the queue.
    let w = kiosk(&server.url, "hall-a", 6, 600.0);
    wait_for(&w, 30, "connected", |_, s| farm(s).connected.then_some(()));
    for seq in 1..=3 {
        paint(&w, seq);
    }
    wait_for(&w, 10, "three jobs sent", |_, s| (farm(s).jobs_submitted == 3).then_some(()));
    assert_eq!(queued_jobs(&server), 1, "a kiosk's new job replaces its queued one");
    assert!(held(&server).0 > 1000, "the photo is queued");
    // Nobody paints it: after a while the kiosk says so calmly (the banner), and keeps waiting.
    wait_for(&w, 20, "the waiting banner", |_, s| farm(s).waiting.then_some(()));
    assert!(!farm(&w.status()).painting_locally);

    w.commands.send(Command::Forget).unwrap();
    let end = Instant::now() + Duration::from_secs(10);
    while held(&server).0 != 0 {
        assert!(Instant::now() < end, "the visitor's photo stays queued after Forget");
        std::thread::sleep(Duration::from_millis(100));
    }
    wait_for(&w, 5, "the banner gone with the visitor", |_, s| (!farm(s).waiting).then_some(()));

    // Painted and kept as a result until the visitor leaves.
    let _p = common::nats::painter(&server.url, "p1", dir.path(), None, &[]);
    paint(&w, 4);
    wait_for(&w, 120, "the painting", finished(4));
    assert_eq!(held(&server), (0, 1));
    w.commands.send(Command::Forget).unwrap();
    let end = Instant::now() + Duration::from_secs(10);
    while held(&server) != (0, 0) {
        assert!(Instant::now() < end, "the visitor's painting stays on the server after Forget");
        std::thread::sleep(Duration::from_millis(100));
    }
}

#[test]
fn a_photo_larger_than_the_server_takes_is_painted_locally_with_a_clear_reason() {
    let server = common::nats::server_with("max_payload: 16KB");
    let dir = tempfile::tempdir().unwrap();
    let _p = common::nats::painter(&server.url, "p1", dir.path(), None, &[]);
    let w = kiosk(&server.url, "hall-a", 6, 60.0);
    wait_painters(&w, 1);
    // Noise does not compress: 48x36 is ~5 KiB, 256 px is far above 16 KiB.
    let mut big = params(6);
    big.size = 256;
    w.commands.send(Command::SelectStyle(StyleSelection { params: big, ..selection(6) })).unwrap();
    let mut noisy = frame(1, 1);
    let img = image::RgbImage::from_fn(320, 240, |x, y| {
        let v = (x.wrapping_mul(2654435761) ^ y.wrapping_mul(40503)).to_le_bytes();
        image::Rgb([v[0], v[1], v[2]])
    });
    noisy.image = Arc::new(img);
    w.commands.send(Command::PaintFrame(noisy)).unwrap();
    let mut reason = String::new();
    wait_for(&w, 180, "the local painting", |e, _| match e {
        Event::Notice(n) if n.text.contains("max_payload") => {
            reason = n.text.clone();
            None
        }
        Event::Snapshot(s) if s.finished => Some(()),
        _ => None,
    });
    assert!(reason.contains("painting locally") && reason.contains("KiB"), "{reason}");
    assert_eq!(farm(&w.status()).jobs_submitted, 0, "nothing the server cannot take was sent");
}

#[test]
fn over_tls_with_a_user_per_role_strangers_are_refused_and_a_kiosk_cannot_read_another_kiosk() {
    let certs = tempfile::tempdir().unwrap();
    let made = std::process::Command::new("bash")
        .arg(common::root().join("scripts/farm-certs.sh"))
        .arg(certs.path())
        .args(["--host", "127.0.0.1", "--kiosk", "hall-a", "--kiosk", "hall-b", "--kiosk", "hall-c"])
        .output()
        .unwrap();
    assert!(made.status.success(), "{}", String::from_utf8_lossy(&made.stderr));
    let c = certs.path();
    let server = common::nats::secure_server(c);
    let dir = tempfile::tempdir().unwrap();
    let (painter_pw, ca) = (c.join("passwords/painter"), c.join("ca.pem"));
    let _p = common::nats::painter(
        &server.url,
        "p1",
        dir.path(),
        None,
        &["--user", "painter", "--password-file", painter_pw.to_str().unwrap(), "--ca", ca.to_str().unwrap()],
    );
    let as_kiosk = |name: &str| RemoteConfig {
        url: server.url.clone(),
        kiosk: name.into(),
        user: Some(name.into()),
        password_file: Some(c.join("passwords").join(name)),
        ca: Some(ca.clone()),
        fallback_after_s: 60.0,
        ..Default::default()
    };
    // A runtime of its own that keeps reading while the kiosks paint.
    let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(1).enable_all().build().unwrap();
    let connect = |user: Option<&str>, with_ca: bool| {
        let mut o =
            async_nats::ConnectOptions::new().max_reconnects(Some(1)).connection_timeout(Duration::from_secs(3));
        if let Some(u) = user {
            let pw = std::fs::read_to_string(c.join("passwords").join(u)).unwrap();
            o = o.user_and_password(u.into(), pw.trim().into()).custom_inbox_prefix(format!("_INBOX_{u}"));
        }
        if with_ca {
            o = o.add_root_certificates(ca.clone()).require_tls(true);
        }
        rt.block_on(o.connect(server.url.clone()))
    };
    // Strangers: no user, or no trust in the farm's CA.
    let refused = connect(None, true).expect_err("a client without credentials is refused").to_string();
    assert!(refused.to_lowercase().contains("authoriz"), "{refused}");
    assert!(connect(Some("hall-b"), false).is_err(), "a client that does not trust the farm's CA gets nowhere");

    // hall-b listens for hall-a's pictures every way it can.
    let spy = connect(Some("hall-b"), true).unwrap();
    let heard = std::sync::Arc::new(std::sync::Mutex::new(Vec::<String>::new()));
    for subject in ["gp.snap.hall-a.*", "gp.results.hall-a.*", "gp.snap.>", ">"] {
        let mut s = rt.block_on(spy.subscribe(subject)).unwrap();
        let heard = heard.clone();
        rt.spawn(async move {
            use futures_util::StreamExt;
            while let Some(m) = s.next().await {
                heard.lock().unwrap().push(m.subject.to_string());
            }
        });
    }
    let a = kiosk_as(as_kiosk("hall-a"), 10);
    let b = kiosk_as(as_kiosk("hall-b"), 10);
    wait_painters(&a, 1);
    wait_painters(&b, 1);
    paint(&a, 1);
    wait_for(&a, 120, "hall-a's painting over TLS", finished(1));
    paint(&b, 2);
    wait_for(&b, 120, "hall-b's painting over TLS", finished(2));
    for (w, name) in [(&a, "hall-a"), (&b, "hall-b")] {
        let f = farm(&w.status());
        assert!(!f.painting_locally && f.fallbacks == 0, "{name} painted on the farm with its own user: {f:?}");
    }
    // A Live mirror works with its kiosk's own rights (frames, lease, snapshots)...
    let (c_live, mut camera) = live_kiosk_as(as_kiosk("hall-c"), 10.0);
    let mut mirrored = std::collections::BTreeSet::new();
    wait_for(&c_live, 120, "hall-c's mirror over TLS", |e, s| {
        if let Event::Snapshot(snap) = e {
            mirrored.insert(snap.frame_seq);
        }
        (mirrored.len() >= 3 && farm(s).painter.is_some()).then_some(())
    });
    camera.stop();
    // ... and hall-b cannot read who paints it.
    let lease = rt.block_on(async {
        let js = async_nats::jetstream::new(spy.clone());
        tokio::time::timeout(Duration::from_secs(5), async {
            js.get_key_value(protocol::LEASES_BUCKET).await?.entry("hall-c").await.map_err(async_nats::Error::from)
        })
        .await
    });
    assert!(!matches!(lease, Ok(Ok(Some(_)))), "hall-b read hall-c's lease");
    // Forget works with a kiosk's own rights.
    a.commands.send(Command::Forget).unwrap();
    std::thread::sleep(Duration::from_millis(500));
    let heard = heard.lock().unwrap().clone();
    assert!(heard.iter().all(|s| !s.contains("hall-a")), "hall-b heard hall-a's messages: {heard:?}");
    // Nor can it read hall-a's kept paintings through the JetStream API.
    let read = rt.block_on(async {
        let js = async_nats::jetstream::new(spy.clone());
        tokio::time::timeout(Duration::from_secs(5), js.get_stream(protocol::results_stream("hall-a"))).await
    });
    assert!(!matches!(read, Ok(Ok(_))), "hall-b opened hall-a's results stream");
    let log = server.log();
    let violations: Vec<&str> = log.lines().filter(|l| l.contains("Violation")).collect();
    assert!(
        violations.iter().any(|l| l.contains("Subscription") && l.contains("gp.snap.hall-a.*")),
        "the server did not refuse the subscription: {log}"
    );
    assert!(
        violations.iter().any(|l| l.contains("gp-leases.hall-c")),
        "the server did not refuse hall-b reading hall-c's lease: {log}"
    );
    // Every refusal was one of hall-b's probes: the farm's own clients never lack a permission.
    let probes = [
        "\"gp.snap.hall-a.*\"",
        "\"gp.results.hall-a.*\"",
        "\"gp.snap.>\"",
        "\">\"",
        "GP_RESULTS_hall-a",
        "gp-leases.hall-c",
    ];
    let violations: Vec<&str> = violations.into_iter().filter(|l| !probes.iter().any(|p| l.contains(p))).collect();
    assert!(violations.is_empty(), "permissions the farm's own clients lack: {violations:#?}");
}

#[test]
fn with_no_painter_alive_the_kiosk_paints_the_visitor_itself() {
    let server = common::nats::server();
    set_up_farm(&server);
    let w = kiosk(&server.url, "hall-a", 6, 2.0);
    wait_for(&w, 30, "connected", |_, s| farm(s).connected.then_some(()));
    paint(&w, 1);
    let s = wait_for(&w, 120, "the local painting", finished(1));
    assert_eq!(s.iteration, 6);
    let f = farm(&w.status());
    assert!(f.connected && f.painting_locally && f.painters.is_empty(), "{f:?}");
    assert_eq!(f.jobs_submitted, 1, "it was sent, then painted here when nobody took it");
    assert_eq!(held(&server).0, 0, "the photo painted here does not wait on the server");
}

/// A kiosk in Live mode on the farm, fed by a camera thread at `fps` (stops when the
/// returned flag is dropped to false).
fn live_kiosk(url: &str, name: &str, fps: f64) -> (WorkerHandle, CaptureHandle) {
    live_kiosk_as(
        RemoteConfig { url: url.into(), kiosk: name.into(), fallback_after_s: 60.0, ..Default::default() },
        fps,
    )
}

/// A Live kiosk on the farm with a synthetic camera at `fps` (stopped when the returned
/// capture is stopped or dropped).
fn live_kiosk_as(remote: RemoteConfig, fps: f64) -> (WorkerHandle, CaptureHandle) {
    use gallery_painter::config::Policy;
    let remote = RemoteConfig { live_frames_per_second: 3.0, ..remote };
    let engine = EngineConfig { weights: common::weights(), remote: Some(remote), ..EngineConfig::default() };
    let camera = gallery_painter::capture::synthetic::camera(move || {
        gallery_painter::capture::synthetic::SyntheticScene::new(7, fps, 96, 72)
    });
    let frames = camera.frames.clone();
    let live = gallery_painter::engine::LiveSettings { iterations_per_frame: 3, ..Default::default() };
    let w = painters::start(
        WorkerConfig {
            policy: Policy::Live,
            intake: Intake::Stream,
            snapshot_every: 2,
            live,
            default_params: params(30),
            initial: Some(selection(30)),
            ..WorkerConfig::from_config(&common::root(), &engine, common::cpu())
        },
        frames,
    );
    (w, camera)
}

fn mean_abs_diff(a: &image::RgbImage, b: &image::RgbImage) -> f64 {
    let b = image::imageops::resize(b, a.width(), a.height(), image::imageops::FilterType::Triangle);
    let sum: u64 = a.as_raw().iter().zip(b.as_raw()).map(|(x, y)| x.abs_diff(*y) as u64).sum();
    sum as f64 / a.as_raw().len() as f64
}

#[test]
fn a_live_mirror_is_held_by_one_painter_and_another_takes_over_from_the_last_painting() {
    let server = common::nats::server();
    let dir = tempfile::tempdir().unwrap();
    let mut painters = [
        common::nats::painter(&server.url, "p1", dir.path(), None, &[]),
        common::nats::painter(&server.url, "p2", dir.path(), None, &[]),
    ];
    let (w, mut camera) = live_kiosk(&server.url, "hall-live", 15.0);
    wait_painters(&w, 2);
    // The mirror follows the camera: snapshots of several frames, all from the lease holder.
    let started = Instant::now();
    let mut frames_painted = std::collections::BTreeSet::new();
    let mut holders = std::collections::BTreeSet::new();
    let mut last = None;
    wait_for(&w, 180, "the mirror painting several frames", |e, s| {
        if let Event::Snapshot(snap) = e {
            frames_painted.insert(snap.frame_seq);
            holders.extend(farm(s).painter.clone());
            last = Some(snap.image.clone());
        }
        (frames_painted.len() >= 5).then_some(())
    });
    let holder = farm(&w.status()).painter.clone().expect("the lease holder is known");
    assert_eq!(holders.len(), 1, "one painter holds the mirror: {holders:?}");
    // Frames go at the bounded rate (3/s), not the camera's 15/s.
    let f = farm(&w.status());
    let bound = (started.elapsed().as_secs_f64() * 3.0).ceil() as u64 + 2;
    assert!(
        f.live_frames_sent >= 3 && f.live_frames_sent <= bound,
        "{} frames sent, bound {bound}",
        f.live_frames_sent
    );
    assert!(!f.painting_locally, "{f:?}");

    // The holder dies: its lease expires and the other painter goes on from the last painting.
    let victim = painters.iter_mut().find(|p| p.name == holder).unwrap();
    victim.kill();
    let survivor = if holder == "p1" { "p2" } else { "p1" };
    let mut told = false;
    let first_after = wait_for(&w, 120, "the other painter's first snapshot of the mirror", |e, _| match e {
        Event::Notice(n) if n.text.contains("goes on with the mirror") => {
            assert!(n.text.contains(survivor), "{}", n.text);
            told = true;
            None
        }
        Event::Snapshot(s) if told => Some(s.image.clone()),
        Event::Snapshot(s) => {
            last = Some(s.image.clone());
            None
        }
        _ => None,
    });
    let last = last.unwrap();
    let fresh = gallery_painter::capture::synthetic::SyntheticScene::new(7, 15.0, 96, 72).render(0.0);
    let from_last = mean_abs_diff(&first_after, &last);
    let from_photo = mean_abs_diff(&first_after, &fresh);
    eprintln!("takeover's first snapshot: {from_last:.1} from the last painting, {from_photo:.1} from the photo");
    assert!(from_last < 25.0 && from_last < from_photo, "{from_last:.1} vs {from_photo:.1}");
    wait_for(&w, 30, "the survivor named as the holder", |_, s| {
        (farm(s).painter.as_deref() == Some(survivor)).then_some(())
    });
    let f = farm(&w.status());
    assert_eq!(f.redelivered, 1, "one takeover: {f:?}");
    assert!(!f.painting_locally, "the farm kept the mirror: {f:?}");

    // A pause lets the mirror go: the painter ends the session and deletes the lease.
    let lease = || {
        let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
        rt.block_on(async {
            let js = async_nats::jetstream::new(async_nats::connect(&server.url).await.unwrap());
            let kv = js.get_key_value(protocol::LEASES_BUCKET).await.unwrap();
            kv.get("hall-live").await.unwrap().map(|v| serde_json::from_slice::<protocol::Lease>(&v).unwrap())
        })
    };
    assert_eq!(lease().map(|l| l.painter).as_deref(), Some(survivor));
    w.commands.send(Command::Pause).unwrap();
    let end = Instant::now() + Duration::from_secs(10);
    while lease().is_some() {
        assert!(Instant::now() < end, "the lease outlived the pause: {:?}", lease());
        std::thread::sleep(Duration::from_millis(200));
    }
    // Resumed: a new generation, going on from the painting on screen.
    let mut on_screen = first_after;
    for e in w.events.try_iter() {
        if let Event::Snapshot(s) = e {
            on_screen = s.image.clone();
        }
    }
    w.commands.send(Command::Resume).unwrap();
    let resumed = wait_for(&w, 60, "the mirror again after the pause", |e, _| match e {
        Event::Snapshot(s) => Some(s.image.clone()),
        _ => None,
    });
    let d = mean_abs_diff(&resumed, &on_screen);
    assert!(d < 25.0, "the resumed mirror starts {d:.1} away from the painting on screen");
    let held = lease().expect("a painter holds the mirror again");
    assert!(held.generation >= 3, "{held:?}");
    camera.stop();
}

#[test]
fn a_live_mirror_paints_locally_while_the_server_is_away_and_returns_without_a_jump() {
    let mut server = common::nats::server();
    let dir = tempfile::tempdir().unwrap();
    let _p = common::nats::painter(&server.url, "p1", dir.path(), None, &[]);
    let remote = RemoteConfig {
        url: server.url.clone(),
        kiosk: "hall-live".into(),
        fallback_after_s: 2.0,
        ..Default::default()
    };
    let (w, mut camera) = live_kiosk_as(remote, 10.0);
    wait_painters(&w, 1);
    wait_for(&w, 120, "the mirror on the farm", |e, s| {
        (matches!(e, Event::Snapshot(_)) && farm(s).painter.is_some()).then_some(())
    });
    server.stop();
    wait_for(&w, 30, "painting locally", |_, s| farm(s).painting_locally.then_some(()));
    let mut local = 0;
    wait_for(&w, 120, "the local mirror", |e, _| {
        local += matches!(e, Event::Snapshot(_)) as u32;
        (local >= 3).then_some(())
    });

    server.restart().unwrap();
    let (mut before, mut told) = (None, false);
    let after = wait_for(&w, 90, "the mirror back on the farm", |e, _| match e {
        Event::Notice(n) if n.text.contains("painting on the farm again") => {
            told = true;
            None
        }
        Event::Snapshot(s) if told && before.is_some() => Some(s.image.clone()),
        Event::Snapshot(s) if !told => {
            before = Some(s.image.clone());
            None
        }
        _ => None,
    });
    // The farm goes on from the painting made here: the visitor sees no jump.
    let d = mean_abs_diff(&after, &before.unwrap());
    assert!(d < 25.0, "the mirror jumped by {d:.1} when the farm took it back");
    wait_for(&w, 30, "a painter holding the mirror", |_, s| {
        (farm(s).painter.is_some() && !farm(s).painting_locally).then_some(())
    });
    assert_eq!(farm(&w.status()).fallbacks, 1, "{:?}", farm(&w.status()));
    camera.stop();
}
