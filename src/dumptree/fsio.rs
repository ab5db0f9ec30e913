//! Reading the input tree safely (`pack.md` §6.8).
//!
//! Everything below an adapter root is reached through directory handles
//! with `O_NOFOLLOW`: a symlink anywhere in the tree is refused rather than
//! followed, so nothing outside the tree can be read and nothing can be
//! read twice under two names. Files must be regular with one link (a hard
//! link could alias a file outside the tree); entries whose directory type
//! says they are not regular are refused before any `open`, so a FIFO or a
//! device is never opened. Directory listings come from the open handle,
//! not from re-resolving a path.
//!
//! Descriptors stay bounded whatever the depth: a recursive walk lists a
//! directory completely (files handed on, subdirectory names kept) before
//! it descends, so no listing stays open across a descent, and below
//! [`HELD_LEVELS`] a directory closes its own handle while a subdirectory
//! is walked and reopens it through `..` ([`Dir::open_parent`]).

use std::ffi::{CStr, CString};
use std::fs::File;
use std::io::{self, Read};
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd};
use std::os::unix::ffi::OsStrExt;
use std::path::Path;

/// Levels of a recursive walk that keep their directory handle open while
/// their subdirectories are walked (deeper levels reopen theirs).
pub(crate) const HELD_LEVELS: usize = 16;

/// What a directory entry is, without following symlinks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    Dir,
    File,
    Symlink,
    /// FIFO, socket, device.
    Special,
}

impl Kind {
    fn from_mode(mode: libc::mode_t) -> Kind {
        match mode & libc::S_IFMT {
            libc::S_IFDIR => Kind::Dir,
            libc::S_IFREG => Kind::File,
            libc::S_IFLNK => Kind::Symlink,
            _ => Kind::Special,
        }
    }

    pub(crate) fn describe(self) -> &'static str {
        match self {
            Kind::Dir => "a directory",
            Kind::File => "a regular file",
            Kind::Symlink => "a symlink",
            Kind::Special => "a special file (FIFO, socket or device)",
        }
    }
}

/// Identity and size of a regular file, as `fstat` reports it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct FileId {
    pub(crate) dev: u64,
    pub(crate) ino: u64,
    pub size: u64,
}

fn cstr(name: &[u8]) -> io::Result<CString> {
    CString::new(name).map_err(|_| io::Error::new(io::ErrorKind::InvalidInput, "name contains NUL"))
}

fn cvt(r: libc::c_int) -> io::Result<libc::c_int> {
    if r < 0 {
        Err(io::Error::last_os_error())
    } else {
        Ok(r)
    }
}

fn fstat(fd: RawFd) -> io::Result<libc::stat> {
    // SAFETY: `st` is plain old data filled in by the kernel.
    let mut st: libc::stat = unsafe { std::mem::zeroed() };
    cvt(unsafe { libc::fstat(fd, &mut st) })?;
    Ok(st)
}

/// Why a file could not be used as the input of a record.
#[derive(Debug, thiserror::Error)]
pub(crate) enum FileError {
    /// Does not exist.
    #[error("does not exist")]
    Missing,
    /// Exists but is not a regular file.
    #[error("is {}, not a regular file", .0.describe())]
    NotRegular(Kind),
    /// A regular file with more than one link.
    #[error("has {0} hard links (a hard link may alias a file outside the tree)")]
    HardLinked(u64),
    #[error(transparent)]
    Io(io::Error),
}

impl From<io::Error> for FileError {
    fn from(e: io::Error) -> Self {
        match e.raw_os_error() {
            Some(libc::ENOENT) => FileError::Missing,
            Some(libc::ELOOP) => FileError::NotRegular(Kind::Symlink),
            _ => FileError::Io(e),
        }
    }
}

/// An open directory of the input tree.
#[derive(Debug)]
pub(crate) struct Dir {
    fd: OwnedFd,
}

