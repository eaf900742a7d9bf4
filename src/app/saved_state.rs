//! The state that survives a restart (`run --state-file PATH`): restored before the first
//! frame, saved every few seconds and whenever the artwork changes.

use std::path::PathBuf;

use bevy::prelude::*;

use super::journey::JourneyTimings;
use super::pipeline::PipelineStatus;
use super::rotation::{ArtworkChanged, Playlist, SceneReloaded};
use crate::service::state::{self, SavedState};

const SAVE_EVERY_S: f64 = 5.0;

#[derive(Resource)]
pub struct StateStore {
    path: PathBuf,
    fingerprint: u64,
    /// Totals from earlier runs; this run's counts add to them.
    base_visitors: u64,
    base_paintings: u64,
    last_save: Option<f64>,
    failed: bool,
}

fn fingerprint(playlist: &Playlist) -> u64 {
    let titles: Vec<String> = playlist.scene.entries.iter().map(|e| e.title.clone()).collect();
    state::scene_fingerprint(&playlist.scene_path.display().to_string(), &titles)
}

/// Reads the saved state into the playlist (before the first frame); a corrupt state or one
/// from another scene is ignored with a warning and replaced at the next save.
pub fn restore(path: PathBuf, playlist: &mut Playlist) -> StateStore {
    let fingerprint = fingerprint(playlist);
    let mut store =
        StateStore { path, fingerprint, base_visitors: 0, base_paintings: 0, last_save: None, failed: false };
    match state::load(&store.path, fingerprint, playlist.scene.entries.len()) {
        Ok(Some(state::Restored { state: s, same_scene: true })) => {
            tracing::info!(
                "restored from {}: artwork {} ({:.0} s on show), pick {}, {} visitors and {} paintings so far",
                store.path.display(),
                s.artwork_index + 1,
                s.artwork_elapsed_s,
                s.pick_remaining_s.map(|r| format!("holding {r:.0} s more")).unwrap_or_else(|| "none".into()),
                s.visitors,
                s.paintings_finished
            );
            playlist.restore(s.artwork_index, s.artwork_elapsed_s, s.pick_remaining_s);
            store.base_visitors = s.visitors;
            store.base_paintings = s.paintings_finished;
        }
        Ok(Some(state::Restored { state: s, same_scene: false })) => {
            // The totals belong to the installation: a renamed artwork must not reset them.
            tracing::warn!(
                "{} was saved with another scene: the scene starts from its first artwork; totals kept ({} visitors, {} paintings)",
                store.path.display(),
                s.visitors,
                s.paintings_finished
            );
            store.base_visitors = s.visitors;
            store.base_paintings = s.paintings_finished;
        }
        Ok(None) => tracing::info!("no saved state at {} yet: starting fresh", store.path.display()),
        Err(why) => tracing::warn!("ignoring the saved state: {why}; starting fresh"),
    }
    store
}

pub fn plugin(app: &mut App) {
    app.add_systems(Last, save.run_if(resource_exists::<StateStore>));
}

fn save(
    mut store: ResMut<StateStore>,
    time: Res<Time>,
    playlist: Res<Playlist>,
    status: Res<PipelineStatus>,
    timings: Option<Res<JourneyTimings>>,
    mut changes: MessageReader<ArtworkChanged>,
    mut reloads: MessageReader<SceneReloaded>,
) {
    let now = time.elapsed_secs_f64();
    // An edited scene (a title changed, an artwork added) is the scene from now on: the
    // next start must recognise it, or it would begin again from the first artwork.
    let reloaded = reloads.read().any(|r| r.0.is_ok());
    if reloaded {
        store.fingerprint = fingerprint(&playlist);
    }
    let changed = changes.read().count() > 0 || reloaded;
    if !changed && store.last_save.is_some_and(|t| now - t < SAVE_EVERY_S) {
        return;
    }
    store.last_save = Some(now);
    let s = SavedState {
        version: state::VERSION,
        scene_fingerprint: store.fingerprint,
        artwork_index: playlist.current,
        artwork_elapsed_s: (now - playlist.entry_started).max(0.0),
        pick_remaining_s: playlist.visitor_hold_until.map(|t| (t - now).max(0.0)),
        visitors: store.base_visitors + timings.map(|t| t.visitors).unwrap_or(0),
        paintings_finished: store.base_paintings + status.worker.paintings_finished,
        saved_unix_s: std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_secs_f64())
            .unwrap_or(0.0),
    };
    match state::save(&store.path, &s) {
        Ok(()) => store.failed = false,
        Err(e) if !store.failed => {
            store.failed = true;
            tracing::warn!("cannot save the state to {}: {e}", store.path.display());
        }
        Err(_) => {}
    }
}
