//! `gallery-bench farm --live S`: the Live mirror on the farm against this machine painting it alone.
//! Each kiosk mirrors a synthetic camera (a visitor walking in and out) for S seconds. The
//! bench counts the camera frames that reached the screen painted, the time from the camera
//! to the screen, the longest time the mirror stood still (a takeover shows there), and what
//! went over the link.

use std::collections::BTreeSet;
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use super::{BenchFarmArgs, Farm, VISITOR, percentile, seconds};
use gallery_painter::capture::CaptureHandle;
use gallery_painter::capture::Frame;
use gallery_painter::capture::synthetic::{self, SyntheticScene};
use gallery_painter::config::{EngineConfig, Policy, RemoteConfig};
use gallery_painter::engine::EngineDevice;
use gallery_painter::painting::{Event, Intake, StyleSelection, WorkerConfig, WorkerHandle};

/// The synthetic camera's frame rate (a webcam's).
const CAMERA_FPS: f64 = 15.0;

/// What one kiosk's mirror did over the run.
#[derive(Default)]
struct Mirror {
    /// Camera frames shown painted (each counted once).
    frames: BTreeSet<u64>,
    /// Camera to screen, for each frame's first painting.
    latencies: Vec<f64>,
    /// The longest time between two snapshots (from the first one on: starting up is not
    /// a mirror standing still).
    longest_still: Duration,
}

/// One kiosk's camera: the synthetic visitor walking in and out, at a webcam's rate.
fn camera(seed: u64) -> (CaptureHandle, crossbeam_channel::Receiver<Frame>) {
    let camera = synthetic::camera(move || SyntheticScene::new(seed, CAMERA_FPS, 320, 240).with_visitor(VISITOR));
    let frames = camera.frames.clone();
    (camera, frames)
}

pub(super) fn run(
    args: &BenchFarmArgs,
    seconds_each: f64,
    root: &Path,
    engine: &EngineConfig,
    device: EngineDevice,
    selection: StyleSelection,
) -> anyhow::Result<()> {
    anyhow::ensure!(seconds_each >= 5.0, "--live: at least 5 seconds");
    let engine = EngineConfig { policy: Policy::Live, ..engine.clone() };
    let live_config = |remote: Option<RemoteConfig>| WorkerConfig {
        intake: Intake::Stream,
        default_params: selection.params.clone(),
        initial: Some(selection.clone()),
        remote,
        ..WorkerConfig::from_config(root, &engine, device)
    };
    // On a GPU the mirror is painted at the config's engine.on_gpu.live_size instead.
    let size = match (engine.on_gpu, device.is_cuda()) {
        (Some(gpu), true) => gpu.live_size,
        _ => args.size,
    };
    println!(
        "gallery-bench farm --live: {} kiosks for {seconds_each:.0} s each, {} painters, {} px{}, {} iterations per frame, camera {CAMERA_FPS} fps, kiosks send at most {} frames/s, on {}",
        args.kiosks,
        args.painters,
        size,
        if size == args.size { "" } else { " (the config's engine.on_gpu.live_size)" },
        engine.live.iterations_per_frame,
        args.live_frames_per_second,
        device.describe()
    );

    // This machine painting the mirror alone.
    let alone = {
        let (_camera, frames) = camera(7);
        let local = gallery_painter::workers::start(live_config(None), frames);
        watch(&local, seconds_each)
    };

    let farm = Farm::start(args, root, size, "bench-mirror-")?;
    let mut cameras = Vec::new();
    let kiosks: Vec<WorkerHandle> = (0..args.kiosks)
        .map(|k| {
            let (camera, frames) = camera(7 + k as u64);
            cameras.push(camera);
            gallery_painter::workers::start(
                live_config(Some(RemoteConfig {
                    url: farm.servers.url(),
                    kiosk: format!("bench-mirror-{k}"),
                    // Measure the farm, not the fallback.
                    fallback_after_s: 600.0,
                    live_frames_per_second: args.live_frames_per_second,
                    ..Default::default()
                })),
                frames,
            )
        })
        .collect();
    farm.wait_announced(&kiosks, args.painters)?;
    let stop_killing = AtomicBool::new(false);
    let killed = std::sync::Mutex::new(0usize);
    let server_kills = std::sync::Mutex::new(Vec::new());
    let mirrors: Vec<Mirror> = std::thread::scope(|scope| {
        if let Some(every) = args.kill_painter_every {
            let (farm, stop, killed) = (&farm, &stop_killing, &killed);
            scope.spawn(move || farm.kill_every(every, stop, killed));
        }
        if let Some(every) = args.kill_server_every {
            let (farm, stop, kills) = (&farm, &stop_killing, &server_kills);
            scope.spawn(move || farm.servers.kill_every(every, stop, kills));
        }
        let handles: Vec<_> = kiosks.iter().map(|k| scope.spawn(move || watch(k, seconds_each))).collect();
        let mirrors = handles.into_iter().map(|h| h.join().expect("kiosk thread")).collect();
        stop_killing.store(true, Ordering::Relaxed);
        mirrors
    });
    report(args, &kiosks, &mirrors, &alone, seconds_each, *killed.lock().expect("killed"));
    drop(kiosks);
    drop(cameras);
    farm.after_run(args, &server_kills)
}

