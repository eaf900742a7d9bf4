//! `language:` in `config/installation.ron`: the languages a kiosk offers (the texts are
//! `crate::i18n`'s).

use std::path::PathBuf;

use serde::{Deserialize, Serialize};

/// `language:` in `config/installation.ron`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct LanguageConfig {
    /// The language the kiosk speaks at Attract (a visitor's choice lasts one visit).
    pub default: String,
    /// Languages offered on the touch screen, in the order of their buttons. The first one
    /// is the reference every other translation is checked against.
    pub offered: Vec<String>,
    /// Folder of the Fluent files, one sub-folder per language.
    pub folder: PathBuf,
}

impl Default for LanguageConfig {
    fn default() -> Self {
        LanguageConfig {
            default: "en".into(),
            offered: ["en", "de", "fr", "es"].map(String::from).to_vec(),
            folder: PathBuf::from("assets/i18n"),
        }
    }
}
