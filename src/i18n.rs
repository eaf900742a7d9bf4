//! Every text a visitor reads, in their language: Fluent files under `assets/i18n/<lang>/`
//! (one folder per language, each holding `kiosk.ftl`). No Bevy here: the display, the
//! take-home page and the tests read the same [`Catalog`].
//!
//! Loading checks what a translator can get wrong, each with file:line and a fix: a syntax
//! error, a message missing from a language (or one no other language has), and a message
//! whose variables differ from the reference language's.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

pub use crate::config::LanguageConfig;
use fluent_bundle::concurrent::FluentBundle;
use fluent_bundle::{FluentArgs, FluentResource, FluentValue};
use fluent_syntax::ast;
use unic_langid::LanguageIdentifier;

/// The file each language folder holds.
pub const FILE: &str = "kiosk.ftl";

#[derive(Debug, thiserror::Error)]
#[error("{file}:{line}:{column}: {message}\n  fix: {fix}")]
pub struct I18nError {
    pub file: PathBuf,
    pub line: usize,
    pub column: usize,
    pub message: String,
    pub fix: String,
}

/// A value for a message's variable.
#[derive(Clone, Debug, PartialEq)]
pub enum Arg {
    Text(String),
    Number(f64),
}

impl From<&str> for Arg {
    fn from(s: &str) -> Arg {
        Arg::Text(s.to_string())
    }
}
impl From<String> for Arg {
    fn from(s: String) -> Arg {
        Arg::Text(s)
    }
}
impl From<f64> for Arg {
    fn from(n: f64) -> Arg {
        Arg::Number(n)
    }
}
impl From<u32> for Arg {
    fn from(n: u32) -> Arg {
        Arg::Number(n as f64)
    }
}

struct Language {
    id: String,
    bundle: FluentBundle<FluentResource>,
}

/// All offered languages, checked against each other.
pub struct Catalog {
    languages: Vec<Language>,
    /// Message ids of the reference language, in file order.
    keys: Vec<String>,
}

impl std::fmt::Debug for Catalog {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_list().entries(self.languages.iter().map(|l| &l.id)).finish()
    }
}

/// Line and column (1-based) of byte `offset` in `text`.
fn line_col(text: &str, offset: usize) -> (usize, usize) {
    let before = &text[..offset.min(text.len())];
    let line = before.matches('\n').count() + 1;
    let column = before.rfind('\n').map_or(before.chars().count(), |n| before[n + 1..].chars().count()) + 1;
    (line, column)
}

/// What a message needs: its id, the line it starts on, and the variables it uses.
#[derive(Debug)]
struct MessageShape {
    id: String,
    line: usize,
    variables: BTreeSet<String>,
}

fn collect_variables(pattern: &ast::Pattern<&str>, out: &mut BTreeSet<String>) {
    for element in &pattern.elements {
        if let ast::PatternElement::Placeable { expression } = element {
            collect_in_expression(expression, out);
        }
    }
}

fn collect_in_expression(expression: &ast::Expression<&str>, out: &mut BTreeSet<String>) {
    let inline = match expression {
        ast::Expression::Select { selector, variants } => {
            for v in variants {
                collect_variables(&v.value, out);
            }
            selector
        }
        ast::Expression::Inline(i) => i,
    };
    match inline {
        ast::InlineExpression::VariableReference { id } => {
            out.insert(id.name.to_string());
        }
        ast::InlineExpression::FunctionReference { arguments, .. } => {
            for a in &arguments.positional {
                if let ast::InlineExpression::VariableReference { id } = a {
                    out.insert(id.name.to_string());
                }
            }
        }
        ast::InlineExpression::Placeable { expression } => collect_in_expression(expression, out),
        _ => {}
    }
}

