//! Attract: nobody is there. The canvas shows the artwork of the rotation (and, where the
//! config allows, the last finished paintings) in turn, and a gently pulsing invitation.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::SystemTime;

use bevy::prelude::*;
use image::RgbImage;

use super::{Journey, JourneyApology, JourneySettings, RecentPaintings};
use crate::app::AppSystems;
use crate::app::access;
use crate::app::display::ShowOnCanvas;
use crate::app::image_loader::{DISPLAY_EDGE, Loading};
use crate::app::language;
use crate::app::rotation::{ArtworkChanged, Playlist};
use crate::app::theme;
use crate::app::theme::Ink;

#[derive(Component)]
struct Invitation;

/// Artwork images the attract loop keeps (scaled to the screen); more are dropped.
const KEPT_ARTWORKS: usize = 16;

/// The attract loop's place: which picture is on show and since when.
#[derive(Resource, Default)]
struct AttractLoop {
    position: usize,
    shown_at: Option<f64>,
    /// Artwork images by path, with the modification time they were read at: a file
    /// replaced under the same name is read again.
    artworks: HashMap<PathBuf, (Option<SystemTime>, Arc<RgbImage>)>,
    /// An artwork being decoded off the frame thread, shown when it is ready if its turn
    /// has not passed.
    loading: Option<Loading>,
}

pub(super) fn plugin(app: &mut App) {
    app.init_resource::<AttractLoop>()
        // The next visitor starts in the configured language.
        .add_systems(OnEnter(Journey::Attract), (spawn_invitation, restart_loop, language::reset, access::reset))
        .add_systems(
            Update,
            (cycle_pictures, finish_loading, pulse, invite_only_with_a_camera)
                .chain()
                .in_set(AppSystems::Present)
                .run_if(in_state(Journey::Attract)),
        );
}

fn spawn_invitation(mut commands: Commands, apology: Option<Res<JourneyApology>>, time: Res<Time>) {
    // After a painting that could not be made, the visitor still in front reads why first.
    let (headline, hint) = match apology.as_ref().and_then(|a| a.current(time.elapsed_secs_f64())) {
        Some(sorry) => (sorry, "attract-sorry-hint"),
        None => ("attract-invitation", "attract-hint"),
    };
    commands
        .spawn((
            DespawnOnExit(Journey::Attract),
            // Above the picker strip, which a touch brings up.
            theme::prompt_row(),
        ))
        .with_children(|row| {
            row.spawn((Invitation, theme::VisitorPanel("invitation"), theme::panel(36.0, 18.0))).with_children(|p| {
                p.spawn(language::headline(headline, 42.0, Ink::Text));
                p.spawn(language::label(hint, 26.0, Ink::Accent));
            });
        });
}

/// Each attract screen begins with the artwork on show (not the last visitor's painting).
fn restart_loop(mut state: ResMut<AttractLoop>) {
    state.shown_at = None;
    state.position = 0;
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
    let own = own_paintings(&recent, &playlist);
    let slots = slots(own.len());
    if due && state.shown_at.is_some() {
        state.position += 1;
    }
    if artwork_changed {
        state.position = 0;
    }
    state.shown_at = Some(now);
    if state.position.is_multiple_of(slots) {
        let path = artwork_on_show(&playlist);
        let current = crate::paths::modified(&path);
        match state.artworks.get(&path).filter(|(m, _)| *m == current) {
            Some((_, img)) => {
                show.write(ShowOnCanvas(img.clone()));
            }
            None if state.loading.as_ref().is_some_and(|l| l.path == path) => {}
            None => state.loading = Some(Loading::start(path, DISPLAY_EDGE)),
        }
    } else if let Some(p) = own.get((state.position / slots) % own.len().max(1)) {
        show.write(ShowOnCanvas((*p).clone()));
    }
}

/// Turns in the loop: artwork, painting, artwork, painting ... (only artworks without
/// recent paintings).
fn slots(own: usize) -> usize {
    1 + own.min(1)
}

/// The recent paintings made in the artwork on show, newest first.
fn own_paintings<'a>(recent: &'a RecentPaintings, playlist: &Playlist) -> Vec<&'a Arc<RgbImage>> {
    recent.0.iter().filter(|(entry, _)| *entry == Some(playlist.current)).map(|(_, p)| p).collect()
}

/// The image file of the rotation's artwork (its first style).
fn artwork_on_show(playlist: &Playlist) -> PathBuf {
    crate::paths::resolve(&playlist.root, &playlist.entry().styles[0].path)
}

/// Picks up an artwork decoded in the background and shows it if it is still its turn.
fn finish_loading(
    playlist: Option<Res<Playlist>>,
    recent: Res<RecentPaintings>,
    mut state: ResMut<AttractLoop>,
    mut show: MessageWriter<ShowOnCanvas>,
) {
    let Some(result) = state.loading.as_mut().and_then(Loading::poll) else { return };
    let loading = state.loading.take().expect("polled above");
    match result {
        Ok(img) => {
            let still_its_turn = playlist.is_some_and(|p| {
                state.position.is_multiple_of(slots(own_paintings(&recent, &p).len()))
                    && artwork_on_show(&p) == loading.path
            });
            if still_its_turn {
                show.write(ShowOnCanvas(img.clone()));
            }
            if state.artworks.len() >= KEPT_ARTWORKS {
                state.artworks.clear(); // a scene of more artworks than kept: start over
            }
            state.artworks.insert(loading.path, (loading.modified, img));
        }
        Err(e) => tracing::warn!("attract loop: {e}"),
    }
}

/// No invitation to be painted while there is no camera to paint from (missing, lost or
/// silent): the artworks go on showing, and the staff banner says why.
fn invite_only_with_a_camera(
    status: Res<crate::app::pipeline::PipelineStatus>,
    mut panels: Query<&mut Visibility, With<Invitation>>,
) {
    let want = if super::camera_available(&status) { Visibility::Inherited } else { Visibility::Hidden };
    for mut v in &mut panels {
        if *v != want {
            *v = want;
        }
    }
}

/// The invitation breathes slowly: movement catches the eye of someone passing by.
fn pulse(time: Res<Time>, mut panels: Query<&mut BackgroundColor, With<Invitation>>) {
    let a = 0.5 + 0.15 * (time.elapsed_secs() * 1.6).sin();
    for mut bg in &mut panels {
        bg.0 = Color::srgba(0.0, 0.0, 0.0, a);
    }
}
