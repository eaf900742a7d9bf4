//! The live pipeline's benchmark (never a timed test): capture-to-painting latency, snapshot
//! rate, and the Live mirror's flicker and lag. The engine-vs-PyTorch step is in engine.rs.

use std::path::Path;
use std::time::{Duration, Instant};

use anyhow::Context;
use clap::Args;

use gallery_painter::cli::EngineArgs;
use gallery_painter::engine::{self, StyleParams};

#[derive(Args, Debug)]
pub struct BenchLiveArgs {
    #[arg(long, value_delimiter = ',', default_value = "128,256")]
    pub sizes: Vec<u32>,
    /// Frames to measure for latency.
    #[arg(long, default_value_t = 3)]
    pub frames: u32,
    /// Painting size of the Live mirror measurements (the installation's other defaults).
    #[arg(long, default_value_t = 128)]
    pub mirror_size: u32,
    /// Live settings to measure instead of the defaults, in the config's RON form, e.g.
    /// `(temporal_weight: 20000, settle_frames: 4)` (fields left out keep their defaults).
    #[arg(long)]
    pub live: Option<String>,
    /// Only the Live mirror measurements.
    #[arg(long)]
    pub mirror_only: bool,
    /// Only the visitor's painting: frozen frame to first and to finished painting at each
    /// of `--sizes` (choosing the gallery resolution).
    #[arg(long, conflicts_with = "mirror_only")]
    pub journey_only: bool,
    /// Levels of the journey's painting (default: the installation's).
    #[arg(long)]
    pub levels: Option<u32>,
    /// Iterations per level of the journey's painting (default: the installation's).
    #[arg(long)]
    pub iterations: Option<u32>,
    #[command(flatten)]
    pub engine: EngineArgs,
}

/// The engine config of a benchmark run: the defaults with the given weights.
fn bench_engine_config(weights: &std::path::Path) -> gallery_painter::config::EngineConfig {
    gallery_painter::config::EngineConfig {
        weights: weights.to_path_buf(),
        ..gallery_painter::config::EngineConfig::default()
    }
}

/// Capture -> first snapshot latency, snapshots/s, and flicker of live warm-start vs cold restart.
pub fn bench_live(args: BenchLiveArgs) -> anyhow::Result<()> {
    use gallery_painter::capture::{CaptureOptions, FrameSource, spawn_capture, synthetic::SyntheticScene};
    use gallery_painter::config::Policy;
    use gallery_painter::painting::{Command, Event, StyleSelection, WorkerConfig};
    use gallery_painter::worker::spawn_worker;
    let device = args.engine.select()?;
    let root = gallery_painter::paths::project_root();
    let style = root.join("assets/styles/swirling_night.png");
    println!(
        "live pipeline on {} (synthetic 640x480 source, Paint policy, L-BFGS, snapshot every step)",
        device.describe()
    );
    let schedule = crate::journey::Schedule { levels: args.levels, iterations: args.iterations };
    if args.mirror_only {
        return live_mirror_numbers(&args, device, &style);
    }
    if args.journey_only {
        let weights = &args.engine.weights;
        crate::journey::capture_to_first_painting(device, weights, &root, &args.sizes, args.frames, schedule);
        return Ok(());
    }
    println!("{:>5} {:>22} {:>14}", "size", "capture->first (s)", "snapshots/s");
    for &size in &args.sizes {
        let params = StyleParams { size, iterations: 30, levels: 1, ..StyleParams::default() };
        let mut capture = spawn_capture(
            Box::new(|| Ok(Box::new(SyntheticScene::new(5, 15.0, 640, 480)) as Box<dyn FrameSource>)),
            None,
            CaptureOptions::default(),
        );
        let mut w = spawn_worker(
            WorkerConfig {
                policy: Policy::Paint,
                snapshot_every: 1,
                hold_finished: Duration::ZERO,
                default_params: params.clone(),
                initial: Some(StyleSelection { key: "bench".into(), styles: vec![(style.clone(), 1.0)], params }),
                restart_delay: Duration::from_millis(200),
                // The sizes asked for, on a GPU too.
                on_gpu: None,
                ..WorkerConfig::from_config(&root, &bench_engine_config(&args.engine.weights), device)
            },
            capture.frames.clone(),
        );
        let mut latencies = Vec::new();
        let mut snaps = 0u32;
        let t = Instant::now();
        while latencies.len() < args.frames as usize && t.elapsed() < Duration::from_secs(600) {
            if let Ok(Event::Snapshot(s)) = w.events.recv_timeout(Duration::from_secs(1)) {
                snaps += 1;
                if let Some(l) = s.latency {
                    latencies.push(l.as_secs_f64());
                }
            }
        }
        let rate = snaps as f64 / t.elapsed().as_secs_f64();
        latencies.sort_by(|a, b| a.partial_cmp(b).expect("finite"));
        let median = latencies.get(latencies.len() / 2).copied().unwrap_or(f64::NAN);
        println!("{size:>5} {median:>22.3} {rate:>14.2}");
        let _ = w.commands.send(Command::Shutdown);
        w.shutdown();
        capture.stop();
    }

    live_mirror_numbers(&args, device, &style)?;

    // The visitor journey (Paint policy).
    crate::journey::presence_cost(&root);
    crate::journey::capture_to_first_painting(device, &args.engine.weights, &root, &args.sizes, args.frames, schedule);
    #[cfg(feature = "gui")]
    crate::journey::still_to_countdown(&root, 3)?;
    Ok(())
}

/// The Live policy with the installation's defaults (style, levels, optimiser, live settings).
fn live_mirror_numbers(args: &BenchLiveArgs, device: engine::EngineDevice, style: &Path) -> anyhow::Result<()> {
    let defaults = gallery_painter::config::EngineConfig::default();
    let live = match &args.live {
        Some(text) => ron::from_str::<engine::LiveSettings>(text).with_context(|| format!("--live {text}"))?,
        None => defaults.live,
    };
    live.validate().map_err(|e| anyhow::anyhow!("--live: {e}"))?;
    crate::mirror::live_mirror(crate::mirror::MirrorArgs {
        weights: &args.engine.weights,
        device,
        params: StyleParams { size: args.mirror_size, ..defaults.style },
        live,
        snapshot_every: defaults.snapshot_every,
        style,
    })
}
