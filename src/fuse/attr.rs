//! What `stat` and `readdir` show for a node: plain functions over the
//! index, so the mount's metadata is testable without a kernel.
//!
//! Part of the FUSE core: it speaks fsmfs's own [`Attr`], [`FileKind`] and
//! [`Ino`], never the FUSE crate's types; `mod.rs` converts them at the
//! edge, so the core is testable without (and does not change with) the
//! FUSE binding.

use std::ffi::OsStr;
use std::os::unix::ffi::OsStrExt;
use std::time::SystemTime;

use crate::index::Index;
use crate::tree::meta::{self, system_time};
use crate::tree::{NodeId, Tree};

/// Ownership and permission bits of the served tree.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Ownership {
    pub(crate) uid: u32,
    pub(crate) gid: u32,
    /// Overrides every file's mode (otherwise as `extract` writes them).
    pub(crate) file_mode: Option<u32>,
    /// Overrides every directory's mode (otherwise 0755).
    pub(crate) dir_mode: Option<u32>,
}

impl Ownership {
    /// Owned by the calling process's real user and group.
    pub(crate) fn current_user() -> Self {
        // SAFETY: getuid/getgid cannot fail and touch no memory.
        let (uid, gid) = unsafe { (libc::getuid(), libc::getgid()) };
        Ownership { uid, gid, file_mode: None, dir_mode: None }
    }
}

/// An inode number as the kernel knows it (node position + 1; 0 is no
/// node).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub(crate) struct Ino(pub u64);

/// The only two kinds of node the tree has.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum FileKind {
    Directory,
    RegularFile,
}

/// What `stat` shows for a node. Access, change and birth times all equal
/// `mtime`; a read-only snapshot has no other times to tell.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Attr {
    pub(crate) ino: Ino,
    pub size: u64,
    /// 512-byte blocks, as `st_blocks` counts them.
    pub(crate) blocks: u64,
    pub(crate) mtime: SystemTime,
    pub(crate) kind: FileKind,
    /// Permission bits only (`mode & 0o7777`).
    pub(crate) perm: u16,
    pub(crate) nlink: u32,
    pub(crate) uid: u32,
    pub(crate) gid: u32,
    pub(crate) blksize: u32,
}

/// `st_blksize`: the page size, what most local file systems report.
const BLKSIZE: u32 = 4096;

pub(crate) fn ino_of(id: NodeId) -> Ino {
    Ino(u64::from(id) + 1)
}

/// The node behind an inode number, if there is one.
pub(crate) fn node_of(index: &Index, ino: Ino) -> Option<NodeId> {
    let id = ino.0.checked_sub(1)?;
    let id = NodeId::try_from(id).ok()?;
    index.tree.get(id).map(|_| id)
}

pub(crate) fn kind_of(tree: &Tree, id: NodeId) -> FileKind {
    if tree.is_dir(id) {
        FileKind::Directory
    } else {
        FileKind::RegularFile
    }
}

pub(crate) fn mode_of(tree: &Tree, id: NodeId, own: &Ownership) -> u32 {
    if tree.is_dir(id) {
        own.dir_mode.unwrap_or(meta::DIR_MODE)
    } else {
        own.file_mode.unwrap_or_else(|| meta::file_mode(tree, id))
    }
}

/// The attributes of a node whose size is `size` (0 for directories).
pub(crate) fn attr_with_size(index: &Index, id: NodeId, size: u64, own: &Ownership) -> Attr {
    let tree = &index.tree;
    let dir = tree.is_dir(id);
    Attr {
        ino: ino_of(id),
        size,
        blocks: size.div_ceil(512),
        mtime: system_time(index.mtime_ts(id)),
        kind: kind_of(tree, id),
        perm: (mode_of(tree, id, own) & 0o7777) as u16,
        // A directory is linked from its parent, from its own `.`, and
        // from the `..` of each subdirectory.
        nlink: if dir { 2 + tree.subdir_count(id).min(u64::from(u32::MAX - 2)) as u32 } else { 1 },
        uid: own.uid,
        gid: own.gid,
        blksize: BLKSIZE,
    }
}

/// The attributes of a node; fails only when a generated file's size
/// cannot be known because its record does not render.
#[cfg(test)]
pub(crate) fn attr_of(index: &Index, id: NodeId, own: &Ownership) -> Result<Attr, crate::index::ViewError> {
    let size = index.size(id)?;
    Ok(attr_with_size(index, id, size, own))
}

/// One directory entry as readdir returns it: the offset of the entry
/// after it (what the kernel passes back to continue), the node, the name.
pub(crate) struct DirEntry<'a> {
    pub(crate) next: u64,
    pub(crate) id: NodeId,
    pub name: &'a OsStr,
}

