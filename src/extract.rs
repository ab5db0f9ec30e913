//! Writes the whole tree to disk, as upstream's decoder would: data files
//! 0600, `MANIFEST.json`/`CHECKSUMS` 0644, directories 0755, mtimes from
//! the records (`design.md` §4). Everything goes into a temporary
//! directory beside the target that is renamed into place at the end, so
//! a failure leaves nothing behind: an error removes it, a catchable
//! signal removes it before the process dies by that signal, and what a
//! SIGKILL leaves is removed by the next run in that directory
//! (`crate::temps`).

use std::fs::{self, File, FileTimes, OpenOptions};
use std::io::{self, Write};
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt};
use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};

use crate::errpath::shown_path;
use crate::index::Index;
use crate::index::ViewError;
use crate::temps::{self, Temp};
use crate::tree::{NodeId, Tree};

#[derive(Debug, thiserror::Error)]
pub enum ExtractError {
    /// The target exists and is not an empty directory.
    #[error("{} exists and is not an empty directory", .0.display())]
    TargetExists(PathBuf),
    #[error("{}: {source}", shown_path(.path))]
    Io { path: PathBuf, source: io::Error },
    /// The directory OUTDIR would be created in does not exist (or is not
    /// a directory).
    #[error(
        "{}: cannot create it: its parent directory {} {} (extract creates OUTDIR, not its parents)",
        shown_path(.target),
        shown_path(.parent),
        parent_problem(.source)
    )]
    NoParent { target: PathBuf, parent: PathBuf, source: io::Error },
    /// OUTDIR is a mount point: the finished tree cannot be renamed onto it.
    #[error(
        "{}: is a mount point; extract writes the tree into a temporary directory beside OUTDIR and renames it into place, which cannot replace a mount point: extract into a new subdirectory of it instead (e.g. {})",
        shown_path(.0),
        shown_path(&.0.join("tree"))
    )]
    MountPoint(PathBuf),
    /// SIGINT/SIGTERM/SIGHUP arrived; the temporary directory is removed.
    #[error("interrupted by signal {0}")]
    Interrupted(libc::c_int),
    /// A record cannot be rendered (the snapshot is malformed).
    #[error(transparent)]
    Render(ViewError),
    /// A record that produces no file is malformed (upstream fails too).
    #[error(transparent)]
    Deferred(crate::adapters::RecordError),
}

/// What is wrong with OUTDIR's parent: a missing one is the common case
/// and gets plain words; anything else shows the system's reason.
fn parent_problem(e: &io::Error) -> String {
    if e.kind() == io::ErrorKind::NotFound {
        "does not exist".to_string()
    } else {
        format!("is not usable: {e}")
    }
}

use crate::tree::meta::{file_mode, system_time, DIR_MODE, TOP_MODE};

/// Statistics of a finished extraction.
#[derive(Debug, Default, Clone, Copy)]
pub struct Extracted {
    pub files: u64,
    pub(crate) dirs: u64,
    pub bytes: u64,
}

/// Extracts the index into `target`.
pub fn extract(
    index: &Index,
    target: &Path,
    progress: &(dyn Fn(u64) + Sync),
) -> Result<Extracted, ExtractError> {
    if let Some(first) = index.deferred.first() {
        return Err(ExtractError::Deferred(first.clone()));
    }
    match fs::read_dir(target) {
        Ok(mut it) => {
            if it.next().is_some() {
                return Err(ExtractError::TargetExists(target.to_path_buf()));
            }
        }
        Err(e) if e.kind() == io::ErrorKind::NotFound => {}
        // OUTDIR is a file, or a path component above it is (checked below).
        Err(e) if e.kind() == io::ErrorKind::NotADirectory => {
            if fs::symlink_metadata(target).is_ok() {
                return Err(ExtractError::TargetExists(target.to_path_buf()));
            }
        }
        Err(e) => return Err(ExtractError::Io { path: target.to_path_buf(), source: e }),
    }
    let parent = match target.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    };
    match fs::metadata(&parent) {
        Ok(md) if md.is_dir() => {}
        Ok(_) => {
            let source = io::Error::from_raw_os_error(libc::ENOTDIR);
            return Err(ExtractError::NoParent { target: target.to_path_buf(), parent, source });
        }
        Err(source) => return Err(ExtractError::NoParent { target: target.to_path_buf(), parent, source }),
    }
    if is_mount_point(target) {
        return Err(ExtractError::MountPoint(target.to_path_buf()));
    }
    temps::sweep(&parent);
    let name = target.file_name().unwrap_or_else(|| std::ffi::OsStr::new("tree"));
    // From here a catchable signal only sets a flag; the workers stop, the
    // temporary is removed, then the process dies by the signal.
    let deferred = temps::Deferred::new();
    let lock = Temp::create(&parent, name, temps::What::Extract).map_err(|source| ExtractError::Io {
        path: parent.clone(),
        source: io::Error::new(source.kind(), format!("creating a temporary beside OUTDIR: {source}")),
    })?;
    let tmp = lock.path().to_path_buf();
    let result = write_tree(index, &tmp, progress).and_then(|stats| match temps::interrupted() {
        Some(sig) => Err(ExtractError::Interrupted(sig)),
        None => Ok(stats),
    });
    let result = result.and_then(|stats| {
        fs::rename(&tmp, target).map(|()| stats).map_err(|source| match source.raw_os_error() {
            Some(libc::EBUSY) => ExtractError::MountPoint(target.to_path_buf()),
            _ => ExtractError::Io { path: target.to_path_buf(), source },
        })
    });
    if result.is_err() {
        let _ = fs::remove_dir_all(&tmp);
    }
    drop(lock);
    drop(deferred);
    if let Some(sig) = temps::interrupted() {
        temps::die_by(sig);
    }
    // Errors name OUTDIR, not the temporary directory.
    result.map_err(|e| match e {
        ExtractError::Io { path, source } => match path.strip_prefix(&tmp) {
            Ok(rel) => ExtractError::Io { path: target.join(rel), source },
            Err(_) => ExtractError::Io { path, source },
        },
        e => e,
    })
}

