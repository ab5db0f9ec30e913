//! Helpers for the tests that pack (`tests/pack/`, and the decode and mount
//! tests that pack their input): build trees, pack them through the library
//! or the binary, compare the adapter parts of trees.
#![allow(dead_code)]

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use fsmfs::index::{DecodeOptions, Index};
use fsmfs::pack::{self, Options, PackError, Report};

pub const BIN: &str = env!("CARGO_BIN_EXE_fsmfs");

/// `pack.md` §5.5's timestamp: physical 2024-06-01T00:00:00Z, logical 3.
pub const SPEC_T: u64 = 0x018F_D118_9400_0003;

/// Bytes from hex text (whitespace ignored).
pub fn hex(s: &str) -> Vec<u8> {
    let d: String = s.split_whitespace().collect();
    (0..d.len()).step_by(2).map(|i| u8::from_str_radix(&d[i..i + 2], 16).unwrap()).collect()
}

/// Lowercase hex of `b`.
pub fn show(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

/// §5.1 entry at [`SPEC_T`]: u64le(K) ‖ key ‖ u64be(^T) ‖ u64le(V) ‖ 00 ‖
/// u64le(0) ‖ value.
pub fn entry(user_key: &[u8], value: &[u8]) -> Vec<u8> {
    let mut e = Vec::new();
    e.extend_from_slice(&((user_key.len() + 8) as u64).to_le_bytes());
    e.extend_from_slice(user_key);
    e.extend_from_slice(&(!SPEC_T).to_be_bytes());
    e.extend_from_slice(&((value.len() + 9) as u64).to_le_bytes());
    e.extend_from_slice(&[0; 9]);
    e.extend_from_slice(value);
    e
}

/// Packs `files` (with a manifest at [`SPEC_T`]) through the binary and
/// returns the payload; checks that the sidecar has its SHA-256 and
/// timestamp and that the self-test ran and matched.
pub fn pack_files(files: &[(&str, &[u8])]) -> Vec<u8> {
    use sha2::{Digest, Sha256};
    let tmp = tempfile::tempdir().unwrap();
    let tree = tmp.path().join("tree");
    make_tree(&tree, SPEC_T, files);
    let out = tmp.path().join("out.fsm");
    let o = run(&["pack", tree.to_str().unwrap(), out.to_str().unwrap()]);
    assert!(o.status.success(), "{}", stderr(&o));
    let bytes = std::fs::read(&out).unwrap();
    let info: serde_json::Value =
        serde_json::from_slice(&std::fs::read(tmp.path().join("out.fsm.encode_info.json")).unwrap()).unwrap();
    assert_eq!(info["output_fsm_sha256"], show(&Sha256::digest(&bytes)));
    assert_eq!(info["last_commit_ts"], SPEC_T);
    assert_eq!(info["self_test"], serde_json::json!({"ran": true, "matched": true}));
    bytes
}

pub fn golden(case: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/golden").join(case)
}

/// `cp -r src dst` (the copy is what the tests pack or modify).
pub fn copy_tree(src: &Path, dst: &Path) {
    let st = Command::new("cp").arg("-r").arg(src).arg(dst).status().unwrap();
    assert!(st.success(), "cp -r {} {}", src.display(), dst.display());
}

/// Every regular file below `root` except `MANIFEST.json` and `CHECKSUMS`
/// (what the self-test compares), relative path → bytes.
pub fn adapter_files(root: &Path) -> BTreeMap<String, Vec<u8>> {
    let mut out = BTreeMap::new();
    walk(root, root, &mut out);
    out.remove("MANIFEST.json");
    out.remove("CHECKSUMS");
    out
}

fn walk(root: &Path, dir: &Path, out: &mut BTreeMap<String, Vec<u8>>) {
    for e in std::fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        let md = std::fs::symlink_metadata(&p).unwrap();
        if md.is_dir() {
            walk(root, &p, out);
        } else if md.is_file() {
            let rel = p.strip_prefix(root).unwrap().to_string_lossy().into_owned();
            out.insert(rel, std::fs::read(&p).unwrap());
        }
    }
}

