//! Progressive refinement: a [`Painter`] holds the network, the targets and the iterate, and
//! advances one optimiser iteration per [`Painter::step`], so a caller can show, cancel or
//! retarget the painting between any two steps without reloading the network.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Instant;

use image::RgbImage;
use tch::{Device, Kind, Tensor};

use super::device::{EngineDevice, Precision};
use super::imageio::{fit_long_edge, from_tensor, resize, resize_tensor, to_tensor};
use super::loss::{content_loss, gram, style_layer_loss, total_variation};
use super::optim::{Evaluation, Optimizer};
use super::params::{InitKind, StyleParams};
use super::vgg::{Vgg, layer_index};
use super::{EngineError, catch_torch};

/// A style image with an identity (for the Gram cache) and its blend weight.
#[derive(Clone)]
pub struct StyleImage {
    pub id: String,
    pub image: Arc<RgbImage>,
    pub weight: f64,
}

/// The loss terms at the last evaluated point: raw Lc, Ls, TV and the weighted total.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct LossParts {
    pub content: f64,
    pub style: f64,
    pub tv: f64,
    pub total: f64,
}

#[derive(Clone, Copy, Debug, Default)]
pub struct Progress {
    /// Iterations done, over all levels.
    pub iteration: u32,
    pub total_iterations: u32,
    pub level: u32,
    pub levels: u32,
    pub losses: LossParts,
    /// Iterations per second over the current run (since the last restart).
    pub iterations_per_second: f64,
}

struct LayerPlan {
    /// Union of content and style layers: one forward pass serves both.
    taps: Vec<usize>,
    /// (position in `taps`, weight)
    content: Vec<(usize, f64)>,
    style: Vec<(usize, f64)>,
    style_layers: Vec<usize>,
    content_layers: Vec<usize>,
}

struct Targets {
    width: u32,
    height: u32,
    content_rgb: Tensor,
    content_features: Vec<Tensor>,
    /// Blended style Grams, one per style layer, scaled to this size's M.
    style_grams: Vec<Tensor>,
}

pub struct Painter {
    vgg: Vgg,
    device: EngineDevice,
    params: StyleParams,
    plan: LayerPlan,
    content: Option<RgbImage>,
    styles: Vec<StyleImage>,
    /// Unblended Grams per (style id, style image size): computed once, reused across
    /// captures and levels. Cleared when the style layers change.
    gram_cache: HashMap<(String, u32, u32), Vec<Tensor>>,
    targets: Option<Targets>,
    x: Option<Tensor>,
    optimizer: Optimizer,
    level: u32,
    level_iteration: u32,
    iteration: u32,
    losses: LossParts,
    run_started: Instant,
    run_iterations: u32,
    /// Read the loss values back every this many steps (each read waits for the GPU).
    loss_readback_every: u32,
}

fn plan(vgg: &Vgg, params: &StyleParams) -> Result<LayerPlan, EngineError> {
    let mut taps: Vec<usize> = Vec::new();
    let mut tap = |i: usize| match taps.iter().position(|&t| t == i) {
        Some(p) => p,
        None => {
            taps.push(i);
            taps.len() - 1
        }
    };
    let mut content = Vec::new();
    let mut content_layers = Vec::new();
    for l in &params.content_layers {
        let i = layer_index(vgg.arch(), &l.0)?;
        content.push((tap(i), l.1));
        content_layers.push(i);
    }
    let mut style = Vec::new();
    let mut style_layers = Vec::new();
    for l in &params.style_layers {
        let i = layer_index(vgg.arch(), &l.0)?;
        style.push((tap(i), l.1));
        style_layers.push(i);
    }
    Ok(LayerPlan { taps, content, style, style_layers, content_layers })
}

impl Painter {
    pub fn new(mut vgg: Vgg, device: EngineDevice, params: StyleParams) -> Result<Painter, EngineError> {
        params.validate().map_err(EngineError::InvalidParams)?;
        if device.precision == Precision::Mixed {
            // bf16 convolutions (tensor cores), fp32 Grams and losses: bf16 keeps fp32's
            // range, which the 0..255 Caffe activations need.
            vgg.set_compute_kind(Kind::BFloat16);
        }
        let plan = plan(&vgg, &params)?;
        let optimizer = Optimizer::new(params.optimizer);
        Ok(Painter {
            vgg,
            device,
            params,
            plan,
            content: None,
            styles: Vec::new(),
            gram_cache: HashMap::new(),
            targets: None,
            x: None,
            optimizer,
            level: 0,
            level_iteration: 0,
            iteration: 0,
            losses: LossParts::default(),
            run_started: Instant::now(),
            run_iterations: 0,
            loss_readback_every: 1,
        })
    }

