//! A snapshot file mapped read-only, and the means to tell later whether
//! the mapping still shows the file that was indexed.
//!
//! Everything fsmfs serves is computed from this mapping, long after the
//! index was built. If someone truncates or rewrites the file meanwhile
//! (`cp new.fsm snap.fsm` rewrites in place), the mapping silently shows
//! the new bytes, or faults past the new end. So the file's identity —
//! device, inode, size, modification and change times — is taken when it
//! is opened, and [`MappedFile::verify`] compares it again (one `fstat`)
//! together with the fault flag of [`super::sigbus`]. The kernel updates
//! the modification time before it changes a page of the file, so a
//! verify *after* reading proves that what was read is the indexed
//! snapshot — unless a writer rewrote the file in place and then set its
//! modification time back to the old value to the nanosecond, which no
//! copy tool does by accident.
//!
//! Replacing the file by rename (`mv new.fsm snap.fsm`) is not a change:
//! the open descriptor and the mapping keep the old inode, which nobody
//! can modify through the new name.

use std::fs::File;
use std::io;
use std::os::unix::io::AsRawFd;
use std::path::Path;

use super::sigbus::Registration;

/// What identifies the bytes of a file without reading them. The change
/// time is left out on purpose: renaming a new file over the path,
/// deleting it, linking or `chmod` change it without touching a byte, and
/// the mapping stays valid through all of them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Identity {
    pub(crate) dev: u64,
    pub(crate) ino: u64,
    pub size: u64,
    pub(crate) mtime: (i64, i64),
}

impl Identity {
    fn of(file: &File) -> io::Result<Identity> {
        // SAFETY: fstat fills the zeroed struct for an open descriptor.
        let mut st: libc::stat = unsafe { std::mem::zeroed() };
        if unsafe { libc::fstat(file.as_raw_fd(), &mut st) } != 0 {
            return Err(io::Error::last_os_error());
        }
        Ok(Identity {
            dev: st.st_dev,
            ino: st.st_ino,
            size: st.st_size as u64,
            mtime: (st.st_mtime, st.st_mtime_nsec),
        })
    }
}

/// Why a mapping can no longer be vouched for.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "snapshot {path} {detail}; reads answer EIO rather than serve bytes that may not be the indexed snapshot \
     (remount to serve the file as it is now)"
)]
pub struct SourceChanged {
    pub path: String,
    pub(crate) detail: String,
}

/// An open file and its identity when it was opened: tells whether the
/// file has been modified since.
#[derive(Debug)]
pub(crate) struct Watcher {
    file: File,
    identity: Identity,
    path: String,
}

impl Watcher {
    pub(crate) fn new(file: File, path: &Path) -> io::Result<Watcher> {
        let identity = Identity::of(&file)?;
        Ok(Watcher { file, identity, path: path.display().to_string() })
    }

    /// A second watcher on the same open file (a duplicated descriptor).
    pub(crate) fn try_clone(&self) -> io::Result<Watcher> {
        Ok(Watcher { file: self.file.try_clone()?, identity: self.identity, path: self.path.clone() })
    }

    fn changed<T>(&self, detail: String) -> Result<T, SourceChanged> {
        Err(SourceChanged { path: self.path.clone(), detail })
    }

    /// Ok when the file's identity is the one it had when opened.
    pub(crate) fn verify(&self) -> Result<(), SourceChanged> {
        let now = match Identity::of(&self.file) {
            Ok(n) => n,
            Err(e) => return self.changed(format!("cannot be checked ({e})")),
        };
        let was = self.identity;
        if now == was {
            return Ok(());
        }
        if now.size != was.size {
            return self
                .changed(format!("changed since it was indexed (size {} → {} bytes)", was.size, now.size));
        }
        self.changed("was modified since it was indexed".into())
    }
}

/// A read-only mapping of a whole, non-empty file.
pub(crate) struct MappedFile {
    // Field order matters: the registration is dropped (forgotten by the
    // fault handler) before the range is unmapped.
    guard: Registration,
    map: memmap2::Mmap,
    watch: Watcher,
}

