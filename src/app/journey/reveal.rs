//! Reveal: the finished painting holds. First, for a moment, the photo and the painting
//! side by side; then the painting alone with a "Paint me again" button. The picker is
//! shown: any artwork repaints the same capture, without a new countdown.

use bevy::prelude::*;

use super::{Journey, JourneyClock, JourneyRequest, JourneySettings, VisitorCapture};
use crate::app::AppSystems;
use crate::app::access::Reach;
use crate::app::display::{fit, rgba_image, to_rgba};
use crate::app::language;
use crate::app::language::Localized;
use crate::app::picker::{Engagement, Picker};
use crate::app::theme;
use crate::app::theme::Ink;

#[derive(Component)]
struct SideBySide;

/// One picture of the side by side, at its own size (fitted again when the controls move).
#[derive(Component)]
struct SidePane(UVec2);

#[derive(Component)]
struct PaintAgainButton;

/// The button's row: hidden while photo and painting are side by side.
#[derive(Component)]
struct PaintAgainRow;

pub(super) fn plugin(app: &mut App) {
    app.add_systems(OnEnter(Journey::Reveal), (spawn_button, spawn_side_by_side, show_picker)).add_systems(
        Update,
        (press.in_set(AppSystems::Input), (end_side_by_side, refit_side_by_side).in_set(AppSystems::Present))
            .run_if(in_state(Journey::Reveal)),
    );
}

fn spawn_button(mut commands: Commands, settings: Res<JourneySettings>) {
    let visibility = if settings.config.side_by_side_s > 0.0 { Visibility::Hidden } else { Visibility::Inherited };
    commands
        .spawn((
            PaintAgainRow,
            DespawnOnExit(Journey::Reveal),
            Node {
                position_type: PositionType::Absolute,
                right: px(28),
                bottom: px(theme::ABOVE_PICKER + 14.0),
                ..default()
            },
            theme::Anchor::AbovePicker(14.0),
            GlobalZIndex(theme::z::JOURNEY_PROMPT),
            visibility,
        ))
        .with_children(|c| {
            c.spawn((PaintAgainButton, theme::touch_button(34.0))).with_children(|b| {
                b.spawn(language::headline("reveal-paint-again", 34.0, Ink::Text));
            });
        });
}

/// Photo and painting side by side, on black, each fitted into half of the screen.
fn spawn_side_by_side(
    mut commands: Commands,
    settings: Res<JourneySettings>,
    capture: Option<Res<VisitorCapture>>,
    mut images: ResMut<Assets<Image>>,
    window: Query<&Window, With<bevy::window::PrimaryWindow>>,
    reach: Res<Reach>,
) {
    if settings.config.side_by_side_s <= 0.0 {
        return;
    }
    let Some(capture) = capture else { return };
    let Some(painting) = capture.finished.clone() else { return };
    let photo = &capture.frame.image;
    let screen = window.single().map(|w| Vec2::new(w.width(), w.height())).unwrap_or(Vec2::new(1280.0, 720.0));
    let portrait = screen.y > screen.x;
    let (half, below) = pane_area(screen, &reach);
    let painting_label = match capture.finished_entry {
        Some(i) => Localized::EntryTitle(i),
        None => Localized::key("progress-finished"),
    };
    let panes = [(photo.clone(), Localized::key("reveal-your-photo")), (painting, painting_label)];
    commands
        .spawn((
            SideBySide,
            DespawnOnExit(Journey::Reveal),
            Node {
                position_type: PositionType::Absolute,
                width: percent(100),
                height: percent(100),
                flex_direction: if portrait { FlexDirection::Column } else { FlexDirection::Row },
                justify_content: JustifyContent::SpaceEvenly,
                align_items: if portrait { AlignItems::Center } else { AlignItems::FlexStart },
                padding: UiRect { top: px(48), bottom: px(if portrait { below } else { 0.0 }), ..default() },
                ..default()
            },
            theme::fill(theme::Fill::Black),
            GlobalZIndex(theme::z::SIDE_BY_SIDE),
        ))
        .with_children(|row| {
            for (img, label) in panes {
                let size = UVec2::new(img.width(), img.height());
                let shown = fit(size, half);
                let handle = images.add(rgba_image(size, to_rgba(&img)));
                row.spawn(Node {
                    flex_direction: FlexDirection::Column,
                    align_items: AlignItems::Center,
                    row_gap: px(12),
                    ..default()
                })
                .with_children(|pane| {
                    pane.spawn((
                        SidePane(size),
                        ImageNode::new(handle),
                        Node { width: px(shown.x), height: px(shown.y), ..default() },
                    ));
                    pane.spawn(language::localized(label, 28.0, Ink::Text));
                });
            }
        });
}

/// Room for each picture (half the screen, clear of the picker strip: beside each other on a
/// landscape screen, one above the other on a portrait one) and the room kept under them
/// (the picker strip, and the visitor's controls when they are at the bottom).
fn pane_area(screen: Vec2, reach: &Reach) -> (Vec2, f32) {
    let below = reach.above_picker() + 16.0;
    let half = if screen.y > screen.x {
        Vec2::new(screen.x - 96.0, ((screen.y - below - 48.0 - 140.0) / 2.0).min(720.0))
    } else {
        Vec2::new(600.0, (screen.y - below - 48.0 - 70.0).min(430.0))
    };
    (half, below)
}

/// The controls grew or shrank (another language wraps its words differently): the pictures
/// make room again, as the prompts do.
fn refit_side_by_side(
    reach: Res<Reach>,
    window: Query<&Window, With<bevy::window::PrimaryWindow>>,
    mut rows: Query<&mut Node, (With<SideBySide>, Without<SidePane>)>,
    mut panes: Query<(&SidePane, &mut Node), Without<SideBySide>>,
) {
    if !reach.is_changed() {
        return;
    }
    let Ok(window) = window.single() else { return };
    let screen = Vec2::new(window.width(), window.height());
    let (half, below) = pane_area(screen, &reach);
    for mut row in &mut rows {
        if screen.y > screen.x {
            row.padding.bottom = px(below);
        }
    }
    for (SidePane(size), mut node) in &mut panes {
        let shown = fit(*size, half);
        node.width = px(shown.x);
        node.height = px(shown.y);
    }
}

fn end_side_by_side(
    mut commands: Commands,
    time: Res<Time>,
    clock: Res<JourneyClock>,
    settings: Res<JourneySettings>,
    panels: Query<Entity, With<SideBySide>>,
    mut button: Query<&mut Visibility, With<PaintAgainRow>>,
) {
    if time.elapsed_secs_f64() - clock.entered < settings.config.side_by_side_s {
        return;
    }
    for e in &panels {
        commands.entity(e).despawn();
    }
    for mut v in &mut button {
        if *v != Visibility::Inherited {
            *v = Visibility::Inherited;
        }
    }
}

fn show_picker(time: Res<Time>, mut engagement: ResMut<Engagement>, mut next: ResMut<NextState<Picker>>) {
    engagement.last_input = time.elapsed_secs_f64();
    next.set(Picker::Shown);
}

fn press(
    buttons: Query<&Interaction, (Changed<Interaction>, With<PaintAgainButton>)>,
    mut requests: MessageWriter<JourneyRequest>,
) {
    if buttons.iter().any(|i| *i == Interaction::Pressed) {
        requests.write(JourneyRequest::PaintAgain);
    }
}
