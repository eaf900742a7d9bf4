//! The GPU levers on a machine without a GPU: each must leave the CPU engine's results as
//! they were (CUDA graphs fall back to eager evaluation, channels_last changes only the
//! memory layout), the CUDA shim must be built with every entry point the engine resolves,
//! and the fair benchmark's engine side must run.

use crate::common;

use std::process::Command;
use std::sync::Arc;

use gallery_painter::engine::device::Variant;
use gallery_painter::engine::loss::gram;
use gallery_painter::engine::optim::OptimizerKind;
use gallery_painter::engine::vgg::to_channels_last;
use gallery_painter::engine::{self, EngineDevice, GpuOptions, Refiner, StyleImage, StyleParams};
use tch::{Device, Kind, Tensor};

/// A painter of the test photo (4:3 at `params.size`) in Swirling Night, started.
fn night_painter(gpu: GpuOptions, params: StyleParams) -> Refiner {
    let device = EngineDevice { gpu, ..common::cpu() };
    let (w, h) = (params.size, params.size * 3 / 4);
    let mut p = Refiner::new(common::vgg(), device, params).unwrap();
    p.set_content(common::photo(w, h));
    p.set_styles(vec![StyleImage {
        id: "night".into(),
        image: Arc::new(common::style("swirling_night.png")),
        weight: 1.0,
    }])
    .unwrap();
    p.restart(None).unwrap();
    p
}

fn painter_with(gpu: GpuOptions, optimizer: OptimizerKind) -> Refiner {
    night_painter(gpu, StyleParams { size: 64, iterations: 6, levels: 1, optimizer, ..StyleParams::default() })
}

fn run(p: &mut Refiner) -> (f64, Vec<f32>) {
    while !p.is_finished() {
        p.step().unwrap();
    }
    let x = p.iterate().unwrap().reshape([-1]);
    (p.current_losses().unwrap().total, Vec::<f32>::try_from(&x).unwrap())
}

#[test]
fn cuda_graphs_on_a_cpu_fall_back_to_eager_with_identical_results() {
    let lbfgs = OptimizerKind::Lbfgs { history: 5 };
    let mut graphs = painter_with(GpuOptions { cuda_graphs: true, ..GpuOptions::pytorch_eager() }, lbfgs);
    let status = graphs.evaluator_status();
    assert!(status.starts_with("off: CUDA graphs need a CUDA device"), "{status}");
    let mut eager = painter_with(GpuOptions::pytorch_eager(), lbfgs);
    assert!(eager.evaluator_status().contains("not enabled"), "{}", eager.evaluator_status());
    let (loss_g, x_g) = run(&mut graphs);
    let (loss_e, x_e) = run(&mut eager);
    assert_eq!(loss_g, loss_e);
    assert_eq!(x_g, x_e, "the fallback must be the eager path itself");
}

#[test]
fn the_gpu_defaults_leave_a_cpu_as_it_was() {
    let defaults = GpuOptions::default();
    assert!(
        defaults.cuda_graphs && defaults.channels_last && defaults.tf32_matmul && !defaults.cudnn_benchmark,
        "the GPU defaults measured on the H200"
    );
    let d = engine::device::select(engine::DevicePreference::Cpu, engine::Precision::Mixed, 1, defaults).unwrap();
    assert!(!d.is_cuda());
    assert_eq!(d.precision, engine::Precision::Fp32, "bf16 is a GPU lever");
    assert!(!d.gpu.channels_last, "the CPU keeps NCHW");
    let p = painter_with(d.gpu, OptimizerKind::Adam { lr: 4.0 });
    let layer = engine::vgg::layer_index(p.vgg().arch(), "relu2_1").unwrap();
    let input = Tensor::rand([1, 3, 24, 32], (Kind::Float, Device::Cpu)) * 255.0;
    assert_ne!(p.vgg().features(&p.vgg().preprocess(&input), &[layer])[0].stride()[1], 1);
}

