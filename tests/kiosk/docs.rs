//! The docs say what the code does: every file of the project that the README and docs/ name
//! exists, every `gallery-painter` and `gallery-bench` command and flag they name is one the
//! binary takes (and the kiosk's binary has no benchmark), every
//! RON example parses as the config or scene entry it shows, and every `section.key` of the
//! config they name is a key of the config.

use std::path::{Path, PathBuf};

use clap::CommandFactory;
use gallery_painter::cli::Cli;
use gallery_painter::config::{InstallationConfig, parse_ron};
use gallery_painter::scene::SceneEntry;

use crate::common;

fn guides() -> Vec<(PathBuf, String)> {
    let root = common::root();
    let mut files = vec![root.join("README.md")];
    let mut docs: Vec<PathBuf> = std::fs::read_dir(root.join("docs"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "md"))
        .collect();
    docs.sort();
    files.extend(docs);
    files.into_iter().map(|p| (p.clone(), std::fs::read_to_string(&p).unwrap())).collect()
}

fn name_of(path: &Path) -> String {
    path.strip_prefix(common::root()).unwrap_or(path).display().to_string()
}

/// The words of `text` that start with `prefix`, up to the first character not in a path.
fn paths_named<'a>(text: &'a str, prefix: &str) -> Vec<&'a str> {
    let mut out = Vec::new();
    let mut from = 0;
    while let Some(at) = text[from..].find(prefix) {
        let start = from + at;
        let before = text[..start].chars().last();
        let end = text[start..]
            .find(|c: char| !(c.is_ascii_alphanumeric() || "_/.-".contains(c)))
            .map_or(text.len(), |e| start + e);
        let word = text[start..end].trim_end_matches('.');
        // Part of a longer path (`../shared/src/..`, `tests/src/`): not one of ours.
        if !before.is_some_and(|c| c.is_ascii_alphanumeric() || "_/.-".contains(c)) {
            out.push(word);
        }
        from = end.max(start + 1);
    }
    out
}

/// Files the docs name that a fresh clone does not hold, on purpose: examples of what a
/// curator or a technician makes, and the models `scripts/setup.sh` fetches.
const NOT_IN_THE_TREE: &[&str] = &["assets/styles/my_painting.jpg", "scenes/broken.ron", "assets/models/"];

#[test]
fn every_file_the_docs_name_exists() {
    let root = common::root();
    let mut missing = Vec::new();
    for (path, text) in guides() {
        for prefix in ["src/", "tests/", "scripts/", "config/", "scenes/", "assets/"] {
            for named in paths_named(&text, prefix) {
                // Only whole file names: `src/app/` folders and `src/engine/*` patterns too.
                let is_file = named.rsplit('/').next().is_some_and(|last| last.contains('.'));
                let example = NOT_IN_THE_TREE.iter().any(|n| named.starts_with(n));
                if (is_file || named.ends_with('/')) && !example && !root.join(named).exists() {
                    missing.push(format!("{}: {named}", name_of(&path)));
                }
            }
        }
    }
    assert!(missing.is_empty(), "the docs name files that do not exist:\n{}", missing.join("\n"));
}

/// Every `BINARY COMMAND --flag ...` the docs write, checked with `flags_of(COMMAND)`: the
/// command's long flags (and its subcommands'), or None when there is no such command.
/// Returns how many commands were named and what is wrong.
fn check_commands_named(binary: &str, mut flags_of: impl FnMut(&str) -> Option<Vec<String>>) -> (usize, Vec<String>) {
    let mut wrong = Vec::new();
    let mut seen = 0;
    let lead = format!("{binary} ");
    for (path, text) in guides() {
        for line in text.lines() {
            let mut rest = line;
            while let Some(at) = rest.find(&lead) {
                let after = &rest[at + lead.len()..];
                rest = after;
                let words: Vec<&str> = after
                    .split(|c: char| c.is_whitespace() || c == '`' || c == ',' || c == ')')
                    .take_while(|w| !w.is_empty())
                    .collect();
                let Some(name) = words.first().filter(|w| w.chars().all(|c| c.is_ascii_lowercase() || c == '-')) else {
                    continue;
                };
                if name.starts_with('-') || name.is_empty() {
                    continue;
                }
                seen += 1;
                let Some(flags) = flags_of(name) else {
                    wrong.push(format!("{}: `{binary} {name}` is not a command", name_of(&path)));
                    continue;
                };
                for flag in words[1..].iter().filter_map(|w| w.strip_prefix("--")) {
                    let flag = flag.split('=').next().unwrap_or(flag);
                    if !flags.iter().any(|f| f == flag) {
                        wrong.push(format!("{}: `{binary} {name}` has no --{flag}", name_of(&path)));
                    }
                }
            }
        }
    }
    (seen, wrong)
}

