//! Capture -> worker -> snapshots, headless on CPU at tiny sizes, with injected faults.

use crate::common;

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use gallery_painter::capture::synthetic::SyntheticScene;
use gallery_painter::capture::{CaptureError, CaptureOptions, CaptureState, FrameSource, SourceFactory, spawn_capture};
use gallery_painter::config::{EngineConfig, Policy};
use gallery_painter::engine::{LiveSettings, StyleParams};
use gallery_painter::painting::{Command, Event, Fault, Snapshot, StyleSelection, WorkerConfig, WorkerHandle};
use gallery_painter::worker::spawn_worker;
use image::RgbImage;

/// Worker tests run one at a time: each worker uses every core, and the restart-time check
/// should measure the worker, not the other tests.
static SERIAL: Mutex<()> = Mutex::new(());

fn serial() -> std::sync::MutexGuard<'static, ()> {
    SERIAL.lock().unwrap_or_else(|e| e.into_inner())
}

fn synthetic(fps: f64) -> SourceFactory {
    Box::new(move || Ok(Box::new(SyntheticScene::new(3, fps, 96, 72)) as Box<dyn FrameSource>))
}

fn params(size: u32, iterations: u32) -> StyleParams {
    StyleParams { size, iterations, levels: 1, ..StyleParams::default() }
}

fn selection(key: &str, styles: &[(&str, f64)], p: StyleParams) -> StyleSelection {
    StyleSelection {
        key: key.into(),
        styles: styles.iter().map(|(s, w)| (common::style_path(s), *w)).collect(),
        params: p,
    }
}

fn worker(
    policy: Policy,
    p: StyleParams,
    frames: crossbeam_channel::Receiver<gallery_painter::capture::Frame>,
) -> WorkerHandle {
    worker_with_interval(policy, p, frames, Duration::ZERO)
}

/// `snapshot_interval`: ZERO = a snapshot every iteration (what most tests here count on).
fn worker_with_interval(
    policy: Policy,
    p: StyleParams,
    frames: crossbeam_channel::Receiver<gallery_painter::capture::Frame>,
    snapshot_interval: Duration,
) -> WorkerHandle {
    let w = spawn_worker(
        WorkerConfig {
            policy,
            snapshot_every: 1,
            snapshot_interval,
            hold_finished: Duration::from_millis(100),
            live: LiveSettings { keep: 0.7, iterations_per_frame: 3, ..LiveSettings::default() },
            default_params: p.clone(),
            restart_delay: Duration::from_millis(200),
            ..WorkerConfig::from_config(
                &common::root(),
                &EngineConfig { weights: common::weights(), ..EngineConfig::default() },
                common::cpu(),
            )
        },
        frames,
    );
    w.commands.send(Command::SelectStyle(selection("night", &[("swirling_night.png", 1.0)], p))).unwrap();
    w
}

/// Waits for events until `pred` accepts one or the time runs out.
fn wait_for(w: &WorkerHandle, timeout: Duration, mut pred: impl FnMut(&Event) -> bool) -> Option<Event> {
    let end = Instant::now() + timeout;
    while Instant::now() < end {
        if let Ok(e) = w.events.recv_timeout(Duration::from_millis(50))
            && pred(&e)
        {
            return Some(e);
        }
    }
    None
}

fn snapshot(e: Option<Event>) -> Snapshot {
    match e {
        Some(Event::Snapshot(s)) => s,
        other => panic!("expected a snapshot, got {other:?}"),
    }
}

/// One painting's snapshots, until the finished one (or `timeout`).
fn one_painting(w: &WorkerHandle, timeout: Duration) -> (Vec<Snapshot>, Duration) {
    let mut snaps: Vec<Snapshot> = Vec::new();
    let end = Instant::now() + timeout;
    let mut first_at = None;
    while Instant::now() < end {
        if let Ok(Event::Snapshot(s)) = w.events.recv_timeout(Duration::from_millis(100)) {
            let done = s.finished;
            first_at.get_or_insert_with(Instant::now);
            snaps.push(s);
            if done {
                break;
            }
        }
    }
    (snaps, first_at.map(|t| t.elapsed()).unwrap_or_default())
}

