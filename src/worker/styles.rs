//! Style images, loaded once and kept: switching back to an artwork costs nothing.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use image::RgbImage;

use crate::engine::{StyleImage, imageio::load_rgb};

#[derive(Default)]
pub struct StyleLibrary {
    images: HashMap<PathBuf, Arc<RgbImage>>,
}

impl StyleLibrary {
    /// Loads the selection's images; unreadable ones are skipped and reported in `skipped`.
    pub fn resolve(&mut self, root: &Path, styles: &[(PathBuf, f64)]) -> (Vec<StyleImage>, Vec<String>) {
        let mut ok = Vec::new();
        let mut skipped = Vec::new();
        for (path, weight) in styles {
            let full = crate::paths::resolve(root, path);
            let image = match self.images.get(&full) {
                Some(img) => img.clone(),
                None => match load_rgb(&full) {
                    Ok(img) => {
                        let img = Arc::new(img);
                        self.images.insert(full.clone(), img.clone());
                        img
                    }
                    Err(e) => {
                        skipped.push(format!("style image skipped: {e}"));
                        continue;
                    }
                },
            };
            ok.push(StyleImage { id: full.display().to_string(), image, weight: *weight });
        }
        (ok, skipped)
    }
}