impl Dir {
    /// Opens the tree root itself (a symlinked root is followed, as upstream
    /// does).
    pub(crate) fn open_root(path: &Path) -> io::Result<Dir> {
        let c = cstr(path.as_os_str().as_bytes())?;
        let fd =
            cvt(unsafe { libc::open(c.as_ptr(), libc::O_RDONLY | libc::O_DIRECTORY | libc::O_CLOEXEC) })?;
        // SAFETY: `fd` was just returned by open and is owned by nobody else.
        Ok(Dir { fd: unsafe { OwnedFd::from_raw_fd(fd) } })
    }

    /// A second handle on the same directory.
    pub(crate) fn try_clone(&self) -> io::Result<Dir> {
        Ok(Dir { fd: self.fd.try_clone()? })
    }

    pub(crate) fn raw_fd(&self) -> RawFd {
        self.fd.as_raw_fd()
    }

    /// `fstatat(name, AT_SYMLINK_NOFOLLOW)`; `None` when it does not exist.
    pub(crate) fn stat(&self, name: &[u8]) -> io::Result<Option<libc::stat>> {
        let c = cstr(name)?;
        let mut st: libc::stat = unsafe { std::mem::zeroed() };
        match cvt(unsafe { libc::fstatat(self.raw_fd(), c.as_ptr(), &mut st, libc::AT_SYMLINK_NOFOLLOW) }) {
            Ok(_) => Ok(Some(st)),
            Err(e) if e.raw_os_error() == Some(libc::ENOENT) => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// What `name` is, without following a symlink; `None` when absent.
    pub(crate) fn kind(&self, name: &[u8]) -> io::Result<Option<Kind>> {
        Ok(self.stat(name)?.map(|st| Kind::from_mode(st.st_mode)))
    }

    /// Identity of the regular, single-link file `name` without opening it.
    pub(crate) fn stat_file(&self, name: &[u8]) -> Result<FileId, FileError> {
        let st = self.stat(name)?.ok_or(FileError::Missing)?;
        let kind = Kind::from_mode(st.st_mode);
        if kind != Kind::File {
            return Err(FileError::NotRegular(kind));
        }
        if st.st_nlink > 1 {
            return Err(FileError::HardLinked(st.st_nlink));
        }
        Ok(FileId { dev: st.st_dev, ino: st.st_ino, size: st.st_size as u64 })
    }

    /// Device and inode of this directory.
    pub(crate) fn identity(&self) -> io::Result<(u64, u64)> {
        let st = fstat(self.raw_fd())?;
        Ok((st.st_dev, st.st_ino))
    }

    /// Opens `..` of this directory and checks that it is `want` (the
    /// directory this one was opened from): a directory moved during the
    /// walk fails it instead of walking somewhere else.
    pub(crate) fn open_parent(&self, want: (u64, u64)) -> io::Result<Dir> {
        let parent = self.open_dir(b"..")?;
        if parent.identity()? != want {
            return Err(io::Error::other("moved while the tree was walked"));
        }
        Ok(parent)
    }

    /// Opens the subdirectory `name`; a symlink is refused (`ELOOP`/`ENOTDIR`).
    pub(crate) fn open_dir(&self, name: &[u8]) -> io::Result<Dir> {
        let c = cstr(name)?;
        let flags = libc::O_RDONLY | libc::O_DIRECTORY | libc::O_NOFOLLOW | libc::O_CLOEXEC;
        let fd = cvt(unsafe { libc::openat(self.raw_fd(), c.as_ptr(), flags) })?;
        // SAFETY: fresh descriptor from openat.
        Ok(Dir { fd: unsafe { OwnedFd::from_raw_fd(fd) } })
    }

    /// Opens the regular file `name` for reading: refuses symlinks, special
    /// files (checked with `fstatat` first so a FIFO is never opened) and
    /// hard links, and checks again on the open descriptor.
    pub(crate) fn open_file(&self, name: &[u8]) -> Result<(File, FileId), FileError> {
        match self.stat(name)? {
            None => return Err(FileError::Missing),
            Some(st) if Kind::from_mode(st.st_mode) != Kind::File => {
                return Err(FileError::NotRegular(Kind::from_mode(st.st_mode)))
            }
            Some(_) => {}
        }
        self.open_file_unchecked(name)
    }

    /// [`open_file`](Self::open_file) for an entry a listing already showed
    /// to be a regular file: skips the first `fstatat`.
    pub(crate) fn open_listed_file(&self, name: &[u8]) -> Result<(File, FileId), FileError> {
        self.open_file_unchecked(name)
    }

    fn open_file_unchecked(&self, name: &[u8]) -> Result<(File, FileId), FileError> {
        let c = cstr(name)?;
        let flags = libc::O_RDONLY | libc::O_NOFOLLOW | libc::O_NONBLOCK | libc::O_CLOEXEC;
        let fd = cvt(unsafe { libc::openat(self.raw_fd(), c.as_ptr(), flags) })?;
        // SAFETY: fresh descriptor from openat.
        let file = unsafe { File::from_raw_fd(fd) };
        let id = check_regular(&file)?;
        Ok((file, id))
    }

    /// Reads the whole regular file `name` (see [`open_file`](Self::open_file)).
    /// `limit` bounds the size read (larger files are an error).
    pub(crate) fn read_file(&self, name: &[u8], limit: u64) -> Result<Vec<u8>, FileError> {
        let (file, id) = self.open_file(name)?;
        read_all(file, id, limit)
    }

    /// [`read_file`](Self::read_file) for an entry already listed as regular.
    pub(crate) fn read_listed_file(&self, name: &[u8], limit: u64) -> Result<Vec<u8>, FileError> {
        let (file, id) = self.open_listed_file(name)?;
        read_all(file, id, limit)
    }

    /// Iterates the entries (without `.` and `..`), in directory order.
    pub(crate) fn entries(&self) -> io::Result<Entries<'_>> {
        // fdopendir takes ownership of the descriptor it is given: hand it a
        // duplicate so this `Dir` stays usable.
        let dup = cvt(unsafe { libc::fcntl(self.raw_fd(), libc::F_DUPFD_CLOEXEC, 0) })?;
        let dirp = unsafe { libc::fdopendir(dup) };
        if dirp.is_null() {
            let e = io::Error::last_os_error();
            unsafe { libc::close(dup) };
            return Err(e);
        }
        // A duplicate shares the file offset: start from the beginning.
        unsafe { libc::rewinddir(dirp) };
        Ok(Entries { dir: self, dirp })
    }
}

fn check_regular(file: &File) -> Result<FileId, FileError> {
    let st = fstat(file.as_raw_fd())?;
    let kind = Kind::from_mode(st.st_mode);
    if kind != Kind::File {
        return Err(FileError::NotRegular(kind));
    }
    if st.st_nlink > 1 {
        return Err(FileError::HardLinked(st.st_nlink));
    }
    Ok(FileId { dev: st.st_dev, ino: st.st_ino, size: st.st_size as u64 })
}

/// Reads an opened regular file whose `fstat` gave `id` (at most `limit`
/// bytes).
pub(crate) fn read_all(mut file: File, id: FileId, limit: u64) -> Result<Vec<u8>, FileError> {
    let too_big = || FileError::Io(io::Error::other(format!("larger than {limit} bytes")));
    if id.size > limit {
        return Err(too_big());
    }
    // Read into size + 1 bytes: once a read returns exactly the fstat size
    // (fewer bytes than asked), the file is at its end, so a small file
    // costs a single read call. A short read before that keeps reading.
    let mut buf = vec![0u8; id.size as usize + 1];
    let mut n = 0;
    while n < buf.len() {
        match file.read(&mut buf[n..]) {
            Ok(0) => break,
            Ok(k) => {
                n += k;
                if n as u64 == id.size {
                    break;
                }
            }
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e.into()),
        }
    }
    buf.truncate(n);
    if n as u64 > id.size {
        // The file grew since fstat: read the rest.
        (&mut file).take(limit + 1 - n as u64).read_to_end(&mut buf)?;
        if buf.len() as u64 > limit {
            return Err(too_big());
        }
    }
    Ok(buf)
}

