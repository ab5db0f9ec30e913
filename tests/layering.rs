//! The architecture map stays true: every `crate::` path in `src/` points
//! to a layer at or below the one of the module that names it
//! (`docs/architecture.md`), modules of one layer do not import each other
//! except in the bottom layer (and there without cycles), and an adapter
//! folder never reaches into another adapter's folder. And every file of
//! an area folder under `tests/` is compiled (a module of its `main.rs`).
//!
//! Reads the source text, so it is deterministic and needs no build
//! tooling: a path is found wherever it is written (`use crate::a::b`,
//! `use crate::{a, b::c}`, `crate::a::f()` in an expression).

use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::path::{Path, PathBuf};

/// Layers, bottom first. A module may name modules of lower layers; in
/// layer 0 it may also name its neighbours (no cycles among them).
const LAYERS: &[&[&str]] = &[
    &["exit", "progress", "errpath", "temps", "codec", "container", "keys", "tree", "dumptree"],
    &["mvcc"],
    &["adapters"],
    &["index"],
    &["fuse", "extract", "pack", "info", "diff"],
    &["cli", "fuzz_targets"],
];

fn layer_of(module: &str) -> Option<usize> {
    LAYERS.iter().position(|l| l.contains(&module))
}

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for e in fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        if p.is_dir() {
            rust_files(&p, out);
        } else if p.extension().is_some_and(|x| x == "rs") {
            out.push(p);
        }
    }
}

/// Drops comments and string literals, so prose that mentions a path
/// does not count.
fn code_only(src: &str) -> String {
    let mut out = String::with_capacity(src.len());
    let b = src.as_bytes();
    let mut i = 0;
    while i < b.len() {
        if b[i..].starts_with(b"//") {
            while i < b.len() && b[i] != b'\n' {
                i += 1;
            }
        } else if b[i..].starts_with(b"/*") {
            i += 2;
            while i < b.len() && !b[i..].starts_with(b"*/") {
                i += 1;
            }
            i += 2;
        } else if b[i] == b'"' {
            i += 1;
            while i < b.len() && b[i] != b'"' {
                i += if b[i] == b'\\' { 2 } else { 1 };
            }
            i += 1;
        } else if b[i] == b'\'' && i + 2 < b.len() && (b[i + 2] == b'\'' || b[i + 1] == b'\\') {
            // A char literal ('"', '\n'); lifetimes ('a) are left alone.
            i += 1;
            while i < b.len() && b[i] != b'\'' {
                i += if b[i] == b'\\' { 2 } else { 1 };
            }
            i += 1;
        } else {
            out.push(b[i] as char);
            i += 1;
        }
    }
    out
}

/// Every path named after `crate::`, as segment lists: `crate::a::b` gives
/// `[a, b]`; `crate::{a::b, c}` gives `[a, b]` and `[c]`.
fn crate_paths(code: &str) -> Vec<Vec<String>> {
    let mut out = Vec::new();
    let mut rest = code;
    while let Some(at) = rest.find("crate::") {
        let before = rest[..at].chars().next_back();
        rest = &rest[at + "crate::".len()..];
        if before.is_some_and(|c| c.is_alphanumeric() || c == '_' || c == ':' || c == '$') {
            continue; // `$crate::`, `other_crate::`
        }
        out.extend(expand(rest.trim_start(), Vec::new()));
    }
    out
}

/// Expands one path tree starting at `s` (after `crate::` or `{`).
fn expand(s: &str, prefix: Vec<String>) -> Vec<Vec<String>> {
    let ident: String = s.chars().take_while(|c| c.is_alphanumeric() || *c == '_').collect();
    if ident.is_empty() {
        if let Some(inner) = s.strip_prefix('{') {
            let mut depth = 0;
            let mut start = 0;
            let mut out = Vec::new();
            for (i, c) in inner.char_indices() {
                match c {
                    '{' => depth += 1,
                    '}' if depth == 0 => {
                        out.extend(expand(inner[start..i].trim_start(), prefix.clone()));
                        return out;
                    }
                    '}' => depth -= 1,
                    ',' if depth == 0 => {
                        out.extend(expand(inner[start..i].trim_start(), prefix.clone()));
                        start = i + 1;
                    }
                    _ => {}
                }
            }
        }
        return if prefix.is_empty() { Vec::new() } else { vec![prefix] };
    }
    let mut path = prefix;
    path.push(ident.clone());
    match s[ident.len()..].strip_prefix("::") {
        Some(more) => expand(more.trim_start(), path),
        None => vec![path],
    }
}

/// `src/adapters/redis/pack.rs` → `["adapters", "redis", "pack"]`.
fn module_of(src: &Path, file: &Path) -> Vec<String> {
    let rel = file.strip_prefix(src).unwrap().with_extension("");
    let mut v: Vec<String> = rel.iter().map(|s| s.to_string_lossy().into_owned()).collect();
    if v.last().is_some_and(|l| l == "mod") {
        v.pop();
    }
    v
}

/// (importing module path, imported path, file) for every `crate::` path.
type Edge = (Vec<String>, Vec<String>, String);

fn collect() -> (Vec<Edge>, usize) {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    rust_files(&src, &mut files);
    files.sort();
    let mut edges = Vec::new();
    for f in &files {
        let from = module_of(&src, f);
        if matches!(from.first().map(String::as_str), Some("lib" | "main")) {
            continue;
        }
        let code = code_only(&fs::read_to_string(f).unwrap());
        for to in crate_paths(&code) {
            edges.push((from.clone(), to, f.strip_prefix(&src).unwrap().display().to_string()));
        }
    }
    (edges, files.len())
}

