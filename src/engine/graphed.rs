//! The objective (x -> loss, gradient) replayed as one CUDA graph per painting size, instead
//! of ~200 kernel launches from the host per evaluation. At Live sizes a step is short enough
//! that the launches, not the kernels, set the pace.
//!
//! PyTorch's recipe: a few warm-up evaluations on a side stream (cuDNN picks its algorithms),
//! then one captured evaluation on static tensors: the input, copies of the targets and the
//! outputs. Each call copies the iterate in, replays, and copies the outputs out (the
//! optimiser keeps gradients across calls, and the next replay overwrites the static ones).
//! Targets are copied in only when they change. Anything that fails to capture falls back to
//! eager evaluation for the rest of the painter's life, with one warning.

use std::panic::AssertUnwindSafe;

use tch::Tensor;

use super::EngineError;
use super::cuda::{self, Graph};
use super::device::EngineDevice;
use super::error::torch_panic_message;
use super::live::TemporalTarget;
use super::objective::{TermWeights, objective};
use super::optim::Evaluation;
use super::targets::{LayerPlan, Targets};
use super::vgg::Vgg;

/// Graphs kept at once (each holds its own activation memory): the coarse levels and Live.
const MAX_GRAPHS: usize = 3;
/// Eager evaluations on the side stream before capture.
const WARMUP: usize = 3;

/// What a captured graph is specific to: sizes, whether the temporal term is there, and the
/// term weights (baked into the kernels as constants).
#[derive(Clone, Copy, Debug, PartialEq)]
struct Key {
    width: u32,
    height: u32,
    temporal: bool,
    /// Face gain maps present (their shapes follow the size).
    faces: bool,
    weights: [u64; 4],
}

impl Key {
    fn new(targets: &Targets, weights: TermWeights) -> Key {
        let temporal = targets.temporal.is_some() && weights.temporal > 0.0;
        Key {
            width: targets.width,
            height: targets.height,
            temporal,
            faces: targets.faces.is_some(),
            weights: [weights.content, weights.style, weights.tv, if temporal { weights.temporal } else { 0.0 }]
                .map(f64::to_bits),
        }
    }
}

/// Fields drop in order: the tensors in the graph's memory pool go before the graph.
struct Captured {
    key: Key,
    x: Tensor,
    targets: Targets,
    copied_version: u64,
    out: Evaluation<Tensor>,
    /// The term weights at capture: a graph has them baked in as constants, and the CPU
    /// stand-in replays with these too, so a key that left them out would show.
    weights: TermWeights,
    /// None: the CPU stand-in (see [`Evaluator::emulated`]).
    graph: Option<Graph>,
}

/// Evaluates the objective eagerly, or through CUDA graphs where enabled and possible.
pub struct Evaluator {
    graphs: Vec<Captured>,
    device_index: usize,
    /// Why graphs are not used (None: they are).
    off: Option<String>,
    emulated: bool,
    /// Graphs captured so far (evicted ones included).
    made: usize,
}

fn deep_copy(t: &Targets) -> Targets {
    Targets {
        width: t.width,
        height: t.height,
        content_rgb: t.content_rgb.copy(),
        content_features: t.content_features.iter().map(Tensor::copy).collect(),
        style_grams: t.style_grams.iter().map(Tensor::copy).collect(),
        temporal: t.temporal.as_ref().map(|tt| TemporalTarget { previous: tt.previous.copy(), mask: tt.mask.copy() }),
        faces: t.faces.as_ref().map(|f| f.copy()),
        version: t.version,
    }
}

/// Copies the values of `from` into the static tensors of `into` (same shapes: same key).
fn copy_into(into: &mut Targets, from: &Targets) {
    tch::no_grad(|| {
        let pairs = into
            .content_features
            .iter_mut()
            .zip(&from.content_features)
            .chain(into.style_grams.iter_mut().zip(&from.style_grams));
        for (dst, src) in pairs {
            dst.copy_(src);
        }
        if let (Some(dst), Some(src)) = (&mut into.temporal, &from.temporal) {
            dst.previous.copy_(&src.previous);
            dst.mask.copy_(&src.mask);
        }
        if let (Some(dst), Some(src)) = (&mut into.faces, &from.faces) {
            let maps = dst.content.iter_mut().zip(&src.content).chain(dst.style.iter_mut().zip(&src.style));
            for (d, s) in maps {
                if let (Some(d), Some(s)) = (d, s) {
                    d.copy_(s);
                }
            }
        }
    });
    into.version = from.version;
}

impl Evaluator {
    pub fn new(device: EngineDevice) -> Evaluator {
        let off = if !device.gpu.cuda_graphs {
            Some("not enabled (engine.gpu.cuda_graphs)".to_string())
        } else if !device.is_cuda() {
            Some("CUDA graphs need a CUDA device; evaluating eagerly".to_string())
        } else {
            cuda::shim().err().map(|why| format!("CUDA extras unavailable: {why}"))
        };
        let device_index = match device.device {
            tch::Device::Cuda(i) => i,
            _ => 0,
        };
        Evaluator { graphs: Vec::new(), device_index, off, emulated: false, made: 0 }
    }