fn shapes(resource: &FluentResource, text: &str) -> Vec<MessageShape> {
    let mut out = Vec::new();
    let mut search_from = 0;
    for entry in resource.entries() {
        if let ast::Entry::Message(m) = entry {
            let mut variables = BTreeSet::new();
            if let Some(v) = &m.value {
                collect_variables(v, &mut variables);
            }
            // The parser keeps no positions: find the id at the start of a line.
            let needle = format!("\n{} ", m.id.name);
            let at = if text.starts_with(&format!("{} ", m.id.name)) {
                0
            } else {
                text[search_from..].find(&needle).map_or(0, |i| search_from + i + 1)
            };
            search_from = at;
            out.push(MessageShape { id: m.id.name.to_string(), line: line_col(text, at).0, variables });
        }
    }
    out
}

impl Catalog {
    /// Reads `<folder>/<lang>/kiosk.ftl` for each offered language and checks them against
    /// the first one.
    pub fn load(config: &LanguageConfig, root: &Path) -> Result<Catalog, I18nError> {
        let folder = crate::paths::resolve(root, &config.folder);
        let at = |file: &Path, line: usize, message: String, fix: &str| I18nError {
            file: file.to_path_buf(),
            line,
            column: 1,
            message,
            fix: fix.to_string(),
        };
        if config.offered.is_empty() {
            return Err(at(&folder, 0, "no language is offered".into(), "list at least one in `language.offered`"));
        }
        if !config.offered.contains(&config.default) {
            return Err(at(
                &folder,
                0,
                format!("the default language `{}` is not among the offered {:?}", config.default, config.offered),
                "add it to `language.offered`, or choose one of them as `language.default`",
            ));
        }
        let mut languages = Vec::new();
        let mut reference: Option<(PathBuf, Vec<MessageShape>)> = None;
        for id in &config.offered {
            let file = folder.join(id).join(FILE);
            let langid: LanguageIdentifier = id.parse().map_err(|_| {
                at(&file, 0, format!("`{id}` is not a language tag"), "use a tag such as \"en\", \"de\" or \"pt-BR\"")
            })?;
            let text = std::fs::read_to_string(&file).map_err(|e| {
                at(
                    &file,
                    0,
                    format!("cannot read the {id} texts: {e}"),
                    "copy assets/i18n/en/kiosk.ftl there and translate it, or remove the language from `language.offered`",
                )
            })?;
            let resource = match FluentResource::try_new(text.clone()) {
                Ok(r) => r,
                Err((_, errors)) => {
                    let e = &errors[0];
                    let (line, column) = line_col(&text, e.pos.start);
                    return Err(I18nError {
                        file,
                        line,
                        column,
                        message: format!("Fluent syntax error: {}", e.kind),
                        fix: "a message is `key = text`; continued lines are indented; variables are { $name }".into(),
                    });
                }
            };
            let shape = shapes(&resource, &text);
            match &reference {
                None => reference = Some((file.clone(), shape)),
                Some((ref_file, ref_shape)) => check_against(&file, &shape, ref_file, ref_shape)?,
            }
            let mut bundle = FluentBundle::new_concurrent(vec![langid]);
            // Bidi isolation marks would show as boxes in the display's font.
            bundle.set_use_isolating(false);
            bundle.add_resource(resource).map_err(|errors| {
                at(&file, 0, format!("a message is defined twice: {errors:?}"), "keep one definition of each key")
            })?;
            languages.push(Language { id: id.clone(), bundle });
        }
        let keys = reference.map(|(_, shape)| shape.into_iter().map(|s| s.id).collect()).unwrap_or_default();
        Ok(Catalog { languages, keys })
    }

    /// The offered languages, in button order.
    pub fn languages(&self) -> impl Iterator<Item = &str> {
        self.languages.iter().map(|l| l.id.as_str())
    }

    pub fn offers(&self, lang: &str) -> bool {
        self.languages.iter().any(|l| l.id == lang)
    }

    /// Message ids of the reference language.
    pub fn keys(&self) -> &[String] {
        &self.keys
    }

    /// `key` in `lang` (or the reference language when `lang` is not offered). A missing key
    /// comes back as the key itself, which a test catches before a visitor does.
    pub fn text(&self, lang: &str, key: &str) -> String {
        self.text_with(lang, key, &[])
    }