#[test]
fn snapshots_come_at_most_every_snapshot_interval_with_the_first_and_the_finished_always() {
    let _serial = serial();
    let mut capture = spawn_capture(synthetic(20.0), None, CaptureOptions::default());
    let interval = Duration::from_secs(1);
    let mut w = worker_with_interval(Policy::Paint, params(64, 24), capture.frames.clone(), interval);
    let (snaps, took) = one_painting(&w, Duration::from_secs(60));
    assert!(snaps.last().is_some_and(|s| s.finished), "no finished painting: {} snapshots", snaps.len());
    let seq = snaps.last().unwrap().frame_seq;
    let same: Vec<&Snapshot> = snaps.iter().filter(|s| s.frame_seq == seq).collect();
    assert!(same[0].latency.is_some(), "the first snapshot of the frame came");
    // snapshot_every 1 alone would give 24; the interval lets through one a second between
    // the first and the finished one.
    let most = 2 + took.as_secs_f64().ceil() as usize;
    assert!(same.len() <= most && same.len() < 24, "{} snapshots in {took:?}", same.len());
    w.shutdown();
    capture.stop();
}

#[test]
fn the_worker_gathers_the_making_of_where_it_paints_and_sends_it_with_the_finished_painting() {
    let _serial = serial();
    let mut capture = spawn_capture(synthetic(20.0), None, CaptureOptions::default());
    let mut w = worker(Policy::Paint, params(48, 16), capture.frames.clone());
    let (snaps, _) = one_painting(&w, Duration::from_secs(60));
    let finished = snaps.last().filter(|s| s.finished).expect("a finished painting");
    let same: Vec<&Snapshot> = snaps.iter().filter(|s| s.frame_seq == finished.frame_seq).collect();
    assert!(same[..same.len() - 1].iter().all(|s| s.making_of.is_empty()), "only the finished one carries it");
    // Twelve frames of the animation: eleven before the painting, which is the last.
    let frames = &finished.making_of;
    assert_eq!(frames.len(), 11, "{} frames from {} snapshots", frames.len(), same.len());
    // Each is a snapshot this painting showed, in the order it showed them.
    let places: Vec<usize> = frames
        .iter()
        .map(|f| same.iter().position(|s| Arc::ptr_eq(&s.image, f)).expect("a frame the painting showed"))
        .collect();
    assert!(places.windows(2).all(|p| p[0] < p[1]), "in order, none twice: {places:?}");
    assert!(!frames.iter().any(|f| Arc::ptr_eq(f, &finished.image)), "the painting is added by the kiosk");
    w.shutdown();
    capture.stop();
}

#[test]
fn synthetic_frames_become_paintings_whose_loss_falls() {
    let _serial = serial();
    let mut capture = spawn_capture(synthetic(20.0), None, CaptureOptions::default());
    let mut w = worker(Policy::Paint, params(64, 8), capture.frames.clone());
    let mut snaps: Vec<Snapshot> = Vec::new();
    let end = Instant::now() + Duration::from_secs(60);
    while Instant::now() < end {
        if let Ok(Event::Snapshot(s)) = w.events.recv_timeout(Duration::from_millis(100)) {
            let done = s.finished;
            snaps.push(s);
            if done {
                break;
            }
        }
    }
    assert!(snaps.last().is_some_and(|s| s.finished), "no finished painting: {} snapshots", snaps.len());
    let seq = snaps.last().unwrap().frame_seq;
    let same: Vec<&Snapshot> = snaps.iter().filter(|s| s.frame_seq == seq).collect();
    assert!(same.len() >= 4);
    assert!(same.last().unwrap().losses.total < 0.7 * same[0].losses.total, "loss did not fall enough");
    assert!(same[0].latency.is_some(), "first snapshot of a frame carries its latency");
    assert_eq!(same[0].image.dimensions(), (64, 48));
    assert_eq!(same[0].style_key, "night");
    let st = w.status();
    assert!(st.iterations_per_second > 0.0 && st.last_latency.is_some());
    w.shutdown();
    capture.stop();
}

