//! Collects directories and files in any order, then lays them out
//! breadth-first so every directory's children are contiguous and sorted.

use std::cmp::Ordering;

use super::node::{Node, NodeId, View};
use super::Tree;

/// Longest file name the kernel accepts (`NAME_MAX`).
pub(crate) const NAME_MAX: usize = 255;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TreeError {
    /// Two producers want the same path, or a path is both file and dir.
    #[error("path conflict at {path}: {detail}")]
    Conflict { path: String, detail: &'static str },
    #[error("file name of {len} bytes exceeds NAME_MAX ({max}) at {path}", max = NAME_MAX)]
    NameTooLong { path: String, len: usize },
    #[error("unusable file name at {path}")]
    BadName { path: String },
}

/// A directory being built; index 0 is the root.
pub(crate) type DirId = u32;

struct PendingDir {
    parent: DirId,
    name_off: usize,
    name_len: u16,
}

struct PendingFile {
    dir: DirId,
    name_off: usize,
    name_len: u16,
    view: View,
    size: u64,
    rank: u64,
}

/// Duplicate files with rank 0 are an error; otherwise the highest rank
/// keeps the path (used where upstream lets the last writer win).
pub(crate) const RANK_EXCLUSIVE: u64 = 0;

#[derive(Default)]
pub(crate) struct TreeBuilder {
    names: Vec<u8>,
    dirs: Vec<PendingDir>,
    files: Vec<PendingFile>,
    /// Open-addressing table of dir ids keyed by (parent, name).
    slots: Vec<u32>,
}

const EMPTY_SLOT: u32 = u32::MAX;

fn hash_dir(parent: DirId, name: &[u8]) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325 ^ u64::from(parent);
    for &b in name {
        h = (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3);
    }
    h ^ (h >> 32)
}

impl TreeBuilder {
    pub(crate) fn new() -> Self {
        let mut b = TreeBuilder { slots: vec![EMPTY_SLOT; 64], ..Default::default() };
        b.dirs.push(PendingDir { parent: 0, name_off: 0, name_len: 0 });
        b
    }

    pub(crate) const ROOT: DirId = 0;

    fn push_name(&mut self, name: &[u8]) -> (usize, u16) {
        let off = self.names.len();
        self.names.extend_from_slice(name);
        (off, name.len() as u16)
    }

    fn dir_name(&self, d: DirId) -> &[u8] {
        let p = &self.dirs[d as usize];
        &self.names[p.name_off..p.name_off + p.name_len as usize]
    }

    fn check_name(&self, parent: DirId, name: &[u8]) -> Result<(), TreeError> {
        if name.is_empty() || name == b"." || name == b".." || name.contains(&b'/') || name.contains(&0) {
            return Err(TreeError::BadName { path: self.display_path(parent, name) });
        }
        if name.len() > NAME_MAX {
            return Err(TreeError::NameTooLong { path: self.display_path(parent, name), len: name.len() });
        }
        Ok(())
    }

    /// The directory `name` inside `parent`, created on first use.
    pub(crate) fn dir(&mut self, parent: DirId, name: &[u8]) -> Result<DirId, TreeError> {
        let mask = self.slots.len() - 1;
        let mut i = hash_dir(parent, name) as usize & mask;
        loop {
            let s = self.slots[i];
            if s == EMPTY_SLOT {
                break;
            }
            if self.dirs[s as usize].parent == parent && self.dir_name(s) == name {
                return Ok(s);
            }
            i = (i + 1) & mask;
        }
        self.check_name(parent, name)?;
        let id = self.dirs.len() as DirId;
        let (name_off, name_len) = self.push_name(name);
        self.dirs.push(PendingDir { parent, name_off, name_len });
        self.slots[i] = id;
        if self.dirs.len() * 2 > self.slots.len() {
            self.grow();
        }
        Ok(id)
    }

    fn grow(&mut self) {
        let cap = self.slots.len() * 2;
        self.slots = vec![EMPTY_SLOT; cap];
        for id in 1..self.dirs.len() as u32 {
            let mut i = hash_dir(self.dirs[id as usize].parent, self.dir_name(id)) as usize & (cap - 1);
            while self.slots[i] != EMPTY_SLOT {
                i = (i + 1) & (cap - 1);
            }
            self.slots[i] = id;
        }
    }