    /// Losses in [`Progress`] are refreshed every `n` steps (and at the end of each level);
    /// between reads the GPU runs ahead of the CPU. 1 (the default) reads every step.
    pub fn set_loss_readback_every(&mut self, n: u32) {
        self.loss_readback_every = n.max(1);
    }

    pub fn params(&self) -> &StyleParams {
        &self.params
    }
    pub fn vgg(&self) -> &Vgg {
        &self.vgg
    }
    pub fn device(&self) -> EngineDevice {
        self.device
    }
    fn torch_device(&self) -> Device {
        self.device.device
    }

    /// New parameters take effect at the next restart (sizes) or immediately (weights).
    pub fn set_params(&mut self, params: StyleParams) -> Result<(), EngineError> {
        params.validate().map_err(EngineError::InvalidParams)?;
        let plan = plan(&self.vgg, &params)?;
        if plan.style_layers != self.plan.style_layers
            || params.style_scale != self.params.style_scale
            || params.pooling != self.params.pooling
        {
            self.gram_cache.clear();
        }
        self.vgg.set_pooling(params.pooling);
        let restart_needed = params.size != self.params.size || params.levels != self.params.levels;
        self.plan = plan;
        self.optimizer = Optimizer::new(params.optimizer);
        self.params = params;
        self.targets = None;
        if restart_needed {
            self.x = None;
        }
        Ok(())
    }

    /// Sets the photo to paint. The iterate is kept: call [`Painter::restart`] or
    /// [`Painter::warm_start`] to decide how the painting continues.
    pub fn set_content(&mut self, content: RgbImage) {
        self.content = Some(content);
        self.targets = None;
    }

    /// Sets the style(s) and their blend weights; takes effect at the next step.
    pub fn set_styles(&mut self, styles: Vec<StyleImage>) -> Result<(), EngineError> {
        if styles.is_empty() || styles.iter().all(|s| s.weight <= 0.0) {
            return Err(EngineError::InvalidParams("at least one style with a positive weight is needed".into()));
        }
        self.styles = styles;
        self.targets = None;
        self.reset_optimizer();
        Ok(())
    }

    pub fn has_content(&self) -> bool {
        self.content.is_some()
    }

    /// Drops the photo, its targets and the painting (a visitor's picture leaves with them).
    /// Style Grams stay cached: they belong to the artworks.
    pub fn forget(&mut self) {
        self.content = None;
        self.targets = None;
        self.x = None;
        self.reset_optimizer();
    }

    fn reset_optimizer(&mut self) {
        self.optimizer = Optimizer::new(self.params.optimizer);
    }

    fn level_dims(&self, level: u32) -> Result<(u32, u32), EngineError> {
        let c = self.content.as_ref().ok_or(EngineError::NotReady("no content image"))?;
        let long = self.params.level_sizes()[level as usize];
        Ok(fit_long_edge(c.width(), c.height(), long))
    }

    /// Final painting dimensions for the current content.
    pub fn output_dims(&self) -> Result<(u32, u32), EngineError> {
        self.level_dims(self.params.levels - 1)
    }

    /// Starts the schedule from its coarsest level with the given initial image
    /// (`None` = the params' init kind).
    pub fn restart(&mut self, init: Option<&RgbImage>) -> Result<(), EngineError> {
        catch_torch(|| {
            self.level = 0;
            self.level_iteration = 0;
            self.iteration = 0;
            self.run_started = Instant::now();
            self.run_iterations = 0;
            self.reset_optimizer();
            self.ensure_targets()?;
            let t = self.targets.as_ref().expect("targets were just built");
            let x = match (init, self.params.init) {
                (Some(img), _) => to_tensor(&resize(img, t.width, t.height), self.torch_device()),
                (None, InitKind::Content) => t.content_rgb.copy(),
                (None, InitKind::Random) => {
                    tch::manual_seed(self.params.seed as i64);
                    Tensor::rand([1, 3, t.height as i64, t.width as i64], (Kind::Float, self.torch_device())) * 255.0
                }
            };
            self.x = Some(x);
            Ok(())
        })
    }

    /// Live video: keeps refining the current painting but pulls it towards the new content,
    /// `x = keep * x + (1 - keep) * content`, so the result follows the visitor without
    /// starting over (which would flicker). Stays on the current level.
    pub fn warm_start(&mut self, keep: f64) -> Result<(), EngineError> {
        let Some(prev) = self.x.take() else { return self.restart(None) };
        catch_torch(|| {
            self.reset_optimizer();
            self.targets = None;
            self.ensure_targets()?;
            let t = self.targets.as_ref().expect("targets were just built");
            let prev = resize_tensor(&prev, t.width, t.height);
            self.x = Some(prev * keep + &t.content_rgb * (1.0 - keep));
            self.level_iteration = 0;
            self.run_started = Instant::now();
            self.run_iterations = 0;
            self.iteration = self.level * self.params.iterations;
            Ok(())
        })
    }

