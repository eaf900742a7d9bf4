//! Faces in a frame, found by one of two detectors: MTCNN (three small CNNs in a cascade,
//! Zhang et al. 2016, run through tch: src/capture/mtcnn.rs), or SeetaFace's frontal detector
//! (the `rustface` crate: a funnel cascade of LAB boosted classifiers and MLPs, Wu et al. 2016).
//! docs/visitors.md compares them on a face set. It runs in the capture thread on a small copy
//! of the frame, at a bounded rate. Only the boxes leave this module: nothing of a face is stored.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use image::RgbImage;
use image::imageops::FilterType;

use super::mtcnn::{Mtcnn, MtcnnWeights};
pub use crate::config::{Detector, FaceDetectionConfig, MTCNN_MODEL, SEETA_MODEL};
use crate::engine::FaceBox;

#[derive(Debug, thiserror::Error)]
#[error("face detector model {path}: {reason}\n  fix: {fix}")]
pub struct FaceModelError {
    pub path: PathBuf,
    pub reason: String,
    pub fix: String,
}

/// The detector's model, read once; each thread that detects makes its own detector from it
/// (neither a SeetaFace detector nor a tch tensor may be shared between threads).
#[derive(Clone)]
pub enum FaceModel {
    Mtcnn(MtcnnWeights),
    Seeta(rustface::Model),
}

impl FaceModel {
    pub fn load(detector: Detector, path: &Path) -> Result<FaceModel, FaceModelError> {
        let error = |reason: String, fix: &str| FaceModelError { path: path.to_path_buf(), reason, fix: fix.into() };
        let bytes = std::fs::read(path).map_err(|e| {
            error(
                e.to_string(),
                "run scripts/setup.sh (it installs the face detectors' models), or set faces.enabled: false",
            )
        })?;
        let corrupt = "delete it and run scripts/setup.sh again (it checks the model's sha256)";
        match detector {
            Detector::Mtcnn => MtcnnWeights::from_safetensors(&bytes)
                .map(FaceModel::Mtcnn)
                .map_err(|e| error(format!("not MTCNN's weights ({e})"), corrupt)),
            Detector::Seeta => rustface::read_model(std::io::Cursor::new(bytes))
                .map(FaceModel::Seeta)
                .map_err(|e| error(format!("not a SeetaFace model ({e})"), corrupt)),
        }
    }

    /// The model `cfg` names, relative to `root`.
    pub fn for_config(root: &Path, cfg: &FaceDetectionConfig) -> Result<FaceModel, FaceModelError> {
        FaceModel::load(cfg.detector, &crate::paths::resolve(root, cfg.model_path()))
    }
}

enum Backend {
    Mtcnn(Box<Mtcnn>),
    Seeta(Box<dyn rustface::Detector>),
}

pub struct FaceDetector {
    backend: Backend,
    cfg: FaceDetectionConfig,
}

impl FaceDetector {
    pub fn new(model: &FaceModel, cfg: FaceDetectionConfig) -> FaceDetector {
        let backend = match model {
            // Checked when the model was loaded.
            FaceModel::Mtcnn(w) => Backend::Mtcnn(Box::new(Mtcnn::new(w).expect("MTCNN weights checked at load"))),
            FaceModel::Seeta(m) => {
                let mut detector = rustface::create_detector_with_model(m.clone());
                // SeetaFace's own example settings: 4 px steps, 0.8 between pyramid levels.
                detector.set_slide_window_step(4, 4);
                detector.set_pyramid_scale_factor(0.8);
                detector.set_score_thresh(cfg.min_score);
                Backend::Seeta(detector)
            }
        };
        FaceDetector { backend, cfg }
    }

    /// The faces in `frame`, largest first, in fractions of its size.
    pub fn detect(&mut self, frame: &RgbImage) -> Vec<FaceBox> {
        let (fw, fh) = frame.dimensions();
        if fw < 20 || fh < 20 {
            return Vec::new();
        }
        let w = self.cfg.analysis_width.min(fw);
        let h = ((fh as u64 * w as u64) / fw as u64).max(1) as u32;
        let min_px = (self.cfg.min_face * w as f32).round() as u32;
        let mut faces: Vec<FaceBox> = match &mut self.backend {
            Backend::Mtcnn(net) => {
                let small =
                    if w == fw { frame.clone() } else { image::imageops::resize(frame, w, h, FilterType::Triangle) };
                // MTCNN's smallest window is 12 px.
                let min_px = min_px.max(12);
                if min_px > w.min(h) {
                    return Vec::new();
                }
                net.detect(&small, min_px as f32)
                    .into_iter()
                    .map(|f| {
                        let x1 = f.x1.max(0.0);
                        let y1 = f.y1.max(0.0);
                        FaceBox {
                            x: x1 / w as f32,
                            y: y1 / h as f32,
                            w: (f.x2.min(w as f32) - x1).max(0.0) / w as f32,
                            h: (f.y2.min(h as f32) - y1).max(0.0) / h as f32,
                            score: f.score,
                        }
                    })
                    .filter(|b| b.w > 0.0 && b.h > 0.0)
                    .collect()
            }
            Backend::Seeta(detector) => {
                let grey = image::imageops::grayscale(frame);
                let grey = if w == fw { grey } else { image::imageops::resize(&grey, w, h, FilterType::Triangle) };
                // SeetaFace's smallest window is 20 px.
                let min_px = min_px.max(20);
                if min_px > w.min(h) {
                    return Vec::new();
                }
                detector.set_min_face_size(min_px);
                detector
                    .detect(&rustface::ImageData::new(grey.as_raw(), w, h))
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
                    .collect()
            }
        };
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
    match FaceModel::for_config(root, cfg) {
        Ok(model) => Some((model, cfg.clone())),
        Err(e) => {
            tracing::error!("faces: off: {e}");
            None
        }
    }
}
