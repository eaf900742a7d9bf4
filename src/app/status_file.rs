//! Optional machine-readable status (`run --status-file PATH`), rewritten twice a second:
//! for monitoring by the museum's IT and for the end-to-end tests.

use std::path::PathBuf;

use bevy::prelude::*;
use serde::Serialize;

use super::picker::Visitor;
use super::pipeline::PipelineStatus;
use super::rotation::{Opening, Playlist};

#[derive(Resource, Clone)]
pub struct StatusFile(pub PathBuf);

#[derive(Serialize)]
struct StatusReport {
    caption: String,
    artwork_index: usize,
    style_key: String,
    worker_state: String,
    iterations_per_second: f64,
    snapshots: u64,
    capture_state: String,
    visitor: String,
    opening: String,
    painting_updates: u64,
}

pub(super) fn plugin(app: &mut App) {
    app.add_systems(Last, write_status.run_if(resource_exists::<StatusFile>));
}

fn write_status(
    file: Res<StatusFile>,
    time: Res<Time>,
    mut last: Local<f64>,
    status: Res<PipelineStatus>,
    playlist: Option<Res<Playlist>>,
    visitor: Res<State<Visitor>>,
    opening: Res<State<Opening>>,
    canvas: Option<Res<super::display::Canvas>>,
) {
    let now = time.elapsed_secs_f64();
    if now - *last < 0.5 {
        return;
    }
    *last = now;
    let report = StatusReport {
        caption: playlist.as_ref().map(|p| p.entry().caption()).unwrap_or_default(),
        artwork_index: playlist.as_ref().map(|p| p.current).unwrap_or(0),
        style_key: status.worker.style_key.clone(),
        worker_state: format!("{:?}", status.worker.state),
        iterations_per_second: status.worker.iterations_per_second,
        snapshots: status.worker.snapshots,
        capture_state: status.capture.as_ref().map(|c| format!("{:?}", c.state)).unwrap_or_default(),
        visitor: format!("{:?}", visitor.get()),
        opening: format!("{:?}", opening.get()),
        painting_updates: canvas.map(|c| c.updates).unwrap_or(0),
    };
    let text = ron::ser::to_string_pretty(&report, ron::ser::PrettyConfig::default()).unwrap_or_default();
    let tmp = file.0.with_extension("tmp");
    if std::fs::write(&tmp, text).is_ok() {
        let _ = std::fs::rename(&tmp, &file.0);
    }
}
