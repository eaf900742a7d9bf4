//! `gallery-bench compare-faces`: the face detectors side by side on a face set with hand-checked boxes
//! (assets/faces/detector-set.ron). For each detector, as the capture thread runs it (the
//! installation's `faces` settings): recall (faces found / faces there), false faces
//! (boxes on no face), recall per kind of face (tags), and the cost of one detection, on the
//! set's pictures and on a 640x480 camera frame. Writes report.md and one sheet per picture
//! (white: the face set's boxes; green: MTCNN; orange: SeetaFace).

use std::path::PathBuf;
use std::time::Instant;

use anyhow::Context;
use clap::Args;
use image::{Rgb, RgbImage};

use gallery_painter::capture::face_set::{FaceSet, MATCH_IOU, PictureOrigin, Tally, score};
use gallery_painter::capture::faces::{Detector, FaceDetectionConfig, FaceDetector, FaceModel};
use gallery_painter::engine::FaceBox;

#[derive(Args, Debug)]
pub struct CompareFacesArgs {
    #[arg(long, default_value = "assets/faces/detector-set.ron")]
    pub set: PathBuf,
    /// Where the pictures fetched by scripts/fetch-face-set.sh are.
    #[arg(long, default_value = ".cache/face-set")]
    pub cache: PathBuf,
    /// The shared test data (pictures from there are skipped when it is absent).
    #[arg(long, default_value = "../shared/testdata")]
    pub shared: PathBuf,
    #[arg(long, default_value = "config/installation.ron")]
    pub config: PathBuf,
    #[arg(long, default_value = "out/compare-faces")]
    pub out: PathBuf,
    /// Detections per picture for the cost (after one to warm up).
    #[arg(long, default_value_t = 5)]
    pub repeat: usize,
    /// Print each detector's boxes in the set's format (to mark a new picture's faces: check
    /// each on its sheet, keep the real ones, add the missed ones by hand).
    #[arg(long)]
    pub print_boxes: bool,
}

fn pixels(f: &FaceBox, w: u32, h: u32) -> (f32, f32, f32, f32) {
    f.pixels(w, h)
}

fn median(v: &mut [f64]) -> f64 {
    if v.is_empty() {
        return f64::NAN;
    }
    v.sort_by(|a, b| a.total_cmp(b));
    v[v.len() / 2]
}

fn draw(img: &mut RgbImage, b: (f32, f32, f32, f32), colour: Rgb<u8>, inset: i64) {
    let (w, h) = (img.width() as i64, img.height() as i64);
    let x0 = (b.0 as i64 + inset).clamp(0, w - 1);
    let y0 = (b.1 as i64 + inset).clamp(0, h - 1);
    let x1 = ((b.0 + b.2) as i64 - inset).clamp(0, w - 1);
    let y1 = ((b.1 + b.3) as i64 - inset).clamp(0, h - 1);
    let t = (img.width() / 300).max(2) as i64;
    for x in x0..=x1 {
        for d in 0..t {
            img.put_pixel(x as u32, (y0 + d).min(h - 1) as u32, colour);
            img.put_pixel(x as u32, (y1 - d).max(0) as u32, colour);
        }
    }
    for y in y0..=y1 {
        for d in 0..t {
            img.put_pixel((x0 + d).min(w - 1) as u32, y as u32, colour);
            img.put_pixel((x1 - d).max(0) as u32, y as u32, colour);
        }
    }
}

const DETECTORS: [(Detector, &str, Rgb<u8>); 2] =
    [(Detector::Mtcnn, "MTCNN", Rgb([40, 220, 60])), (Detector::Seeta, "SeetaFace frontal", Rgb([255, 150, 0]))];

