//! The self-test (`pack.md` §3.4, in process as §3.8 suggests): index the
//! payload just written with fsmfs's own decoder and compare the tree it
//! shows with the input tree, file by file, for the selected adapters.
//!
//! Like upstream, only regular files are compared (by relative path, size,
//! then streamed bytes), `MANIFEST.json`/`CHECKSUMS` and everything outside
//! the adapter directories are not, and the report lists the differing
//! paths sorted per adapter, cut after 64. One deliberate difference: the
//! decoded tree is compared with the *canonical form* of the input
//! (`canonical`, `pack.md` §11.2) — what the decode of a payload writes
//! differently from a tree a decoder wrote from a live node although the
//! data is the same — so every tree a decoder writes passes, and any other
//! difference still fails.

use std::collections::BinaryHeap;
use std::fs::File;
use std::io::Read;
use std::path::Path;
use std::sync::Arc;

use super::PackError;
use crate::adapters::canonical::{same_distinct_lines, Canonical};
use crate::adapters::route::Adapter;
use crate::dumptree::fsio::{read_all, Dir, Kind, HELD_LEVELS};
use crate::dumptree::par::{with_pipeline, Job, Pipeline};
use crate::index::ViewError;
use crate::index::{DecodeOptions, Index};
use crate::tree::{NodeId, View, SIZE_UNKNOWN};

/// At most this many differing paths are listed.
const MAX_PATHS: usize = 64;
/// Drop the mapping's pages from this process after reading this many
/// bytes through it, so the self-test's RSS does not grow with the payload.
const UNMAP_EVERY: u64 = 64 << 20;

pub(super) struct Input<'a> {
    pub tree: &'a Dir,
    pub adapters: &'a [Adapter],
    pub(crate) decode: DecodeOptions,
    pub(crate) commit_ts: u64,
    /// What the decode writes differently from the input.
    pub(crate) canonical: &'a Canonical,
    pub(crate) progress: indicatif::ProgressBar,
}

/// `Ok(None)`: the trees match; `Ok(Some(report))`: the mismatch report.
/// `Err` is a failure of the test itself (reading the input), exit 1.
pub(super) fn run(payload: &Path, input: &Input<'_>) -> Result<Option<Vec<u8>>, PackError> {
    let rejected = |e: &dyn std::fmt::Display| {
        Some(format!("self-test failed: DecodeSnapshot rejected the produced .fsm: {e}").into_bytes())
    };
    let pb = &input.progress;
    let index = match Index::open(payload, input.decode.clone(), &mut |p| pb.set_position(p)) {
        Ok(i) => i,
        Err(e) => return Ok(rejected(&e)),
    };
    if let Some(e) = index.deferred.first() {
        return Ok(rejected(e));
    }
    let got = index.layout.last_commit_ts;
    if got != input.commit_ts {
        return Ok(Some(
            format!("self-test failed: header.LastCommitTS mismatch (want {}, got {got})\n", input.commit_ts)
                .into_bytes(),
        ));
    }
    let mut c = Compare {
        index: &index,
        canonical: input.canonical,
        seen: vec![false; index.tree.len()],
        diff: Diff::default(),
        since_unmap: 0,
        rejected: None,
        files: 0,
        progress: pb,
    };
    // Building the index mapped the payload's page-cache pages into this
    // process (the kernel maps whole large folios on a fault, so even a
    // scan of entry headers maps nearly every page); they are clean and
    // shared, but count as RSS: drop them, and again as the comparison
    // reads through the mapping.
    c.unmap();
    let canonical = input.canonical;
    let mut lines: Vec<Vec<u8>> = Vec::new();
    let rejection = with_pipeline(
        |d, job: &Job<NodeId>| compare_file(&index, canonical, d, &job.name, job.extra, &job.rel),
        |p| {
            for a in Adapter::ALL.iter().filter(|a| input.adapters.contains(a)) {
                let name = a.name().as_bytes();
                let dir = match input.tree.kind(name).map_err(|e| io_err(name, e))? {
                    Some(Kind::Dir) => {
                        Some(Arc::new(input.tree.open_dir(name).map_err(|e| io_err(name, e))?))
                    }
                    _ => None,
                };
                let node = index.tree.lookup(crate::tree::Tree::ROOT, name).filter(|&n| index.tree.is_dir(n));
                let before = lines.len();
                c.diff = Diff { keep: MAX_PATHS - before, ..Diff::default() };
                c.dir(dir, node, &mut name.to_vec(), 0, p)?;
                p.finish(&mut |job, r| c.record(job, r))?;
                if let Some(e) = c.rejected.take() {
                    return Ok(Some(e));
                }
                let count = c.diff.count;
                lines.extend(std::mem::take(&mut c.diff.heap).into_sorted_vec());
                // Upstream cuts after the adapter whose lines bring the total to 64.
                if before + count >= MAX_PATHS {
                    lines.truncate(MAX_PATHS);
                    lines.push(format!("... (truncated; first {MAX_PATHS} paths shown)").into_bytes());
                    break;
                }
            }
            Ok(None)
        },
    )?;
    if let Some(e) = rejection {
        return Ok(rejected(&e));
    }
    c.unmap();
    if lines.is_empty() {
        return Ok(None);
    }
    let mut report = Vec::new();
    for l in lines {
        report.extend_from_slice(&l);
        report.push(b'\n');
    }
    Ok(Some(report))
}

