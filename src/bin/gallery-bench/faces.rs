//! `gallery-bench faces`: what face-aware painting changes, measured on portraits. For each photo
//! with a face (found by the detector) and each style, paints the plain objective and the
//! face-aware one with the same parameters (the installation's defaults), then measures the
//! finished paintings with the same VGG:
//! - the content loss inside the faces (`1/2 sum (F - P)^2` over the content layers'
//!   positions inside the ellipse around each detector box): lower = the features kept;
//! - the style loss outside the faces (each style layer's Gram over the positions the face
//!   map does not reach, against the artwork's): it must not get worse by more than a few
//!   percent;
//! - the time per painting.
//!
//! Writes a contact sheet per photo (photo with the face boxes | plain | face-aware, one row
//! per style) and a Markdown report.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Instant;

use anyhow::Context;
use clap::Args;
use image::{Rgb, RgbImage};
use tch::{Kind, Tensor};

use gallery_painter::cli::EngineArgs;
use gallery_painter::cli::stylize::find_faces;
use gallery_painter::engine::faces::{face_map, weighted_content_loss, weighted_gram};
use gallery_painter::engine::imageio::{self, to_tensor};
use gallery_painter::engine::loss::style_layer_loss;
use gallery_painter::engine::targets::{self, GramCache, LayerPlan, Photo};
use gallery_painter::engine::{FaceBox, FaceWeights, Refiner, StyleImage, StyleParams, Vgg};

#[derive(Args, Debug)]
pub struct BenchFacesArgs {
    /// Photos; those without a face are listed and skipped.
    #[arg(long, default_value = "../shared/testdata/content")]
    pub content_dir: PathBuf,
    #[arg(long, default_value = "../shared/testdata/style")]
    pub style_dir: PathBuf,
    /// The installation's config: its `engine.style` are the parameters painted with.
    #[arg(long, default_value = "config/installation.ron")]
    pub config: PathBuf,
    /// The face detector that finds the faces painted with care.
    #[arg(long, value_enum, default_value_t = gallery_painter::capture::faces::Detector::default())]
    pub face_detector: gallery_painter::capture::faces::Detector,
    /// Contact sheets and report.md go here.
    #[arg(long, default_value = "out/faces")]
    pub out: PathBuf,
    #[command(flatten)]
    pub engine: EngineArgs,
}

fn images_in(dir: &Path) -> anyhow::Result<Vec<PathBuf>> {
    let mut v: Vec<PathBuf> = std::fs::read_dir(dir)
        .with_context(|| format!("cannot read {}", dir.display()))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|e| e == "png" || e == "jpg" || e == "jpeg"))
        .collect();
    v.sort();
    Ok(v)
}

/// Content loss inside the faces and style loss outside them, of one painting.
struct Measured {
    content_in_faces: f64,
    style_outside: f64,
}

