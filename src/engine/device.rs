//! Where the engine runs: CUDA when libtorch's CUDA backend is present and a GPU answers,
//! otherwise the CPU with a bounded number of threads (the display needs a core too).

use serde::{Deserialize, Serialize};
use std::str::FromStr;
use tch::Device;

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum DevicePreference {
    /// CUDA if available, else CPU.
    #[default]
    Auto,
    Cpu,
    Cuda,
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Precision {
    #[default]
    Fp32,
    /// Mixed precision: the convolutions run in bf16 (weights cast once, activations cast at
    /// the first layer); the image, its gradient, the Gram matrices and every loss stay fp32.
    /// CUDA only; ignored on CPU. Not torch autocast, which would pick fp16 and overflow on
    /// the 0..255 Caffe activations.
    Mixed,
}

/// GPU settings, each a lever measured on its own by `bench` (none matters on CPU).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct GpuOptions {
    /// cuDNN tries its convolution algorithms once per shape and keeps the fastest.
    pub cudnn_benchmark: bool,
    /// TF32 tensor cores for the Gram matmuls (cuDNN convolutions use TF32 by default, as
    /// in PyTorch; `tf32_conv: false` turns that off too).
    pub tf32_matmul: bool,
    pub tf32_conv: bool,
    /// Replay the objective (forward, losses, backward) as one CUDA graph per size instead
    /// of launching its ~200 kernels one by one. Falls back to eager if capture fails.
    pub cuda_graphs: bool,
    /// NHWC (channels_last) activations and weights for the convolutions.
    pub channels_last: bool,
}

impl GpuOptions {
    /// PyTorch's eager defaults plus cuDNN benchmark mode: the benchmark's `base`, against
    /// which each lever is measured.
    pub fn pytorch_eager() -> GpuOptions {
        GpuOptions {
            cudnn_benchmark: true,
            tf32_matmul: false,
            tf32_conv: true,
            cuda_graphs: false,
            channels_last: false,
        }
    }
}

/// The installation's GPU defaults, each lever decided by its own measured effect on an H200
/// (docs/engine.md, three runs): CUDA graphs on (x1.29 at 512 px, x3.0 at 256 px),
/// channels_last on (x1.21 more with graphs) and TF32 matmuls on (x1.12-1.13 more with
/// graphs in two runs: 362 evaluations a second at 512 px), the loss within 1 % of eager NCHW
/// fp32; cuDNN benchmark mode off (the same speed with graphs, but a 1 s search and 33 GB of
/// trial workspace at each new size); bf16 (`precision: mixed`) off: it moved the loss by
/// 9-12 %, and L-BFGS's line search took 12 evaluations a step on its noisier objective.
impl Default for GpuOptions {
    fn default() -> Self {
        GpuOptions {
            cudnn_benchmark: false,
            tf32_matmul: true,
            tf32_conv: true,
            cuda_graphs: true,
            channels_last: true,
        }
    }
}

#[derive(Clone, Copy, Debug)]
pub struct EngineDevice {
    pub device: Device,
    pub precision: Precision,
    pub gpu: GpuOptions,
}

impl EngineDevice {
    pub fn describe(&self) -> String {
        match self.device {
            Device::Cuda(i) => {
                let g = self.gpu;
                format!(
                    "CUDA:{i} ({:?}, cudnn benchmark {}, tf32 matmul {} conv {}, graphs {}, channels_last {})",
                    self.precision, g.cudnn_benchmark, g.tf32_matmul, g.tf32_conv, g.cuda_graphs, g.channels_last
                )
            }
            _ => format!("CPU ({} threads)", tch::get_num_threads()),
        }
    }
    pub fn is_cuda(&self) -> bool {
        matches!(self.device, Device::Cuda(_))
    }
}

/// Loads libtorch's CUDA backend if it ships beside libtorch_cpu. tch links only
/// libtorch_cpu unless built with `--features cuda`; loading libtorch_cuda at run time
/// registers the backend as well, so one binary serves CPU-only and GPU machines.
fn load_cuda_backend() -> bool {
    if cfg!(feature = "cuda") {
        return true;
    }
    // SAFETY: loading a shared library runs its initialisers; libtorch_cuda's only
    // register the CUDA backend with the libtorch already loaded in this process.
    unsafe {
        use libloading::os::unix::{Library, RTLD_GLOBAL, RTLD_NOW};
        match Library::open(Some("libtorch_cuda.so"), RTLD_NOW | RTLD_GLOBAL) {
            Ok(lib) => {
                std::mem::forget(lib); // keep it loaded for the life of the process
                true
            }
            Err(e) => {
                tracing::debug!("libtorch_cuda not loadable ({e}); CPU only");
                false
            }
        }
    }
}