/// One directory entry.
pub(crate) struct Entry {
    pub name: Vec<u8>,
    pub(crate) kind: Kind,
}

/// Iterator over a directory's entries.
pub(crate) struct Entries<'d> {
    dir: &'d Dir,
    dirp: *mut libc::DIR,
}

impl Iterator for Entries<'_> {
    type Item = io::Result<Entry>;

    fn next(&mut self) -> Option<io::Result<Entry>> {
        loop {
            // readdir reports errors only through errno.
            unsafe { *libc::__errno_location() = 0 };
            let ent = unsafe { libc::readdir(self.dirp) };
            if ent.is_null() {
                let e = io::Error::last_os_error();
                return match e.raw_os_error() {
                    Some(0) | None => None,
                    Some(_) => Some(Err(e)),
                };
            }
            // SAFETY: readdir returned a valid entry whose name is a
            // NUL-terminated string living until the next readdir call.
            let (name, d_type) = unsafe {
                let e = &*ent;
                (CStr::from_ptr(e.d_name.as_ptr()).to_bytes().to_vec(), e.d_type)
            };
            if name == b"." || name == b".." {
                continue;
            }
            let kind = match d_type {
                libc::DT_DIR => Kind::Dir,
                libc::DT_REG => Kind::File,
                libc::DT_LNK => Kind::Symlink,
                libc::DT_UNKNOWN => match self.dir.kind(&name) {
                    Ok(Some(k)) => k,
                    // Vanished since the listing: skip it like a racing rm.
                    Ok(None) => continue,
                    Err(e) => return Some(Err(e)),
                },
                _ => Kind::Special,
            };
            return Some(Ok(Entry { name, kind }));
        }
    }
}

