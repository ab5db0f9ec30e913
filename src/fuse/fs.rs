//! The FUSE core: what the mount answers, in fsmfs's own types.
//!
//! Split from the binding the way mountpoint-s3 splits `fs.rs` from
//! `fuse.rs`: every decision the kernel sees (attributes, errors, what a
//! read returns, directory entries, statfs numbers) is made here over an
//! [`Index`], and `mod.rs` only translates to and from the FUSE crate. So
//! the behaviour is testable without a mount, and a change of FUSE binding
//! touches only the glue. This file must not name the binding at all (a
//! test below checks the source text).
//!
//! Inode = node position + 1 ([`attr::ino_of`]), so lookups and readdir
//! need no tables. The mount serves only the indexed snapshot: a file
//! changed under it answers EIO, logged once per mount (`docs/fuse.md`).

use std::cell::RefCell;
use std::collections::HashMap;
use std::ffi::OsStr;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use super::attr::{self, attr_with_size, dir_entries, ino_of, node_of, Attr, FileKind, Ino, Ownership};
use super::cache::RenderCache;
use crate::index::Index;
use crate::index::ViewError;
use crate::tree::{NodeId, View, NAME_MAX, SIZE_UNKNOWN};

/// Default render-cache budget (`--cache-mb`).
pub(crate) const DEFAULT_CACHE_MB: usize = 64;

/// An error number as the kernel gets it (positive `errno`). Only the
/// ones the core answers with have names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Errno(pub i32);

impl Errno {
    pub(crate) const ENOENT: Errno = Errno(libc::ENOENT);
    pub(crate) const EIO: Errno = Errno(libc::EIO);
    pub(crate) const EISDIR: Errno = Errno(libc::EISDIR);
    pub(crate) const ENOTDIR: Errno = Errno(libc::ENOTDIR);
    pub(crate) const EROFS: Errno = Errno(libc::EROFS);
    pub(crate) const ENAMETOOLONG: Errno = Errno(libc::ENAMETOOLONG);
}

/// One `readdir` entry: `next` is the offset the kernel passes back to
/// continue after it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Entry<'a> {
    pub(crate) ino: Ino,
    pub(crate) next: u64,
    pub(crate) kind: FileKind,
    pub name: &'a OsStr,
}

/// One `readdirplus` entry. `attr_known` is false for a file that does not
/// render: its attributes are then placeholders (size 0) the kernel must
/// not keep, so it looks the file up again on use and gets EIO.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct PlusEntry<'a> {
    pub(crate) next: u64,
    pub name: &'a OsStr,
    pub(crate) attr: Attr,
    pub(crate) attr_known: bool,
}

/// What `statfs` reports, in the order of `struct statvfs`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct StatFs {
    pub(crate) blocks: u64,
    pub(crate) bfree: u64,
    pub(crate) bavail: u64,
    pub files: u64,
    pub(crate) ffree: u64,
    pub(crate) bsize: u32,
    pub(crate) namelen: u32,
    pub(crate) frsize: u32,
}

const HANDLE_SHARDS: usize = 16;

/// File handle → the content it was opened with.
type Pinned = HashMap<u64, Arc<[u8]>>;

/// The mounted file system.
pub(crate) struct FsmFs {
    index: Arc<Index>,
    own: Ownership,
    cache: RenderCache,
    /// Rendered content pinned by open file handles, so a file is rendered
    /// at most once per open however the cache churns.
    handles: Box<[Mutex<Pinned>]>,
    next_fh: AtomicU64,
    /// The snapshot file's change has been logged (once per mount).
    changed_logged: AtomicBool,
}

thread_local! {
    /// Per-thread scratch for body reads (no allocation per request).
    static READ_BUF: RefCell<Vec<u8>> = const { RefCell::new(Vec::new()) };
}

fn window(src: &[u8], offset: u64, size: u32) -> &[u8] {
    let start = usize::try_from(offset).unwrap_or(usize::MAX).min(src.len());
    let end = start.saturating_add(size as usize).min(src.len());
    &src[start..end]
}