/// Entries of directory `dir` from position `offset` on: `.` (0), `..`
/// (1), then the children in name order (2 + index in the slice). The
/// position is all the state there is, so seekdir/telldir and directories
/// of any size work without per-handle buffers.
pub(crate) fn dir_entries(tree: &Tree, dir: NodeId, offset: u64) -> impl Iterator<Item = DirEntry<'_>> {
    let children = tree.children(dir);
    let count = u64::from(children.end - children.start);
    (offset..count + 2).map(move |pos| {
        let (id, name): (NodeId, &[u8]) = match pos {
            0 => (dir, b"."),
            1 => (tree.parent(dir), b".."),
            _ => {
                let id = children.start + (pos - 2) as NodeId;
                (id, tree.name(id))
            }
        };
        DirEntry { next: pos + 1, id, name: OsStr::from_bytes(name) }
    })
}

#[cfg(test)]
mod tests {
    use super::super::fs::tests::sample_index;
    use super::*;
    use std::time::{Duration, SystemTime};

    #[test]
    fn attributes_match_what_extract_writes() {
        let index = sample_index();
        let tree = &index.tree;
        let own = Ownership { uid: 1000, gid: 100, file_mode: None, dir_mode: None };
        let root = attr_of(&index, Tree::ROOT, &own).unwrap();
        assert_eq!(root.ino, Ino(1));
        assert_eq!(root.kind, FileKind::Directory);
        assert_eq!(root.perm, 0o755);
        assert_eq!(root.nlink, 2 + tree.subdir_count(Tree::ROOT) as u32);
        assert_eq!((root.uid, root.gid), (1000, 100));
        let last = index.layout.last_commit_ts;
        let secs = SystemTime::UNIX_EPOCH + Duration::from_millis(last >> 16);
        assert_eq!(root.mtime, secs);

        let manifest = tree.resolve(b"MANIFEST.json").unwrap();
        let a = attr_of(&index, manifest, &own).unwrap();
        assert_eq!(a.perm, 0o644);
        assert_eq!(a.nlink, 1);
        assert_eq!(a.size, index.render(manifest).unwrap().len() as u64);
        assert_eq!(a.blocks, a.size.div_ceil(512));
        assert_eq!(a.ino, Ino(u64::from(manifest) + 1));

        let item = tree.resolve(b"dynamodb/orders/items/k1.json").unwrap();
        let a = attr_of(&index, item, &own).unwrap();
        assert_eq!(a.perm, 0o600);
        assert_eq!(a.size, index.render(item).unwrap().len() as u64);
        assert_eq!(a.mtime, meta::system_time(index.mtime_ts(item)));

        let over = Ownership { file_mode: Some(0o444), dir_mode: Some(0o500), ..own };
        assert_eq!(attr_of(&index, manifest, &over).unwrap().perm, 0o444);
        assert_eq!(attr_of(&index, Tree::ROOT, &over).unwrap().perm, 0o500);
    }

    #[test]
    fn inode_numbers_are_positions_plus_one() {
        let index = sample_index();
        assert_eq!(node_of(&index, Ino(1)), Some(Tree::ROOT));
        assert_eq!(node_of(&index, Ino(0)), None);
        assert_eq!(node_of(&index, Ino(index.tree.len() as u64 + 1)), None);
        assert_eq!(node_of(&index, Ino(u64::MAX)), None);
        let last = index.tree.len() as u64;
        assert_eq!(node_of(&index, Ino(last)), Some(last as NodeId - 1));
    }

    #[test]
    fn readdir_offsets_resume_anywhere() {
        let index = sample_index();
        let tree = &index.tree;
        let all: Vec<(u64, NodeId, Vec<u8>)> =
            dir_entries(tree, Tree::ROOT, 0).map(|e| (e.next, e.id, e.name.as_bytes().to_vec())).collect();
        assert_eq!(all[0].2, b".");
        assert_eq!(all[1], (2, Tree::ROOT, b"..".to_vec()));
        let names: Vec<&[u8]> = all[2..].iter().map(|e| e.2.as_slice()).collect();
        let mut sorted = names.clone();
        sorted.sort();
        assert_eq!(names, sorted);
        assert!(names.contains(&&b"CHECKSUMS"[..]));
        for (i, e) in all.iter().enumerate() {
            assert_eq!(e.0, i as u64 + 1);
            let rest: Vec<NodeId> = dir_entries(tree, Tree::ROOT, e.0).map(|e| e.id).collect();
            let want: Vec<NodeId> = all[i + 1..].iter().map(|e| e.1).collect();
            assert_eq!(rest, want);
        }
        assert_eq!(dir_entries(tree, Tree::ROOT, u64::MAX - 1).count(), 0);
        // A file has only . and ..
        let m = tree.resolve(b"MANIFEST.json").unwrap();
        assert_eq!(dir_entries(tree, m, 0).count(), 2);
    }
}