    /// Creates every directory of a `/`-separated relative path.
    pub(crate) fn dir_path(&mut self, parent: DirId, path: &[u8]) -> Result<DirId, TreeError> {
        let mut at = parent;
        for comp in path.split(|&b| b == b'/') {
            at = self.dir(at, comp)?;
        }
        Ok(at)
    }

    /// Adds a file. `size` may be [`super::SIZE_UNKNOWN`].
    pub(crate) fn file(
        &mut self,
        dir: DirId,
        name: &[u8],
        view: View,
        size: u64,
        rank: u64,
    ) -> Result<(), TreeError> {
        self.check_name(dir, name)?;
        let (name_off, name_len) = self.push_name(name);
        self.files.push(PendingFile { dir, name_off, name_len, view, size, rank });
        Ok(())
    }

    fn display_path(&self, dir: DirId, leaf: &[u8]) -> String {
        let mut parts: Vec<&[u8]> = vec![leaf];
        let mut at = dir;
        while at != Self::ROOT {
            parts.push(self.dir_name(at));
            at = self.dirs[at as usize].parent;
        }
        let joined: Vec<u8> = parts.iter().rev().copied().collect::<Vec<_>>().join(&b'/');
        String::from_utf8_lossy(&joined).into_owned()
    }

    /// Sorts and lays out the tree.
    pub(crate) fn finish(self) -> Result<(Tree, Vec<String>), TreeError> {
        let names = &self.names;
        let name_of = |off: usize, len: u16| &names[off..off + len as usize];
        let prefix = |n: &[u8]| {
            let mut p = [0u8; 16];
            let k = n.len().min(16);
            p[..k].copy_from_slice(&n[..k]);
            u128::from_be_bytes(p)
        };

        // Files ordered by (dir, name); the inline 16-byte prefix keeps most
        // comparisons out of the arena. Producers add files mostly in order,
        // which the run-detecting stable sort turns into near-linear work.
        let mut forder: Vec<(DirId, u128, u32)> = self
            .files
            .iter()
            .enumerate()
            .map(|(i, f)| (f.dir, prefix(name_of(f.name_off, f.name_len)), i as u32))
            .collect();
        let cmp_files = |a: &(DirId, u128, u32), b: &(DirId, u128, u32)| {
            (a.0, a.1).cmp(&(b.0, b.1)).then_with(|| {
                let fa = &self.files[a.2 as usize];
                let fb = &self.files[b.2 as usize];
                name_of(fa.name_off, fa.name_len).cmp(name_of(fb.name_off, fb.name_len))
            })
        };
        forder.sort_by(cmp_files);

        let mut dorder: Vec<(DirId, u128, u32)> = self
            .dirs
            .iter()
            .enumerate()
            .skip(1)
            .map(|(i, d)| (d.parent, prefix(name_of(d.name_off, d.name_len)), i as u32))
            .collect();
        dorder.sort_by(|a, b| {
            (a.0, a.1).cmp(&(b.0, b.1)).then_with(|| {
                let da = &self.dirs[a.2 as usize];
                let db = &self.dirs[b.2 as usize];
                name_of(da.name_off, da.name_len).cmp(name_of(db.name_off, db.name_len))
            })
        });

        let ndirs = self.dirs.len();
        let starts = |keys: &[(DirId, u128, u32)]| {
            let mut s = vec![0u32; ndirs + 1];
            for k in keys {
                s[k.0 as usize + 1] += 1;
            }
            for i in 0..ndirs {
                s[i + 1] += s[i];
            }
            s
        };
        let fstart = starts(&forder);
        let dstart = starts(&dorder);

        let mut nodes: Vec<Node> = Vec::with_capacity(ndirs + self.files.len());
        nodes.push(Node::new(0, 0, 0, View::Dir { first: 0, count: 0 }, 0));
        let mut queue: Vec<(DirId, NodeId)> = vec![(Self::ROOT, 0)];
        let mut replaced = Vec::new();
        // Rank of the file currently holding the last placed name.
        let mut last_rank = RANK_EXCLUSIVE;
        let mut qi = 0;
        while qi < queue.len() {
            let (pd, nid) = queue[qi];
            qi += 1;
            let first = nodes.len() as NodeId;
            let mut fs = fstart[pd as usize] as usize..fstart[pd as usize + 1] as usize;
            let mut ds = dstart[pd as usize] as usize..dstart[pd as usize + 1] as usize;
            let mut subdirs = 0u64;
            loop {
                let fnext = fs.clone().next().map(|i| &self.files[forder[i].2 as usize]);
                let dnext = ds.clone().next().map(|i| &self.dirs[dorder[i].2 as usize]);
                let take_file = match (fnext, dnext) {
                    (None, None) => break,
                    (Some(_), None) => true,
                    (None, Some(_)) => false,
                    (Some(f), Some(d)) => {
                        match name_of(f.name_off, f.name_len).cmp(name_of(d.name_off, d.name_len)) {
                            Ordering::Less => true,
                            Ordering::Greater => false,
                            Ordering::Equal => {
                                return Err(TreeError::Conflict {
                                    path: self.display_path(pd, name_of(f.name_off, f.name_len)),
                                    detail: "needed both as a file and as a directory",
                                })
                            }
                        }
                    }
                };
                if take_file {
                    let i = fs.next().expect("peeked");
                    let f = &self.files[forder[i].2 as usize];
                    let name = name_of(f.name_off, f.name_len);
                    // Same name as the file just placed: keep the higher rank.
                    let last = nodes.len() - 1;
                    if nodes.len() > first as usize && {
                        let (o, l) = nodes[last].name_range();
                        &names[o..o + l] == name
                    } {
                        let prev_rank = last_rank;
                        if f.rank == RANK_EXCLUSIVE || prev_rank == RANK_EXCLUSIVE {
                            return Err(TreeError::Conflict {
                                path: self.display_path(pd, name),
                                detail: "two records produce the same file",
                            });
                        }
                        replaced.push(self.display_path(pd, name));
                        if f.rank > prev_rank {
                            nodes[last] = Node::new(f.name_off, f.name_len as usize, nid, f.view, f.size);
                            last_rank = f.rank;
                        }
                        continue;
                    }
                    nodes.push(Node::new(f.name_off, f.name_len as usize, nid, f.view, f.size));
                    last_rank = f.rank;
                } else {
                    let i = ds.next().expect("peeked");
                    let did = dorder[i].2;
                    let d = &self.dirs[did as usize];
                    queue.push((did, nodes.len() as NodeId));
                    nodes.push(Node::new(
                        d.name_off,
                        d.name_len as usize,
                        nid,
                        View::Dir { first: 0, count: 0 },
                        0,
                    ));
                    subdirs += 1;
                }
            }
            let count = nodes.len() as u32 - first;
            nodes[nid as usize].set_view(View::Dir { first, count });
            nodes[nid as usize].store_size(subdirs);
        }
        nodes.shrink_to_fit();
        let mut names = self.names;
        names.shrink_to_fit();
        Ok((Tree { nodes, names }, replaced))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tree::SIZE_UNKNOWN;

    fn listing(t: &Tree, dir: NodeId) -> Vec<String> {
        t.children(dir).map(|c| String::from_utf8_lossy(t.name(c)).into_owned()).collect()
    }

    #[test]
    fn lays_out_sorted_contiguous_dirs() {
        let mut b = TreeBuilder::new();
        let ddb = b.dir(TreeBuilder::ROOT, b"dynamodb").unwrap();
        let items = b.dir_path(ddb, b"orders/items").unwrap();
        b.file(items, b"b.json", View::DdbItem(2), SIZE_UNKNOWN, 0).unwrap();
        b.file(items, b"a.json", View::DdbItem(1), SIZE_UNKNOWN, 0).unwrap();
        b.file(TreeBuilder::ROOT, b"MANIFEST.json", View::Static(0), 10, 0).unwrap();
        let s3 = b.dir(TreeBuilder::ROOT, b"s3").unwrap();
        let deep = b.dir_path(s3, b"bucket/a/b").unwrap();
        b.file(deep, b"c", View::S3Body(0), 5, 0).unwrap();
        // "a.x" sorts after "a" even though '.' < '/'.
        let bucket = b.dir(s3, b"bucket").unwrap();
        b.file(bucket, b"a.x", View::S3Body(1), 1, 0).unwrap();
        let (t, replaced) = b.finish().unwrap();
        assert!(replaced.is_empty());
        assert_eq!(listing(&t, Tree::ROOT), ["MANIFEST.json", "dynamodb", "s3"]);
        let items = t.resolve(b"dynamodb/orders/items").unwrap();
        assert_eq!(listing(&t, items), ["a.json", "b.json"]);
        assert_eq!(t.node(t.resolve(b"dynamodb/orders/items/a.json").unwrap()).view(), View::DdbItem(1));
        assert_eq!(listing(&t, t.resolve(b"s3/bucket").unwrap()), ["a", "a.x"]);
        let c = t.resolve(b"s3/bucket/a/b/c").unwrap();
        assert_eq!(t.path(c), b"s3/bucket/a/b/c");
        assert_eq!(t.subdir_count(Tree::ROOT), 2);
        assert_eq!(t.subdir_count(items), 0);
        // Parents and children agree everywhere.
        for id in 0..t.len() as NodeId {
            for c in t.children(id) {
                assert_eq!(t.parent(c), id);
            }
        }
    }

    #[test]
    fn conflicts_are_errors_unless_ranked() {
        let mut b = TreeBuilder::new();
        b.file(TreeBuilder::ROOT, b"x", View::Static(0), 1, 0).unwrap();
        b.dir(TreeBuilder::ROOT, b"x").unwrap();
        assert!(matches!(b.finish(), Err(TreeError::Conflict { .. })));

        let mut b = TreeBuilder::new();
        b.file(TreeBuilder::ROOT, b"x", View::Static(0), 1, 0).unwrap();
        b.file(TreeBuilder::ROOT, b"x", View::Static(1), 1, 0).unwrap();
        assert!(matches!(b.finish(), Err(TreeError::Conflict { .. })));

        let mut b = TreeBuilder::new();
        let d = b.dir_path(TreeBuilder::ROOT, b"a/b").unwrap();
        b.file(d, b"x", View::DdbItem(1), 1, 5).unwrap();
        b.file(d, b"x", View::DdbItem(2), 1, 9).unwrap();
        b.file(d, b"x", View::DdbItem(3), 1, 7).unwrap();
        let (t, replaced) = b.finish().unwrap();
        assert_eq!(t.children(t.resolve(b"a/b").unwrap()).len(), 1);
        assert_eq!(t.node(t.resolve(b"a/b/x").unwrap()).view(), View::DdbItem(2));
        assert_eq!(replaced, vec!["a/b/x".to_string(), "a/b/x".to_string()]);
    }

    #[test]
    fn rejects_unusable_names() {
        let mut b = TreeBuilder::new();
        assert!(b.dir(TreeBuilder::ROOT, b"..").is_err());
        assert!(b.file(TreeBuilder::ROOT, b"", View::Static(0), 0, 0).is_err());
        assert!(b.file(TreeBuilder::ROOT, &[b'a'; 256], View::Static(0), 0, 0).is_err());
        assert!(b.file(TreeBuilder::ROOT, &[b'a'; 255], View::Static(0), 0, 0).is_ok());
    }

    #[test]
    fn many_dirs_survive_table_growth() {
        let mut b = TreeBuilder::new();
        for i in 0..5000u32 {
            let d = b.dir(TreeBuilder::ROOT, format!("d{i}").as_bytes()).unwrap();
            b.file(d, b"f", View::Static(i), 0, 0).unwrap();
        }
        for i in 0..5000u32 {
            b.dir(TreeBuilder::ROOT, format!("d{i}").as_bytes()).unwrap();
        }
        let (t, _) = b.finish().unwrap();
        assert_eq!(t.children(Tree::ROOT).len(), 5000);
        assert_eq!(t.len(), 1 + 5000 * 2);
    }
}