/// `madvise(MADV_DONTNEED)` on the first `len` bytes (whole pages) of the
/// mapping at `base`: advisory on a read-only file mapping; later reads
/// fault the same page-cache pages back in.
fn drop_pages(base: usize, len: usize) {
    let len = len & !4095;
    if len > 0 {
        // SAFETY: see above; the range lies inside a live mapping.
        unsafe { libc::madvise(base as *mut libc::c_void, len, libc::MADV_DONTNEED) };
    }
}

fn io_err(path: &[u8], e: impl std::fmt::Display) -> PackError {
    PackError::usage(format!("self-test: reading {}: {e}", crate::errpath::shown(path)))
}

/// The smallest `keep` lines of one adapter, plus how many there were.
#[derive(Default)]
struct Diff {
    heap: BinaryHeap<Vec<u8>>,
    count: usize,
    keep: usize,
}

impl Diff {
    fn push(&mut self, path: &[u8], why: &str) {
        self.count += 1;
        let line = [path, b" (", why.as_bytes(), b")"].concat();
        if self.heap.len() < self.keep {
            self.heap.push(line);
        } else if self.heap.peek().is_some_and(|top| line < *top) {
            self.heap.pop();
            self.heap.push(line);
        }
    }
}

struct Compare<'a> {
    index: &'a Index,
    canonical: &'a Canonical,
    seen: Vec<bool>,
    diff: Diff,
    since_unmap: u64,
    /// A file the decoder could not render: the decode as a whole fails.
    rejected: Option<ViewError>,
    files: u64,
    progress: &'a indicatif::ProgressBar,
}

/// The outcome of comparing one file, and the bytes read through the
/// mapping to get it.
type Compared = (Verdict, u64);

enum Verdict {
    Equal,
    Differ,
    /// The decoder could not produce the file.
    Rejected(ViewError),
}

