//! The output side of `pack`: an unnamed file in OUT's directory, written
//! through a hashing pipeline, named only when it is published
//! (`pack.md` §3.3, `design.md` §6).
//!
//! The payload is written to an `O_TMPFILE` file: it has no name, so a
//! failure of any kind — an error, SIGINT, SIGKILL, a full disk — leaves
//! nothing behind and cannot touch an existing OUT. Publishing takes a
//! `crate::temps` lock, links the file under the lock's temporary name
//! `.OUT.fsmfs-pack-<pid>-<16 hex>` (via `/proc/self/fd`), renames that over
//! OUT, fsyncs the directory and drops the lock; signals are blocked for
//! that window. Filesystems without `O_TMPFILE` get that named temp file
//! (and its lock) from the start instead, removed on every error path and
//! by the SIGINT/SIGTERM/SIGHUP handler; what a SIGKILL leaves there is
//! removed by the next `pack` or `extract` into the directory.
//!
//! OUT itself is only ever replaced when it is a regular file (or absent):
//! a device, FIFO, socket, symlink or directory there is refused before
//! anything is read, and checked again right before the rename.
//!
//! Writing happens on two more threads, one hashing (SHA-256 of the
//! payload goes into the sidecar), one writing and starting write-back as
//! it goes so the final fsync is short; the caller fills buffers, reading
//! S3 body chunks straight into them.

use std::ffi::{CString, OsStr, OsString};
use std::fs::File;
use std::io::{self, Write};
use std::os::fd::{AsRawFd, FromRawFd};
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::{FileExt, OpenOptionsExt};
use std::path::{Path, PathBuf};
use std::sync::mpsc::{sync_channel, Receiver, SyncSender};
use std::sync::Arc;
use std::thread::JoinHandle;

use sha2::{Digest, Sha256};

use crate::temps::{self, Temp, Unlink};

fn cvt(r: libc::c_int) -> io::Result<libc::c_int> {
    if r < 0 {
        Err(io::Error::last_os_error())
    } else {
        Ok(r)
    }
}

fn cpath(p: &Path) -> io::Result<CString> {
    CString::new(p.as_os_str().as_bytes())
        .map_err(|_| io::Error::new(io::ErrorKind::InvalidInput, "path contains NUL"))
}

/// 16 lower-case hex digits from the kernel's random source.
pub(super) fn random_hex16() -> String {
    let mut b = [0u8; 8];
    let n = unsafe { libc::getrandom(b.as_mut_ptr().cast(), b.len(), 0) };
    if n != 8 {
        // Practically unreachable; fall back to time and pid.
        let t = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap_or_default();
        b = (t.as_nanos() as u64 ^ u64::from(std::process::id()) << 32).to_le_bytes();
    }
    b.iter().map(|x| format!("{x:02x}")).collect()
}

/// Whether `O_TMPFILE` failed because the filesystem (or kernel) lacks it.
fn no_tmpfile_support(e: &io::Error) -> bool {
    matches!(e.raw_os_error(), Some(libc::EOPNOTSUPP | libc::EISDIR | libc::EINVAL | libc::ENOSYS))
}

/// Test seam: `FSMFS_PACK_NAMED_TEMP=1` takes the named-temp-file path as
/// on a filesystem without `O_TMPFILE`.
fn force_named() -> bool {
    std::env::var_os("FSMFS_PACK_NAMED_TEMP").is_some_and(|v| v == "1")
}

fn open_tmpfile(dir: &Path, flags: libc::c_int) -> io::Result<File> {
    let c = cpath(dir)?;
    let fd = cvt(unsafe { libc::open(c.as_ptr(), libc::O_TMPFILE | flags | libc::O_CLOEXEC, 0o600) })?;
    // SAFETY: fresh descriptor.
    Ok(unsafe { File::from_raw_fd(fd) })
}