/// Whether `p` is an existing directory something is mounted on (bind
/// mounts included, which share the device with their parent).
fn is_mount_point(p: &Path) -> bool {
    let Ok(c) = std::ffi::CString::new(p.as_os_str().as_bytes()) else { return false };
    // SAFETY: `st` is plain old data filled in by the kernel.
    let mut st: libc::statx = unsafe { std::mem::zeroed() };
    let r = unsafe {
        libc::statx(libc::AT_FDCWD, c.as_ptr(), libc::AT_SYMLINK_NOFOLLOW, libc::STATX_BASIC_STATS, &mut st)
    };
    if r != 0 {
        return false;
    }
    let flag = libc::STATX_ATTR_MOUNT_ROOT as u64;
    if st.stx_attributes_mask & flag != 0 {
        return st.stx_attributes & flag != 0;
    }
    // Kernels before 5.8: a different device than the parent's.
    let parent = p.parent().filter(|q| !q.as_os_str().is_empty()).unwrap_or(Path::new("."));
    use std::os::unix::fs::MetadataExt;
    match (fs::symlink_metadata(p), fs::metadata(parent)) {
        (Ok(a), Ok(b)) => a.is_dir() && a.dev() != b.dev(),
        _ => false,
    }
}

/// The signal to stop on, as an error.
fn check_interrupt() -> Result<(), ExtractError> {
    temps::interrupted().map_or(Ok(()), |sig| Err(ExtractError::Interrupted(sig)))
}

fn node_path(root: &Path, tree: &Tree, id: NodeId) -> PathBuf {
    root.join(std::ffi::OsStr::from_bytes(&tree.path(id)))
}

/// A written file: node, SHA-256, length.
type Written = (NodeId, [u8; 32], u64);

