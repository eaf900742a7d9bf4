//! Artworks uploaded from the console: decoded with limits (a decompression bomb is refused
//! from its header), written again as PNG under a name the server makes, with their label in
//! a JSON file beside them, and painted once at low resolution (a sample photo in that style)
//! so staff see what visitors will get before the artwork goes live.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use serde::{Deserialize, Serialize};

use crate::engine::{EngineDevice, Refiner, StyleImage, StyleParams, Vgg};

/// An upload's bytes at most (the request is refused with 413 above it).
pub const UPLOAD_LIMIT: usize = 20 << 20;
/// The preview's longer edge and iterations: seconds on a CPU, a glance at the style.
pub const PREVIEW_SIZE: u32 = 160;
pub const PREVIEW_ITERATIONS: u32 = 40;

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Label {
    pub title: String,
    pub artist: String,
    pub year: String,
    pub credit: String,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ArtworkInfo {
    pub label: Label,
    pub width: u32,
    pub height: u32,
    pub uploaded: String,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Artwork {
    /// 16 hex digits, made by the server.
    pub id: String,
    pub info: ArtworkInfo,
}

#[derive(Clone, Debug, PartialEq)]
pub enum Preview {
    Painting,
    Ready,
    Failed(String),
}

/// An artwork's id as the server makes it: 16 lowercase hex digits, nothing else.
pub fn well_formed_id(id: &str) -> bool {
    id.len() == 16 && id.bytes().all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
}

/// A preview to paint: the artwork's image, where to write the painting.
struct PreviewJob {
    style: PathBuf,
    out: PathBuf,
}

/// The folder of uploaded artworks.
pub struct Shelf {
    pub dir: PathBuf,
    root: PathBuf,
    previews: Option<crossbeam_channel::Sender<PreviewJob>>,
}

impl Shelf {
    /// `dir` holds the artworks (made if missing); previews are painted, if `preview_engine`
    /// is given (network weights, device, parameters), on a thread of its own.
    pub fn new(dir: PathBuf, root: PathBuf, preview_engine: Option<(PathBuf, EngineDevice, StyleParams)>) -> Shelf {
        let previews = preview_engine.map(|(weights, device, base)| {
            // A short queue: uploads beyond it get their preview when asked again.
            let (tx, rx) = crossbeam_channel::bounded::<PreviewJob>(16);
            let spawned = std::thread::Builder::new().name("artwork-previews".into()).spawn(move || {
                paint_previews(rx, &weights, device, base);
            });
            if let Err(e) = spawned {
                tracing::warn!("artworks: no previews ({e})");
            }
            tx
        });
        Shelf { dir, root, previews }
    }

    pub fn image_path(&self, id: &str) -> PathBuf {
        self.dir.join(format!("{id}.png"))
    }

    pub fn preview_path(&self, id: &str) -> PathBuf {
        self.dir.join(format!("{id}.preview.png"))
    }

    fn info_path(&self, id: &str) -> PathBuf {
        self.dir.join(format!("{id}.json"))
    }

    /// The path a scene names the image by: from the project folder when it lies under it.
    pub fn scene_path(&self, id: &str) -> PathBuf {
        let full = self.image_path(id);
        full.strip_prefix(&self.root).map(Path::to_path_buf).unwrap_or(full)
    }

    /// The uploaded artworks, newest first.
    pub fn list(&self) -> Vec<Artwork> {
        let mut v: Vec<Artwork> = std::fs::read_dir(&self.dir)
            .map(|d| {
                d.flatten()
                    .filter_map(|e| {
                        let name = e.file_name().to_string_lossy().into_owned();
                        let id = name.strip_suffix(".json").filter(|id| well_formed_id(id))?.to_owned();
                        let info = serde_json::from_slice(&std::fs::read(e.path()).ok()?).ok()?;
                        Some(Artwork { id, info })
                    })
                    .collect()
            })
            .unwrap_or_default();
        v.sort_by(|a, b| b.info.uploaded.cmp(&a.info.uploaded));
        v
    }

    pub fn get(&self, id: &str) -> Option<Artwork> {
        if !well_formed_id(id) {
            return None;
        }
        let info = serde_json::from_slice(&std::fs::read(self.info_path(id)).ok()?).ok()?;
        Some(Artwork { id: id.to_owned(), info })
    }

    pub fn preview(&self, id: &str) -> Preview {
        if self.preview_path(id).is_file() {
            return Preview::Ready;
        }
        match std::fs::read_to_string(self.dir.join(format!("{id}.preview-failed.txt"))) {
            Ok(why) => Preview::Failed(why),
            Err(_) if self.previews.is_none() => Preview::Failed("previews are off on this kiosk".into()),
            Err(_) => Preview::Painting,
        }
    }

    /// Decodes `bytes` (with limits; slow: call off the async threads), keeps the image as
    /// PNG under a new id with its label, and asks for its preview.
    pub fn add(&self, bytes: &[u8], label: Label) -> Result<Artwork, String> {
        if label.title.trim().is_empty() {
            return Err("give the artwork a title".into());
        }
        let image = crate::engine::imageio::decode_rgb(bytes)?;
        std::fs::create_dir_all(&self.dir).map_err(|e| format!("cannot create {}: {e}", self.dir.display()))?;
        let id = crate::ids::new_token()[..16].to_owned();
        let info = ArtworkInfo {
            label,
            width: image.width(),
            height: image.height(),
            uploaded: chrono::Local::now().to_rfc3339(),
        };
        // Written again from the pixels: nothing of the uploaded file (metadata, tricks) stays.
        let tmp = self.dir.join(format!(".{id}.png.new"));
        image.save_with_format(&tmp, image::ImageFormat::Png).map_err(|e| format!("cannot write the image: {e}"))?;
        std::fs::rename(&tmp, self.image_path(&id)).map_err(|e| format!("cannot write the image: {e}"))?;
        let json = serde_json::to_vec_pretty(&info).map_err(|e| e.to_string())?;
        std::fs::write(self.info_path(&id), json).map_err(|e| format!("cannot write the label: {e}"))?;
        self.ask_preview(&id);
        Ok(Artwork { id, info })
    }

    fn ask_preview(&self, id: &str) {
        if let Some(tx) = &self.previews {
            let job = PreviewJob { style: self.image_path(id), out: self.preview_path(id) };
            if tx.try_send(job).is_err() {
                tracing::warn!("artworks: the preview queue is full; {id} gets none now");
            }
        }
    }

    /// Removes the artwork's files.
    pub fn delete(&self, id: &str) -> Result<(), String> {
        if !well_formed_id(id) || !self.info_path(id).is_file() {
            return Err("no such artwork".into());
        }
        for p in [self.image_path(id), self.preview_path(id), self.dir.join(format!("{id}.preview-failed.txt"))] {
            let _ = std::fs::remove_file(p);
        }
        std::fs::remove_file(self.info_path(id)).map_err(|e| format!("cannot delete: {e}"))
    }
}

/// The scene's entries that paint with `path`, by title.
pub fn used_by(scene: &crate::scene::Scene, path: &Path) -> Vec<String> {
    scene.entries.iter().filter(|e| e.styles.iter().any(|s| s.path == path)).map(|e| e.title.clone()).collect()
}

/// The sample photo every preview paints: the demo scene (a house, the sun, a visitor).
fn sample_photo() -> image::RgbImage {
    crate::capture::synthetic::SyntheticScene::new(7, 0.0, 320, 240).render(0.0)
}

fn paint_previews(
    jobs: crossbeam_channel::Receiver<PreviewJob>,
    weights: &Path,
    device: EngineDevice,
    base: StyleParams,
) {
    let params = StyleParams { size: PREVIEW_SIZE, iterations: PREVIEW_ITERATIONS, levels: 1, ..base };
    let mut refiner: Option<Refiner> = None;
    for job in jobs {
        let result = (|| -> Result<(), String> {
            if refiner.is_none() {
                let vgg = Vgg::load(weights, device.device, params.pooling).map_err(|e| e.to_string())?;
                refiner = Some(Refiner::new(vgg, device, params.clone()).map_err(|e| e.to_string())?);
            }
            let p = refiner.as_mut().expect("made above");
            let style = crate::engine::imageio::load_rgb(&job.style).map_err(|e| e.to_string())?;
            p.set_content(sample_photo());
            p.set_styles(vec![StyleImage { id: job.style.display().to_string(), image: Arc::new(style), weight: 1.0 }])
                .map_err(|e| e.to_string())?;
            p.restart(None).map_err(|e| e.to_string())?;
            while !p.is_finished() {
                p.step().map_err(|e| e.to_string())?;
            }
            p.painting().map_err(|e| e.to_string())?.save(&job.out).map_err(|e| e.to_string())
        })();
        if let Err(why) = result {
            tracing::warn!("artworks: no preview for {}: {why}", job.style.display());
            let failed = job.out.with_file_name(
                job.out
                    .file_name()
                    .map(|n| n.to_string_lossy().replace(".preview.png", ".preview-failed.txt"))
                    .unwrap_or_default(),
            );
            let _ = std::fs::write(failed, why);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_16_hex_digits_and_nothing_else() {
        assert!(well_formed_id("0123456789abcdef"));
        for bad in ["../../etc/passw", "0123456789abcde\0", "0123456789ABCDEF", "", "0123456789abcdef0"] {
            assert!(!well_formed_id(bad), "{bad:?}");
        }
    }
}
