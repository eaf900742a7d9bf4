//! A texture that follows the camera's newest frame, at a limited rate and a bounded width:
//! what the corner preview and the journey's big live view both show.

use bevy::prelude::*;
use image::imageops::FilterType;

use super::display::{rgba_image, to_rgba};
use crate::capture::Frame;

pub struct CameraTexture {
    pub handle: Handle<Image>,
    /// Zero until the first frame arrived.
    pub size: UVec2,
    max_width: u32,
    min_interval_s: f64,
    last_seq: u64,
    last_update: f64,
}

impl CameraTexture {
    /// At most `max_width` px wide (never upscaled), at most `max_fps` updates a second.
    pub fn new(max_width: u32, max_fps: f64) -> CameraTexture {
        CameraTexture {
            handle: Handle::default(),
            size: UVec2::ZERO,
            max_width,
            min_interval_s: 1.0 / max_fps,
            last_seq: 0,
            last_update: f64::NEG_INFINITY,
        }
    }

    /// Uploads `frame` if it is new and an update is due. Returns true when the handle
    /// changed (first frame, or another size): nodes showing it must take the new one.
    pub fn refresh(&mut self, frame: &Frame, now: f64, images: &mut Assets<Image>) -> bool {
        // Checked before the resize, which would otherwise run every render frame.
        if frame.seq == self.last_seq || now - self.last_update < self.min_interval_s {
            return false;
        }
        self.last_seq = frame.seq;
        self.last_update = now;
        let (w, h) = frame.image.dimensions();
        let size = if w > self.max_width {
            UVec2::new(self.max_width, ((self.max_width as f32 * h as f32 / w as f32).round() as u32).max(1))
        } else {
            UVec2::new(w, h)
        };
        let rgba = if size.x == w {
            to_rgba(&frame.image)
        } else {
            to_rgba(&image::imageops::resize(&*frame.image, size.x, size.y, FilterType::Triangle))
        };
        if size == self.size
            && let Some(mut img) = images.get_mut(&self.handle)
        {
            // Same size: Bevy reuses the GPU texture, only the pixels move.
            img.data = Some(rgba);
            return false;
        }
        self.handle = images.add(rgba_image(size, rgba));
        self.size = size;
        true
    }
}