/// Whether open flags ask for writing. An access mode that is neither
/// read, write nor read-write counts as read-only (as the kernel's FUSE
/// binding reads it).
fn opens_for_writing(flags: i32) -> bool {
    matches!(flags & libc::O_ACCMODE, libc::O_WRONLY | libc::O_RDWR)
}

impl FsmFs {
    /// `own` is who owns every node and with which modes; `cache_bytes` the
    /// budget of the render cache.
    pub(crate) fn new(index: Arc<Index>, own: Ownership, cache_bytes: usize) -> Self {
        FsmFs {
            index,
            own,
            cache: RenderCache::new(cache_bytes),
            handles: (0..HANDLE_SHARDS).map(|_| Mutex::new(HashMap::new())).collect(),
            next_fh: AtomicU64::new(1),
            changed_logged: AtomicBool::new(false),
        }
    }

    #[cfg(test)]
    pub(crate) fn index(&self) -> &Index {
        &self.index
    }

    /// A file that cannot be served: EIO, and a log line naming the record
    /// — or, once for the whole mount, the snapshot file that changed.
    fn eio(&self, e: ViewError) -> Errno {
        if !e.snapshot_changed {
            log::error!("{e}");
        } else if !self.changed_logged.swap(true, Ordering::Relaxed) {
            log::error!("{}", e.detail);
        }
        Errno::EIO
    }

