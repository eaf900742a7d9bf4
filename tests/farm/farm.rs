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
use gallery_painter::painting::making_of;
use gallery_painter::painting::{
    Command, Event, Intake, Snapshot, StyleSelection, WorkerConfig, WorkerHandle, WorkerStatus,
};
use gallery_painter::workers;

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

pub(crate) fn kiosk(url: &str, name: &str, iterations: u32, fallback_after_s: f64) -> WorkerHandle {
    kiosk_as(RemoteConfig { url: url.into(), kiosk: name.into(), fallback_after_s, ..Default::default() }, iterations)
}

pub(crate) fn kiosk_as(remote: RemoteConfig, iterations: u32) -> WorkerHandle {
    let engine = EngineConfig { weights: common::weights(), remote: Some(remote), ..EngineConfig::default() };
    let (_keep, frames) = crossbeam_channel::bounded::<Frame>(1);
    std::mem::forget(_keep);
    workers::start(
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

pub(crate) fn paint(w: &WorkerHandle, seq: u64) {
    w.commands.send(Command::PaintFrame(frame(seq, seq as u32))).unwrap();
}

/// Events until `until` says stop (returns what it stopped on), or panics at the deadline.
pub(crate) fn wait_for<T>(
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

pub(crate) fn finished(seq: u64) -> impl FnMut(&Event, &WorkerStatus) -> Option<Snapshot> {
    move |e, _| match e {
        Event::Snapshot(s) if s.finished && s.frame_seq == seq => Some(s.clone()),
        _ => None,
    }
}

pub(crate) fn farm(status: &WorkerStatus) -> gallery_painter::painting::FarmStatus {
    status.farm.clone().expect("a remote worker reports the farm")
}

pub(crate) fn wait_painters(w: &WorkerHandle, n: usize) {
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
            // The loss's terms travel with the painting (F12 shows them, as for a local one).
            let l = s.losses;
            assert!(l.content > 0.0 && l.style > 0.0 && l.tv > 0.0 && l.total > 0.0, "{l:?}");
            // The painter's snapshots for the making-of come with it (the first one at least),
            // never larger than the painting.
            let frames = &s.making_of;
            assert!((1..making_of::FRAMES).contains(&frames.len()), "{} making-of frames", frames.len());
            assert!(frames.iter().all(|f| f.width() <= 48 && f.height() <= 36));
        }
        // Each kiosk got the painting of its own visitor's photo, not the other one's (the
        // frame number on a snapshot is the kiosk's own, so it cannot tell).
        let (photo_a, photo_b) =
            (frame(100 + round, (100 + round) as u32).image, frame(200 + round, (200 + round) as u32).image);
        for (s, own, other, who) in [(&sa, &photo_a, &photo_b, "a"), (&sb, &photo_b, &photo_a, "b")] {
            let (near, far) = (mean_abs_diff(&s.image, own), mean_abs_diff(&s.image, other));
            assert!(near < far, "kiosk {who}'s painting is {near:.1} from its photo and {far:.1} from the other's");
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
    // And both painted: each painter counts its own paintings in its announcement.
    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    let read_counts = || -> Vec<(String, u64)> {
        rt.block_on(async {
            let js = async_nats::jetstream::new(async_nats::connect(&server.url).await.unwrap());
            let kv = js.get_key_value(protocol::PAINTERS_BUCKET).await.unwrap();
            gallery_painter::farm::proofs::painters_alive(&kv, None)
                .await
                .0
                .into_iter()
                .map(|p| (p.name, p.paintings))
                .collect()
        })
    };
    // Announced every 3 s: the last painting shows in the next one.
    let end = Instant::now() + Duration::from_secs(10);
    let mut counts = read_counts();
    while counts.iter().map(|(_, n)| n).sum::<u64>() < 6 && Instant::now() < end {
        std::thread::sleep(Duration::from_millis(300));
        counts = read_counts();
    }
    assert_eq!(counts.len(), 2, "{counts:?}");
    assert!(counts.iter().all(|(_, n)| *n >= 1), "a painter painted nothing: {counts:?}");
    assert_eq!(counts.iter().map(|(_, n)| n).sum::<u64>(), 6, "{counts:?}");
    // The work queue is empty: every job was acknowledged.
    assert_eq!(queued_jobs(&server), 0);
    // The making-of is kept in the painting's own message (fetched, expired and deleted with it).
    let stored = rt.block_on(async {
        let js = async_nats::jetstream::new(async_nats::connect(&server.url).await.unwrap());
        let mut results = js.get_stream(protocol::results_stream("hall-a")).await.unwrap();
        let last = results.info().await.unwrap().state.last_sequence;
        results.get_raw_message(last).await.unwrap()
    });
    let lengths = stored.headers.get(protocol::H_MAKING_OF).map(|v| v.as_str().to_string());
    let (painting, frames) = gallery_painter::farm::making_of::unpack(lengths.as_deref(), &stored.payload);
    assert!(!frames.is_empty(), "no making-of in the stored result ({lengths:?})");
    assert_eq!(gallery_painter::engine::imageio::decode_rgb(painting).unwrap().dimensions(), (48, 36));
    assert_eq!(gallery_painter::farm::making_of::decode(&frames).len(), frames.len(), "every frame decodes");
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
    // Its making-of is the survivor's, whole, though the screen saw the first painter's start.
    assert!(done.making_of.len() >= 2, "{} making-of frames", done.making_of.len());
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
        let mut results = client.subscribe("gp.results.hall-c.*").await.unwrap();
        let js = async_nats::jetstream::new(client.clone());
        let spec = protocol::JobSpec {
            job: "bad-1".into(),
            kiosk: "hall-c".into(),
            key: "x".into(),
            styles: vec![],
            params: params(6),
            faces: vec![],
            snapshot_every: 2,
            snapshot_interval_s: 0.1,
            live: None,
            secret: gallery_painter::farm::trust::JobSecret::random().to_hex(),
        };
        let mut headers = async_nats::HeaderMap::new();
        headers.insert(protocol::H_SPEC, serde_json::to_string(&spec).unwrap().as_str());
        js.publish_with_headers("gp.jobs.hall-c", headers, "not a picture".into()).await.unwrap().await.unwrap();
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

#[test]
fn one_job_per_kiosk_and_forget_deletes_the_visitor_from_the_server() {
    let server = common::nats::server();
    let dir = tempfile::tempdir().unwrap();
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
fn with_no_painter_alive_the_kiosk_paints_the_visitor_itself() {
    let server = common::nats::server();
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
pub(crate) fn live_kiosk_as(remote: RemoteConfig, fps: f64) -> (WorkerHandle, CaptureHandle) {
    use gallery_painter::config::Policy;
    let remote = RemoteConfig { live_frames_per_second: 3.0, ..remote };
    let engine = EngineConfig { weights: common::weights(), remote: Some(remote), ..EngineConfig::default() };
    let camera = gallery_painter::capture::synthetic::camera(move || {
        gallery_painter::capture::synthetic::SyntheticScene::new(7, fps, 96, 72)
    });
    let frames = camera.frames.clone();
    let live = gallery_painter::engine::LiveSettings { iterations_per_frame: 3, ..Default::default() };
    let w = workers::start(
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
    // Frames are counted from here (the kiosk may have sent some while the painters started).
    let started = Instant::now();
    let sent_before = farm(&w.status()).live_frames_sent;
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
    let sent = f.live_frames_sent - sent_before;
    assert!(sent >= 3 && sent <= bound, "{sent} frames sent since both painters were up, bound {bound}");
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
    let mut on_farm = None;
    wait_for(&w, 120, "the mirror on the farm", |e, s| {
        if let Event::Snapshot(snap) = e {
            on_farm = Some(snap.image.clone());
        }
        (on_farm.is_some() && farm(s).painter.is_some()).then_some(())
    });
    server.stop();
    // Snapshots still on their way are the farm's; the local engine's come after the switch.
    let mut switched = false;
    let first_local = wait_for(&w, 120, "the local mirror", |e, s| {
        match e {
            Event::Snapshot(snap) if switched => return Some(snap.image.clone()),
            Event::Snapshot(snap) => on_farm = Some(snap.image.clone()),
            _ => {}
        }
        switched |= farm(s).painting_locally;
        None
    });
    // The kiosk's own engine goes on from the farm's last painting, not from the camera's picture.
    let d = mean_abs_diff(&first_local, on_farm.as_ref().unwrap());
    eprintln!("first local snapshot: {d:.1} grey levels from the farm's last painting");
    assert!(d < 25.0, "the mirror jumped by {d:.1} when the kiosk took it over");
    let mut local = 1;
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
