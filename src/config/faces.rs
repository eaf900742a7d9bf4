//! `faces:` in `config/installation.ron`: which detector looks for faces, and how often
//! (the detectors are `crate::capture::faces`').

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::engine::Invalid;

/// Which detector looks for faces.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize, clap::ValueEnum)]
pub enum Detector {
    /// MTCNN (CNN cascade): finds tilted, painted and partly turned faces; costs more.
    #[default]
    Mtcnn,
    /// SeetaFace's frontal cascade: cheap, frontal faces only.
    Seeta,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct FaceDetectionConfig {
    /// Look for faces (presence and face-aware painting both use them).
    pub enabled: bool,
    pub detector: Detector,
    /// MTCNN's weights, converted by scripts/setup.sh from the facenet-pytorch wheel.
    pub mtcnn_model: PathBuf,
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
            detector: Detector::default(),
            mtcnn_model: PathBuf::from(MTCNN_MODEL),
            model: PathBuf::from(SEETA_MODEL),
            analysis_width: 320,
            interval_s: 0.2,
            min_face: 0.06,
            min_score: 2.8,
        }
    }
}

pub const MTCNN_MODEL: &str = "assets/models/mtcnn-facenet-pytorch.safetensors";
pub const SEETA_MODEL: &str = "assets/models/seeta_fd_frontal_v1.0.bin";

impl FaceDetectionConfig {
    /// The model file of the chosen detector.
    pub fn model_path(&self) -> &Path {
        match self.detector {
            Detector::Mtcnn => &self.mtcnn_model,
            Detector::Seeta => &self.model,
        }
    }

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
