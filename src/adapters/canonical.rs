//! The canonical form of the input tree, as far as the self-test needs it
//! (`pack.md` §11.2, `design.md` §6): what the first decode of the payload
//! writes differently from a tree a decoder wrote from a live node, although
//! the data is the same. The self-test compares the decoded tree with the
//! input *in this form*, so every tree a decoder writes passes it and any
//! other difference still fails it.
//!
//! The first-pass changes, and where each is handled:
//!
//! * S3 `KEYMAP.jsonl` line order (upstream writes map order): a tracker is
//!   compared as a set of lines ([`same_lines`]).
//! * S3 leaf-data renames forced only by orphans: pack sees which
//!   `s3-leaf-data` records no object of the payload needs any more
//!   ([`Canonical::leaf_data_unneeded`]); the object and its sidecar are
//!   then compared under their natural names and the record's line is not
//!   expected (nor the tracker, when no record is left).
//! * Redis `KEYMAP.jsonl` lines repeated once per record of the key
//!   (upstream): compared as a set of distinct lines ([`same_distinct_lines`]).
//! * Redis `strings_ttl.jsonl` / `hll_ttl.jsonl` order and per-version
//!   repeats, `expire_at_ms: 0`, collection element order: the files must
//!   hold the same records (`redis::same_data`).
//! * SQS `queue_generation` (becomes 1): the messages must be the same in
//!   every field a restore keeps (`sqs::same_data`).
//!
//! Hand-edited trees (JSON layout, unknown fields, extra files) are not
//! canonicalised: accepting them would mean comparing what pack's parsers
//! read, which cannot see a field those parsers drop.

use std::collections::{HashMap, HashSet};

use crate::adapters::s3::{LEAF_DATA_SUFFIX, META_SUFFIX};
use crate::keys::keymap;

#[derive(Default)]
pub(crate) struct Canonical {
    /// Tree-relative path of each S3 rename tracker → the `encoded` paths
    /// whose records the next decode no longer writes.
    s3_trackers: HashMap<Vec<u8>, Tracker>,
    /// Tree-relative input path → the name, in the same directory, the next
    /// decode gives that file.
    moved: HashMap<Vec<u8>, Vec<u8>>,
}

#[derive(Default)]
struct Tracker {
    dropped: HashSet<Vec<u8>>,
    /// Every record is dropped: the next decode writes no tracker.
    vanishes: bool,
}

impl Canonical {
    /// `path` is an S3 rename tracker.
    pub(crate) fn s3_tracker(&mut self, path: &[u8]) {
        self.s3_trackers.entry(path.to_vec()).or_default();
    }

    /// The `s3-leaf-data` record of tracker `path` in bucket directory
    /// `bucket_rel` that moved `encoded` (= `original` + the suffix) is not
    /// needed: no object key of the payload lies under `original/`. The
    /// tracker holds `records` records in all.
    pub(crate) fn leaf_data_unneeded(
        &mut self,
        bucket_rel: &[u8],
        path: &[u8],
        encoded: &[u8],
        original: &[u8],
        records: usize,
    ) {
        let t = self.s3_trackers.entry(path.to_vec()).or_default();
        t.dropped.insert(encoded.to_vec());
        t.vanishes = t.dropped.len() == records;
        let leaf = original.rsplit(|&b| b == b'/').next().unwrap_or(original);
        let at = |name: &[u8], suffix: &[u8]| [bucket_rel, b"/", name, suffix].concat();
        self.moved.insert(at(encoded, b""), leaf.to_vec());
        self.moved.insert(at(encoded, META_SUFFIX), [leaf, META_SUFFIX].concat());
    }

    /// The name the next decode gives input file `rel` in its directory,
    /// when it is not the input's.
    pub(crate) fn moved(&self, rel: &[u8]) -> Option<&[u8]> {
        if self.moved.is_empty() {
            return None;
        }
        self.moved.get(rel).map(Vec::as_slice)
    }

    pub(crate) fn is_s3_tracker(&self, rel: &[u8]) -> bool {
        self.s3_trackers.contains_key(rel)
    }

    /// Input file `rel` is one the next decode does not write at all.
    pub(crate) fn vanishes(&self, rel: &[u8]) -> bool {
        self.s3_trackers.get(rel).is_some_and(|t| t.vanishes)
    }

    /// Whether S3 tracker `rel` read `input` and the decoded `decoded` hold
    /// the same lines once the dropped records' lines are left out.
    pub(crate) fn same_tracker(&self, rel: &[u8], input: &[u8], decoded: &[u8]) -> bool {
        let Some(t) = self.s3_trackers.get(rel) else { return false };
        if t.dropped.is_empty() {
            return same_lines(input, decoded);
        }
        let Some(kept) = without_records(input, &t.dropped) else { return false };
        same_lines(&kept, decoded)
    }
}