/// A read-write file with no name in `dir` (sort runs): `O_TMPFILE`, or a
/// file created and unlinked at once.
pub(super) fn unnamed_file(dir: &Path) -> io::Result<File> {
    if !force_named() {
        match open_tmpfile(dir, libc::O_RDWR) {
            Ok(f) => return Ok(f),
            Err(e) if no_tmpfile_support(&e) => {}
            Err(e) => return Err(e),
        }
    }
    let p = dir.join(format!(".fsmfs-pack-run-{}", random_hex16()));
    let f = std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .create_new(true)
        .custom_flags(libc::O_NOFOLLOW | libc::O_CLOEXEC)
        .mode(0o600)
        .open(&p)?;
    std::fs::remove_file(&p)?;
    Ok(f)
}

// --- signals ------------------------------------------------------------------

/// Blocks SIGINT/SIGTERM/SIGHUP on this thread while alive: the named
/// window of a publish (and the sidecar write after it) runs to its end; a
/// signal that arrived meanwhile is delivered afterwards.
pub(super) struct SignalBlock(libc::sigset_t);

impl SignalBlock {
    pub(super) fn new() -> SignalBlock {
        unsafe {
            let mut set: libc::sigset_t = std::mem::zeroed();
            let mut old: libc::sigset_t = std::mem::zeroed();
            libc::sigemptyset(&mut set);
            for sig in temps::CLEANUP_SIGNALS {
                libc::sigaddset(&mut set, sig);
            }
            libc::pthread_sigmask(libc::SIG_BLOCK, &set, &mut old);
            SignalBlock(old)
        }
    }
}

impl Default for SignalBlock {
    fn default() -> Self {
        Self::new()
    }
}

impl Drop for SignalBlock {
    fn drop(&mut self) {
        unsafe { libc::pthread_sigmask(libc::SIG_SETMASK, &self.0, std::ptr::null_mut()) };
    }
}

// --- the output file --------------------------------------------------------

/// The payload being written: unnamed (or a named temp file) until
/// [`publish`](OutFile::publish).
pub(super) struct OutFile {
    dir: File,
    dir_path: PathBuf,
    name: OsString,
    out: PathBuf,
    file: File,
    /// The named temp file and its lock, on filesystems without
    /// `O_TMPFILE`.
    named: Option<Temp>,
}

/// What may be replaced at OUT: nothing, or a regular file (`pack.md`,
/// "What OUT may be"). A symlink is not followed: replacing it would
/// silently drop the link, writing through it would write elsewhere.
pub(super) fn check_out_target(out: &Path) -> io::Result<()> {
    match std::fs::symlink_metadata(out) {
        Ok(md) if md.file_type().is_file() => Ok(()),
        Ok(md) => Err(io::Error::other(format!(
            "{} is {}, not a regular file; pack replaces only a regular file (or creates OUT), so name a new file",
            crate::errpath::shown_path(out),
            describe(&md.file_type())
        ))),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(()),
        Err(e) => Err(io::Error::new(e.kind(), format!("{}: {e}", crate::errpath::shown_path(out)))),
    }
}

/// "a symlink", "a FIFO", … for an error line.
fn describe(ft: &std::fs::FileType) -> &'static str {
    use std::os::unix::fs::FileTypeExt;
    if ft.is_symlink() {
        "a symlink"
    } else if ft.is_dir() {
        "a directory"
    } else if ft.is_fifo() {
        "a FIFO"
    } else if ft.is_socket() {
        "a socket"
    } else if ft.is_block_device() || ft.is_char_device() {
        "a device"
    } else if ft.is_file() {
        "a regular file"
    } else {
        "a special file"
    }
}