#[test]
fn channels_last_changes_the_layout_not_the_painting() {
    let adam = OptimizerKind::Adam { lr: 4.0 };
    let mut nhwc = painter_with(GpuOptions { channels_last: true, ..GpuOptions::pytorch_eager() }, adam);
    let mut nchw = painter_with(GpuOptions::pytorch_eager(), adam);
    // The lever reaches the network: its activations are NHWC (channels stride 1), not NCHW.
    let layer = engine::vgg::layer_index(nhwc.vgg().arch(), "relu2_1").unwrap();
    let input = Tensor::rand([1, 3, 24, 32], (Kind::Float, Device::Cpu)) * 255.0;
    let strides = |p: &Refiner| p.vgg().features(&p.vgg().preprocess(&input), &[layer])[0].stride();
    assert_eq!(strides(&nhwc)[1], 1, "channels_last on: {:?}", strides(&nhwc));
    assert_ne!(strides(&nchw)[1], 1, "channels_last off: {:?}", strides(&nchw));
    let (loss_n, x_n) = run(&mut nhwc);
    let (loss_c, x_c) = run(&mut nchw);
    assert!((loss_n / loss_c - 1.0).abs() < 1e-4, "loss {loss_n} vs {loss_c}");
    // Adam moves every pixel by about lr whatever its gradient's size, so a pixel whose tiny
    // gradient differs in the last bits can move the other way: compare the mean.
    let mean_diff = x_n.iter().zip(&x_c).map(|(a, b)| (a - b).abs() as f64).sum::<f64>() / x_n.len() as f64;
    assert!(mean_diff < 0.01, "pixels differ by {mean_diff} on average (0..255)");
}

#[test]
fn gram_reads_an_nhwc_activation_without_changing_the_result() {
    tch::manual_seed(3);
    let f = Tensor::randn([1, 8, 5, 7], (Kind::Float, Device::Cpu));
    let f_nhwc = to_channels_last(&f);
    assert!(!f_nhwc.is_contiguous(), "channels_last strides differ from NCHW's");
    assert_eq!(f_nhwc.stride(), vec![8 * 5 * 7, 1, 7 * 8, 8]);
    let (a, b) = (gram(&f), gram(&f_nhwc));
    let diff = (&a - &b).abs().max().double_value(&[]);
    assert!(diff < 1e-4, "Gram differs by {diff}");
    // Against the definition G = F F^T computed by hand for one entry.
    let fr = f.reshape([8, 35]);
    let g01 = (fr.get(0) * fr.get(1)).sum(Kind::Float).double_value(&[]);
    assert!((b.double_value(&[0, 1]) - g01).abs() < 1e-4);
}

#[test]
fn the_cuda_shim_is_built_with_every_entry_point_and_stays_unloaded_on_a_cpu() {
    let lib = common::root().join("target").join(if cfg!(debug_assertions) { "debug" } else { "release" });
    let exe_dir = std::env::current_exe().unwrap().parent().unwrap().parent().unwrap().to_path_buf();
    let shim = [exe_dir.join("libgp_cuda.so"), lib.join("libgp_cuda.so")]
        .into_iter()
        .find(|p| p.is_file())
        .expect("libgp_cuda.so is built by build.rs (scripts/setup.sh installs the CUDA headers it needs)");
    let out = Command::new("nm").args(["-D", "--defined-only"]).arg(&shim).output().expect("run nm");
    let symbols = String::from_utf8_lossy(&out.stdout);
    for name in engine::cuda::SYMBOLS {
        assert!(symbols.lines().any(|l| l.ends_with(&format!(" {name}"))), "{name} missing from {}", shim.display());
    }
    // No CUDA device here: the shim is not loaded, and the reason says so.
    assert_eq!(engine::cuda::shim().err(), Some("no CUDA device"));
    assert_eq!(engine::cuda::memory_stats(Device::Cpu), None);
}