#[test]
fn a_worker_panic_restarts_it_and_painting_resumes_promptly() {
    let _serial = serial();
    let mut capture = spawn_capture(synthetic(20.0), None, CaptureOptions::default());
    let mut w = worker(Policy::Paint, params(64, 30), capture.frames.clone());
    snapshot(wait_for(&w, Duration::from_secs(30), |e| matches!(e, Event::Snapshot(_))));
    let first_run = w.status().run_started.expect("the worker started");
    let faulted_at = Instant::now();
    w.commands.send(Command::InjectFault(Fault::Panic)).unwrap();
    let crash = wait_for(&w, Duration::from_secs(10), |e| matches!(e, Event::Notice(n) if n.text.contains("crashed")));
    assert!(crash.is_some(), "no crash notice");
    snapshot(wait_for(&w, Duration::from_secs(20), |e| matches!(e, Event::Snapshot(_))));
    // The new run began the restart delay (0.3 s) after the panic: both instants are the
    // worker's own, so a slow machine (the panic waits for the step in progress) does not
    // widen the gap, and a backoff of seconds would show.
    let restarted = w.status().run_started.expect("restarted");
    assert!(restarted > first_run, "no new run");
    let crashed = w.status().last_crash.expect("the crash is recorded");
    assert!(crashed >= faulted_at, "the crash came after the fault was sent");
    let gap = restarted.duration_since(crashed);
    assert!(gap < Duration::from_millis(2500), "the worker restarted {gap:?} after the panic");
    assert_eq!(w.status().restarts, 1);
    assert_eq!(w.status().style_key, "night", "the selection survives the restart");
    w.shutdown();
    capture.stop();
}

#[test]
fn a_restart_asked_by_staff_loads_the_network_again_keeps_the_artwork_and_is_not_a_crash() {
    let _serial = serial();
    let mut capture = spawn_capture(synthetic(20.0), None, CaptureOptions::default());
    let mut w = worker(Policy::Paint, params(64, 30), capture.frames.clone());
    snapshot(wait_for(&w, Duration::from_secs(30), |e| matches!(e, Event::Snapshot(_))));
    let first_run = w.status().run_started.expect("the worker started");
    w.commands.send(Command::Restart).unwrap();
    let end = Instant::now() + Duration::from_secs(20);
    while w.status().run_started == Some(first_run) {
        assert!(Instant::now() < end, "no new run");
        std::thread::sleep(Duration::from_millis(20));
    }
    snapshot(wait_for(&w, Duration::from_secs(30), |e| matches!(e, Event::Snapshot(_))));
    assert_eq!(w.status().restarts, 0, "a restart on request is not counted as a crash");
    assert_eq!(w.status().style_key, "night", "the selection survives the restart");
    w.shutdown();
    capture.stop();
}

#[test]
fn out_of_memory_retries_at_a_smaller_size() {
    let _serial = serial();
    let mut capture = spawn_capture(synthetic(20.0), None, CaptureOptions::default());
    let mut w = worker(Policy::Paint, params(96, 30), capture.frames.clone());
    let first = snapshot(wait_for(&w, Duration::from_secs(30), |e| matches!(e, Event::Snapshot(_))));
    assert_eq!(first.image.dimensions(), (96, 72));
    w.commands.send(Command::InjectFault(Fault::OutOfMemory)).unwrap();
    let notice =
        wait_for(&w, Duration::from_secs(10), |e| matches!(e, Event::Notice(n) if n.text.contains("out of memory")));
    match notice {
        Some(Event::Notice(n)) => assert!(n.text.contains("at 96 px") && n.text.contains("72 px"), "{}", n.text),
        other => panic!("no out-of-memory notice: {other:?}"),
    }
    let smaller = snapshot(wait_for(&w, Duration::from_secs(10), |e| matches!(e, Event::Snapshot(_))));
    assert_eq!(smaller.image.dimensions(), (72, 54));
    assert_eq!(w.status().size, 72);
    w.shutdown();
    capture.stop();
}

