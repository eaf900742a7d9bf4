//! Style images, loaded once and kept: switching back to an artwork costs nothing. A file
//! replaced under the same name (a curator swapping a scan) is noticed by its modification
//! time and size, and loaded again under a new identity, so its Grams are recomputed too.
//! Images are scaled down once after loading to the largest size a painting can use, and
//! the least recently used are dropped beyond [`KEPT_IMAGES`].

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use image::RgbImage;

use crate::engine::params::MAX_STYLE_EDGE;
use crate::engine::{StyleImage, imageio::load_rgb_at_most};
use crate::paths::{FileVersion, file_version};

/// Style images kept in memory (at most 48 MB each at 4096 px).
pub const KEPT_IMAGES: usize = 12;

#[derive(Default)]
pub struct StyleLibrary {
    /// By path: the version loaded, its identity, the image, and when it was last used.
    images: HashMap<PathBuf, (FileVersion, String, Arc<RgbImage>, u64)>,
    loads: u64,
    uses: u64,
}

impl StyleLibrary {
    /// Loads the selection's images; unreadable ones are skipped and reported in `skipped`.
    pub fn resolve(&mut self, root: &Path, styles: &[(PathBuf, f64)]) -> (Vec<StyleImage>, Vec<String>) {
        let mut ok = Vec::new();
        let mut skipped = Vec::new();
        for (path, weight) in styles {
            let full = crate::paths::resolve(root, path);
            let now = file_version(&full);
            self.uses += 1;
            let uses = self.uses;
            let cached = self.images.get_mut(&full).filter(|(v, ..)| Some(*v) == now);
            let (id, image) = match cached {
                Some((_, id, img, used)) => {
                    *used = uses;
                    (id.clone(), img.clone())
                }
                None => match load_rgb_at_most(&full, MAX_STYLE_EDGE) {
                    Ok(img) => {
                        let img = Arc::new(img);
                        self.loads += 1;
                        // A new identity per loaded version: the painter's Gram cache is keyed by it.
                        let id = format!("{}#{}", full.display(), self.loads);
                        if let Some(v) = now {
                            if self.images.contains_key(&full) {
                                tracing::info!("style image {} changed on disk: reloaded", full.display());
                            }
                            self.images.insert(full.clone(), (v, id.clone(), img.clone(), uses));
                            self.evict();
                        }
                        (id, img)
                    }
                    Err(e) => {
                        skipped.push(format!("style image skipped: {e}"));
                        continue;
                    }
                },
            };
            ok.push(StyleImage { id, image, weight: *weight });
        }
        (ok, skipped)
    }

    /// Drops the least recently used images beyond [`KEPT_IMAGES`] (the painter holds its
    /// own reference to those in use).
    fn evict(&mut self) {
        while self.images.len() > KEPT_IMAGES {
            let Some(oldest) = self.images.iter().min_by_key(|(_, (.., used))| *used).map(|(p, _)| p.clone()) else {
                break;
            };
            self.images.remove(&oldest);
        }
    }

    /// How many images are kept.
    #[cfg(test)]
    fn len(&self) -> usize {
        self.images.len()
    }
}

#[cfg(test)]
mod tests {
    use std::time::SystemTime;

    use super::*;

    #[test]
    fn a_style_image_replaced_under_the_same_name_is_loaded_again_with_a_new_identity() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("artwork.png");
        RgbImage::from_pixel(12, 9, image::Rgb([200, 10, 10])).save(&path).unwrap();
        let mut lib = StyleLibrary::default();
        let styles = [(path.clone(), 1.0)];
        let (first, _) = lib.resolve(dir.path(), &styles);
        let (again, _) = lib.resolve(dir.path(), &styles);
        assert_eq!(first[0].id, again[0].id, "unchanged: served from memory");
        assert!(Arc::ptr_eq(&first[0].image, &again[0].image));
        // The curator swaps the file (another size, so another length, and a later time).
        RgbImage::from_pixel(16, 9, image::Rgb([10, 10, 200])).save(&path).unwrap();
        let later = SystemTime::now() + std::time::Duration::from_secs(2);
        std::fs::File::options().write(true).open(&path).unwrap().set_modified(later).unwrap();
        let (swapped, _) = lib.resolve(dir.path(), &styles);
        assert_ne!(swapped[0].id, first[0].id, "the Gram cache must not serve the old artwork");
        assert_eq!(swapped[0].image.get_pixel(0, 0), &image::Rgb([10, 10, 200]));
        assert_eq!(swapped[0].image.width(), 16);
    }

    #[test]
    fn the_library_keeps_a_bounded_number_of_images_and_drops_the_least_recently_used() {
        let dir = tempfile::tempdir().unwrap();
        let mut lib = StyleLibrary::default();
        let paths: Vec<PathBuf> = (0..KEPT_IMAGES + 3)
            .map(|i| {
                let p = dir.path().join(format!("art{i}.png"));
                RgbImage::from_pixel(10, 10, image::Rgb([i as u8, 0, 0])).save(&p).unwrap();
                p
            })
            .collect();
        let first = lib.resolve(dir.path(), &[(paths[0].clone(), 1.0)]).0[0].id.clone();
        for p in &paths[1..] {
            lib.resolve(dir.path(), &[(p.clone(), 1.0)]);
            // The first artwork stays in use (the rotation keeps coming back to it).
            lib.resolve(dir.path(), &[(paths[0].clone(), 1.0)]);
        }
        assert_eq!(lib.len(), KEPT_IMAGES);
        assert_eq!(lib.resolve(dir.path(), &[(paths[0].clone(), 1.0)]).0[0].id, first, "recently used: kept");
        let again = lib.resolve(dir.path(), &[(paths[1].clone(), 1.0)]).0[0].id.clone();
        assert!(again.ends_with(&format!("#{}", KEPT_IMAGES + 4)), "the oldest was dropped and loaded anew: {again}");
    }
}
