//! Visitor keepsake: each finished painting saved (off unless enabled, since a painting of
//! a visitor is personal data), and optionally handed to a command such as a photo
//! printer's `lp`. A failing command is reported on the admin overlay; the file stays.

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use bevy::prelude::*;

use super::AppSystems;
use super::pipeline::PaintingUpdated;

#[derive(Resource, Clone)]
pub struct KeepsakeSettings {
    pub folder: PathBuf,
    /// Program and arguments run after each save; `{file}` becomes the saved path.
    pub command: Vec<String>,
}

/// The last keepsake problem (save or command), for the admin overlay.
#[derive(Resource, Clone, Default)]
pub struct KeepsakeProblem(pub Arc<Mutex<Option<String>>>);

pub fn plugin(app: &mut App) {
    app.init_resource::<KeepsakeProblem>()
        .add_systems(Update, save_finished.in_set(AppSystems::Present).run_if(resource_exists::<KeepsakeSettings>));
}

fn save_finished(
    mut updates: MessageReader<PaintingUpdated>,
    settings: Res<KeepsakeSettings>,
    problem: Res<KeepsakeProblem>,
    mut last: Local<Option<(u64, String)>>,
    mut saved: Local<u64>,
) {
    for PaintingUpdated(s) in updates.read() {
        let key = (s.frame_seq, s.style_key.clone());
        if !s.finished || last.as_ref() == Some(&key) {
            continue;
        }
        *last = Some(key);
        *saved += 1;
        // Time, frame and a count of this run's saves: two saves never share a name, so one
        // can never silently overwrite another.
        let time = chrono::Local::now().format("%Y%m%d-%H%M%S");
        let name = format!("{time}-f{}-{}-{}.png", s.frame_seq, *saved, slug(&s.style_key));
        let path = settings.folder.join(name);
        let image = s.image.clone();
        let command = settings.command.clone();
        let problem = problem.0.clone();
        // Encoding a PNG and printing take a while: keep them off the render thread.
        std::thread::spawn(move || {
            let result = save(&image, &path).and_then(|()| run_command(&command, &path));
            let mut slot = problem.lock().expect("keepsake problem lock");
            match result {
                Ok(()) => *slot = None,
                Err(e) => {
                    tracing::error!("keepsake: {e}");
                    *slot = Some(e);
                }
            }
        });
    }
}

fn save(image: &image::RgbImage, path: &Path) -> Result<(), String> {
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
    }
    image.save(path).map_err(|e| format!("cannot save {}: {e}", path.display()))?;
    tracing::info!("keepsake saved: {}", path.display());
    Ok(())
}

/// Runs the configured command on the saved file; its failure keeps the file.
pub fn run_command(command: &[String], file: &Path) -> Result<(), String> {
    let Some((program, args)) = command.split_first() else { return Ok(()) };
    let file = file.display().to_string();
    let args: Vec<String> = args.iter().map(|a| a.replace("{file}", &file)).collect();
    let output =
        std::process::Command::new(program).args(&args).stdin(std::process::Stdio::null()).output().map_err(|e| {
            format!("keepsake command `{program}` could not start: {e} (the painting is saved at {file})")
        })?;
    if output.status.success() {
        tracing::info!("keepsake command `{program}` done for {file}");
        Ok(())
    } else {
        let stderr = String::from_utf8_lossy(&output.stderr);
        Err(format!(
            "keepsake command `{program}` failed ({}): {} (the painting is saved at {file})",
            output.status,
            stderr.trim()
        ))
    }
}

fn slug(s: &str) -> String {
    let s: String = s.chars().map(|c| if c.is_ascii_alphanumeric() { c.to_ascii_lowercase() } else { '-' }).collect();
    s.split('-').filter(|p| !p.is_empty()).collect::<Vec<_>>().join("-")
}