#[test]
fn every_command_and_flag_the_docs_name_is_in_the_help() {
    let cli = Cli::command();
    let (seen, wrong) = check_commands_named("gallery-painter", |name| {
        let command = cli.find_subcommand(name)?;
        let own = command.get_arguments().filter_map(|a| a.get_long());
        let below = command.get_subcommands().flat_map(|s| s.get_arguments().filter_map(|a| a.get_long()));
        Some(own.chain(below).map(str::to_string).collect())
    });
    assert!(seen >= 10, "only {seen} commands found in the docs: is the scan still reading them?");
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
}

#[test]
fn every_benchmark_and_flag_the_docs_name_is_in_gallery_bench_help() {
    // The benchmarks' own binary, asked as a reader would: `gallery-bench COMMAND --help`.
    let exe = env!("CARGO_BIN_EXE_gallery-bench");
    let (seen, wrong) = check_commands_named("gallery-bench", |name| {
        let out = std::process::Command::new(exe).args([name, "--help"]).output().unwrap();
        out.status.success().then(|| {
            let help = String::from_utf8_lossy(&out.stdout);
            let words = help.split(|c: char| c.is_whitespace() || c == ',' || c == '[' || c == ']');
            words
                .filter_map(|w| w.strip_prefix("--"))
                .map(|w| w.split(['=', '<']).next().unwrap().to_string())
                .collect()
        })
    });
    assert!(seen >= 10, "only {seen} benchmarks found in the docs: is the scan still reading them?");
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
}

#[test]
fn the_kiosk_binary_carries_no_benchmark() {
    // What a technician runs, and nothing that only measures (that is `gallery-bench`).
    let cli = Cli::command();
    let measuring: Vec<&str> = cli
        .get_subcommands()
        .map(|c| c.get_name())
        .filter(|n| n.contains("bench") || n.starts_with("compare"))
        .collect();
    assert!(measuring.is_empty(), "gallery-painter still carries {measuring:?}");
}

/// The RON examples of the docs (```ron blocks), their comments removed.
fn ron_examples() -> Vec<(String, String)> {
    let mut out = Vec::new();
    for (path, text) in guides() {
        let mut block: Option<String> = None;
        for line in text.lines() {
            match (&mut block, line.trim_start()) {
                (None, l) if l.starts_with("```ron") => block = Some(String::new()),
                (Some(b), l) if l.starts_with("```") => {
                    out.push((name_of(&path), std::mem::take(b)));
                    block = None;
                }
                (Some(b), _) => {
                    // A comment starts at `//` after a space (not the `//` of `tls://`).
                    let code = line.find(" //").map_or(line, |c| &line[..c]);
                    let code = if code.trim_start().starts_with("//") { "" } else { code };
                    b.push_str(code);
                    b.push('\n');
                }
                _ => {}
            }
        }
    }
    out
}

#[test]
fn every_ron_example_parses_as_what_it_shows() {
    let examples = ron_examples();
    assert!(examples.len() >= 3, "only {} RON examples found", examples.len());
    let mut wrong = Vec::new();
    for (file, ron_text) in examples {
        let body = ron_text.trim().trim_end_matches(',');
        let parsed = if body.contains("styles:") && body.starts_with('(') {
            parse_ron::<SceneEntry>(body, Path::new(&file)).map(|_| ()).map_err(|e| format!("as a scene entry: {e}"))
        } else {
            parse_ron::<InstallationConfig>(&format!("({body})"), Path::new(&file))
                .map(|_| ())
                .map_err(|e| format!("as installation.ron: {e}"))
        };
        if let Err(e) = parsed {
            wrong.push(format!("{file}: {e}\n{body}"));
        }
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n\n"));
}

#[test]
fn every_config_key_the_docs_name_is_a_key_of_the_config() {
    let defaults: ron::Value =
        ron::from_str(&ron::to_string(&InstallationConfig::default()).unwrap()).expect("the defaults read back");
    let ron::Value::Map(top) = &defaults else { panic!("the config is a struct") };
    let key = |k: &str| ron::Value::String(k.to_string());
    let mut wrong = Vec::new();
    let mut seen = 0;
    for (path, text) in guides() {
        for quoted in text.split('`').skip(1).step_by(2) {
            let parts: Vec<&str> = quoted.split('.').collect();
            let is_key = parts.len() >= 2
                && parts.iter().all(|p| !p.is_empty() && p.chars().all(|c| c.is_ascii_lowercase() || c == '_'));
            if !is_key || top.get(&key(parts[0])).is_none() {
                continue;
            }
            seen += 1;
            let mut at = &defaults;
            for (i, part) in parts.iter().enumerate() {
                // An optional section off by default or an enum: nothing more to walk.
                let ron::Value::Map(fields) = at else { break };
                match fields.get(&key(part)) {
                    Some(next) => at = next,
                    None => {
                        wrong.push(format!("{}: `{quoted}` has no `{}`", name_of(&path), parts[..=i].join(".")));
                        break;
                    }
                }
                if let ron::Value::Option(Some(inner)) = at {
                    at = inner;
                }
            }
        }
    }
    assert!(seen >= 15, "only {seen} config keys found in the docs");
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
}
