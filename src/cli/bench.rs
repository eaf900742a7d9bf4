//! Benchmarks (never timed tests): the engine against the PyTorch reference doing the same
//! math in the same run, and the live pipeline's latency and flicker.

use std::path::{Path, PathBuf};
use std::process::Command as Process;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use clap::Args;
use serde::{Deserialize, Serialize};

use super::EngineArgs;
use crate::engine::optim::OptimizerKind;
use crate::engine::{self, Painter, StyleImage, StyleParams, Vgg};

#[derive(clap::ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum ArchArg {
    Vgg16,
    Vgg19,
}

impl ArchArg {
    fn name(self) -> &'static str {
        match self {
            ArchArg::Vgg16 => "vgg16",
            ArchArg::Vgg19 => "vgg19",
        }
    }
}

#[derive(Args, Debug)]
pub struct BenchArgs {
    /// Sizes (longer edge, 4:3 images).
    #[arg(long, value_delimiter = ',', default_value = "128,256")]
    pub sizes: Vec<u32>,
    #[arg(long, value_enum, value_delimiter = ',', default_value = "vgg16,vgg19")]
    pub archs: Vec<ArchArg>,
    /// Timed iterations per run (after 3 warm-up iterations).
    #[arg(long, default_value_t = 20)]
    pub iters: u32,
    /// Python with full torch for the reference (default: .venv-bench/bin/python).
    #[arg(long)]
    pub python: Option<PathBuf>,
    /// Also time the engine's mixed-precision mode (CUDA only).
    #[arg(long)]
    pub mixed: bool,
    /// Alternate engine and reference runs this many times and report the medians
    /// (single runs on a shared machine vary by ~10%).
    #[arg(long, default_value_t = 3)]
    pub repeats: u32,
    #[command(flatten)]
    pub engine: EngineArgs,
}

#[derive(Args, Debug)]
pub struct BenchEngineArgs {
    #[arg(long)]
    pub size: u32,
    #[arg(long)]
    pub iters: u32,
    #[command(flatten)]
    pub engine: EngineArgs,
}

#[derive(Serialize, Deserialize, Debug)]
struct RunResult {
    #[serde(rename = "impl")]
    implementation: String,
    it_s: f64,
    peak_rss_mb: f64,
    #[serde(default)]
    gpu_peak_mb: f64,
}

fn peak_rss_mb() -> f64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find_map(|l| {
                    l.strip_prefix("VmHWM:").map(|v| v.trim().trim_end_matches("kB").trim().parse::<f64>().ok())
                })
                .flatten()
        })
        .map(|kb| kb / 1024.0)
        .unwrap_or(0.0)
}

fn random_image(w: u32, h: u32, seed: u64) -> image::RgbImage {
    let mut s = seed | 1;
    image::RgbImage::from_fn(w, h, |_, _| {
        let mut c = [0u8; 3];
        for v in &mut c {
            s ^= s << 13;
            s ^= s >> 7;
            s ^= s << 17;
            *v = (s >> 56) as u8;
        }
        image::Rgb(c)
    })
}

/// The engine's side: the same step as scripts/bench_reference.py (Adam, default layers).
pub fn bench_engine(args: BenchEngineArgs) -> anyhow::Result<()> {
    let device = engine::device::select(args.engine.device.into(), args.engine.precision.into(), args.engine.threads)?;
    let vgg = Vgg::load(&args.engine.weights, device.device, engine::Pooling::Max)?;
    let params = StyleParams {
        size: args.size,
        iterations: args.iters + 3,
        levels: 1,
        optimizer: OptimizerKind::Adam { lr: 4.0 },
        ..StyleParams::default()
    };
    let (w, h) = (args.size, args.size * 3 / 4);
    let mut painter = Painter::new(vgg, device, params)?;
    // Like the reference: read the loss back every 10 steps, not every step.
    painter.set_loss_readback_every(10);
    painter.set_content(random_image(w, h, 1));
    painter.set_styles(vec![StyleImage {
        id: "random".into(),
        image: Arc::new(random_image(w, h, 2)),
        weight: 1.0,
    }])?;
    painter.restart(None)?;
    for _ in 0..3 {
        painter.step()?;
    }
    let t = Instant::now();
    for _ in 0..args.iters {
        painter.step()?;
    }
    let dt = t.elapsed().as_secs_f64();
    let r = RunResult {
        implementation: format!("engine-{:?}", device.precision).to_lowercase(),
        it_s: args.iters as f64 / dt,
        peak_rss_mb: peak_rss_mb(),
        gpu_peak_mb: 0.0,
    };
    println!("{}", serde_json::to_string(&r)?);
    Ok(())
}

