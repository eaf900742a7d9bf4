//! Style images, decoded once and kept: switching back to an artwork costs nothing. One cache
//! for both painters: the kiosk's worker keeps its files by path (a file replaced under the
//! same name, a curator swapping a scan, is noticed by its modification time and size), the
//! farm's painter keeps what it fetched by hash. Each loaded version gets an identity of its
//! own, so the engine's Gram cache (keyed by it) never serves an old artwork. Images are
//! scaled down once to the largest size a painting can use, and the least recently used are
//! dropped beyond the cache's capacity.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use image::RgbImage;

use crate::engine::StyleImage;
use crate::engine::imageio::{load_rgb, shrink_to};
use crate::engine::params::MAX_STYLE_EDGE;
use crate::paths::{FileVersion, file_version};

/// Style images a kiosk keeps in memory (at most 48 MB each at 4096 px).
pub const KEPT_IMAGES: usize = 12;

struct Kept<V> {
    version: V,
    id: String,
    image: Arc<RgbImage>,
    used: u64,
}

/// Decoded style images by key (a path, a hash) and version.
pub struct StyleCache<V> {
    images: HashMap<String, Kept<V>>,
    capacity: usize,
    loads: u64,
    uses: u64,
}

impl<V: PartialEq> StyleCache<V> {
    pub fn new(capacity: usize) -> StyleCache<V> {
        StyleCache { images: HashMap::new(), capacity: capacity.max(1), loads: 0, uses: 0 }
    }

    /// The image under `key` at `version` with its identity: kept, or made by `load` (then
    /// scaled down and kept, the least recently used dropped beyond the capacity).
    pub fn get_or_load<E>(
        &mut self,
        key: &str,
        version: V,
        load: impl FnOnce() -> Result<RgbImage, E>,
    ) -> Result<(String, Arc<RgbImage>), E> {
        self.uses += 1;
        if let Some(kept) = self.images.get_mut(key).filter(|k| k.version == version) {
            kept.used = self.uses;
            return Ok((kept.id.clone(), kept.image.clone()));
        }
        let image = Arc::new(shrink_to(load()?, MAX_STYLE_EDGE));
        self.loads += 1;
        let id = format!("{key}#{}", self.loads);
        if self.images.contains_key(key) {
            tracing::info!("style image {key} changed: loaded again");
        }
        self.images.insert(key.to_string(), Kept { version, id: id.clone(), image: image.clone(), used: self.uses });
        while self.images.len() > self.capacity {
            let Some(oldest) = self.images.iter().min_by_key(|(_, k)| k.used).map(|(key, _)| key.clone()) else {
                break;
            };
            // The engine holds its own reference to those in use.
            self.images.remove(&oldest);
        }
        Ok((id, image))
    }

    /// How many images are kept.
    #[cfg(test)]
    fn len(&self) -> usize {
        self.images.len()
    }
}

impl StyleCache<Option<FileVersion>> {
    /// A selection's files (relative to `root`); unreadable ones are skipped and reported in
    /// `skipped`.
    pub fn resolve(&mut self, root: &Path, styles: &[(PathBuf, f64)]) -> (Vec<StyleImage>, Vec<String>) {
        let mut ok = Vec::new();
        let mut skipped = Vec::new();
        for (path, weight) in styles {
            let full = crate::paths::resolve(root, path);
            let key = full.display().to_string();
            match self.get_or_load(&key, file_version(&full), || load_rgb(&full)) {
                Ok((id, image)) => ok.push(StyleImage { id, image, weight: *weight }),
                Err(e) => skipped.push(format!("style image skipped: {e}")),
            }
        }
        (ok, skipped)
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
        let mut lib = StyleCache::new(KEPT_IMAGES);
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
        let mut lib = StyleCache::new(KEPT_IMAGES);
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
