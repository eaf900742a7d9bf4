//! For tests and translators: with `GALLERY_LAYOUT_REPORT=<file>` in the environment the app
//! writes, four times a second, every text on screen with its box and its parent's box (in
//! physical pixels), which Fluent message it shows (or none), the language, the journey
//! state, and where the language buttons are. A test reads it to check that each language
//! fits its boxes, that a language button switches every visible text, and that no visible
//! text bypasses Fluent. Off (no system runs) without the variable.

use std::path::PathBuf;

use bevy::prelude::*;
use bevy::ui::{ComputedNode, UiGlobalTransform, UiSystems};
use bevy::window::PrimaryWindow;
use serde::{Deserialize, Serialize};

use super::journey::Journey;
use super::language::{Language, LanguageButton, Localized};

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
}

#[derive(Serialize, Deserialize, Debug)]
pub struct Report {
    pub window: [u32; 2],
    pub language: String,
    pub journey: String,
    pub texts: Vec<TextBox>,
    /// Each language button: its language and box.
    pub buttons: Vec<(String, [f32; 4])>,
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

#[allow(clippy::type_complexity)]
fn write(
    file: Res<ReportFile>,
    window: Query<&Window, With<PrimaryWindow>>,
    language: Option<Res<Language>>,
    journey: Option<Res<State<Journey>>>,
    texts: Query<(
        &Text,
        &TextFont,
        &ComputedNode,
        &UiGlobalTransform,
        &InheritedVisibility,
        Option<&Localized>,
        Option<&ChildOf>,
    )>,
    nodes: Query<(&ComputedNode, &UiGlobalTransform)>,
    buttons: Query<(&LanguageButton, &ComputedNode, &UiGlobalTransform)>,
) {
    let Ok(window) = window.single() else { return };
    let mut out = Vec::new();
    for (text, font, node, at, visible, localized, parent) in &texts {
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
        });
    }
    let report = Report {
        window: [window.physical_width(), window.physical_height()],
        language: language.map(|l| l.current.clone()).unwrap_or_default(),
        journey: journey.map(|j| format!("{:?}", j.get())).unwrap_or_default(),
        texts: out,
        buttons: buttons.iter().map(|(b, n, t)| (b.0.clone(), rect(n, t))).collect(),
    };
    let json = serde_json::to_vec(&report).expect("a report serialises");
    // Written beside and renamed: a reader never sees half a report.
    let tmp = file.0.with_extension("tmp");
    if std::fs::write(&tmp, json).and_then(|()| std::fs::rename(&tmp, &file.0)).is_err() {
        tracing::warn!("layout report: cannot write {}", file.0.display());
    }
}