/// VGG19 with random weights: speed does not depend on the values, and the ImageNet VGG19
/// is not available offline. Both sides load this same file.
fn random_vgg19(path: &Path) -> anyhow::Result<()> {
    if path.is_file() {
        return Ok(());
    }
    std::fs::create_dir_all(path.parent().expect("has parent"))?;
    tch::manual_seed(19);
    // Shapes from the engine's own VGG table; He-initialised, so activations keep their scale.
    let mut tensors: Vec<(String, tch::Tensor)> = Vec::new();
    for (i, cout, cin) in engine::vgg::conv_shapes(engine::Arch::Vgg19) {
        let w = tch::Tensor::randn([cout, cin, 3, 3], (tch::Kind::Float, tch::Device::Cpu))
            * (2.0 / (9.0 * cin as f64)).sqrt();
        tensors.push((format!("features.{i}.weight"), w));
        tensors.push((format!("features.{i}.bias"), tch::Tensor::zeros([cout], (tch::Kind::Float, tch::Device::Cpu))));
    }
    let data: Vec<(String, Vec<u8>, Vec<usize>)> = tensors
        .iter()
        .map(|(n, t)| {
            let v: Vec<f32> = Vec::try_from(&t.reshape([-1])).expect("f32");
            (
                n.clone(),
                v.iter().flat_map(|x| x.to_le_bytes()).collect(),
                t.size().iter().map(|&d| d as usize).collect(),
            )
        })
        .collect();
    let views: Vec<(String, safetensors::tensor::TensorView)> = data
        .iter()
        .map(|(n, b, s)| {
            (n.clone(), safetensors::tensor::TensorView::new(safetensors::Dtype::F32, s.clone(), b).expect("view"))
        })
        .collect();
    let meta = std::collections::HashMap::from([
        ("arch".to_string(), "vgg19".to_string()),
        ("convention".to_string(), "caffe".to_string()),
        ("source".to_string(), "random weights, for benchmarking only".to_string()),
    ]);
    safetensors::serialize_to_file(views, Some(meta), path)?;
    Ok(())
}

/// The run with the median speed (its memory figure comes along).
fn median(mut runs: Vec<RunResult>) -> RunResult {
    runs.sort_by(|a, b| a.it_s.partial_cmp(&b.it_s).expect("finite speeds"));
    let mid = runs.len() / 2;
    runs.swap_remove(mid)
}

fn run_json(cmd: &mut Process) -> anyhow::Result<RunResult> {
    let out = cmd.output().with_context(|| format!("cannot start {cmd:?}"))?;
    if !out.status.success() {
        bail!("{cmd:?} failed:\n{}", String::from_utf8_lossy(&out.stderr));
    }
    let stdout = String::from_utf8_lossy(&out.stdout);
    let line = stdout.lines().rev().find(|l| l.starts_with('{')).context("no JSON result")?;
    Ok(serde_json::from_str(line)?)
}

