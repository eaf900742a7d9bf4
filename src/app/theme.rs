//! One place for the look of the installation: colours, type sizes, and which layer sits
//! above which.

use bevy::prelude::*;

use serde::{Deserialize, Serialize};

use super::typeface;

/// Every colour a visitor sees, by role. Two themes: [`Palette::STANDARD`] and
/// [`Palette::HIGH_CONTRAST`] (solid panels, pure white, larger text), switched by the
/// visitor's button or `kiosk.high_contrast`. Texts on panels meet WCAG AA (4.5:1) in both
/// against the panel over the brightest picture (see [`worst_contrast`]): panels are
/// translucent, and Bevy blends them with the painting in linear light.
#[derive(Resource, Clone, Copy, Debug, PartialEq)]
pub struct Palette {
    /// Text on dark panels: warm white.
    pub text: Color,
    /// Quieter text: the credit line under the label.
    pub soft: Color,
    /// Gold: the selected thumbnail, progress, buttons' borders, hints.
    pub accent: Color,
    /// Dark text on a white panel (the take-home QR code).
    pub on_paper: Color,
    /// Dark translucent panel behind text over the painting.
    pub panel: Color,
    /// The museum label and the picker strip.
    pub label: Color,
    /// Unselected borders, empty progress.
    pub faint: Color,
    /// The "camera lost" banner.
    pub trouble: Color,
    /// The closed screen outside opening hours.
    pub closed: Color,
    /// Frames around live images.
    pub frame: Color,
    /// Text sizes are multiplied by this.
    pub text_scale: f32,
}

impl Palette {
    pub const STANDARD: Palette = Palette {
        text: Color::srgb(1.0, 0.96, 0.88),
        soft: Color::srgb(0.93, 0.9, 0.84),
        accent: Color::srgb(1.0, 0.87, 0.45),
        on_paper: Color::srgb(0.08, 0.07, 0.05),
        panel: Color::srgba(0.0, 0.0, 0.0, 0.88),
        label: Color::srgba(0.0, 0.0, 0.0, 0.88),
        faint: Color::srgba(1.0, 1.0, 1.0, 0.25),
        trouble: Color::srgba(0.35, 0.05, 0.05, 0.92),
        closed: Color::srgba(0.0, 0.0, 0.0, 0.88),
        frame: Color::srgba(1.0, 0.96, 0.88, 0.6),
        text_scale: 1.0,
    };
    pub const HIGH_CONTRAST: Palette = Palette {
        text: Color::WHITE,
        soft: Color::WHITE,
        accent: Color::srgb(1.0, 0.86, 0.0),
        on_paper: Color::BLACK,
        panel: Color::BLACK,
        label: Color::BLACK,
        faint: Color::srgb(0.6, 0.6, 0.6),
        trouble: Color::srgb(0.45, 0.0, 0.0),
        closed: Color::BLACK,
        frame: Color::WHITE,
        text_scale: 1.3,
    };

    pub fn ink(&self, role: Ink) -> Color {
        match role {
            Ink::Text => self.text,
            Ink::Soft => self.soft,
            Ink::Accent => self.accent,
            Ink::OnPaper => self.on_paper,
        }
    }

    pub fn fill(&self, role: Fill) -> Color {
        match role {
            Fill::Panel => self.panel,
            Fill::Label => self.label,
            Fill::Faint => self.faint,
            Fill::Accent => self.accent,
            Fill::Trouble => self.trouble,
            Fill::Closed => self.closed,
            Fill::Paper => Color::WHITE,
            Fill::CaptureRed => CAPTURE_RED,
            Fill::Black => Color::BLACK,
        }
    }

    pub fn edge(&self, role: Edge) -> Color {
        match role {
            Edge::Accent => self.accent,
            Edge::Faint => self.faint,
            Edge::Frame => self.frame,
        }
    }
}

/// The colour role of a visitor text.
#[derive(Component, Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Ink {
    Text,
    Soft,
    Accent,
    OnPaper,
}

/// The colour role of a node's background.
#[derive(Component, Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Fill {
    Panel,
    Label,
    Faint,
    Accent,
    Trouble,
    Closed,
    Paper,
    CaptureRed,
    /// Opaque black, behind photo and painting side by side.
    Black,
}

/// The colour role of a node's border.
#[derive(Component, Clone, Copy, Debug, PartialEq, Eq)]
pub enum Edge {
    Accent,
    Faint,
    Frame,
}