/// Chooses the device once per process and sets libtorch's intra-op thread count
/// (`threads` 0 = all cores but one, at least one).
pub fn select(
    pref: DevicePreference,
    precision: Precision,
    threads: usize,
    gpu: GpuOptions,
) -> anyhow::Result<EngineDevice> {
    let threads = if threads == 0 {
        std::thread::available_parallelism().map(|n| n.get().saturating_sub(1).max(1)).unwrap_or(1)
    } else {
        threads
    };
    tch::set_num_threads(threads as i32);
    let cuda = pref != DevicePreference::Cpu && load_cuda_backend() && tch::Cuda::is_available();
    let device = match (pref, cuda) {
        (DevicePreference::Cuda, false) => {
            anyhow::bail!(
                "device `cuda` was requested but no CUDA GPU is usable\n  fix: set device: auto (or cpu) in config/installation.ron, or run scripts/setup.sh on the GPU machine so it installs torch with CUDA"
            )
        }
        (_, true) => {
            tch::Cuda::cudnn_set_benchmark(gpu.cudnn_benchmark);
            match super::cuda::shim() {
                Ok(shim) => {
                    if let Err(e) = shim.set_tf32(gpu.tf32_matmul, gpu.tf32_conv) {
                        tracing::warn!("{e}");
                    }
                }
                Err(why) => tracing::warn!(
                    "CUDA extras unavailable ({why}): TF32 settings, CUDA graphs and GPU memory figures are off"
                ),
            }
            Device::Cuda(0)
        }
        _ => Device::Cpu,
    };
    let on_gpu = matches!(device, Device::Cuda(_));
    let precision = if on_gpu { precision } else { Precision::Fp32 };
    // The levers are the GPU's: on a CPU, NHWC would change the layout (and the speed) of
    // the CPU's convolutions, whose defaults stay as they were measured.
    let gpu = if on_gpu { gpu } else { GpuOptions { channels_last: false, ..gpu } };
    Ok(EngineDevice { device, precision, gpu })
}

/// The libtorch version this build is made for (tch 0.24).
pub const REQUIRED_LIBTORCH: &str = "2.11.";

/// Finds the libtorch this process actually loaded and checks its version, so a stray
/// `LD_LIBRARY_PATH` or a replaced venv gives a clear message instead of odd crashes.
/// Returns the library directory and version.
pub fn check_libtorch() -> anyhow::Result<(std::path::PathBuf, String)> {
    let maps = std::fs::read_to_string("/proc/self/maps").unwrap_or_default();
    let lib = maps
        .lines()
        .filter_map(|l| l.split_whitespace().nth(5))
        .find(|p| p.ends_with("/libtorch_cpu.so"))
        .map(std::path::PathBuf::from)
        .ok_or_else(|| {
            anyhow::anyhow!("libtorch_cpu.so is not loaded in this process\n  fix: rerun scripts/setup.sh")
        })?;
    let lib_dir = lib.parent().expect("a file has a parent").to_path_buf();
    let torch_dir = lib_dir.parent().expect("lib dir has a parent");
    let version = if let Ok(py) = std::fs::read_to_string(torch_dir.join("version.py")) {
        py.lines()
            .find_map(|l| l.strip_prefix("__version__ = "))
            .map(|v| v.trim().trim_matches('\'').trim_matches('"').to_string())
    } else {
        // The Debian package writes the wheel's version beside the libraries it ships.
        [torch_dir.join("build-version"), lib_dir.join("torch-version")]
            .iter()
            .find_map(|f| std::fs::read_to_string(f).ok())
            .map(|v| v.trim().to_string())
    };
    let Some(version) = version else {
        tracing::warn!("cannot tell the version of libtorch in {}", lib_dir.display());
        return Ok((lib_dir, "unknown".into()));
    };
    if !version.starts_with(REQUIRED_LIBTORCH) {
        anyhow::bail!(
            "libtorch in {} is version {version}, but this build needs {REQUIRED_LIBTORCH}x (tch 0.24)\n  fix: rerun scripts/setup.sh, and unset LD_LIBRARY_PATH if it points at another torch",
            lib_dir.display()
        );
    }
    Ok((lib_dir, version))
}

/// One set of levers: `base` (fp32, eager, cuDNN benchmark on, TF32 for convolutions only:
/// PyTorch's defaults plus benchmark mode, whatever the installation's defaults are) or `+`-joined changes to it: `no-benchmark`, `tf32` (matmuls
/// too), `nhwc`, `bf16`, `graphs` (engine only: the reference stays eager).
#[derive(Clone, Debug, PartialEq)]
pub struct Variant {
    pub name: String,
    pub precision: Precision,
    pub gpu: GpuOptions,
}

impl FromStr for Variant {
    type Err = String;
    fn from_str(s: &str) -> Result<Variant, String> {
        let mut v = Variant { name: s.to_string(), precision: Precision::Fp32, gpu: GpuOptions::pytorch_eager() };
        for lever in s.split('+') {
            match lever {
                "base" => {}
                "no-benchmark" => v.gpu.cudnn_benchmark = false,
                "tf32" => v.gpu.tf32_matmul = true,
                "nhwc" => v.gpu.channels_last = true,
                "bf16" => v.precision = Precision::Mixed,
                "graphs" => v.gpu.cuda_graphs = true,
                other => {
                    return Err(format!(
                        "unknown lever `{other}` in variant `{s}`: use base, or + of no-benchmark, tf32, nhwc, bf16, graphs"
                    ));
                }
            }
        }
        Ok(v)
    }
}