#[test]
fn out_of_memory_at_the_smallest_size_waits_before_retrying_instead_of_spinning() {
    let _serial = serial();
    let mut capture = spawn_capture(synthetic(20.0), None, CaptureOptions::default());
    let mut w = worker(Policy::Paint, params(64, 400), capture.frames.clone());
    snapshot(wait_for(&w, Duration::from_secs(30), |e| matches!(e, Event::Snapshot(_))));
    w.commands.send(Command::InjectFault(Fault::OutOfMemory)).unwrap();
    let notice =
        wait_for(&w, Duration::from_secs(10), |e| matches!(e, Event::Notice(n) if n.text.contains("out of memory")));
    let noticed_at = Instant::now();
    match notice {
        Some(Event::Notice(n)) => {
            assert!(n.text.contains("smallest size") && n.text.contains("retrying in 1 s"), "{}", n.text)
        }
        other => panic!("no out-of-memory notice: {other:?}"),
    }
    // Failing again during the wait (no successful step in between) doubles the wait.
    w.commands.send(Command::InjectFault(Fault::OutOfMemory)).unwrap();
    let again =
        wait_for(&w, Duration::from_secs(10), |e| matches!(e, Event::Notice(n) if n.text.contains("out of memory")));
    match again {
        Some(Event::Notice(n)) => assert!(n.text.contains("retrying in 2 s"), "{}", n.text),
        other => panic!("no second notice: {other:?}"),
    }
    assert!(noticed_at.elapsed() >= Duration::from_millis(900), "retried after {:?}", noticed_at.elapsed());
    // Then it carries on at the same size, no earlier than the second wait.
    let second_at = Instant::now();
    let next = snapshot(wait_for(&w, Duration::from_secs(10), |e| matches!(e, Event::Snapshot(_))));
    assert!(second_at.elapsed() >= Duration::from_millis(1800), "retried after {:?}", second_at.elapsed());
    assert_eq!(next.image.dimensions(), (64, 48));
    w.shutdown();
    capture.stop();
}

#[test]
fn a_corrupt_style_image_is_skipped_with_its_name() {
    let _serial = serial();
    let dir = tempfile::tempdir().unwrap();
    let bad = dir.path().join("broken_painting.png");
    std::fs::write(&bad, b"\x89PNG but not really").unwrap();
    let mut capture = spawn_capture(synthetic(20.0), None, CaptureOptions::default());
    let mut w = worker(Policy::Paint, params(64, 30), capture.frames.clone());
    snapshot(wait_for(&w, Duration::from_secs(30), |e| matches!(e, Event::Snapshot(_))));
    let sel = StyleSelection {
        key: "mixed".into(),
        styles: vec![(bad.clone(), 1.0), (common::style_path("ink_waves.png"), 1.0)],
        params: params(64, 30),
    };
    w.commands.send(Command::SelectStyle(sel)).unwrap();
    let n = wait_for(
        &w,
        Duration::from_secs(10),
        |e| matches!(e, Event::Notice(n) if n.text.contains("broken_painting.png")),
    );
    assert!(n.is_some(), "no notice naming the broken file");
    let s =
        snapshot(wait_for(&w, Duration::from_secs(10), |e| matches!(e, Event::Snapshot(s) if s.style_key == "mixed")));
    assert_eq!(s.style_key, "mixed", "the readable style is used");
    let only_bad = StyleSelection { key: "bad".into(), styles: vec![(bad, 1.0)], params: params(64, 30) };
    w.commands.send(Command::SelectStyle(only_bad)).unwrap();
    let n = wait_for(
        &w,
        Duration::from_secs(10),
        |e| matches!(e, Event::Notice(n) if n.text.contains("keeping the current style")),
    );
    assert!(n.is_some());
    assert_eq!(w.status().style_key, "mixed");
    w.shutdown();
    capture.stop();
}

