//! The museum label: title, artist and year of the artwork in use, and a thin bar that
//! fills as the painting is refined.

use bevy::prelude::*;

use super::AppSystems;
use super::pipeline::LatestPainting;
use super::rotation::{ArtworkChanged, Playlist};

#[derive(Component)]
pub struct CaptionText;

#[derive(Component)]
struct ProgressFill;

#[derive(Resource, Clone, Copy)]
pub struct CaptionSettings {
    pub visible: bool,
}

pub(super) fn plugin(app: &mut App) {
    app.add_systems(Startup, spawn).add_systems(Update, (update_caption, update_progress).in_set(AppSystems::Present));
}

fn spawn(mut commands: Commands, settings: Res<CaptionSettings>) {
    let visibility = if settings.visible { Visibility::Inherited } else { Visibility::Hidden };
    commands
        .spawn((
            Node {
                position_type: PositionType::Absolute,
                top: px(24),
                left: px(24),
                padding: UiRect::axes(px(18), px(10)),
                flex_direction: FlexDirection::Column,
                row_gap: px(8),
                ..default()
            },
            BackgroundColor(Color::srgba(0.0, 0.0, 0.0, 0.55)),
            GlobalZIndex(5),
            visibility,
        ))
        .with_children(|c| {
            c.spawn((
                CaptionText,
                Text::new(""),
                TextFont::from_font_size(28.0),
                TextColor(Color::srgb(1.0, 0.97, 0.9)),
            ));
            c.spawn((
                Node { width: px(260), height: px(4), ..default() },
                BackgroundColor(Color::srgba(1.0, 1.0, 1.0, 0.2)),
            ))
            .with_children(|bar| {
                bar.spawn((
                    ProgressFill,
                    Node { width: percent(0), height: percent(100), ..default() },
                    BackgroundColor(Color::srgb(0.98, 0.82, 0.35)),
                ));
            });
        });
}

fn update_caption(
    mut changes: MessageReader<ArtworkChanged>,
    playlist: Option<Res<Playlist>>,
    mut text: Query<&mut Text, With<CaptionText>>,
) {
    let (Some(change), Some(playlist)) = (changes.read().last(), playlist) else { return };
    let caption = playlist.scene.entries[change.index].caption();
    for mut t in &mut text {
        t.0 = caption.clone();
    }
}

fn update_progress(latest: Res<LatestPainting>, mut fill: Query<&mut Node, With<ProgressFill>>) {
    if !latest.is_changed() {
        return;
    }
    let Some(s) = &latest.0 else { return };
    let share = if s.finished { 1.0 } else { s.iteration as f32 / s.total_iterations.max(1) as f32 };
    for mut n in &mut fill {
        n.width = percent(100.0 * share);
    }
}
