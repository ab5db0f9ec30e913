//! The fuzz targets: one function per parser family taking arbitrary
//! bytes. Only a panic (or an abort: out of memory, stack overflow) is a
//! finding; every `Err` is a correct answer to malformed input. The
//! `cargo fuzz` targets in `fuzz/fuzz_targets/` are one-line calls of
//! these, `tests/decode/fuzz_smoke.rs` replays the seeds and a fixed set of
//! mutations through them, and `scripts/fuzz` runs them coverage-guided
//! (`docs/fuzzing.md`). Plain functions, no feature: the test suite runs
//! them on stable.
//!
//! Besides "no panic", the snapshot targets assert the invariants the
//! front ends rely on without checking: an index's file sizes match the
//! bytes its files render to, ranged reads agree with the whole render,
//! and every live offset the scan returns decodes.

pub mod seeds;

pub use seeds::Seed;

use crate::index::{DecodeOptions, Index};
use crate::mvcc::{self, ScanOptions};
use crate::tree::NodeId;

/// A target: bytes in, panic on a finding.
pub type Target = fn(&[u8]);

/// Every target by the name its `cargo fuzz` target and corpus directory
/// carry.
pub const TARGETS: &[(&str, Target)] = &[
    ("container", container),
    ("index", index),
    ("pack_manifest", pack_manifest),
    ("pack_dynamodb", pack_dynamodb),
    ("pack_s3", pack_s3),
    ("pack_redis", pack_redis),
    ("pack_sqs", pack_sqs),
];

/// The container reader and MVCC resolution: shape detection, entry
/// framing, the MVCC header, newest-version resolution (with and without
/// expired entries). Every live offset must decode again.
pub fn container(data: &[u8]) {
    for include_expired in [false, true] {
        let Ok(scan) = mvcc::scan(data, ScanOptions { include_expired }, &mut |_| {}) else { return };
        for &off in &scan.live {
            assert!(crate::container::entry_at(data, off).is_some(), "live offset {off} does not decode");
        }
        assert_eq!(scan.live.len() as u64, scan.stats.live, "live count");
    }
}

/// A whole snapshot through the index and the views, as `extract` and a
/// mount read it: every adapter's decode (routing, finalize) and render
/// path, under the default options and with every inclusion option on.
pub fn index(data: &[u8]) {
    let all_on = DecodeOptions {
        include_expired: true,
        include_orphans: true,
        include_incomplete_uploads: true,
        rename_collisions: true,
        preserve_sqs_visibility: true,
        include_sqs_side_records: true,
        ..DecodeOptions::default()
    };
    for options in [DecodeOptions::default(), all_on] {
        if let Ok(index) = Index::from_bytes(data.to_vec(), options) {
            read_everything(&index);
        }
    }
}

/// Reads every node the way the front ends do and checks they agree.
fn read_everything(index: &Index) {
    let tree = &index.tree;
    for id in 0..tree.len() as NodeId {
        let _ = index.mtime_ts(id);
        let path = tree.path(id);
        if id != crate::tree::Tree::ROOT {
            assert_eq!(
                tree.resolve(&path),
                Some(id),
                "path {:?} resolves elsewhere",
                String::from_utf8_lossy(&path)
            );
        }
        if tree.is_dir(id) || id == index.checksums_node {
            continue;
        }
        let Ok(whole) = index.render(id) else { continue };
        let size = index.size(id).expect("a rendered file has a size");
        assert_eq!(size, whole.len() as u64, "size of {:?}", String::from_utf8_lossy(&path));
        // FUSE reads in pieces: a streamed file chunk by chunk (odd sizes
        // cross fragment boundaries), a generated one at one offset.
        if index.is_streamed(id) {
            let mut got = Vec::new();
            let mut buf = [0u8; 61];
            loop {
                let n = index.read(id, got.len() as u64, &mut buf).expect("read after render");
                if n == 0 {
                    break;
                }
                got.extend_from_slice(&buf[..n]);
                assert!(got.len() <= whole.len(), "reads run past the size");
            }
            assert!(
                got == whole,
                "ranged reads differ from the render of {:?}",
                String::from_utf8_lossy(&path)
            );
        } else {
            let mid = whole.len() / 2;
            let mut buf = [0u8; 16];
            let n = index.read(id, mid as u64, &mut buf).expect("read after render");
            assert_eq!(&buf[..n], &whole[mid..(mid + 16).min(whole.len())], "read at {mid}");
        }
    }
    if let Ok(sums) = crate::index::render_checksums(index) {
        let promised = tree.node(index.checksums_node).stored_size();
        assert_eq!(sums.len() as u64, promised, "CHECKSUMS size");
    }
}

/// `MANIFEST.json` as `pack` validates it.
pub fn pack_manifest(data: &[u8]) {
    crate::pack::fuzz::manifest(data)
}

/// DynamoDB `_schema.json` and item files.
pub fn pack_dynamodb(data: &[u8]) {
    crate::pack::fuzz::dynamodb(data)
}

/// S3 object sidecars and `KEYMAP.jsonl`.
pub fn pack_s3(data: &[u8]) {
    crate::pack::fuzz::s3(data)
}

/// Redis value files, TTL sidecars, `KEYMAP.jsonl`, file stems.
pub fn pack_redis(data: &[u8]) {
    crate::pack::fuzz::redis(data)
}

/// SQS `_queue.json` and `messages.jsonl`.
pub fn pack_sqs(data: &[u8]) {
    crate::pack::fuzz::sqs(data)
}
