//! Mounting and unmounting without fuser's mount handle.
//!
//! As root the mount is made here with `mount(2)` and handed to fuser as a
//! plain descriptor (`Session::from_fd`): fuser's own handle tries to
//! unmount again when the session ends, after `umount` or our signal
//! thread already did, and logs "Failed to umount filesystem: Invalid
//! argument" on every clean stop (its "still mounted?" probe reads
//! POLLERR, which means the opposite). A mount is recognised later by its
//! device number (`major:minor` in mountinfo), so nothing mounted over the
//! same directory afterwards is ever unmounted by mistake.
//!
//! `auto_unmount` is a watchdog process holding the read end of a pipe
//! whose write end only the server holds: when the server dies, however
//! it dies, the watchdog reads EOF and unmounts the mount if it is still
//! there (as fusermount3's auto_unmount does, without needing fusermount3
//! as root nor `allow_other` as a user).

use std::ffi::CString;
use std::fs::File;
use std::io::{self, Read, Write};
use std::os::fd::{AsRawFd, FromRawFd, IntoRawFd, OwnedFd};
use std::os::unix::ffi::OsStrExt;
use std::path::Path;

use super::options::MountOptions;

fn cstring(s: &[u8]) -> io::Result<CString> {
    CString::new(s).map_err(|_| io::Error::new(io::ErrorKind::InvalidInput, "path contains a NUL byte"))
}

