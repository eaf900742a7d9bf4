//! Progressive refinement: a [`Refiner`] holds the network, the targets and the iterate, and
//! advances one optimiser iteration per [`Refiner::step`], so a caller can show, cancel or
//! retarget the painting between any two steps without reloading the network.

use std::time::Instant;

use image::RgbImage;
use tch::{Device, Kind, Tensor};

use super::device::{EngineDevice, Precision};
use super::faces::FaceBox;
use super::graphed::Evaluator;
use super::imageio::{fit_long_edge, from_tensor, keep_chroma, resize, resize_tensor, to_tensor};
use super::live::{LiveMemory, LiveSettings};
use super::objective::TermWeights;
use super::optim::Optimizer;
use super::params::{InitKind, StyleImage, StyleParams};
use super::targets::{self, GramCache, LayerPlan, Targets};
use super::vgg::Vgg;
use super::{EngineError, catch_torch};

/// The loss terms at the last evaluated point: raw Lc, Ls, TV and the weighted total.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct LossParts {
    pub content: f64,
    pub style: f64,
    pub tv: f64,
    /// Live video's temporal term, raw (0 without one).
    pub temporal: f64,
    pub total: f64,
}

/// What [`Refiner::follow`] found between the previous frame and the new one.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Follow {
    /// Share of the picture that changed (0..1).
    pub changed: f64,
    /// The optimiser kept its memory (a small change at the same size).
    pub kept_optimizer: bool,
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
    /// Objective evaluations over the current run (L-BFGS's line search may spend several
    /// per iteration; Adam spends one).
    pub evaluations: u64,
}

/// Uniform noise in 0..255 from a seed (SplitMix64): the classic random start, reproducible.
pub fn seeded_noise(seed: u64, n: usize) -> Vec<f32> {
    let mut state = seed.wrapping_add(0x9E37_79B9_7F4A_7C15);
    (0..n)
        .map(|_| {
            state = state.wrapping_add(0x9E37_79B9_7F4A_7C15);
            let mut z = state;
            z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
            z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
            ((z ^ (z >> 31)) >> 40) as f32 / (1u64 << 24) as f32 * 255.0
        })
        .collect()
}

pub struct Refiner {
    vgg: Vgg,
    device: EngineDevice,
    params: StyleParams,
    plan: LayerPlan,
    content: Option<RgbImage>,
    /// The faces in the content photo (fractions of its size).
    faces: Vec<FaceBox>,
    styles: Vec<StyleImage>,
    gram_cache: GramCache,
    targets: Option<Targets>,
    x: Option<Tensor>,
    optimizer: Optimizer,
    level: u32,
    level_iteration: u32,
    iteration: u32,
    losses: LossParts,
    run_started: Instant,
    run_iterations: u32,
    run_evaluations: u64,
    /// Read the loss values back every this many steps (each read waits for the GPU).
    loss_readback_every: u32,
    /// Weight of the temporal term while a live frame's temporal target is set.
    temporal_weight: f64,
    /// Live video: what the mirror remembers between frames (at the finest level).
    live_memory: Option<LiveMemory>,
    /// Eager evaluation of the objective, or CUDA-graph replay.
    evaluator: Evaluator,
    /// The loss terms of the last step, still on the device.
    last_parts: Option<Tensor>,
}

