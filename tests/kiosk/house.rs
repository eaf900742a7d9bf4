//! The house a newcomer lives in: every link between the README and the guides in docs/
//! leads somewhere, no module of src/ imports one that imports it back (directly or round a
//! circle), no file grows past 600 lines, and the README stays an entrance (350 lines).

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use crate::common;

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// `engine::loss` for src/engine/loss.rs, `engine` for src/engine/mod.rs, `` for lib.rs.
fn module_of(src: &Path, file: &Path) -> Vec<String> {
    let rel = file.strip_prefix(src).unwrap().with_extension("");
    let mut parts: Vec<String> = rel.iter().map(|p| p.to_string_lossy().into_owned()).collect();
    if matches!(parts.last().map(String::as_str), Some("mod" | "lib" | "main")) {
        parts.pop();
    }
    parts
}

/// The paths a file names: `crate::a::b` and `super::c` (as written, before resolving),
/// with `use x::{a, b::c}` groups spread out. Comments are skipped.
fn named_paths(text: &str) -> Vec<(String, Vec<String>)> {
    let code: String = text.lines().map(|l| l.split("//").next().unwrap_or("")).collect::<Vec<_>>().join("\n");
    let bytes = code.as_bytes();
    let ident = |i: &mut usize| {
        let start = *i;
        while *i < bytes.len() && (bytes[*i].is_ascii_alphanumeric() || bytes[*i] == b'_') {
            *i += 1;
        }
        code[start..*i].to_string()
    };
    let mut found = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        let Some(rest) = code.get(i..) else {
            i += 1; // inside a character of more than one byte
            continue;
        };
        let root = if rest.starts_with("crate::") {
            "crate"
        } else if rest.starts_with("super::") {
            "super"
        } else {
            i += 1;
            continue;
        };
        // Part of a longer name (`my_crate::`): not ours.
        if i > 0 && (bytes[i - 1].is_ascii_alphanumeric() || bytes[i - 1] == b'_') {
            i += 1;
            continue;
        }
        i += root.len();
        let mut path = Vec::new();
        let mut supers = 0;
        while code[i..].starts_with("::") {
            i += 2;
            if code[i..].starts_with('{') {
                // A group: each item, with the prefix so far.
                let end = code[i..].find('}').map_or(code.len(), |e| i + e);
                for item in code[i + 1..end].split(',') {
                    let item: Vec<String> = item
                        .split(" as ")
                        .next()
                        .unwrap_or("")
                        .split("::")
                        .map(|s| s.trim().to_string())
                        .filter(|s| !s.is_empty() && s != "self" && s != "*")
                        .collect();
                    let mut full = path.clone();
                    full.extend(item);
                    found.push((root.to_string(), [vec!["super".to_string(); supers], full].concat()));
                }
                i = end;
                path.clear();
                break;
            }
            let name = ident(&mut i);
            if name == "super" && path.is_empty() {
                supers += 1;
            } else if !name.is_empty() {
                path.push(name);
            }
        }
        if !path.is_empty() {
            found.push((root.to_string(), [vec!["super".to_string(); supers], path].concat()));
        }
    }
    found
}

/// The `pub use child::...` paths of a file (re-exports from its children), grouped items
/// spread out, as `("", [child, ..., name])`.
fn reexported_paths(text: &str) -> Vec<(String, Vec<String>)> {
    let mut out = Vec::new();
    for statement in text.split(';') {
        let s = statement.trim_start();
        let Some(rest) = s.strip_prefix("pub use ").or_else(|| s.strip_prefix("pub(crate) use ")) else { continue };
        if rest.starts_with("crate::") || rest.starts_with("super::") || rest.starts_with("self::") {
            continue;
        }
        let (prefix, items) = match rest.split_once("::{") {
            Some((p, items)) => (p, items.trim_end().trim_end_matches('}').to_string()),
            None => match rest.rsplit_once("::") {
                Some((p, item)) => (p, item.to_string()),
                None => continue,
            },
        };
        for item in items.split(',') {
            let item = item.split(" as ").last().unwrap_or("").trim();
            if item.is_empty() || item == "*" || item == "self" {
                continue;
            }
            let mut path: Vec<String> = prefix.split("::").map(|s| s.trim().to_string()).collect();
            path.push(item.rsplit("::").next().unwrap_or(item).to_string());
            out.push((String::new(), path));
        }
    }
    out
}