pub fn run(args: CompareFacesArgs) -> anyhow::Result<()> {
    let root = gallery_painter::paths::project_root();
    let cfg = gallery_painter::config::InstallationConfig::load(&args.config)?;
    let set = FaceSet::load(&args.set)?;
    std::fs::create_dir_all(&args.out).with_context(|| format!("cannot create {}", args.out.display()))?;
    let mut detectors = Vec::new();
    for (kind, name, colour) in DETECTORS {
        let c = FaceDetectionConfig { detector: kind, ..cfg.faces.clone() };
        let model = FaceModel::for_config(&root, &c)?;
        detectors.push((name, colour, FaceDetector::new(&model, c), Tally::default()));
    }
    let (mut skipped, mut pictures) = (Vec::new(), 0);
    for p in &set.pictures {
        let path = match p.from {
            PictureOrigin::Repo => root.join(&p.file),
            PictureOrigin::Cache => args.cache.join(&p.file),
            PictureOrigin::Shared => args.shared.join(&p.file),
        };
        let Ok(img) = gallery_painter::engine::imageio::load_rgb(&path) else {
            skipped.push(path.display().to_string());
            continue;
        };
        pictures += 1;
        let mut sheet = img.clone();
        for m in &p.faces {
            draw(&mut sheet, (m.x, m.y, m.w, m.h), Rgb([255, 255, 255]), 0);
        }
        let mut line = format!("{}:", p.file.display());
        for (k, (name, colour, detector, tally)) in detectors.iter_mut().enumerate() {
            let mut found = detector.detect(&img);
            for _ in 0..args.repeat {
                let t = Instant::now();
                found = detector.detect(&img);
                tally.ms.push(t.elapsed().as_secs_f64() * 1e3);
            }
            let boxes: Vec<_> = found.iter().map(|f| pixels(f, img.width(), img.height())).collect();
            let (hit, false_faces) = score(&p.faces, &boxes);
            tally.add(&p.faces, &hit, false_faces, img.width());
            for (n, b) in boxes.iter().enumerate() {
                draw(&mut sheet, *b, *colour, 4 * (k as i64 + 1));
                if args.print_boxes {
                    println!("  {name} #{n}: (x: {:.0}, y: {:.0}, w: {:.0}, h: {:.0})", b.0, b.1, b.2, b.3);
                }
            }
            line += &format!(" {name} {}/{} (+{false_faces})", hit.iter().filter(|h| **h).count(), p.faces.len());
        }
        println!("{line}");
        let stem = p.file.to_string_lossy().replace(['/', '.'], "_");
        let small = image::imageops::resize(
            &sheet,
            960.min(sheet.width()),
            (sheet.height() as u64 * 960.min(sheet.width()) as u64 / sheet.width() as u64) as u32,
            image::imageops::FilterType::Triangle,
        );
        small.save(args.out.join(format!("{stem}.jpg")))?;
    }
    // The capture thread's own cost: a 640x480 frame with the demo visitor's face.
    let frame = {
        let face = gallery_painter::engine::imageio::load_rgb(&root.join(gallery_painter::config::DEMO_FACE))?;
        gallery_painter::capture::synthetic::SyntheticScene::new(7, 0.0, 640, 480)
            .with_visitor(gallery_painter::capture::synthetic::SyntheticVisitor::Scripted {
                away_s: 0.0,
                still_s: 60.0,
                stay_s: 60.0,
            })
            .with_face(Some(std::sync::Arc::new(face)))
            .render(5.0)
    };
    let mut report = format!(
        "# Face detectors compared\n\n{pictures} pictures of {} in {} ({} skipped: {}), faces matched at IoU >= {MATCH_IOU}; \
         the installation's settings (analysis width {} px, smallest face {:.0} % of the width).\n\n\
         | detector | faces found | recall | false faces | ms per picture (median) | ms per 640x480 frame (median) |\n|---|---|---|---|---|---|\n",
        set.pictures.len(),
        args.set.display(),
        skipped.len(),
        if skipped.is_empty() { "none".to_string() } else { skipped.join(", ") },
        cfg.faces.analysis_width,
        cfg.faces.min_face * 100.0
    );
    for (name, _, detector, tally) in detectors.iter_mut() {
        let mut frame_ms: Vec<f64> = (0..20)
            .map(|_| {
                let t = Instant::now();
                detector.detect(&frame);
                t.elapsed().as_secs_f64() * 1e3
            })
            .collect();
        report += &format!(
            "| {name} | {}/{} | {:.2} | {} | {:.1} | {:.1} |\n",
            tally.found,
            tally.faces,
            tally.found as f64 / tally.faces.max(1) as f64,
            tally.false_faces,
            median(&mut tally.ms),
            median(&mut frame_ms)
        );
    }
    report += "\nRecall by kind of face (found / there):\n\n| kind |";
    for (name, ..) in &detectors {
        report += &format!(" {name} |");
    }
    report += "\n|---|---|---|\n";
    let tags: Vec<String> = detectors[0].3.by_tag.keys().cloned().collect();
    for t in tags {
        report += &format!("| {t} |");
        for (.., tally) in &detectors {
            let (n, f) = tally.by_tag.get(&t).copied().unwrap_or_default();
            report += &format!(" {f}/{n} |");
        }
        report += "\n";
    }
    std::fs::write(args.out.join("report.md"), &report)?;
    println!("\n{report}\nsheets and report.md in {}", args.out.display());
    Ok(())
}