    fn handle_shard(&self, fh: u64) -> std::sync::MutexGuard<'_, Pinned> {
        self.handles[fh as usize % HANDLE_SHARDS].lock().unwrap_or_else(|p| p.into_inner())
    }

    /// A generated file's content, from the cache or freshly rendered.
    fn rendered(&self, id: NodeId) -> Result<Arc<[u8]>, ViewError> {
        let bytes = self.cache.get_or_render(id, || self.index.render(id))?;
        let node = self.index.tree.node(id);
        if node.stored_size() == SIZE_UNKNOWN {
            node.store_size(bytes.len() as u64);
        }
        Ok(bytes)
    }

    /// `CHECKSUMS`, hashed on first use and then borrowed (never copied
    /// per read).
    fn checksums(&self) -> Result<&[u8], ViewError> {
        let index = &*self.index;
        if index.checksums.get().is_none() {
            // Fills the OnceLock; the returned copy is dropped.
            let _ = crate::index::render_checksums(index);
        }
        match index.checksums.get() {
            Some(Ok(bytes)) => Ok(bytes),
            Some(Err(detail)) => Err(ViewError {
                path: "CHECKSUMS".into(),
                offset: None,
                key: None,
                detail: detail.clone(),
                snapshot_changed: index.verify_source().is_err(),
            }),
            None => Err(ViewError {
                path: "CHECKSUMS".into(),
                offset: None,
                key: None,
                detail: "not computed".into(),
                snapshot_changed: false,
            }),
        }
    }

    /// The exact size; generated files are rendered once (through the
    /// cache, so the `open` that usually follows does not render again).
    pub(crate) fn size(&self, id: NodeId) -> Result<u64, ViewError> {
        let node = self.index.tree.node(id);
        if self.index.tree.is_dir(id) {
            return Ok(0);
        }
        match node.stored_size() {
            SIZE_UNKNOWN if self.index.is_generated(id) => Ok(self.rendered(id)?.len() as u64),
            SIZE_UNKNOWN => self.index.size(id),
            s => Ok(s),
        }
    }

    /// Size and mtime come from the mapping, so the attributes are only
    /// kept once the snapshot file proved unchanged after reading them.
    pub(crate) fn attr(&self, id: NodeId) -> Result<Attr, ViewError> {
        let attr = self.attr_unchecked(id)?;
        if self.index.mtime_from_mapping(id) {
            self.index.check_source(id)?;
        }
        Ok(attr)
    }

    /// [`FsmFs::attr`] before the snapshot file is checked (the caller
    /// checks it once for many).
    fn attr_unchecked(&self, id: NodeId) -> Result<Attr, ViewError> {
        let size = self.size(id)?;
        Ok(attr_with_size(&self.index, id, size, &self.own))
    }

    /// What `getattr` answers.
    pub(crate) fn getattr(&self, ino: Ino) -> Result<Attr, Errno> {
        self.node(ino).and_then(|id| self.attr(id).map_err(|e| self.eio(e)))
    }

    /// What `open` does: refuses writers, renders generated files (so a
    /// broken record fails here with EIO), returns the file handle.
    /// `flags` are `open(2)`'s.
    pub(crate) fn open_file(&self, id: NodeId, flags: i32) -> Result<u64, Errno> {
        if self.index.tree.is_dir(id) {
            return Err(Errno::EISDIR);
        }
        if opens_for_writing(flags) || flags & libc::O_TRUNC != 0 {
            return Err(Errno::EROFS);
        }
        match self.index.tree.node(id).view() {
            View::Checksums => self.checksums().map(|_| 0).map_err(|e| self.eio(e)),
            _ if self.index.is_generated(id) => {
                let bytes = self.rendered(id).map_err(|e| self.eio(e))?;
                let fh = self.next_fh.fetch_add(1, Ordering::Relaxed);
                self.handle_shard(fh).insert(fh, bytes);
                Ok(fh)
            }
            _ => Ok(0),
        }
    }

    /// [`FsmFs::open_file`] by inode number.
    pub(crate) fn open(&self, ino: Ino, flags: i32) -> Result<u64, Errno> {
        self.node(ino).and_then(|id| self.open_file(id, flags))
    }

    pub(crate) fn release_file(&self, fh: u64) {
        if fh != 0 {
            self.handle_shard(fh).remove(&fh);
        }
    }

    /// Calls `f` with up to `size` bytes of the file at `offset` (fewer at
    /// the end). Streamed files (bodies, fragment-served aggregates) come
    /// straight from the mapping; generated files from the handle's pinned
    /// copy or the cache.
    pub(crate) fn read_with<R>(
        &self,
        id: NodeId,
        fh: u64,
        offset: u64,
        size: u32,
        f: impl FnOnce(&[u8]) -> R,
    ) -> Result<R, Errno> {
        let index = &*self.index;
        match index.tree.node(id).view() {
            View::Dir { .. } => Err(Errno::EISDIR),
            View::Static(i) => {
                let bytes = index.side.statics.get(i as usize).ok_or(Errno::EIO)?;
                Ok(f(window(bytes, offset, size)))
            }
            View::Checksums => Ok(f(window(self.checksums().map_err(|e| self.eio(e))?, offset, size))),
            _ if index.is_streamed(id) => READ_BUF.with_borrow_mut(|buf| {
                if buf.len() < size as usize {
                    buf.resize(size as usize, 0);
                }
                let n = index.read(id, offset, &mut buf[..size as usize]).map_err(|e| self.eio(e))?;
                Ok(f(&buf[..n]))
            }),
            _ => {
                let pinned = if fh != 0 { self.handle_shard(fh).get(&fh).cloned() } else { None };
                let bytes = match pinned {
                    Some(b) => b,
                    None => self.rendered(id).map_err(|e| self.eio(e))?,
                };
                Ok(f(window(&bytes, offset, size)))
            }
        }
    }

    /// [`FsmFs::read_with`] by inode number.
    pub(crate) fn read<R>(
        &self,
        ino: Ino,
        fh: u64,
        offset: u64,
        size: u32,
        f: impl FnOnce(&[u8]) -> R,
    ) -> Result<R, Errno> {
        self.read_with(self.node(ino)?, fh, offset, size, f)
    }

    /// The node behind an inode number; ENOENT if there is none.
    pub(crate) fn node(&self, ino: Ino) -> Result<NodeId, Errno> {
        node_of(&self.index, ino).ok_or(Errno::ENOENT)
    }

    /// The directory behind an inode number; ENOTDIR for a file.
    pub(crate) fn dir(&self, ino: Ino) -> Result<NodeId, Errno> {
        let id = self.node(ino)?;
        if self.index.tree.is_dir(id) {
            Ok(id)
        } else {
            Err(Errno::ENOTDIR)
        }
    }

    /// Name lookup: `Ok(None)` is a definite "no such entry".
    pub(crate) fn lookup_name(&self, parent: Ino, name: &OsStr) -> Result<Option<Attr>, Errno> {
        use std::os::unix::ffi::OsStrExt;
        let dir = self.dir(parent)?;
        if name.len() > NAME_MAX {
            return Err(Errno::ENAMETOOLONG);
        }
        match self.index.tree.lookup(dir, name.as_bytes()) {
            Some(id) => self.attr(id).map(Some).map_err(|e| self.eio(e)),
            None => Ok(None),
        }
    }

    /// What `opendir` checks: a directory, opened for reading.
    pub(crate) fn opendir(&self, ino: Ino, flags: i32) -> Result<(), Errno> {
        self.dir(ino)?;
        if opens_for_writing(flags) {
            return Err(Errno::EISDIR);
        }
        Ok(())
    }

    /// Feeds the entries of directory `ino` from `offset` on to `add` until
    /// it returns true (the reply is full).
    pub(crate) fn readdir(
        &self,
        ino: Ino,
        offset: u64,
        mut add: impl FnMut(Entry<'_>) -> bool,
    ) -> Result<(), Errno> {
        let dir = self.dir(ino)?;
        let tree = &self.index.tree;
        for e in dir_entries(tree, dir, offset) {
            if add(Entry { ino: ino_of(e.id), next: e.next, kind: attr::kind_of(tree, e.id), name: e.name }) {
                break;
            }
        }
        Ok(())
    }

    /// [`FsmFs::readdir`] with attributes. EIO after entries were added
    /// means the snapshot file changed during the listing: the whole reply
    /// is to be refused.
    pub(crate) fn readdirplus(
        &self,
        ino: Ino,
        offset: u64,
        mut add: impl FnMut(PlusEntry<'_>) -> bool,
    ) -> Result<(), Errno> {
        let dir = self.dir(ino)?;
        // Attributes come partly from the mapping. While the snapshot file
        // is intact, check it once per reply rather than once per entry;
        // if it changed during this reply, the reply is refused (a listing
        // retried then gets per-entry answers).
        let intact = self.index.verify_source().is_ok();
        for e in dir_entries(&self.index.tree, dir, offset) {
            let attr = if intact { self.attr_unchecked(e.id) } else { self.attr(e.id) };
            let entry = match attr {
                Ok(attr) => PlusEntry { next: e.next, name: e.name, attr, attr_known: true },
                // A file that does not render: the kernel is told not to
                // keep it, looks it up again on use, and that fails with
                // EIO; the listing itself stays intact.
                Err(err) => {
                    log::debug!("readdirplus: {err}");
                    let attr = attr_with_size(&self.index, e.id, 0, &self.own);
                    PlusEntry { next: e.next, name: e.name, attr, attr_known: false }
                }
            };
            if add(entry) {
                break;
            }
        }
        if intact && self.index.verify_source().is_err() {
            return Err(Errno::EIO);
        }
        Ok(())
    }

    /// Blocks of the snapshot's bytes, one "file" per node, nothing free.
    pub(crate) fn statfs(&self) -> StatFs {
        const BSIZE: u32 = 4096;
        StatFs {
            blocks: (self.index.data().len() as u64).div_ceil(u64::from(BSIZE)),
            bfree: 0,
            bavail: 0,
            files: self.index.tree.len() as u64,
            ffree: 0,
            bsize: BSIZE,
            namelen: NAME_MAX as u32,
            frsize: BSIZE,
        }
    }

    /// `access(2)`: any node may be read or searched, none written.
    pub(crate) fn access(&self, ino: Ino, mask: i32) -> Result<(), Errno> {
        self.node(ino)?;
        if mask & libc::W_OK != 0 {
            return Err(Errno::EROFS);
        }
        Ok(())
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::adapters::dynamodb::records::{
        ddb_item_records, ddb_item_value, ddb_schema_records, AttrValue, Record, TableDef,
    };
    use crate::adapters::s3::records::{s3_bucket_records, s3_object_records, BucketDef, ObjectDef, PartDef};
    use crate::container::writer::{encode_key, StreamWriter};
    use crate::index::DecodeOptions;
    use crate::tree::Tree;
    use std::os::unix::ffi::OsStrExt;

    const TS: u64 = 1_700_000_000_000 << 16;

    fn table() -> TableDef {
        TableDef {
            name: "orders".into(),
            attribute_definitions: vec![("id".into(), "S".into())],
            hash_key: "id".into(),
            key_encoding_version: 2,
            generation: 1,
            ..Default::default()
        }
    }

    /// A small snapshot: a table with two good items and one whose
    /// non-key attribute is not valid UTF-8, and a bucket with one object.
    pub(crate) fn sample_index() -> Index {
        let t = table();
        let mut rows: Vec<(Record, u64)> = Vec::new();
        rows.extend(ddb_schema_records(&t).into_iter().map(|r| (r, TS)));
        for (i, id) in ["k1", "k2"].iter().enumerate() {
            let item = vec![
                ("id".to_string(), AttrValue::S(id.to_string())),
                ("n".to_string(), AttrValue::N(i.to_string())),
            ];
            rows.extend(
                ddb_item_records(&t, &item, 1).unwrap().into_iter().map(|r| (r, TS + (i as u64 + 1))),
            );
        }
        let bad_item = vec![("id".to_string(), AttrValue::S("bad".into()))];
        let mut bad = ddb_item_records(&t, &bad_item, 1).unwrap().remove(0);
        assert_eq!(bad.value, ddb_item_value(&bad_item));
        // attributes["x"] = {S: "\xff"}
        bad.value.extend_from_slice(&[0x0a, 0x08, 0x0a, 0x01, b'x', 0x12, 0x03, 0x0a, 0x01, 0xff]);
        rows.push((bad, TS));
        let bucket = BucketDef { name: b"photos".to_vec(), generation: 1, ..Default::default() };
        rows.extend(s3_bucket_records(&bucket).into_iter().map(|r| (r, TS)));
        let body: Vec<u8> = (0..300_000u32).map(|i| (i % 251) as u8).collect();
        let obj = ObjectDef {
            key: b"a/b.bin".to_vec(),
            generation: 1,
            upload_id: b"u1".to_vec(),
            size_bytes: body.len() as i64,
            last_modified_hlc: TS,
            parts: vec![PartDef {
                part_no: 1,
                size_bytes: body.len() as i64,
                chunks: body.chunks(100_000).map(|c| c.to_vec()).collect(),
                ..Default::default()
            }],
            ..Default::default()
        };
        rows.extend(s3_object_records(b"photos", &obj).into_iter().map(|r| (r, TS + 9)));
        rows.sort_by_cached_key(|(r, ts)| encode_key(&r.key, *ts));
        let mut w = StreamWriter::new(Vec::new(), TS + 100).unwrap();
        for (r, ts) in &rows {
            w.live(&r.key, *ts, &r.value).unwrap();
        }
        Index::from_bytes(w.finish(), DecodeOptions::default()).unwrap()
    }

    fn fs(cache_bytes: usize) -> FsmFs {
        let own = Ownership { uid: 1, gid: 2, file_mode: None, dir_mode: None };
        FsmFs::new(Arc::new(sample_index()), own, cache_bytes)
    }

    fn read_all(fs: &FsmFs, id: NodeId, fh: u64, step: u32) -> Vec<u8> {
        let mut out = Vec::new();
        loop {
            let chunk = fs.read_with(id, fh, out.len() as u64, step, |b| b.to_vec()).unwrap();
            if chunk.is_empty() {
                return out;
            }
            out.extend_from_slice(&chunk);
        }
    }

    const RDONLY: i32 = libc::O_RDONLY;

    #[test]
    fn every_file_reads_back_as_the_index_renders_it() {
        let fs = fs(1 << 20);
        let index = fs.index();
        let bad = index.tree.resolve(b"dynamodb/orders/items/bad.json").unwrap();
        for id in index.tree.files() {
            // CHECKSUMS inherits the broken item's failure (tested below).
            if id == bad || id == index.checksums_node {
                continue;
            }
            let fh = fs.open_file(id, RDONLY).unwrap();
            let want = index.render(id).unwrap();
            assert_eq!(fs.size(id).unwrap(), want.len() as u64);
            assert_eq!(
                read_all(&fs, id, fh, 4096),
                want,
                "{}",
                String::from_utf8_lossy(&index.tree.path(id))
            );
            assert_eq!(read_all(&fs, id, fh, 7), want);
            fs.release_file(fh);
        }
        let body = index.tree.resolve(b"s3/photos/a/b.bin").unwrap();
        let tail = fs.read_with(body, 0, 299_990, 100, |b| b.to_vec()).unwrap();
        assert_eq!(tail, (299_990..300_000u32).map(|i| (i % 251) as u8).collect::<Vec<_>>());
        assert!(fs.read_with(body, 0, u64::MAX, 100, |b| b.len()).unwrap() == 0);
    }

    #[test]
    fn generated_files_render_once_per_open() {
        let fs = fs(1 << 20);
        let id = fs.index().tree.resolve(b"dynamodb/orders/items/k1.json").unwrap();
        fs.size(id).unwrap(); // getattr renders and caches
        assert!(fs.cache.get(id).is_some());
        let fh = fs.open_file(id, RDONLY).unwrap();
        assert_ne!(fh, 0);
        // Pinned by the handle even with nothing cached.
        let nocache = self::fs(0);
        let fh2 = nocache.open_file(id, RDONLY).unwrap();
        assert!(nocache.cache.get(id).is_none());
        let want = fs.index().render(id).unwrap();
        assert_eq!(read_all(&nocache, id, fh2, 3), want);
        nocache.release_file(fh2);
        assert!(nocache.handle_shard(fh2).is_empty());
        fs.release_file(fh);
    }

    #[test]
    fn without_a_handle_a_big_render_is_still_kept() {
        // Zero-message opens give fh 0; a file bigger than the whole budget
        // must still not be rendered once per read request.
        let fs = fs(16);
        let id = fs.index().tree.resolve(b"dynamodb/orders/items/k1.json").unwrap();
        let want = fs.index().render(id).unwrap();
        assert!(want.len() > 16);
        assert_eq!(read_all(&fs, id, 0, 5), want);
        assert!(fs.cache.get(id).is_some());
    }

    #[test]
    fn a_broken_record_fails_only_its_own_file() {
        let fs = fs(1 << 20);
        let tree = &fs.index().tree;
        let bad = tree.resolve(b"dynamodb/orders/items/bad.json").unwrap();
        assert_eq!(fs.open_file(bad, RDONLY), Err(Errno::EIO));
        assert!(fs.attr(bad).is_err());
        let err = fs.index().render(bad).unwrap_err().to_string();
        assert!(err.contains("offset") && err.contains("key"), "{err}");
        let dir = ino_of(tree.resolve(b"dynamodb/orders/items").unwrap());
        assert_eq!(fs.lookup_name(dir, OsStr::new("bad.json")), Err(Errno::EIO));
        assert!(fs.lookup_name(dir, OsStr::new("k1.json")).unwrap().is_some());
        assert_eq!(fs.lookup_name(dir, OsStr::new("nope.json")), Ok(None));
        // CHECKSUMS hashes every file, so it inherits the failure.
        let ck = tree.resolve(b"CHECKSUMS").unwrap();
        assert!(fs.size(ck).is_ok());
        assert_eq!(fs.open_file(ck, RDONLY), Err(Errno::EIO));
    }

    #[test]
    fn lookups_and_opens_refuse_what_a_read_only_tree_cannot_do() {
        let fs = fs(0);
        let tree = &fs.index().tree;
        let m = tree.resolve(b"MANIFEST.json").unwrap();
        assert_eq!(fs.open_file(m, libc::O_WRONLY), Err(Errno::EROFS));
        assert_eq!(fs.open_file(m, libc::O_RDWR), Err(Errno::EROFS));
        assert_eq!(fs.open_file(m, libc::O_RDONLY | libc::O_TRUNC), Err(Errno::EROFS));
        assert_eq!(fs.open_file(Tree::ROOT, RDONLY), Err(Errno::EISDIR));
        assert_eq!(fs.lookup_name(ino_of(m), OsStr::new("x")), Err(Errno::ENOTDIR));
        assert_eq!(fs.lookup_name(Ino(0), OsStr::new("x")), Err(Errno::ENOENT));
        assert_eq!(fs.lookup_name(Ino(1 << 40), OsStr::new("x")), Err(Errno::ENOENT));
        let long = "x".repeat(NAME_MAX + 1);
        assert_eq!(fs.lookup_name(Ino(1), OsStr::new(&long)), Err(Errno::ENAMETOOLONG));
        let got = fs.lookup_name(Ino(1), OsStr::new("MANIFEST.json")).unwrap().unwrap();
        assert_eq!(got.ino, ino_of(m));
        assert_eq!((got.uid, got.gid, got.perm), (1, 2, 0o644));
    }

    #[test]
    fn checksums_verify_the_other_files() {
        // Without the broken item, CHECKSUMS reads and lists every file.
        let mut opts = DecodeOptions::default();
        opts.adapters.retain(|a| *a != crate::adapters::route::Adapter::DynamoDb);
        let index = sample_index();
        let bytes = index.data().to_vec();
        let index = Index::from_bytes(bytes, opts).unwrap();
        let own = Ownership::current_user();
        let fs = FsmFs::new(Arc::new(index), own, 0);
        let ck = fs.index().tree.resolve(b"CHECKSUMS").unwrap();
        fs.open_file(ck, RDONLY).unwrap();
        let text = read_all(&fs, ck, 0, 100);
        assert_eq!(text.len() as u64, fs.size(ck).unwrap());
        let files = fs.index().tree.files().count() - 1;
        assert_eq!(text.split(|&b| b == b'\n').filter(|l| !l.is_empty()).count(), files);
    }

    #[test]
    fn directory_calls_answer_by_inode_number() {
        let fs = fs(1 << 20);
        let tree = &fs.index().tree;
        let items = tree.resolve(b"dynamodb/orders/items").unwrap();
        let m = tree.resolve(b"MANIFEST.json").unwrap();

        let mut listed = Vec::new();
        fs.readdir(ino_of(items), 0, |e| {
            listed.push((e.ino, e.next, e.kind, e.name.as_bytes().to_vec()));
            false
        })
        .unwrap();
        let want: Vec<_> = dir_entries(tree, items, 0)
            .map(|e| (ino_of(e.id), e.next, attr::kind_of(tree, e.id), e.name.as_bytes().to_vec()))
            .collect();
        assert_eq!(listed, want);
        assert_eq!(listed[0].2, FileKind::Directory);
        assert_eq!(listed[2].2, FileKind::RegularFile);
        // A full reply ends the listing at that entry.
        let mut n = 0;
        fs.readdir(ino_of(items), 1, |_| {
            n += 1;
            n == 2
        })
        .unwrap();
        assert_eq!(n, 2);
        assert_eq!(fs.readdir(ino_of(m), 0, |_| false), Err(Errno::ENOTDIR));
        assert_eq!(fs.readdir(Ino(0), 0, |_| false), Err(Errno::ENOENT));

        assert_eq!(fs.opendir(ino_of(items), libc::O_RDONLY), Ok(()));
        assert_eq!(fs.opendir(ino_of(items), libc::O_WRONLY), Err(Errno::EISDIR));
        assert_eq!(fs.opendir(ino_of(items), libc::O_RDWR), Err(Errno::EISDIR));
        // No valid access mode: read-only, as the kernel binding reads it.
        assert_eq!(fs.opendir(ino_of(items), libc::O_ACCMODE), Ok(()));
        assert_eq!(fs.open_file(m, libc::O_ACCMODE), Ok(0));
        assert_eq!(fs.opendir(ino_of(m), libc::O_RDONLY), Err(Errno::ENOTDIR));

        assert_eq!(fs.access(ino_of(m), libc::R_OK), Ok(()));
        assert_eq!(fs.access(ino_of(items), libc::X_OK | libc::R_OK), Ok(()));
        assert_eq!(fs.access(ino_of(m), libc::R_OK | libc::W_OK), Err(Errno::EROFS));
        assert_eq!(fs.access(Ino(0), libc::R_OK), Err(Errno::ENOENT));
    }

    #[test]
    fn readdirplus_keeps_a_listing_whole_around_a_broken_file() {
        let fs = fs(1 << 20);
        let tree = &fs.index().tree;
        let items = tree.resolve(b"dynamodb/orders/items").unwrap();
        let bad = tree.resolve(b"dynamodb/orders/items/bad.json").unwrap();
        let mut seen = Vec::new();
        fs.readdirplus(ino_of(items), 0, |e| {
            seen.push((e.next, e.name.as_bytes().to_vec(), e.attr, e.attr_known));
            false
        })
        .unwrap();
        let want: Vec<_> = dir_entries(tree, items, 0).collect();
        assert_eq!(seen.len(), want.len());
        for (got, e) in seen.iter().zip(&want) {
            assert_eq!((got.0, got.1.as_slice()), (e.next, e.name.as_bytes()));
            if e.id == bad {
                assert!(!got.3);
                assert_eq!(got.2, attr_with_size(fs.index(), bad, 0, &fs.own));
            } else {
                assert!(got.3, "{:?}", e.name);
                assert_eq!(got.2, fs.attr(e.id).unwrap());
            }
        }
        assert_eq!(fs.getattr(ino_of(bad)), Err(Errno::EIO));
        assert_eq!(fs.getattr(Ino(0)), Err(Errno::ENOENT));
        assert_eq!(fs.getattr(ino_of(items)), Ok(fs.attr(items).unwrap()));
        assert_eq!(fs.readdirplus(ino_of(bad), 0, |_| false), Err(Errno::ENOTDIR));
    }

    #[test]
    fn statfs_counts_the_snapshot_and_its_nodes() {
        let fs = fs(0);
        let s = fs.statfs();
        assert_eq!(s.blocks, (fs.index().data().len() as u64).div_ceil(4096));
        assert_eq!(s.files, fs.index().tree.len() as u64);
        assert_eq!((s.bfree, s.bavail, s.ffree), (0, 0, 0));
        assert_eq!((s.bsize, s.frsize, s.namelen), (4096, 4096, NAME_MAX as u32));
    }

    /// The core stays free of the FUSE binding: the glue in `mod.rs` is the
    /// only place that names it (the needle is split so this test does not
    /// find itself).
    #[test]
    fn the_core_does_not_name_the_fuse_binding() {
        let binding = ["fu", "ser"].concat();
        let core = [
            ("fs.rs", include_str!("fs.rs")),
            ("attr.rs", include_str!("attr.rs")),
            ("cache.rs", include_str!("cache.rs")),
        ];
        for (file, src) in core {
            for (n, line) in src.lines().enumerate() {
                let named = line.contains(&format!("{binding}::"))
                    || line.split_whitespace().collect::<Vec<_>>().windows(2).any(|w| {
                        w[0] == "use" && w[1].trim_start_matches("::").starts_with(binding.as_str())
                    });
                assert!(!named, "src/fuse/{file}:{}: {line}", n + 1);
            }
        }
    }
}
