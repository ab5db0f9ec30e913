//! Reading a dump tree (the directory layout a decoder writes) as untrusted
//! input: no symlink is followed, only single-link regular files are
//! opened, sizes are capped and descriptors stay bounded whatever the
//! depth (`fsio`); many small files are read on every core (`par`).
//! `pack` and each adapter's pack module read their input through here.

pub(crate) mod fsio;
pub(crate) mod par;

use std::fmt;
use std::io;

use crate::exit::Failure;
use fsio::{FileError, FileId};

/// Largest single JSON document read from a tree (a value over the record
/// cap could not be written anyway).
pub(crate) const MAX_DOCUMENT: u64 = crate::container::MAX_USER_VALUE as u64;

/// `a/b` for tree-relative paths (`b` alone when `a` is the root).
pub(crate) fn join(a: &[u8], b: &[u8]) -> Vec<u8> {
    let mut p = Vec::with_capacity(a.len() + 1 + b.len());
    p.extend_from_slice(a);
    if !a.is_empty() {
        p.push(b'/');
    }
    p.extend_from_slice(b);
    p
}

/// `len` bytes at `offset` of the file at `path` (relative to the tree
/// root), which must still be the file `id` when they are copied.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct FileRef<'a> {
    pub path: &'a [u8],
    pub(crate) id: FileId,
    pub(crate) offset: u64,
    pub(crate) len: u32,
}

/// A problem at `rel` below the tree shown as `tree`: exit 2 for the
/// data, exit 1 when `detail` is an I/O error of the environment (see
/// [`is_environment`]). The path is cut to a readable length.
pub(crate) fn tree_error(tree: &str, rel: &[u8], detail: impl fmt::Display + 'static) -> Failure {
    let path = crate::errpath::shown(&[tree.as_bytes(), b"/", rel].concat());
    let message = format!("{path}: {detail}");
    if caused_by_environment(&detail) {
        Failure::usage(message)
    } else {
        Failure::data(message)
    }
}

/// Errors that say something about the machine, not the tree: out of
/// descriptors, memory or space, no permission, a failing disk. They are
/// exit 1 wherever they happen; upstream's walk makes every error exit 2.
pub(crate) fn is_environment(e: &io::Error) -> bool {
    matches!(
        e.raw_os_error(),
        Some(
            libc::EMFILE
                | libc::ENFILE
                | libc::ENOMEM
                | libc::ENOSPC
                | libc::EDQUOT
                | libc::EACCES
                | libc::EPERM
                | libc::EIO
        )
    )
}

/// Whether an error detail is (or wraps) an environment I/O error.
fn caused_by_environment(detail: &dyn std::any::Any) -> bool {
    if let Some(e) = detail.downcast_ref::<io::Error>() {
        return is_environment(e);
    }
    if let Some(w) = detail.downcast_ref::<Why>() {
        return w.environment;
    }
    matches!(detail.downcast_ref::<FileError>(), Some(FileError::Io(e)) if is_environment(e))
}

/// Why one file failed on a worker thread: the words, and whether the
/// environment is to blame (exit 1) rather than the tree (exit 2).
#[derive(Debug, thiserror::Error)]
#[error("{text}")]
pub(crate) struct Why {
    text: String,
    environment: bool,
}

impl From<String> for Why {
    fn from(text: String) -> Why {
        Why { text, environment: false }
    }
}

impl From<&str> for Why {
    fn from(text: &str) -> Why {
        Why { text: text.to_string(), environment: false }
    }
}

impl From<FileError> for Why {
    fn from(e: FileError) -> Why {
        let environment = matches!(&e, FileError::Io(io) if is_environment(io));
        Why { text: e.to_string(), environment }
    }
}

impl From<io::Error> for Why {
    fn from(e: io::Error) -> Why {
        Why { text: e.to_string(), environment: is_environment(&e) }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::exit::{EXIT_DATA, EXIT_USAGE};

    #[test]
    fn environment_errors_exit_1_wherever_they_happen() {
        let os = io::Error::from_raw_os_error;
        for errno in [libc::EMFILE, libc::ENFILE, libc::ENOSPC, libc::EACCES, libc::EPERM, libc::EIO] {
            assert_eq!(tree_error("t", b"x", os(errno)).code, EXIT_USAGE, "{errno}");
            assert_eq!(tree_error("t", b"x", FileError::Io(os(errno))).code, EXIT_USAGE, "{errno}");
            assert_eq!(tree_error("t", b"x", Why::from(FileError::Io(os(errno)))).code, EXIT_USAGE);
            assert_eq!(tree_error("t", b"x", Why::from(os(errno))).code, EXIT_USAGE);
        }
        for data in [os(libc::ELOOP), os(libc::EINVAL), io::Error::other("larger than 5 bytes")] {
            assert_eq!(tree_error("t", b"x", data).code, EXIT_DATA);
        }
        assert_eq!(tree_error("t", b"x", "bad item").code, EXIT_DATA);
        assert_eq!(tree_error("t", b"x", Why::from("bad item".to_string())).code, EXIT_DATA);
        assert_eq!(tree_error("t", b"x", FileError::HardLinked(2)).code, EXIT_DATA);
        let long = tree_error("t", &vec![b'a'; 5000], "bad").message;
        assert!(long.len() < 300 && long.ends_with("aaa: bad"), "{long}");
    }
}
