//! A frozen, features-only VGG (16 or 19) that returns exactly the layers a loss asks for.
//!
//! Layer names follow the Gatys paper (`conv4_2`, `relu1_1`, `pool3`); weights use
//! torchvision's `features.{i}` numbering, so `i` is also the position of the layer here.

use std::collections::HashMap;
use std::path::Path;

use serde::{Deserialize, Serialize};
use tch::{Device, Kind, Tensor};

use super::EngineError;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Arch {
    Vgg16,
    Vgg19,
}

impl Arch {
    fn convs_per_block(self) -> [usize; 5] {
        match self {
            Arch::Vgg16 => [2, 2, 3, 3, 3],
            Arch::Vgg19 => [2, 2, 4, 4, 4],
        }
    }
}

/// How the network expects its input; read from the weights file's metadata.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum InputConvention {
    /// Caffe / original VGG: BGR, 0..255, minus the ImageNet mean, no std division.
    Caffe,
    /// torchvision: RGB in 0..1, minus mean, divided by std.
    Torchvision,
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Pooling {
    #[default]
    Max,
    /// Gatys et al. found average pooling gives slightly smoother results.
    Avg,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Op {
    Conv,
    Relu,
    Pool,
}

/// The `features` layer sequence of a VGG with its Gatys-style names.
/// `(features index, out channels, in channels)` of each convolution of `arch`.
pub fn conv_shapes(arch: Arch) -> Vec<(usize, i64, i64)> {
    const WIDTHS: [i64; 5] = [64, 128, 256, 512, 512];
    let mut shapes = Vec::new();
    let mut cin = 3;
    for (i, (op, name)) in layer_table(arch).iter().enumerate() {
        if *op == Op::Conv {
            let block: usize = name[4..].split('_').next().and_then(|b| b.parse().ok()).expect("conv{block}_{n}");
            let cout = WIDTHS[block - 1];
            shapes.push((i, cout, cin));
            cin = cout;
        }
    }
    shapes
}

fn layer_table(arch: Arch) -> Vec<(Op, String)> {
    let mut ops = Vec::new();
    for (b, &n) in arch.convs_per_block().iter().enumerate() {
        for c in 1..=n {
            ops.push((Op::Conv, format!("conv{}_{}", b + 1, c)));
            ops.push((Op::Relu, format!("relu{}_{}", b + 1, c)));
        }
        ops.push((Op::Pool, format!("pool{}", b + 1)));
    }
    ops
}

/// Position of a named layer in `features`, or an error listing the valid names.
pub fn layer_index(arch: Arch, name: &str) -> Result<usize, EngineError> {
    let table = layer_table(arch);
    table.iter().position(|(_, n)| n == name).ok_or_else(|| EngineError::UnknownLayer {
        name: name.to_string(),
        arch: format!("{arch:?}"),
        available: table.iter().map(|(_, n)| n.clone()).collect::<Vec<_>>().join(", "),
    })
}

pub struct Vgg {
    arch: Arch,
    convention: InputConvention,
    pooling: Pooling,
    ops: Vec<Op>,
    /// Conv weights and bias by `features` index (None for relu/pool positions).
    convs: ConvWeights,
    device: Device,
    source: String,
    /// Reduced-precision copies of the weights (mixed precision on CUDA); None = fp32.
    reduced: Option<(Kind, ConvWeights)>,
    /// NHWC memory layout for the convolutions (weights re-laid out once).
    channels_last: bool,
    /// The input convention's per-channel shift, and scale (torchvision only), on the device
    /// once: building them per call would copy from the host inside every step (and cannot
    /// be graph-captured).
    input_shift: Tensor,
    input_scale: Option<Tensor>,
}

/// The same values with NHWC strides (PyTorch's channels_last) for a 4-d tensor; tch 0.24 has
/// no memory-format argument, and a permuted contiguous copy is exactly that layout.
pub fn to_channels_last(t: &Tensor) -> Tensor {
    t.permute([0, 2, 3, 1]).contiguous().permute([0, 3, 1, 2])
}

/// (weight, bias) by `features` index; None at ReLU and pooling positions.
type ConvWeights = Vec<Option<(Tensor, Tensor)>>;

impl Vgg {
    /// Loads a safetensors file with `features.{i}.weight/bias` and `arch`/`convention` metadata.
    pub fn load(path: &Path, device: Device, pooling: Pooling) -> Result<Vgg, EngineError> {
        let bytes = std::fs::read(path)
            .map_err(|e| EngineError::WeightsMissing { path: path.to_path_buf(), reason: e.to_string() })?;
        let corrupt = |reason: String| EngineError::WeightsCorrupt { path: path.to_path_buf(), reason };
        let (_, header) = safetensors::SafeTensors::read_metadata(&bytes).map_err(|e| corrupt(e.to_string()))?;
        let meta: HashMap<String, String> = header.metadata().clone().unwrap_or_default();
        let arch = match meta.get("arch").map(String::as_str) {
            Some("vgg16") => Arch::Vgg16,
            Some("vgg19") => Arch::Vgg19,
            other => return Err(corrupt(format!("metadata 'arch' is {other:?}, expected \"vgg16\" or \"vgg19\""))),
        };
        let convention = match meta.get("convention").map(String::as_str) {
            Some("caffe") => InputConvention::Caffe,
            Some("torchvision") => InputConvention::Torchvision,
            other => {
                return Err(corrupt(format!(
                    "metadata 'convention' is {other:?}, expected \"caffe\" or \"torchvision\""
                )));
            }
        };
        let st = safetensors::SafeTensors::deserialize(&bytes).map_err(|e| corrupt(e.to_string()))?;
        let table = layer_table(arch);
        let mut convs = Vec::with_capacity(table.len());
        let mut in_channels = 3i64;
        for (i, (op, name)) in table.iter().enumerate() {
            if *op != Op::Conv {
                convs.push(None);
                continue;
            }
            let load = |suffix: &str| -> Result<Tensor, EngineError> {
                let key = format!("features.{i}.{suffix}");
                let view = st.tensor(&key).map_err(|_| corrupt(format!("tensor {key} ({name}) is missing")))?;
                if view.dtype() != safetensors::Dtype::F32 {
                    return Err(corrupt(format!("tensor {key} is {:?}, expected F32", view.dtype())));
                }
                let shape: Vec<i64> = view.shape().iter().map(|&d| d as i64).collect();
                Ok(Tensor::from_data_size(view.data(), &shape, Kind::Float).to_device(device))
            };
            let (w, b) = (load("weight")?, load("bias")?);
            let ws = w.size();
            if ws.len() != 4 || ws[1] != in_channels || ws[2] != 3 || ws[3] != 3 || b.size() != [ws[0]] {
                return Err(corrupt(format!("{name}: weight shape {ws:?} does not fit a {arch:?}")));
            }
            in_channels = ws[0];
            convs.push(Some((w, b)));
        }
        let source = meta.get("source").cloned().unwrap_or_else(|| path.display().to_string());
        let per_channel = |v: [f32; 3]| Tensor::from_slice(&v).to_device(device).view([1, 3, 1, 1]);
        let (input_shift, input_scale) = match convention {
            InputConvention::Caffe => (per_channel([103.939, 116.779, 123.68]), None),
            // (x/255 - mean) / std = x * (1 / (255 std)) - mean / std
            InputConvention::Torchvision => {
                let (mean, std) = ([0.485f32, 0.456, 0.406], [0.229f32, 0.224, 0.225]);
                (
                    per_channel([0, 1, 2].map(|c| mean[c] / std[c])),
                    Some(per_channel([0, 1, 2].map(|c| 1.0 / (255.0 * std[c])))),
                )
            }
        };
        Ok(Vgg {
            arch,
            convention,
            pooling,
            ops: table.into_iter().map(|(op, _)| op).collect(),
            convs,
            device,
            source,
            reduced: None,
            channels_last: false,
            input_shift,
            input_scale,
        })
    }

    /// Lays the weights out NHWC and feeds the convolutions NHWC activations from now on
    /// (cuDNN's tensor-core kernels prefer it). The values are unchanged.
    pub fn set_channels_last(&mut self, on: bool) {
        if on == self.channels_last {
            return;
        }
        self.channels_last = on;
        let relayout = |convs: &mut ConvWeights| {
            for (w, _) in convs.iter_mut().flatten() {
                *w = if on { to_channels_last(w) } else { w.contiguous() };
            }
        };
        relayout(&mut self.convs);
        if let Some((_, convs)) = &mut self.reduced {
            relayout(convs);
        }
    }
    pub fn channels_last(&self) -> bool {
        self.channels_last
    }

    /// Runs the convolutions in `kind` (e.g. bf16 on tensor cores) from now on; the weights
    /// are cast once here rather than on every call as autocast would. `Kind::Float` = fp32.
    pub fn set_compute_kind(&mut self, kind: Kind) {
        self.reduced = (kind != Kind::Float).then(|| {
            let relayout = |w: Tensor| if self.channels_last { to_channels_last(&w) } else { w };
            let convs = self
                .convs
                .iter()
                .map(|c| c.as_ref().map(|(w, b)| (relayout(w.to_kind(kind)), b.to_kind(kind))))
                .collect();
            (kind, convs)
        });
    }

    pub fn set_pooling(&mut self, pooling: Pooling) {
        self.pooling = pooling;
    }
    pub fn arch(&self) -> Arch {
        self.arch
    }
    pub fn device(&self) -> Device {
        self.device
    }
    pub fn convention(&self) -> InputConvention {
        self.convention
    }
    pub fn source(&self) -> &str {
        &self.source
    }

    /// Factor applied to every activation [`Vgg::features`] returns, so that the loss terms
    /// have the same magnitude whatever the weights' input convention, and one set of
    /// default weights (alpha, beta, lambda) serves both. Torchvision networks take inputs
    /// 255 x std (about 57.6) times smaller than Caffe ones; without this, their content and
    /// style terms would be ~57.6^2 and ~57.6^4 times smaller and TV would dominate.
    pub fn activation_scale(&self) -> f64 {
        match self.convention {
            InputConvention::Caffe => 1.0,
            InputConvention::Torchvision => 255.0 * (0.229 + 0.224 + 0.225) / 3.0,
        }
    }

    /// Turns an RGB image tensor `[1,3,H,W]` with values 0..255 into the network's input.
    pub fn preprocess(&self, rgb255: &Tensor) -> Tensor {
        match &self.input_scale {
            // Caffe: BGR, 0..255, minus the mean.
            None => rgb255.flip([1]) - &self.input_shift,
            // torchvision: RGB, (x/255 - mean) / std folded into one scale and shift.
            Some(scale) => rgb255 * scale - &self.input_shift,
        }
    }

    /// Runs the network up to the deepest requested layer and returns the requested
    /// activations in the order of `layers` (indices from [`layer_index`]).
    pub fn features(&self, input: &Tensor, layers: &[usize]) -> Vec<Tensor> {
        let Some(&deepest) = layers.iter().max() else { return Vec::new() };
        let mut out: Vec<Option<Tensor>> = (0..layers.len()).map(|_| None).collect();
        let (mut x, convs) = match &self.reduced {
            Some((kind, convs)) => (input.to_kind(*kind), convs),
            None => (input.shallow_clone(), &self.convs),
        };
        if self.channels_last {
            x = to_channels_last(&x);
        }
        for (i, (op, conv)) in self.ops.iter().zip(convs).enumerate().take(deepest + 1) {
            x = match op {
                Op::Conv => {
                    let (w, b) = conv.as_ref().expect("conv position holds weights");
                    x.conv2d(w, Some(b), [1, 1], [1, 1], [1, 1], 1)
                }
                // Not in place: a tapped conv output must survive its ReLU.
                Op::Relu => x.relu(),
                Op::Pool => match self.pooling {
                    Pooling::Max => x.max_pool2d([2, 2], [2, 2], [0, 0], [1, 1], false),
                    Pooling::Avg => x.avg_pool2d([2, 2], [2, 2], [0, 0], false, true, None),
                },
            };
            for (slot, &want) in out.iter_mut().zip(layers) {
                if want == i {
                    *slot = Some(x.shallow_clone());
                }
            }
        }
        let scale = self.activation_scale();
        out.into_iter()
            .map(|t| t.expect("every requested layer was reached"))
            .map(|t| if scale == 1.0 { t } else { t * scale })
            .collect()
    }

    /// Height x width (M) of layer `index`'s output for an `h` x `w` input: each 2x2 pool
    /// halves (rounding down), convolutions keep the size.
    pub fn positions(&self, index: usize, h: i64, w: i64) -> i64 {
        let (gw, gh) = self.grid(index, h, w);
        gw * gh
    }

    /// (width, height) of layer `index`'s activation for an `h` x `w` input.
    pub fn grid(&self, index: usize, h: i64, w: i64) -> (i64, i64) {
        let pools = self.ops[..=index].iter().filter(|op| **op == Op::Pool).count() as u32;
        (w >> pools, h >> pools)
    }

    /// Number of convolution layers this network has (13 or 16).
    pub fn conv_count(&self) -> usize {
        self.convs.iter().filter(|c| c.is_some()).count()
    }

    /// A weight value by `features` index, for checks against published values.
    pub fn conv_weight(&self, index: usize) -> Option<&Tensor> {
        self.convs.get(index)?.as_ref().map(|(w, _)| w)
    }
    pub fn conv_bias(&self, index: usize) -> Option<&Tensor> {
        self.convs.get(index)?.as_ref().map(|(_, b)| b)
    }
}
