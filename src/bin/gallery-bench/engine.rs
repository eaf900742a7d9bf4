//! The Gatys step, engine against the PyTorch reference (scripts/bench_reference.py): the same
//! math on the same machine in the same run, with the same settings on both sides. Each
//! *variant* turns on one set of GPU levers; the engine and the reference each run every
//! variant in one process (CUDA start-up is paid once), alternating `repeats` times.

use std::path::{Path, PathBuf};
use std::process::Command as Process;
use std::sync::Arc;
use std::time::Instant;

use anyhow::{Context, bail};
use clap::Args;
use serde::{Deserialize, Serialize};
use tch::Kind;

use gallery_painter::cli::{EngineArgs, OptimizerArg};
use gallery_painter::engine::device::Variant;
use gallery_painter::engine::{self, EngineDevice, InitKind, Precision, Refiner, StyleImage, StyleParams, Vgg};

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
    #[arg(long, value_enum, value_delimiter = ',', default_value = "adam,lbfgs")]
    pub optimizers: Vec<OptimizerArg>,
    /// Lever sets to compare, e.g. `base,no-benchmark,tf32,nhwc,bf16,nhwc+bf16,graphs`.
    #[arg(long, value_delimiter = ',', default_value = "base")]
    pub variants: Vec<Variant>,
    /// Timed iterations per run (after the first step and 2 warm-up steps).
    #[arg(long, default_value_t = 20)]
    pub iters: u32,
    /// Python with full torch for the reference (default: .venv-bench/bin/python).
    #[arg(long)]
    pub python: Option<PathBuf>,
    /// Alternate engine and reference runs this many times and report the medians
    /// (single runs on a shared machine vary by ~10%).
    #[arg(long, default_value_t = 3)]
    pub repeats: u32,
    /// Write Chrome traces of 10 steady steps here (CUDA only): both sides' first variant and
    /// the engine's graphed ones. Summarise with scripts/profile_summary.py.
    #[arg(long)]
    pub profile: Option<PathBuf>,
    #[command(flatten)]
    pub engine: EngineArgs,
}

#[derive(Args, Debug)]
pub struct BenchEngineArgs {
    #[arg(long)]
    pub size: u32,
    #[arg(long)]
    pub iters: u32,
    #[arg(long, value_enum, default_value = "adam")]
    pub optimizer: OptimizerArg,
    #[arg(long, value_delimiter = ',', default_value = "base")]
    pub variants: Vec<Variant>,
    #[arg(long)]
    pub profile: Option<PathBuf>,
    #[command(flatten)]
    pub engine: EngineArgs,
}

/// One side's result for one variant (the JSON line both sides print).
#[derive(Serialize, Deserialize, Debug, Clone)]
pub struct RunResult {
    #[serde(rename = "impl")]
    pub implementation: String,
    pub variant: String,
    pub steps_per_s: f64,
    pub evals_per_s: f64,
    pub steps: u64,
    pub evaluations: u64,
    /// Targets plus the first step, from images in memory to a finished step.
    pub first_step_s: f64,
    pub final_loss: f64,
    /// Resident memory once the weights are loaded (before any step), and the peak so far.
    pub rss_baseline_mb: f64,
    pub peak_rss_mb: f64,
    /// Peak bytes the caching allocator handed out during this variant (CUDA; 0 on CPU).
    pub gpu_peak_mb: f64,
    #[serde(default)]
    pub note: String,
}

fn proc_status_mb(field: &str) -> f64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines().find_map(|l| {
                l.strip_prefix(field).and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<f64>().ok())
            })
        })
        .map(|kb| kb / 1024.0)
        .unwrap_or(0.0)
}

