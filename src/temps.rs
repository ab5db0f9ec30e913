//! fsmfs's own temporaries beside an output — `extract`'s tree directory,
//! `pack`'s named payload file — and what happens to them when a run is
//! interrupted.
//!
//! A run that needs one first creates a lock file
//! `.<base>.fsmfs-<what>-<pid>-<16 hex>.lock` (exclusive create, a fixed
//! first line, `flock` held for the whole run); its temporary is the same
//! name without `.lock`. The lock file is created before the temporary and
//! removed after it, so whatever a SIGKILL interrupts, every leftover has
//! its lock file. [`sweep`] — run by the next `extract` or `pack` into the
//! same directory — removes a temporary only when all of these hold, so it
//! never touches anything that is not provably a dead fsmfs run's own:
//!
//! * the lock file's name has the exact pattern, and it is a regular file
//!   (not followed if a symlink) whose first line is [`MARKER`];
//! * no process with the pid in the name exists;
//! * its `flock` can be taken: the kernel drops a lock when its holder
//!   dies, also when that holder is in another pid namespace.
//!
//! Catchable signals (SIGINT, SIGTERM, SIGHUP) go through one handler:
//! while a [`Deferred`] guard is alive (`extract`) they only set a flag the
//! workers poll, so the main thread can remove the temporary directory and
//! then die by the signal; otherwise the handler unlinks the registered
//! paths (`pack`: its named temp and lock file) and dies by the signal.

use std::cell::UnsafeCell;
use std::ffi::{CString, OsStr, OsString};
use std::fs::File;
use std::io::{self, Read, Write};
use std::os::fd::{AsRawFd, FromRawFd};
use std::os::unix::ffi::{OsStrExt, OsStringExt};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicI32, Ordering};

/// First line of every lock file.
pub(crate) const MARKER: &[u8] = b"fsmfs temporary lock\n";

/// Which command owns a temporary (part of its name).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum What {
    Extract,
    Pack,
}

impl What {
    fn tag(self) -> &'static str {
        match self {
            What::Extract => "extract",
            What::Pack => "pack",
        }
    }
}

const LOCK_SUFFIX: &[u8] = b".lock";

fn cpath(p: &Path) -> io::Result<CString> {
    CString::new(p.as_os_str().as_bytes())
        .map_err(|_| io::Error::new(io::ErrorKind::InvalidInput, "path contains NUL"))
}

/// 16 lower-case hex digits from the kernel's random source.
fn random_hex16() -> String {
    let mut b = [0u8; 8];
    let n = unsafe { libc::getrandom(b.as_mut_ptr().cast(), b.len(), 0) };
    if n != 8 {
        let t = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap_or_default();
        b = (t.as_nanos() as u64).to_le_bytes();
    }
    b.iter().map(|x| format!("{x:02x}")).collect()
}

/// The pid in a lock file name of the exact pattern, else `None`.
fn parse_lock_name(name: &[u8]) -> Option<u32> {
    let stem = name.strip_suffix(LOCK_SUFFIX)?;
    if !stem.starts_with(b".") {
        return None;
    }
    // `<pid>-<16 hex>` after the last `.fsmfs-<what>-`.
    let (rest, what_end) = [What::Extract, What::Pack].iter().find_map(|w| {
        let tag = format!(".fsmfs-{}-", w.tag());
        let at = stem.windows(tag.len()).rposition(|x| x == tag.as_bytes())?;
        Some((&stem[at + tag.len()..], at))
    })?;
    if what_end == 0 {
        return None;
    }
    let (pid, hex) = rest.split_at(rest.iter().position(|&b| b == b'-')?);
    let hex = &hex[1..];
    let ok_pid = !pid.is_empty() && pid.len() <= 10 && pid.iter().all(u8::is_ascii_digit) && pid[0] != b'0';
    let ok_hex = hex.len() == 16 && hex.iter().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'));
    if !ok_pid || !ok_hex {
        return None;
    }
    std::str::from_utf8(pid).ok()?.parse().ok()
}

/// Whether no process `pid` exists (`kill(pid, 0)` says ESRCH).
fn process_gone(pid: u32) -> bool {
    let Ok(p) = libc::pid_t::try_from(pid) else { return false };
    if p <= 0 {
        return false;
    }
    let r = unsafe { libc::kill(p, 0) };
    r < 0 && io::Error::last_os_error().raw_os_error() == Some(libc::ESRCH)
}

/// A lock file held by this process, and the path of the temporary it
/// covers.
#[derive(Debug)]
pub(crate) struct Temp {
    lock_path: PathBuf,
    path: PathBuf,
    _lock: File,
}

