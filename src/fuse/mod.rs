//! The FUSE glue: `fuser::Filesystem` over the core in [`fs`].
//!
//! Every callback is a few lines: convert the request's fuser types to the
//! core's ([`Ino`], `open(2)` flags as `i32`), call [`FsmFs`], convert the
//! answer back ([`Attr`] → `FileAttr`, [`Errno`] → `fuser::Errno`). What
//! stays here is what only the kernel protocol knows: the TTLs and open
//! flags that let the kernel cache everything ([`KernelCache`]), the init
//! handshake, zero-message opens, negative entries, and the ENOSYS/EROFS
//! answers to operations a read-only snapshot never serves. The mount
//! serves only the indexed snapshot (a file changed under it answers EIO,
//! `docs/fuse.md`), so the kernel is told to cache everything forever.
//!
//! The other files: `fs.rs`, `attr.rs`, `cache.rs` are the core (no fuser
//! types); `daemon.rs`, `mounting.rs`, `options.rs` mount and unmount.

pub(crate) mod attr;
pub(crate) mod cache;
pub(crate) mod daemon;
pub(crate) mod fs;
pub(crate) mod mounting;
pub(crate) mod options;

use std::ffi::OsStr;
use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use fuser::{
    AccessFlags, BsdFileFlags, CopyFileRangeFlags, FileAttr, FileHandle, FileType, Filesystem, FopenFlags,
    Generation, INodeNo, InitFlags, KernelConfig, LockOwner, OpenFlags, RenameFlags, ReplyAttr, ReplyCreate,
    ReplyData, ReplyDirectory, ReplyDirectoryPlus, ReplyEmpty, ReplyEntry, ReplyOpen, ReplyStatfs,
    ReplyWrite, ReplyXattr, Request, TimeOrNow, WriteFlags,
};

use crate::index::Index;
pub(crate) use attr::{Attr, FileKind, Ino, Ownership};
pub(crate) use fs::{Errno, FsmFs, DEFAULT_CACHE_MB};
pub use mounting::is_mount_point;

/// "Forever" for entry and attribute timeouts: ~136 years, well inside
/// what every kernel converts without overflow.
pub(crate) const FOREVER: Duration = Duration::from_secs(u32::MAX as u64);

/// How much the kernel may cache. All on by default; the switches exist
/// to measure each choice (`docs/fuse.md`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct KernelCache {
    /// Entry (name → inode, including negative) and attribute timeout.
    pub(crate) ttl: Duration,
    /// `FOPEN_KEEP_CACHE`: page cache survives close/open.
    pub(crate) keep_cache: bool,
    /// `FOPEN_CACHE_DIR`: the kernel keeps directory listings.
    pub(crate) cache_dir: bool,
    /// `FUSE_DO_READDIRPLUS`: listings carry attributes.
    pub(crate) readdirplus: bool,
    /// `FUSE_READDIRPLUS_AUTO`: let the kernel fall back to plain readdir
    /// after the first chunk unless it sees stats in between. Off: `find`,
    /// `tar` and `rsync` read a whole directory before they stat, so the
    /// fallback costs them one LOOKUP per entry.
    pub(crate) readdirplus_auto: bool,
    /// Answer open/opendir with ENOSYS where the kernel supports
    /// zero-message opens: no OPEN/FLUSH/RELEASE round trips per file,
    /// and the kernel then keeps page cache and listings by itself.
    pub(crate) zero_message_open: bool,
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

/// Everything that shapes what the mount serves, beyond the index. Glue,
/// not core: it carries the kernel's cache policy; the core gets `own`
/// and `cache_bytes`.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Settings {
    pub(crate) own: Ownership,
    pub(crate) kernel: KernelCache,
    /// Budget of the render cache in bytes.
    pub(crate) cache_bytes: usize,
}

/// The mounted file system as fuser sees it: the core plus the kernel's
/// cache policy and what the init handshake settled.
pub(crate) struct FuseFs {
    fs: FsmFs,
    kernel: KernelCache,
    /// Set at init when the kernel does zero-message opens (then `open`
    /// and `opendir` answer ENOSYS once and are never called again).
    no_open: bool,
    no_opendir: bool,
}

impl FuseFs {
    pub(crate) fn new(index: Arc<Index>, settings: Settings) -> Self {
        FuseFs {
            fs: FsmFs::new(index, settings.own, settings.cache_bytes),
            kernel: settings.kernel,
            no_open: false,
            no_opendir: false,
        }
    }