#[test]
fn imports_point_down_only() {
    let (edges, n) = collect();
    assert!(n > 50 && edges.len() > 100, "the scan found too little: {n} files, {} paths", edges.len());
    let mut bad: BTreeSet<String> = BTreeSet::new();
    let mut bottom: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for (from, to, file) in &edges {
        let (f, t) = (&from[0], &to[0]);
        let (Some(lf), Some(lt)) = (layer_of(f), layer_of(t)) else {
            if layer_of(f).is_none() {
                bad.insert(format!("{file}: module `{f}` is on no layer of the map"));
            } else if t != "lib" {
                bad.insert(format!("{file}: crate::{t} is on no layer of the map"));
            }
            continue;
        };
        if lt > lf {
            bad.insert(format!("{file}: imports crate::{} from a higher layer", to.join("::")));
        } else if lt == lf && f != t {
            if lf == 0 {
                bottom.entry(f.clone()).or_default().insert(t.clone());
            } else {
                bad.insert(format!("{file}: imports its sibling crate::{}", to.join("::")));
            }
        }
        // One folder per adapter: adapters/<a>/… may use the registry
        // (adapters::…) but not another adapter's folder.
        if f == "adapters" && t == "adapters" && from.len() > 1 && to.len() > 1 {
            let is_adapter = |s: &str| matches!(s, "dynamodb" | "s3" | "redis" | "sqs");
            if is_adapter(&from[1]) && is_adapter(&to[1]) && from[1] != to[1] {
                bad.insert(format!("{file}: adapter {} reaches into adapter {}", from[1], to[1]));
            }
        }
    }
    // No cycles among the bottom layer's modules.
    for (a, deps) in &bottom {
        let mut seen = BTreeSet::new();
        let mut stack: Vec<&String> = deps.iter().collect();
        while let Some(m) = stack.pop() {
            if m == a {
                bad.insert(format!("import cycle through crate::{a}"));
                break;
            }
            if seen.insert(m.clone()) {
                stack.extend(bottom.get(m).into_iter().flatten());
            }
        }
    }
    assert!(bad.is_empty(), "layering violations:\n{}", bad.into_iter().collect::<Vec<_>>().join("\n"));
}

#[test]
fn the_scanner_sees_every_form_of_path() {
    let code = code_only(
        "use crate::a::b;\nuse crate::{c::d, e::{f, g}};\nlet x = crate::h::i(\"crate::no\"); // crate::no\nmacro $crate::no",
    );
    let got: Vec<String> = crate_paths(&code).iter().map(|p| p.join("::")).collect();
    assert_eq!(got, ["a::b", "c::d", "e::f", "e::g", "h::i"]);
}

// --- the test tree ------------------------------------------------------------

/// Top-level `mod NAME;` lines of an area's `main.rs` (its test modules)
/// and the indented `pub mod NAME;` lines (the `tests/common` helpers it
/// compiles).
fn declared_modules(main: &str) -> (BTreeSet<String>, BTreeSet<String>) {
    let name = |l: &str, prefix: &str| l.strip_prefix(prefix)?.strip_suffix(';').map(String::from);
    let own = main.lines().filter_map(|l| name(l, "mod ")).collect();
    let helpers = main
        .lines()
        .filter_map(|l| name(l.trim_start(), "pub mod ").filter(|_| l.starts_with(' ')))
        .collect();
    (own, helpers)
}

fn rs_stems(dir: &Path) -> BTreeSet<String> {
    fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "rs"))
        .map(|p| p.file_stem().unwrap().to_string_lossy().into_owned())
        .filter(|s| s != "main")
        .collect()
}

/// Cargo compiles an area folder (`tests/<area>/main.rs`) only through
/// the modules `main.rs` names, so a test file or helper it does not name
/// would silently never run.
#[test]
fn every_test_file_is_a_module_of_its_area() {
    let tests = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests");
    let mut bad = Vec::new();
    let mut helpers_used = BTreeSet::new();
    let mut areas = 0;
    for area in fs::read_dir(&tests).unwrap().map(|e| e.unwrap().path()) {
        let Ok(main) = fs::read_to_string(area.join("main.rs")) else { continue };
        areas += 1;
        let (own, helpers) = declared_modules(&main);
        for stem in rs_stems(&area).difference(&own) {
            let area = area.file_name().unwrap().to_string_lossy();
            bad.push(format!("tests/{area}/{stem}.rs is not a module of its main.rs"));
        }
        helpers_used.extend(helpers);
    }
    for stem in rs_stems(&tests.join("common")).difference(&helpers_used) {
        bad.push(format!("tests/common/{stem}.rs is compiled by no area"));
    }
    assert!(areas >= 3, "no area folders found under {}", tests.display());
    assert!(bad.is_empty(), "{}", bad.join("\n"));
}

#[test]
fn declared_modules_tells_test_modules_from_helpers() {
    let main = "#[path = \"../common\"]\nmod common {\n    pub mod fuse;\n}\n\nmod basics;\n// mod gone;\n";
    let (own, helpers) = declared_modules(main);
    assert_eq!(own.into_iter().collect::<Vec<_>>(), ["basics"]);
    assert_eq!(helpers.into_iter().collect::<Vec<_>>(), ["fuse"]);
}
