//! Shared test helpers: build snapshots from logical records, extract them
//! through the library, compare trees with checked-in golden copies.
#![allow(dead_code)]

use std::collections::BTreeMap;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

use fsmfs::adapters::dynamodb::records::{AttrValue, Record};
use fsmfs::container::writer::{encode_key, encode_value, StreamWriter};
use fsmfs::index::{DecodeOptions, Index};

/// The spec's example timestamp: 2024-04-29T14:13:20Z, logical 0.
pub const T: u64 = 0x018F_2A33_F800_0000;

/// One MVCC version to write.
#[derive(Clone)]
pub struct Version {
    pub key: Vec<u8>,
    pub ts: u64,
    pub tombstone: bool,
    pub expire_at: u64,
    pub body: Vec<u8>,
}

/// A snapshot under construction; entries are sorted by encoded key on
/// `build`, as every writer does.
pub struct Snap {
    pub last_commit_ts: u64,
    pub versions: Vec<Version>,
}

impl Default for Snap {
    fn default() -> Self {
        Snap { last_commit_ts: T, versions: Vec::new() }
    }
}

impl Snap {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn put(&mut self, key: &[u8], body: &[u8]) -> &mut Self {
        let ts = self.last_commit_ts;
        self.version(key, ts, false, 0, body)
    }

    pub fn version(
        &mut self,
        key: &[u8],
        ts: u64,
        tombstone: bool,
        expire_at: u64,
        body: &[u8],
    ) -> &mut Self {
        self.versions.push(Version { key: key.to_vec(), ts, tombstone, expire_at, body: body.to_vec() });
        self
    }

    pub fn records(&mut self, recs: Vec<Record>) -> &mut Self {
        for r in recs {
            self.put(&r.key, &r.value);
        }
        self
    }

    pub fn build(&self) -> Vec<u8> {
        let mut rows: Vec<(Vec<u8>, Vec<u8>)> = self
            .versions
            .iter()
            .map(|v| (encode_key(&v.key, v.ts), encode_value(v.tombstone, v.expire_at, &v.body)))
            .collect();
        rows.sort();
        rows.dedup_by(|a, b| a.0 == b.0);
        let mut w = StreamWriter::new(Vec::new(), self.last_commit_ts).unwrap();
        for (k, v) in &rows {
            w.entry(k, &[v]).unwrap();
        }
        w.finish()
    }
}

pub fn attrs(list: &[(&str, AttrValue)]) -> Vec<(String, AttrValue)> {
    list.iter().map(|(k, v)| (k.to_string(), v.clone())).collect()
}

pub fn s(v: &str) -> AttrValue {
    AttrValue::S(v.into())
}

pub fn n(v: &str) -> AttrValue {
    AttrValue::N(v.into())
}

/// Options with a fixed source path so MANIFEST.json is reproducible.
pub fn opts(case: &str) -> DecodeOptions {
    DecodeOptions { source_path: format!("{case}.fsm"), ..Default::default() }
}

/// Indexes and extracts into a fresh temporary directory.
pub fn extract(bytes: Vec<u8>, options: DecodeOptions) -> Result<(tempfile::TempDir, PathBuf), String> {
    let index = Index::from_bytes(bytes, options).map_err(|e| e.to_string())?;
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("tree");
    fsmfs::extract::extract(&index, &out, &|_| {}).map_err(|e| e.to_string())?;
    Ok((dir, out))
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Node {
    Dir { mode: u32 },
    File { mode: u32, bytes: Vec<u8> },
}

/// Every path under `root` (relative, `/`-separated) with mode and bytes.
pub fn read_tree(root: &Path) -> BTreeMap<String, Node> {
    let mut out = BTreeMap::new();
    walk(root, root, &mut out);
    out
}

fn walk(root: &Path, dir: &Path, out: &mut BTreeMap<String, Node>) {
    for e in std::fs::read_dir(dir).unwrap() {
        let e = e.unwrap();
        let p = e.path();
        let rel = p.strip_prefix(root).unwrap().to_string_lossy().into_owned();
        let meta = std::fs::symlink_metadata(&p).unwrap();
        let mode = meta.permissions().mode() & 0o7777;
        if meta.is_dir() {
            out.insert(rel, Node::Dir { mode });
            walk(root, &p, out);
        } else {
            out.insert(rel, Node::File { mode, bytes: std::fs::read(&p).unwrap() });
        }
    }
}

fn golden_dir(case: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/golden").join(case)
}

fn dir_listing(case: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/golden").join(format!("{case}.dirs"))
}

/// Compares an extracted tree with `tests/golden/<case>/` (file names and
/// bytes) and `tests/golden/<case>.dirs` (every directory, since git keeps
/// no empty ones). Git keeps no modes either, so modes are checked against
/// upstream's rule instead. `FSMFS_BLESS=1` rewrites the golden copy.
pub fn assert_golden(case: &str, tree: &Path) {
    let golden = golden_dir(case);
    let got = read_tree(tree);
    let dirs: String =
        got.iter().filter(|(_, n)| matches!(n, Node::Dir { .. })).map(|(p, _)| format!("{p}\n")).collect();
    if std::env::var_os("FSMFS_BLESS").is_some() {
        let _ = std::fs::remove_dir_all(&golden);
        std::fs::create_dir_all(golden.parent().unwrap()).unwrap();
        let status = std::process::Command::new("cp").arg("-r").arg(tree).arg(&golden).status().unwrap();
        assert!(status.success());
        std::fs::write(dir_listing(case), &dirs).unwrap();
        return;
    }
    for (path, node) in &got {
        let want_mode = match node {
            Node::Dir { .. } => 0o755,
            Node::File { .. } if path == "MANIFEST.json" || path == "CHECKSUMS" => 0o644,
            Node::File { .. } => 0o600,
        };
        let mode = match node {
            Node::Dir { mode } | Node::File { mode, .. } => *mode,
        };
        assert_eq!(mode, want_mode, "{case}: mode of {path}");
    }
    assert!(golden.is_dir(), "{case}: no golden tree at {} (run with FSMFS_BLESS=1)", golden.display());
    let want_dirs = std::fs::read_to_string(dir_listing(case)).unwrap_or_default();
    assert_eq!(dirs, want_dirs, "{case}: directories differ from {case}.dirs");
    let want = read_tree(&golden);
    let files = |t: &BTreeMap<String, Node>| {
        t.iter().filter(|(_, n)| matches!(n, Node::File { .. })).map(|(p, _)| p.clone()).collect::<Vec<_>>()
    };
    assert_eq!(files(&got), files(&want), "{case}: file names differ from the golden tree");
    for (path, node) in &got {
        if let (Node::File { bytes, .. }, Some(Node::File { bytes: w, .. })) = (node, want.get(path)) {
            assert!(
                bytes == w,
                "{case}: {path} differs from golden:\n--- got\n{}\n--- want\n{}",
                String::from_utf8_lossy(bytes),
                String::from_utf8_lossy(w)
            );
        }
    }
}

/// Runs the fsmfs binary.
pub fn fsmfs(args: &[&str]) -> std::process::Output {
    std::process::Command::new(env!("CARGO_BIN_EXE_fsmfs")).args(args).output().unwrap()
}