impl MappedFile {
    /// Maps `file` (opened from `path`, which names it in messages).
    /// `Ok(None)` for an empty file, which cannot be mapped.
    pub(crate) fn map(file: File, path: &Path) -> io::Result<Option<MappedFile>> {
        let watch = Watcher::new(file, path)?;
        if watch.identity.size == 0 {
            return Ok(None);
        }
        // SAFETY: read-only mapping. The file may still change under it;
        // that is what `guard` and `verify` are for.
        let map = unsafe { memmap2::Mmap::map(&watch.file) }?;
        let guard = Registration::new(map.as_ptr(), map.len());
        Ok(Some(MappedFile { guard, map, watch }))
    }

    pub(crate) fn bytes(&self) -> &[u8] {
        &self.map
    }

    pub(crate) fn watcher(&self) -> &Watcher {
        &self.watch
    }

    /// Ok when the file is still the one mapped and no read of the mapping
    /// has faulted: every byte read before this call was the snapshot's.
    pub(crate) fn verify(&self) -> Result<(), SourceChanged> {
        self.watch.verify()?;
        if self.guard.poisoned() {
            return self.watch.changed("could not be read (an I/O error, or a truncation undone)".into());
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::{Seek, SeekFrom, Write};

    fn file_with(bytes: &[u8]) -> (tempfile::NamedTempFile, MappedFile) {
        let mut t = tempfile::NamedTempFile::new().unwrap();
        t.write_all(bytes).unwrap();
        t.flush().unwrap();
        let m = MappedFile::map(File::open(t.path()).unwrap(), t.path()).unwrap().unwrap();
        (t, m)
    }

    #[test]
    fn unchanged_file_verifies() {
        let (_t, m) = file_with(b"hello world");
        assert_eq!(m.bytes(), b"hello world");
        assert_eq!(m.verify(), Ok(()));
    }

    #[test]
    fn same_size_overwrite_is_detected() {
        let (t, m) = file_with(b"hello world");
        // Modification times are coarse; make sure the write lands on a
        // later tick than the mapping's identity.
        std::thread::sleep(std::time::Duration::from_millis(20));
        let mut w = std::fs::OpenOptions::new().write(true).open(t.path()).unwrap();
        w.seek(SeekFrom::Start(0)).unwrap();
        w.write_all(b"HELLO").unwrap();
        drop(w);
        let e = m.verify().unwrap_err();
        assert!(e.to_string().contains("was modified since it was indexed"), "{e}");
        assert!(e.to_string().contains(&t.path().display().to_string()), "{e}");
    }

    #[test]
    fn truncation_is_detected_with_both_sizes() {
        let (t, m) = file_with(&[1u8; 10_000]);
        std::fs::OpenOptions::new().write(true).open(t.path()).unwrap().set_len(100).unwrap();
        let e = m.verify().unwrap_err();
        assert!(e.to_string().contains("size 10000 → 100 bytes"), "{e}");
    }

    #[test]
    fn chmod_and_unlink_keep_the_mapping_valid() {
        use std::os::unix::fs::PermissionsExt;
        let (t, m) = file_with(b"bytes");
        std::fs::set_permissions(t.path(), std::fs::Permissions::from_mode(0o400)).unwrap();
        std::fs::remove_file(t.path()).unwrap();
        assert_eq!(m.verify(), Ok(()));
        assert_eq!(m.bytes(), b"bytes");
    }

    #[test]
    fn rename_over_the_path_keeps_the_mapping_valid() {
        let (t, m) = file_with(b"old bytes");
        let mut other = tempfile::NamedTempFile::new_in(t.path().parent().unwrap()).unwrap();
        other.write_all(b"new bytes!").unwrap();
        other.persist(t.path()).unwrap();
        assert_eq!(m.verify(), Ok(()));
        assert_eq!(m.bytes(), b"old bytes");
    }
}