    #[cfg(test)]
    pub(crate) fn core(&self) -> &FsmFs {
        &self.fs
    }

    fn ttl(&self) -> Duration {
        self.kernel.ttl
    }

    fn file_open_flags(&self) -> FopenFlags {
        if self.kernel.keep_cache {
            FopenFlags::FOPEN_KEEP_CACHE
        } else {
            FopenFlags::empty()
        }
    }

    fn dir_open_flags(&self) -> FopenFlags {
        if self.kernel.cache_dir {
            // The kernel drops a cached listing on open without KEEP_CACHE.
            FopenFlags::FOPEN_CACHE_DIR | FopenFlags::FOPEN_KEEP_CACHE
        } else {
            FopenFlags::empty()
        }
    }
}

impl From<INodeNo> for Ino {
    fn from(ino: INodeNo) -> Self {
        Ino(ino.0)
    }
}

impl From<Ino> for INodeNo {
    fn from(ino: Ino) -> Self {
        INodeNo(ino.0)
    }
}

impl From<FileKind> for FileType {
    fn from(kind: FileKind) -> Self {
        match kind {
            FileKind::Directory => FileType::Directory,
            FileKind::RegularFile => FileType::RegularFile,
        }
    }
}

impl From<Errno> for fuser::Errno {
    fn from(e: Errno) -> Self {
        fuser::Errno::from_i32(e.0)
    }
}

/// A snapshot has one time per node: access, change and birth times are
/// its mtime; no device numbers, no BSD flags.
impl From<Attr> for FileAttr {
    fn from(a: Attr) -> Self {
        FileAttr {
            ino: a.ino.into(),
            size: a.size,
            blocks: a.blocks,
            atime: a.mtime,
            mtime: a.mtime,
            ctime: a.mtime,
            crtime: a.mtime,
            kind: a.kind.into(),
            perm: a.perm,
            nlink: a.nlink,
            uid: a.uid,
            gid: a.gid,
            rdev: 0,
            blksize: a.blksize,
            flags: 0,
        }
    }
}

impl Filesystem for FuseFs {
    fn init(&mut self, _req: &Request, config: &mut KernelConfig) -> std::io::Result<()> {
        let mut want = InitFlags::FUSE_PARALLEL_DIROPS;
        if self.kernel.readdirplus {
            want |= InitFlags::FUSE_DO_READDIRPLUS;
            if self.kernel.readdirplus_auto {
                want |= InitFlags::FUSE_READDIRPLUS_AUTO;
            }
        }
        // Ask only for what this kernel offers.
        let caps = config.capabilities();
        let _ = config.add_capabilities(want & caps);
        if self.kernel.zero_message_open {
            self.no_open = caps.contains(InitFlags::FUSE_NO_OPEN_SUPPORT);
            self.no_opendir = caps.contains(InitFlags::FUSE_NO_OPENDIR_SUPPORT);
        }
        Ok(())
    }

    fn lookup(&self, _req: &Request, parent: INodeNo, name: &OsStr, reply: ReplyEntry) {
        match self.fs.lookup_name(parent.into(), name) {
            Ok(Some(attr)) => reply.entry(&self.ttl(), &attr.into(), Generation(0)),
            // Node id 0 with a timeout: the kernel caches the miss.
            Ok(None) => reply.entry(&self.ttl(), &negative_attr(), Generation(0)),
            Err(e) => reply.error(e.into()),
        }
    }

    fn getattr(&self, _req: &Request, ino: INodeNo, _fh: Option<FileHandle>, reply: ReplyAttr) {
        match self.fs.getattr(ino.into()) {
            Ok(attr) => reply.attr(&self.ttl(), &attr.into()),
            Err(e) => reply.error(e.into()),
        }
    }

    fn readlink(&self, _req: &Request, _ino: INodeNo, reply: ReplyData) {
        reply.error(fuser::Errno::EINVAL);
    }

