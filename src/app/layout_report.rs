//! For tests and translators: with `GALLERY_LAYOUT_REPORT=<file>` in the environment the app
//! writes, four times a second, every text on screen with its box and its parent's box (in
//! physical pixels), which Fluent message it shows (or none), the language, the journey
//! state, where the language buttons are, every node a visitor can touch, and each text's
//! colour role and the panel it sits on. A test reads it to check that each language fits
//! its boxes, that a language button switches every visible text, that no visible text
//! bypasses Fluent, that every control is within reach, and that every text is legible in
//! the theme on show. Off (no system runs) without the variable.

use std::path::PathBuf;

use bevy::prelude::*;
use bevy::ui::{ComputedNode, UiGlobalTransform, UiSystems};
use bevy::window::PrimaryWindow;
use serde::{Deserialize, Serialize};

use super::access::{ContrastButton, HighContrast, Reach};
use super::journey::Journey;
use super::language::{Language, LanguageButton, Localized};
use super::picker::Thumbnail;
use super::theme::{Fill, Ink};

pub const ENV: &str = "GALLERY_LAYOUT_REPORT";

#[derive(Resource)]
struct ReportFile(PathBuf);

#[derive(Serialize, Deserialize, Debug)]
pub struct TextBox {
    /// The Fluent message, `entry-title:<i>` etc. for scene texts, None for a text that
    /// does not go through Fluent.
    pub key: Option<String>,
    pub text: String,
    pub font_px: f32,
    /// [x0, y0, x1, y1], physical pixels.
    pub rect: [f32; 4],
    pub parent: Option<[f32; 4]>,
    /// Its colour role, and the role of the nearest panel behind it (None: on the picture).
    pub ink: Option<Ink>,
    pub on: Option<Fill>,
}

/// A node a visitor can touch: what it says (or `thumbnail <i>`) and its box.
#[derive(Serialize, Deserialize, Debug)]
pub struct Touchable {
    pub what: String,
    pub rect: [f32; 4],
}

#[derive(Serialize, Deserialize, Debug)]
pub struct Report {
    pub window: [u32; 2],
    pub language: String,
    pub journey: String,
    pub texts: Vec<TextBox>,
    /// Each language button: its language and box.
    pub buttons: Vec<(String, [f32; 4])>,
    pub touchables: Vec<Touchable>,
    /// The high-contrast theme is on.
    pub high_contrast: bool,
    /// The reachable share of the screen from its bottom edge, when there is one.
    pub reach: Option<f32>,
    /// Each visible panel a visitor sees ([`super::theme::VisitorPanel`]): its name and box.
    #[serde(default)]
    pub panels: Vec<(String, [f32; 4])>,
    /// The faces the camera sees, where they are on the live image (when it shows).
    #[serde(default)]
    pub faces: Vec<[f32; 4]>,
}

pub(super) fn plugin(app: &mut App) {
    let Some(path) = std::env::var_os(ENV) else { return };
    app.insert_resource(ReportFile(PathBuf::from(path))).add_systems(
        PostUpdate,
        write
            .after(UiSystems::Layout)
            .run_if(bevy::time::common_conditions::on_timer(std::time::Duration::from_millis(250))),
    );
}

fn rect(node: &ComputedNode, at: &UiGlobalTransform) -> [f32; 4] {
    let (c, half) = (at.translation, node.size() / 2.0);
    [c.x - half.x, c.y - half.y, c.x + half.x, c.y + half.y]
}

fn key_of(l: &Localized) -> String {
    match l {
        Localized::Message { key, .. } | Localized::InLanguage { key, .. } => key.to_string(),
        Localized::EntryTitle(i) => format!("entry-title:{i}"),
        Localized::EntryLabel(i) => format!("entry-label:{i}"),
        Localized::EntryCredit(i) => format!("entry-credit:{i}"),
    }
}

/// What the app's state adds to the report.
#[derive(bevy::ecs::system::SystemParam)]
struct Moment<'w> {
    language: Option<Res<'w, Language>>,
    journey: Option<Res<'w, State<Journey>>>,
    high_contrast: Option<Res<'w, HighContrast>>,
    reach: Option<Res<'w, Reach>>,
}

type Touch<'a> = (
    Entity,
    &'a ComputedNode,
    &'a UiGlobalTransform,
    &'a InheritedVisibility,
    Option<&'a Thumbnail>,
    Option<&'a ContrastButton>,
);