impl Refiner {
    pub fn new(mut vgg: Vgg, device: EngineDevice, params: StyleParams) -> Result<Refiner, EngineError> {
        params.validate().map_err(|e| EngineError::InvalidParams(e.to_string()))?;
        if device.precision == Precision::Mixed {
            // bf16 convolutions (tensor cores), fp32 Grams and losses: bf16 keeps fp32's
            // range, which the 0..255 Caffe activations need.
            vgg.set_compute_kind(Kind::BFloat16);
        }
        // NHWC is a GPU lever; on CPU it is honoured too (same values), for testing.
        vgg.set_channels_last(device.gpu.channels_last);
        let plan = LayerPlan::new(&vgg, &params)?;
        let optimizer = Optimizer::new(params.optimizer);
        Ok(Refiner {
            vgg,
            device,
            params,
            plan,
            content: None,
            faces: Vec::new(),
            styles: Vec::new(),
            gram_cache: GramCache::default(),
            targets: None,
            x: None,
            optimizer,
            level: 0,
            level_iteration: 0,
            iteration: 0,
            losses: LossParts::default(),
            run_started: Instant::now(),
            run_iterations: 0,
            run_evaluations: 0,
            loss_readback_every: 1,
            temporal_weight: 0.0,
            live_memory: None,
            evaluator: Evaluator::new(device),
            last_parts: None,
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
    /// The optimiser's memory (curvature pairs or Adam steps): what Live keeps across frames.
    pub fn optimizer_memory(&self) -> usize {
        self.optimizer.memory()
    }

    pub fn vgg(&self) -> &Vgg {
        &self.vgg
    }
    pub fn device(&self) -> EngineDevice {
        self.device
    }
    /// Gives the network back, in fp32 and NCHW whatever this painter had set (for a next
    /// painter with other settings, without loading the weights again).
    pub fn into_vgg(self) -> Vgg {
        let mut vgg = self.vgg;
        vgg.set_compute_kind(Kind::Float);
        vgg.set_channels_last(false);
        vgg
    }

    /// Replaces how the objective is evaluated (tests: [`Evaluator::emulated`]).
    pub fn set_evaluator(&mut self, evaluator: Evaluator) {
        self.evaluator = evaluator;
    }

    /// Whether the objective runs as CUDA graphs, and if not, why.
    pub fn evaluator_status(&self) -> String {
        self.evaluator.status()
    }
    fn torch_device(&self) -> Device {
        self.device.device
    }

    /// New parameters take effect at the next restart (sizes) or immediately (weights).
    pub fn set_params(&mut self, params: StyleParams) -> Result<(), EngineError> {
        params.validate().map_err(|e| EngineError::InvalidParams(e.to_string()))?;
        let plan = LayerPlan::new(&self.vgg, &params)?;
        if plan.style_layers != self.plan.style_layers
            || params.style_scale != self.params.style_scale
            || params.pooling != self.params.pooling
        {
            self.gram_cache.clear();
        }
        self.vgg.set_pooling(params.pooling);
        let restart_needed = params.size != self.params.size || params.levels != self.params.levels;
        self.plan = plan;
        // Captured graphs hold the old plan's targets and weights.
        self.evaluator.forget_graphs();
        self.optimizer = Optimizer::new(params.optimizer);
        self.params = params;
        self.targets = None;
        if restart_needed {
            self.x = None;
        }
        Ok(())
    }

    /// Sets the photo to paint. The iterate is kept: call [`Refiner::restart`] or
    /// [`Refiner::warm_start`] to decide how the painting continues.
    pub fn set_content(&mut self, content: RgbImage) {
        self.content = Some(content);
        self.targets = None;
    }

    /// The faces in the photo (from a detector, in fractions of the photo's size): the
    /// content term holds them closer ([`StyleParams::faces`]). Empty: none, the plain
    /// objective. Takes effect at the next step; set it before [`Refiner::follow`] in Live.
    pub fn set_faces(&mut self, faces: Vec<FaceBox>) {
        if faces != self.faces {
            self.faces = faces;
            self.targets = None;
        }
    }

    pub fn faces(&self) -> &[FaceBox] {
        &self.faces
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
        self.faces.clear();
        self.targets = None;
        self.x = None;
        self.live_memory = None;
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
            self.run_evaluations = 0;
            self.reset_optimizer();
            self.ensure_targets()?;
            let t = self.targets.as_mut().expect("targets were just built");
            // A fresh start has no previous painting to stay close to.
            t.set_temporal(None);
            self.live_memory = None;
            let x = match (init, self.params.init) {
                (Some(img), _) => to_tensor(&resize(img, t.width, t.height), self.torch_device()),
                (None, InitKind::Content) => t.content_rgb.copy(),
                (None, InitKind::Random) => {
                    // A generator of our own, not tch::manual_seed: that one is global, and
                    // another painter (a test, a second worker) could reseed it in between.
                    let noise = seeded_noise(self.params.seed, (3 * t.height * t.width) as usize);
                    Tensor::from_slice(&noise)
                        .view([1, 3, t.height as i64, t.width as i64])
                        .to_device(self.torch_device())
                }
            };
            self.x = Some(x);
            Ok(())
        })
    }

    /// Keeps the current painting but pulls it towards the current content,
    /// `x = keep * x + (1 - keep) * content`, and continues at the finest level with a fresh
    /// optimiser (a new style in Live mode: the painting morphs instead of starting over).
    pub fn warm_start(&mut self, keep: f64) -> Result<(), EngineError> {
        let Some(prev) = self.x.take() else { return self.restart(None) };
        catch_torch(|| {
            self.reset_optimizer();
            self.level = self.params.levels - 1;
            self.targets = None;
            self.ensure_targets()?;
            let t = self.targets.as_ref().expect("targets were just built");
            let prev = resize_tensor(&prev, t.width, t.height);
            self.x = Some(prev * keep + &t.content_rgb * (1.0 - keep));
            self.begin_level_run();
            Ok(())
        })
    }

    /// Continues a painting made elsewhere (another painter of the farm took over a Live
    /// session): the current content with `painting` as the iterate, at the finest level,
    /// with a fresh optimiser. The next [`Refiner::follow`] carries it over as its own.
    pub fn continue_from(&mut self, painting: &RgbImage) -> Result<(), EngineError> {
        catch_torch(|| {
            self.reset_optimizer();
            self.level = self.params.levels - 1;
            self.targets = None;
            self.live_memory = None;
            self.ensure_targets()?;
            let t = self.targets.as_mut().expect("targets were just built");
            t.set_temporal(None);
            let (w, h) = (t.width, t.height);
            self.x = Some(to_tensor(&resize(painting, w, h), self.torch_device()));
            self.begin_level_run();
            Ok(())
        })
    }

    /// Live video: the next camera frame. The painting carries over where the scene held still
    /// (and a temporal loss keeps it there, Ruder et al. 2016 with zero flow); where the frame
    /// changed it starts from `keep * painting + (1 - keep) * photo` and is free to follow.
    /// Continues at the finest level: the coarse levels only serve the first frame (a camera
    /// always has a new frame before a coarse level could end). The optimiser keeps its memory
    /// unless much of the picture changed or the size did.
    pub fn follow(&mut self, frame: RgbImage, live: &LiveSettings) -> Result<Follow, EngineError> {
        let (Some(prev), Some(old_frame)) = (self.x.take(), self.content.take()) else {
            self.set_content(frame);
            self.restart(None)?;
            return Ok(Follow { changed: 1.0, kept_optimizer: false });
        };
        catch_torch(|| {
            let device = self.torch_device();
            let finest = self.params.levels - 1;
            let same_level = self.level == finest;
            self.level = finest;
            self.set_content(frame);
            self.ensure_targets()?;
            let t = self.targets.as_mut().expect("targets were just built");
            let (w, h) = (t.width, t.height);
            let same_size = same_level && prev.size()[2..] == [h as i64, w as i64];
            let prev = resize_tensor(&prev, w, h).detach();
            let old = to_tensor(&resize(&old_frame, w, h), device);
            let mut memory = match self.live_memory.take() {
                Some(m) if same_size && m.matches(&old) => m,
                _ => LiveMemory::settled(&old, &prev),
            };
            let carry = memory.carry_over(&old, &t.content_rgb, &prev, live);
            self.live_memory = Some(memory);
            let changed = carry.changed;
            self.x = Some(carry.start);
            t.set_temporal(Some(carry.temporal));
            self.temporal_weight = live.temporal_weight;
            let kept_optimizer = same_size && changed <= live.fresh_start_above;
            if kept_optimizer {
                self.optimizer.objective_changed();
            } else {
                self.reset_optimizer();
            }
            self.begin_level_run();
            Ok(Follow { changed, kept_optimizer })
        })
    }

    /// Counters for a new run at the current level (after a warm start or a new frame).
    fn begin_level_run(&mut self) {
        self.level_iteration = 0;
        self.run_started = Instant::now();
        self.run_iterations = 0;
        self.run_evaluations = 0;
        self.iteration = self.level * self.params.iterations;
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
            evaluations: self.run_evaluations,
        }
    }

