//! Attract: nobody is there. The canvas shows the artwork of the rotation (and, where the
//! config allows, the last finished paintings) in turn, and a gently pulsing invitation.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::SystemTime;

use bevy::prelude::*;
use image::RgbImage;

use super::{Journey, JourneySettings, RecentPaintings};
use crate::app::AppSystems;
use crate::app::display::ShowOnCanvas;
use crate::app::rotation::{ArtworkChanged, Playlist};
use crate::app::theme;

#[derive(Component)]
struct Invitation;

/// The attract loop's place: which picture is on show and since when.
#[derive(Resource, Default)]
struct AttractLoop {
    position: usize,
    shown_at: Option<f64>,
    /// Artwork images by path, with the modification time they were read at: a file
    /// replaced under the same name is read again.
    artworks: HashMap<PathBuf, (Option<SystemTime>, Arc<RgbImage>)>,
}

pub(super) fn plugin(app: &mut App) {
    app.init_resource::<AttractLoop>()
        .add_systems(OnEnter(Journey::Attract), (spawn_invitation, restart_loop))
        .add_systems(Update, (cycle_pictures, pulse).in_set(AppSystems::Present).run_if(in_state(Journey::Attract)));
}

fn spawn_invitation(mut commands: Commands, settings: Res<JourneySettings>) {
    commands
        .spawn((
            DespawnOnExit(Journey::Attract),
            // Above the picker strip, which a touch brings up.
            theme::prompt_row(theme::ABOVE_PICKER),
        ))
        .with_children(|row| {
            row.spawn((Invitation, theme::panel(36.0, 18.0))).with_children(|p| {
                p.spawn(theme::text(settings.config.invitation.clone(), 40.0, theme::TEXT));
                p.spawn(theme::text("or touch the screen to choose a painting", 22.0, theme::ACCENT));
            });
        });
}

fn restart_loop(mut state: ResMut<AttractLoop>) {
    state.shown_at = None;
}

/// Shows the next picture when its time is up or the rotation moved on.
fn cycle_pictures(
    time: Res<Time>,
    settings: Res<JourneySettings>,
    playlist: Option<Res<Playlist>>,
    recent: Res<RecentPaintings>,
    mut changes: MessageReader<ArtworkChanged>,
    mut state: ResMut<AttractLoop>,
    mut show: MessageWriter<ShowOnCanvas>,
) {
    let now = time.elapsed_secs_f64();
    let artwork_changed = changes.read().count() > 0;
    let due = state.shown_at.is_none_or(|t| now - t >= settings.config.attract_cycle_s);
    if !(due || artwork_changed) {
        return;
    }
    let Some(playlist) = playlist else { return };
    // Artwork, painting, artwork, painting ... (only artworks without recent paintings).
    let slots = 1 + recent.0.len().min(1);
    if due && state.shown_at.is_some() {
        state.position += 1;
    }
    if artwork_changed {
        state.position = 0;
    }
    let picture = if state.position.is_multiple_of(slots) {
        let path = crate::paths::resolve(&playlist.root, &playlist.entry().styles[0].path);
        let modified = std::fs::metadata(&path).and_then(|m| m.modified()).ok();
        match state.artworks.get(&path).filter(|(m, _)| *m == modified) {
            Some((_, img)) => Some(img.clone()),
            None => match crate::engine::imageio::load_rgb(&path) {
                Ok(img) => {
                    let img = Arc::new(img);
                    state.artworks.insert(path, (modified, img.clone()));
                    Some(img)
                }
                Err(e) => {
                    tracing::warn!("attract loop: {e}");
                    None
                }
            },
        }
    } else {
        recent.0.get((state.position / slots) % recent.0.len().max(1)).cloned()
    };
    state.shown_at = Some(now);
    if let Some(p) = picture {
        show.write(ShowOnCanvas(p));
    }
}

/// The invitation breathes slowly: movement catches the eye of someone passing by.
fn pulse(time: Res<Time>, mut panels: Query<&mut BackgroundColor, With<Invitation>>) {
    let a = 0.5 + 0.15 * (time.elapsed_secs() * 1.6).sin();
    for mut bg in &mut panels {
        bg.0 = Color::srgba(0.0, 0.0, 0.0, a);
    }
}