/// A camera stand-in that delivers `good` frames, then fails, refuses to reopen `refusals`
/// times, then works again.
struct Script {
    good: u32,
    refusals: u32,
    opened: u32,
}

struct ScriptedCamera {
    left: u32,
    scene: SyntheticScene,
}

impl FrameSource for ScriptedCamera {
    fn name(&self) -> String {
        "scripted camera".into()
    }
    fn next_frame(&mut self) -> Result<RgbImage, CaptureError> {
        std::thread::sleep(Duration::from_millis(10));
        if self.left == 0 {
            return Err(CaptureError::Lost("unplugged".into()));
        }
        self.left -= 1;
        self.scene.next_frame()
    }
}

#[test]
fn a_lost_camera_is_reported_retried_with_backoff_and_resumes_by_itself() {
    let script = Arc::new(Mutex::new(Script { good: 20, refusals: 3, opened: 0 }));
    let s = script.clone();
    let factory: SourceFactory = Box::new(move || {
        let mut s = s.lock().unwrap();
        if s.opened >= 1 && s.refusals > 0 {
            s.refusals -= 1;
            return Err(CaptureError::Unavailable("no such device".into()));
        }
        s.opened += 1;
        let left = if s.opened == 1 { s.good } else { u32::MAX };
        Ok(Box::new(ScriptedCamera { left, scene: SyntheticScene::new(1, 0.0, 32, 24) }) as Box<dyn FrameSource>)
    });
    let options = CaptureOptions {
        backoff_start: Duration::from_millis(50),
        backoff_max: Duration::from_millis(400),
        ..Default::default()
    };
    let mut capture = spawn_capture(factory, None, options);
    let mut saw_lost = false;
    let end = Instant::now() + Duration::from_secs(10);
    let mut recovered = false;
    while Instant::now() < end {
        let _ = capture.frames.recv_timeout(Duration::from_millis(5));
        let st = capture.status();
        if let CaptureState::Lost { retry_in, .. } = &st.state {
            saw_lost = true;
            assert!(*retry_in <= Duration::from_millis(400));
        }
        if saw_lost && st.state == CaptureState::Running && st.frames > 25 {
            recovered = true;
            break;
        }
    }
    assert!(saw_lost, "the loss was never reported");
    assert!(recovered, "capture did not resume: {:?}", capture.status().state);
    assert!(capture.status().reconnects >= 3);
    assert_eq!(script.lock().unwrap().refusals, 0);
    capture.stop();
}

#[test]
fn without_a_camera_the_fallback_runs_and_says_so() {
    let no_camera: SourceFactory = Box::new(|| Err(CaptureError::Unavailable("No such file or directory".into())));
    let mut capture = spawn_capture(no_camera, Some(synthetic(30.0)), CaptureOptions::default());
    let frame = capture.frames.recv_timeout(Duration::from_secs(5)).expect("fallback frames");
    assert_eq!(frame.image.dimensions(), (96, 72));
    match capture.status().state {
        CaptureState::Fallback { reason } => assert!(reason.contains("No such file")),
        other => panic!("{other:?}"),
    }
    capture.stop();
}

#[test]
fn a_required_camera_that_never_opened_is_missing_is_looked_for_with_backoff_and_then_used() {
    // No fallback (a kiosk that needs its camera): the camera appears after a few attempts.
    let attempts = Arc::new(Mutex::new(0u32));
    let counter = attempts.clone();
    let factory: SourceFactory = Box::new(move || {
        let mut n = counter.lock().unwrap();
        *n += 1;
        if *n <= 5 {
            return Err(CaptureError::Unavailable("no camera at /dev/video0".into()));
        }
        Ok(Box::new(SyntheticScene::new(3, 30.0, 32, 24)) as Box<dyn FrameSource>)
    });
    let options = CaptureOptions {
        backoff_start: Duration::from_millis(50),
        backoff_max: Duration::from_millis(200),
        ..CaptureOptions::default()
    };
    let mut capture = spawn_capture(factory, None, options);
    let mut saw_missing = false;
    let end = Instant::now() + Duration::from_secs(10);
    let frame = loop {
        assert!(Instant::now() < end, "the camera was never used: {:?}", capture.status().state);
        if let Ok(f) = capture.frames.recv_timeout(Duration::from_millis(5)) {
            break f;
        }
        match capture.status().state {
            CaptureState::Missing { reason, retry_in } => {
                saw_missing = true;
                assert!(reason.contains("no camera") && retry_in <= Duration::from_millis(200));
            }
            CaptureState::Starting | CaptureState::Running => {}
            other => panic!("no stand-in may paint in its place: {other:?}"),
        }
    };
    assert!(saw_missing, "the missing camera was never reported");
    assert_eq!(frame.image.dimensions(), (32, 24), "frames come from the camera, not a demo");
    assert_eq!(*attempts.lock().unwrap(), 6, "looked for it again after each wait");
    assert!(capture.status().reconnects >= 5);
    capture.stop();
}

