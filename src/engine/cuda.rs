//! The CUDA extras tch 0.24 does not expose (graphs, allocator statistics, TF32 for
//! matmuls, the Kineto profiler), from a small C++ shim (`cuda_shim.cpp`, built by build.rs
//! as `libgp_cuda.so`). It is loaded only once a CUDA device is in use: the CPU build never
//! needs the CUDA libraries, and without the shim the engine runs eagerly as before.

use std::ffi::{CStr, CString, c_char, c_int, c_void};
use std::path::PathBuf;
use std::sync::OnceLock;

use libloading::Library;

const SHIM_FILE: &str = "libgp_cuda.so";

/// The shim's exported functions, in the order [`load`] resolves them.
pub const SYMBOLS: [&str; 10] = [
    "gp_graph_new",
    "gp_graph_free",
    "gp_graph_begin",
    "gp_graph_end",
    "gp_graph_replay",
    "gp_cuda_memory",
    "gp_cuda_reset_peak",
    "gp_set_tf32",
    "gp_profiler_start",
    "gp_profiler_stop",
];
const ERR_LEN: usize = 1024;

type ErrFn = unsafe extern "C" fn(*mut c_char, usize) -> c_int;
type DeviceFn = unsafe extern "C" fn(c_int, *mut c_char, usize) -> c_int;
type GraphNew = unsafe extern "C" fn(c_int, *mut c_char, usize) -> *mut c_void;
type GraphFree = unsafe extern "C" fn(*mut c_void);
type GraphBegin = unsafe extern "C" fn(*mut c_void, c_int, *mut c_char, usize) -> c_int;
type GraphCall = unsafe extern "C" fn(*mut c_void, *mut c_char, usize) -> c_int;
type Memory = unsafe extern "C" fn(c_int, *mut i64, *mut i64, *mut i64, *mut c_char, usize) -> c_int;
type SetTf32 = unsafe extern "C" fn(c_int, c_int, *mut c_char, usize) -> c_int;
type ProfilerStop = unsafe extern "C" fn(*const c_char, *mut c_char, usize) -> c_int;

/// The shim's entry points (resolved once; the library stays loaded for the process).
pub struct Shim {
    graph_new: GraphNew,
    graph_free: GraphFree,
    graph_begin: GraphBegin,
    graph_end: GraphCall,
    graph_replay: GraphCall,
    memory: Memory,
    reset_peak: DeviceFn,
    set_tf32: SetTf32,
    profiler_start: ErrFn,
    profiler_stop: ProfilerStop,
}

/// Calls `f` with an error buffer and turns a non-zero return into the shim's message.
fn checked(what: &str, f: impl FnOnce(*mut c_char, usize) -> c_int) -> Result<(), String> {
    let mut buf = vec![0 as c_char; ERR_LEN];
    if f(buf.as_mut_ptr(), ERR_LEN) == 0 {
        return Ok(());
    }
    // SAFETY: the shim writes a NUL-terminated string of at most ERR_LEN bytes.
    let msg = unsafe { CStr::from_ptr(buf.as_ptr()) }.to_string_lossy();
    let first = msg.lines().next().unwrap_or("").to_string();
    Err(format!("{what}: {first}"))
}

/// Where the shim is looked for: next to the executable (and one level up, for test binaries
/// in target/<profile>/deps), or `$GALLERY_CUDA_SHIM`.
fn candidates() -> Vec<PathBuf> {
    let mut out = Vec::new();
    if let Some(p) = std::env::var_os("GALLERY_CUDA_SHIM") {
        out.push(PathBuf::from(p));
    }
    if let Ok(exe) = std::env::current_exe() {
        out.extend(exe.ancestors().skip(1).take(2).map(|d| d.join(SHIM_FILE)));
    }
    out
}

/// The shim, or why it is not available. Loads it at most once, and only when tch reports a
/// CUDA device (its libraries need libtorch_cuda, which a CPU machine may not be able to load).
pub fn shim() -> Result<&'static Shim, &'static str> {
    static SHIM: OnceLock<Result<Shim, String>> = OnceLock::new();
    SHIM.get_or_init(|| {
        if !tch::Cuda::is_available() {
            return Err("no CUDA device".into());
        }
        let Some(path) = candidates().into_iter().find(|p| p.is_file()) else {
            return Err(format!(
                "{SHIM_FILE} was not found next to the executable\n  fix: build on a machine whose torch wheel has the CUDA headers (scripts/setup.sh installs them), and copy {SHIM_FILE} beside the binary"
            ));
        };
        load(path)
    })
    .as_ref()
    .map_err(String::as_str)
}