    fn open(&self, _req: &Request, ino: INodeNo, flags: OpenFlags, reply: ReplyOpen) {
        if self.no_open && self.kernel.keep_cache {
            // The kernel then applies KEEP_CACHE itself. A file that
            // cannot render already failed its lookup with EIO, so nothing
            // is lost by not rendering here.
            return reply.error(fuser::Errno::ENOSYS);
        }
        match self.fs.open(ino.into(), flags.0) {
            Ok(fh) => reply.opened(FileHandle(fh), self.file_open_flags()),
            Err(e) => reply.error(e.into()),
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
        // The reply is sent inside the closure, straight from the source.
        let mut reply = Some(reply);
        let r = self.fs.read(ino.into(), fh.0, offset, size, |bytes| {
            if let Some(r) = reply.take() {
                r.data(bytes)
            }
        });
        if let (Err(e), Some(r)) = (r, reply) {
            r.error(e.into());
        }
    }

    // ENOSYS for flush/fsync/fsyncdir/xattrs: the kernel remembers it and
    // stops asking, which saves a round trip per close (or per `ls -l`
    // entry); callers see success (flush, fsync) or EOPNOTSUPP (xattrs).

    fn flush(&self, _req: &Request, _ino: INodeNo, _fh: FileHandle, _lo: LockOwner, reply: ReplyEmpty) {
        reply.error(fuser::Errno::ENOSYS);
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
        self.fs.release_file(fh.0);
        reply.ok();
    }

    fn fsync(&self, _req: &Request, _ino: INodeNo, _fh: FileHandle, _datasync: bool, reply: ReplyEmpty) {
        reply.error(fuser::Errno::ENOSYS);
    }

    fn opendir(&self, _req: &Request, ino: INodeNo, flags: OpenFlags, reply: ReplyOpen) {
        if self.no_opendir && self.kernel.cache_dir {
            // The kernel then caches listings as with KEEP_CACHE|CACHE_DIR.
            return reply.error(fuser::Errno::ENOSYS);
        }
        match self.fs.opendir(ino.into(), flags.0) {
            Ok(()) => reply.opened(FileHandle(0), self.dir_open_flags()),
            Err(e) => reply.error(e.into()),
        }
    }

    fn readdir(&self, _req: &Request, ino: INodeNo, _fh: FileHandle, offset: u64, mut reply: ReplyDirectory) {
        match self.fs.readdir(ino.into(), offset, |e| reply.add(e.ino.into(), e.next, e.kind.into(), e.name))
        {
            Ok(()) => reply.ok(),
            Err(e) => reply.error(e.into()),
        }
    }

    fn readdirplus(
        &self,
        _req: &Request,
        ino: INodeNo,
        _fh: FileHandle,
        offset: u64,
        mut reply: ReplyDirectoryPlus,
    ) {
        let listed = self.fs.readdirplus(ino.into(), offset, |e| {
            // Attributes of a file that does not render get a zero timeout:
            // the kernel looks it up again on use, which then fails.
            let ttl = if e.attr_known { self.ttl() } else { Duration::ZERO };
            reply.add(e.attr.ino.into(), e.next, e.name, &ttl, &e.attr.into(), Generation(0))
        });
        match listed {
            Ok(()) => reply.ok(),
            Err(e) => reply.error(e.into()),
        }
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
        reply.error(fuser::Errno::ENOSYS);
    }

    fn statfs(&self, _req: &Request, _ino: INodeNo, reply: ReplyStatfs) {
        let s = self.fs.statfs();
        reply.statfs(s.blocks, s.bfree, s.bavail, s.files, s.ffree, s.bsize, s.namelen, s.frsize);
    }

    fn getxattr(&self, _req: &Request, _ino: INodeNo, _name: &OsStr, _size: u32, reply: ReplyXattr) {
        reply.error(fuser::Errno::ENOSYS);
    }

    fn listxattr(&self, _req: &Request, _ino: INodeNo, _size: u32, reply: ReplyXattr) {
        reply.error(fuser::Errno::ENOSYS);
    }

    fn access(&self, _req: &Request, ino: INodeNo, mask: AccessFlags, reply: ReplyEmpty) {
        match self.fs.access(ino.into(), mask.bits()) {
            Ok(()) => reply.ok(),
            Err(e) => reply.error(e.into()),
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
        reply.error(fuser::Errno::EROFS);
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
        reply.error(fuser::Errno::EROFS);
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
        reply.error(fuser::Errno::EROFS);
    }

    fn unlink(&self, _req: &Request, _parent: INodeNo, _name: &OsStr, reply: ReplyEmpty) {
        reply.error(fuser::Errno::EROFS);
    }

    fn rmdir(&self, _req: &Request, _parent: INodeNo, _name: &OsStr, reply: ReplyEmpty) {
        reply.error(fuser::Errno::EROFS);
    }

    fn symlink(&self, _req: &Request, _parent: INodeNo, _name: &OsStr, _target: &Path, reply: ReplyEntry) {
        reply.error(fuser::Errno::EROFS);
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
        reply.error(fuser::Errno::EROFS);
    }

    fn link(&self, _req: &Request, _ino: INodeNo, _newparent: INodeNo, _newname: &OsStr, reply: ReplyEntry) {
        reply.error(fuser::Errno::EROFS);
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
        reply.error(fuser::Errno::EROFS);
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
        reply.error(fuser::Errno::EROFS);
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
        reply.error(fuser::Errno::EROFS);
    }

    fn removexattr(&self, _req: &Request, _ino: INodeNo, _name: &OsStr, reply: ReplyEmpty) {
        reply.error(fuser::Errno::EROFS);
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
        reply.error(fuser::Errno::EROFS);
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
        reply.error(fuser::Errno::EROFS);
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
        kind: FileType::RegularFile,
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
mod tests {
    use super::*;

    /// Every field distinct, so a field dropped or swapped in the
    /// conversion shows.
    #[test]
    fn core_attributes_reach_fuser_field_by_field() {
        let mtime = SystemTime::UNIX_EPOCH + Duration::from_secs(1_700_000_000);
        let a = Attr {
            ino: Ino(7),
            size: 1000,
            blocks: 2,
            mtime,
            kind: FileKind::Directory,
            perm: 0o750,
            nlink: 3,
            uid: 11,
            gid: 12,
            blksize: 4096,
        };
        let f = FileAttr::from(a);
        assert_eq!(f.ino, INodeNo(7));
        assert_eq!((f.size, f.blocks), (1000, 2));
        assert_eq!((f.atime, f.mtime, f.ctime, f.crtime), (mtime, mtime, mtime, mtime));
        assert_eq!(f.kind, FileType::Directory);
        assert_eq!((f.perm, f.nlink, f.uid, f.gid), (0o750, 3, 11, 12));
        assert_eq!((f.rdev, f.blksize, f.flags), (0, 4096, 0));
        let file = FileAttr::from(Attr { kind: FileKind::RegularFile, ..a });
        assert_eq!(file.kind, FileType::RegularFile);
        assert_eq!(Ino::from(INodeNo(u64::MAX)), Ino(u64::MAX));
        assert_eq!(INodeNo::from(Ino(u64::MAX)), INodeNo(u64::MAX));
    }

    #[test]
    fn core_errors_reach_fuser_as_the_same_errno() {
        let all =
            [Errno::ENOENT, Errno::EIO, Errno::EISDIR, Errno::ENOTDIR, Errno::EROFS, Errno::ENAMETOOLONG];
        let fuser = [
            fuser::Errno::ENOENT,
            fuser::Errno::EIO,
            fuser::Errno::EISDIR,
            fuser::Errno::ENOTDIR,
            fuser::Errno::EROFS,
            fuser::Errno::ENAMETOOLONG,
        ];
        for (e, f) in all.into_iter().zip(fuser) {
            assert_eq!(fuser::Errno::from(e), f);
            assert_eq!(fuser::Errno::from(e).code(), e.0);
        }
    }

    #[test]
    fn the_glue_takes_its_settings_apart() {
        let own = Ownership { uid: 5, gid: 6, file_mode: Some(0o400), dir_mode: None };
        let kernel = KernelCache { keep_cache: false, ..KernelCache::default() };
        let index = Arc::new(fs::tests::sample_index());
        let glue = FuseFs::new(index, Settings { own, kernel, cache_bytes: 0 });
        assert_eq!(glue.kernel, kernel);
        assert_eq!(glue.file_open_flags(), FopenFlags::empty());
        assert_eq!(glue.dir_open_flags(), FopenFlags::FOPEN_CACHE_DIR | FopenFlags::FOPEN_KEEP_CACHE);
        let root = glue.core().getattr(Ino(1)).unwrap();
        assert_eq!((root.uid, root.gid), (5, 6));
        let m = glue.core().index().tree.resolve(b"MANIFEST.json").unwrap();
        assert_eq!(glue.core().attr(m).unwrap().perm, 0o400);
    }
}
