//! Every visitor: the row of the visitor's own controls (languages, high contrast), placed
//! where a seated visitor reaches it, and the high-contrast theme a button switches on for
//! one visit. On a portrait screen, or with `kiosk.reach`, every control a visitor touches
//! lies in the lower part of the screen ([`Reach`]); the journey's prompts and buttons ask
//! [`Reach::above_picker`] where to sit.

use bevy::prelude::*;
use bevy::window::PrimaryWindow;

use super::AppSystems;
use super::language::{self, Texts};
use super::theme::{self, Anchor, Edge, Fill, Ink, Palette};
use crate::config::ReachConfig;

/// `kiosk.reach` and `kiosk.high_contrast`.
#[derive(Resource, Clone, Copy, Debug, Default)]
pub struct AccessSettings {
    pub reach: Option<ReachConfig>,
    pub high_contrast: bool,
}

/// Where the visitor's controls are now: the reachable share of the screen from its
/// bottom edge, or None when the whole screen may be used (a landscape screen without
/// `kiosk.reach`).
#[derive(Resource, Clone, Copy, Debug, Default, PartialEq)]
pub struct Reach {
    pub bottom_fraction: Option<f32>,
    /// The visitor's controls' height as laid out (logical px; 0 before the first layout):
    /// two lines, more where a language's words make a line wrap.
    pub controls_height: f32,
}

/// The controls' height before they have been laid out: two lines of buttons.
const CONTROLS_GUESS: f32 = 110.0;
/// Between the controls and what makes room for them.
const CONTROLS_GAP: f32 = 20.0;

impl Reach {
    fn controls_at_bottom(&self) -> bool {
        self.bottom_fraction.is_some()
    }

    /// Bottom of the journey's prompts and buttons: above the picker strip, and above the
    /// visitor's controls when they sit at the bottom.
    pub fn above_picker(&self) -> f32 {
        theme::ABOVE_PICKER + if self.controls_at_bottom() { 8.0 + self.controls() + CONTROLS_GAP } else { 0.0 }
    }

    /// Top of what sits at the top right (the camera preview): under the controls when they
    /// are there.
    fn under_controls(&self) -> f32 {
        if self.controls_at_bottom() { 24.0 } else { (20.0 + self.controls() + 12.0).max(theme::BELOW_LANGUAGES) }
    }

    fn controls(&self) -> f32 {
        if self.controls_height > 0.0 { self.controls_height } else { CONTROLS_GUESS }
    }
}

/// The visitor's controls: a line of language buttons, and under it a line of settings
/// ([`SettingsRow`]: contrast, voice), right-aligned (two short lines leave the museum label
/// at the top left its room, whatever the language).
#[derive(Component)]
pub struct ControlsRow;

/// The line of the visitor's settings within the controls (the voice adds its button here).
#[derive(Component)]
pub struct SettingsRow;

/// Switches the high-contrast theme for this visit.
#[derive(Component)]
#[require(theme::VisitorSetting)]
pub struct ContrastButton;

/// The theme a visit is in: on with the button, back to `kiosk.high_contrast` for the next visitor.
#[derive(Resource, Clone, Copy, Debug, PartialEq)]
pub struct HighContrast(pub bool);

pub(super) fn plugin(app: &mut App) {
    let high = app.world().get_resource::<AccessSettings>().copied().unwrap_or_default().high_contrast;
    app.init_resource::<AccessSettings>()
        .init_resource::<Reach>()
        .insert_resource(HighContrast(high))
        .add_systems(Startup, spawn_controls)
        .add_systems(PreUpdate, (measure_reach, measure_controls).chain())
        .add_systems(Update, switch_contrast.in_set(AppSystems::Input))
        .add_systems(Update, (place_controls, place_anchored, show_contrast).in_set(AppSystems::Present));
}

/// Back to the configured theme for the next visitor (the journey runs it at Attract).
pub fn reset(settings: Option<Res<AccessSettings>>, high: Option<ResMut<HighContrast>>) {
    let (Some(settings), Some(mut high)) = (settings, high) else { return };
    high.set_if_neq(HighContrast(settings.high_contrast));
}

fn measure_reach(settings: Res<AccessSettings>, window: Query<&Window, With<PrimaryWindow>>, mut reach: ResMut<Reach>) {
    let Ok(window) = window.single() else { return };
    let portrait = window.height() > window.width();
    let bottom_fraction = match settings.reach {
        Some(r) => Some(r.bottom_fraction),
        None if portrait => Some(ReachConfig::default().bottom_fraction),
        None => None,
    };
    if reach.bottom_fraction != bottom_fraction {
        reach.bottom_fraction = bottom_fraction;
    }
}

