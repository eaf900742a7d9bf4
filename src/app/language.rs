//! The kiosk speaks the visitor's language: every visitor text is a [`Localized`] node that
//! this plugin fills from the Fluent [`Catalog`], again whenever the language changes. A
//! button per language, each named in itself, in the visitor's controls row (`access`)
//! switches it; the next visitor starts in the configured default (reset at Attract).

use std::sync::Arc;

use bevy::prelude::*;

use super::AppSystems;
use super::rotation::{Playlist, SceneReloaded};
use super::theme;
use super::theme::{Edge, Fill, Ink, TextSize};
use crate::i18n::{Arg, Catalog};

/// The Fluent catalog (shared with the take-home page).
#[derive(Resource, Clone)]
pub struct Texts(pub Arc<Catalog>);

/// The language the kiosk speaks now, and the one it returns to for the next visitor.
#[derive(Resource, Clone, Debug, PartialEq)]
pub struct Language {
    pub current: String,
    pub default: String,
}

/// A visitor text in the current language (see [`Localized`]). Its `Text` starts empty and
/// is filled from the Fluent catalog: visitor texts are never literals in code.
pub fn localized(what: Localized, size: f32, ink: Ink) -> VisitorText {
    (what, Text::new(""), super::typeface::regular(size), TextSize(size), theme::ink(ink))
}

/// What [`localized`] spawns: the message, its text, its face and size, and its colour role.
pub type VisitorText = (Localized, Text, TextFont, TextSize, (Ink, TextColor));

/// [`localized`] for a message without variables.
pub fn label(key: &'static str, size: f32, ink: Ink) -> VisitorText {
    localized(Localized::key(key), size, ink)
}

/// [`localized`] in the semibold face: headlines, buttons, the countdown.
pub fn localized_strong(what: Localized, size: f32, ink: Ink) -> VisitorText {
    (what, Text::new(""), super::typeface::semibold(size), TextSize(size), theme::ink(ink))
}

/// [`label`] in the semibold face, its lines centred (a prompt or a button that wraps in a
/// longer language stays balanced under its panel's middle).
pub fn headline(key: &'static str, size: f32, ink: Ink) -> (VisitorText, TextLayout) {
    (localized_strong(Localized::key(key), size, ink), TextLayout::justify(Justify::Center))
}

/// A visitor text: what it says, in whatever language is current.
#[derive(Component, Clone, Debug, PartialEq)]
pub enum Localized {
    Message {
        key: &'static str,
        args: Vec<(&'static str, Arg)>,
    },
    /// The title of scene entry `0`.
    EntryTitle(usize),
    /// The museum label of scene entry `0`: title, artist and year.
    EntryLabel(usize),
    /// The credit line of scene entry `0` (empty when it has none).
    EntryCredit(usize),
    /// A message in one fixed language, whatever is current: a language's own name.
    InLanguage {
        lang: String,
        key: &'static str,
    },
}

impl Localized {
    pub fn key(key: &'static str) -> Localized {
        Localized::Message { key, args: Vec::new() }
    }

    pub fn with(key: &'static str, args: Vec<(&'static str, Arg)>) -> Localized {
        Localized::Message { key, args }
    }

    /// The text in `lang`.
    pub fn render(&self, texts: &Catalog, lang: &str, playlist: Option<&Playlist>) -> String {
        let entry = |i: &usize| playlist.and_then(|p| p.scene.entries.get(*i));
        match self {
            Localized::Message { key, args } => texts.text_with(lang, key, args),
            Localized::InLanguage { lang, key } => texts.text(lang, key),
            Localized::EntryTitle(i) => entry(i).map(|e| e.title_in(lang).to_string()).unwrap_or_default(),
            Localized::EntryCredit(i) => entry(i).map(|e| e.credit_in(lang).to_string()).unwrap_or_default(),
            Localized::EntryLabel(i) => {
                let Some(e) = entry(i) else { return String::new() };
                let title = e.title_in(lang);
                match (e.artist.is_empty(), e.year.is_empty()) {
                    (true, _) => title.to_string(),
                    (false, true) => texts.text_with(
                        lang,
                        "label-title-artist",
                        &[("title", title.into()), ("artist", e.artist.as_str().into())],
                    ),
                    (false, false) => texts.text_with(
                        lang,
                        "label-title-artist-year",
                        &[
                            ("title", title.into()),
                            ("artist", e.artist.as_str().into()),
                            ("year", e.year.as_str().into()),
                        ],
                    ),
                }
            }
        }
    }
}

/// A language button; its text is the language's own name.
#[derive(Component, Clone, Debug)]
#[require(theme::VisitorSetting)]
pub struct LanguageButton(pub String);

pub(super) fn plugin(app: &mut App) {
    app.add_systems(Update, choose.in_set(AppSystems::Input))
        .add_systems(Update, (translate, highlight).in_set(AppSystems::Present));
}

/// Back to the default language for the next visitor (the journey runs it at Attract).
pub fn reset(language: Option<ResMut<Language>>) {
    let Some(mut language) = language else { return };
    if language.current != language.default {
        language.current = language.default.clone();
    }
}

fn translate(
    language: Res<Language>,
    texts: Res<Texts>,
    playlist: Option<Res<Playlist>>,
    mut reloads: MessageReader<SceneReloaded>,
    mut nodes: Query<(Ref<Localized>, &mut Text)>,
) {
    // Texts change with the language, or with the scene's titles when the file is reloaded;
    // the playlist itself changes every frame of a visit and is no reason to format again.
    let reloaded = reloads.read().any(|r| r.0.is_ok());
    let all = language.is_changed() || reloaded;
    for (what, mut text) in &mut nodes {
        if all || what.is_changed() {
            let s = what.render(&texts.0, &language.current, playlist.as_deref());
            if text.0 != s {
                text.0 = s;
            }
        }
    }
}

/// A button per language (none for one language), into the visitor's controls row.
pub fn spawn_buttons(row: &mut ChildSpawnerCommands, texts: &Catalog) {
    if texts.languages().count() < 2 {
        return;
    }
    for lang in texts.languages() {
        // Named in itself, so it reads the same whatever the kiosk speaks now.
        let name = Localized::InLanguage { lang: lang.to_string(), key: "language-name" };
        row.spawn((LanguageButton(lang.to_string()), theme::touch_button(20.0))).with_children(|b| {
            b.spawn(localized(name, 20.0, Ink::Text));
        });
    }
}

fn choose(buttons: Query<(&Interaction, &LanguageButton), Changed<Interaction>>, mut language: ResMut<Language>) {
    for (interaction, button) in &buttons {
        if *interaction == Interaction::Pressed && language.current != button.0 {
            tracing::info!("visitor chose the language {}", button.0);
            language.current = button.0.clone();
        }
    }
}

fn highlight(language: Res<Language>, mut buttons: Query<(&LanguageButton, &mut Edge, &mut Fill)>) {
    for (button, mut edge, mut fill) in &mut buttons {
        let chosen = button.0 == language.current;
        edge.set_if_neq(if chosen { Edge::Accent } else { Edge::Faint });
        fill.set_if_neq(if chosen { Fill::Panel } else { Fill::Label });
    }
}