/// Watches one kiosk's mirror for `seconds`.
fn watch(kiosk: &WorkerHandle, seconds: f64) -> Mirror {
    let end = Instant::now() + Duration::from_secs_f64(seconds);
    let mut m = Mirror::default();
    let mut last: Option<Instant> = None;
    while Instant::now() < end {
        let Ok(Event::Snapshot(s)) = kiosk.events.recv_timeout(Duration::from_millis(100)) else { continue };
        let now = Instant::now();
        if let Some(last) = last {
            m.longest_still = m.longest_still.max(now - last);
        }
        last = Some(now);
        m.frames.insert(s.frame_seq);
        if let Some(l) = s.latency {
            m.latencies.push(l.as_secs_f64());
        }
    }
    if let Some(last) = last {
        m.longest_still = m.longest_still.max(end.saturating_duration_since(last));
    }
    m
}

fn report(args: &BenchFarmArgs, kiosks: &[WorkerHandle], mirrors: &[Mirror], alone: &Mirror, secs: f64, killed: usize) {
    let per_second = |m: &Mirror| m.frames.len() as f64 / secs;
    let farm_rate = mirrors.iter().map(per_second).sum::<f64>() / mirrors.len() as f64;
    let farm_latency: Vec<f64> = mirrors.iter().flat_map(|m| m.latencies.iter().copied()).collect();
    let longest = mirrors.iter().map(|m| m.longest_still).max().unwrap_or_default();
    let (sent, bytes, taken_over) = kiosks
        .iter()
        .filter_map(|k| k.status().farm)
        .fold((0, 0, 0), |(s, b, t), f| (s + f.live_frames_sent, b + f.snapshot_bytes, t + f.redelivered));
    let n = kiosks.len() as f64;
    println!("| | farm ({} painters, {} kiosks) | this machine alone |", args.painters, args.kiosks);
    println!("|---|---|---|");
    println!("| camera frames painted per second per kiosk | {farm_rate:.2} | {:.2} |", per_second(alone));
    println!(
        "| camera to screen p50 / p95 | {} / {} | {} / {} |",
        seconds(percentile(farm_latency.clone(), 0.5)),
        seconds(percentile(farm_latency, 0.95)),
        seconds(percentile(alone.latencies.clone(), 0.5)),
        seconds(percentile(alone.latencies.clone(), 0.95))
    );
    println!("| longest still mirror | {:.2} s | {:.2} s |", longest.as_secs_f64(), alone.longest_still.as_secs_f64());
    println!("| frames sent per second per kiosk | {:.2} | - |", sent as f64 / secs / n);
    println!("| snapshot bytes per second per kiosk | {:.0} | - |", bytes as f64 / secs / n);
    println!("| painters killed / mirrors taken over | {killed} / {taken_over} | - |");
    println!("farm_live_frames: {}", mirrors.iter().map(|m| m.frames.len()).sum::<usize>());
    println!("farm_live_longest_still_s: {:.2}", longest.as_secs_f64());
}