#[allow(clippy::type_complexity, clippy::too_many_arguments)] // a Bevy system: one query per part of the report
fn write(
    file: Res<ReportFile>,
    window: Query<&Window, With<PrimaryWindow>>,
    moment: Moment,
    texts: Query<(
        &Text,
        &TextFont,
        &ComputedNode,
        &UiGlobalTransform,
        &InheritedVisibility,
        Option<&Localized>,
        Option<&ChildOf>,
        Option<&Ink>,
    )>,
    nodes: Query<(&ComputedNode, &UiGlobalTransform)>,
    buttons: Query<(&LanguageButton, &ComputedNode, &UiGlobalTransform)>,
    touchables: Query<Touch, With<Interaction>>,
    parents: Query<(Option<&ChildOf>, Option<&Fill>)>,
    children: Query<&Children>,
    words: Query<&Text>,
    panels: Query<(&super::theme::VisitorPanel, &ComputedNode, &UiGlobalTransform, &InheritedVisibility)>,
    status: Option<Res<super::pipeline::PipelineStatus>>,
) {
    // The nearest panel behind a node: up its parents to the first with a fill role.
    let panel_behind = |mut at: Entity| loop {
        let Ok((up, fill)) = parents.get(at) else { return None };
        if let Some(f) = fill {
            return Some(*f);
        }
        at = up?.parent();
    };
    let Ok(window) = window.single() else { return };
    let mut out = Vec::new();
    for (text, font, node, at, visible, localized, parent, ink) in &texts {
        if !visible.get() || node.size().x <= 0.0 || text.0.is_empty() {
            continue;
        }
        let font_px = match font.font_size {
            bevy::text::FontSize::Px(px) => px,
            _ => 0.0,
        };
        out.push(TextBox {
            key: localized.map(key_of),
            text: text.0.clone(),
            font_px,
            rect: rect(node, at),
            parent: parent.and_then(|p| nodes.get(p.parent()).ok()).map(|(n, t)| rect(n, t)),
            ink: ink.copied(),
            on: parent.and_then(|p| panel_behind(p.parent())),
        });
    }
    let mut touch = Vec::new();
    for (entity, node, at, visible, thumbnail, contrast) in &touchables {
        if !visible.get() || node.size().x <= 0.0 {
            continue;
        }
        let what = match (thumbnail, contrast) {
            (Some(t), _) => format!("thumbnail {}", t.0),
            (_, Some(_)) => "contrast button".to_string(),
            _ => children
                .iter_descendants(entity)
                .find_map(|c| words.get(c).ok().map(|t| t.0.clone()))
                .unwrap_or_else(|| format!("{entity:?}")),
        };
        touch.push(Touchable { what, rect: rect(node, at) });
    }
    let shown: Vec<(String, [f32; 4])> = panels
        .iter()
        .filter(|(_, node, _, visible)| visible.get() && node.size().x > 0.0 && node.size().y > 0.0)
        .map(|(p, node, at, _)| (p.0.to_string(), rect(node, at)))
        .collect();
    // The faces of the camera's newest frame, on the live image that shows it.
    let faces = match (shown.iter().find(|(name, _)| name == "live"), status.as_ref().and_then(|s| s.capture.as_ref()))
    {
        (Some((_, [x0, y0, x1, y1])), Some(c)) => c
            .faces
            .iter()
            .map(|f| {
                let (w, h) = (x1 - x0, y1 - y0);
                [x0 + f.x * w, y0 + f.y * h, x0 + (f.x + f.w) * w, y0 + (f.y + f.h) * h]
            })
            .collect(),
        _ => Vec::new(),
    };
    let report = Report {
        window: [window.physical_width(), window.physical_height()],
        language: moment.language.map(|l| l.current.clone()).unwrap_or_default(),
        journey: moment.journey.map(|j| format!("{:?}", j.get())).unwrap_or_default(),
        texts: out,
        buttons: buttons.iter().map(|(b, n, t)| (b.0.clone(), rect(n, t))).collect(),
        touchables: touch,
        high_contrast: moment.high_contrast.is_some_and(|h| h.0),
        reach: moment.reach.and_then(|r| r.bottom_fraction),
        panels: shown,
        faces,
    };
    let json = serde_json::to_vec(&report).expect("a report serialises");
    // Written beside and renamed: a reader never sees half a report.
    let tmp = file.0.with_extension("tmp");
    if std::fs::write(&tmp, json).and_then(|()| std::fs::rename(&tmp, &file.0)).is_err() {
        tracing::warn!("layout report: cannot write {}", file.0.display());
    }
}
