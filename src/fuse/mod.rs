//! The FUSE front end: a thin `fuser::Filesystem` over an [`Index`].
//!
//! Inode = node position + 1, so lookups and readdir need no tables and
//! `forget` is free. Everything the kernel sees is decided by plain
//! functions here and in [`attr`], testable without a mount; the trait
//! impl only translates replies. The mount serves only the indexed
//! snapshot (a file changed under it answers EIO, `docs/fuse.md`),
//! so the kernel is told to cache everything forever (see `docs/fuse.md`).

pub mod attr;
pub mod cache;
pub mod daemon;
pub mod mounting;
pub mod options;

use std::cell::RefCell;
use std::collections::HashMap;
use std::ffi::OsStr;
use std::path::Path;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime};

use fuser::{
    AccessFlags, BsdFileFlags, CopyFileRangeFlags, Errno, FileAttr, FileHandle, Filesystem, FopenFlags,
    Generation, INodeNo, InitFlags, KernelConfig, LockOwner, OpenAccMode, OpenFlags, RenameFlags, ReplyAttr,
    ReplyCreate, ReplyData, ReplyDirectory, ReplyDirectoryPlus, ReplyEmpty, ReplyEntry, ReplyOpen,
    ReplyStatfs, ReplyWrite, ReplyXattr, Request, TimeOrNow, WriteFlags,
};

use crate::index::Index;
use crate::index::ViewError;
use crate::tree::{NodeId, View, NAME_MAX, SIZE_UNKNOWN};
pub use attr::{attr_of, attr_with_size, dir_entries, ino_of, node_of, Ownership};
use cache::RenderCache;

/// "Forever" for entry and attribute timeouts: ~136 years, well inside
/// what every kernel converts without overflow.
pub const FOREVER: Duration = Duration::from_secs(u32::MAX as u64);

/// How much the kernel may cache. All on by default; the switches exist
/// to measure each choice (`docs/fuse.md`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct KernelCache {
    /// Entry (name → inode, including negative) and attribute timeout.
    pub ttl: Duration,
    /// `FOPEN_KEEP_CACHE`: page cache survives close/open.
    pub keep_cache: bool,
    /// `FOPEN_CACHE_DIR`: the kernel keeps directory listings.
    pub cache_dir: bool,
    /// `FUSE_DO_READDIRPLUS`: listings carry attributes.
    pub readdirplus: bool,
    /// `FUSE_READDIRPLUS_AUTO`: let the kernel fall back to plain readdir
    /// after the first chunk unless it sees stats in between. Off: `find`,
    /// `tar` and `rsync` read a whole directory before they stat, so the
    /// fallback costs them one LOOKUP per entry.
    pub readdirplus_auto: bool,
    /// Answer open/opendir with ENOSYS where the kernel supports
    /// zero-message opens: no OPEN/FLUSH/RELEASE round trips per file,
    /// and the kernel then keeps page cache and listings by itself.
    pub zero_message_open: bool,
}

impl Default for KernelCache {
    fn default() -> Self {
        KernelCache {
            ttl: FOREVER,
            keep_cache: true,
            cache_dir: true,
            readdirplus: true,
            readdirplus_auto: false,
            zero_message_open: true,
        }
    }
}

/// Everything that shapes what the mount serves, beyond the index.
#[derive(Debug, Clone, Copy)]
pub struct Settings {
    pub own: Ownership,
    pub kernel: KernelCache,
    /// Budget of the render cache in bytes.
    pub cache_bytes: usize,
}

/// Default render-cache budget (`--cache-mb`).
pub const DEFAULT_CACHE_MB: usize = 64;

const HANDLE_SHARDS: usize = 16;

/// File handle → the content it was opened with.
type Pinned = HashMap<u64, Arc<[u8]>>;

