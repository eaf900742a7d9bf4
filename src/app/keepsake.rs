//! Visitor keepsake: each finished painting saved with a timestamp (off unless enabled,
//! since a painting of a visitor is personal data).

use std::path::PathBuf;

use bevy::prelude::*;

use super::AppSystems;
use super::pipeline::PaintingUpdated;

#[derive(Resource, Clone)]
pub struct KeepsakeFolder(pub PathBuf);

pub fn plugin(app: &mut App) {
    app.add_systems(Update, save_finished.in_set(AppSystems::Present).run_if(resource_exists::<KeepsakeFolder>));
}

fn save_finished(
    mut updates: MessageReader<PaintingUpdated>,
    folder: Res<KeepsakeFolder>,
    mut last: Local<Option<(u64, String)>>,
) {
    for PaintingUpdated(s) in updates.read() {
        let key = (s.frame_seq, s.style_key.clone());
        if !s.finished || last.as_ref() == Some(&key) {
            continue;
        }
        *last = Some(key);
        let name = format!("{}-{}.png", chrono::Local::now().format("%Y%m%d-%H%M%S"), slug(&s.style_key));
        let path = folder.0.join(name);
        let image = s.image.clone();
        // Encoding a PNG takes milliseconds: keep it off the render thread.
        std::thread::spawn(move || {
            if let Some(dir) = path.parent() {
                let _ = std::fs::create_dir_all(dir);
            }
            match image.save(&path) {
                Ok(()) => tracing::info!("keepsake saved: {}", path.display()),
                Err(e) => tracing::error!("cannot save keepsake {}: {e}", path.display()),
            }
        });
    }
}

fn slug(s: &str) -> String {
    let s: String = s.chars().map(|c| if c.is_ascii_alphanumeric() { c.to_ascii_lowercase() } else { '-' }).collect();
    s.split('-').filter(|p| !p.is_empty()).collect::<Vec<_>>().join("-")
}
