//! The Live mirror, measured (part of `gallery-bench live`): flicker on a static scene, Ruder et
//! al.'s temporal error in static regions, how fast the painted figure follows a visitor,
//! and how faithfully the visitor is painted, for the ways of carrying a painting from one
//! camera frame to the next. Drives the [`Refiner`] directly with scripted frames, so every
//! strategy sees the same pictures at the same moments.

use std::path::Path;
use std::sync::Arc;

use image::RgbImage;
use tch::{Kind, Tensor};

use gallery_painter::capture::synthetic::{SyntheticScene, SyntheticVisitor, WALK_S, figure_position};
use gallery_painter::engine::imageio::{self, to_tensor};
use gallery_painter::engine::live::unchanged_mask;
use gallery_painter::engine::vgg::layer_index;
use gallery_painter::engine::{EngineDevice, LiveSettings, Refiner, StyleImage, StyleParams, Vgg};

/// How the painting continues when the next camera frame arrives.
#[derive(Clone, Copy)]
enum Strategy {
    /// Start over from the new frame (what Paint does with every frame).
    Cold,
    /// Before: `0.7 * painting + 0.3 * photo` everywhere, a fresh optimiser.
    Blend,
    /// Now: [`Refiner::follow`] with these settings.
    Follow(LiveSettings),
}

impl Strategy {
    fn next_frame(self, p: &mut Refiner, frame: &RgbImage) -> anyhow::Result<()> {
        match self {
            Strategy::Cold => {
                p.set_content(frame.clone());
                p.restart(None)?
            }
            Strategy::Blend => {
                p.set_content(frame.clone());
                p.warm_start(0.7)?
            }
            Strategy::Follow(live) => {
                p.follow(frame.clone(), &live)?;
            }
        }
        Ok(())
    }
}

/// A snapshot as the display gets it, as a float tensor (0..255).
fn shown(p: &Refiner) -> anyhow::Result<Tensor> {
    Ok(to_tensor(&p.painting()?, tch::Device::Cpu))
}

fn mean_abs(a: &Tensor, b: &Tensor) -> f64 {
    (a - b).abs().mean(Kind::Float).double_value(&[])
}

/// Horizontal centre of what differs between `img` and `reference` (both `[1,3,H,W]`): the
/// centroid of the columns whose mean difference exceeds half the largest one. `None` when
/// nothing stands out (below 4 grey levels).
fn figure_x(img: &Tensor, reference: &Tensor) -> Option<f64> {
    let profile = (img - reference).abs().mean_dim(1, false, Kind::Float).mean_dim(1, false, Kind::Float);
    let v: Vec<f64> = Vec::<f64>::try_from(&profile.view([-1]).to_kind(Kind::Double)).ok()?;
    let max = v.iter().cloned().fold(0.0, f64::max);
    if max < 4.0 {
        return None;
    }
    let (mut sum, mut weight) = (0.0, 0.0);
    for (x, &d) in v.iter().enumerate() {
        if d > 0.5 * max {
            sum += (x as f64 + 0.5) * d;
            weight += d;
        }
    }
    Some(sum / weight)
}

/// `1/2 sum (F - P)^2` at the content layer, only where `region` (`[1,1,H,W]`, 0/1) touches.
fn content_loss_in(vgg: &Vgg, layer: usize, painting: &Tensor, photo: &Tensor, region: &Tensor) -> f64 {
    // The pictures come as the display gets them (on the CPU); the network may be on a GPU.
    let on_vgg = |t: &Tensor| t.to_device(vgg.device());
    tch::no_grad(|| {
        let f = &vgg.features(&vgg.preprocess(&on_vgg(painting)), &[layer])[0];
        let p = &vgg.features(&vgg.preprocess(&on_vgg(photo)), &[layer])[0];
        let s = f.size();
        let cells = on_vgg(region).adaptive_max_pool2d([s[2], s[3]]).0;
        ((f - p).square() * cells).sum(Kind::Float).double_value(&[]) * 0.5
    })
}

struct Setup<'a> {
    weights: &'a Path,
    device: EngineDevice,
    params: StyleParams,
    style: Arc<RgbImage>,
    snapshot_every: u32,
    iterations_per_frame: u32,
}

impl Setup<'_> {
    fn painter(&self) -> anyhow::Result<Refiner> {
        let vgg = Vgg::load(self.weights, self.device.device, self.params.pooling)?;
        let mut p = Refiner::new(vgg, self.device, self.params.clone())?;
        p.set_styles(vec![StyleImage { id: "s".into(), image: self.style.clone(), weight: 1.0 }])?;
        Ok(p)
    }

    /// First frame painted to the end of its schedule, as the mirror would be after a while.
    fn settled(&self, first: &RgbImage) -> anyhow::Result<Refiner> {
        let mut p = self.painter()?;
        p.set_content(first.clone());
        p.restart(None)?;
        while !p.is_finished() {
            p.step()?;
        }
        Ok(p)
    }

    /// Paints one frame's iterations; returns the snapshots the display would get.
    fn paint_frame(&self, p: &mut Refiner, s: Strategy, frame: &RgbImage) -> anyhow::Result<Vec<Tensor>> {
        s.next_frame(p, frame)?;
        let mut shots = Vec::new();
        for k in 1..=self.iterations_per_frame {
            p.step()?;
            if k % self.snapshot_every == 0 || k == self.iterations_per_frame {
                shots.push(shown(p)?);
            }
        }
        Ok(shots)
    }
}