    pub fn is_finished(&self) -> bool {
        self.level + 1 >= self.params.levels && self.level_iteration >= self.params.iterations
    }

    pub fn progress(&self) -> Progress {
        let secs = self.run_started.elapsed().as_secs_f64();
        Progress {
            iteration: self.iteration,
            total_iterations: self.params.total_iterations(),
            level: self.level,
            levels: self.params.levels,
            losses: self.losses,
            iterations_per_second: if secs > 0.0 { self.run_iterations as f64 / secs } else { 0.0 },
        }
    }

    fn style_grams_for(&mut self, style: &StyleImage, long_edge: u32) -> Vec<Tensor> {
        let (w, h) = fit_long_edge(style.image.width(), style.image.height(), long_edge.max(32));
        let key = (style.id.clone(), w, h);
        if let Some(g) = self.gram_cache.get(&key) {
            return g.iter().map(|t| t.shallow_clone()).collect();
        }
        let grams: Vec<Tensor> = tch::no_grad(|| {
            let input = self.vgg.preprocess(&to_tensor(&resize(&style.image, w, h), self.torch_device()));
            let feats = self.vgg.features(&input, &self.plan.style_layers);
            feats.iter().map(|f| gram(&f.to_kind(Kind::Float))).collect()
        });
        self.gram_cache.insert(key, grams.iter().map(|t| t.shallow_clone()).collect());
        grams
    }

    fn ensure_targets(&mut self) -> Result<(), EngineError> {
        let (w, h) = self.level_dims(self.level)?;
        if matches!(&self.targets, Some(t) if t.width == w && t.height == h) {
            return Ok(());
        }
        if self.styles.is_empty() && !self.plan.style.is_empty() {
            return Err(EngineError::NotReady("no style image"));
        }
        let content = self.content.as_ref().expect("level_dims checked the content");
        let content_rgb = to_tensor(&resize(content, w, h), self.torch_device());
        let content_features = tch::no_grad(|| {
            let f = self.vgg.features(&self.vgg.preprocess(&content_rgb), &self.plan.content_layers);
            f.into_iter().map(|t| t.to_kind(Kind::Float)).collect::<Vec<_>>()
        });
        // M of each style layer for the painting at this size.
        let style_long = ((w.max(h) as f64) * self.params.style_scale).round() as u32;
        let m_painting: Vec<i64> =
            self.plan.style_layers.iter().map(|&l| self.vgg.positions(l, h as i64, w as i64)).collect();
        let total_weight: f64 = self.styles.iter().map(|s| s.weight.max(0.0)).sum();
        let mut blended: Vec<Option<Tensor>> = (0..self.plan.style_layers.len()).map(|_| None).collect();
        let styles = self.styles.clone();
        for style in styles.iter().filter(|s| s.weight > 0.0) {
            let (sw, sh) = fit_long_edge(style.image.width(), style.image.height(), style_long.max(32));
            let m_style: Vec<i64> =
                self.plan.style_layers.iter().map(|&l| self.vgg.positions(l, sh as i64, sw as i64)).collect();
            let grams = self.style_grams_for(style, style_long);
            for (l, g) in grams.into_iter().enumerate() {
                // Rescale to the painting's M so E_l compares like with like when the
                // style image has another size; blending Grams with normalised weights
                // has the same gradient as the weighted sum of per-style losses.
                let scaled = g * (m_painting[l] as f64 / m_style[l] as f64) * (style.weight / total_weight);
                blended[l] = Some(match blended[l].take() {
                    Some(acc) => acc + scaled,
                    None => scaled,
                });
            }
        }
        let style_grams = blended.into_iter().map(|g| g.expect("at least one weighted style")).collect();
        self.targets = Some(Targets { width: w, height: h, content_rgb, content_features, style_grams });
        Ok(())
    }