impl OutFile {
    /// Creates the output file in `out`'s directory.
    pub(super) fn create(out: &Path) -> io::Result<OutFile> {
        let name = out
            .file_name()
            .filter(|n| !out.as_os_str().as_bytes().ends_with(b"/") && *n != OsStr::new(".."))
            .ok_or_else(|| io::Error::new(io::ErrorKind::InvalidInput, "not a file path"))?
            .to_os_string();
        let dir_path = match out.parent() {
            Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
            _ => PathBuf::from("."),
        };
        let dir = std::fs::OpenOptions::new()
            .read(true)
            .custom_flags(libc::O_DIRECTORY | libc::O_CLOEXEC)
            .open(&dir_path)?;
        let out = out.to_path_buf();
        if !force_named() {
            match open_tmpfile(&dir_path, libc::O_RDWR) {
                Ok(file) => return Ok(OutFile { dir, dir_path, name, out, file, named: None }),
                Err(e) if no_tmpfile_support(&e) => {}
                Err(e) => return Err(e),
            }
        }
        let lock = Temp::create(&dir_path, &name, temps::What::Pack)?;
        temps::arm_unlink(Unlink::Lock, lock.lock_path());
        temps::arm_unlink(Unlink::Temp, lock.path());
        let file = std::fs::OpenOptions::new()
            .read(true)
            .write(true)
            .create_new(true)
            .custom_flags(libc::O_NOFOLLOW | libc::O_CLOEXEC)
            .mode(0o600)
            .open(lock.path())
            .inspect_err(|_| disarm())?;
        Ok(OutFile { dir, dir_path, name, out, file, named: Some(lock) })
    }

    pub(super) fn file(&self) -> &File {
        &self.file
    }

    /// A path that opens this file (even while it has no name).
    pub(super) fn reopen_path(&self) -> PathBuf {
        match &self.named {
            Some(t) => t.path().to_path_buf(),
            None => PathBuf::from(format!("/proc/self/fd/{}", self.file.as_raw_fd())),
        }
    }

    /// The named temp file, if this filesystem needed one.
    #[cfg(test)]
    pub(crate) fn temp_path(&self) -> Option<&Path> {
        self.named.as_ref().map(Temp::path)
    }

    /// Gives the (already fsynced) file its name: link it as a temp name,
    /// rename that over OUT (still absent or a regular file), fsync the
    /// directory. If the directory fsync fails, OUT is removed again
    /// (upstream's rule: never leave a non-durable "success"). Call with
    /// signals blocked.
    pub(super) fn publish(mut self) -> io::Result<()> {
        let out_c = CString::new(self.name.as_bytes())
            .map_err(|_| io::Error::new(io::ErrorKind::InvalidInput, "name contains NUL"))?;
        check_out_target(&self.out)?;
        let dirfd = self.dir.as_raw_fd();
        let lock = match self.named.take() {
            Some(t) => t,
            None => {
                let t = Temp::create(&self.dir_path, &self.name, temps::What::Pack)?;
                let tc = cpath(t.path())?;
                let proc = CString::new(format!("/proc/self/fd/{}", self.file.as_raw_fd())).expect("no NUL");
                let r = unsafe {
                    libc::linkat(
                        libc::AT_FDCWD,
                        proc.as_ptr(),
                        libc::AT_FDCWD,
                        tc.as_ptr(),
                        libc::AT_SYMLINK_FOLLOW,
                    )
                };
                if r < 0 {
                    // Without /proc: AT_EMPTY_PATH (needs CAP_DAC_READ_SEARCH).
                    let empty = CString::new("").expect("no NUL");
                    cvt(unsafe {
                        libc::linkat(
                            self.file.as_raw_fd(),
                            empty.as_ptr(),
                            libc::AT_FDCWD,
                            tc.as_ptr(),
                            libc::AT_EMPTY_PATH,
                        )
                    })?;
                }
                t
            }
        };
        let tmp_c = cpath(lock.path())?;
        let renamed = cvt(unsafe { libc::renameat(libc::AT_FDCWD, tmp_c.as_ptr(), dirfd, out_c.as_ptr()) });
        if renamed.is_err() {
            unsafe { libc::unlink(tmp_c.as_ptr()) };
        }
        drop(lock);
        disarm();
        renamed?;
        if let Err(e) = self.dir.sync_all() {
            unsafe { libc::unlinkat(dirfd, out_c.as_ptr(), 0) };
            return Err(io::Error::new(e.kind(), format!("fsync {}: {e}", self.dir_path.display())));
        }
        Ok(())
    }
}

/// The signal handler has nothing of this run's left to unlink.
fn disarm() {
    temps::disarm_unlink(Unlink::Temp);
    temps::disarm_unlink(Unlink::Lock);
}

impl Drop for OutFile {
    fn drop(&mut self) {
        if let Some(t) = self.named.take() {
            let _ = std::fs::remove_file(t.path());
            drop(t);
            disarm();
        }
    }
}

