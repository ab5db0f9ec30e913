//! `fsmfs diff OLD NEW`: the files added, removed and changed between two
//! snapshots' trees, found from their two indexes without extracting.
//!
//! Both trees keep each directory's children sorted by name, so one merge
//! walk pairs every path in O(files). A pair of files is settled the
//! cheapest sound way (docs/cli.md, "diff"):
//! 1. both produced from one record of the same kind whose stored bytes
//!    (key and value) are equal: unchanged, as rendering is a pure
//!    function of those bytes and the decode options, which both sides
//!    share. Commit times are not used: two snapshots (of two clusters, or
//!    crafted) can hold different bytes under one key at one commit time.
//! 2. otherwise generated files are rendered and compared, streamed ones
//!    (S3 bodies, Redis values, aggregates) compared by size and then
//!    chunk by chunk.
//!
//! `MANIFEST.json` and `CHECKSUMS` at the root are left out: the first
//! describes the snapshot file (name, commit time), the second follows
//! from every other file.

use std::io::{self, Write};

use crate::container::entry_at;
use crate::index::{Index, ViewError};
use crate::tree::{NodeId, View};

/// How one path differs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Added,
    Removed,
    Modified,
}

impl Kind {
    /// The letter git's `--name-status` uses.
    pub fn letter(self) -> char {
        match self {
            Kind::Added => 'A',
            Kind::Removed => 'D',
            Kind::Modified => 'M',
        }
    }
}

/// One differing file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Change {
    pub kind: Kind,
    pub path: String,
}

const CHUNK: usize = 1 << 20;

struct Walk<'a> {
    old: &'a Index,
    new: &'a Index,
    out: Vec<Change>,
    seen: u64,
    progress: &'a dyn Fn(u64),
    bufs: (Vec<u8>, Vec<u8>),
}

/// Every differing file of the two trees, in tree order (each directory's
/// entries by name, a directory's files before what follows it).
pub fn compare(old: &Index, new: &Index, progress: &dyn Fn(u64)) -> Result<Vec<Change>, ViewError> {
    let mut w = Walk { old, new, out: Vec::new(), seen: 0, progress, bufs: (Vec::new(), Vec::new()) };
    w.dirs(0, 0)?;
    (w.progress)(w.seen);
    Ok(w.out)
}

/// Nodes to walk in both trees (for a progress bar's total).
pub fn work(old: &Index, new: &Index) -> u64 {
    (old.tree.len() + new.tree.len()) as u64
}

impl Walk<'_> {
    fn tick(&mut self, n: u64) {
        self.seen += n;
        if self.seen % 4096 < n {
            (self.progress)(self.seen);
        }
    }

    fn skipped(index: &Index, id: NodeId) -> bool {
        id == index.manifest_node || id == index.checksums_node
    }

    fn dirs(&mut self, a: NodeId, b: NodeId) -> Result<(), ViewError> {
        let (ra, rb) = (self.old.tree.children(a), self.new.tree.children(b));
        let (mut i, mut j) = (ra.start, rb.start);
        while i < ra.end || j < rb.end {
            let ord = match (i < ra.end, j < rb.end) {
                (true, true) => self.old.tree.name(i).cmp(self.new.tree.name(j)),
                (true, false) => std::cmp::Ordering::Less,
                _ => std::cmp::Ordering::Greater,
            };
            match ord {
                std::cmp::Ordering::Less => {
                    self.one_side(true, i);
                    i += 1;
                }
                std::cmp::Ordering::Greater => {
                    self.one_side(false, j);
                    j += 1;
                }
                std::cmp::Ordering::Equal => {
                    self.pair(i, j)?;
                    i += 1;
                    j += 1;
                }
            }
        }
        Ok(())
    }

    /// A node only one tree has: every file under it is added or removed.
    fn one_side(&mut self, in_old: bool, id: NodeId) {
        let (index, kind) = if in_old { (self.old, Kind::Removed) } else { (self.new, Kind::Added) };
        self.tick(1);
        if Self::skipped(index, id) {
            return;
        }
        if index.tree.is_dir(id) {
            for c in index.tree.children(id) {
                self.one_side(in_old, c);
            }
        } else {
            self.out.push(Change { kind, path: String::from_utf8_lossy(&index.tree.path(id)).into_owned() });
        }
    }

    fn pair(&mut self, a: NodeId, b: NodeId) -> Result<(), ViewError> {
        let (dir_a, dir_b) = (self.old.tree.is_dir(a), self.new.tree.is_dir(b));
        if dir_a && dir_b {
            self.tick(2);
            return self.dirs(a, b);
        }
        if dir_a != dir_b {
            // A directory became a file or the reverse: both sides listed.
            self.one_side(true, a);
            self.one_side(false, b);
            return Ok(());
        }
        self.tick(2);
        if Self::skipped(self.old, a) || Self::skipped(self.new, b) {
            return Ok(());
        }
        if !self.same_file(a, b)? {
            let path = String::from_utf8_lossy(&self.old.tree.path(a)).into_owned();
            self.out.push(Change { kind: Kind::Modified, path });
        }
        Ok(())
    }

    fn same_file(&mut self, a: NodeId, b: NodeId) -> Result<bool, ViewError> {
        let (old, new) = (self.old, self.new);
        if let Some(same) = same_record(old, a, new, b) {
            if same {
                return Ok(true);
            }
        }
        if old.is_streamed(a) && new.is_streamed(b) {
            if old.size(a)? != new.size(b)? {
                return Ok(false);
            }
            return self.same_stream(a, b);
        }
        Ok(render(old, a)? == render(new, b)?)
    }

    /// Compares two equal-sized streamed files a chunk at a time.
    fn same_stream(&mut self, a: NodeId, b: NodeId) -> Result<bool, ViewError> {
        let (ba, bb) = &mut self.bufs;
        ba.resize(CHUNK, 0);
        bb.resize(CHUNK, 0);
        let mut off = 0u64;
        loop {
            let na = self.old.read(a, off, ba)?;
            let nb = self.new.read(b, off, bb)?;
            if na != nb || ba[..na] != bb[..nb] {
                return Ok(false);
            }
            if na == 0 {
                return Ok(true);
            }
            off += na as u64;
        }
    }
}