fn load(path: PathBuf) -> Result<Shim, String> {
    // SAFETY: loading the shim runs no initialisers of its own; the libraries it depends on
    // (libtorch_cuda, libc10_cuda, libcudart) are the ones this process already uses.
    let lib = unsafe { Library::new(&path) }.map_err(|e| format!("cannot load {}: {e}", path.display()))?;
    macro_rules! sym {
        ($i:literal) => {
            // SAFETY: the symbol's type is the one declared in cuda_shim.cpp.
            *unsafe { lib.get(SYMBOLS[$i].as_bytes()) }
                .map_err(|e| format!("{}: {} missing: {e}", path.display(), SYMBOLS[$i]))?
        };
    }
    let shim = Shim {
        graph_new: sym!(0),
        graph_free: sym!(1),
        graph_begin: sym!(2),
        graph_end: sym!(3),
        graph_replay: sym!(4),
        memory: sym!(5),
        reset_peak: sym!(6),
        set_tf32: sym!(7),
        profiler_start: sym!(8),
        profiler_stop: sym!(9),
    };
    std::mem::forget(lib); // the function pointers above live as long as the process
    Ok(shim)
}

/// The caching allocator's numbers for one device, in bytes.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct MemoryStats {
    pub allocated: i64,
    pub peak_allocated: i64,
    pub reserved: i64,
}

impl Shim {
    pub fn memory(&self, device: usize) -> Result<MemoryStats, String> {
        let mut m = MemoryStats::default();
        checked("GPU memory statistics", |e, n| unsafe {
            // SAFETY: three valid out-pointers and an error buffer of n bytes.
            (self.memory)(device as c_int, &mut m.allocated, &mut m.peak_allocated, &mut m.reserved, e, n)
        })?;
        Ok(m)
    }
    pub fn reset_peak(&self, device: usize) -> Result<(), String> {
        // SAFETY: plain call with an error buffer.
        checked("reset GPU peak memory", |e, n| unsafe { (self.reset_peak)(device as c_int, e, n) })
    }
    /// TF32 for cuBLAS matmuls (the Gram matrices) and cuDNN convolutions.
    pub fn set_tf32(&self, matmul: bool, cudnn: bool) -> Result<(), String> {
        // SAFETY: plain call with an error buffer.
        checked("set TF32", |e, n| unsafe { (self.set_tf32)(matmul as c_int, cudnn as c_int, e, n) })
    }
    pub fn profiler_start(&self) -> Result<(), String> {
        // SAFETY: plain call with an error buffer.
        checked("start the profiler", |e, n| unsafe { (self.profiler_start)(e, n) })
    }
    /// Stops the profiler and writes a Chrome trace (as torch.profiler exports) to `path`.
    pub fn profiler_stop(&self, path: &std::path::Path) -> Result<(), String> {
        let p = CString::new(path.to_string_lossy().as_bytes()).map_err(|e| e.to_string())?;
        // SAFETY: a NUL-terminated path and an error buffer.
        checked("stop the profiler", |e, n| unsafe { (self.profiler_stop)(p.as_ptr(), e, n) })
    }
}

/// One CUDA graph with its side stream. Work issued on this thread between
/// [`Graph::begin`] and [`Graph::end`] runs on the side stream (warm-up) or is captured.
pub struct Graph {
    shim: &'static Shim,
    handle: *mut c_void,
}

// SAFETY: a CUDA graph may be replayed from any thread; the handle is used by one owner at a
// time (the painter that holds it), never concurrently.
unsafe impl Send for Graph {}

impl Graph {
    pub fn new(shim: &'static Shim, device: usize) -> Result<Graph, String> {
        let mut handle = std::ptr::null_mut();
        checked("create a CUDA graph", |e, n| {
            // SAFETY: returns an owned handle or null with a message in the buffer.
            handle = unsafe { (shim.graph_new)(device as c_int, e, n) };
            handle.is_null() as c_int
        })?;
        Ok(Graph { shim, handle })
    }
    /// Switches this thread to the side stream; `capture` also starts recording.
    pub fn begin(&mut self, capture: bool) -> Result<(), String> {
        // SAFETY: a live handle and an error buffer.
        checked("begin CUDA graph capture", |e, n| unsafe {
            (self.shim.graph_begin)(self.handle, capture as c_int, e, n)
        })
    }
    /// Ends the warm-up or capture and switches back to the caller's stream (also after a
    /// failed capture, whose error it returns).
    pub fn end(&mut self) -> Result<(), String> {
        // SAFETY: a live handle and an error buffer.
        checked("end CUDA graph capture", |e, n| unsafe { (self.shim.graph_end)(self.handle, e, n) })
    }
    pub fn replay(&mut self) -> Result<(), String> {
        // SAFETY: a live handle and an error buffer.
        checked("replay CUDA graph", |e, n| unsafe { (self.shim.graph_replay)(self.handle, e, n) })
    }
}

impl Drop for Graph {
    fn drop(&mut self) {
        // SAFETY: the handle came from graph_new and is freed once.
        unsafe { (self.shim.graph_free)(self.handle) }
    }
}

/// GPU memory of the engine's device, when it runs on CUDA and the shim is present.
pub fn memory_stats(device: tch::Device) -> Option<MemoryStats> {
    let tch::Device::Cuda(i) = device else { return None };
    shim().ok()?.memory(i).ok()
}