/// `path` with `suffix` appended to its last component (`OUT` →
/// `OUT.encode_info.json`).
pub(super) fn with_suffix(path: &Path, suffix: &str) -> PathBuf {
    let mut s = path.as_os_str().to_os_string();
    s.push(suffix);
    s.into()
}

/// fsyncs the directory holding `path`.
pub(super) fn fsync_parent(path: &Path) -> io::Result<()> {
    let dir = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    };
    File::open(dir)?.sync_all()
}

/// The checks [`open_sidecar`] makes, without touching anything: run
/// before OUT is replaced, so a sidecar path that would be refused (a
/// symlink, a hard link, a FIFO, a directory) fails the run while the old
/// OUT and its sidecar are still in place.
pub(super) fn check_sidecar_target(path: &Path) -> io::Result<()> {
    let md = match std::fs::symlink_metadata(path) {
        Ok(md) => md,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(()),
        Err(e) => return Err(e),
    };
    let ft = md.file_type();
    if ft.is_symlink() {
        return Err(io::Error::other(format!("refusing to overwrite symlink at {}", path.display())));
    }
    if !ft.is_file() {
        return Err(io::Error::other(format!(
            "refusing to write to non-regular file ({}) at {}",
            describe(&ft),
            crate::errpath::shown_path(path)
        )));
    }
    if std::os::unix::fs::MetadataExt::nlink(&md) > 1 {
        return Err(io::Error::other(format!(
            "refusing to overwrite hard-linked file at {}",
            path.display()
        )));
    }
    Ok(())
}

/// `pack.md` §3.5: opens a sidecar (`OUT.encode_info.json`,
/// `OUT.mismatch.txt`) for writing without following a symlink, refusing
/// FIFOs, other non-regular files and hard links, then truncates it and
/// forces mode 0600.
pub(super) fn open_sidecar(path: &Path) -> io::Result<File> {
    let c = cpath(path)?;
    let flags = libc::O_WRONLY | libc::O_CREAT | libc::O_NOFOLLOW | libc::O_NONBLOCK | libc::O_CLOEXEC;
    let fd = unsafe { libc::open(c.as_ptr(), flags, 0o600 as libc::c_uint) };
    if fd < 0 {
        let e = io::Error::last_os_error();
        return Err(match e.raw_os_error() {
            Some(libc::ELOOP) => {
                io::Error::other(format!("refusing to overwrite symlink at {}", path.display()))
            }
            Some(libc::ENXIO) => io::Error::other(format!("refusing to write to FIFO at {}", path.display())),
            _ => e,
        });
    }
    // SAFETY: fresh descriptor.
    let f = unsafe { File::from_raw_fd(fd) };
    let md = f.metadata()?;
    if !md.file_type().is_file() {
        return Err(io::Error::other(format!("refusing to write to non-regular file at {}", path.display())));
    }
    if std::os::unix::fs::MetadataExt::nlink(&md) > 1 {
        return Err(io::Error::other(format!(
            "refusing to overwrite hard-linked file at {}",
            path.display()
        )));
    }
    f.set_len(0)?;
    use std::os::unix::fs::PermissionsExt;
    f.set_permissions(std::fs::Permissions::from_mode(0o600))?;
    Ok(f)
}

// --- the hashing write pipeline --------------------------------------------

const BUF_CAP: usize = 4 << 20;
/// Start write-back every this many bytes.
const WRITE_BEHIND: u64 = 32 << 20;

/// Why filling from an input file failed.
#[derive(Debug)]
pub(super) enum FillError {
    /// Reading the input (a tree problem).
    Read(io::Error),
    /// Writing the output (an environment problem).
    Write(io::Error),
}

/// A filled buffer on its way to the hashing and the writing thread; the
/// last of the two to finish with it hands it back for reuse.
type Chunk = (Arc<Vec<u8>>, usize);