impl Temp {
    /// Creates and locks `.<base>.fsmfs-<what>-<pid>-<hex>.lock` in `dir`.
    pub(crate) fn create(dir: &Path, base: &OsStr, what: What) -> io::Result<Temp> {
        let mut stem = OsString::from(".");
        stem.push(base);
        stem.push(format!(".fsmfs-{}-{}-{}", what.tag(), std::process::id(), random_hex16()));
        let path = dir.join(&stem);
        let mut lock_name = stem.into_vec();
        lock_name.extend_from_slice(LOCK_SUFFIX);
        let lock_path = dir.join(OsString::from_vec(lock_name));
        let c = cpath(&lock_path)?;
        let flags = libc::O_WRONLY | libc::O_CREAT | libc::O_EXCL | libc::O_NOFOLLOW | libc::O_CLOEXEC;
        let fd = unsafe { libc::open(c.as_ptr(), flags, 0o600 as libc::c_uint) };
        if fd < 0 {
            return Err(io::Error::last_os_error());
        }
        // SAFETY: fresh descriptor.
        let mut lock = unsafe { File::from_raw_fd(fd) };
        let locked = unsafe { libc::flock(lock.as_raw_fd(), libc::LOCK_EX | libc::LOCK_NB) };
        if locked < 0 {
            let e = io::Error::last_os_error();
            let _ = std::fs::remove_file(&lock_path);
            return Err(e);
        }
        if let Err(e) = lock.write_all(MARKER) {
            let _ = std::fs::remove_file(&lock_path);
            return Err(e);
        }
        Ok(Temp { lock_path, path, _lock: lock })
    }

    /// The temporary this lock covers (not created here).
    pub(crate) fn path(&self) -> &Path {
        &self.path
    }

    pub(crate) fn lock_path(&self) -> &Path {
        &self.lock_path
    }
}

impl Drop for Temp {
    /// Removes the lock file; the caller has removed or renamed the
    /// temporary already.
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.lock_path);
    }
}

/// Opens a candidate lock file without following a symlink or blocking on
/// a FIFO; `Some` when it is a regular file starting with [`MARKER`].
fn open_marked_lock(dir: &File, name: &[u8]) -> Option<File> {
    let c = CString::new(name).ok()?;
    let flags = libc::O_RDONLY | libc::O_NOFOLLOW | libc::O_NONBLOCK | libc::O_CLOEXEC;
    let fd = unsafe { libc::openat(dir.as_raw_fd(), c.as_ptr(), flags) };
    if fd < 0 {
        return None;
    }
    // SAFETY: fresh descriptor.
    let mut f = unsafe { File::from_raw_fd(fd) };
    let md = f.metadata().ok()?;
    if !md.file_type().is_file() || md.len() != MARKER.len() as u64 {
        return None;
    }
    let mut head = vec![0u8; MARKER.len()];
    f.read_exact(&mut head).ok()?;
    (head == MARKER).then_some(f)
}

/// Removes the leftovers of dead fsmfs runs in `dir` (see the module docs);
/// returns how many temporaries were removed. Best effort: a leftover that
/// cannot be removed is logged and left.
pub(crate) fn sweep(dir: &Path) -> usize {
    let Ok(dirf) = File::open(dir) else { return 0 };
    let Ok(list) = std::fs::read_dir(dir) else { return 0 };
    let mut removed = 0;
    for e in list.flatten() {
        let name = e.file_name();
        let Some(pid) = parse_lock_name(name.as_bytes()) else { continue };
        if pid == std::process::id() || !process_gone(pid) {
            continue;
        }
        let Some(lock) = open_marked_lock(&dirf, name.as_bytes()) else { continue };
        if unsafe { libc::flock(lock.as_raw_fd(), libc::LOCK_EX | libc::LOCK_NB) } < 0 {
            continue;
        }
        let stem = &name.as_bytes()[..name.len() - LOCK_SUFFIX.len()];
        let temp = dir.join(OsStr::from_bytes(stem));
        let gone = match std::fs::symlink_metadata(&temp) {
            Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(()),
            Err(e) => Err(e),
            Ok(md) if md.file_type().is_dir() => std::fs::remove_dir_all(&temp),
            Ok(md) if md.file_type().is_file() => std::fs::remove_file(&temp),
            Ok(_) => Err(io::Error::other("not a file or directory; left alone")),
        };
        match gone {
            Ok(()) => {
                let _ = std::fs::remove_file(dir.join(&name));
                log::info!("removed {} left by fsmfs process {pid}, which is gone", temp.display());
                removed += 1;
            }
            Err(e) => log::warn!("stale temporary {} of fsmfs process {pid}: {e}", temp.display()),
        }
    }
    removed
}

