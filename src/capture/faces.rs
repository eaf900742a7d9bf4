//! Faces in a frame, found by SeetaFace's frontal detector (the `rustface` crate: a funnel
//! cascade of LAB boosted classifiers and MLPs, Wu et al. 2016). It runs in the capture
//! thread on a small grey copy of the frame, at a bounded rate. Only the boxes leave this
//! module: nothing of a face is stored.

use crate::engine::Invalid;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use image::RgbImage;
use image::imageops::FilterType;
use serde::{Deserialize, Serialize};

use crate::engine::FaceBox;

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct FaceDetectionConfig {
    /// Look for faces (presence and face-aware painting both use them).
    pub enabled: bool,
    /// SeetaFace's frontal model, installed by scripts/setup.sh from the rustface crate.
    pub model: PathBuf,
    /// Width of the grey copy the detector looks at, px (height keeps the aspect).
    pub analysis_width: u32,
    /// At most one detection per this many seconds (frames in between keep the last boxes).
    pub interval_s: f32,
    /// Smallest face, as a share of the frame's width (0.06: a visitor ~3 m from a 60° camera).
    pub min_face: f32,
    /// SeetaFace's score threshold (its authors suggest 0.95, 2.8 or 4.5): higher, fewer
    /// false faces and more missed ones.
    pub min_score: f64,
}

impl Default for FaceDetectionConfig {
    fn default() -> Self {
        FaceDetectionConfig {
            enabled: true,
            model: PathBuf::from("assets/models/seeta_fd_frontal_v1.0.bin"),
            analysis_width: 320,
            interval_s: 0.2,
            min_face: 0.06,
            min_score: 2.8,
        }
    }
}

impl FaceDetectionConfig {
    pub fn validate(&self) -> Result<(), Invalid> {
        if !(80..=1920).contains(&self.analysis_width) {
            return Err(Invalid::new(
                "analysis_width",
                format!("faces.analysis_width {} must be within 80..1920", self.analysis_width),
            ));
        }
        if !(self.interval_s.is_finite() && (0.0..=60.0).contains(&self.interval_s)) {
            return Err(Invalid::new(
                "interval_s",
                format!("faces.interval_s {} must be seconds within 0..60", self.interval_s),
            ));
        }
        if !(self.min_face.is_finite() && (0.01..=1.0).contains(&self.min_face)) {
            return Err(Invalid::new(
                "min_face",
                format!("faces.min_face {} must be a share of the width within 0.01..1", self.min_face),
            ));
        }
        if !(self.min_score.is_finite() && self.min_score > 0.0 && self.min_score <= 100.0) {
            return Err(Invalid::new(
                "min_score",
                format!("faces.min_score {} must be within 0 < score <= 100", self.min_score),
            ));
        }
        Ok(())
    }
}

#[derive(Debug, thiserror::Error)]
#[error("face detector model {path}: {reason}\n  fix: {fix}")]
pub struct FaceModelError {
    pub path: PathBuf,
    pub reason: String,
    pub fix: String,
}

/// The SeetaFace model, read once; each thread that detects makes its own detector from it
/// (a detector is not `Send`).
#[derive(Clone)]
pub struct FaceModel(rustface::Model);

impl FaceModel {
    pub fn load(path: &Path) -> Result<FaceModel, FaceModelError> {
        let file = std::fs::File::open(path).map_err(|e| FaceModelError {
            path: path.to_path_buf(),
            reason: e.to_string(),
            fix: "run scripts/setup.sh (it installs the model from the rustface crate), or set faces.enabled: false"
                .into(),
        })?;
        rustface::read_model(std::io::BufReader::new(file)).map(FaceModel).map_err(|e| FaceModelError {
            path: path.to_path_buf(),
            reason: format!("not a SeetaFace model ({e})"),
            fix: "delete it and run scripts/setup.sh again (it checks the model's sha256)".into(),
        })
    }
}

pub struct FaceDetector {
    detector: Box<dyn rustface::Detector>,
    cfg: FaceDetectionConfig,
}