/// A `Write` that hands full buffers to two threads: one hashes them (the
/// sidecar's SHA-256), the other writes them to the output file, so the
/// copy into the page cache and the hash run side by side.
pub(super) struct HashedWriter {
    buf: Vec<u8>,
    pos: usize,
    to_hash: Option<SyncSender<Chunk>>,
    to_write: Option<SyncSender<Chunk>>,
    free: Receiver<Vec<u8>>,
    hasher: Option<JoinHandle<[u8; 32]>>,
    writer: Option<JoinHandle<io::Result<()>>>,
    written: u64,
    progress: indicatif::ProgressBar,
}

/// Returns a buffer for reuse once no other thread holds it.
fn recycle(buf: Arc<Vec<u8>>, free: &SyncSender<Vec<u8>>) {
    if let Some(v) = Arc::into_inner(buf) {
        let _ = free.try_send(v);
    }
}

impl HashedWriter {
    /// Writes into `file` from its current offset (0).
    pub(super) fn new(file: File, progress: indicatif::ProgressBar) -> HashedWriter {
        let (to_hash, hash_rx) = sync_channel::<Chunk>(2);
        let (to_write, write_rx) = sync_channel::<Chunk>(2);
        let (free_tx, free) = sync_channel::<Vec<u8>>(4);
        let free_tx2 = free_tx.clone();
        let hasher = std::thread::Builder::new()
            .name("pack-hash".into())
            .spawn(move || {
                let mut h = Sha256::new();
                for (buf, len) in hash_rx {
                    h.update(&buf[..len]);
                    recycle(buf, &free_tx);
                }
                h.finalize().into()
            })
            .expect("spawn hashing thread");
        let writer = std::thread::Builder::new()
            .name("pack-write".into())
            .spawn(move || {
                let mut f = file;
                let mut off = 0u64;
                let mut behind = 0u64;
                for (buf, len) in write_rx {
                    f.write_all(&buf[..len])?;
                    recycle(buf, &free_tx2);
                    off += len as u64;
                    if off - behind >= WRITE_BEHIND {
                        // Best effort: start write-back of what is written.
                        unsafe {
                            libc::sync_file_range(
                                f.as_raw_fd(),
                                behind as i64,
                                (off - behind) as i64,
                                libc::SYNC_FILE_RANGE_WRITE,
                            )
                        };
                        behind = off;
                    }
                }
                Ok(())
            })
            .expect("spawn writing thread");
        HashedWriter {
            buf: vec![0; BUF_CAP],
            pos: 0,
            to_hash: Some(to_hash),
            to_write: Some(to_write),
            free,
            hasher: Some(hasher),
            writer: Some(writer),
            written: 0,
            progress,
        }
    }

    /// Stops both threads; the hash, or the writer's error.
    fn join(&mut self) -> io::Result<[u8; 32]> {
        self.to_hash = None;
        self.to_write = None;
        let written = match self.writer.take().map(|w| w.join()) {
            Some(Ok(r)) => r,
            _ => Err(io::Error::other("writing thread panicked")),
        };
        let hash = match self.hasher.take().map(|h| h.join()) {
            Some(Ok(d)) => Ok(d),
            _ => Err(io::Error::other("hashing thread panicked")),
        };
        written.and(hash)
    }

    fn send(&mut self) -> io::Result<()> {
        if self.pos == 0 {
            return Ok(());
        }
        let next = self.free.try_recv().unwrap_or_else(|_| vec![0; BUF_CAP]);
        let full = Arc::new(std::mem::replace(&mut self.buf, next));
        let len = std::mem::replace(&mut self.pos, 0);
        let (Some(h), Some(w)) = (&self.to_hash, &self.to_write) else {
            return Err(io::Error::other("output already finished"));
        };
        if w.send((full.clone(), len)).is_err() || h.send((full, len)).is_err() {
            // The writer stopped on an error: report it.
            return Err(self.join().err().unwrap_or_else(|| io::Error::other("writing thread stopped")));
        }
        self.written += len as u64;
        self.progress.set_position(self.written);
        Ok(())
    }

