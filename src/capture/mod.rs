//! Frame capture: a camera or a stand-in source, on its own thread, delivering only the
//! newest frame (latest wins) so the worker never paints a stale visitor.

pub mod camera;
pub mod face_set;
pub mod faces;
pub mod mtcnn;
pub mod presence;
pub mod still;
mod supervisor;
pub mod synthetic;

use std::sync::Arc;
use std::time::{Duration, Instant};

use image::RgbImage;

pub use supervisor::{
    CaptureHandle, CaptureOptions, CaptureState, CaptureStatus, PresenceSignal, SourceFactory, spawn_capture,
};

/// One captured frame.
#[derive(Clone, Debug)]
pub struct Frame {
    pub image: Arc<RgbImage>,
    /// Increases by one per delivered frame.
    pub seq: u64,
    pub captured_at: Instant,
    /// Faces found in it (fractions of its size; empty when none or detection is off). The
    /// detector runs at a bounded rate: these may come from a frame a moment earlier.
    pub faces: Vec<crate::engine::FaceBox>,
}

#[derive(Debug, Clone, thiserror::Error)]
pub enum CaptureError {
    /// The source cannot be opened at all (no camera, missing file).
    #[error("source unavailable: {0}")]
    Unavailable(String),
    /// It was delivering frames and stopped (unplugged, driver error).
    #[error("source lost: {0}")]
    Lost(String),
    /// One frame could not be decoded (a corrupt MJPEG frame); the next may be fine.
    #[error("bad frame: {0}")]
    BadFrame(String),
}

/// Anything that produces frames. `next_frame` blocks until the next frame is due, so
/// every source paces itself (a camera by its hardware, stand-ins by their frame rate).
pub trait FrameSource {
    fn name(&self) -> String;
    fn next_frame(&mut self) -> Result<RgbImage, CaptureError>;
}

/// Sleeps so that successive calls are `period` apart.
pub(crate) struct Pacer {
    period: Duration,
    next: Option<Instant>,
}

impl Pacer {
    pub fn new(fps: f64) -> Pacer {
        Pacer { period: Duration::from_secs_f64(1.0 / fps.clamp(0.01, 240.0)), next: None }
    }
    pub fn wait(&mut self) {
        let now = Instant::now();
        let due = self.next.unwrap_or(now);
        if due > now {
            std::thread::sleep(due - now);
        }
        self.next = Some(due.max(now) + self.period);
    }
}

/// Builds a factory for a configured source; paths are resolved against `root`.
pub fn factory_for(cfg: &crate::config::SourceConfig, root: &std::path::Path) -> SourceFactory {
    use crate::config::SourceConfig as S;
    match cfg.clone() {
        S::Camera(c) => Box::new(move || camera::CameraSource::open(&c).map(|s| Box::new(s) as Box<dyn FrameSource>)),
        S::Still { path } => {
            let path = crate::paths::resolve(root, &path);
            Box::new(move || still::StillSource::open(&path).map(|s| Box::new(s) as Box<dyn FrameSource>))
        }
        S::Slideshow { folder, interval_s } => {
            let folder = crate::paths::resolve(root, &folder);
            Box::new(move || {
                still::SlideshowSource::open(&folder, interval_s).map(|s| Box::new(s) as Box<dyn FrameSource>)
            })
        }
        S::Synthetic { seed, fps, width, height, visitor, face } => {
            let face = face.map(|p| crate::paths::resolve(root, &p));
            Box::new(move || {
                let face = match &face {
                    Some(path) => Some(Arc::new(
                        crate::engine::imageio::load_rgb(path)
                            .map_err(|e| CaptureError::Unavailable(format!("the synthetic visitor's face: {e}")))?,
                    )),
                    None => None,
                };
                let scene =
                    synthetic::SyntheticScene::new(seed, fps, width, height).with_visitor(visitor).with_face(face);
                Ok(Box::new(scene) as Box<dyn FrameSource>)
            })
        }
    }
}