/// Mounts a new FUSE connection on `mp` with `mount(2)` (root only) and
/// returns the `/dev/fuse` descriptor that serves it.
pub(crate) fn mount_direct(mp: &Path, opts: &MountOptions) -> io::Result<OwnedFd> {
    let dev = std::fs::OpenOptions::new().read(true).write(true).open("/dev/fuse")?;
    // SAFETY: getuid/getgid cannot fail.
    let (uid, gid) = unsafe { (libc::getuid(), libc::getgid()) };
    let mut data = format!(
        "fd={},rootmode={:o},user_id={uid},group_id={gid},default_permissions",
        dev.as_raw_fd(),
        libc::S_IFDIR
    );
    if opts.acl != fuser::SessionACL::Owner {
        // allow_root is allow_other in the kernel; fuser then turns away
        // everyone but root and the owner itself.
        data.push_str(",allow_other");
    }
    let source = cstring(opts.fsname.as_bytes())?;
    let fstype = cstring(format!("fuse.{}", opts.subtype).as_bytes())?;
    let target = cstring(mp.as_os_str().as_bytes())?;
    let data = cstring(data.as_bytes())?;
    // SAFETY: every pointer is a valid NUL-terminated string that outlives
    // the call.
    let r = unsafe {
        libc::mount(source.as_ptr(), target.as_ptr(), fstype.as_ptr(), opts.ms_flags(), data.as_ptr().cast())
    };
    if r != 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(OwnedFd::from(dev))
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

/// The device (`major:minor`) of the topmost mount at `mp`, from mountinfo.
pub(crate) fn mount_dev(mp: &Path) -> Option<String> {
    let info = std::fs::read_to_string("/proc/self/mountinfo").ok()?;
    let want = mp.as_os_str().as_bytes();
    info.lines().rev().find_map(|l| {
        let mut f = l.split(' ');
        let dev = f.nth(2)?;
        let point = f.nth(1)?;
        (unescape_mountinfo(point) == want).then(|| dev.to_string())
    })
}

/// Lazily unmounts `mp` if the mount there is still the one with device
/// `dev`; returns whether it did.
pub(crate) fn unmount_if_ours(mp: &Path, dev: &str) -> io::Result<bool> {
    if mount_dev(mp).as_deref() != Some(dev) {
        return Ok(false);
    }
    let c = cstring(mp.as_os_str().as_bytes())?;
    // SAFETY: `c` is a valid NUL-terminated path.
    if unsafe { libc::umount2(c.as_ptr(), libc::MNT_DETACH | libc::UMOUNT_NOFOLLOW) } == 0 {
        return Ok(true);
    }
    let err = io::Error::last_os_error();
    if err.raw_os_error() == Some(libc::EPERM) {
        super::daemon::fusermount_unmount(mp)?;
        return Ok(true);
    }
    Err(err)
}

/// The server's end of the `auto_unmount` watchdog. Dropping it (or the
/// server's death) lets the watchdog act.
pub(crate) struct Watchdog {
    tx: File,
}

impl Watchdog {
    /// Forks the watchdog. Must run before any thread exists: the child
    /// allocates and reads files after the fork.
    pub(crate) fn start(mp: &Path) -> io::Result<Watchdog> {
        let mut fds = [0; 2];
        // SAFETY: `fds` has room for the two descriptors.
        if unsafe { libc::pipe2(fds.as_mut_ptr(), libc::O_CLOEXEC) } != 0 {
            return Err(io::Error::last_os_error());
        }
        // SAFETY: pipe2 just returned these descriptors; each is owned once.
        let (rx, tx) = unsafe { (File::from_raw_fd(fds[0]), File::from_raw_fd(fds[1])) };
        // SAFETY: no other thread exists (the caller's contract).
        match unsafe { libc::fork() } {
            -1 => Err(io::Error::last_os_error()),
            0 => {
                drop(tx);
                watch(rx, mp);
                // SAFETY: leaves without running the parent's exit handlers.
                unsafe { libc::_exit(0) }
            }
            _ => Ok(Watchdog { tx }),
        }
    }

    /// Tells the watchdog which mount to take down when the server dies.
    pub(crate) fn arm(&mut self, dev: &str) -> io::Result<()> {
        writeln!(self.tx, "{dev}")
    }
}

/// The watchdog's life: detach, wait for the server to go, unmount.
fn watch(rx: File, mp: &Path) {
    let fd = rx.into_raw_fd();
    // SAFETY: plain syscalls on descriptors this process owns. Its own
    // session keeps a terminal's ^C or hangup away from it; every other
    // inherited descriptor (such as the daemon's readiness pipe, whose
    // reader waits for EOF) is closed; the pipe moves to fd 3.
    unsafe {
        libc::setsid();
        if fd != 3 {
            libc::dup2(fd, 3);
        }
        libc::syscall(libc::SYS_close_range, 4u32, u32::MAX, 0u32);
        if let Ok(null) = std::fs::OpenOptions::new().read(true).write(true).open("/dev/null") {
            for std_fd in 0..3 {
                libc::dup2(null.as_raw_fd(), std_fd);
            }
        }
    }
    let _ = std::env::set_current_dir("/");
    // SAFETY: fd 3 is the pipe's read end, owned here only.
    let mut rx = unsafe { File::from_raw_fd(3) };
    let mut said = String::new();
    // Blocks until every writer is gone, i.e. the server has exited.
    let _ = rx.read_to_string(&mut said);
    if let Some(dev) = said.lines().next().filter(|d| !d.is_empty()) {
        let _ = unmount_if_ours(mp, dev);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mountinfo_paths_unescape() {
        assert_eq!(unescape_mountinfo("/mnt/a\\040b"), b"/mnt/a b");
        assert_eq!(unescape_mountinfo("/x\\134y\\"), b"/x\\y\\");
        assert!(is_mount_point(Path::new("/")));
        assert!(!is_mount_point(Path::new("/definitely/not/mounted")));
    }

    #[test]
    fn the_root_mount_has_a_device() {
        let dev = mount_dev(Path::new("/")).unwrap();
        let (major, minor) = dev.split_once(':').unwrap();
        assert!(major.parse::<u32>().is_ok() && minor.parse::<u32>().is_ok(), "{dev}");
        assert_eq!(mount_dev(Path::new("/definitely/not/mounted")), None);
        // Another device at the same place is not ours to unmount.
        assert!(!unmount_if_ours(Path::new("/"), "12345:678").unwrap());
    }
}
