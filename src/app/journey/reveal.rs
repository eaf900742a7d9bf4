//! Reveal: the finished painting holds. First, for a moment, the photo and the painting
//! side by side; then the painting alone with a "Paint me again" button. The picker is
//! shown: any artwork repaints the same capture, without a new countdown.

use bevy::prelude::*;

use super::{Journey, JourneyClock, JourneyRequest, JourneySettings, VisitorCapture};
use crate::app::AppSystems;
use crate::app::display::{CanvasOnStage, rgba_image, to_rgba};
use crate::app::language;
use crate::app::language::Localized;
use crate::app::picker::{Engagement, Picker};
use crate::app::stage::{self, OnStage, Stage};
use crate::app::theme;
use crate::app::theme::Ink;

#[derive(Component)]
struct SideBySide;

/// The row (or column) holding the two pictures, placed on the stage.
#[derive(Component)]
struct SidePanes;

/// One picture of the side by side, at its own size.
#[derive(Component)]
struct SidePane(UVec2);

#[derive(Component)]
struct PaintAgainButton;

/// The button's row: hidden while photo and painting are side by side.
#[derive(Component)]
struct PaintAgainRow;

pub(super) fn plugin(app: &mut App) {
    app.add_systems(OnEnter(Journey::Reveal), (spawn_button, spawn_side_by_side, show_picker))
        // The visitor's painting is theirs: framed on the stage, no panel on its corners.
        .add_systems(OnEnter(Journey::Reveal), |mut c: ResMut<CanvasOnStage>| c.0 = true)
        .add_systems(OnExit(Journey::Reveal), |mut c: ResMut<CanvasOnStage>| c.0 = false)
        .add_systems(
            Update,
            (press.in_set(AppSystems::Input), (end_side_by_side, fit_side_by_side).in_set(AppSystems::Present))
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
            c.spawn((PaintAgainButton, theme::VisitorPanel("paint again"), stage::Reserved, theme::touch_button(34.0)))
                .with_children(|b| {
                    b.spawn(language::headline("reveal-paint-again", 34.0, Ink::Text));
                });
        });
}

/// Photo and painting side by side, on black, fitted together onto the stage.
fn spawn_side_by_side(
    mut commands: Commands,
    settings: Res<JourneySettings>,
    capture: Option<Res<VisitorCapture>>,
    mut images: ResMut<Assets<Image>>,
) {
    if settings.config.side_by_side_s <= 0.0 {
        return;
    }
    let Some(capture) = capture else { return };
    let Some(painting) = capture.finished.clone() else { return };
    let photo = &capture.frame.image;
    let painting_label = match capture.finished_entry {
        Some(i) => Localized::EntryTitle(i),
        None => Localized::key("progress-finished"),
    };
    let panes = [("photo", photo.clone(), Localized::key("reveal-your-photo")), ("painting", painting, painting_label)];
    commands
        .spawn((
            SideBySide,
            DespawnOnExit(Journey::Reveal),
            theme::full_screen(JustifyContent::Center, AlignItems::Center),
            theme::fill(theme::Fill::Black),
            GlobalZIndex(theme::z::SIDE_BY_SIDE),
        ))
        .with_children(|backdrop| {
            backdrop
                .spawn((
                    SidePanes,
                    Node {
                        position_type: PositionType::Absolute,
                        justify_content: JustifyContent::SpaceBetween,
                        align_items: AlignItems::Center,
                        ..default()
                    },
                ))
                .with_children(|row| {
                    for (name, img, label) in panes {
                        let size = UVec2::new(img.width(), img.height());
                        let handle = images.add(rgba_image(size, to_rgba(&img)));
                        row.spawn(Node {
                            flex_direction: FlexDirection::Column,
                            align_items: AlignItems::Center,
                            row_gap: px(PANE_GAP),
                            ..default()
                        })
                        .with_children(|pane| {
                            pane.spawn((
                                SidePane(size),
                                theme::VisitorPanel(name),
                                OnStage,
                                ImageNode::new(handle),
                                Node { width: px(0), height: px(0), ..default() },
                            ));
                            pane.spawn(language::localized(label, 28.0, Ink::Text));
                        });
                    }
                });
        });
}

/// Between a picture and its label, and between the two pictures.
const PANE_GAP: f32 = 12.0;
const PANES_APART: f32 = 40.0;

/// Photo and painting as large as the stage holds them with their labels: beside each other
/// or one above the other, whichever leaves them larger. Again whenever a panel moves (the
/// controls of another language, the theme's larger text).
fn fit_side_by_side(
    stage: Res<Stage>,
    palette: Res<theme::Palette>,
    mut rows: Query<&mut Node, (With<SidePanes>, Without<SidePane>)>,
    mut panes: Query<(&SidePane, &mut Node), Without<SidePanes>>,
) {
    let aspects: Vec<f32> = panes.iter().map(|(SidePane(s), _)| s.x as f32 / s.y.max(1) as f32).collect();
    let [a, b] = aspects[..] else { return };
    // The label under each picture: one line of 28 px text in the theme's size.
    let label = 28.0 * palette.text_scale * 1.3 + PANE_GAP;
    // Each made at the pictures' height `h`.
    let beside =
        stage.fit(|h| Vec2::new((a + b) * h + PANES_APART, h + label)).map(|(r, h)| (r, h, FlexDirection::Row));
    let above = stage
        .fit(|h| Vec2::new(a.max(b) * h, 2.0 * (h + label) + PANES_APART))
        .map(|(r, h)| (r, h, FlexDirection::Column));
    let (place, h, side) = match (beside, above) {
        (Some(b), Some(u)) => {
            if b.1 >= u.1 {
                b
            } else {
                u
            }
        }
        (b, u) => match b.or(u) {
            Some(found) => found,
            None => return,
        },
    };
    for mut row in &mut rows {
        stage::put(&mut row, place);
        if row.flex_direction != side {
            row.flex_direction = side;
        }
    }
    for (SidePane(size), mut node) in &mut panes {
        let (w, hh) = (px(h * size.x as f32 / size.y.max(1) as f32), px(h));
        if node.width != w || node.height != hh {
            node.width = w;
            node.height = hh;
        }
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
