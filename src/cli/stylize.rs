//! `stylize`: one photo, one or more styles, a PNG out, with a progress bar.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use anyhow::{Context, bail};
use clap::Args;
use indicatif::{ProgressBar, ProgressStyle};

use super::EngineArgs;
use super::OptimizerArg;
use crate::capture::faces::{Detector, FaceDetectionConfig, FaceDetector, FaceModel};
use crate::engine::{InitKind, LayerWeight, Pooling, Refiner, StyleImage, StyleParams, Vgg, imageio};

#[derive(Args, Debug)]
pub struct StylizeArgs {
    /// The photo to paint (`synthetic`: the bundled demo scene).
    #[arg(long)]
    pub content: PathBuf,
    /// A style image, optionally with a blend weight: `starry.jpg:0.7`. Repeat to blend.
    #[arg(long = "style", required = true)]
    pub styles: Vec<String>,
    /// Longer edge of the painting in pixels.
    #[arg(long)]
    pub size: Option<u32>,
    /// Iterations per level.
    #[arg(long)]
    pub iters: Option<u32>,
    /// Coarse-to-fine levels (1 = single scale).
    #[arg(long)]
    pub levels: Option<u32>,
    #[arg(long, value_enum)]
    pub optimizer: Option<OptimizerArg>,
    /// Adam learning rate (pixel units).
    #[arg(long, default_value_t = 4.0)]
    pub lr: f64,
    /// `random`, `content`, or an image file to start from.
    #[arg(long)]
    pub init: Option<String>,
    #[arg(long)]
    pub content_weight: Option<f64>,
    #[arg(long)]
    pub style_weight: Option<f64>,
    #[arg(long)]
    pub tv_weight: Option<f64>,
    /// Comma-separated content layers, e.g. `relu4_2`.
    #[arg(long)]
    pub content_layers: Option<String>,
    /// Comma-separated style layers, each optionally `name:weight`.
    #[arg(long)]
    pub style_layers: Option<String>,
    /// Keep the photo's colours (transfer luminance only).
    #[arg(long)]
    pub preserve_colors: bool,
    #[arg(long)]
    pub style_scale: Option<f64>,
    #[arg(long)]
    pub seed: Option<u64>,
    #[arg(long)]
    pub avg_pool: bool,
    /// Output PNG.
    #[arg(long)]
    pub out: PathBuf,
    /// Also write OUT-NNNN.png every N iterations.
    #[arg(long)]
    pub save_every: Option<u32>,
    /// Start from these parameters (RON, as in config/installation.ron's `engine.style`).
    #[arg(long)]
    pub params: Option<PathBuf>,
    /// Find the faces in the photo (`--face-detector`, MTCNN by default) and paint them face-aware (`faces` gains).
    #[arg(long)]
    pub faces: bool,
    /// Content gain inside faces (with --faces; 1 = plain objective).
    #[arg(long)]
    pub face_content_gain: Option<f64>,
    /// Style gain inside faces (with --faces; 1 = plain objective).
    #[arg(long)]
    pub face_style_gain: Option<f64>,
    /// The face detector (its model at the installation's default path).
    #[arg(long, value_enum, default_value_t = Detector::default())]
    pub face_detector: Detector,
    /// Another model file for that detector.
    #[arg(long)]
    pub face_model: Option<PathBuf>,
    #[command(flatten)]
    pub engine: EngineArgs,
}

/// `path:weight` -> (path, weight); a suffix that is not a number stays part of the path.
pub fn parse_style_arg(arg: &str) -> anyhow::Result<(PathBuf, f64)> {
    if let Some((p, w)) = arg.rsplit_once(':')
        && let Ok(w) = w.parse::<f64>()
    {
        if !(w > 0.0 && w.is_finite()) {
            bail!("style weight in `{arg}` must be a positive number");
        }
        return Ok((PathBuf::from(p), w));
    }
    Ok((PathBuf::from(arg), 1.0))
}

fn parse_layers(list: &str, default_weight: f64) -> anyhow::Result<Vec<LayerWeight>> {
    list.split(',')
        .filter(|s| !s.trim().is_empty())
        .map(|item| match item.split_once(':') {
            Some((n, w)) => {
                Ok(LayerWeight(n.trim().into(), w.parse().with_context(|| format!("layer weight in `{item}`"))?))
            }
            None => Ok(LayerWeight(item.trim().into(), default_weight)),
        })
        .collect()
}