/// Whole bytes of a file, rendered or read.
fn render(index: &Index, id: NodeId) -> Result<Vec<u8>, ViewError> {
    if index.is_streamed(id) {
        let mut out = vec![0u8; index.size(id)? as usize];
        let mut off = 0;
        while off < out.len() {
            let n = index.read(id, off as u64, &mut out[off..])?;
            if n == 0 {
                out.truncate(off);
                break;
            }
            off += n;
        }
        return Ok(out);
    }
    index.render(id)
}

/// For two files each produced from one record by the same view: whether
/// the records' stored key and value are equal. `None` when either file is
/// not such a view (aggregates, S3 bodies, statics).
fn same_record(old: &Index, a: NodeId, new: &Index, b: NodeId) -> Option<bool> {
    let off = |v: View| match v {
        View::DdbSchema(o)
        | View::DdbItem(o)
        | View::S3Bucket(o)
        | View::S3Sidecar(o)
        | View::RawBody(o)
        | View::RedisBlob(o)
        | View::SqsQueue(o) => Some(o),
        _ => None,
    };
    let (va, vb) = (old.tree.node(a).view(), new.tree.node(b).view());
    if std::mem::discriminant(&va) != std::mem::discriminant(&vb) {
        return None;
    }
    let ea = entry_at(old.data(), off(va)?)?;
    let eb = entry_at(new.data(), off(vb)?)?;
    Some(ea.user_key == eb.user_key && ea.body == eb.body)
}

/// Added, removed and changed files under one group (`dynamodb/<table>`,
/// `s3/<bucket>`, `redis/db_N`, `sqs/<queue>`, or a top-level file).
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct GroupStat {
    pub group: String,
    pub added: u64,
    pub removed: u64,
    pub modified: u64,
}

/// The group of a path: its first two components (one for a top-level file).
pub fn group_of(path: &str) -> &str {
    match path.match_indices('/').nth(1) {
        Some((i, _)) => &path[..i],
        None => path.rsplit_once('/').map_or(path, |(dir, _)| dir),
    }
}

/// Per-group counts, groups sorted by name.
pub fn stat(changes: &[Change]) -> Vec<GroupStat> {
    let mut map: std::collections::BTreeMap<&str, GroupStat> = Default::default();
    for c in changes {
        let g = group_of(&c.path);
        let s = map.entry(g).or_insert_with(|| GroupStat { group: g.to_string(), ..Default::default() });
        match c.kind {
            Kind::Added => s.added += 1,
            Kind::Removed => s.removed += 1,
            Kind::Modified => s.modified += 1,
        }
    }
    map.into_values().collect()
}

/// Writes the result: `A|D|M<TAB>path` lines, the `--stat` table, or JSON.
pub fn write(out: &mut impl Write, changes: &[Change], stat_only: bool, json: bool) -> io::Result<()> {
    if json {
        let groups: Vec<serde_json::Value> = stat(changes)
            .iter()
            .map(|g| {
                serde_json::json!({
                    "group": g.group, "added": g.added, "removed": g.removed, "modified": g.modified,
                })
            })
            .collect();
        let mut v = serde_json::json!({ "different": !changes.is_empty(), "stat": groups });
        if !stat_only {
            v["changes"] = changes
                .iter()
                .map(|c| serde_json::json!({"status": c.kind.letter().to_string(), "path": c.path}))
                .collect();
        }
        serde_json::to_writer_pretty(&mut *out, &v)?;
        return writeln!(out);
    }
    if stat_only {
        let groups = stat(changes);
        let (mut a, mut d, mut m) = (0, 0, 0);
        for g in &groups {
            writeln!(out, "{:<48} +{} -{} ~{}", g.group, g.added, g.removed, g.modified)?;
            (a, d, m) = (a + g.added, d + g.removed, m + g.modified);
        }
        if !groups.is_empty() {
            writeln!(out, "{} groups changed: {a} added, {d} removed, {m} modified", groups.len())?;
        }
        return Ok(());
    }
    for c in changes {
        writeln!(out, "{}\t{}", c.kind.letter(), c.path)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn groups_are_the_first_two_components() {
        assert_eq!(group_of("dynamodb/t/items/a.json"), "dynamodb/t");
        assert_eq!(group_of("s3/b/k"), "s3/b");
        assert_eq!(group_of("redis/db_0"), "redis");
        assert_eq!(group_of("KEYMAP.jsonl"), "KEYMAP.jsonl");
    }
}