impl Compare<'_> {
    /// Compares input directory `dir` (absent: nothing there) with index
    /// directory `node` (absent: nothing decoded there); `rel` is the path
    /// of both, from the tree root, `depth` its level below the adapter
    /// directory. File pairs go to the pipeline; subdirectories are
    /// compared after the listing is closed, so descriptors stay bounded
    /// (`fsio` module docs). Returns the handle of `dir` (reopened below
    /// `HELD_LEVELS`).
    fn dir(
        &mut self,
        dir: Option<Arc<Dir>>,
        node: Option<NodeId>,
        rel: &mut Vec<u8>,
        depth: usize,
        p: &mut Pipeline<NodeId, Compared>,
    ) -> Result<Option<Arc<Dir>>, PackError> {
        let index: &Index = self.index;
        let tree = &index.tree;
        let Some(d) = dir else {
            self.index_only(node, rel, depth, p)?;
            return Ok(None);
        };
        // Input subdirectories, with the index node of the same name.
        let mut subdirs: Vec<(Vec<u8>, Option<NodeId>)> = Vec::new();
        let mut at = None;
        for e in d.entries().map_err(|e| io_err(rel, e))? {
            let e = e.map_err(|e| io_err(rel, e))?;
            let len = rel.len();
            rel.push(b'/');
            rel.extend_from_slice(&e.name);
            // The decode may give this file another name (§11.2).
            let moved = if e.kind == Kind::File { self.canonical.moved(rel) } else { None };
            let child = node.and_then(|n| tree.lookup(n, moved.unwrap_or(&e.name)));
            if let Some(c) = child {
                self.seen[c as usize] = true;
            }
            let child_dir = child.filter(|&c| tree.is_dir(c));
            let child_file = child.filter(|&c| !tree.is_dir(c));
            match e.kind {
                Kind::Dir => {
                    if child_file.is_some() {
                        self.diff.push(rel, "missing in input");
                    }
                    subdirs.push((e.name, child_dir));
                }
                Kind::File => match (child_file, child_dir) {
                    (Some(c), _) => {
                        let i = *at.get_or_insert_with(|| p.add_dir(d.clone()));
                        let known = tree.node(c).stored_size();
                        let bytes = if known == SIZE_UNKNOWN { 0 } else { known };
                        if p.push(i, e.name, rel.clone(), c, bytes) {
                            p.submit(&mut |job, r| self.record(job, r))?;
                            at = None;
                        }
                    }
                    (None, Some(c)) => {
                        self.diff.push(rel, "missing in scratch");
                        self.dir(None, Some(c), rel, depth + 1, p)?;
                    }
                    (None, None) if self.canonical.vanishes(rel) => {}
                    (None, None) => self.diff.push(rel, "missing in scratch"),
                },
                // Not compared (upstream compares regular files only).
                _ => match (child_file, child_dir) {
                    (Some(_), _) => self.diff.push(rel, "missing in input"),
                    (None, Some(c)) => {
                        self.dir(None, Some(c), rel, depth + 1, p)?;
                    }
                    (None, None) => {}
                },
            }
            rel.truncate(len);
            if self.rejected.is_some() {
                break;
            }
        }
        if self.rejected.is_some() {
            return Ok(Some(d));
        }
        let reopen = depth >= HELD_LEVELS && !subdirs.is_empty();
        let id = if reopen { Some(d.identity().map_err(|e| io_err(rel, e))?) } else { None };
        let mut d = d;
        for (name, child_dir) in subdirs {
            let len = rel.len();
            rel.push(b'/');
            rel.extend_from_slice(&name);
            let sub = Arc::new(d.open_dir(&name).map_err(|err| io_err(rel, err))?);
            match id {
                None => {
                    self.dir(Some(sub), child_dir, rel, depth + 1, p)?;
                }
                Some(id) => {
                    drop(d);
                    let back = self.dir(Some(sub), child_dir, rel, depth + 1, p)?.expect("input dir given");
                    rel.truncate(len);
                    d = Arc::new(back.open_parent(id).map_err(|e| io_err(rel, e))?);
                }
            }
            rel.truncate(len);
            if self.rejected.is_some() {
                return Ok(Some(d));
            }
        }
        self.index_only(node, rel, depth, p)?;
        Ok(Some(d))
    }

    /// The children of index directory `node` the input listing did not
    /// show: missing in the input.
    fn index_only(
        &mut self,
        node: Option<NodeId>,
        rel: &mut Vec<u8>,
        depth: usize,
        p: &mut Pipeline<NodeId, Compared>,
    ) -> Result<(), PackError> {
        let Some(n) = node else { return Ok(()) };
        let index: &Index = self.index;
        let tree = &index.tree;
        for c in tree.children(n) {
            if std::mem::replace(&mut self.seen[c as usize], true) {
                continue;
            }
            let len = rel.len();
            rel.push(b'/');
            rel.extend_from_slice(tree.name(c));
            if tree.is_dir(c) {
                self.dir(None, Some(c), rel, depth + 1, p)?;
            } else {
                self.diff.push(rel, "missing in input");
            }
            rel.truncate(len);
        }
        Ok(())
    }

    /// Applies one file's comparison (in walk order).
    fn record(&mut self, job: &Job<NodeId>, (verdict, touched): Compared) -> Result<(), PackError> {
        self.files += 1;
        if self.files % 4096 == 0 {
            self.progress.set_position(self.files);
        }
        match verdict {
            Verdict::Equal => {}
            Verdict::Differ => self.diff.push(&job.rel, "bytes differ"),
            Verdict::Rejected(e) => {
                self.rejected.get_or_insert(e);
            }
        }
        self.since_unmap += touched;
        if self.since_unmap >= UNMAP_EVERY {
            self.unmap();
        }
        Ok(())
    }

    /// Drops this process's page-table entries for the mapping (the pages
    /// stay in the page cache): files read through the mapping would
    /// otherwise count towards RSS up to the payload size.
    fn unmap(&mut self) {
        self.since_unmap = 0;
        let data = self.index.data();
        if !data.is_empty() {
            drop_pages(data.as_ptr() as usize, data.len());
        }
    }
}

