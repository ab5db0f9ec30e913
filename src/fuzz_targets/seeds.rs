//! The seed corpus, built from what the repository already holds rather
//! than from checked-in blobs: the snapshots in `tests/data/`, every
//! golden tree of `tests/golden/` packed into a snapshot (with variants
//! that stress MVCC resolution and the on-disk shapes), and the golden
//! trees' files themselves for the pack parsers.

use std::collections::HashSet;
use std::path::Path;

use sha2::{Digest, Sha256};

use crate::container::writer::{
    encode_key, encode_value, wrap_engine_v1, wrap_engine_v2, wrap_legacy, StreamWriter,
};
use crate::container::{decode_entry, detect};

/// One seed input for one target.
#[derive(Debug, Clone)]
pub struct Seed {
    pub target: &'static str,
    /// A file name, unique within the target.
    pub name: String,
    pub bytes: Vec<u8>,
}

/// Every seed, in a stable order, duplicates (same target and bytes)
/// dropped. `repo` is the repository root; `scratch` an empty directory
/// that `pack` may write to. Golden trees that `pack` refuses (those
/// decoded with producer modes it cannot rebuild) give no snapshot seed.
pub fn collect(repo: &Path, scratch: &Path) -> std::io::Result<Vec<Seed>> {
    let mut out = Vec::new();
    for path in sorted_entries(&repo.join("tests/data"))? {
        if path.extension().is_some_and(|e| e == "fsm") {
            let name = file_name(&path);
            snapshot_seeds(&name, &std::fs::read(&path)?, &mut out);
        }
    }
    let golden = repo.join("tests/golden");
    for case in sorted_entries(&golden)? {
        if !case.is_dir() {
            continue;
        }
        let name = file_name(&case);
        let fsm = scratch.join(format!("{name}.fsm"));
        let mut opts = crate::pack::Options::new(&case, &fsm);
        opts.self_test = false;
        opts.scratch_root = Some(scratch.to_path_buf());
        if crate::pack::pack(&opts).is_ok() {
            snapshot_seeds(&name, &std::fs::read(&fsm)?, &mut out);
        }
        tree_files(&case, &case, &name, &mut out)?;
    }
    let mut seen = HashSet::new();
    out.retain(|s| seen.insert((s.target, s.bytes.clone())));
    Ok(out)
}

fn file_name(p: &Path) -> String {
    p.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default()
}

fn sorted_entries(dir: &Path) -> std::io::Result<Vec<std::path::PathBuf>> {
    let mut v: Vec<_> = std::fs::read_dir(dir)?.map(|e| e.map(|e| e.path())).collect::<Result<_, _>>()?;
    v.sort();
    Ok(v)
}

/// A snapshot for the container and index targets, plus its variants.
fn snapshot_seeds(name: &str, bytes: &[u8], out: &mut Vec<Seed>) {
    let mut add = |suffix: &str, b: Vec<u8>| {
        for target in ["container", "index"] {
            out.push(Seed { target, name: format!("{name}{suffix}"), bytes: b.clone() });
        }
    };
    add("", bytes.to_vec());
    if let Some((sorted, shuffled)) = with_versions(bytes) {
        add(".versions.fsm", sorted.clone());
        add(".unsorted.fsm", shuffled);
        // The wrapped shapes once per adapter (the spec examples): a
        // footer's CRC stops most mutations early, and an engine header
        // costs a thread per run (the CRC is computed beside the walk).
        if name.contains("_spec_") {
            let engine = wrap_engine_v1(&sorted, 1_700_000_000_000);
            add(".engine1.fsm", engine.clone());
            add(".engine1-nofooter.fsm", engine[..engine.len() - 4].to_vec());
            add(".engine2.fsm", wrap_engine_v2(&sorted, 1_700_000_000_000, 7));
            add(".legacy.fsm", wrap_legacy(&sorted));
        }
    }
}

/// The snapshot's entries again with history the MVCC pass must resolve:
/// an older hidden version of every key, a newer tombstone on every third
/// key, a newer expired version on every fourth. Returns the sorted stream
/// and one in reverse order (which forces the global resolution by hash).
/// `None` unless `bytes` is a raw stream that decodes.
fn with_versions(bytes: &[u8]) -> Option<(Vec<u8>, Vec<u8>)> {
    let probe = detect(bytes).ok()?;
    if probe.header.is_some() {
        return None;
    }
    let mut rows = Vec::new();
    let mut newest = probe.last_commit_ts;
    let mut walk = probe.entries(bytes);
    for (i, raw) in walk.by_ref().enumerate() {
        let e = decode_entry(raw).ok()?;
        let ts = e.header.commit_ts.max(2);
        rows.push((encode_key(e.user_key, ts), encode_value(e.header.tombstone, e.header.expire_at, e.body)));
        rows.push((encode_key(e.user_key, ts - 1), encode_value(false, 0, b"older")));
        if i % 3 == 0 {
            rows.push((encode_key(e.user_key, ts + 1), encode_value(true, 0, b"")));
        }
        if i % 4 == 1 {
            rows.push((encode_key(e.user_key, ts + 2), encode_value(false, 1, e.body)));
        }
        newest = newest.max(ts + 2);
    }
    walk.outcome()?.as_ref().ok()?;
    rows.sort();
    rows.dedup_by(|a, b| a.0 == b.0);
    let write = |rows: &mut dyn Iterator<Item = &(Vec<u8>, Vec<u8>)>| {
        let mut w = StreamWriter::new(Vec::new(), newest).expect("writing to memory");
        for (k, v) in rows {
            w.entry(k, &[v]).expect("writing to memory");
        }
        w.finish()
    };
    Some((write(&mut rows.iter()), write(&mut rows.iter().rev())))
}

/// The files of a golden tree, each for the pack target that parses its
/// kind (`CHECKSUMS` and S3 object bodies are not parsed by pack).
fn tree_files(root: &Path, dir: &Path, case: &str, out: &mut Vec<Seed>) -> std::io::Result<()> {
    for path in sorted_entries(dir)? {
        if path.is_dir() {
            tree_files(root, &path, case, out)?;
            continue;
        }
        let rel = path.strip_prefix(root).unwrap_or(&path).to_string_lossy().into_owned();
        let Some(target) = pack_target(&rel) else { continue };
        out.push(Seed { target, name: seed_name(case, &rel), bytes: std::fs::read(&path)? });
    }
    Ok(())
}

/// `<case>.<path with dots>`, shortened (keeping a digest of the path)
/// where golden names are too long for a file name.
fn seed_name(case: &str, rel: &str) -> String {
    let name = format!("{case}.{}", rel.replace('/', "."));
    if name.len() <= 100 {
        return name;
    }
    let digest: String = Sha256::digest(rel.as_bytes())[..8].iter().map(|b| format!("{b:02x}")).collect();
    let cut = (0..=80).rev().find(|&i| name.is_char_boundary(i)).unwrap_or(0);
    format!("{}~{digest}", &name[..cut])
}

fn pack_target(rel: &str) -> Option<&'static str> {
    let top = rel.split('/').next()?;
    match top {
        "MANIFEST.json" => Some("pack_manifest"),
        "dynamodb" => Some("pack_dynamodb"),
        "s3" if rel.ends_with(".elastickv-meta.json") || rel.ends_with("/KEYMAP.jsonl") => Some("pack_s3"),
        "redis" => Some("pack_redis"),
        "sqs" => Some("pack_sqs"),
        _ => None,
    }
}
