//! Stand-in sources from files: one still image, or a folder played as a slideshow.

use std::path::{Path, PathBuf};

use image::RgbImage;

use super::{CaptureError, FrameSource, Pacer};
use crate::engine::imageio::load_rgb;

pub struct StillSource {
    image: RgbImage,
    path: PathBuf,
    pacer: Pacer,
}

impl StillSource {
    pub fn open(path: &Path) -> Result<StillSource, CaptureError> {
        let image = load_rgb(path).map_err(|e| CaptureError::Unavailable(e.to_string()))?;
        Ok(StillSource { image, path: path.to_path_buf(), pacer: Pacer::new(2.0) })
    }
}

impl FrameSource for StillSource {
    fn name(&self) -> String {
        format!("still image {}", self.path.display())
    }
    fn next_frame(&mut self) -> Result<RgbImage, CaptureError> {
        self.pacer.wait();
        Ok(self.image.clone())
    }
}

pub struct SlideshowSource {
    folder: PathBuf,
    files: Vec<PathBuf>,
    next: usize,
    pacer: Pacer,
}

impl SlideshowSource {
    pub fn open(folder: &Path, interval_s: f64) -> Result<SlideshowSource, CaptureError> {
        let entries = std::fs::read_dir(folder)
            .map_err(|e| CaptureError::Unavailable(format!("slideshow folder {}: {e}", folder.display())))?;
        let mut files: Vec<PathBuf> = entries
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| {
                let ext = p.extension().and_then(|e| e.to_str()).unwrap_or("").to_lowercase();
                matches!(ext.as_str(), "png" | "jpg" | "jpeg")
            })
            .collect();
        files.sort();
        if files.is_empty() {
            return Err(CaptureError::Unavailable(format!(
                "slideshow folder {} has no PNG or JPEG images",
                folder.display()
            )));
        }
        Ok(SlideshowSource {
            folder: folder.to_path_buf(),
            files,
            next: 0,
            pacer: Pacer::new(1.0 / interval_s.max(0.1)),
        })
    }
}

impl FrameSource for SlideshowSource {
    fn name(&self) -> String {
        format!("slideshow {} ({} images)", self.folder.display(), self.files.len())
    }
    fn next_frame(&mut self) -> Result<RgbImage, CaptureError> {
        self.pacer.wait();
        // A broken file is skipped (with a warning), not fatal: the show goes on.
        for _ in 0..self.files.len() {
            let path = self.files[self.next].clone();
            self.next = (self.next + 1) % self.files.len();
            match load_rgb(&path) {
                Ok(img) => return Ok(img),
                Err(e) => tracing::warn!("slideshow: skipping {}: {e}", path.display()),
            }
        }
        Err(CaptureError::Lost(format!("no readable image left in {}", self.folder.display())))
    }
}
