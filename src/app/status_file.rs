//! Optional machine-readable status (`run --status-file PATH`), rewritten twice a second:
//! for monitoring by the museum's IT and for the end-to-end tests.

use std::path::PathBuf;

use bevy::prelude::*;

use super::journey::Journey;
use super::picker::Picker;
use super::rotation::Opening;
use super::service::HealthBoard;
use crate::service::status::{Screen, StatusReport};

#[derive(Resource, Clone)]
pub struct StatusFile(pub PathBuf);

pub fn plugin(app: &mut App) {
    app.init_resource::<StatusFileProblem>().add_systems(Last, write_status.run_if(resource_exists::<StatusFile>));
}

#[allow(clippy::too_many_arguments)] // a Bevy system: the health record and each screen
fn write_status(
    file: Res<StatusFile>,
    time: Res<Time>,
    mut last: Local<f64>,
    board: Res<HealthBoard>,
    picker: Res<State<Picker>>,
    opening: Res<State<Opening>>,
    canvas: Option<Res<super::display::Canvas>>,
    journey: Option<Res<State<Journey>>>,
    mut problem: ResMut<StatusFileProblem>,
) {
    let now = time.elapsed_secs_f64();
    if now - *last < 0.5 {
        return;
    }
    *last = now;
    let written_unix_s =
        std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_secs_f64()).unwrap_or(0.0);
    let screen = Screen {
        picker: format!("{:?}", picker.get()),
        opening: format!("{:?}", opening.get()),
        journey: journey.map(|j| format!("{:?}", j.get())).unwrap_or_default(),
        painting_updates: canvas.map(|c| c.updates).unwrap_or(0),
    };
    let report = {
        let health = board.0.lock().expect("health lock");
        StatusReport::new(&health, std::time::Instant::now(), written_unix_s, screen)
    };
    let text = ron::ser::to_string_pretty(&report, ron::ser::PrettyConfig::default()).unwrap_or_default();
    let result = write_atomically(&file.0, text.as_bytes());
    // Said once when it starts failing and once when it works again: a technician reading
    // "STALE" finds the reason in the journal and on the overlay.
    match (&result, &problem.0) {
        (Err(e), None) => tracing::error!("cannot write the status file: {e}"),
        (Ok(()), Some(_)) => tracing::info!("the status file {} is written again", file.0.display()),
        _ => {}
    }
    problem.0 = result.err();
}

/// A new file with a unique name in the same folder, renamed over the old one: a reader
/// never sees half a report, and two writers never share a temporary file.
fn write_atomically(path: &std::path::Path, bytes: &[u8]) -> Result<(), String> {
    let dir = path.parent().filter(|d| !d.as_os_str().is_empty()).unwrap_or(std::path::Path::new("."));
    let mut tmp =
        tempfile::Builder::new().prefix(".status-").tempfile_in(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    std::io::Write::write_all(&mut tmp, bytes).map_err(|e| format!("{}: {e}", tmp.path().display()))?;
    tmp.persist(path).map_err(|e| format!("{}: {}", path.display(), e.error))?;
    Ok(())
}

/// Why the status file cannot be written (None: it is), for the overlay.
#[derive(Resource, Default, Clone, Debug)]
pub struct StatusFileProblem(pub Option<String>);