impl StylizeArgs {
    pub fn style_params(&self) -> anyhow::Result<StyleParams> {
        let mut p = match &self.params {
            Some(path) => crate::config::load_ron::<StyleParams>(path)?,
            None => StyleParams::default(),
        };
        // The options a scene entry can override, applied the same way.
        let overrides = crate::scene::StyleOverrides {
            size: self.size,
            iterations: self.iters,
            levels: self.levels,
            content_weight: self.content_weight,
            style_weight: self.style_weight,
            tv_weight: self.tv_weight,
            preserve_colors: self.preserve_colors.then_some(true),
            style_scale: self.style_scale,
            faces: None,
        };
        p = overrides.apply(&p);
        if let Some(optimizer) = self.optimizer {
            p.optimizer = optimizer.kind(self.lr);
        }
        match self.init.as_deref() {
            Some("random") => p.init = InitKind::Random,
            Some("content") | None => {}
            Some(_) => {} // a file: handled by the caller
        }
        if let Some(l) = &self.content_layers {
            p.content_layers = parse_layers(l, 1.0)?
        }
        if let Some(l) = &self.style_layers {
            let n = l.split(',').filter(|s| !s.trim().is_empty()).count().max(1);
            p.style_layers = parse_layers(l, 1.0 / n as f64)?;
        }
        if let Some(v) = self.seed {
            p.seed = v
        }
        if self.avg_pool {
            p.pooling = Pooling::Avg
        }
        if let Some(v) = self.face_content_gain {
            p.faces.content_gain = v
        }
        if let Some(v) = self.face_style_gain {
            p.faces.style_gain = v
        }
        p.validate().map_err(|e| anyhow::anyhow!("invalid parameters: {e}"))?;
        Ok(p)
    }
}

/// The faces in `photo`, said on stderr (a face-aware painting without a face is plain).
pub fn find_faces(
    detector: Detector,
    model: Option<&Path>,
    photo: &image::RgbImage,
) -> anyhow::Result<Vec<crate::engine::FaceBox>> {
    let mut cfg = FaceDetectionConfig { detector, ..FaceDetectionConfig::default() };
    if let Some(path) = model {
        match detector {
            Detector::Mtcnn => cfg.mtcnn_model = path.to_path_buf(),
            Detector::Seeta => cfg.model = path.to_path_buf(),
        }
    }
    let model = FaceModel::for_config(&crate::paths::project_root(), &cfg)?;
    let faces = FaceDetector::new(&model, cfg).detect(photo);
    if faces.is_empty() {
        eprintln!("faces: none found; the painting is the plain one");
    }
    for f in &faces {
        let (x, y, w, h) = f.pixels(photo.width(), photo.height());
        eprintln!("face: {w:.0}x{h:.0} px at ({x:.0}, {y:.0}), score {:.1}", f.score);
    }
    Ok(faces)
}

fn numbered(out: &Path, n: u32) -> PathBuf {
    let stem = out.file_stem().and_then(|s| s.to_str()).unwrap_or("out");
    out.with_file_name(format!("{stem}-{n:04}.png"))
}

pub fn run(args: StylizeArgs) -> anyhow::Result<()> {
    let params = args.style_params()?;
    let content = if args.content.as_os_str() == "synthetic" {
        crate::capture::synthetic::SyntheticScene::new(7, 0.0, 640, 480).render(0.0)
    } else {
        imageio::load_rgb(&args.content)?
    };
    let mut styles = Vec::new();
    for s in &args.styles {
        let (path, weight) = parse_style_arg(s)?;
        let image = imageio::load_rgb(&path)?;
        styles.push(StyleImage { id: path.display().to_string(), image: Arc::new(image), weight });
    }
    let init_image = match args.init.as_deref() {
        Some("random") | Some("content") | None => None,
        Some(file) => Some(imageio::load_rgb(Path::new(file))?),
    };
    let device = args.engine.select()?;
    // Relative to the project folder, as in the installation's config (an installed binary
    // finds its weights wherever it is started).
    let weights = crate::paths::resolve(&crate::paths::project_root(), &args.engine.weights);
    let vgg = Vgg::load(&weights, device.device, params.pooling)?;
    eprintln!("engine: {:?} ({}) on {}", vgg.arch(), vgg.source(), device.describe());
    let save_every = args.save_every;
    let faces =
        if args.faces { find_faces(args.face_detector, args.face_model.as_deref(), &content)? } else { Vec::new() };
    let mut refiner = Refiner::new(vgg, device, params)?;
    refiner.set_faces(faces);
    refiner.set_content(content);
    refiner.set_styles(styles)?;
    refiner.restart(init_image.as_ref())?;
    let total = refiner.params().total_iterations();
    let bar = ProgressBar::new(total as u64);
    bar.set_style(
        ProgressStyle::with_template("{bar:30} {pos}/{len} it  {per_sec}  ETA {eta}  {msg}").expect("valid template"),
    );
    while !refiner.is_finished() {
        let p = refiner.step()?;
        bar.set_position(p.iteration as u64);
        bar.set_message(format!(
            "level {}/{} loss {:.3e} (content {:.2e} style {:.2e} tv {:.2e})",
            p.level + 1,
            p.levels,
            p.losses.total,
            p.losses.content,
            p.losses.style,
            p.losses.tv
        ));
        if let Some(k) = save_every
            && k > 0
            && p.iteration % k == 0
        {
            refiner.painting()?.save(numbered(&args.out, p.iteration))?;
        }
    }
    bar.finish();
    let p = refiner.progress();
    let img = refiner.painting()?;
    img.save(&args.out).with_context(|| format!("cannot write {}", args.out.display()))?;
    eprintln!(
        "wrote {} ({}x{}) after {} iterations, {:.2} it/s, final loss {:.3e}",
        args.out.display(),
        img.width(),
        img.height(),
        p.iteration,
        p.iterations_per_second,
        p.losses.total
    );
    Ok(())
}