/// Flicker: mean |change| between consecutive snapshots over `frames` identical frames.
fn static_flicker(setup: &Setup, s: Strategy, still: &RgbImage, frames: usize) -> anyhow::Result<f64> {
    let mut p = setup.settled(still)?;
    let mut prev = shown(&p)?;
    let mut changes = Vec::new();
    for _ in 0..frames {
        for shot in setup.paint_frame(&mut p, s, still)? {
            changes.push(mean_abs(&shot, &prev));
            prev = shot;
        }
    }
    Ok(changes.iter().sum::<f64>() / changes.len() as f64)
}

struct Walk {
    /// Ruder's temporal error: mean squared change between consecutive frames' paintings
    /// where the camera frame did not change.
    temporal_error: f64,
    /// Frames painted after the figure stopped until the painted figure was within the
    /// tolerance of it (`None`: not within the frames run).
    lag_frames: Option<usize>,
    /// Content loss in the figure's region on the last frame.
    figure_content_loss: f64,
    /// Mean of the style objective (without the temporal term) at the end of each frame.
    objective: f64,
    /// The painted figure's distance from the true one on the last frame, px.
    last_offset: f64,
}

/// The figure walks in over `WALK_S` and then stands still; frames are `dt` s of scene time apart.
struct WalkScript {
    scene: SyntheticScene,
    visitor: SyntheticVisitor,
    seed: u64,
    away_s: f64,
    dt: f64,
    after_stop: usize,
}

impl WalkScript {
    fn frame_at(&self, t: f64, w: u32, h: u32) -> RgbImage {
        imageio::resize(&self.scene.render(t as f32), w, h)
    }
    fn walk_frames(&self) -> usize {
        (WALK_S / self.dt).ceil() as usize
    }
    /// Frame times: the empty room, then the walk and the stand.
    fn times(&self) -> Vec<f64> {
        let n = self.walk_frames() + self.after_stop;
        (1..=n).map(|k| self.away_s + k as f64 * self.dt).collect()
    }
}

/// `GP_MIRROR_DUMP=DIR` saves each frame's painting as DIR/<strategy>-<frame>.png, to look at.
fn walk_in(setup: &Setup, name: &str, s: Strategy, script: &WalkScript, dims: (u32, u32)) -> anyhow::Result<Walk> {
    let (w, h) = dims;
    let tol = (0.025 * w as f64).max(3.0);
    let empty = script.frame_at(0.0, w, h);
    let mut p = setup.settled(&empty)?;
    let empty_t = to_tensor(&empty, tch::Device::Cpu);
    let painted_empty = shown(&p)?;
    let mut prev_frame = empty_t.shallow_clone();
    let mut prev_painting = painted_empty.shallow_clone();
    let (mut errors, mut objectives) = (Vec::new(), Vec::new());
    let mut lag = None;
    let stop_index = script.walk_frames() - 1;
    let times = script.times();
    let mut last_offset = f64::NAN;
    let mut figure_loss = f64::NAN;
    let temporal_weight = match s {
        Strategy::Follow(l) => l.temporal_weight,
        _ => 0.0,
    };
    let layer = layer_index(p.vgg().arch(), "relu4_2")?;
    for (i, &t) in times.iter().enumerate() {
        let frame = script.frame_at(t, w, h);
        let painting = setup.paint_frame(&mut p, s, &frame)?.pop().expect("a snapshot a frame");
        let frame_t = to_tensor(&frame, tch::Device::Cpu);
        let still = unchanged_mask(&prev_frame, &frame_t, 12.0, 0);
        let n = still.sum(Kind::Float).double_value(&[]) * 3.0;
        errors.push(((&painting - &prev_painting).square() * &still).sum(Kind::Float).double_value(&[]) / n.max(1.0));
        let l = p.progress().losses;
        objectives.push(l.total - temporal_weight * l.temporal);
        let truth = figure_position(script.visitor, script.seed, t).map(|f| f * w as f64);
        let painted = figure_x(&painting, &painted_empty);
        if let (Some(tx), Some(px)) = (figure_x(&frame_t, &empty_t).or(truth), painted) {
            last_offset = (px - tx).abs();
            if i >= stop_index && lag.is_none() && last_offset <= tol {
                lag = Some(i - stop_index + 1);
            }
        }
        if let Ok(dir) = std::env::var("GP_MIRROR_DUMP") {
            let file = format!("{dir}/{}-{i:02}.png", name.replace([' ', ',', '(', ')', '.'], "_"));
            imageio::from_tensor(&painting).save(file)?;
        }
        if i + 1 == times.len() {
            let region = unchanged_mask(&empty_t, &frame_t, 12.0, 0).neg() + 1.0;
            figure_loss = content_loss_in(p.vgg(), layer, &painting, &frame_t, &region);
        }
        prev_frame = frame_t;
        prev_painting = painting;
    }
    Ok(Walk {
        temporal_error: errors.iter().sum::<f64>() / errors.len() as f64,
        lag_frames: lag,
        figure_content_loss: figure_loss,
        objective: objectives.iter().sum::<f64>() / objectives.len() as f64,
        last_offset,
    })
}

