//! The module graph as docs/architecture.md draws it: no two modules import each other, and
//! no lower layer (`domain`, `db`) imports a higher one (`app`, `http`, `notify`, `jobs`,
//! `startup`). Read from the source: every `crate::…` and `super::…` path outside test code.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

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

/// `src/app/dossiers/mod.rs` → `app::dossiers`; test files are left out.
fn module_of(src: &Path, file: &Path) -> Option<String> {
    let rel = file.strip_prefix(src).ok()?.with_extension("");
    let mut parts: Vec<String> = rel
        .iter()
        .map(|p| p.to_string_lossy().into_owned())
        .collect();
    if parts.last().is_some_and(|p| p == "tests") {
        return None;
    }
    if parts
        .last()
        .is_some_and(|p| p == "mod" || p == "lib" || p == "main")
    {
        parts.pop();
    }
    Some(parts.join("::"))
}

/// The text before the file's `#[cfg(test)] mod tests`.
fn without_tests(text: &str) -> &str {
    let mut search = 0;
    while let Some(i) = text[search..].find("#[cfg(test)]") {
        let at = search + i;
        let rest = text[at + "#[cfg(test)]".len()..].trim_start();
        let rest = rest
            .strip_prefix("#[allow(clippy::unwrap_used, clippy::expect_used)]")
            .map_or(rest, str::trim_start);
        if rest.starts_with("mod tests") {
            return &text[..at];
        }
        search = at + 1;
    }
    text
}

/// Paths like `crate::a::b::{c, d}` or `super::x` in the text, each as its segments, with
/// the names inside one brace group appended.
fn paths(text: &str) -> Vec<Vec<String>> {
    let mut out = Vec::new();
    for start in ["crate::", "super::"] {
        let mut from = 0;
        while let Some(i) = text[from..].find(start) {
            let at = from + i;
            from = at + start.len();
            if at > 0 && text[..at].ends_with(|c: char| c.is_alphanumeric() || c == '_') {
                continue;
            }
            let tail = &text[at..];
            let end = tail
                .find(|c: char| !(c.is_alphanumeric() || c == '_' || c == ':'))
                .unwrap_or(tail.len());
            let base: Vec<String> = tail[..end]
                .split("::")
                .filter(|s| !s.is_empty())
                .map(str::to_owned)
                .collect();
            if tail[end..].starts_with('{')
                && let Some(close) = tail[end..].find('}')
            {
                for item in tail[end + 1..end + close].split(',') {
                    let name = item.trim().split([' ', ':']).next().unwrap_or("");
                    if !name.is_empty() && name != "self" {
                        let mut p = base.clone();
                        p.push(name.to_owned());
                        out.push(p);
                    }
                }
            }
            out.push(base);
        }
    }
    out
}

/// The longest known module a path names, from `module`'s point of view.
fn resolve(modules: &BTreeSet<String>, module: &str, path: &[String]) -> Option<String> {
    let mut base: Vec<&str> = Vec::new();
    let mut rest = path;
    match path.first().map(String::as_str) {
        Some("crate") => rest = &path[1..],
        Some("super") => {
            base = module.split("::").collect();
            while rest.first().is_some_and(|s| s == "super") {
                base.pop();
                rest = &rest[1..];
            }
        }
        _ => return None,
    }
    (0..=rest.len()).rev().find_map(|n| {
        let mut parts: Vec<&str> = base.clone();
        parts.extend(rest[..n].iter().map(String::as_str));
        let name = parts.join("::");
        (modules.contains(&name) && !name.is_empty()).then_some(name)
    })
}

fn module_graph() -> BTreeMap<String, BTreeSet<String>> {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    rust_files(&src, &mut files);
    let sources: BTreeMap<String, String> = files
        .iter()
        .filter_map(|f| Some((module_of(&src, f)?, std::fs::read_to_string(f).unwrap())))
        .collect();
    let modules: BTreeSet<String> = sources.keys().cloned().collect();
    let mut graph: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for (module, text) in &sources {
        for path in paths(without_tests(text)) {
            if let Some(target) = resolve(&modules, module, &path)
                && target != *module
                && !module.starts_with(&format!("{target}::"))
            {
                graph.entry(module.clone()).or_default().insert(target);
            }
        }
    }
    graph
}

fn layer(module: &str) -> &str {
    module.split("::").next().unwrap_or(module)
}

#[test]
fn no_two_modules_import_each_other() {
    let graph = module_graph();
    assert!(graph.contains_key("app::dossiers"), "{:?}", graph.keys());
    let mut cycles = Vec::new();
    for (a, targets) in &graph {
        for b in targets {
            if a < b && graph.get(b).is_some_and(|t| t.contains(a)) {
                cycles.push(format!("{a} ⇄ {b}"));
            }
        }
    }
    assert!(
        cycles.is_empty(),
        "modules importing each other: {cycles:?}"
    );
}

#[test]
fn domain_and_db_import_no_higher_layer() {
    let graph = module_graph();
    let higher = ["app", "http", "notify", "jobs", "startup", "auth"];
    let mut up = Vec::new();
    for (a, targets) in &graph {
        if !matches!(layer(a), "domain" | "db") {
            continue;
        }
        for b in targets {
            if higher.contains(&layer(b)) || (layer(a) == "domain" && layer(b) == "db") {
                up.push(format!("{a} → {b}"));
            }
        }
    }
    assert!(up.is_empty(), "imports pointing up: {up:?}");
}

/// Reads in `db/` use `get_result`, never `.first()`: diesel binds `.first()`'s `LIMIT 1` as a
/// parameter, and SQLite (3.50) marks a statement whose LIMIT is a parameter to be prepared
/// again whenever that parameter is bound — at every execution, so diesel's statement cache
/// never saved the parse (docs/performance.md: 41 % of a lookup's instructions were SQLite
/// re-preparing). Paginated lists (`.limit(n)`) still pay it; they are not hot paths.
#[test]
fn db_reads_bind_no_limit_of_one() {
    let mut files = Vec::new();
    rust_files(
        &Path::new(env!("CARGO_MANIFEST_DIR")).join("src/db"),
        &mut files,
    );
    let offenders: Vec<_> = files
        .iter()
        .filter(|f| std::fs::read_to_string(f).unwrap().contains(".first("))
        .collect();
    assert!(
        offenders.is_empty(),
        "`.first(` in {offenders:?}: use `.get_result(`"
    );
}
