//! The engine's errors, each ending in what to do about it, and the bridge from libtorch's
//! panics to them.

use std::path::PathBuf;

#[derive(Debug, thiserror::Error)]
pub enum EngineError {
    #[error(
        "cannot read the VGG weights file {path}: {reason}\n  fix: run scripts/setup.sh (it downloads and converts the weights), or point `weights` in config/installation.ron at the file"
    )]
    WeightsMissing { path: PathBuf, reason: String },
    #[error("the VGG weights file {path} is not usable: {reason}\n  fix: delete it and rerun scripts/setup.sh")]
    WeightsCorrupt { path: PathBuf, reason: String },
    /// `arch`: the network's name (`Vgg16`), as data: the errors sit below the network.
    #[error("unknown layer name `{name}` for {arch}\n  fix: use one of: {available}")]
    UnknownLayer { name: String, arch: String, available: String },
    #[error("cannot use image {path}: {reason}\n  fix: check that the file exists and is a PNG or JPEG image")]
    Image { path: PathBuf, reason: String },
    #[error("invalid engine parameters: {0}")]
    InvalidParams(String),
    #[error("nothing to paint yet: {0}")]
    NotReady(&'static str),
    #[error("libtorch error: {0}")]
    Torch(String),
}

impl EngineError {
    /// True for allocation failures, after which a smaller painting may still fit.
    /// Out of memory on the GPU (CUDA's wording) or on the CPU (libtorch's allocator, C++).
    pub fn is_out_of_memory(&self) -> bool {
        const SIGNS: [&str; 6] = [
            "out of memory",              // CUDA: "CUDA out of memory. Tried to allocate ..."
            "not enough memory",          // CPU: "DefaultCPUAllocator: not enough memory: you tried to allocate ..."
            "can't allocate memory",      // CPU: "DefaultCPUAllocator: can't allocate memory: ..."
            "bad_alloc",                  // C++ std::bad_alloc
            "cublas_status_alloc_failed", // cuBLAS workspace
            "cudaerrormemoryallocation",  // CUDA runtime
        ];
        matches!(self, EngineError::Torch(m) if { let m = m.to_lowercase(); SIGNS.iter().any(|s| m.contains(s)) })
    }
}

/// Runs tch code and turns libtorch failures (which tch reports by panicking) into
/// [`EngineError::Torch`]; panics from anything else continue unwinding.
pub fn catch_torch<T>(f: impl FnOnce() -> Result<T, EngineError>) -> Result<T, EngineError> {
    match std::panic::catch_unwind(std::panic::AssertUnwindSafe(f)) {
        Ok(r) => r,
        Err(payload) => Err(EngineError::Torch(torch_panic_message(payload))),
    }
}

/// The message of a panic that tch raised for a libtorch failure; any other panic (a bug)
/// continues unwinding.
pub(crate) fn torch_panic_message(payload: Box<dyn std::any::Any + Send>) -> String {
    let msg = payload
        .downcast_ref::<String>()
        .cloned()
        .or_else(|| payload.downcast_ref::<&str>().map(|s| s.to_string()))
        .unwrap_or_default();
    if msg.contains("Torch(") || msg.contains("TchError") { msg } else { std::panic::resume_unwind(payload) }
}