/// Asserts two trees hold the same adapter files (names and bytes).
pub fn assert_same_files(got: &Path, want: &Path, what: &str) {
    let (g, w) = (adapter_files(got), adapter_files(want));
    let names = |m: &BTreeMap<String, Vec<u8>>| m.keys().cloned().collect::<Vec<_>>();
    assert_eq!(names(&g), names(&w), "{what}: file names differ");
    for (k, v) in &g {
        assert!(
            v == &w[k],
            "{what}: {k} differs\n--- got\n{}\n--- want\n{}",
            String::from_utf8_lossy(v),
            String::from_utf8_lossy(&w[k])
        );
    }
}

/// Packs through the library with default options (self-test on).
pub fn pack_lib(tree: &Path, out: &Path) -> Result<Report, PackError> {
    pack::pack(&Options::new(tree, out))
}

/// Extracts `snap` (default decode options plus `rename_collisions`) into
/// `dst`.
pub fn extract_to(snap: &Path, dst: &Path, rename_collisions: bool) {
    let opts = DecodeOptions {
        rename_collisions,
        source_path: snap.to_string_lossy().into_owned(),
        ..DecodeOptions::default()
    };
    let index = Index::open(snap, opts, &mut |_| {}).unwrap();
    fsmfs::extract::extract(&index, dst, &|_| {}).unwrap();
}

/// Writes snapshot bytes to `dir/name` and returns the path.
pub fn write_snap(dir: &Path, name: &str, bytes: &[u8]) -> PathBuf {
    let p = dir.join(name);
    std::fs::write(&p, bytes).unwrap();
    p
}

/// Runs the fsmfs binary.
pub fn run(args: &[&str]) -> Output {
    Command::new(BIN).args(args).output().unwrap()
}

pub fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// Names in `dir` (to check that nothing was left behind).
pub fn listing(dir: &Path) -> Vec<String> {
    let mut v: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    v.sort();
    v
}

/// A minimal valid `MANIFEST.json` with the given last commit timestamp and
/// extra top-level JSON members (e.g. `"cluster_id":"c"`).
pub fn manifest(last_commit_ts: u64, extra: &str) -> String {
    format!(
        r#"{{"format_version":1,"phase":"phase0-snapshot-decode","last_commit_ts":{last_commit_ts},"wall_time_iso":"2024-04-29T14:13:20Z","adapters":{{"dynamodb":{{}},"s3":{{}},"redis":{{}},"sqs":{{}}}},"exclusions":{{"include_incomplete_uploads":false,"include_orphans":false,"preserve_sqs_visibility":false,"include_sqs_side_records":false}},"checksum_algorithm":"sha256","checksum_format":"sha256sum","encoded_filename_charset":"rfc3986-unreserved-plus-percent","key_segment_max_bytes":240,"s3_meta_suffix":".elastickv-meta.json","s3_collision_strategy":"leaf-data-suffix","dynamodb_layout":"per-item"{extra}}}"#
    )
}

/// Writes `files` (relative path → content) under `root`, creating
/// directories, plus a `MANIFEST.json` unless one is given.
pub fn make_tree(root: &Path, last_commit_ts: u64, files: &[(&str, &[u8])]) {
    std::fs::create_dir_all(root).unwrap();
    if !files.iter().any(|(p, _)| *p == "MANIFEST.json") {
        std::fs::write(root.join("MANIFEST.json"), manifest(last_commit_ts, "")).unwrap();
    }
    for (p, data) in files {
        let path = root.join(p);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, data).unwrap();
    }
}

/// An S3 sidecar for a body of `size` bytes.
pub fn sidecar(size: usize) -> Vec<u8> {
    format!(r#"{{"format_version":1,"etag":"e","size_bytes":{size}}}"#).into_bytes()
}

pub const BUCKET: &[u8] = br#"{"format_version":1,"name":"b"}"#;

pub const HASH_SCHEMA: &[u8] = br#"{"format_version":1,"table_name":"t","primary_key":{"hash_key":{"name":"id","type":"S"}},"attribute_definitions":[{"name":"id","type":"S"}]}"#;
