//! Where the engine runs: CUDA when libtorch's CUDA backend is present and a GPU answers,
//! otherwise the CPU with a bounded number of threads (the display needs a core too).

use serde::{Deserialize, Serialize};
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
    /// bf16 convolutions with fp32 Gram matrices and losses (CUDA only; ignored on CPU).
    Mixed,
}

#[derive(Clone, Copy, Debug)]
pub struct EngineDevice {
    pub device: Device,
    pub precision: Precision,
}

impl EngineDevice {
    pub fn describe(&self) -> String {
        match self.device {
            Device::Cuda(i) => format!("CUDA:{i} ({:?})", self.precision),
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
pub fn select(pref: DevicePreference, precision: Precision, threads: usize) -> anyhow::Result<EngineDevice> {
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
            tch::Cuda::cudnn_set_benchmark(true);
            Device::Cuda(0)
        }
        _ => Device::Cpu,
    };
    let precision = if matches!(device, Device::Cuda(_)) { precision } else { Precision::Fp32 };
    Ok(EngineDevice { device, precision })
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
        std::fs::read_to_string(torch_dir.join("build-version")).ok().map(|v| v.trim().to_string())
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
