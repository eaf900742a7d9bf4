//! Visitor texts: every language defines every message the code uses, with the same
//! variables; the app has no visitor text outside Fluent; a translator's mistake is named
//! with its file and line.

use crate::common;

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use gallery_painter::i18n::{Arg, Catalog, KEYS, LanguageConfig};

fn shipped() -> Catalog {
    Catalog::load(&LanguageConfig::default(), &common::root()).expect("the shipped languages load")
}

/// Sample values for every variable a message may use.
fn sample_args() -> Vec<(&'static str, Arg)> {
    vec![
        ("seconds", Arg::Number(3.0)),
        ("title", "Nuit".into()),
        ("artist", "Studio".into()),
        ("year", "2026".into()),
        ("artwork", "Nuit".into()),
        ("time", "16:30".into()),
        ("minutes", Arg::Number(30.0)),
    ]
}

#[test]
fn the_four_languages_define_exactly_the_messages_the_code_uses() {
    let catalog = shipped();
    assert_eq!(catalog.languages().collect::<Vec<_>>(), ["en", "de", "fr", "es"]);
    let defined: BTreeSet<&str> = catalog.keys().iter().map(String::as_str).collect();
    let used: BTreeSet<&str> = KEYS.iter().copied().collect();
    assert_eq!(defined, used, "assets/i18n/en/kiosk.ftl and i18n::KEYS differ");
    let args = sample_args();
    for lang in catalog.languages() {
        let mut seen = BTreeSet::new();
        for key in KEYS {
            let text = catalog.text_with(lang, key, &args);
            assert!(!text.trim().is_empty() && text != *key, "{lang}: `{key}` is missing or empty");
            assert!(!text.contains('{') && !text.contains('\u{2068}'), "{lang}: `{key}` did not format: {text}");
            seen.insert(text);
        }
        // Each language names itself in itself.
        assert_eq!(
            catalog.text(lang, "language-name"),
            match lang {
                "en" => "English",
                "de" => "Deutsch",
                "fr" => "Français",
                "es" => "Español",
                _ => unreachable!(),
            }
        );
    }
    // A translation is a translation: the visitor's main sentences differ from English.
    for lang in ["de", "fr", "es"] {
        for key in ["attract-invitation", "reveal-paint-again", "share-scan", "closed-resting", "share-page-download"] {
            assert_ne!(catalog.text(lang, key), catalog.text("en", key), "{lang}: `{key}` is still English");
        }
    }
}

fn copy_languages(to: &Path) {
    for lang in ["en", "de", "fr", "es"] {
        std::fs::create_dir_all(to.join(lang)).unwrap();
        std::fs::copy(common::root().join("assets/i18n").join(lang).join("kiosk.ftl"), to.join(lang).join("kiosk.ftl"))
            .unwrap();
    }
}

fn load_from(dir: &Path) -> Result<Catalog, gallery_painter::i18n::I18nError> {
    Catalog::load(&LanguageConfig { folder: dir.to_path_buf(), ..LanguageConfig::default() }, Path::new("/"))
}

#[test]
fn a_message_missing_in_one_language_is_named_with_its_file_and_fix() {
    let dir = tempfile::tempdir().unwrap();
    copy_languages(dir.path());
    let fr = dir.path().join("fr/kiosk.ftl");
    let text = std::fs::read_to_string(&fr).unwrap();
    let without: String = text.lines().filter(|l| !l.starts_with("share-scan")).map(|l| format!("{l}\n")).collect();
    std::fs::write(&fr, without).unwrap();
    let e = load_from(dir.path()).unwrap_err().to_string();
    assert!(e.contains("fr/kiosk.ftl") && e.contains("`share-scan` is missing") && e.contains("fix:"), "{e}");
    assert!(e.contains("en/kiosk.ftl:"), "the message says where the reference has it: {e}");
}

#[test]
fn a_syntax_error_or_a_changed_variable_points_at_its_line() {
    let dir = tempfile::tempdir().unwrap();
    copy_languages(dir.path());
    let de = dir.path().join("de/kiosk.ftl");
    let text = std::fs::read_to_string(&de).unwrap();
    let line = text.lines().position(|l| l.starts_with("share-page-heading")).unwrap() + 1;
    std::fs::write(&de, text.replace("{ $artwork }", "{ $kunstwerk }")).unwrap();
    let e = load_from(dir.path()).unwrap_err().to_string();
    assert!(e.contains(&format!("de/kiosk.ftl:{line}:")) && e.contains("$variables"), "{e}");

    std::fs::write(&de, text.replace("share-scan = ", "share-scan = { oops")).unwrap();
    let e = load_from(dir.path()).unwrap_err().to_string();
    let line = text.lines().position(|l| l.starts_with("share-scan")).unwrap() + 1;
    assert!(e.contains(&format!("de/kiosk.ftl:{line}:")) && e.contains("syntax"), "{e}");
}