pub fn bench(args: BenchArgs) -> anyhow::Result<()> {
    let root = crate::paths::project_root();
    let python = args.python.clone().unwrap_or_else(|| root.join(".venv-bench/bin/python"));
    if !python.exists() && args.python.is_none() {
        bail!(
            "{} not found: the PyTorch reference needs the full torch environment\n  fix: run scripts/bench.sh (it creates .venv-bench), or pass --python",
            python.display()
        );
    }
    let exe = std::env::current_exe()?;
    let threads = if args.engine.threads == 0 {
        std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1)
    } else {
        args.engine.threads
    };
    let device = match args.engine.device {
        super::DeviceArg::Cuda => "cuda",
        super::DeviceArg::Cpu => "cpu",
        super::DeviceArg::Auto => {
            if engine::device::select(engine::DevicePreference::Auto, engine::Precision::Fp32, threads)?.is_cuda() {
                "cuda"
            } else {
                "cpu"
            }
        }
    };
    println!(
        "benchmark: Gatys step (Adam; content relu4_2, style relu1_1..relu5_1, TV), {} timed iterations, {threads} threads, device {device}, median of {} alternating runs",
        args.iters, args.repeats
    );
    println!(
        "{:<7} {:>5} {:>14} {:>14} {:>8} {:>12} {:>12}",
        "model", "size", "engine it/s", "pytorch it/s", "ratio", "engine MB", "pytorch MB"
    );
    for &arch in &args.archs {
        let weights = match arch {
            ArchArg::Vgg16 => args.engine.weights.clone(),
            ArchArg::Vgg19 => {
                let p = root.join(".cache/bench/vgg19-random.safetensors");
                random_vgg19(&p)?;
                p
            }
        };
        for &size in &args.sizes {
            let mut precisions = vec!["fp32"];
            if args.mixed && device == "cuda" {
                precisions.push("mixed");
            }
            let mut references = Vec::new();
            let mut engines: Vec<Vec<RunResult>> = precisions.iter().map(|_| Vec::new()).collect();
            for _ in 0..args.repeats.max(1) {
                references.push(run_json(
                    Process::new(&python).arg(root.join("scripts/bench_reference.py")).arg(&weights).args([
                        arch.name(),
                        &size.to_string(),
                        &args.iters.to_string(),
                        &threads.to_string(),
                        device,
                        "fp32",
                    ]),
                )?);
                for (k, precision) in precisions.iter().enumerate() {
                    engines[k].push(run_json(
                        Process::new(&exe)
                            .args([
                                "bench-engine",
                                "--size",
                                &size.to_string(),
                                "--iters",
                                &args.iters.to_string(),
                                "--threads",
                                &threads.to_string(),
                                "--device",
                                device,
                                "--precision",
                                precision,
                                "--weights",
                            ])
                            .arg(&weights),
                    )?);
                }
            }
            let reference = median(references);
            for (precision, runs) in precisions.iter().zip(engines) {
                let engine = median(runs);
                let precision = *precision;
                println!(
                    "{:<7} {:>5} {:>14.2} {:>14.2} {:>7.2}x {:>12.0} {:>12.0}{}",
                    arch.name(),
                    size,
                    engine.it_s,
                    reference.it_s,
                    engine.it_s / reference.it_s,
                    engine.peak_rss_mb,
                    reference.peak_rss_mb,
                    if precision == "mixed" { "  (engine mixed precision vs PyTorch fp32)" } else { "" }
                );
            }
        }
    }
    Ok(())
}

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
    #[command(flatten)]
    pub engine: EngineArgs,
}

/// The engine config of a benchmark run: the defaults with the given weights.
fn bench_engine_config(weights: &std::path::Path) -> crate::config::EngineConfig {
    crate::config::EngineConfig { weights: weights.to_path_buf(), ..crate::config::EngineConfig::default() }
}

/// Capture -> first snapshot latency, snapshots/s, and flicker of live warm-start vs cold restart.
pub fn bench_live(args: BenchLiveArgs) -> anyhow::Result<()> {
    use crate::capture::{CaptureOptions, FrameSource, spawn_capture, synthetic::SyntheticScene};
    use crate::config::Policy;
    use crate::worker::{Command, Event, StyleSelection, WorkerConfig, spawn_worker};
    let device = engine::device::select(args.engine.device.into(), args.engine.precision.into(), args.engine.threads)?;
    let root = crate::paths::project_root();
    let style = root.join("assets/styles/swirling_night.png");
    println!(
        "live pipeline on {} (synthetic 640x480 source, Paint policy, L-BFGS, snapshot every step)",
        device.describe()
    );
    if args.mirror_only {
        return live_mirror_numbers(&args, device, &style);
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
    super::bench_journey::presence_cost();
    super::bench_journey::capture_to_first_painting(device, &args.engine.weights, &root, &args.sizes, args.frames);
    #[cfg(feature = "gui")]
    super::bench_journey::still_to_countdown(&root, 3)?;
    Ok(())
}

/// The Live policy with the installation's defaults (style, levels, optimiser, live settings).
fn live_mirror_numbers(args: &BenchLiveArgs, device: engine::EngineDevice, style: &Path) -> anyhow::Result<()> {
    let defaults = crate::config::EngineConfig::default();
    let live = match &args.live {
        Some(text) => ron::from_str::<engine::LiveSettings>(text).with_context(|| format!("--live {text}"))?,
        None => defaults.live,
    };
    live.validate().map_err(|e| anyhow::anyhow!("--live: {e}"))?;
    super::bench_mirror::live_mirror(super::bench_mirror::MirrorArgs {
        weights: &args.engine.weights,
        device,
        params: StyleParams { size: args.mirror_size, ..defaults.style },
        live,
        snapshot_every: defaults.snapshot_every,
        style,
    })
}