    pub fn text_with(&self, lang: &str, key: &str, args: &[(&str, Arg)]) -> String {
        let Some(language) = self.languages.iter().find(|l| l.id == lang).or(self.languages.first()) else {
            return key.to_string();
        };
        let Some(pattern) = language.bundle.get_message(key).and_then(|m| m.value()) else {
            tracing::warn!("i18n: no message `{key}` in {}", language.id);
            return key.to_string();
        };
        let mut fluent_args = FluentArgs::new();
        for (name, value) in args {
            match value {
                Arg::Text(s) => fluent_args.set(*name, FluentValue::from(s.clone())),
                Arg::Number(n) => fluent_args.set(*name, FluentValue::from(*n)),
            }
        }
        let mut errors = Vec::new();
        let text = language.bundle.format_pattern(pattern, Some(&fluent_args), &mut errors);
        if !errors.is_empty() {
            tracing::warn!("i18n: `{key}` in {}: {errors:?}", language.id);
        }
        text.into_owned()
    }
}

/// Every message the code uses. A test checks that each language defines exactly these,
/// and that the app shows no visitor text that is not one of them.
pub const KEYS: &[&str] = &[
    "language-name",
    "access-contrast",
    "access-voice",
    "attract-invitation",
    "attract-hint",
    "attract-sorry",
    "artwork-unusable",
    "attract-sorry-hint",
    "picker-hint",
    "noticed-hold-still",
    "noticed-about-to-be-painted",
    "noticed-touch-to-be-painted",
    "countdown-photo-taken",
    "countdown-seconds",
    "painting-photo-kept",
    "painting-photo-deleted",
    "progress-sketching",
    "progress-details",
    "progress-final-touches",
    "progress-finished",
    "reveal-your-photo",
    "reveal-paint-again",
    "share-scan",
    "label-title-artist-year",
    "label-title-artist",
    "banner-painter-stopped",
    "banner-camera-lost",
    "banner-no-camera",
    "banner-camera-stalled",
    "banner-painter-waiting",
    "closed-resting",
    "share-page-title",
    "share-page-heading",
    "share-page-download",
    "share-page-making-of",
    "share-page-download-making-of",
    "share-page-deleted-at",
    "share-page-nothing-else",
    "share-page-gone-title",
    "share-page-gone",
    "share-page-not-found",
    "share-page-slow-down",
    "voice-attract",
    "voice-noticed-hold-still",
    "voice-noticed-touch",
    "voice-countdown",
    "voice-painting",
    "voice-reveal",
    "voice-take-home",
];

fn check_against(
    file: &Path,
    shape: &[MessageShape],
    ref_file: &Path,
    reference: &[MessageShape],
) -> Result<(), I18nError> {
    for r in reference {
        match shape.iter().find(|s| s.id == r.id) {
            None => {
                return Err(I18nError {
                    file: file.to_path_buf(),
                    line: shape.last().map_or(1, |s| s.line + 1),
                    column: 1,
                    message: format!("the message `{}` is missing (it is at {}:{})", r.id, ref_file.display(), r.line),
                    fix: format!("add `{} = ...` translated into this language", r.id),
                });
            }
            Some(s) if s.variables != r.variables => {
                return Err(I18nError {
                    file: file.to_path_buf(),
                    line: s.line,
                    column: 1,
                    message: format!(
                        "`{}` uses the variables {:?} but {} uses {:?}",
                        r.id,
                        s.variables,
                        ref_file.display(),
                        r.variables
                    ),
                    fix: "use the same { $variables } as the reference language".into(),
                });
            }
            Some(_) => {}
        }
    }
    if let Some(extra) = shape.iter().find(|s| !reference.iter().any(|r| r.id == s.id)) {
        return Err(I18nError {
            file: file.to_path_buf(),
            line: extra.line,
            column: 1,
            message: format!("the message `{}` is not in {} (a typo?)", extra.id, ref_file.display()),
            fix: "rename it to a key of the reference language, or add it there too".into(),
        });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn line_and_column_count_from_one() {
        assert_eq!(line_col("ab\ncd", 0), (1, 1));
        assert_eq!(line_col("ab\ncd", 4), (2, 2));
    }
}