fn measure(
    vgg: &Vgg,
    params: &StyleParams,
    photo: &RgbImage,
    faces: &[FaceBox],
    style: &StyleImage,
    paintings: &[&RgbImage],
) -> anyhow::Result<Vec<Measured>> {
    // One set of targets and masks for paintings of the same photo, style and size.
    let plan = LayerPlan::new(vgg, params)?;
    let (w, h) = paintings.first().context("no painting to measure")?.dimensions();
    let device = vgg.device();
    let t = targets::build(
        vgg,
        &plan,
        &mut GramCache::default(),
        Photo { image: photo, faces: &[] },
        std::slice::from_ref(style),
        (w, h),
        params,
        device,
    )?;
    // Inside: the face proper (the ellipse around the detector's box, no growth, no feather).
    // Outside: everywhere the face-aware objective is the plain one (beyond the feathered map).
    let face_proper = FaceWeights { grow: 1.0, feather: 0.0, ..params.faces };
    let mask = |layer: usize, inside: bool| -> Tensor {
        let (gw, gh) = vgg.grid(layer, h as i64, w as i64);
        let (gw, gh) = (gw.max(1) as usize, gh.max(1) as usize);
        let m: Vec<f32> = if inside {
            face_map(faces, gw, gh, &face_proper)
        } else {
            face_map(faces, gw, gh, &params.faces).iter().map(|v| if *v > 0.0 { 0.0 } else { 1.0 }).collect()
        };
        Tensor::from_slice(&m).view([1, 1, gh as i64, gw as i64]).to_device(device)
    };
    let inside: Vec<Tensor> = plan.content_layers.iter().map(|&l| mask(l, true)).collect();
    let outside: Vec<Tensor> = plan.style_layers.iter().map(|&l| mask(l, false).clamp_min(1e-6)).collect();
    tch::no_grad(|| {
        paintings
            .iter()
            .map(|painting| {
                let x = to_tensor(painting, device);
                let feats = vgg.features(&vgg.preprocess(&x), &plan.taps);
                let mut lc = 0.0;
                for (((pos, wgt), target), m) in plan.content.iter().zip(&t.content_features).zip(&inside) {
                    let f = feats[*pos].to_kind(Kind::Float);
                    lc += wgt * weighted_content_loss(&f, target, m).double_value(&[]);
                }
                let mut ls = 0.0;
                for (((pos, wgt), target), m) in plan.style.iter().zip(&t.style_grams).zip(&outside) {
                    let f = feats[*pos].to_kind(Kind::Float);
                    let s = f.size();
                    ls += wgt * style_layer_loss(&weighted_gram(&f, m), target, s[1], s[2] * s[3]).double_value(&[]);
                }
                Ok(Measured { content_in_faces: lc, style_outside: ls })
            })
            .collect()
    })
}

fn paint(refiner: &mut Refiner, faces: Vec<FaceBox>) -> anyhow::Result<(RgbImage, f64)> {
    let started = Instant::now();
    refiner.set_faces(faces);
    refiner.restart(None)?;
    while !refiner.is_finished() {
        refiner.step()?;
    }
    Ok((refiner.painting()?, started.elapsed().as_secs_f64()))
}

/// The photo with the detector's boxes drawn in.
fn with_boxes(photo: &RgbImage, faces: &[FaceBox]) -> RgbImage {
    let mut img = photo.clone();
    for f in faces {
        let (x, y, w, h) = f.pixels(img.width(), img.height());
        let (x0, y0) = (x.max(0.0) as u32, y.max(0.0) as u32);
        let (x1, y1) = (((x + w) as u32).min(img.width() - 1), ((y + h) as u32).min(img.height() - 1));
        for px in x0..=x1 {
            for py in [y0, y0 + 1, y1.saturating_sub(1), y1] {
                img.put_pixel(px, py.min(img.height() - 1), Rgb([255, 210, 0]));
            }
        }
        for py in y0..=y1 {
            for px in [x0, x0 + 1, x1.saturating_sub(1), x1] {
                img.put_pixel(px.min(img.width() - 1), py, Rgb([255, 210, 0]));
            }
        }
    }
    img
}

