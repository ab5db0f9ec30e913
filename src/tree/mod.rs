//! The tree index: every directory and file of the dump tree in one flat
//! array (`inode = position + 1`), each directory's children a contiguous,
//! name-sorted slice of it, so lookup is a binary search and a readdir
//! offset is simply a position. File contents are not here: a file node
//! carries a [`View`], a few bytes that say how to produce its content from
//! the snapshot mapping.

mod builder;
pub(crate) mod meta;
mod node;

pub(crate) use builder::{DirId, TreeBuilder, TreeError, NAME_MAX};
pub(crate) use node::{Node, NodeId, View, SIZE_UNKNOWN};

use std::ops::Range;

/// The finished, immutable tree.
pub struct Tree {
    nodes: Vec<Node>,
    names: Vec<u8>,
}

impl Tree {
    pub(crate) const ROOT: NodeId = 0;

    pub(crate) fn len(&self) -> usize {
        self.nodes.len()
    }

    pub(crate) fn node(&self, id: NodeId) -> &Node {
        &self.nodes[id as usize]
    }

    pub(crate) fn get(&self, id: NodeId) -> Option<&Node> {
        self.nodes.get(id as usize)
    }

    pub fn name(&self, id: NodeId) -> &[u8] {
        let (off, len) = self.nodes[id as usize].name_range();
        &self.names[off..off + len]
    }

    pub(crate) fn parent(&self, id: NodeId) -> NodeId {
        self.nodes[id as usize].parent
    }

    /// Child node ids of a directory (empty for files).
    pub(crate) fn children(&self, id: NodeId) -> Range<NodeId> {
        match self.nodes[id as usize].view() {
            View::Dir { first, count } => first..first + count,
            _ => 0..0,
        }
    }

    pub(crate) fn is_dir(&self, id: NodeId) -> bool {
        matches!(self.nodes[id as usize].view(), View::Dir { .. })
    }

    /// Finds `name` in directory `dir` by binary search.
    pub(crate) fn lookup(&self, dir: NodeId, name: &[u8]) -> Option<NodeId> {
        let r = self.children(dir);
        let (mut lo, mut hi) = (r.start, r.end);
        while lo < hi {
            let mid = lo + (hi - lo) / 2;
            match self.name(mid).cmp(name) {
                std::cmp::Ordering::Less => lo = mid + 1,
                std::cmp::Ordering::Greater => hi = mid,
                std::cmp::Ordering::Equal => return Some(mid),
            }
        }
        None
    }

    /// Resolves a `/`-separated relative path (empty = root).
    pub fn resolve(&self, path: &[u8]) -> Option<NodeId> {
        let mut at = Self::ROOT;
        for comp in path.split(|&b| b == b'/').filter(|c| !c.is_empty() && *c != b".") {
            at = self.lookup(at, comp)?;
        }
        Some(at)
    }

    /// The path of a node relative to the root, `/`-separated.
    pub fn path(&self, id: NodeId) -> Vec<u8> {
        let mut parts = Vec::new();
        let mut at = id;
        while at != Self::ROOT {
            parts.push(at);
            at = self.parent(at);
        }
        let mut out = Vec::new();
        for (i, p) in parts.iter().rev().enumerate() {
            if i > 0 {
                out.push(b'/');
            }
            out.extend_from_slice(self.name(*p));
        }
        out
    }

    /// Number of subdirectories of a directory (for `st_nlink`).
    pub(crate) fn subdir_count(&self, id: NodeId) -> u64 {
        self.nodes[id as usize].stored_size()
    }

    /// All file nodes, in tree order.
    pub fn files(&self) -> impl Iterator<Item = NodeId> + '_ {
        (0..self.nodes.len() as NodeId).filter(|&i| !self.is_dir(i))
    }

    /// Heap bytes held by the index structures themselves.
    pub(crate) fn heap_bytes(&self) -> usize {
        self.nodes.capacity() * std::mem::size_of::<Node>() + self.names.capacity()
    }
}