/// Compares input file `name` in `d` with index file `node`; also returns
/// how many bytes were read through the mapping.
fn compare_file(
    index: &Index,
    canonical: &Canonical,
    d: &Dir,
    name: &[u8],
    node: NodeId,
    rel: &[u8],
) -> Result<(Verdict, u64), PackError> {
    let (mut f, id) = d.open_listed_file(name).map_err(|e| io_err(rel, e))?;
    if matches!(index.tree.node(node).view(), View::S3Body(_) | View::RawBody(_)) {
        let size = match index.size(node) {
            Ok(s) => s,
            Err(e) => return Ok((Verdict::Rejected(e), 0)),
        };
        if size != id.size {
            return Ok((Verdict::Differ, 0));
        }
        return Ok((stream_equal(index, &mut f, node, size, rel)?, size));
    }
    // Generated and small files: render once, compare.
    let want = match index.render(node) {
        Ok(b) => b,
        Err(e) => return Ok((Verdict::Rejected(e), 0)),
    };
    let touched = want.len() as u64;
    let rule = Rule::of(rel, canonical);
    if touched != id.size && rule == Rule::Bytes {
        return Ok((Verdict::Differ, touched));
    }
    let have = read_all(f, id, id.size).map_err(|e| io_err(rel, e))?;
    if have == want || rule.same(canonical, rel, &have, &want) {
        return Ok((Verdict::Equal, touched));
    }
    Ok((Verdict::Differ, touched))
}

/// How an input file whose bytes differ from its decoded counterpart may
/// still be the same file in canonical form (see `canonical`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Rule {
    /// Byte for byte: everything not listed below.
    Bytes,
    /// An S3 rename tracker: the same lines in any order, less those of
    /// renames the decode no longer makes.
    S3Tracker,
    /// Redis's tracker: the same distinct lines.
    RedisKeymap,
    /// Other Redis files: the same records (`redis::same_data`).
    Redis,
    /// SQS messages: the same messages (`sqs::same_data`).
    Sqs,
}

impl Rule {
    fn of(rel: &[u8], canonical: &Canonical) -> Rule {
        if rel == crate::adapters::redis::pack::KEYMAP_PATH {
            Rule::RedisKeymap
        } else if canonical.is_s3_tracker(rel) {
            Rule::S3Tracker
        } else if rel.starts_with(b"redis/") {
            Rule::Redis
        } else if rel.starts_with(b"sqs/") {
            Rule::Sqs
        } else {
            Rule::Bytes
        }
    }

    /// `input` and `decoded` differ in bytes: are they the same data?
    fn same(self, canonical: &Canonical, rel: &[u8], input: &[u8], decoded: &[u8]) -> bool {
        match self {
            Rule::Bytes => false,
            Rule::S3Tracker => canonical.same_tracker(rel, input, decoded),
            Rule::RedisKeymap => same_distinct_lines(input, decoded),
            Rule::Redis => crate::adapters::redis::pack::same_data(rel, input, decoded),
            Rule::Sqs => crate::adapters::sqs::pack::same_data(rel, input, decoded),
        }
    }
}

fn stream_equal(
    index: &Index,
    f: &mut File,
    node: NodeId,
    size: u64,
    rel: &[u8],
) -> Result<Verdict, PackError> {
    const CHUNK: usize = 1 << 20;
    let mut a = vec![0u8; CHUNK.min(size as usize)];
    let mut b = vec![0u8; a.len()];
    let mut off = 0u64;
    while off < size {
        let want = ((size - off) as usize).min(CHUNK);
        let n = match index.read(node, off, &mut a[..want]) {
            Ok(n) => n,
            Err(e) => return Ok(Verdict::Rejected(e)),
        };
        if n == 0 {
            return Ok(Verdict::Differ);
        }
        f.read_exact(&mut b[..n]).map_err(|e| io_err(rel, e))?;
        if a[..n] != b[..n] {
            return Ok(Verdict::Differ);
        }
        off += n as u64;
    }
    Ok(Verdict::Equal)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rules_by_path() {
        let mut c = Canonical::default();
        c.s3_tracker(b"s3/b/KEYMAP.jsonl");
        let km = crate::adapters::redis::pack::KEYMAP_PATH;
        assert_eq!(Rule::of(km, &c), Rule::RedisKeymap);
        assert!(Rule::RedisKeymap.same(&c, km, b"a\nb\na\n", b"b\na\n"));
        assert_eq!(Rule::of(b"s3/b/KEYMAP.jsonl", &c), Rule::S3Tracker);
        assert!(Rule::S3Tracker.same(&c, b"s3/b/KEYMAP.jsonl", b"a\nb\n", b"b\na\n"));
        // An S3 file that is not a tracker, and DynamoDB, match by bytes only.
        assert_eq!(Rule::of(b"s3/c/KEYMAP.jsonl", &c), Rule::Bytes);
        assert_eq!(Rule::of(b"dynamodb/t/_schema.json", &c), Rule::Bytes);
        assert!(!Rule::Bytes.same(&c, b"dynamodb/t/_schema.json", b"a\nb\n", b"b\na\n"));
        assert_eq!(Rule::of(b"redis/db_0/strings_ttl.jsonl", &c), Rule::Redis);
        assert_eq!(Rule::of(b"sqs/q/messages.jsonl", &c), Rule::Sqs);
    }
}
