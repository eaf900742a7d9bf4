//! One place for the look of the installation: colours, type sizes, and which layer sits
//! above which.

use bevy::prelude::*;

use super::typeface;

/// Warm white for text on dark panels.
pub const TEXT: Color = Color::srgb(1.0, 0.96, 0.88);
/// Quieter text: the credit line under the label.
pub const SOFT_TEXT: Color = Color::srgba(1.0, 0.96, 0.88, 0.78);
/// Dark text on a white panel (the take-home QR code).
pub const INK: Color = Color::srgb(0.08, 0.07, 0.05);
/// Gold: the selected thumbnail, progress, buttons.
pub const ACCENT: Color = Color::srgb(0.98, 0.82, 0.35);
/// Dark translucent panel behind text over the painting.
pub const PANEL: Color = Color::srgba(0.0, 0.0, 0.0, 0.6);
/// The museum label and the picker strip: a little lighter than a panel.
pub const LABEL: Color = Color::srgba(0.0, 0.0, 0.0, 0.55);
/// Unselected thumbnail borders, empty progress, frames around live images.
pub const FAINT: Color = Color::srgba(1.0, 1.0, 1.0, 0.25);
/// Staff-only text (the F12 overlay): terminal green on near-black.
pub const STAFF_TEXT: Color = Color::srgb(0.7, 1.0, 0.7);
pub const STAFF_PANEL: Color = Color::srgba(0.0, 0.0, 0.0, 0.75);
/// The "camera lost" / "painter stopped" banner.
pub const TROUBLE: Color = Color::srgba(0.35, 0.05, 0.05, 0.8);
/// The closed screen outside opening hours.
pub const CLOSED: Color = Color::srgba(0.0, 0.0, 0.0, 0.85);
/// Recording red: the capture indicator.
pub const CAPTURE_RED: Color = Color::srgb(0.92, 0.16, 0.14);

/// Stacking order of full-screen layers (higher is in front).
pub mod z {
    pub const CAPTION: i32 = 5;
    pub const PREVIEW: i32 = 6;
    pub const SIDE_BY_SIDE: i32 = 8;
    pub const PICKER: i32 = 10;
    pub const PICKER_HINT: i32 = 11;
    pub const JOURNEY_PROMPT: i32 = 20;
    pub const LIVE_VIEW: i32 = 18;
    pub const COUNTDOWN: i32 = 22;
    pub const CAPTURE_INDICATOR: i32 = 24;
    pub const LANGUAGES: i32 = 26;
    pub const FLASH: i32 = 30;
    pub const BANNER: i32 = 40;
    pub const HUD: i32 = 50;
    pub const CLOSED: i32 = 60;
}

/// A full-screen, click-through container that centres its children.
pub fn full_screen(justify: JustifyContent, align: AlignItems) -> Node {
    Node {
        position_type: PositionType::Absolute,
        width: percent(100),
        height: percent(100),
        justify_content: justify,
        align_items: align,
        flex_direction: FlexDirection::Column,
        ..default()
    }
}

/// A rounded dark panel with padding, for text over the painting.
pub fn panel(padding_x: f32, padding_y: f32) -> (Node, BackgroundColor) {
    (
        Node {
            padding: UiRect::axes(px(padding_x), px(padding_y)),
            flex_direction: FlexDirection::Column,
            align_items: AlignItems::Center,
            row_gap: px(6),
            border_radius: BorderRadius::all(px(14)),
            ..default()
        },
        BackgroundColor(PANEL),
    )
}

/// Text only staff read (the F12 overlay), filled by its own system in English.
pub fn staff_text(size: f32, color: Color) -> (Text, TextFont, TextColor) {
    (Text::new(""), typeface::regular(size), TextColor(color))
}

/// Top of what sits under the language buttons (top right).
pub const BELOW_LANGUAGES: f32 = 92.0;

/// Height of the picker strip at the bottom of the screen; prompts sit above it.
pub const ABOVE_PICKER: f32 = 176.0;

/// A full-width row `bottom` px above the bottom edge, centring what it holds: where the
/// journey's prompts go.
pub fn prompt_row(bottom: f32) -> (Node, GlobalZIndex) {
    (
        Node {
            position_type: PositionType::Absolute,
            width: percent(100),
            bottom: px(bottom),
            justify_content: JustifyContent::Center,
            ..default()
        },
        GlobalZIndex(z::JOURNEY_PROMPT),
    )
}

/// A large, rounded touch target with a gold border; the label is its child (see [`text`]).
/// Font size sets the proportions, so every button of the installation looks alike.
pub fn touch_button(font_size: f32) -> (Button, Node, BackgroundColor, BorderColor) {
    (
        Button,
        Node {
            padding: UiRect::axes(px(font_size), px(font_size * 0.45)),
            border: UiRect::all(px(4)),
            border_radius: BorderRadius::all(px(font_size)),
            ..default()
        },
        BackgroundColor(PANEL),
        BorderColor::all(ACCENT),
    )
}
