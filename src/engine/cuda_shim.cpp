// What tch 0.24 does not expose but the GPU engine needs: CUDA graphs, the caching
// allocator's memory statistics, TF32 for matmuls, and the Kineto profiler.
//
// Built by build.rs as libgp_cuda.so against the torch wheel's headers and loaded at run time
// (src/engine/cuda.rs) only once a CUDA device is in use, so the CPU binary never needs the
// CUDA libraries. Every entry point catches C++ exceptions and returns an error message:
// nothing unwinds into Rust.
#include <ATen/Context.h>
#include <ATen/cuda/CUDAGraph.h>
#include <c10/cuda/CUDACachingAllocator.h>
#include <c10/cuda/CUDAFunctions.h>
#include <c10/cuda/CUDAStream.h>
#include <cuda_runtime_api.h>
#include <torch/csrc/autograd/profiler_kineto.h>

#include <cstring>
#include <memory>
#include <optional>
#include <string>

namespace {

void write_error(char* buf, size_t len, const std::string& what) {
  if (buf == nullptr || len == 0) return;
  std::strncpy(buf, what.c_str(), len - 1);
  buf[len - 1] = '\0';
}

template <typename F>
int guarded(char* err, size_t len, F&& f) {
  try {
    f();
    return 0;
  } catch (const std::exception& e) {
    write_error(err, len, e.what());
  } catch (...) {
    write_error(err, len, "unknown C++ exception");
  }
  return 1;
}

// One graph and the side stream it is warmed up and captured on. PyTorch's rule: warm-up
// and capture happen on a non-default stream that first waits for the caller's stream; the
// caller's stream waits for the side stream afterwards.
struct Graph {
  c10::DeviceIndex device;
  at::cuda::CUDAGraph graph;
  c10::cuda::CUDAStream side;
  std::optional<c10::cuda::CUDAStream> caller;
  bool capturing = false;

  explicit Graph(c10::DeviceIndex d) : device(d), side(c10::cuda::getStreamFromPool(false, d)) {}

  void enter() {
    auto current = c10::cuda::getCurrentCUDAStream(device);
    current.synchronize();  // rare (once per capture): a plain wait is simplest
    caller = current;
    c10::cuda::setCurrentCUDAStream(side);
  }
  void leave() {
    side.synchronize();
    if (caller) c10::cuda::setCurrentCUDAStream(*caller);
    caller.reset();
  }
};

}  // namespace

extern "C" {

// Creates a graph holder for `device`; null with a message on failure.
void* gp_graph_new(int device, char* err, size_t len) {
  Graph* g = nullptr;
  guarded(err, len, [&] { g = new Graph(static_cast<c10::DeviceIndex>(device)); });
  return g;
}

void gp_graph_free(void* g) {
  try {
    delete static_cast<Graph*>(g);
  } catch (...) {
  }
}

// Makes the side stream current on this thread (for warm-up iterations); with `capture`
// also starts capturing everything issued to it into the graph.
int gp_graph_begin(void* handle, int capture, char* err, size_t len) {
  auto* g = static_cast<Graph*>(handle);
  return guarded(err, len, [&] {
    g->enter();
    if (capture) {
      g->graph.capture_begin();
      g->capturing = true;
    }
  });
}

// Ends the warm-up or the capture and restores the caller's stream. After a failed capture
// (an error inside it) this still restores the stream, resets the graph and clears CUDA's
// sticky capture error, and reports what went wrong.
int gp_graph_end(void* handle, char* err, size_t len) {
  auto* g = static_cast<Graph*>(handle);
  int rc = guarded(err, len, [&] {
    if (g->capturing) {
      g->capturing = false;
      g->graph.capture_end();
    }
  });
  if (rc != 0) {
    try {
      g->graph.reset();
    } catch (...) {
    }
    (void)cudaGetLastError();
  }
  int rc2 = guarded(rc ? nullptr : err, rc ? 0 : len, [&] { g->leave(); });
  return rc ? rc : rc2;
}

// Launches the captured work on the caller's current stream.
int gp_graph_replay(void* handle, char* err, size_t len) {
  auto* g = static_cast<Graph*>(handle);
  return guarded(err, len, [&] { g->graph.replay(); });
}

// The caching allocator's view of `device`: bytes allocated now and at peak, bytes reserved.
int gp_cuda_memory(int device, int64_t* allocated, int64_t* peak_allocated, int64_t* reserved, char* err,
                   size_t len) {
  return guarded(err, len, [&] {
    auto stats = c10::cuda::CUDACachingAllocator::getDeviceStats(static_cast<c10::DeviceIndex>(device));
    const auto all = static_cast<size_t>(c10::CachingAllocator::StatType::AGGREGATE);
    *allocated = stats.allocated_bytes[all].current;
    *peak_allocated = stats.allocated_bytes[all].peak;
    *reserved = stats.reserved_bytes[all].current;
  });
}

int gp_cuda_reset_peak(int device, char* err, size_t len) {
  return guarded(err, len,
                 [&] { c10::cuda::CUDACachingAllocator::resetPeakStats(static_cast<c10::DeviceIndex>(device)); });
}

// TF32 for cuBLAS matmuls (the Gram matrices); cuDNN convolutions use TF32 by default.
int gp_set_tf32(int matmul, int cudnn, char* err, size_t len) {
  return guarded(err, len, [&] {
    at::globalContext().setAllowTF32CuBLAS(matmul != 0);
    at::globalContext().setAllowTF32CuDNN(cudnn != 0);
  });
}

// The Kineto profiler (CPU ops and CUDA kernels), as torch.profiler uses it.
int gp_profiler_start(char* err, size_t len) {
  return guarded(err, len, [&] {
    using namespace torch::profiler::impl;
    ProfilerConfig config(ProfilerState::KINETO);
    std::set<ActivityType> activities{ActivityType::CPU, ActivityType::CUDA};
    torch::autograd::profiler::prepareProfiler(config, activities);
    torch::autograd::profiler::enableProfiler(config, activities);
  });
}

// Stops the profiler and writes a Chrome trace (the format torch.profiler exports) to `path`.
int gp_profiler_stop(const char* path, char* err, size_t len) {
  return guarded(err, len, [&] {
    auto result = torch::autograd::profiler::disableProfiler();
    if (result) result->save(path);
  });
}

}  // extern "C"