/// A visitor text's size in the standard theme; the palette scales it.
#[derive(Component, Clone, Copy, Debug, PartialEq)]
pub struct TextSize(pub f32);

/// A text's colour, set now and again by the palette.
pub fn ink(role: Ink) -> (Ink, TextColor) {
    (role, TextColor(Palette::STANDARD.ink(role)))
}

/// A node's background, set now and again by the palette.
pub fn fill(role: Fill) -> (Fill, BackgroundColor) {
    (role, BackgroundColor(Palette::STANDARD.fill(role)))
}

/// A node's border colour, set now and again by the palette.
pub fn edge(role: Edge) -> (Edge, BorderColor) {
    (role, BorderColor::all(Palette::STANDARD.edge(role)))
}

/// Staff-only text (the F12 overlay): terminal green on near-black.
pub const STAFF_TEXT: Color = Color::srgb(0.7, 1.0, 0.7);
pub const STAFF_PANEL: Color = Color::srgba(0.0, 0.0, 0.0, 0.75);
/// Recording red: the capture indicator.
pub const CAPTURE_RED: Color = Color::srgb(0.92, 0.16, 0.14);

/// WCAG 2 relative luminance of an opaque colour.
fn luminance(c: Color) -> f32 {
    let l = c.to_linear();
    0.2126 * l.red + 0.7152 * l.green + 0.0722 * l.blue
}

/// `over` seen through `top` (alpha blending in linear light, as Bevy's UI does).
fn blend(top: Color, over: LinearRgba) -> LinearRgba {
    let t = top.to_linear();
    let a = t.alpha;
    LinearRgba::rgb(
        t.red * a + over.red * (1.0 - a),
        t.green * a + over.green * (1.0 - a),
        t.blue * a + over.blue * (1.0 - a),
    )
}

/// The lowest WCAG contrast of `ink` text on a `fill` panel, over any picture (the panel
/// over black and over white, the text over that).
pub fn worst_contrast(palette: &Palette, ink: Ink, fill: Fill) -> f32 {
    [LinearRgba::BLACK, LinearRgba::WHITE]
        .into_iter()
        .map(|picture| {
            let panel = blend(palette.fill(fill), picture);
            let text = blend(palette.ink(ink), panel);
            let (a, b) = (luminance(text.into()), luminance(panel.into()));
            (a.max(b) + 0.05) / (a.min(b) + 0.05)
        })
        .fold(f32::INFINITY, f32::min)
}

/// Paints every role with the palette: when a node appears, and all of them when the
/// visitor switches theme.
fn paint(
    palette: Res<Palette>,
    mut inks: Query<(Ref<Ink>, &mut TextColor)>,
    mut fills: Query<(Ref<Fill>, &mut BackgroundColor)>,
    mut edges: Query<(Ref<Edge>, &mut BorderColor)>,
    mut sizes: Query<(Ref<TextSize>, &mut TextFont)>,
) {
    let all = palette.is_changed();
    for (role, mut color) in &mut inks {
        if all || role.is_changed() {
            color.set_if_neq(TextColor(palette.ink(*role)));
        }
    }
    for (role, mut color) in &mut fills {
        if all || role.is_changed() {
            color.set_if_neq(BackgroundColor(palette.fill(*role)));
        }
    }
    for (role, mut color) in &mut edges {
        if all || role.is_changed() {
            color.set_if_neq(BorderColor::all(palette.edge(*role)));
        }
    }
    for (size, mut font) in &mut sizes {
        if all || size.is_changed() {
            let px = bevy::text::FontSize::Px(size.0 * palette.text_scale);
            if font.font_size != px {
                font.font_size = px;
            }
        }
    }
}

pub(super) fn plugin(app: &mut App) {
    app.init_resource::<Palette>().add_systems(PostUpdate, paint.before(bevy::ui::UiSystems::Prepare));
}

impl Default for Palette {
    fn default() -> Self {
        Palette::STANDARD
    }
}

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
pub fn panel(padding_x: f32, padding_y: f32) -> (Node, Fill, BackgroundColor) {
    (
        Node {
            padding: UiRect::axes(px(padding_x), px(padding_y)),
            flex_direction: FlexDirection::Column,
            align_items: AlignItems::Center,
            row_gap: px(6),
            border_radius: BorderRadius::all(px(14)),
            ..default()
        },
        Fill::Panel,
        BackgroundColor(Palette::STANDARD.panel),
    )
}