pub(super) fn random_image(w: u32, h: u32, seed: u64) -> image::RgbImage {
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

/// Waits for the device: reading a value back needs every queued kernel done.
fn sync(refiner: &Refiner) {
    if let Some(x) = refiner.iterate() {
        let _ = x.sum(Kind::Double).double_value(&[]);
    }
}

/// The engine's side: every variant in turn, the same step as the reference.
pub fn bench_engine(args: BenchEngineArgs) -> anyhow::Result<()> {
    let device = args.engine.select()?;
    let cuda = device.is_cuda();
    let shim = if cuda { engine::cuda::shim().ok() } else { None };
    let cuda_index = match device.device {
        tch::Device::Cuda(i) => i,
        _ => 0,
    };
    // The baseline holds the weights, as the reference's does: one network, reused by every variant.
    let mut vgg = Some(Vgg::load(&args.engine.weights, device.device, engine::Pooling::Max)?);
    let rss_baseline_mb = proc_status_mb("VmRSS:");
    // One step at another size first: the first variant's first step then shows what every
    // variant's does (targets, per-shape cuDNN tuning), not the process's one-time start-up.
    {
        let params = StyleParams { size: 32, iterations: 1, levels: 1, ..StyleParams::default() };
        let mut p = Refiner::new(vgg.take().expect("loaded"), device, params)?;
        p.set_content(random_image(32, 24, 3));
        p.set_styles(vec![StyleImage {
            id: "start-up".into(),
            image: Arc::new(random_image(32, 24, 4)),
            weight: 1.0,
        }])?;
        p.step()?;
        sync(&p);
        vgg = Some(p.into_vgg());
    }
    let (w, h) = (args.size, args.size * 3 / 4);
    let content = random_image(w, h, 1);
    let style = Arc::new(random_image(w, h, 2));
    for variant in &args.variants {
        if cuda {
            tch::Cuda::cudnn_set_benchmark(variant.gpu.cudnn_benchmark);
            if let Some(shim) = shim {
                shim.set_tf32(variant.gpu.tf32_matmul, variant.gpu.tf32_conv).map_err(anyhow::Error::msg)?;
                shim.reset_peak(cuda_index).map_err(anyhow::Error::msg)?;
            }
        }
        let variant_device = EngineDevice {
            device: device.device,
            precision: if cuda { variant.precision } else { Precision::Fp32 },
            gpu: variant.gpu,
        };
        let params = StyleParams {
            size: args.size,
            // The first step, 2 warm-up steps, the timed ones and (profiling) 10 more.
            iterations: args.iters + 3 + if args.profile.is_some() { 10 } else { 0 },
            levels: 1,
            init: InitKind::Content,
            optimizer: args.optimizer.kind(4.0),
            ..StyleParams::default()
        };
        let mut refiner = Refiner::new(vgg.take().expect("returned by the last run"), variant_device, params)?;
        // Like the reference: read the loss back every 10 steps, not every step.
        refiner.set_loss_readback_every(10);
        let t0 = Instant::now();
        refiner.set_content(content.clone());
        refiner.set_styles(vec![StyleImage { id: "random".into(), image: style.clone(), weight: 1.0 }])?;
        refiner.restart(None)?;
        refiner.step()?;
        sync(&refiner);
        let first_step_s = t0.elapsed().as_secs_f64();
        for _ in 0..2 {
            refiner.step()?;
        }
        sync(&refiner);
        let evaluations_before = refiner.progress().evaluations;
        let t = Instant::now();
        for _ in 0..args.iters {
            refiner.step()?;
        }
        sync(&refiner);
        let dt = t.elapsed().as_secs_f64();
        let evaluations = refiner.progress().evaluations - evaluations_before;
        // The loss after exactly iters + 3 steps, read back now (the same point on both sides).
        let final_loss = refiner.current_losses()?.total;
        let gpu_peak_mb = match shim {
            Some(s) => s.memory(cuda_index).map(|m| m.peak_allocated as f64 / 1048576.0).unwrap_or(0.0),
            None => 0.0,
        };
        // Profiled: the first variant (the baseline) and the graphed ones (to show the gaps go).
        let profiled = variant.name == args.variants[0].name || variant.gpu.cuda_graphs;
        if let (Some(dir), Some(shim), true) = (&args.profile, shim, profiled) {
            std::fs::create_dir_all(dir)?;
            let path = dir.join(format!("engine-{}-{}-{}.json", args.size, args.optimizer.name(), variant.name));
            shim.profiler_start().map_err(anyhow::Error::msg)?;
            for _ in 0..10 {
                refiner.step()?;
            }
            sync(&refiner);
            shim.profiler_stop(&path).map_err(anyhow::Error::msg)?;
        }
        let r = RunResult {
            implementation: "engine".into(),
            variant: variant.name.clone(),
            steps_per_s: args.iters as f64 / dt,
            evals_per_s: evaluations as f64 / dt,
            steps: args.iters as u64,
            evaluations,
            first_step_s,
            final_loss,
            rss_baseline_mb,
            peak_rss_mb: proc_status_mb("VmHWM:"),
            gpu_peak_mb,
            note: format!("graphs {}", refiner.evaluator_status()),
        };
        println!("{}", serde_json::to_string(&r)?);
        vgg = Some(refiner.into_vgg());
    }
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

/// Every JSON line a side printed, one per variant.
fn run_json(cmd: &mut Process) -> anyhow::Result<Vec<RunResult>> {
    let out = cmd.output().with_context(|| format!("cannot start {cmd:?}"))?;
    if !out.status.success() {
        bail!("{cmd:?} failed:\n{}", String::from_utf8_lossy(&out.stderr));
    }
    let stdout = String::from_utf8_lossy(&out.stdout);
    let results: Vec<RunResult> =
        stdout.lines().filter(|l| l.starts_with('{')).map(serde_json::from_str).collect::<Result<_, _>>()?;
    if results.is_empty() {
        bail!("{cmd:?} printed no JSON result");
    }
    Ok(results)
}

/// The run with the median evaluation rate, per variant (its other figures come along).
fn medians(runs: Vec<Vec<RunResult>>, variant: &str) -> Option<RunResult> {
    let mut of_variant: Vec<RunResult> = runs.into_iter().flatten().filter(|r| r.variant == variant).collect();
    of_variant.sort_by(|a, b| a.evals_per_s.total_cmp(&b.evals_per_s));
    let mid = of_variant.len() / 2;
    (!of_variant.is_empty()).then(|| of_variant.swap_remove(mid))
}

pub fn bench(args: BenchArgs) -> anyhow::Result<()> {
    let root = gallery_painter::paths::project_root();
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
        gallery_painter::cli::DeviceArg::Cuda => "cuda",
        gallery_painter::cli::DeviceArg::Cpu => "cpu",
        gallery_painter::cli::DeviceArg::Auto => {
            if engine::device::select(
                engine::DevicePreference::Auto,
                engine::Precision::Fp32,
                threads,
                Default::default(),
            )?
            .is_cuda()
            {
                "cuda"
            } else {
                "cpu"
            }
        }
    };
    let variants: Vec<String> = args.variants.iter().map(|v| v.name.clone()).collect();
    let variant_list = variants.join(",");
    println!(
        "benchmark: Gatys step (content relu4_2, style relu1_1..relu5_1, TV), {} timed iterations after the first step and 2 warm-up steps, {threads} threads, device {device}, median of {} alternating runs",
        args.iters, args.repeats
    );
    println!(
        "  both sides: same weights file, same images per side, same settings per variant (graphs: engine only, the reference stays eager)"
    );
    println!(
        "  ratio = engine evaluations/s / PyTorch evaluations/s; loss = final loss against the same side's base variant"
    );
    println!(
        "{:<6} {:>5} {:<6} {:<18} {:>9} {:>9} {:>9} {:>9} {:>7} {:>13} {:>15} {:>13} {:>8}",
        "model",
        "size",
        "optim",
        "variant",
        "eng st/s",
        "eng ev/s",
        "pt st/s",
        "pt ev/s",
        "ratio",
        "1st step e/p",
        "GPU peak MB e/p",
        "RSS+ MB e/p",
        "loss e/p"
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
            let mut adam_eval_rate: Vec<(String, f64)> = Vec::new();
            for &optimizer in &args.optimizers {
                let (mut engine_runs, mut reference_runs) = (Vec::new(), Vec::new());
                for repeat in 0..args.repeats.max(1) {
                    let profile = args.profile.as_ref().filter(|_| repeat == 0);
                    let mut reference = Process::new(&python);
                    reference.arg(root.join("scripts/bench_reference.py")).arg(&weights).args([
                        arch.name(),
                        &size.to_string(),
                        &args.iters.to_string(),
                        &threads.to_string(),
                        device,
                        "--optimizer",
                        optimizer.name(),
                        "--variants",
                        &variant_list,
                    ]);
                    let mut eng = Process::new(&exe);
                    eng.args([
                        "engine-run",
                        "--size",
                        &size.to_string(),
                        "--iters",
                        &args.iters.to_string(),
                        "--threads",
                        &threads.to_string(),
                        "--device",
                        device,
                        "--optimizer",
                        optimizer.name(),
                        "--variants",
                        &variant_list,
                        "--weights",
                    ])
                    .arg(&weights);
                    if let Some(dir) = profile {
                        reference.arg("--profile").arg(dir);
                        eng.arg("--profile").arg(dir);
                    }
                    reference_runs.push(run_json(&mut reference)?);
                    engine_runs.push(run_json(&mut eng)?);
                }
                let base_e = medians(engine_runs.clone(), &variants[0]);
                let base_p = medians(reference_runs.clone(), &variants[0]);
                for v in &variants {
                    let (Some(e), Some(p)) = (medians(engine_runs.clone(), v), medians(reference_runs.clone(), v))
                    else {
                        continue;
                    };
                    let rel = |r: &RunResult, base: &Option<RunResult>| {
                        base.as_ref().map(|b| (r.final_loss / b.final_loss - 1.0) * 100.0).unwrap_or(f64::NAN)
                    };
                    println!(
                        "{:<6} {:>5} {:<6} {:<18} {:>9.2} {:>9.2} {:>9.2} {:>9.2} {:>6.2}x {:>6.2}/{:<6.2} {:>7.0}/{:<7.0} {:>6.0}/{:<6.0} {:>+.2}%/{:<+.2}%{}",
                        arch.name(),
                        size,
                        optimizer.name(),
                        v,
                        e.steps_per_s,
                        e.evals_per_s,
                        p.steps_per_s,
                        p.evals_per_s,
                        e.evals_per_s / p.evals_per_s,
                        e.first_step_s,
                        p.first_step_s,
                        e.gpu_peak_mb,
                        p.gpu_peak_mb,
                        e.peak_rss_mb - e.rss_baseline_mb,
                        p.peak_rss_mb - p.rss_baseline_mb,
                        rel(&e, &base_e),
                        rel(&p, &base_p),
                        if e.note.contains("off:") && v.contains("graphs") {
                            format!("  ({})", e.note)
                        } else {
                            String::new()
                        }
                    );
                    match optimizer {
                        OptimizerArg::Adam => adam_eval_rate.push((v.clone(), e.evals_per_s)),
                        OptimizerArg::Lbfgs => {
                            if let Some((_, adam)) = adam_eval_rate.iter().find(|(name, _)| name == v) {
                                println!(
                                    "       engine L-BFGS steps/s vs Adam evaluations/s ({v}): {:.2} (target >= 1/1.3 = 0.77)",
                                    e.steps_per_s / adam
                                );
                            }
                        }
                    }
                }
            }
        }
    }
    Ok(())
}
