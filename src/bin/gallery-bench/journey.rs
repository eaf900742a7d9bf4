//! The visitor journey's numbers for `gallery-bench live`: presence detection cost per frame,
//! capture to first visible painting for a frozen frame, and (with the display compiled
//! in) from "still" seen by the camera to the countdown's start, in a headless app.

use std::time::{Duration, Instant};

use image::RgbImage;

use gallery_painter::capture::Frame;
use gallery_painter::capture::presence::{PresenceConfig, PresenceDetector};
use gallery_painter::capture::synthetic::{SyntheticScene, SyntheticVisitor};
use gallery_painter::config::{EngineConfig, Policy};
use gallery_painter::engine::{EngineDevice, StyleParams};
use gallery_painter::painting::{Command, Event, Intake, StyleSelection, WorkerConfig, WorkerState};
use gallery_painter::worker::spawn_worker;

const SCRIPT: SyntheticVisitor = SyntheticVisitor::Scripted { away_s: 2.0, still_s: 3.0, stay_s: 5.0 };

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(|a, b| a.total_cmp(b));
    v.get(v.len() / 2).copied().unwrap_or(f64::NAN)
}

/// Presence detection on 640x480 frames of the scripted visitor, one core.
pub fn presence_cost(root: &std::path::Path) {
    let scene = SyntheticScene::new(7, 0.0, 640, 480).with_visitor(SCRIPT);
    let frames: Vec<RgbImage> = (0..150).map(|i| scene.render(i as f32 / 15.0)).collect();
    let mut detector = PresenceDetector::new(PresenceConfig::default());
    let mut ms = Vec::new();
    for (i, f) in frames.iter().enumerate() {
        let t = Instant::now();
        detector.update(f, i as f64 / 15.0);
        ms.push(t.elapsed().as_secs_f64() * 1000.0);
    }
    let max = ms.iter().cloned().fold(0.0, f64::max);
    println!("presence detection at 640x480: median {:.2} ms/frame, max {:.2} ms (target < 2 ms)", median(ms), max);
    face_cost(root);
}

/// The face detector on the demo visitor wearing the portrait fixture, per detection and
/// per frame at the capture thread's rate (one detection per `interval_s`).
fn face_cost(root: &std::path::Path) {
    use gallery_painter::capture::faces::{FaceDetectionConfig, FaceDetector, FaceModel};
    let cfg = FaceDetectionConfig::default();
    let (model, face) = match (
        FaceModel::for_config(root, &cfg),
        gallery_painter::engine::imageio::load_rgb(&root.join(gallery_painter::config::DEMO_FACE)),
    ) {
        (Ok(m), Ok(f)) => (m, f),
        (Err(e), _) => return println!("face detection: not measured ({e})"),
        (_, Err(e)) => return println!("face detection: not measured ({e})"),
    };
    let scene = SyntheticScene::new(7, 0.0, 640, 480).with_visitor(SCRIPT).with_face(Some(std::sync::Arc::new(face)));
    let frames: Vec<RgbImage> = (0..60).map(|i| scene.render(i as f32 / 5.0)).collect();
    let interval = cfg.interval_s as f64;
    let mut detector = FaceDetector::new(&model, cfg);
    let (mut ms, mut found) = (Vec::new(), 0);
    for f in &frames {
        let t = Instant::now();
        found += detector.detect(f).len();
        ms.push(t.elapsed().as_secs_f64() * 1000.0);
    }
    let med = median(ms.clone());
    let max = ms.iter().cloned().fold(0.0, f64::max);
    println!(
        "face detection at 640x480 (320 px analysed): median {med:.1} ms/detection, max {max:.1} ms; one every {interval:.2} s \
         = {:.2} ms per frame at 15 fps ({found} faces in {} frames of the demo visitor)",
        med / (interval * 15.0).max(1.0),
        frames.len()
    );
}

/// The painting's levels and iterations per level; `None` keeps the installation's default.
#[derive(Clone, Copy, Debug, Default)]
pub struct Schedule {
    pub levels: Option<u32>,
    pub iterations: Option<u32>,
}