#[test]
fn health_counts_a_missing_required_camera_and_a_demo_stand_in_as_camera_problems() {
    use gallery_painter::service::health::{Health, camera_report};
    let now = Instant::now();
    let mut h = Health::new(now);
    h.worker_heartbeat = Some(now);
    h.artwork = "Ink Waves".into();
    // A kiosk that needs its camera and has none: unhealthy, camera_ok 0.
    let missing = CaptureState::Missing { reason: "no camera".into(), retry_in: Duration::from_secs(4) };
    (h.camera_problem, h.camera_standin) = camera_report(&missing);
    assert!(h.verdict(now).unwrap_err().contains("camera: not found (no camera)"));
    assert!(h.prometheus(now).contains("gallery_camera_ok 0\n"));
    // The demo in place of a camera (a laptop, run.sh): still up, but it says so, and the
    // camera metric does not claim a camera.
    let fallback = CaptureState::Fallback { reason: "no camera".into() };
    (h.camera_problem, h.camera_standin) = camera_report(&fallback);
    let ok = h.verdict(now).unwrap();
    assert!(ok.contains("demo source, not a camera"), "{ok}");
    let metrics = h.prometheus(now);
    assert!(metrics.contains("gallery_camera_ok 0\n") && metrics.contains("gallery_up 1\n"), "{metrics}");
    (h.camera_problem, h.camera_standin) = camera_report(&CaptureState::Running);
    assert!(h.prometheus(now).contains("gallery_camera_ok 1\n"));
}

/// A source that opens fine and then fails every frame (e.g. frames that never decode).
struct OpensThenFails;
impl FrameSource for OpensThenFails {
    fn name(&self) -> String {
        "opens-then-fails".into()
    }
    fn next_frame(&mut self) -> Result<RgbImage, CaptureError> {
        Err(CaptureError::Lost("decode: corrupt frame".into()))
    }
}

#[test]
fn a_source_that_opens_but_never_delivers_is_reopened_with_backoff_not_in_a_loop() {
    let opens = Arc::new(Mutex::new(0u32));
    let counter = opens.clone();
    let factory: SourceFactory = Box::new(move || {
        *counter.lock().unwrap() += 1;
        Ok(Box::new(OpensThenFails) as Box<dyn FrameSource>)
    });
    let options = CaptureOptions {
        backoff_start: Duration::from_millis(100),
        backoff_max: Duration::from_millis(800),
        ..CaptureOptions::default()
    };
    let mut capture = spawn_capture(factory, None, options);
    std::thread::sleep(Duration::from_millis(2000));
    capture.stop();
    // Waits of 0.1, 0.2, 0.4, 0.8, 0.8 ... s: about 6 opens in 2 s, not thousands.
    let n = *opens.lock().unwrap();
    assert!((3..=8).contains(&n), "opened {n} times in 2 s");
    assert!(matches!(capture.status().state, CaptureState::Stopped));
}

