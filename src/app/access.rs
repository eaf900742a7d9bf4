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
}

/// The row's height, with the gap above the picker strip: what the prompts rise by when the
/// row sits at the bottom.
const CONTROLS_ROW: f32 = 84.0;

impl Reach {
    fn controls_at_bottom(&self) -> bool {
        self.bottom_fraction.is_some()
    }

    /// Bottom of the journey's prompts and buttons: above the picker strip, and above the
    /// visitor's controls when they sit at the bottom.
    pub fn above_picker(&self) -> f32 {
        theme::ABOVE_PICKER + if self.controls_at_bottom() { CONTROLS_ROW } else { 0.0 }
    }

    /// Top of what sits at the top right (the camera preview): under the controls when they
    /// are there.
    fn under_controls(&self) -> f32 {
        if self.controls_at_bottom() { 24.0 } else { theme::BELOW_LANGUAGES }
    }
}

/// The visitor's controls: the language buttons and the contrast switch.
#[derive(Component)]
pub struct ControlsRow;

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
        .add_systems(PreUpdate, measure_reach)
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
    reach.set_if_neq(Reach { bottom_fraction });
}

pub(super) fn spawn_controls(mut commands: Commands, texts: Res<Texts>) {
    commands
        .spawn((
            ControlsRow,
            Node {
                position_type: PositionType::Absolute,
                top: px(20),
                right: px(20),
                column_gap: px(10),
                flex_wrap: FlexWrap::Wrap,
                justify_content: JustifyContent::FlexEnd,
                ..default()
            },
            GlobalZIndex(theme::z::LANGUAGES),
        ))
        .with_children(|row| {
            language::spawn_buttons(row, &texts.0);
            row.spawn((ContrastButton, theme::touch_button(20.0))).with_children(|b| {
                b.spawn(language::label("access-contrast", 20.0, Ink::Text));
            });
        });
}

/// Top right, or at the bottom right above the picker strip when the screen asks for reach.
fn place_controls(reach: Res<Reach>, mut rows: Query<&mut Node, With<ControlsRow>>) {
    if !reach.is_changed() {
        return;
    }
    for mut node in &mut rows {
        if reach.controls_at_bottom() {
            node.top = Val::Auto;
            node.bottom = px(theme::ABOVE_PICKER + 8.0);
        } else {
            node.top = px(20);
            node.bottom = Val::Auto;
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