// --- signals -------------------------------------------------------------------

/// A NUL-terminated path a signal handler unlinks.
struct Slot {
    path: UnsafeCell<[u8; 4096]>,
    armed: AtomicBool,
}

// SAFETY: `path` is written only while `armed` is false (no handler reads
// it then) and read by the handler only while `armed` is true.
unsafe impl Sync for Slot {}

impl Slot {
    const fn new() -> Slot {
        Slot { path: UnsafeCell::new([0; 4096]), armed: AtomicBool::new(false) }
    }
}

/// Which registered path: unlinked in this order.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Unlink {
    Temp = 0,
    Lock = 1,
}

static SLOTS: [Slot; 2] = [Slot::new(), Slot::new()];
static DEFER: AtomicBool = AtomicBool::new(false);
static PENDING: AtomicI32 = AtomicI32::new(0);
static HANDLERS: std::sync::Once = std::sync::Once::new();

/// The signals fsmfs cleans up after.
pub(crate) const CLEANUP_SIGNALS: [libc::c_int; 3] = [libc::SIGINT, libc::SIGTERM, libc::SIGHUP];

extern "C" fn on_signal(sig: libc::c_int) {
    // Only async-signal-safe calls here.
    if DEFER.load(Ordering::SeqCst) {
        PENDING.store(sig, Ordering::SeqCst);
        return;
    }
    for s in &SLOTS {
        if s.armed.load(Ordering::SeqCst) {
            unsafe { libc::unlink(s.path.get().cast::<libc::c_char>()) };
        }
    }
    unsafe {
        libc::signal(sig, libc::SIG_DFL);
        libc::raise(sig);
    }
}

fn install_handlers() {
    HANDLERS.call_once(|| {
        for sig in CLEANUP_SIGNALS {
            let handler = on_signal as extern "C" fn(libc::c_int) as libc::sighandler_t;
            unsafe { libc::signal(sig, handler) };
        }
    });
}

/// Has the handler unlink `path` before the process dies by a signal.
pub(crate) fn arm_unlink(which: Unlink, path: &Path) {
    let s = &SLOTS[which as usize];
    let Ok(c) = cpath(path) else { return };
    let bytes = c.as_bytes_with_nul();
    if bytes.len() > 4096 {
        return;
    }
    s.armed.store(false, Ordering::SeqCst);
    // SAFETY: disarmed, so no handler reads the buffer now.
    unsafe { (&mut *s.path.get())[..bytes.len()].copy_from_slice(bytes) };
    install_handlers();
    s.armed.store(true, Ordering::SeqCst);
}

pub(crate) fn disarm_unlink(which: Unlink) {
    SLOTS[which as usize].armed.store(false, Ordering::SeqCst);
}

/// While alive, a catchable signal only sets the flag [`interrupted`]
/// reports; the owner cleans up and calls [`die_by`].
pub(crate) struct Deferred(());

impl Deferred {
    pub(crate) fn new() -> Deferred {
        install_handlers();
        DEFER.store(true, Ordering::SeqCst);
        Deferred(())
    }
}

impl Default for Deferred {
    fn default() -> Self {
        Self::new()
    }
}

impl Drop for Deferred {
    fn drop(&mut self) {
        DEFER.store(false, Ordering::SeqCst);
    }
}

/// The signal that arrived while a [`Deferred`] guard was alive.
pub(crate) fn interrupted() -> Option<libc::c_int> {
    match PENDING.load(Ordering::SeqCst) {
        0 => None,
        s => Some(s),
    }
}