/// Content loss in the figure's region for a painting of the last frame started from scratch
/// and run to the end of its schedule (what Paint would show).
fn cold_figure_loss(setup: &Setup, script: &WalkScript, dims: (u32, u32)) -> anyhow::Result<f64> {
    let (w, h) = dims;
    let last = *script.times().last().expect("frames");
    let frame = script.frame_at(last, w, h);
    let p = setup.settled(&frame)?;
    let painting = shown(&p)?;
    let empty_t = to_tensor(&script.frame_at(0.0, w, h), tch::Device::Cpu);
    let frame_t = to_tensor(&frame, tch::Device::Cpu);
    let region = unchanged_mask(&empty_t, &frame_t, 12.0, 0).neg() + 1.0;
    let layer = layer_index(p.vgg().arch(), "relu4_2")?;
    Ok(content_loss_in(p.vgg(), layer, &painting, &frame_t, &region))
}

pub struct MirrorArgs<'a> {
    pub weights: &'a Path,
    pub device: EngineDevice,
    pub params: StyleParams,
    pub live: LiveSettings,
    pub snapshot_every: u32,
    pub style: &'a Path,
}

pub fn live_mirror(a: MirrorArgs) -> anyhow::Result<()> {
    let setup = Setup {
        weights: a.weights,
        device: a.device,
        params: a.params.clone(),
        style: Arc::new(imageio::load_rgb(a.style)?),
        snapshot_every: a.snapshot_every.max(1),
        iterations_per_frame: a.live.iterations_per_frame,
    };
    let dims = imageio::fit_long_edge(640, 480, a.params.size);
    let (w, h) = dims;
    let live = a.live;
    let forgetful = LiveSettings { fresh_start_above: 0.0, ..live };
    let no_temporal = LiveSettings { temporal_weight: 0.0, ..live };
    println!(
        "live mirror at {} px ({} levels, {:?}, {} iterations a frame, a snapshot every {}); Live: {:?}",
        a.params.size, a.params.levels, a.params.optimizer, live.iterations_per_frame, setup.snapshot_every, live
    );
    let still = imageio::resize(&SyntheticScene::new(5, 0.0, 640, 480).render(0.0), w, h);
    let frames = 6;
    let cold = static_flicker(&setup, Strategy::Cold, &still, frames)?;
    let blend = static_flicker(&setup, Strategy::Blend, &still, frames)?;
    let follow = static_flicker(&setup, Strategy::Follow(live), &still, frames)?;
    println!("static scene, flicker (mean |change| between snapshots, 0..255) over {frames} frames:");
    println!("  cold restart per frame {cold:.3}   blend 0.7 (before) {blend:.3}   follow (Live now) {follow:.3}");
    println!("flicker_ratio: {:.3}", follow / cold);
    println!("flicker_ratio_before: {:.3}", blend / cold);

    let visitor = SyntheticVisitor::Scripted { away_s: 1.0, still_s: 30.0, stay_s: 30.0 };
    let script = WalkScript {
        scene: SyntheticScene::new(5, 0.0, 640, 480).with_visitor(visitor),
        visitor,
        seed: 5,
        away_s: 1.0,
        dt: 0.25,
        after_stop: 8,
    };
    println!(
        "a visitor walks in ({} frames, {} s of scene time a frame) and stands ({} frames):",
        script.walk_frames(),
        script.dt,
        script.after_stop
    );
    let cold_loss = cold_figure_loss(&setup, &script, dims)?;
    println!(
        "  {:<34} {:>16} {:>12} {:>12} {:>18} {:>12}",
        "strategy", "temporal error", "lag (frames)", "offset (px)", "figure Lc (x cold)", "objective"
    );
    let rows: [(&str, Strategy); 5] = [
        ("cold restart per frame", Strategy::Cold),
        ("blend 0.7 (Live before)", Strategy::Blend),
        ("follow, no temporal loss", Strategy::Follow(no_temporal)),
        ("follow, optimiser forgets", Strategy::Follow(forgetful)),
        ("follow (Live now)", Strategy::Follow(live)),
    ];
    let mut lags = Vec::new();
    for (name, s) in rows {
        let r = walk_in(&setup, name, s, &script, dims)?;
        let lag = r.lag_frames.map(|l| l.to_string()).unwrap_or_else(|| format!(">{}", script.after_stop));
        println!(
            "  {name:<34} {:>16.2} {lag:>12} {:>12.1} {:>18.2} {:>12.4e}",
            r.temporal_error,
            r.last_offset,
            r.figure_content_loss / cold_loss,
            r.objective
        );
        lags.push(r.lag_frames);
    }
    if let (Some(before), Some(now)) = (lags[1], lags[4]) {
        println!("follow_lag_ratio: {:.2}", now as f64 / before as f64);
    }
    Ok(())
}