    /// Copies `len` bytes at `offset` of `src` into the output.
    pub(super) fn fill_from(&mut self, src: &File, mut offset: u64, len: u64) -> Result<(), FillError> {
        let mut left = len;
        while left > 0 {
            if self.pos == BUF_CAP {
                self.send().map_err(FillError::Write)?;
            }
            let take = left.min((BUF_CAP - self.pos) as u64) as usize;
            let n = src.read_at(&mut self.buf[self.pos..self.pos + take], offset).map_err(FillError::Read)?;
            if n == 0 {
                return Err(FillError::Read(io::Error::new(
                    io::ErrorKind::UnexpectedEof,
                    "file shrank while it was being packed",
                )));
            }
            self.pos += n;
            offset += n as u64;
            left -= n as u64;
        }
        Ok(())
    }

    /// Flushes everything and returns the SHA-256 of all bytes written.
    pub(super) fn finish(mut self) -> io::Result<[u8; 32]> {
        self.send()?;
        self.join()
    }
}

impl Write for HashedWriter {
    fn write(&mut self, data: &[u8]) -> io::Result<usize> {
        if self.pos == BUF_CAP {
            self.send()?;
        }
        let n = data.len().min(BUF_CAP - self.pos);
        self.buf[self.pos..self.pos + n].copy_from_slice(&data[..n]);
        self.pos += n;
        Ok(n)
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

impl Drop for HashedWriter {
    fn drop(&mut self) {
        let _ = self.join();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Read;

    #[test]
    fn unnamed_until_published() {
        let tmp = tempfile::tempdir().unwrap();
        let out = tmp.path().join("x.fsm");
        std::fs::write(&out, b"old").unwrap();
        let o = OutFile::create(&out).unwrap();
        assert!(o.temp_path().is_none(), "tmpfs/ext4 support O_TMPFILE");
        let mut w = HashedWriter::new(o.file().try_clone().unwrap(), indicatif::ProgressBar::hidden());
        w.write_all(b"hello ").unwrap();
        let mut src = tempfile::tempfile().unwrap();
        src.write_all(b"xxworldxx").unwrap();
        w.fill_from(&src, 2, 5).unwrap();
        assert!(matches!(w.fill_from(&src, 7, 5), Err(FillError::Read(_))));
        let digest = w.finish().unwrap();
        let mut back = String::new();
        File::open(o.reopen_path()).unwrap().read_to_string(&mut back).unwrap();
        assert!(back.starts_with("hello world"));
        assert_eq!(std::fs::read(&out).unwrap(), b"old");
        // Only OUT is in the directory.
        assert_eq!(std::fs::read_dir(tmp.path()).unwrap().count(), 1);
        let _ = digest;
        o.publish().unwrap();
        assert!(std::fs::read(&out).unwrap().starts_with(b"hello world"));
        assert_eq!(std::fs::read_dir(tmp.path()).unwrap().count(), 1);
    }

    #[test]
    fn dropped_output_leaves_nothing() {
        let tmp = tempfile::tempdir().unwrap();
        let out = tmp.path().join("y.fsm");
        drop(OutFile::create(&out).unwrap());
        assert_eq!(std::fs::read_dir(tmp.path()).unwrap().count(), 0);
        let f = unnamed_file(tmp.path()).unwrap();
        assert_eq!(std::fs::read_dir(tmp.path()).unwrap().count(), 0);
        drop(f);
    }

    #[test]
    fn sidecar_open_refuses_links() {
        let tmp = tempfile::tempdir().unwrap();
        let p = tmp.path().join("s.json");
        std::fs::write(tmp.path().join("target"), b"keep").unwrap();
        std::os::unix::fs::symlink("target", &p).unwrap();
        assert!(open_sidecar(&p).unwrap_err().to_string().contains("symlink"));
        std::fs::remove_file(&p).unwrap();
        std::fs::hard_link(tmp.path().join("target"), &p).unwrap();
        assert!(open_sidecar(&p).unwrap_err().to_string().contains("hard-linked"));
        assert_eq!(std::fs::read(tmp.path().join("target")).unwrap(), b"keep");
        std::fs::remove_file(&p).unwrap();
        std::fs::write(&p, b"old content").unwrap();
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o644)).unwrap();
        let mut f = open_sidecar(&p).unwrap();
        f.write_all(b"new").unwrap();
        assert_eq!(std::fs::read(&p).unwrap(), b"new");
        assert_eq!(std::fs::metadata(&p).unwrap().permissions().mode() & 0o777, 0o600);
    }
}