impl FaceDetector {
    pub fn new(model: &FaceModel, cfg: FaceDetectionConfig) -> FaceDetector {
        let mut detector = rustface::create_detector_with_model(model.0.clone());
        // SeetaFace's own example settings: 4 px steps, 0.8 between pyramid levels.
        detector.set_slide_window_step(4, 4);
        detector.set_pyramid_scale_factor(0.8);
        detector.set_score_thresh(cfg.min_score);
        FaceDetector { detector, cfg }
    }

    /// The faces in `frame`, largest first, in fractions of its size.
    pub fn detect(&mut self, frame: &RgbImage) -> Vec<FaceBox> {
        let (fw, fh) = frame.dimensions();
        if fw < 20 || fh < 20 {
            return Vec::new();
        }
        let w = self.cfg.analysis_width.min(fw);
        let h = ((fh as u64 * w as u64) / fw as u64).max(1) as u32;
        let grey = image::imageops::grayscale(frame);
        let grey = if w == fw { grey } else { image::imageops::resize(&grey, w, h, FilterType::Triangle) };
        // SeetaFace's smallest window is 20 px.
        let min_px = ((self.cfg.min_face * w as f32).round() as u32).max(20);
        if min_px > w.min(h) {
            return Vec::new();
        }
        self.detector.set_min_face_size(min_px);
        let found = self.detector.detect(&rustface::ImageData::new(grey.as_raw(), w, h));
        let mut faces: Vec<FaceBox> = found
            .iter()
            .map(|f| {
                let b = f.bbox();
                FaceBox {
                    x: b.x() as f32 / w as f32,
                    y: b.y() as f32 / h as f32,
                    w: b.width() as f32 / w as f32,
                    h: b.height() as f32 / h as f32,
                    score: f.score() as f32,
                }
            })
            .collect();
        faces.sort_by(|a, b| (b.w * b.h).total_cmp(&(a.w * a.h)));
        faces
    }
}

/// The faces of the latest detection, when it ran, and what it costs.
pub struct FaceWatch {
    detector: FaceDetector,
    interval: Duration,
    last_run: Option<Instant>,
    latest: Vec<FaceBox>,
    /// Exponential mean of one detection, microseconds.
    pub cost_us: f64,
}

/// What the face detector says about one frame.
#[derive(Clone, Copy, Debug)]
pub struct FacesSeen<'a> {
    pub faces: &'a [FaceBox],
    /// The detector ran on this very frame (otherwise the boxes are from an earlier one).
    pub fresh: bool,
}

impl FaceWatch {
    pub fn new(detector: FaceDetector) -> FaceWatch {
        let interval = Duration::from_secs_f32(detector.cfg.interval_s);
        FaceWatch { detector, interval, last_run: None, latest: Vec::new(), cost_us: 0.0 }
    }

    /// Runs the detector on `frame` if it is due; returns the latest faces.
    pub fn look(&mut self, frame: &RgbImage, now: Instant) -> FacesSeen<'_> {
        let due = self.last_run.is_none_or(|t| now.duration_since(t) >= self.interval);
        if due {
            let started = Instant::now();
            self.latest = self.detector.detect(frame);
            let cost = started.elapsed().as_secs_f64() * 1e6;
            self.cost_us = if self.cost_us == 0.0 { cost } else { 0.9 * self.cost_us + 0.1 * cost };
            self.last_run = Some(now);
        }
        FacesSeen { faces: &self.latest, fresh: due }
    }

    /// Another source or view: nothing seen yet.
    pub fn reset(&mut self) {
        self.latest.clear();
        self.last_run = None;
    }
}

/// The model and settings for the capture thread; None when detection is off or the model
/// cannot be read (said once in the log with its fix: the kiosk runs on without faces).
pub fn for_capture(root: &Path, cfg: &FaceDetectionConfig) -> Option<(FaceModel, FaceDetectionConfig)> {
    if !cfg.enabled {
        return None;
    }
    match FaceModel::load(&crate::paths::resolve(root, &cfg.model)) {
        Ok(model) => Some((model, cfg.clone())),
        Err(e) => {
            tracing::error!("faces: off: {e}");
            None
        }
    }
}