impl Drop for Entries<'_> {
    fn drop(&mut self) {
        unsafe { libc::closedir(self.dirp) };
    }
}

/// Opens `rel` (a `/`-separated path below `root`) one component at a time
/// without following symlinks, and checks that it is still the regular
/// file `want` (same device, inode and size) that the walk recorded.
pub(crate) fn reopen_beneath(root: &Dir, rel: &[u8], want: FileId) -> Result<File, FileError> {
    let mut parts = rel.split(|&b| b == b'/').peekable();
    let mut owned: Option<Dir> = None;
    while let Some(part) = parts.next() {
        let at = owned.as_ref().unwrap_or(root);
        if parts.peek().is_none() {
            let (file, id) = at.open_file_unchecked(part)?;
            if id != want {
                return Err(FileError::Io(io::Error::other(
                    "changed since the tree was walked (different file, or size changed)",
                )));
            }
            return Ok(file);
        }
        owned = Some(at.open_dir(part).map_err(FileError::from)?);
    }
    Err(FileError::Missing)
}

/// `lstat`-style check of a `/`-separated path below `dir`, every component
/// resolved without following symlinks. `None` when some component is
/// missing or is not a directory.
pub(crate) fn kind_beneath(dir: &Dir, rel: &[u8]) -> io::Result<Option<Kind>> {
    let mut parts = rel.split(|&b| b == b'/').peekable();
    let mut owned: Option<Dir> = None;
    while let Some(part) = parts.next() {
        let at = owned.as_ref().unwrap_or(dir);
        if parts.peek().is_none() {
            return at.kind(part);
        }
        match at.open_dir(part) {
            Ok(d) => owned = Some(d),
            Err(e) if matches!(e.raw_os_error(), Some(libc::ENOENT | libc::ENOTDIR | libc::ELOOP)) => {
                return Ok(None)
            }
            Err(e) => return Err(e),
        }
    }
    Ok(None)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::symlink;

    #[test]
    fn refuses_links_and_specials() {
        let tmp = tempfile::tempdir().unwrap();
        let p = tmp.path();
        std::fs::write(p.join("f"), b"data").unwrap();
        std::fs::create_dir(p.join("d")).unwrap();
        symlink("f", p.join("l")).unwrap();
        symlink("d", p.join("ld")).unwrap();
        std::fs::hard_link(p.join("f"), p.join("h")).unwrap();
        let c = CString::new(p.join("fifo").as_os_str().as_bytes()).unwrap();
        assert_eq!(unsafe { libc::mkfifo(c.as_ptr(), 0o600) }, 0);
        std::fs::write(p.join("g"), b"ok").unwrap();

        let root = Dir::open_root(p).unwrap();
        assert!(matches!(root.read_file(b"l", 100), Err(FileError::NotRegular(Kind::Symlink))));
        assert!(matches!(root.read_file(b"fifo", 100), Err(FileError::NotRegular(Kind::Special))));
        assert!(matches!(root.read_file(b"h", 100), Err(FileError::HardLinked(2))));
        assert!(matches!(root.read_file(b"nope", 100), Err(FileError::Missing)));
        assert!(matches!(root.read_file(b"d", 100), Err(FileError::NotRegular(Kind::Dir))));
        assert_eq!(root.read_file(b"g", 100).unwrap(), b"ok");
        assert!(root.read_file(b"g", 1).is_err());
        assert!(root.open_dir(b"ld").is_err());
        assert!(root.open_dir(b"d").is_ok());

        let mut names: Vec<(Vec<u8>, Kind)> =
            root.entries().unwrap().map(|e| e.map(|e| (e.name, e.kind)).unwrap()).collect();
        names.sort_by(|a, b| a.0.cmp(&b.0));
        let kinds: Vec<(&[u8], Kind)> = names.iter().map(|(n, k)| (n.as_slice(), *k)).collect();
        assert_eq!(
            kinds,
            vec![
                (&b"d"[..], Kind::Dir),
                (b"f", Kind::File),
                (b"fifo", Kind::Special),
                (b"g", Kind::File),
                (b"h", Kind::File),
                (b"l", Kind::Symlink),
                (b"ld", Kind::Symlink),
            ]
        );
        // Listing twice works (the duplicate descriptor is rewound).
        assert_eq!(root.entries().unwrap().count(), 7);
    }

    #[test]
    fn reopen_checks_identity_and_links() {
        let tmp = tempfile::tempdir().unwrap();
        let p = tmp.path();
        std::fs::create_dir_all(p.join("a/b")).unwrap();
        std::fs::write(p.join("a/b/c"), b"xyz").unwrap();
        symlink("b", p.join("a/lb")).unwrap();
        let root = Dir::open_root(p).unwrap();
        let (_, id) = root.open_dir(b"a").unwrap().open_dir(b"b").unwrap().open_file(b"c").unwrap();
        assert_eq!(id.size, 3);
        assert!(reopen_beneath(&root, b"a/b/c", id).is_ok());
        assert!(reopen_beneath(&root, b"a/lb/c", id).is_err());
        std::fs::write(p.join("a/b/c"), b"xyzw").unwrap();
        assert!(reopen_beneath(&root, b"a/b/c", id).is_err());
        assert_eq!(kind_beneath(&root, b"a/b/c").unwrap(), Some(Kind::File));
        assert_eq!(kind_beneath(&root, b"a/lb/c").unwrap(), None);
        assert_eq!(kind_beneath(&root, b"a/lb").unwrap(), Some(Kind::Symlink));
        assert_eq!(kind_beneath(&root, b"a/x/c").unwrap(), None);
    }
}