    fn ensure_targets(&mut self) -> Result<(), EngineError> {
        let (w, h) = self.level_dims(self.level)?;
        if matches!(&self.targets, Some(t) if t.width == w && t.height == h) {
            return Ok(());
        }
        let content = self.content.as_ref().expect("level_dims checked the content");
        let device = self.torch_device();
        self.targets = Some(targets::build(
            &self.vgg,
            &self.plan,
            &mut self.gram_cache,
            targets::Photo { image: content, faces: &self.faces },
            &self.styles,
            (w, h),
            &self.params,
            device,
        )?);
        Ok(())
    }

    /// The loss terms of the last step, read back now (waits for the device).
    pub fn current_losses(&self) -> Result<LossParts, EngineError> {
        let Some(parts) = &self.last_parts else { return Ok(self.losses) };
        // One device->host copy for all five numbers.
        let v: Vec<f64> = Vec::<f64>::try_from(&parts.to_kind(Kind::Double).to_device(Device::Cpu))
            .map_err(|e| EngineError::Torch(e.to_string()))?;
        Ok(LossParts { total: v[0], content: v[1], style: v[2], tv: v[3], temporal: v[4] })
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
            let params = &self.params;
            let weights = TermWeights {
                content: params.content_weight,
                // Size-invariant beta: the style term's weight grows with the number of pixels.
                style: if params.size_invariant_weights {
                    params.style_weight * (w as f64 * h as f64) / (256.0 * 256.0)
                } else {
                    params.style_weight
                },
                tv: params.tv_weight,
                temporal: self.temporal_weight,
            };
            let (vgg, plan, evaluator) = (&self.vgg, &self.plan, &mut self.evaluator);
            let result = self.optimizer.step(&mut x, &mut |x: &Tensor| evaluator.evaluate(vgg, plan, t, weights, x))?;
            self.x = Some(x);
            self.level_iteration += 1;
            self.iteration += 1;
            self.run_iterations += 1;
            self.run_evaluations += result.evaluations as u64;
            let level_done = self.level_iteration >= self.params.iterations;
            self.last_parts = Some(result.parts);
            if level_done || self.iteration.is_multiple_of(self.loss_readback_every.max(1)) {
                self.losses = self.current_losses()?;
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