/// Each module of src/ and the modules it imports (not its own ancestors: a folder and its
/// files are one room).
fn import_graph() -> BTreeMap<String, BTreeSet<String>> {
    let src = common::root().join("src");
    let mut files = Vec::new();
    rust_files(&src, &mut files);
    let modules: BTreeMap<Vec<String>, PathBuf> = files.iter().map(|f| (module_of(&src, f), f.clone())).collect();
    // What each folder re-exports, and from which of its children: `crate::painting::WorkerHandle`
    // is `painting::handle`'s, not the whole folder's.
    let mut reexports: BTreeMap<Vec<String>, BTreeMap<String, Vec<String>>> = BTreeMap::new();
    for (module, file) in &modules {
        let text = std::fs::read_to_string(file).unwrap();
        for (_, path) in reexported_paths(&text) {
            if let [child, .., name] = path.as_slice() {
                let child_module = [module.clone(), vec![child.clone()]].concat();
                if modules.contains_key(&child_module) {
                    reexports.entry(module.clone()).or_default().insert(name.clone(), child_module);
                }
            }
        }
    }
    let resolve = |parts: &[String]| -> Option<Vec<String>> {
        let mut parts = parts.to_vec();
        for _ in 0..8 {
            let m = (1..=parts.len()).rev().map(|n| parts[..n].to_vec()).find(|m| modules.contains_key(m))?;
            match parts.get(m.len()).and_then(|name| reexports.get(&m)?.get(name)) {
                Some(child) => parts = [child.clone(), parts[m.len()..].to_vec()].concat(),
                None => return Some(m),
            }
        }
        None
    };
    let mut graph = BTreeMap::new();
    for (module, file) in &modules {
        let mut edges = BTreeSet::new();
        for (root, path) in named_paths(&std::fs::read_to_string(file).unwrap()) {
            let full: Vec<String> = if root == "crate" {
                path
            } else {
                // `super` is the module's parent (for a folder's mod.rs, the folder's parent).
                let mut base = module.clone();
                base.pop();
                let mut rest = path.as_slice();
                while rest.first().is_some_and(|s| s == "super") {
                    base.pop();
                    rest = &rest[1..];
                }
                [base, rest.to_vec()].concat()
            };
            if let Some(target) = resolve(&full)
                && target != *module
                && !module.starts_with(&target)
                && !target.is_empty()
            {
                edges.insert(target.join("::"));
            }
        }
        graph.insert(module.join("::"), edges);
    }
    graph
}

/// A circle in `graph`, if there is one (as the modules round it).
fn find_circle(graph: &BTreeMap<String, BTreeSet<String>>) -> Option<Vec<String>> {
    fn visit(
        m: &str,
        graph: &BTreeMap<String, BTreeSet<String>>,
        state: &mut BTreeMap<String, u8>,
        stack: &mut Vec<String>,
    ) -> Option<Vec<String>> {
        state.insert(m.to_string(), 1);
        stack.push(m.to_string());
        for next in graph.get(m).into_iter().flatten() {
            match state.get(next.as_str()) {
                Some(1) => {
                    let from = stack.iter().position(|s| s == next).unwrap();
                    return Some([&stack[from..], std::slice::from_ref(next)].concat());
                }
                Some(_) => {}
                None => {
                    if let Some(c) = visit(next, graph, state, stack) {
                        return Some(c);
                    }
                }
            }
        }
        stack.pop();
        state.insert(m.to_string(), 2);
        None
    }
    let mut state = BTreeMap::new();
    for m in graph.keys() {
        if !state.contains_key(m.as_str())
            && let Some(c) = visit(m, graph, &mut state, &mut Vec::new())
        {
            return Some(c);
        }
    }
    None
}

#[test]
fn the_circle_finder_finds_a_circle_and_the_paths_it_reads() {
    let paths =
        named_paths("use crate::a::{b, c::d as e};\nuse super::super::f;\n// crate::not::this\nlet x = crate::g::h();");
    let shown: Vec<String> = paths.iter().map(|(r, p)| format!("{r}:{}", p.join("::"))).collect();
    assert_eq!(shown, ["crate:a::b", "crate:a::c::d", "super:super::f", "crate:g::h"]);
    let graph: BTreeMap<String, BTreeSet<String>> = [
        ("a".to_string(), BTreeSet::from(["b".to_string()])),
        ("b".to_string(), BTreeSet::from(["c".to_string()])),
        ("c".to_string(), BTreeSet::from(["a".to_string()])),
    ]
    .into();
    assert_eq!(find_circle(&graph).unwrap(), ["a", "b", "c", "a"]);
}

#[test]
fn no_module_of_src_imports_one_that_imports_it_back() {
    let graph = import_graph();
    assert!(graph.len() > 100, "{} modules found", graph.len());
    // The seams the house is built on.
    let imports = |m: &str, prefix: &str| graph[m].iter().any(|e| e.starts_with(prefix));
    assert!(imports("workers", "worker") && imports("workers", "farm::remote"), "{:?}", graph["workers"]);
    assert!(imports("farm::remote", "painting") && imports("worker::run", "painting"));
    if let Some(circle) = find_circle(&graph) {
        panic!("an import circle: {}", circle.join(" -> "));
    }
    // The contract imports neither worker (nor the choice between them).
    let painting: Vec<_> = graph.iter().filter(|(m, _)| m.starts_with("painting")).collect();
    for (m, edges) in painting {
        assert!(!edges.iter().any(|e| e.starts_with("worker") || e.starts_with("farm")), "{m} -> {edges:?}");
    }
}

