//! A real camera through nokhwa (V4L2 on Linux), decoded to RGB, optionally mirrored.

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

/// (index, name, description) of every camera nokhwa finds.
pub fn list() -> Result<Vec<(String, String, String)>, String> {
    let cams = nokhwa::query(ApiBackend::Auto).map_err(|e| e.to_string())?;
    Ok(cams.iter().map(|c| (c.index().to_string(), c.human_name(), c.description().to_string())).collect())
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
        let wanted = CameraFormat::new(Resolution::new(cfg.width, cfg.height), FrameFormat::MJPEG, cfg.fps);
        let format = RequestedFormat::new::<RgbFormat>(RequestedFormatType::Closest(wanted));
        let mut camera = Camera::new(index.clone(), format)
            .map_err(|e| CaptureError::Unavailable(format!("camera {index}: {e}")))?;
        camera.open_stream().map_err(|e| CaptureError::Unavailable(format!("camera {index}: {e}")))?;
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
        let decoded = buffer.decode_image::<RgbFormat>().map_err(|e| CaptureError::Lost(format!("decode: {e}")))?;
        let mut img = RgbImage::from_raw(decoded.width(), decoded.height(), decoded.into_raw())
            .ok_or_else(|| CaptureError::Lost("frame has the wrong size".into()))?;
        if self.mirror {
            image::imageops::flip_horizontal_in_place(&mut img);
        }
        Ok(img)
    }
}