#[test]
fn the_newest_frame_wins_and_drops_are_counted() {
    // An unpaced source takes a whole core: not beside the tests that time a painter.
    let _serial = serial();
    let mut capture = spawn_capture(synthetic(0.0), None, CaptureOptions::default());
    std::thread::sleep(Duration::from_millis(300));
    let frame = capture.frames.recv_timeout(Duration::from_secs(1)).unwrap();
    let st = capture.status();
    assert!(st.dropped > 5, "dropped {}", st.dropped);
    assert!(frame.seq + 3 >= st.frames, "stale frame {} of {}", frame.seq, st.frames);
    capture.stop();
}

#[test]
fn live_policy_paints_at_the_full_size_of_a_two_level_schedule() {
    let _serial = serial();
    let mut capture = spawn_capture(synthetic(10.0), None, CaptureOptions::default());
    // 96 px in two levels (48 then 96), 40 iterations a level, a new frame every 3.
    let p = StyleParams { size: 96, levels: 2, iterations: 40, ..StyleParams::default() };
    let mut w = worker(Policy::Live, p, capture.frames.clone());
    let mut levels_by_frame: Vec<(u64, u32)> = Vec::new();
    let end = Instant::now() + Duration::from_secs(60);
    while Instant::now() < end && levels_by_frame.len() < 4 {
        if let Ok(Event::Snapshot(s)) = w.events.recv_timeout(Duration::from_millis(100)) {
            if levels_by_frame.last().map(|l| l.0) != Some(s.frame_seq) {
                levels_by_frame.push((s.frame_seq, s.level));
            }
            assert_eq!(s.image.dimensions(), (96, 72));
        }
    }
    w.shutdown();
    capture.stop();
    assert!(levels_by_frame.len() >= 4, "{levels_by_frame:?}");
    // The first frame starts coarse; every later one is refined at the finest level, although
    // no frame lasts the 40 iterations a level would need to end.
    assert_eq!(levels_by_frame[0].1, 0, "{levels_by_frame:?}");
    assert!(
        levels_by_frame[1..].iter().all(|&(_, level)| level == 1),
        "stuck at the coarse level: {levels_by_frame:?}"
    );
}

#[test]
fn live_policy_follows_new_frames_without_restarting() {
    let _serial = serial();
    let mut capture = spawn_capture(synthetic(10.0), None, CaptureOptions::default());
    let mut w = worker(Policy::Live, params(64, 200), capture.frames.clone());
    // (frame seq, first snapshot of that frame, last snapshot of that frame)
    let mut frames: Vec<(u64, RgbImage, RgbImage)> = Vec::new();
    let end = Instant::now() + Duration::from_secs(60);
    while Instant::now() < end && frames.len() < 6 {
        if let Ok(Event::Snapshot(s)) = w.events.recv_timeout(Duration::from_millis(100)) {
            match frames.last_mut() {
                Some(f) if f.0 == s.frame_seq => f.2 = (*s.image).clone(),
                _ => frames.push((s.frame_seq, (*s.image).clone(), (*s.image).clone())),
            }
        }
    }
    w.shutdown();
    capture.stop();
    assert!(frames.len() >= 6, "frames painted: {:?}", frames.iter().map(|f| f.0).collect::<Vec<_>>());
    assert!(frames.windows(2).all(|p| p[1].0 > p[0].0));
    // A warm start keeps 70 % of the previous painting: each new frame's first snapshot is
    // nearer the painting before it than the new photo (a restart would start from the photo).
    // The synthetic source's frame `seq` is its picture at t = (seq - 1) / fps.
    let scene = SyntheticScene::new(3, 0.0, 96, 72);
    for pair in frames.windows(2).skip(2) {
        let (prev_last, (seq, first, _)) = (&pair[0].2, &pair[1]);
        let photo = image::imageops::resize(
            &scene.render((*seq - 1) as f32 / 10.0),
            64,
            48,
            image::imageops::FilterType::Triangle,
        );
        let (to_previous, to_photo) = (common::mean_abs_diff(first, prev_last), common::mean_abs_diff(first, &photo));
        assert!(
            to_previous < to_photo,
            "frame {seq} restarted: {to_previous:.2} from the previous painting, {to_photo:.2} from its photo"
        );
    }
}