/// Ends the process by `sig` with its default action (so the parent sees
/// "killed by SIGINT", exit status 130 in a shell).
pub(crate) fn die_by(sig: libc::c_int) -> ! {
    unsafe {
        libc::signal(sig, libc::SIG_DFL);
        let mut set: libc::sigset_t = std::mem::zeroed();
        libc::sigemptyset(&mut set);
        libc::sigaddset(&mut set, sig);
        libc::pthread_sigmask(libc::SIG_UNBLOCK, &set, std::ptr::null_mut());
        libc::raise(sig);
    }
    // Not reached for the signals above; a safe fallback all the same.
    std::process::exit(128 + sig)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dead_pid() -> u32 {
        let mut c = std::process::Command::new("true").spawn().unwrap();
        let pid = c.id();
        c.wait().unwrap();
        pid
    }

    #[test]
    fn names() {
        assert_eq!(parse_lock_name(b".x.fsm.fsmfs-pack-123-0123456789abcdef.lock"), Some(123));
        assert_eq!(parse_lock_name(b".out.fsmfs-extract-9-0123456789abcdef.lock"), Some(9));
        for bad in [
            &b".x.fsmfs-pack-123-0123456789abcdef"[..],
            b"x.fsmfs-pack-123-0123456789abcdef.lock",
            b".fsmfs-pack-123-0123456789abcdef.lock",
            b".x.fsmfs-pack-0123-0123456789abcdef.lock",
            b".x.fsmfs-pack-123-0123456789ABCDEF.lock",
            b".x.fsmfs-pack-123-0123456789abcde.lock",
            b".x.fsmfs-copy-123-0123456789abcdef.lock",
            b".x.fsmfs-pack--0123456789abcdef.lock",
        ] {
            assert_eq!(parse_lock_name(bad), None, "{}", String::from_utf8_lossy(bad));
        }
    }

    /// A leftover as a dead run leaves it: lock file and temporary.
    fn leftover(dir: &Path, pid: u32, marker: &[u8]) -> (PathBuf, PathBuf) {
        let stem = format!(".out.fsmfs-extract-{pid}-0123456789abcdef");
        let temp = dir.join(&stem);
        std::fs::create_dir_all(temp.join("a/b")).unwrap();
        std::fs::write(temp.join("a/b/f"), b"x").unwrap();
        let lock = dir.join(format!("{stem}.lock"));
        std::fs::write(&lock, marker).unwrap();
        (temp, lock)
    }

    #[test]
    fn sweeps_only_provable_leftovers() {
        let tmp = tempfile::tempdir().unwrap();
        let d = tmp.path();
        let dead = dead_pid();
        // A live process's (ours: pid 1 always exists) is kept.
        let (live_t, live_l) = leftover(d, 1, MARKER);
        // Without the marker, or a different one: not provably ours.
        let (plain_t, _) = leftover(&d.join("plain"), dead, b"something else\n");
        // A lock still held (another pid namespace): kept.
        let held_dir = d.join("held");
        let (held_t, held_l) = leftover(&held_dir, dead, MARKER);
        let holder = File::open(&held_l).unwrap();
        assert_eq!(unsafe { libc::flock(holder.as_raw_fd(), libc::LOCK_EX) }, 0);
        // A symlinked lock file is not followed.
        let link_dir = d.join("link");
        std::fs::create_dir(&link_dir).unwrap();
        std::fs::write(d.join("marker"), MARKER).unwrap();
        let stem = format!(".out.fsmfs-extract-{dead}-0123456789abcdef");
        std::fs::create_dir(link_dir.join(&stem)).unwrap();
        std::os::unix::fs::symlink(d.join("marker"), link_dir.join(format!("{stem}.lock"))).unwrap();
        // A dead run's: removed, with its lock file.
        let dead_dir = d.join("dead");
        let (dead_t, dead_l) = leftover(&dead_dir, dead, MARKER);

        assert_eq!(sweep(d), 0);
        assert!(live_t.exists() && live_l.exists());
        assert_eq!(sweep(&d.join("plain")), 0);
        assert!(plain_t.exists());
        assert_eq!(sweep(&held_dir), 0);
        assert!(held_t.exists());
        assert_eq!(sweep(&link_dir), 0);
        assert!(link_dir.join(&stem).exists());
        assert_eq!(sweep(&dead_dir), 1);
        assert!(!dead_t.exists() && !dead_l.exists());
        assert_eq!(std::fs::read_dir(&dead_dir).unwrap().count(), 0);
        drop(holder);
        assert_eq!(sweep(&held_dir), 1);
    }

    #[test]
    fn temp_lock_is_held_and_removed() {
        let tmp = tempfile::tempdir().unwrap();
        let t = Temp::create(tmp.path(), OsStr::new("out"), What::Extract).unwrap();
        let name = t.lock_path().file_name().unwrap().as_bytes().to_vec();
        assert_eq!(parse_lock_name(&name), Some(std::process::id()));
        assert_eq!(t.path().parent(), Some(tmp.path()));
        let other = File::open(t.lock_path()).unwrap();
        assert!(unsafe { libc::flock(other.as_raw_fd(), libc::LOCK_EX | libc::LOCK_NB) } < 0);
        drop(t);
        assert_eq!(std::fs::read_dir(tmp.path()).unwrap().count(), 0);
    }
}