/// Text only staff read (the F12 overlay), filled by its own system in English.
pub fn staff_text(size: f32, color: Color) -> (Text, TextFont, TextColor) {
    (Text::new(""), typeface::regular(size), TextColor(color))
}

/// A panel a visitor sees (the museum label, the controls, a prompt, the live image, the QR
/// card ...), by name: the layout report checks that no two of them overlap.
#[derive(Component, Clone, Copy, Debug)]
pub struct VisitorPanel(pub &'static str);

/// Top of what sits under the language buttons (top right).
pub const BELOW_LANGUAGES: f32 = 92.0;

/// Height of the picker strip at the bottom of the screen; prompts sit above it.
pub const ABOVE_PICKER: f32 = 176.0;

/// Where a node sits that must make room for the visitor's controls (see `access`): its
/// `bottom` this many px above the picker strip, and above the controls when they are at the
/// bottom of the screen; or its `top` under the controls when they are at the top right.
#[derive(Component, Clone, Copy, Debug, PartialEq)]
pub enum Anchor {
    AbovePicker(f32),
    UnderControls,
}

/// A full-width row above the picker strip, centring what it holds (wrapped into lines on a
/// narrow screen): where the journey's prompts go.
pub fn prompt_row() -> (Node, GlobalZIndex, Anchor) {
    (
        Node {
            position_type: PositionType::Absolute,
            width: percent(100),
            bottom: px(ABOVE_PICKER),
            justify_content: JustifyContent::Center,
            flex_wrap: FlexWrap::Wrap,
            column_gap: px(16),
            row_gap: px(12),
            ..default()
        },
        GlobalZIndex(z::JOURNEY_PROMPT),
        Anchor::AbovePicker(0.0),
    )
}

/// A large, rounded touch target with a gold border; the label is its child (see [`text`]).
/// Font size sets the proportions, so every button of the installation looks alike.
/// A button of the visitor's own settings (language, contrast, voice): it changes how the
/// kiosk speaks to the visitor and is not a request to be painted.
#[derive(Component, Clone, Copy, Debug, Default)]
pub struct VisitorSetting;

pub fn touch_button(font_size: f32) -> (Button, Node, (Fill, BackgroundColor), (Edge, BorderColor)) {
    (
        Button,
        Node {
            padding: UiRect::axes(px(font_size), px(font_size * 0.45)),
            border: UiRect::all(px(4)),
            border_radius: BorderRadius::all(px(font_size)),
            ..default()
        },
        fill(Fill::Panel),
        edge(Edge::Accent),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn contrast_is_computed_in_linear_light_over_the_worst_picture() {
        let mut p = Palette::HIGH_CONTRAST;
        // White on opaque black: (1 + 0.05) / (0 + 0.05).
        assert!((worst_contrast(&p, Ink::Text, Fill::Panel) - 21.0).abs() < 1e-3);
        // Half-transparent black over a white picture is 0.5 in linear light: 1.05 / 0.55.
        p.panel = Color::srgba(0.0, 0.0, 0.0, 0.5);
        assert!((worst_contrast(&p, Ink::Text, Fill::Panel) - 1.05 / 0.55).abs() < 1e-3);
    }

    #[test]
    fn every_text_on_its_panel_meets_wcag_aa_in_both_themes() {
        let pairs = [
            (Ink::Text, Fill::Panel),
            (Ink::Text, Fill::Label),
            (Ink::Soft, Fill::Label),
            (Ink::Accent, Fill::Label),
            (Ink::Accent, Fill::Panel),
            (Ink::OnPaper, Fill::Paper),
            (Ink::Text, Fill::Trouble),
            (Ink::Text, Fill::Closed),
            (Ink::Text, Fill::Black),
        ];
        for (name, palette) in [("standard", Palette::STANDARD), ("high contrast", Palette::HIGH_CONTRAST)] {
            for (ink, fill) in pairs {
                let c = worst_contrast(&palette, ink, fill);
                assert!(c >= 4.5, "{name}: {ink:?} on {fill:?} is {c:.2}:1");
            }
        }
        // High contrast is at least as legible everywhere, and enhanced (AAA, 7:1) on panels.
        for (ink, fill) in pairs {
            let (s, h) =
                (worst_contrast(&Palette::STANDARD, ink, fill), worst_contrast(&Palette::HIGH_CONTRAST, ink, fill));
            assert!(h >= s - 1e-3 && h >= 7.0, "{ink:?} on {fill:?}: {h:.2} in high contrast, {s:.2} standard");
        }
    }
}
