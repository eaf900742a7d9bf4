//! A real camera through nokhwa (V4L2 on Linux), decoded to RGB, optionally mirrored.
//!
//! The format is chosen here, not by nokhwa's `Closest` request: that one fails outright on
//! a camera without the requested pixel format (a YUYV-only webcam asked for MJPEG) and on a
//! camera without the exact requested size (it looks up frame rates at the requested size,
//! not the chosen one). Both were found with the V4L2 test camera (`test-camera`).

use image::RgbImage;
use nokhwa::Camera;
use nokhwa::pixel_format::RgbFormat;
use nokhwa::utils::{
    ApiBackend, CameraFormat, CameraIndex, FrameFormat, RequestedFormat, RequestedFormatType, Resolution,
};

use super::{CaptureError, FrameSource};
use crate::config::CameraConfig;

pub struct CameraSource {
    camera: Camera,
    mirror: bool,
    name: String,
}

/// A camera as `list-cameras` shows it.
pub struct CameraDescription {
    pub index: String,
    pub name: String,
    pub description: String,
    /// What it offers, or why it could not be asked (busy, gone).
    pub formats: Result<Vec<CameraFormat>, String>,
}

/// Every camera nokhwa finds, with the formats each offers.
pub fn list() -> Result<Vec<CameraDescription>, String> {
    let cams = nokhwa::query(ApiBackend::Auto).map_err(|e| e.to_string())?;
    Ok(cams
        .iter()
        .map(|c| {
            let formats = Camera::new(c.index().clone(), RequestedFormat::new::<RgbFormat>(RequestedFormatType::None))
                .and_then(|mut cam| cam.compatible_camera_formats())
                .map_err(|e| e.to_string());
            CameraDescription {
                index: c.index().to_string(),
                name: c.human_name(),
                description: c.description().to_string(),
                formats,
            }
        })
        .collect())
}

/// The format to ask for: the offered size nearest the wanted one (ties: the larger), in the
/// wanted pixel format if offered there (MJPEG: less USB bandwidth), else any format we
/// decode; then the frame rate nearest the wanted one.
pub fn choose_format(offered: &[CameraFormat], want: CameraFormat) -> Option<CameraFormat> {
    let decodable: Vec<CameraFormat> =
        offered.iter().copied().filter(|f| matches!(f.format(), FrameFormat::MJPEG | FrameFormat::YUYV)).collect();
    let distance = |r: Resolution| {
        let dx = r.width() as i64 - want.width() as i64;
        let dy = r.height() as i64 - want.height() as i64;
        (dx * dx + dy * dy, -((r.width() * r.height()) as i64))
    };
    let size = decodable.iter().map(|f| f.resolution()).min_by_key(|r| distance(*r))?;
    let at_size: Vec<CameraFormat> = decodable.iter().copied().filter(|f| f.resolution() == size).collect();
    let pixel_format =
        if at_size.iter().any(|f| f.format() == want.format()) { want.format() } else { at_size[0].format() };
    at_size
        .into_iter()
        .filter(|f| f.format() == pixel_format)
        .min_by_key(|f| (f.frame_rate() as i64 - want.frame_rate() as i64).abs())
}

impl CameraSource {
    pub fn open(cfg: &CameraConfig) -> Result<CameraSource, CaptureError> {
        let index = match &cfg.name {
            Some(want) => {
                let cams = nokhwa::query(ApiBackend::Auto).map_err(|e| CaptureError::Unavailable(e.to_string()))?;
                let found = cams.iter().find(|c| c.human_name().to_lowercase().contains(&want.to_lowercase()));
                match found {
                    Some(c) => c.index().clone(),
                    None => return Err(CaptureError::Unavailable(format!("no camera whose name contains \"{want}\""))),
                }
            }
            None => CameraIndex::Index(cfg.index),
        };
        let unavailable = |e: nokhwa::NokhwaError| CaptureError::Unavailable(format!("camera {index}: {e}"));
        let mut camera = Camera::new(index.clone(), RequestedFormat::new::<RgbFormat>(RequestedFormatType::None))
            .map_err(unavailable)?;
        let wanted = CameraFormat::new(Resolution::new(cfg.width, cfg.height), FrameFormat::MJPEG, cfg.fps);
        let offered = camera.compatible_camera_formats().map_err(unavailable)?;
        let chosen = choose_format(&offered, wanted).ok_or_else(|| {
            CaptureError::Unavailable(format!(
                "camera {index} offers no format this program decodes (MJPEG or YUYV): {}",
                offered.iter().map(|f| f.to_string()).collect::<Vec<_>>().join(", ")
            ))
        })?;
        if chosen.resolution() != wanted.resolution() || chosen.frame_rate() != wanted.frame_rate() {
            tracing::info!(
                "camera {index}: {}x{} at {} fps is not offered; using {chosen}",
                cfg.width,
                cfg.height,
                cfg.fps
            );
        }
        if camera.camera_format() != chosen {
            camera
                .set_camera_requset(RequestedFormat::new::<RgbFormat>(RequestedFormatType::Exact(chosen)))
                .map_err(unavailable)?;
        }
        camera.open_stream().map_err(unavailable)?;
        let name = format!("camera {} ({}, {})", index, camera.info().human_name(), camera.camera_format());
        Ok(CameraSource { camera, mirror: cfg.mirror, name })
    }
}

impl FrameSource for CameraSource {
    fn name(&self) -> String {
        self.name.clone()
    }

    fn next_frame(&mut self) -> Result<RgbImage, CaptureError> {
        // nokhwa decodes MJPEG and YUYV alike into RGB.
        let buffer = self.camera.frame().map_err(|e| CaptureError::Lost(e.to_string()))?;
        // A frame that does not decode is one bad frame (a USB glitch), not a lost camera.
        let decoded = buffer.decode_image::<RgbFormat>().map_err(|e| CaptureError::BadFrame(format!("decode: {e}")))?;
        let mut img = RgbImage::from_raw(decoded.width(), decoded.height(), decoded.into_raw())
            .ok_or_else(|| CaptureError::BadFrame("frame has the wrong size".into()))?;
        if self.mirror {
            image::imageops::flip_horizontal_in_place(&mut img);
        }
        Ok(img)
    }
}