/// The mounted file system.
pub struct FsmFs {
    index: Arc<Index>,
    settings: Settings,
    cache: RenderCache,
    /// Rendered content pinned by open file handles, so a file is rendered
    /// at most once per open however the cache churns.
    handles: Box<[Mutex<Pinned>]>,
    next_fh: AtomicU64,
    /// Set at init when the kernel does zero-message opens (then `open`
    /// and `opendir` answer ENOSYS once and are never called again).
    no_open: bool,
    no_opendir: bool,
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

impl FsmFs {
    pub fn new(index: Arc<Index>, settings: Settings) -> Self {
        FsmFs {
            index,
            cache: RenderCache::new(settings.cache_bytes),
            settings,
            handles: (0..HANDLE_SHARDS).map(|_| Mutex::new(HashMap::new())).collect(),
            next_fh: AtomicU64::new(1),
            no_open: false,
            no_opendir: false,
            changed_logged: AtomicBool::new(false),
        }
    }

    pub fn index(&self) -> &Index {
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
    pub fn size(&self, id: NodeId) -> Result<u64, ViewError> {
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
    pub fn attr(&self, id: NodeId) -> Result<FileAttr, ViewError> {
        let attr = self.attr_unchecked(id)?;
        if self.index.mtime_from_mapping(id) {
            self.index.check_source(id)?;
        }
        Ok(attr)
    }

    /// [`FsmFs::attr`] before the snapshot file is checked (the caller
    /// checks it once for many).
    fn attr_unchecked(&self, id: NodeId) -> Result<FileAttr, ViewError> {
        let size = self.size(id)?;
        Ok(attr_with_size(&self.index, id, size, &self.settings.own))
    }

    /// What `open` does: refuses writers, renders generated files (so a
    /// broken record fails here with EIO), returns the file handle.
    pub fn open_file(&self, id: NodeId, flags: OpenFlags) -> Result<u64, Errno> {
        if self.index.tree.is_dir(id) {
            return Err(Errno::EISDIR);
        }
        if flags.acc_mode() != OpenAccMode::O_RDONLY || flags.0 & libc::O_TRUNC != 0 {
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

    pub fn release_file(&self, fh: u64) {
        if fh != 0 {
            self.handle_shard(fh).remove(&fh);
        }
    }

    /// Calls `f` with up to `size` bytes of the file at `offset` (fewer at
    /// the end). Streamed files (bodies, fragment-served aggregates) come
    /// straight from the mapping; generated files from the handle's pinned
    /// copy or the cache.
    pub fn read_with<R>(
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

    fn node(&self, ino: INodeNo) -> Result<NodeId, Errno> {
        node_of(&self.index, ino).ok_or(Errno::ENOENT)
    }

    fn dir(&self, ino: INodeNo) -> Result<NodeId, Errno> {
        let id = self.node(ino)?;
        if self.index.tree.is_dir(id) {
            Ok(id)
        } else {
            Err(Errno::ENOTDIR)
        }
    }

    /// Name lookup: `Ok(None)` is a definite "no such entry".
    pub fn lookup_name(&self, parent: INodeNo, name: &OsStr) -> Result<Option<FileAttr>, Errno> {
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

    fn ttl(&self) -> Duration {
        self.settings.kernel.ttl
    }

    fn file_open_flags(&self) -> FopenFlags {
        if self.settings.kernel.keep_cache {
            FopenFlags::FOPEN_KEEP_CACHE
        } else {
            FopenFlags::empty()
        }
    }

    fn dir_open_flags(&self) -> FopenFlags {
        if self.settings.kernel.cache_dir {
            // The kernel drops a cached listing on open without KEEP_CACHE.
            FopenFlags::FOPEN_CACHE_DIR | FopenFlags::FOPEN_KEEP_CACHE
        } else {
            FopenFlags::empty()
        }
    }
}

/// Whether `path` is already the root of a mount (per mountinfo).
pub fn is_mount_point(path: &Path) -> bool {
    let Ok(info) = std::fs::read_to_string("/proc/self/mountinfo") else { return false };
    let want = path.as_os_str().as_encoded_bytes();
    info.lines().any(|l| l.split(' ').nth(4).is_some_and(|mp| unescape_mountinfo(mp) == want))
}

/// mountinfo escapes space, tab, newline and backslash as `\ooo`.
fn unescape_mountinfo(s: &str) -> Vec<u8> {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'\\' && i + 3 < b.len() && b[i + 1..i + 4].iter().all(|c| (b'0'..=b'7').contains(c)) {
            out.push((b[i + 1] - b'0') * 64 + (b[i + 2] - b'0') * 8 + (b[i + 3] - b'0'));
            i += 4;
        } else {
            out.push(b[i]);
            i += 1;
        }
    }
    out
}

impl Filesystem for FsmFs {
    fn init(&mut self, _req: &Request, config: &mut KernelConfig) -> std::io::Result<()> {
        let mut want = InitFlags::FUSE_PARALLEL_DIROPS;
        if self.settings.kernel.readdirplus {
            want |= InitFlags::FUSE_DO_READDIRPLUS;
            if self.settings.kernel.readdirplus_auto {
                want |= InitFlags::FUSE_READDIRPLUS_AUTO;
            }
        }
        // Ask only for what this kernel offers.
        let caps = config.capabilities();
        let _ = config.add_capabilities(want & caps);
        if self.settings.kernel.zero_message_open {
            self.no_open = caps.contains(InitFlags::FUSE_NO_OPEN_SUPPORT);
            self.no_opendir = caps.contains(InitFlags::FUSE_NO_OPENDIR_SUPPORT);
        }
        Ok(())
    }

    fn lookup(&self, _req: &Request, parent: INodeNo, name: &OsStr, reply: ReplyEntry) {
        match self.lookup_name(parent, name) {
            Ok(Some(attr)) => reply.entry(&self.ttl(), &attr, Generation(0)),
            // Node id 0 with a timeout: the kernel caches the miss.
            Ok(None) => reply.entry(&self.ttl(), &negative_attr(), Generation(0)),
            Err(e) => reply.error(e),
        }
    }

    fn getattr(&self, _req: &Request, ino: INodeNo, _fh: Option<FileHandle>, reply: ReplyAttr) {
        match self.node(ino).and_then(|id| self.attr(id).map_err(|e| self.eio(e))) {
            Ok(attr) => reply.attr(&self.ttl(), &attr),
            Err(e) => reply.error(e),
        }
    }

    fn readlink(&self, _req: &Request, _ino: INodeNo, reply: ReplyData) {
        reply.error(Errno::EINVAL);
    }

    fn open(&self, _req: &Request, ino: INodeNo, flags: OpenFlags, reply: ReplyOpen) {
        if self.no_open && self.settings.kernel.keep_cache {
            // The kernel then applies KEEP_CACHE itself. A file that
            // cannot render already failed its lookup with EIO, so nothing
            // is lost by not rendering here.
            return reply.error(Errno::ENOSYS);
        }
        match self.node(ino).and_then(|id| self.open_file(id, flags)) {
            Ok(fh) => reply.opened(FileHandle(fh), self.file_open_flags()),
            Err(e) => reply.error(e),
        }
    }

    fn read(
        &self,
        _req: &Request,
        ino: INodeNo,
        fh: FileHandle,
        offset: u64,
        size: u32,
        _flags: OpenFlags,
        _lock_owner: Option<LockOwner>,
        reply: ReplyData,
    ) {
        let id = match self.node(ino) {
            Ok(id) => id,
            Err(e) => return reply.error(e),
        };
        // The reply is sent inside the closure, straight from the source.
        let mut reply = Some(reply);
        let r = self.read_with(id, fh.0, offset, size, |bytes| {
            if let Some(r) = reply.take() {
                r.data(bytes)
            }
        });
        if let (Err(e), Some(r)) = (r, reply) {
            r.error(e);
        }
    }

    // ENOSYS for flush/fsync/fsyncdir/xattrs: the kernel remembers it and
    // stops asking, which saves a round trip per close (or per `ls -l`
    // entry); callers see success (flush, fsync) or EOPNOTSUPP (xattrs).

    fn flush(&self, _req: &Request, _ino: INodeNo, _fh: FileHandle, _lo: LockOwner, reply: ReplyEmpty) {
        reply.error(Errno::ENOSYS);
    }

    fn release(
        &self,
        _req: &Request,
        _ino: INodeNo,
        fh: FileHandle,
        _flags: OpenFlags,
        _lock_owner: Option<LockOwner>,
        _flush: bool,
        reply: ReplyEmpty,
    ) {
        self.release_file(fh.0);
        reply.ok();
    }

    fn fsync(&self, _req: &Request, _ino: INodeNo, _fh: FileHandle, _datasync: bool, reply: ReplyEmpty) {
        reply.error(Errno::ENOSYS);
    }

    fn opendir(&self, _req: &Request, ino: INodeNo, flags: OpenFlags, reply: ReplyOpen) {
        if self.no_opendir && self.settings.kernel.cache_dir {
            // The kernel then caches listings as with KEEP_CACHE|CACHE_DIR.
            return reply.error(Errno::ENOSYS);
        }
        match self.dir(ino) {
            Ok(_) if flags.acc_mode() != OpenAccMode::O_RDONLY => reply.error(Errno::EISDIR),
            Ok(_) => reply.opened(FileHandle(0), self.dir_open_flags()),
            Err(e) => reply.error(e),
        }
    }

    fn readdir(&self, _req: &Request, ino: INodeNo, _fh: FileHandle, offset: u64, mut reply: ReplyDirectory) {
        let dir = match self.dir(ino) {
            Ok(d) => d,
            Err(e) => return reply.error(e),
        };
        let tree = &self.index.tree;
        for e in dir_entries(tree, dir, offset) {
            if reply.add(ino_of(e.id), e.next, attr::kind_of(tree, e.id), e.name) {
                break;
            }
        }
        reply.ok();
    }

    fn readdirplus(
        &self,
        _req: &Request,
        ino: INodeNo,
        _fh: FileHandle,
        offset: u64,
        mut reply: ReplyDirectoryPlus,
    ) {
        let dir = match self.dir(ino) {
            Ok(d) => d,
            Err(e) => return reply.error(e),
        };
        // Attributes come partly from the mapping. While the snapshot file
        // is intact, check it once per reply rather than once per entry;
        // if it changed during this reply, the reply is refused (a listing
        // retried then gets per-entry answers).
        let intact = self.index.verify_source().is_ok();
        for e in dir_entries(&self.index.tree, dir, offset) {
            let attr = if intact { self.attr_unchecked(e.id) } else { self.attr(e.id) };
            let full = match attr {
                Ok(a) => reply.add(ino_of(e.id), e.next, e.name, &self.ttl(), &a, Generation(0)),
                // A file that does not render: a zero timeout makes the
                // kernel look it up again on use, which then fails with
                // EIO; the listing itself stays intact.
                Err(err) => {
                    log::debug!("readdirplus: {err}");
                    let a = attr_with_size(&self.index, e.id, 0, &self.settings.own);
                    reply.add(ino_of(e.id), e.next, e.name, &Duration::ZERO, &a, Generation(0))
                }
            };
            if full {
                break;
            }
        }
        if intact && self.index.verify_source().is_err() {
            return reply.error(Errno::EIO);
        }
        reply.ok();
    }

    fn releasedir(
        &self,
        _req: &Request,
        _ino: INodeNo,
        _fh: FileHandle,
        _flags: OpenFlags,
        reply: ReplyEmpty,
    ) {
        reply.ok();
    }

    fn fsyncdir(&self, _req: &Request, _ino: INodeNo, _fh: FileHandle, _datasync: bool, reply: ReplyEmpty) {
        reply.error(Errno::ENOSYS);
    }

    fn statfs(&self, _req: &Request, _ino: INodeNo, reply: ReplyStatfs) {
        const BSIZE: u32 = 4096;
        let blocks = (self.index.data().len() as u64).div_ceil(u64::from(BSIZE));
        reply.statfs(blocks, 0, 0, self.index.tree.len() as u64, 0, BSIZE, NAME_MAX as u32, BSIZE);
    }

    fn getxattr(&self, _req: &Request, _ino: INodeNo, _name: &OsStr, _size: u32, reply: ReplyXattr) {
        reply.error(Errno::ENOSYS);
    }

    fn listxattr(&self, _req: &Request, _ino: INodeNo, _size: u32, reply: ReplyXattr) {
        reply.error(Errno::ENOSYS);
    }

    fn access(&self, _req: &Request, ino: INodeNo, mask: AccessFlags, reply: ReplyEmpty) {
        match self.node(ino) {
            Ok(_) if mask.contains(AccessFlags::W_OK) => reply.error(Errno::EROFS),
            Ok(_) => reply.ok(),
            Err(e) => reply.error(e),
        }
    }

    // Every write-type operation: read-only file system.

    fn setattr(
        &self,
        _req: &Request,
        _ino: INodeNo,
        _mode: Option<u32>,
        _uid: Option<u32>,
        _gid: Option<u32>,
        _size: Option<u64>,
        _atime: Option<TimeOrNow>,
        _mtime: Option<TimeOrNow>,
        _ctime: Option<SystemTime>,
        _fh: Option<FileHandle>,
        _crtime: Option<SystemTime>,
        _chgtime: Option<SystemTime>,
        _bkuptime: Option<SystemTime>,
        _flags: Option<BsdFileFlags>,
        reply: ReplyAttr,
    ) {
        reply.error(Errno::EROFS);
    }

    fn mknod(
        &self,
        _req: &Request,
        _parent: INodeNo,
        _name: &OsStr,
        _mode: u32,
        _umask: u32,
        _rdev: u32,
        reply: ReplyEntry,
    ) {
        reply.error(Errno::EROFS);
    }

    fn mkdir(
        &self,
        _req: &Request,
        _parent: INodeNo,
        _name: &OsStr,
        _mode: u32,
        _umask: u32,
        reply: ReplyEntry,
    ) {
        reply.error(Errno::EROFS);
    }

    fn unlink(&self, _req: &Request, _parent: INodeNo, _name: &OsStr, reply: ReplyEmpty) {
        reply.error(Errno::EROFS);
    }

    fn rmdir(&self, _req: &Request, _parent: INodeNo, _name: &OsStr, reply: ReplyEmpty) {
        reply.error(Errno::EROFS);
    }

    fn symlink(&self, _req: &Request, _parent: INodeNo, _name: &OsStr, _target: &Path, reply: ReplyEntry) {
        reply.error(Errno::EROFS);
    }

    fn rename(
        &self,
        _req: &Request,
        _parent: INodeNo,
        _name: &OsStr,
        _newparent: INodeNo,
        _newname: &OsStr,
        _flags: RenameFlags,
        reply: ReplyEmpty,
    ) {
        reply.error(Errno::EROFS);
    }

    fn link(&self, _req: &Request, _ino: INodeNo, _newparent: INodeNo, _newname: &OsStr, reply: ReplyEntry) {
        reply.error(Errno::EROFS);
    }

    fn write(
        &self,
        _req: &Request,
        _ino: INodeNo,
        _fh: FileHandle,
        _offset: u64,
        _data: &[u8],
        _write_flags: WriteFlags,
        _flags: OpenFlags,
        _lock_owner: Option<LockOwner>,
        reply: ReplyWrite,
    ) {
        reply.error(Errno::EROFS);
    }

    fn create(
        &self,
        _req: &Request,
        _parent: INodeNo,
        _name: &OsStr,
        _mode: u32,
        _umask: u32,
        _flags: i32,
        reply: ReplyCreate,
    ) {
        reply.error(Errno::EROFS);
    }

    fn setxattr(
        &self,
        _req: &Request,
        _ino: INodeNo,
        _name: &OsStr,
        _value: &[u8],
        _flags: i32,
        _position: u32,
        reply: ReplyEmpty,
    ) {
        reply.error(Errno::EROFS);
    }

    fn removexattr(&self, _req: &Request, _ino: INodeNo, _name: &OsStr, reply: ReplyEmpty) {
        reply.error(Errno::EROFS);
    }

    fn fallocate(
        &self,
        _req: &Request,
        _ino: INodeNo,
        _fh: FileHandle,
        _offset: u64,
        _length: u64,
        _mode: i32,
        reply: ReplyEmpty,
    ) {
        reply.error(Errno::EROFS);
    }

    fn copy_file_range(
        &self,
        _req: &Request,
        _ino_in: INodeNo,
        _fh_in: FileHandle,
        _offset_in: u64,
        _ino_out: INodeNo,
        _fh_out: FileHandle,
        _offset_out: u64,
        _len: u64,
        _flags: CopyFileRangeFlags,
        reply: ReplyWrite,
    ) {
        reply.error(Errno::EROFS);
    }
}

/// Attributes of a negative entry (node id 0).
fn negative_attr() -> FileAttr {
    FileAttr {
        ino: INodeNo(0),
        size: 0,
        blocks: 0,
        atime: SystemTime::UNIX_EPOCH,
        mtime: SystemTime::UNIX_EPOCH,
        ctime: SystemTime::UNIX_EPOCH,
        crtime: SystemTime::UNIX_EPOCH,
        kind: fuser::FileType::RegularFile,
        perm: 0,
        nlink: 0,
        uid: 0,
        gid: 0,
        rdev: 0,
        blksize: 0,
        flags: 0,
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
        FsmFs::new(Arc::new(sample_index()), Settings { own, kernel: KernelCache::default(), cache_bytes })
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

    const RDONLY: OpenFlags = OpenFlags(libc::O_RDONLY);

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
        assert_eq!(fs.open_file(m, OpenFlags(libc::O_WRONLY)), Err(Errno::EROFS));
        assert_eq!(fs.open_file(m, OpenFlags(libc::O_RDWR)), Err(Errno::EROFS));
        assert_eq!(fs.open_file(m, OpenFlags(libc::O_RDONLY | libc::O_TRUNC)), Err(Errno::EROFS));
        assert_eq!(fs.open_file(Tree::ROOT, RDONLY), Err(Errno::EISDIR));
        assert_eq!(fs.lookup_name(ino_of(m), OsStr::new("x")), Err(Errno::ENOTDIR));
        assert_eq!(fs.lookup_name(INodeNo(0), OsStr::new("x")), Err(Errno::ENOENT));
        assert_eq!(fs.lookup_name(INodeNo(1 << 40), OsStr::new("x")), Err(Errno::ENOENT));
        let long = "x".repeat(NAME_MAX + 1);
        assert_eq!(fs.lookup_name(INodeNo(1), OsStr::new(&long)), Err(Errno::ENAMETOOLONG));
        let got = fs.lookup_name(INodeNo(1), OsStr::new("MANIFEST.json")).unwrap().unwrap();
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
        let fs =
            FsmFs::new(Arc::new(index), Settings { own, kernel: KernelCache::default(), cache_bytes: 0 });
        let ck = fs.index().tree.resolve(b"CHECKSUMS").unwrap();
        fs.open_file(ck, RDONLY).unwrap();
        let text = read_all(&fs, ck, 0, 100);
        assert_eq!(text.len() as u64, fs.size(ck).unwrap());
        let files = fs.index().tree.files().count() - 1;
        assert_eq!(text.split(|&b| b == b'\n').filter(|l| !l.is_empty()).count(), files);
    }

    #[test]
    fn mountinfo_paths_unescape() {
        assert_eq!(unescape_mountinfo("/mnt/a\\040b"), b"/mnt/a b");
        assert_eq!(unescape_mountinfo("/x\\134y\\"), b"/x\\y\\");
        assert!(is_mount_point(Path::new("/")));
        assert!(!is_mount_point(Path::new("/definitely/not/mounted")));
    }
}