#[test]
fn benchmark_variants_parse_and_bad_levers_are_named() {
    let v: Variant = "nhwc+bf16+graphs".parse().unwrap();
    assert!(v.gpu.channels_last && v.gpu.cuda_graphs && v.gpu.cudnn_benchmark);
    assert_eq!(v.precision, engine::Precision::Mixed);
    // base is PyTorch's eager defaults (plus benchmark mode), whatever the installation's are.
    let base: Variant = "base".parse().unwrap();
    assert_eq!(base.gpu, GpuOptions::pytorch_eager());
    assert!(!base.gpu.cuda_graphs && !base.gpu.channels_last && base.gpu.cudnn_benchmark);
    let err = "nhwc+fast".parse::<Variant>().unwrap_err();
    assert!(err.contains("`fast`") && err.contains("no-benchmark, tf32, nhwc, bf16, graphs"), "{err}");
}

#[test]
fn bench_engine_runs_every_variant_with_both_optimizers_on_cpu() {
    let exe = env!("CARGO_BIN_EXE_gallery-bench");
    for optimizer in ["adam", "lbfgs"] {
        let out = Command::new(exe)
            .args(["engine-run", "--size", "48", "--iters", "3", "--threads", "1", "--device", "cpu"])
            .args(["--optimizer", optimizer, "--variants", "base,nhwc,graphs", "--weights"])
            .arg(common::weights())
            .output()
            .unwrap();
        let stdout = String::from_utf8_lossy(&out.stdout);
        assert!(out.status.success(), "{optimizer}: {}", String::from_utf8_lossy(&out.stderr));
        let rows: Vec<serde_json::Value> = stdout.lines().map(|l| serde_json::from_str(l).unwrap()).collect();
        assert_eq!(rows.len(), 3, "{stdout}");
        let base_loss = rows[0]["final_loss"].as_f64().unwrap();
        for row in &rows {
            assert_eq!(row["steps"], 3);
            let evaluations = row["evaluations"].as_u64().unwrap();
            assert!(evaluations >= 3, "{row}");
            if optimizer == "adam" {
                assert_eq!(evaluations, 3, "Adam evaluates once per step");
            }
            assert!(row["first_step_s"].as_f64().unwrap() > 0.0);
            // Every fast path ends within 1 % of the base loss (on a CPU they are the same path).
            let loss = row["final_loss"].as_f64().unwrap();
            assert!((loss / base_loss - 1.0).abs() < 0.01, "{row}");
        }
        assert!(rows[2]["note"].as_str().unwrap().contains("need a CUDA device"), "{}", rows[2]);
    }
}