    /// A CPU stand-in for CUDA graphs, to test this file's bookkeeping without a GPU: "capture"
    /// evaluates once on the static tensors, and "replay" evaluates again on them and writes
    /// the results into the captured output tensors, as a graph's kernels write into its
    /// static memory. Everything else (keys, static inputs, target copies, output copies,
    /// eviction) is the real code.
    pub fn emulated() -> Evaluator {
        Evaluator { graphs: Vec::new(), device_index: 0, off: None, emulated: true, made: 0 }
    }

    /// Drops every captured graph (the layer plan or the network's settings changed).
    pub fn forget_graphs(&mut self) {
        self.graphs.clear();
    }

    /// "on (N captured, M made)" or "off: why", for logs and the benchmark.
    pub fn status(&self) -> String {
        let (kept, made) = (self.graphs.len(), self.made);
        match &self.off {
            None if self.emulated => format!("emulated ({kept} captured, {made} made)"),
            None => format!("on ({kept} captured, {made} made)"),
            Some(why) => format!("off: {why}"),
        }
    }

    pub fn evaluate(
        &mut self,
        vgg: &Vgg,
        plan: &LayerPlan,
        targets: &Targets,
        weights: TermWeights,
        x: &Tensor,
    ) -> Result<Evaluation<Tensor>, EngineError> {
        if self.off.is_some() {
            return Ok(objective(vgg, plan, targets, weights, x));
        }
        match self.replay(vgg, plan, targets, weights, x) {
            Ok(e) => Ok(e),
            Err(why) => {
                tracing::warn!("CUDA graphs off for this painter, evaluating eagerly: {why}");
                self.graphs.clear();
                self.off = Some(why);
                Ok(objective(vgg, plan, targets, weights, x))
            }
        }
    }

    fn replay(
        &mut self,
        vgg: &Vgg,
        plan: &LayerPlan,
        targets: &Targets,
        weights: TermWeights,
        x: &Tensor,
    ) -> Result<Evaluation<Tensor>, String> {
        let key = Key::new(targets, weights);
        let index = match self.graphs.iter().position(|c| c.key == key) {
            Some(i) => i,
            None => {
                if self.graphs.len() == MAX_GRAPHS {
                    self.graphs.remove(0);
                }
                let device = (!self.emulated).then_some(self.device_index);
                let captured = capture(device, key, vgg, plan, targets, weights, x)?;
                self.made += 1;
                self.graphs.push(captured);
                self.graphs.len() - 1
            }
        };
        let c = &mut self.graphs[index];
        if c.copied_version != targets.version {
            copy_into(&mut c.targets, targets);
            c.copied_version = targets.version;
        }
        tch::no_grad(|| c.x.copy_(x));
        match &mut c.graph {
            Some(graph) => graph.replay()?,
            None => {
                let fresh = objective(vgg, plan, &c.targets, c.weights, &c.x);
                tch::no_grad(|| {
                    c.out.loss.copy_(&fresh.loss);
                    c.out.grad.copy_(&fresh.grad);
                    c.out.parts.copy_(&fresh.parts);
                });
            }
        }
        let out = &c.out;
        Ok(Evaluation { loss: out.loss.copy(), grad: out.grad.copy(), parts: out.parts.copy() })
    }
}

/// Static copies of the input and targets, and the outputs of one evaluation on them: recorded
/// as a CUDA graph on `device`, or evaluated eagerly for the CPU stand-in (`None`).
fn capture(
    device: Option<usize>,
    key: Key,
    vgg: &Vgg,
    plan: &LayerPlan,
    targets: &Targets,
    weights: TermWeights,
    x: &Tensor,
) -> Result<Captured, String> {
    // NCHW memory, whatever the first iterate had: the layout picks the kernels.
    let static_x = x.detach().contiguous().copy();
    let static_targets = deep_copy(targets);
    let run = || objective(vgg, plan, &static_targets, weights, &static_x);
    let (out, graph) = match device {
        None => (run(), None),
        Some(index) => {
            let (out, graph) = record(index, &run)?;
            tracing::info!("CUDA graph captured for {}x{} (temporal term: {})", key.width, key.height, key.temporal);
            (out, Some(graph))
        }
    };
    let copied_version = static_targets.version;
    Ok(Captured { key, x: static_x, targets: static_targets, copied_version, out, weights, graph })
}

/// Warm-up evaluations on the side stream, then one captured.
fn record(device_index: usize, run: &dyn Fn() -> Evaluation<Tensor>) -> Result<(Evaluation<Tensor>, Graph), String> {
    let shim = cuda::shim().map_err(str::to_string)?;
    let mut graph = Graph::new(shim, device_index)?;
    graph.begin(false)?;
    let warm = std::panic::catch_unwind(AssertUnwindSafe(|| (0..WARMUP).for_each(|_| drop(run()))));
    graph.end()?;
    warm.map_err(|p| format!("warm-up failed: {}", torch_panic_message(p)))?;
    graph.begin(true)?;
    let out = std::panic::catch_unwind(AssertUnwindSafe(run));
    let ended = graph.end();
    let out = out.map_err(|p| format!("capture failed: {}", torch_panic_message(p)))?;
    ended?;
    Ok((out, graph))
}