fn write_tree(
    index: &Index,
    root: &Path,
    progress: &(dyn Fn(u64) + Sync),
) -> Result<Extracted, ExtractError> {
    let tree = &index.tree;
    let mut stats = Extracted::default();
    let mut builder = fs::DirBuilder::new();
    builder.mode(DIR_MODE);
    // Directories first, in tree (breadth-first) order: parents precede
    // children.
    let mut dirs = Vec::new();
    let mut files = Vec::new();
    for id in 0..tree.len() as NodeId {
        if tree.is_dir(id) {
            dirs.push(id);
        } else if id != index.checksums_node {
            files.push(id);
        }
    }
    for &d in &dirs {
        check_interrupt()?;
        let p = node_path(root, tree, d);
        builder.create(&p).map_err(|source| ExtractError::Io { path: p.clone(), source })?;
        set_mode(&p, DIR_MODE)?;
        stats.dirs += 1;
    }
    // Files on every core; each thread returns its digests for CHECKSUMS.
    let threads = std::thread::available_parallelism().map_or(2, |n| n.get()).clamp(1, 8);
    let chunk = files.len().div_ceil(threads).max(1);
    let done = std::sync::atomic::AtomicU64::new(0);
    let results: Vec<Result<Vec<Written>, ExtractError>> = std::thread::scope(|s| {
        let jobs: Vec<_> = files
            .chunks(chunk)
            .map(|part| {
                let done = &done;
                s.spawn(move || {
                    let mut out = Vec::with_capacity(part.len());
                    for &id in part {
                        check_interrupt()?;
                        let (digest, len) = write_file(index, root, id)?;
                        out.push((id, digest, len));
                        let n = done.fetch_add(1, std::sync::atomic::Ordering::Relaxed) + 1;
                        if n % 1024 == 0 {
                            progress(n);
                        }
                    }
                    Ok(out)
                })
            })
            .collect();
        jobs.into_iter()
            .map(|j| {
                j.join().unwrap_or_else(|_| {
                    Err(ExtractError::Io {
                        path: root.to_path_buf(),
                        source: io::Error::other("writer thread panicked"),
                    })
                })
            })
            .collect()
    });
    let mut digests: Vec<(Vec<u8>, [u8; 32])> = Vec::with_capacity(files.len());
    for r in results {
        for (id, d, len) in r? {
            digests.push((tree.path(id), d));
            stats.files += 1;
            stats.bytes += len;
        }
    }
    progress(stats.files);
    // CHECKSUMS from the digests just computed, checked against the size
    // the index promised.
    digests.sort();
    let checksums = crate::index::checksum_lines(&digests);
    let ck = index.checksums_node;
    if checksums.len() as u64 != index.tree.node(ck).stored_size() {
        return Err(ExtractError::Render(ViewError {
            path: "CHECKSUMS".into(),
            offset: None,
            key: None,
            detail: "size differs from the one computed at indexing (bug)".into(),
            snapshot_changed: false,
        }));
    }
    let _ = index.checksums.set(Ok(checksums.clone()));
    let p = node_path(root, tree, ck);
    write_bytes(&p, &checksums, TOP_MODE, index.mtime_ts(ck))?;
    stats.files += 1;
    stats.bytes += checksums.len() as u64;
    // Directory mtimes last, deepest first, since writing children
    // touches them.
    for &d in dirs.iter().rev() {
        let p = node_path(root, tree, d);
        set_mtime(&p, index.mtime_ts(d))?;
    }
    // Contents were checked as they were read; mtimes come from the
    // mapping too, so the tree is published only if the file still is the
    // indexed snapshot now.
    index.check_source(Tree::ROOT).map_err(ExtractError::Render)?;
    Ok(stats)
}

fn set_mode(p: &Path, mode: u32) -> Result<(), ExtractError> {
    use std::os::unix::fs::PermissionsExt;
    fs::set_permissions(p, fs::Permissions::from_mode(mode))
        .map_err(|source| ExtractError::Io { path: p.to_path_buf(), source })
}

fn set_mtime(p: &Path, ts: u64) -> Result<(), ExtractError> {
    let f = File::open(p).map_err(|source| ExtractError::Io { path: p.to_path_buf(), source })?;
    let t = system_time(ts);
    f.set_times(FileTimes::new().set_modified(t).set_accessed(t))
        .map_err(|source| ExtractError::Io { path: p.to_path_buf(), source })
}

fn create(p: &Path, mode: u32) -> Result<File, ExtractError> {
    OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(mode)
        .open(p)
        .map_err(|source| ExtractError::Io { path: p.to_path_buf(), source })
}

fn write_bytes(p: &Path, bytes: &[u8], mode: u32, ts: u64) -> Result<(), ExtractError> {
    let mut f = create(p, mode)?;
    let io = |source| ExtractError::Io { path: p.to_path_buf(), source };
    f.write_all(bytes).map_err(io)?;
    // The umask may have narrowed the mode; set it exactly.
    set_mode(p, mode)?;
    let t = system_time(ts);
    f.set_times(FileTimes::new().set_modified(t).set_accessed(t)).map_err(io)
}

/// Writes one file and returns its SHA-256 and length.
fn write_file(index: &Index, root: &Path, id: NodeId) -> Result<([u8; 32], u64), ExtractError> {
    let tree = &index.tree;
    let p = node_path(root, tree, id);
    let mode = file_mode(tree, id);
    let ts = index.mtime_ts(id);
    let streamed = index.is_streamed(id);
    if !streamed {
        let bytes = index.render(id).map_err(ExtractError::Render)?;
        let expected = index.size(id).map_err(ExtractError::Render)?;
        debug_assert_eq!(bytes.len() as u64, expected);
        write_bytes(&p, &bytes, mode, ts)?;
        return Ok((Sha256::digest(&bytes).into(), bytes.len() as u64));
    }
    let io = |source| ExtractError::Io { path: p.clone(), source };
    let mut f = create(&p, mode)?;
    let mut h = Sha256::new();
    let mut buf = vec![0u8; 1 << 20];
    let mut off = 0u64;
    loop {
        check_interrupt()?;
        let n = index.read(id, off, &mut buf).map_err(ExtractError::Render)?;
        if n == 0 {
            break;
        }
        h.update(&buf[..n]);
        f.write_all(&buf[..n]).map_err(io)?;
        off += n as u64;
    }
    set_mode(&p, mode)?;
    let t = system_time(ts);
    f.set_times(FileTimes::new().set_modified(t).set_accessed(t)).map_err(io)?;
    Ok((h.finalize().into(), off))
}
