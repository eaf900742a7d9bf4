//! The museum label: title, artist and year of the artwork in use, and, while a painting
//! is refined, a thin bar that fills and words that say what the painter is doing.

use bevy::prelude::*;

use super::AppSystems;
use super::journey::Journey;
use super::language;
use super::language::Localized;
use super::pipeline::LatestPainting;
use super::rotation::{ArtworkChanged, Playlist};
use super::theme;
use super::theme::Ink;

#[derive(Component)]
pub struct CaptionText;

#[derive(Component)]
struct ProgressFill;

/// The bar and the words: shown only while there is a painting to follow.
#[derive(Component)]
struct ProgressRow;

#[derive(Component)]
struct ProgressPhrase;

/// What the painter is doing, in a visitor's words (a Fluent message). `level` counts from
/// 0 of `levels`.
pub fn progress_phrase(level: u32, levels: u32, iteration: u32, total: u32, finished: bool) -> &'static str {
    if finished {
        return "progress-finished";
    }
    let share = iteration as f32 / total.max(1) as f32;
    if level + 1 < levels || (levels <= 1 && share < 0.35) {
        "progress-sketching"
    } else if share < 0.85 {
        "progress-details"
    } else {
        "progress-final-touches"
    }
}

/// The museum label's panel (top left).
#[derive(Component)]
pub struct MuseumLabel;

/// The credit line under the label.
#[derive(Component)]
struct CreditText;

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
            theme::fill(theme::Fill::Label),
            theme::VisitorPanel("label"),
            MuseumLabel,
            GlobalZIndex(theme::z::CAPTION),
            visibility,
        ))
        .with_children(|c| {
            // Clear of the language buttons at the top right: a long label wraps. The limit is
            // on the texts, not the panel, so that the panel grows with their lines.
            let wrap = || Node { max_width: vw(50), ..default() };
            c.spawn((CaptionText, language::localized_strong(Localized::EntryLabel(0), 30.0, Ink::Text), wrap()));
            c.spawn((CreditText, language::localized(Localized::EntryCredit(0), 18.0, Ink::Soft), wrap()));
            c.spawn((ProgressRow, Node { flex_direction: FlexDirection::Column, row_gap: px(6), ..default() }))
                .with_children(|row| {
                    row.spawn((Node { width: px(260), height: px(4), ..default() }, theme::fill(theme::Fill::Faint)))
                        .with_children(|bar| {
                            bar.spawn((
                                ProgressFill,
                                Node { width: percent(0), height: percent(100), ..default() },
                                theme::fill(theme::Fill::Accent),
                            ));
                        });
                    row.spawn((ProgressPhrase, language::label("progress-sketching", 22.0, Ink::Accent)));
                });
        });
}

#[allow(clippy::type_complexity)] // a Bevy query: the filters keep the two text queries apart
fn update_caption(
    mut changes: MessageReader<ArtworkChanged>,
    playlist: Option<Res<Playlist>>,
    mut label: Query<&mut Localized, With<CaptionText>>,
    mut credit: Query<(&mut Localized, &mut Node), (With<CreditText>, Without<CaptionText>)>,
) {
    let (Some(change), Some(playlist)) = (changes.read().last(), playlist) else { return };
    for mut l in &mut label {
        *l = Localized::EntryLabel(change.index);
    }
    // No credit line, no empty row under the label.
    let has_credit = !playlist.scene.entries[change.index].credit.is_empty()
        || playlist.scene.entries[change.index].translations.values().any(|t| t.credit.is_some());
    for (mut c, mut node) in &mut credit {
        *c = Localized::EntryCredit(change.index);
        node.display = if has_credit { Display::Flex } else { Display::None };
    }
}

fn update_progress(
    latest: Res<LatestPainting>,
    journey: Option<Res<State<Journey>>>,
    mut row: Query<&mut Node, (With<ProgressRow>, Without<ProgressFill>)>,
    mut fill: Query<&mut Node, With<ProgressFill>>,
    mut phrase: Query<&mut Localized, With<ProgressPhrase>>,
) {
    // With the visitor journey, progress belongs to a visitor's painting only.
    let painting = journey.as_ref().is_none_or(|j| matches!(j.get(), Journey::Painting | Journey::Reveal));
    let display = if painting && latest.0.is_some() { Display::Flex } else { Display::None };
    for mut n in &mut row {
        if n.display != display {
            n.display = display;
        }
    }
    if !latest.is_changed() {
        return;
    }
    let Some(s) = &latest.0 else { return };
    let share = if s.finished { 1.0 } else { s.iteration as f32 / s.total_iterations.max(1) as f32 };
    for mut n in &mut fill {
        n.width = percent(100.0 * share);
    }
    let words = Localized::key(progress_phrase(s.level, s.levels, s.iteration, s.total_iterations, s.finished));
    for mut t in &mut phrase {
        if *t != words {
            *t = words.clone();
        }
    }
}