/// Frozen frame handed to the worker -> first snapshot -> finished painting, with the
/// installation's default schedule (or `schedule`) at each size.
pub fn capture_to_first_painting(
    device: EngineDevice,
    weights: &std::path::Path,
    root: &std::path::Path,
    sizes: &[u32],
    frames: u32,
    schedule: Schedule,
) {
    let style = root.join("assets/styles/swirling_night.png");
    let scene = SyntheticScene::new(7, 0.0, 640, 480).with_visitor(SCRIPT);
    let defaults = EngineConfig::default().style;
    let (levels, iterations) =
        (schedule.levels.unwrap_or(defaults.levels), schedule.iterations.unwrap_or(defaults.iterations));
    println!(
        "journey: frozen frame -> first visible painting -> finished painting ({levels} levels x {iterations} iterations)"
    );
    for &size in sizes {
        let params = StyleParams { size, levels, iterations, ..defaults.clone() };
        let (_keep_open, no_frames) = crossbeam_channel::bounded::<Frame>(1);
        let mut w = spawn_worker(
            WorkerConfig {
                policy: Policy::Paint,
                hold_finished: Duration::from_secs(1000),
                default_params: params.clone(),
                initial: Some(StyleSelection { key: "bench".into(), styles: vec![(style.clone(), 1.0)], params }),
                // The sizes and schedule asked for, on a GPU too.
                on_gpu: None,
                intake: Intake::OnCommand,
                ..WorkerConfig::from_config(
                    root,
                    &EngineConfig { weights: weights.to_path_buf(), ..EngineConfig::default() },
                    device,
                )
            },
            no_frames,
        );
        // Ready: weights loaded, style set, waiting for a capture.
        let ready_by = Instant::now() + Duration::from_secs(120);
        while w.status().state != WorkerState::WaitingForFrame && Instant::now() < ready_by {
            std::thread::sleep(Duration::from_millis(20));
        }
        let (mut latencies, mut finished) = (Vec::new(), Vec::new());
        for k in 0..frames.max(1) as u64 {
            let image = std::sync::Arc::new(scene.render(5.0 + k as f32));
            let captured_at = Instant::now();
            let _ = w.commands.send(Command::PaintFrame(Frame { image, seq: k + 1, captured_at, faces: Vec::new() }));
            let end = Instant::now() + Duration::from_secs(120);
            while Instant::now() < end {
                let Ok(Event::Snapshot(s)) = w.events.recv_timeout(Duration::from_millis(200)) else { continue };
                if s.frame_seq != k + 1 {
                    continue;
                }
                if let (Some(l), true) = (s.latency, latencies.len() == k as usize) {
                    latencies.push(l.as_secs_f64());
                }
                if s.finished {
                    finished.push(captured_at.elapsed().as_secs_f64());
                    break;
                }
            }
            // The visitor leaves; the next capture starts a new painting.
            let _ = w.commands.send(Command::Forget);
        }
        println!(
            "  {size:>5} px: first {:.3} s, finished {:.2} s (medians over {} / {} captures)",
            median(latencies.clone()),
            median(finished.clone()),
            latencies.len(),
            finished.len()
        );
        w.shutdown();
    }
}

/// From the camera frame in which the visitor held still to the countdown's start, in a
/// headless app updating at 60 Hz (the display's rate on real hardware) with the real
/// capture thread and presence detector on the scripted visitor.
#[cfg(feature = "gui")]
pub fn still_to_countdown(root: &std::path::Path, visitors: usize) -> anyhow::Result<()> {
    use bevy::prelude::*;
    use bevy::state::app::StatesPlugin;

    use gallery_painter::app::journey::{Journey, JourneyTimings};
    use gallery_painter::app::{self, Engagement, JourneySettings, KioskSettings, Pipeline, Playlist};
    use gallery_painter::capture::{CaptureOptions, FrameSource, spawn_capture};
    use gallery_painter::config::JourneyConfig;

    let mut capture = spawn_capture(
        Box::new(|| Ok(Box::new(SyntheticScene::new(7, 15.0, 640, 480).with_visitor(SCRIPT)) as Box<dyn FrameSource>)),
        None,
        CaptureOptions { presence: Some(PresenceConfig::default()), ..CaptureOptions::default() },
    );
    let scene_path = root.join("scenes/default.ron");
    let scene = gallery_painter::scene::Scene::load(&scene_path, root, &StyleParams::default())?;
    let (cmd_tx, _cmd_rx) = crossbeam_channel::unbounded();
    let (_ev_tx, ev_rx) = crossbeam_channel::unbounded();
    let mut app = App::new();
    app.add_plugins((MinimalPlugins, StatesPlugin, bevy::input::InputPlugin))
        .add_message::<bevy::window::WindowCloseRequested>()
        .insert_resource(
            Pipeline::from_channels(cmd_tx, ev_rx).with_capture(capture.status.clone(), capture.presence.clone()),
        )
        .insert_resource(Playlist::new(scene, scene_path, root.to_path_buf(), StyleParams::default(), 90.0))
        .insert_resource(KioskSettings { exit_chord: vec![], hud_key: KeyCode::F12, ignore_close_requests: true })
        .insert_resource(Engagement { last_input: 0.0, attract_after_s: 30.0, show_hint: false });
    app::logic_plugins(&mut app);
    // Short reveal and countdown: the bench only needs the moment the countdown starts.
    app::journey::begin(
        &mut app,
        JourneySettings::new(
            JourneyConfig { countdown_s: 0.5, reveal_s: 0.5, painting_timeout_s: 0.5, ..JourneyConfig::default() },
            true,
            false,
        ),
    );
    let mut seen = Vec::new();
    let mut last: Option<Duration> = None;
    let end = Instant::now() + Duration::from_secs(15 * visitors as u64 + 10);
    while seen.len() < visitors && Instant::now() < end {
        let frame_start = Instant::now();
        app.update();
        let t = app.world().resource::<JourneyTimings>().still_to_countdown;
        if let Some(latency) = t
            && t != last
            && *app.world().resource::<State<Journey>>().get() == Journey::Countdown
        {
            seen.push(latency.as_secs_f64() * 1000.0);
            last = t;
        }
        std::thread::sleep(Duration::from_secs_f64(1.0 / 60.0).saturating_sub(frame_start.elapsed()));
    }
    capture.stop();
    println!(
        "journey: camera sees \"still\" -> countdown starts: median {:.0} ms over {} visitors (headless app at 60 Hz; target < 300 ms)",
        median(seen.clone()),
        seen.len()
    );
    Ok(())
}