#[test]
fn an_offered_language_without_its_file_or_a_default_not_offered_is_refused() {
    let config = LanguageConfig { offered: vec!["en".into(), "it".into()], ..LanguageConfig::default() };
    let e = Catalog::load(&config, &common::root()).unwrap_err().to_string();
    assert!(e.contains("it/kiosk.ftl") && e.contains("translate"), "{e}");
    let config = LanguageConfig { default: "pt".into(), ..LanguageConfig::default() };
    let e = Catalog::load(&config, &common::root()).unwrap_err().to_string();
    assert!(e.contains("`pt`") && e.contains("language.offered"), "{e}");
}

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for e in std::fs::read_dir(dir).unwrap().flatten() {
        let p = e.path();
        if p.is_dir() {
            rust_files(&p, out);
        } else if p.extension().is_some_and(|x| x == "rs") {
            out.push(p);
        }
    }
}

/// The string literals in a line of code (not in comments).
fn literals(line: &str) -> Vec<String> {
    let code = line.split("//").next().unwrap_or("");
    code.split('"').skip(1).step_by(2).map(str::to_string).collect()
}

#[test]
fn app_code_shows_visitors_no_text_that_bypasses_fluent() {
    let mut files = Vec::new();
    rust_files(&common::root().join("src/app"), &mut files);
    rust_files(&common::root().join("src/share"), &mut files);
    assert!(files.len() > 20);
    let mut problems = Vec::new();
    let mut used = BTreeSet::new();
    for file in &files {
        let source = std::fs::read_to_string(file).unwrap();
        let name = file.strip_prefix(common::root()).unwrap().display().to_string();
        for (n, line) in source.lines().enumerate() {
            // A text node is made empty and filled from the catalog (`theme::localized`), or
            // for staff only (`theme::staff_text`): never with words of its own.
            for pattern in ["Text::new(", "Text(", "TextSpan::new(", "TextSpan("] {
                let mut rest = line;
                while let Some(i) = rest.find(pattern) {
                    let after = &rest[i + pattern.len()..];
                    let preceded =
                        rest[..i].chars().next_back().is_some_and(|c| c.is_alphanumeric() || c == '_' || c == ':');
                    if !preceded && !after.starts_with("\"\")") && !after.starts_with(')') {
                        problems.push(format!("{name}:{}: {}", n + 1, line.trim()));
                    }
                    rest = after;
                }
            }
            // Message keys in code exist in every language.
            for lit in literals(line) {
                if lit.len() > 3
                    && lit.contains('-')
                    && lit.chars().all(|c| c.is_ascii_lowercase() || c == '-')
                    && KEYS.iter().any(|k| k.split('-').next() == lit.split('-').next())
                {
                    if !KEYS.contains(&lit.as_str()) {
                        problems.push(format!("{name}:{}: `{lit}` is not a Fluent message", n + 1));
                    }
                    used.insert(lit);
                }
            }
        }
    }
    assert!(problems.is_empty(), "visitor text outside Fluent:\n{}", problems.join("\n"));
    let unused: Vec<_> = KEYS.iter().filter(|k| !used.contains(**k)).collect();
    assert!(unused.is_empty(), "messages no code shows: {unused:?}");
}

#[test]
fn french_and_spanish_address_every_visitor_not_only_men() {
    // Words whose form says the visitor is a man (the masculine participle or adjective):
    // each line is worded so that it needs none (a portrait is painted, not "you").
    let masculine = [
        (
            "fr",
            &["Désolé", "vous allez être peint", "vous serez peint", "êtes prêt", "restez assis", "restez immobile"][..],
        ),
        ("es", &["quieto", "será pintado", "ser pintado", "está listo", "sentado", "bienvenido"][..]),
    ];
    for (lang, words) in masculine {
        let text = std::fs::read_to_string(common::root().join(format!("assets/i18n/{lang}/kiosk.ftl"))).unwrap();
        for line in text.lines().filter(|l| !l.starts_with('#')) {
            for w in words {
                assert!(!line.contains(w), "{lang}: `{line}` says `{w}`: word it for everyone");
            }
        }
    }
}