    /// One optimiser iteration (advancing the coarse-to-fine schedule when a level ends).
    /// Does nothing once finished.
    pub fn step(&mut self) -> Result<Progress, EngineError> {
        if self.is_finished() {
            return Ok(self.progress());
        }
        catch_torch(|| {
            if self.x.is_none() {
                self.restart(None)?;
            }
            self.ensure_targets()?;
            let mut x = self.x.take().expect("restart made an iterate");
            // Coming back from a level change or new content: match the iterate to the targets.
            let t = self.targets.as_ref().expect("ensured");
            let (w, h) = (t.width, t.height);
            x = resize_tensor(&x, w, h);
            let result = {
                let vgg = &self.vgg;
                let plan = &self.plan;
                let params = &self.params;
                let beta = if params.size_invariant_weights {
                    params.style_weight * (w as f64 * h as f64) / (256.0 * 256.0)
                } else {
                    params.style_weight
                };
                let mut objective = |x: &Tensor| -> Result<Evaluation<Tensor>, EngineError> {
                    let xg = x.detach().set_requires_grad(true);
                    let feats = vgg.features(&vgg.preprocess(&xg), &plan.taps);
                    let device = xg.device();
                    let mut lc = Tensor::zeros([], (Kind::Float, device));
                    for ((pos, wgt), target) in plan.content.iter().zip(&t.content_features) {
                        lc += content_loss(&feats[*pos].to_kind(Kind::Float), target) * *wgt;
                    }
                    let mut ls = Tensor::zeros([], (Kind::Float, device));
                    for ((pos, wgt), target) in plan.style.iter().zip(&t.style_grams) {
                        let f = feats[*pos].to_kind(Kind::Float);
                        let s = f.size();
                        ls += style_layer_loss(&gram(&f), target, s[1], s[2] * s[3]) * *wgt;
                    }
                    let tv = total_variation(&xg);
                    let total = &lc * params.content_weight + &ls * beta + &tv * params.tv_weight;
                    total.backward();
                    // The four numbers stay on the device until someone reads them.
                    let parts = Tensor::stack(&[total.detach(), lc.detach(), ls.detach(), tv.detach()], 0);
                    Ok(Evaluation { loss: total.detach(), grad: xg.grad(), parts })
                };
                self.optimizer.step(&mut x, &mut objective)?
            };
            self.x = Some(x);
            self.level_iteration += 1;
            self.iteration += 1;
            self.run_iterations += 1;
            let level_done = self.level_iteration >= self.params.iterations;
            if level_done || self.iteration % self.loss_readback_every.max(1) == 0 {
                // One device->host copy for all four numbers.
                let v: Vec<f64> = Vec::<f64>::try_from(&result.parts.to_kind(Kind::Double).to_device(Device::Cpu))
                    .map_err(|e| EngineError::Torch(e.to_string()))?;
                self.losses = LossParts { total: v[0], content: v[1], style: v[2], tv: v[3] };
            }
            if self.level_iteration >= self.params.iterations && self.level + 1 < self.params.levels {
                // Next level: the iterate is upsampled lazily by the next step.
                self.level += 1;
                self.level_iteration = 0;
                self.reset_optimizer();
                self.ensure_targets()?;
            }
            Ok(self.progress())
        })
    }

    /// The painting so far at the final output size (coarse levels upsampled), with the
    /// photo's colours put back if `preserve_colors` is set.
    pub fn painting(&self) -> Result<RgbImage, EngineError> {
        let x = self.x.as_ref().ok_or(EngineError::NotReady("no painting started"))?;
        let (w, h) = self.output_dims()?;
        catch_torch(|| {
            tch::no_grad(|| {
                let mut out = resize_tensor(&x.detach(), w, h).clamp(0.0, 255.0);
                if self.params.preserve_colors {
                    let content =
                        to_tensor(&resize(self.content.as_ref().expect("checked"), w, h), self.torch_device());
                    out = keep_chroma(&out, &content);
                }
                Ok(from_tensor(&out))
            })
        })
    }

    /// The painting as a tensor at the current level size (for measurements).
    pub fn iterate(&self) -> Option<&Tensor> {
        self.x.as_ref()
    }

    pub fn cached_style_sizes(&self) -> usize {
        self.gram_cache.len()
    }
}

/// Luminance of `painting` with the chroma (I, Q of YIQ) of `photo`.
pub fn keep_chroma(painting: &Tensor, photo: &Tensor) -> Tensor {
    let dev = painting.device();
    let to_yiq = Tensor::from_slice(&[0.299f32, 0.587, 0.114, 0.596, -0.274, -0.322, 0.211, -0.523, 0.312])
        .view([3, 3])
        .to_device(dev);
    let from_yiq = to_yiq.inverse();
    let apply = |m: &Tensor, img: &Tensor| {
        let s = img.size();
        m.matmul(&img.reshape([3, s[2] * s[3]])).reshape([1, 3, s[2], s[3]])
    };
    let p = apply(&to_yiq, painting);
    let c = apply(&to_yiq, photo);
    let mixed = Tensor::cat(&[p.narrow(1, 0, 1), c.narrow(1, 1, 2)], 1);
    apply(&from_yiq, &mixed).clamp(0.0, 255.0)
}
