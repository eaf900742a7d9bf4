//! Every knob of the method, with defaults that give a balanced painting with the offline
//! VGG16 (measured: see docs/engine.md).

use super::invalid::Invalid;
use serde::{Deserialize, Serialize};

use super::faces::FaceWeights;
use super::optim::OptimizerKind;
use super::vgg::Pooling;

/// A layer name (`relu4_2`) and its weight in the loss.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct LayerWeight(pub String, pub f64);

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum InitKind {
    /// Start from the photo: fastest to a recognisable painting (default for the gallery).
    #[default]
    Content,
    /// Start from seeded uniform noise, the classic choice of the paper.
    Random,
}

/// Most iterations per level (a painting at 4096 px takes hours with fewer).
pub const MAX_ITERATIONS: u32 = 100_000;
/// Longest edge of the resized style image (`size * style_scale`).
pub const MAX_STYLE_EDGE: u32 = 4096;
/// Most L-BFGS pairs: each holds two image-sized tensors.
pub const MAX_LBFGS_HISTORY: usize = 200;

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct StyleParams {
    /// Longer edge of the finished painting in pixels.
    pub size: u32,
    /// Optimiser iterations at each level of the coarse-to-fine schedule.
    pub iterations: u32,
    /// Coarse-to-fine levels; each halves the size of the next (1 = single scale).
    pub levels: u32,
    /// Content layers and weights (paper: conv4_2).
    pub content_layers: Vec<LayerWeight>,
    /// Style layers and weights w_l (paper: relu1_1..relu5_1, 1/5 each).
    pub style_layers: Vec<LayerWeight>,
    /// alpha.
    pub content_weight: f64,
    /// beta.
    pub style_weight: f64,
    /// lambda of the total variation term (pixel units 0..255).
    pub tv_weight: f64,
    /// Scale beta with the painting's pixel count relative to 256x256. The paper's content
    /// loss is a sum over pixels while its style loss is normalised, so without this the
    /// same alpha/beta paints less style at larger sizes.
    pub size_invariant_weights: bool,
    pub optimizer: OptimizerKind,
    pub init: InitKind,
    /// Keep the photo's colours: the painting's luminance with the photo's chroma (YIQ).
    pub preserve_colors: bool,
    /// Size of the style image relative to the painting (bigger = larger brush strokes).
    pub style_scale: f64,
    /// Seed for random init and anything else random.
    pub seed: u64,
    pub pooling: Pooling,
    /// Faces found in the photo get their own gains (content up, style relaxed). Gains of 1
    /// give the paper's objective everywhere.
    pub faces: FaceWeights,
}

impl Default for StyleParams {
    fn default() -> Self {
        StyleParams {
            size: 384,
            iterations: 100,
            levels: 2,
            content_layers: vec![LayerWeight("relu4_2".into(), 1.0)],
            style_layers: ["relu1_1", "relu2_1", "relu3_1", "relu4_1", "relu5_1"]
                .iter()
                .map(|n| LayerWeight(n.to_string(), 0.2))
                .collect(),
            content_weight: 1.0,
            style_weight: 1e3,
            tv_weight: 1e-3,
            size_invariant_weights: true,
            optimizer: OptimizerKind::default(),
            init: InitKind::Content,
            preserve_colors: false,
            style_scale: 1.0,
            seed: 0,
            pooling: Pooling::Max,
            faces: FaceWeights::default(),
        }
    }
}

impl StyleParams {
    pub fn validate(&self) -> Result<(), Invalid> {
        if !(32..=4096).contains(&self.size) {
            return Err(Invalid::new("size", format!("size {} is outside 32..=4096", self.size)));
        }
        if !(1..=MAX_ITERATIONS).contains(&self.iterations) {
            return Err(Invalid::new(
                "iterations",
                format!("iterations {} is outside 1..={MAX_ITERATIONS}", self.iterations),
            ));
        }
        if !(1..=5).contains(&self.levels) {
            return Err(Invalid::new("levels", format!("levels {} is outside 1..=5", self.levels)));
        }
        if self.content_layers.is_empty() && self.style_layers.is_empty() {
            return Err(Invalid::new("content_layers", "at least one content or style layer is needed"));
        }
        for (what, v) in [
            ("content_weight", self.content_weight),
            ("style_weight", self.style_weight),
            ("tv_weight", self.tv_weight),
        ] {
            if !(v.is_finite() && v >= 0.0) {
                return Err(Invalid::new(what, format!("{what} must be a finite number >= 0, got {v}")));
            }
        }
        if !(self.style_scale > 0.05 && self.style_scale <= 4.0) {
            return Err(Invalid::new("style_scale", format!("style_scale {} is outside (0.05, 4]", self.style_scale)));
        }
        // The style image is resized to size * style_scale: relu1_1 of a 16384 px image alone
        // is 64 GB, far past the service's memory limit.
        let style_edge = self.size as f64 * self.style_scale;
        if style_edge > MAX_STYLE_EDGE as f64 {
            return Err(Invalid::new(
                "size",
                format!(
                    "size {} x style_scale {} makes a {style_edge:.0} px style image, more than {MAX_STYLE_EDGE} px",
                    self.size, self.style_scale
                ),
            ));
        }
        for LayerWeight(name, w) in self.content_layers.iter().chain(&self.style_layers) {
            if !(w.is_finite() && *w >= 0.0) {
                return Err(Invalid::new(
                    "style_layers",
                    format!("layer {name}: weight {w} must be a finite number >= 0"),
                ));
            }
        }
        self.faces.validate().map_err(|e| e.within("faces"))?;
        if let super::optim::OptimizerKind::Lbfgs { history } = self.optimizer
            && !(1..=MAX_LBFGS_HISTORY).contains(&history)
        {
            return Err(Invalid::new(
                "optimizer",
                format!("lbfgs history {history} is outside 1..={MAX_LBFGS_HISTORY}"),
            ));
        }
        if let super::optim::OptimizerKind::Adam { lr } = self.optimizer
            && !(lr > 0.0 && lr.is_finite())
        {
            return Err(Invalid::new("optimizer", format!("adam lr must be > 0, got {lr}")));
        }
        Ok(())
    }

    /// Longer edge of each level, coarse to fine (never below 64 px).
    pub fn level_sizes(&self) -> Vec<u32> {
        (0..self.levels).map(|l| (self.size >> (self.levels - 1 - l)).max(64.min(self.size))).collect()
    }

    pub fn total_iterations(&self) -> u32 {
        // Bounded by validate; saturating all the same: a count must never panic the worker.
        self.iterations.saturating_mul(self.levels)
    }
}

/// A style image with an identity (the Gram cache's key) and its blend weight. It lives here,
/// beside the parameters, because both the targets and the painter use it.
#[derive(Clone)]
pub struct StyleImage {
    pub id: String,
    pub image: std::sync::Arc<image::RgbImage>,
    pub weight: f64,
}