#[test]
fn no_file_of_src_is_longer_than_600_lines() {
    let mut files = Vec::new();
    rust_files(&common::root().join("src"), &mut files);
    let long: Vec<String> = files
        .iter()
        .map(|f| (f, std::fs::read_to_string(f).unwrap().lines().count()))
        .filter(|(_, n)| *n > 600)
        .map(|(f, n)| format!("{} ({n} lines)", f.display()))
        .collect();
    assert!(long.is_empty(), "split by concern: {long:?}");
}

/// Markdown links `[text](target)` of a file, without those to the web.
fn local_links(text: &str) -> Vec<String> {
    let mut links = Vec::new();
    let mut rest = text;
    while let Some(at) = rest.find("](") {
        rest = &rest[at + 2..];
        let end = rest.find(')').unwrap_or(rest.len());
        let target = &rest[..end];
        if !target.starts_with("http://") && !target.starts_with("https://") && !target.starts_with("mailto:") {
            links.push(target.to_string());
        }
        rest = &rest[end..];
    }
    links
}

/// GitHub's anchor of a heading: lower case, spaces to `-`, punctuation dropped.
fn anchor(heading: &str) -> String {
    heading
        .trim()
        .to_lowercase()
        .chars()
        .filter(|c| c.is_alphanumeric() || *c == ' ' || *c == '-' || *c == '_')
        .map(|c| if c == ' ' { '-' } else { c })
        .collect()
}

#[test]
fn every_link_of_the_readme_and_the_guides_leads_somewhere() {
    let root = common::root();
    let mut docs = vec![root.join("README.md")];
    for entry in std::fs::read_dir(root.join("docs")).unwrap() {
        let p = entry.unwrap().path();
        if p.extension().is_some_and(|e| e == "md") {
            docs.push(p);
        }
    }
    assert!(docs.len() >= 7, "README and a guide per reader: {docs:?}");
    let mut checked = 0;
    for doc in &docs {
        let text = std::fs::read_to_string(doc).unwrap();
        for link in local_links(&text) {
            let (file, fragment) = link.split_once('#').unwrap_or((&link, ""));
            let target = if file.is_empty() { doc.clone() } else { doc.parent().unwrap().join(file) };
            assert!(target.exists(), "{}: the link `{link}` leads nowhere", doc.display());
            if !fragment.is_empty() {
                let headings: Vec<String> = std::fs::read_to_string(&target)
                    .unwrap()
                    .lines()
                    .filter(|l| l.starts_with('#'))
                    .map(|l| anchor(l.trim_start_matches('#')))
                    .collect();
                assert!(
                    headings.iter().any(|h| h == fragment),
                    "{}: `{link}` names no heading of {}",
                    doc.display(),
                    target.display()
                );
            }
            checked += 1;
        }
    }
    assert!(checked > 40, "{checked} links checked");
    let readme = std::fs::read_to_string(root.join("README.md")).unwrap();
    assert!(readme.lines().count() <= 350, "the README is an entrance: {} lines", readme.lines().count());
    for guide in ["kiosk", "curator", "farm", "visitors", "engine", "developers"] {
        assert!(readme.contains(&format!("](docs/{guide}.md)")), "the README links docs/{guide}.md");
    }
}

/// The import graph of src/'s top-level folders (and single-file modules): `config::engine`
/// importing `farm::remote` is `config` importing `farm`.
fn folder_graph(graph: &BTreeMap<String, BTreeSet<String>>) -> BTreeMap<String, BTreeSet<String>> {
    let folder = |m: &str| m.split("::").next().unwrap_or(m).to_string();
    let mut folders: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for (module, edges) in graph {
        let from = folder(module);
        let entry = folders.entry(from.clone()).or_default();
        entry.extend(edges.iter().map(|e| folder(e)).filter(|to| *to != from));
    }
    folders
}

#[test]
fn no_folder_of_src_imports_one_that_imports_it_back() {
    let folders = folder_graph(&import_graph());
    assert!(folders.len() > 15, "{} folders found", folders.len());
    // The configuration is below everything that reads it: what it names (the engine's
    // parameters, the paths) reads no configuration back.
    let config = &folders["config"];
    for below in config {
        assert!(!folders[below].contains("config"), "config and {below} import each other: {config:?}");
    }
    if let Some(circle) = find_circle(&folders) {
        panic!("a circle between folders: {}", circle.join(" -> "));
    }
}