/// `bytes` without the lines whose record's `encoded` is in `dropped`
/// (`None`: a line does not parse, so the file cannot be the decoder's).
fn without_records(bytes: &[u8], dropped: &HashSet<Vec<u8>>) -> Option<Vec<u8>> {
    let records = keymap::parse(bytes).ok()?;
    let body = bytes.strip_suffix(b"\n").unwrap_or(bytes);
    let mut out = Vec::with_capacity(bytes.len());
    for (line, r) in body.split(|&b| b == b'\n').zip(&records) {
        if !dropped.contains(r.encoded.as_bytes()) {
            out.extend_from_slice(line);
            out.push(b'\n');
        }
    }
    if !bytes.ends_with(b"\n") && !out.is_empty() {
        out.pop();
    }
    Some(out)
}

/// Whether `encoded` is the name the decoder gives key `original` when an
/// object lies under `original/` (and so the only leaf-data rename a
/// decoder writes).
pub(crate) fn is_leaf_data_of(encoded: &[u8], original: &[u8]) -> bool {
    encoded.strip_suffix(LEAF_DATA_SUFFIX) == Some(original)
}

/// The same lines in any order (and the same final newline).
pub(crate) fn same_lines(a: &[u8], b: &[u8]) -> bool {
    a.ends_with(b"\n") == b.ends_with(b"\n") && sorted_lines(a) == sorted_lines(b)
}

/// The same distinct lines in any order, however often each repeats (and
/// the same final newline).
pub(crate) fn same_distinct_lines(a: &[u8], b: &[u8]) -> bool {
    fn distinct(x: &[u8]) -> Vec<&[u8]> {
        let mut v = sorted_lines(x);
        v.dedup();
        v
    }
    a.ends_with(b"\n") == b.ends_with(b"\n") && distinct(a) == distinct(b)
}

fn sorted_lines(b: &[u8]) -> Vec<&[u8]> {
    let mut v: Vec<&[u8]> = b.split(|&c| c == b'\n').collect();
    v.sort();
    v
}

#[cfg(test)]
mod tests {
    use super::*;

    fn line(encoded: &str, original_b64: &str) -> String {
        format!("{{\"encoded\":\"{encoded}\",\"original\":\"{original_b64}\",\"kind\":\"s3-leaf-data\"}}\n")
    }

    #[test]
    fn line_sets() {
        assert!(same_lines(b"a\nb\n", b"b\na\n"));
        assert!(!same_lines(b"a\nb\n", b"a\nc\n"));
        assert!(!same_lines(b"a\nb\n", b"b\na"));
        assert!(!same_lines(b"a\na\nb\n", b"a\nb\n"), "a repeat is a difference for S3");
        assert!(same_distinct_lines(b"a\nb\na\na\n", b"b\na\n"));
        assert!(!same_distinct_lines(b"a\nb\na\n", b"a\n"));
        assert!(!same_distinct_lines(b"a\na ", b"a\n"));
    }

    #[test]
    fn unneeded_leaf_data_records_move_and_drop_their_line() {
        let mut c = Canonical::default();
        let tracker = b"s3/b/KEYMAP.jsonl";
        c.s3_tracker(tracker);
        assert!(c.moved(b"s3/b/d/o.elastickv-leaf-data").is_none());
        c.leaf_data_unneeded(b"s3/b", tracker, b"d/o.elastickv-leaf-data", b"d/o", 2);
        assert_eq!(c.moved(b"s3/b/d/o.elastickv-leaf-data"), Some(&b"o"[..]));
        assert_eq!(
            c.moved(b"s3/b/d/o.elastickv-leaf-data.elastickv-meta.json"),
            Some(&b"o.elastickv-meta.json"[..])
        );
        assert!(!c.vanishes(tracker));
        let (drop, keep) = (line("d/o.elastickv-leaf-data", "ZC9v"), line("x.elastickv-leaf-data", "eA"));
        let input = format!("{drop}{keep}");
        assert!(c.same_tracker(tracker, input.as_bytes(), keep.as_bytes()));
        assert!(
            !c.same_tracker(tracker, input.as_bytes(), input.as_bytes()),
            "the dropped line is not expected"
        );
        assert!(!c.same_tracker(tracker, drop.as_bytes(), keep.as_bytes()), "the kept line is");
        assert!(!c.same_tracker(tracker, b"{oops\n", b""));
        c.leaf_data_unneeded(b"s3/b", tracker, b"x.elastickv-leaf-data", b"x", 2);
        assert!(c.vanishes(tracker));
        assert!(c.same_tracker(tracker, input.as_bytes(), b""));
        assert!(is_leaf_data_of(b"a/b.elastickv-leaf-data", b"a/b"));
        assert!(!is_leaf_data_of(b"a/c.elastickv-leaf-data", b"a/b"));
        assert!(!is_leaf_data_of(b"a/b", b"a/b"));
    }
}