/// The controls' laid-out height (a language whose words wrap a line makes them taller).
fn measure_controls(rows: Query<&ComputedNode, With<ControlsRow>>, mut reach: ResMut<Reach>) {
    let Some(node) = rows.iter().next() else { return };
    let height = (node.size().y * node.inverse_scale_factor()).round();
    if height > 0.0 && reach.controls_height != height {
        reach.controls_height = height;
    }
}

pub(super) fn spawn_controls(mut commands: Commands, texts: Res<Texts>) {
    commands
        .spawn((
            ControlsRow,
            theme::VisitorPanel("controls"),
            Node {
                position_type: PositionType::Absolute,
                top: px(20),
                right: px(20),
                flex_direction: FlexDirection::Column,
                align_items: AlignItems::FlexEnd,
                row_gap: px(10),
                ..default()
            },
            GlobalZIndex(theme::z::LANGUAGES),
        ))
        .with_children(|controls| {
            let line = || Node {
                column_gap: px(10),
                row_gap: px(10),
                flex_wrap: FlexWrap::Wrap,
                justify_content: JustifyContent::FlexEnd,
                ..default()
            };
            controls.spawn(line()).with_children(|row| language::spawn_buttons(row, &texts.0));
            controls.spawn((SettingsRow, line())).with_children(|row| {
                row.spawn((ContrastButton, theme::touch_button(20.0))).with_children(|b| {
                    b.spawn(language::label("access-contrast", 20.0, Ink::Text));
                });
            });
        });
}

/// Top right in two short lines; or, when the screen asks for reach, at the bottom above the
/// picker strip in one line where it fits (low is what counts there, and one line is lower).
fn place_controls(reach: Res<Reach>, mut rows: Query<&mut Node, With<ControlsRow>>) {
    if !reach.is_changed() {
        return;
    }
    for mut node in &mut rows {
        let at_bottom = reach.controls_at_bottom();
        let (top, bottom) = if at_bottom { (Val::Auto, px(theme::ABOVE_PICKER + 8.0)) } else { (px(20), Val::Auto) };
        let direction = if at_bottom { FlexDirection::Row } else { FlexDirection::Column };
        if node.top != top || node.bottom != bottom || node.flex_direction != direction {
            node.top = top;
            node.bottom = bottom;
            node.flex_direction = direction;
            node.flex_wrap = if at_bottom { FlexWrap::Wrap } else { FlexWrap::NoWrap };
            node.justify_content = JustifyContent::FlexEnd;
            node.column_gap = px(10);
            // Two lines at the bottom: the second (the settings) sits at the bottom, nearest the hand.
            node.align_content = AlignContent::FlexEnd;
        }
    }
}

/// Prompts, buttons and the preview make room for the controls: when they appear, and all
/// of them when the controls move (the window's size is known a frame or two after start).
fn place_anchored(reach: Res<Reach>, mut nodes: Query<(Ref<Anchor>, &mut Node)>) {
    for (anchor, mut node) in &mut nodes {
        if !(reach.is_changed() || anchor.is_changed()) {
            continue;
        }
        match *anchor {
            Anchor::AbovePicker(extra) => node.bottom = px(reach.above_picker() + extra),
            Anchor::UnderControls => node.top = px(reach.under_controls()),
        }
    }
}

fn switch_contrast(
    buttons: Query<&Interaction, (Changed<Interaction>, With<ContrastButton>)>,
    mut high: ResMut<HighContrast>,
) {
    if buttons.iter().any(|i| *i == Interaction::Pressed) {
        high.0 = !high.0;
        tracing::info!("visitor switched high contrast {}", if high.0 { "on" } else { "off" });
    }
}

/// The palette follows the visit's theme; the button shows whether it is on.
fn show_contrast(
    high: Res<HighContrast>,
    mut palette: ResMut<Palette>,
    mut buttons: Query<(&mut Edge, &mut Fill), With<ContrastButton>>,
) {
    let want = if high.0 { Palette::HIGH_CONTRAST } else { Palette::STANDARD };
    palette.set_if_neq(want);
    for (mut edge, mut fill) in &mut buttons {
        edge.set_if_neq(if high.0 { Edge::Accent } else { Edge::Faint });
        fill.set_if_neq(if high.0 { Fill::Panel } else { Fill::Label });
    }
}