pub fn bench_faces(args: BenchFacesArgs) -> anyhow::Result<()> {
    let cfg = gallery_painter::config::InstallationConfig::load(&args.config)?;
    let params = cfg.engine.style.clone();
    anyhow::ensure!(!params.faces.is_plain(), "the config's faces gains are 1: nothing to compare");
    let device = args.engine.select()?;
    let vgg = Vgg::load(&args.engine.weights, device.device, params.pooling)?;
    let mut refiner = Refiner::new(vgg, device, params.clone())?;
    std::fs::create_dir_all(&args.out)?;
    let styles = images_in(&args.style_dir)?;
    let mut report = format!(
        "# Face-aware painting, measured\n\nParameters: `{}` engine.style (size {}, {} iterations x {} levels), \
         faces {:?}, on {}.\n\n\
         | photo | style | content loss in faces: plain | face-aware | change | style loss outside faces: plain | face-aware | change | s/painting plain | face-aware |\n\
         |---|---|---|---|---|---|---|---|---|---|\n",
        args.config.display(),
        params.size,
        params.iterations,
        params.levels,
        params.faces,
        device.describe()
    );
    let (mut content_changes, mut style_changes, mut time_ratios) = (Vec::new(), Vec::new(), Vec::new());
    for photo_path in images_in(&args.content_dir)? {
        let photo = imageio::load_rgb(&photo_path)?;
        let name = photo_path.file_stem().map(|s| s.to_string_lossy().to_string()).unwrap_or_default();
        eprintln!("{name}:");
        let faces = find_faces(args.face_detector, None, &photo)?;
        if faces.is_empty() {
            report += &format!("| {name} | (no face found: skipped) | | | | | | | | |\n");
            continue;
        }
        refiner.set_content(photo.clone());
        let (w, h) = refiner.output_dims()?;
        let small = imageio::resize(&photo, w, h);
        let mut sheet = RgbImage::new(3 * w, h * styles.len() as u32);
        for (row, style_path) in styles.iter().enumerate() {
            let style_name = style_path.file_stem().map(|s| s.to_string_lossy().to_string()).unwrap_or_default();
            let style = StyleImage {
                id: style_path.display().to_string(),
                image: Arc::new(imageio::load_rgb(style_path)?),
                weight: 1.0,
            };
            refiner.set_styles(vec![style.clone()])?;
            let (plain, t_plain) = paint(&mut refiner, Vec::new())?;
            let (aware, t_aware) = paint(&mut refiner, faces.clone())?;
            let [m_plain, m_aware]: [Measured; 2] =
                measure(refiner.vgg(), &params, &photo, &faces, &style, &[&plain, &aware])?
                    .try_into()
                    .map_err(|_| anyhow::anyhow!("two paintings measured, not two results"))?;
            let dc = m_aware.content_in_faces / m_plain.content_in_faces - 1.0;
            let ds = m_aware.style_outside / m_plain.style_outside - 1.0;
            content_changes.push(dc);
            style_changes.push(ds);
            time_ratios.push(t_aware / t_plain);
            report += &format!(
                "| {name} | {style_name} | {:.3e} | {:.3e} | {:+.0}% | {:.3e} | {:.3e} | {:+.1}% | {t_plain:.1} | {t_aware:.1} |\n",
                m_plain.content_in_faces,
                m_aware.content_in_faces,
                100.0 * dc,
                m_plain.style_outside,
                m_aware.style_outside,
                100.0 * ds
            );
            eprintln!("  {style_name}: content in faces {:+.0}%, style outside {:+.1}%", 100.0 * dc, 100.0 * ds);
            let y = row as u32 * h;
            image::imageops::replace(&mut sheet, &with_boxes(&small, &faces), 0, y as i64);
            image::imageops::replace(&mut sheet, &plain, w as i64, y as i64);
            image::imageops::replace(&mut sheet, &aware, 2 * w as i64, y as i64);
        }
        let sheet_path = args.out.join(format!("{name}-faces.jpg"));
        image::DynamicImage::ImageRgb8(sheet).save(&sheet_path)?;
        eprintln!("  wrote {}", sheet_path.display());
    }
    let mean = |v: &[f64]| v.iter().sum::<f64>() / v.len().max(1) as f64;
    let worst = |v: &[f64]| v.iter().cloned().fold(f64::NEG_INFINITY, f64::max);
    report += &format!(
        "\nOver {} paintings: content loss in faces {:+.0}% on average (worst {:+.0}%); style loss outside faces \
         {:+.1}% on average (worst {:+.1}%); time x{:.2}.\n",
        content_changes.len(),
        100.0 * mean(&content_changes),
        100.0 * worst(&content_changes),
        100.0 * mean(&style_changes),
        100.0 * worst(&style_changes),
        mean(&time_ratios)
    );
    std::fs::write(args.out.join("report.md"), &report)?;
    println!("{report}");
    Ok(())
}