/// The graph bookkeeping (static input, targets copied in when they change, outputs copied
/// out, one graph per size and temporal term) with the CPU stand-in for replay: through a
/// style switch, a second level and Live frames, the painting must stay bit-identical to
/// eager evaluation. Breaking any copy (tried: not copying the outputs, skipping the style
/// Grams) makes it differ.
#[test]
fn graph_bookkeeping_matches_eager_through_style_switches_levels_and_live_frames() {
    use gallery_painter::engine::LiveSettings;
    use gallery_painter::engine::graphed::Evaluator;
    let make = |emulated: bool| {
        let params = StyleParams {
            size: 128, // levels of 64 and 128 px: two sizes
            iterations: 3,
            levels: 2,
            optimizer: OptimizerKind::Lbfgs { history: 5 },
            ..StyleParams::default()
        };
        let mut p = night_painter(GpuOptions::default(), params);
        if emulated {
            p.set_evaluator(Evaluator::emulated());
        }
        p
    };
    let (mut graphed, mut eager) = (make(true), make(false));
    let pixels = |p: &Refiner| Vec::<f32>::try_from(&p.iterate().unwrap().reshape([-1])).unwrap();
    let mut both = |f: &mut dyn FnMut(&mut Refiner)| {
        f(&mut graphed);
        f(&mut eager);
        let (a, b) = (pixels(&graphed), pixels(&eager));
        let diff = a.iter().zip(&b).map(|(x, y)| (x - y).abs()).fold(0.0f32, f32::max);
        assert!(diff == 0.0, "the graphed painting differs from the eager one by up to {diff}");
        graphed.evaluator_status()
    };
    // Two levels (two sizes, two graphs).
    for _ in 0..6 {
        both(&mut |p| {
            p.step().unwrap();
        });
    }
    // Another artwork at the same size: the targets are copied into the captured graph.
    both(&mut |p| {
        p.set_styles(vec![StyleImage {
            id: "ink".into(),
            image: Arc::new(common::style("ink_waves.png")),
            weight: 1.0,
        }])
        .unwrap();
        p.restart(None).unwrap();
        (0..6).for_each(|_| {
            p.step().unwrap();
        });
    });
    // Live frames: the temporal term makes another graph; each frame's targets are copied in.
    let live = LiveSettings { iterations_per_frame: 2, ..LiveSettings::default() };
    let mut status = String::new();
    for t in 1..4 {
        let frame = gallery_painter::capture::synthetic::SyntheticScene::new(11, 0.0, 128, 96).render(t as f32 * 0.5);
        status = both(&mut |p| {
            p.follow(frame.clone(), &live).unwrap();
            (0..2).for_each(|_| {
                p.step().unwrap();
            });
        });
    }
    assert!(status.starts_with("emulated (3 captured, 3 made)"), "{status}");
    // A firmer temporal term at the same size: the weights are baked into a graph, so this
    // is a new graph (a key without them would replay the old weight and differ), and the
    // oldest (the 64 px level) is evicted to keep three.
    let firmer = LiveSettings { temporal_weight: live.temporal_weight * 10.0, ..live };
    let frame = gallery_painter::capture::synthetic::SyntheticScene::new(11, 0.0, 128, 96).render(2.5);
    let status = both(&mut |p| {
        p.follow(frame.clone(), &firmer).unwrap();
        (0..2).for_each(|_| {
            p.step().unwrap();
        });
    });
    assert!(status.starts_with("emulated (3 captured, 4 made)"), "{status}");
    // A new painting from the coarse level: the evicted graphs are captured again, and agree.
    let status = both(&mut |p| {
        p.restart(None).unwrap();
        (0..6).for_each(|_| {
            p.step().unwrap();
        });
    });
    assert!(status.starts_with("emulated (3 captured, 6 made)"), "{status}");
}

#[test]
fn graph_bookkeeping_matches_eager_when_the_face_map_moves() {
    use gallery_painter::engine::graphed::Evaluator;
    use gallery_painter::engine::{FaceBox, LiveSettings};
    let make = |emulated: bool| {
        let params = StyleParams { size: 64, iterations: 3, levels: 1, ..StyleParams::default() };
        let mut p = night_painter(GpuOptions::default(), params);
        if emulated {
            p.set_evaluator(Evaluator::emulated());
        }
        p
    };
    let (mut graphed, mut eager) = (make(true), make(false));
    let pixels = |p: &Refiner| Vec::<f32>::try_from(&p.iterate().unwrap().reshape([-1])).unwrap();
    let face = |x: f32| FaceBox { x, y: 0.2, w: 0.3, h: 0.4, score: 5.0 };
    let live = LiveSettings::default();
    let scene = gallery_painter::capture::synthetic::SyntheticScene::new(11, 0.0, 128, 96);
    // The same size and key each frame: the moved face map must be copied into the graph.
    for (k, x) in [0.2f32, 0.45, 0.6].into_iter().enumerate() {
        for p in [&mut graphed, &mut eager] {
            p.set_faces(vec![face(x)]);
            p.follow(scene.render(k as f32 * 0.5), &live).unwrap();
            (0..2).for_each(|_| {
                p.step().unwrap();
            });
        }
        let (a, b) = (pixels(&graphed), pixels(&eager));
        let diff = a.iter().zip(&b).map(|(x, y)| (x - y).abs()).fold(0.0f32, f32::max);
        assert!(diff == 0.0, "frame {k}: the graphed painting differs from the eager one by up to {diff}");
    }
    assert!(graphed.evaluator_status().starts_with("emulated"), "{}", graphed.evaluator_status());
}
