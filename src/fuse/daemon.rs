//! The mount's life cycle: checks, the fork into a daemon, readiness
//! reporting, signals and unmounting.
//!
//! The fork happens before any thread exists (indexing and fuser both
//! start threads), so the child builds the index and mounts, then tells
//! the waiting parent "ok" or the one-line error over a pipe. Only then
//! does it detach (new session, stdio to /dev/null, cwd `/`).

use std::ffi::CString;
use std::fs::File;
use std::io::{self, Read, Write};
use std::os::fd::{AsRawFd, FromRawFd};
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Arc;

use fuser::{Config, Session};

use super::mounting::{self, Watchdog};
use super::options::MountOptions;
use super::{FuseFs, Settings};
use crate::exit::{Failure, EXIT_USAGE};
use crate::index::Index;

/// How to mount, decided by the command line.
#[derive(Debug, Clone)]
pub(crate) struct Plan {
    pub(crate) mountpoint: PathBuf,
    pub(crate) foreground: bool,
    /// fuser worker threads.
    pub(crate) threads: usize,
    /// One /dev/fuse descriptor per worker (`FUSE_DEV_IOC_CLONE`).
    pub(crate) clone_fd: bool,
    pub(crate) settings: Settings,
    pub(crate) options: MountOptions,
}

fn env_failure(message: impl Into<String>) -> Failure {
    Failure { code: EXIT_USAGE, message: message.into() }
}

/// Checks the mount point before anything expensive happens and returns
/// its absolute path (the daemon changes directory to `/`).
pub(crate) fn check_mountpoint(p: &Path) -> Result<PathBuf, Failure> {
    let shown = p.display();
    match std::fs::metadata(p) {
        Ok(m) if m.is_dir() => {}
        Ok(_) => return Err(env_failure(format!("{shown}: mount point is not a directory"))),
        Err(e) if e.kind() == io::ErrorKind::NotFound => {
            return Err(env_failure(format!("{shown}: mount point does not exist")))
        }
        Err(e) if e.raw_os_error() == Some(libc::ENOTCONN) => {
            return Err(env_failure(format!(
                "{shown}: stale FUSE mount (its server died); unmount it first (umount or fusermount3 -u)"
            )))
        }
        Err(e) => return Err(env_failure(format!("{shown}: {e}"))),
    }
    let abs = p.canonicalize().map_err(|e| env_failure(format!("{shown}: {e}")))?;
    if super::is_mount_point(&abs) {
        return Err(env_failure(format!(
            "{shown}: mount point is busy (something is already mounted there)"
        )));
    }
    Ok(abs)
}

/// Mounts and serves until unmounted. In the background (the default) it
/// returns in the parent once the mount is ready; `build` runs in the
/// process that will serve.
pub(crate) fn mount(plan: Plan, build: impl FnOnce() -> Result<Index, Failure>) -> Result<(), Failure> {
    let mp = check_mountpoint(&plan.mountpoint)?;
    if plan.foreground {
        let mut watchdog = start_watchdog(&plan, &mp)?;
        let index = build()?;
        block_signals();
        let (session, dev) = new_session(index, &plan, &mp)?;
        arm(&mut watchdog, &dev)?;
        log::info!("serving on {}", mp.display());
        return serve(session, &mp, &dev);
    }
    let mut fds = [0; 2];
    // SAFETY: `fds` has room for the two descriptors.
    if unsafe { libc::pipe2(fds.as_mut_ptr(), libc::O_CLOEXEC) } != 0 {
        return Err(env_failure(format!("pipe: {}", io::Error::last_os_error())));
    }
    // SAFETY: pipe2 just returned these descriptors; each is owned once.
    let (mut rx, tx) = unsafe { (File::from_raw_fd(fds[0]), File::from_raw_fd(fds[1])) };
    let _ = io::stdout().flush();
    let _ = io::stderr().flush();
    // SAFETY: no other thread exists yet, so the child starts in a
    // consistent state.
    match unsafe { libc::fork() } {
        -1 => Err(env_failure(format!("fork: {}", io::Error::last_os_error()))),
        0 => {
            drop(rx);
            let code = daemon_main(plan, build, &mp, tx);
            std::process::exit(code);
        }
        pid => {
            drop(tx);
            let mut msg = String::new();
            let _ = rx.read_to_string(&mut msg);
            parent_outcome(pid, &msg, &mp)
        }
    }
}

/// Interprets the child's report: `ok`, `<code> <message>`, or nothing
/// (the child died before reporting).
fn parent_outcome(pid: libc::pid_t, msg: &str, mp: &Path) -> Result<(), Failure> {
    let msg = msg.trim_end();
    if msg == "ok" {
        log::info!("serving on {} (pid {pid})", mp.display());
        return Ok(());
    }
    let mut status = 0;
    if pid > 0 {
        // SAFETY: reaps our own child; `status` is a valid out pointer.
        unsafe { libc::waitpid(pid, &mut status, 0) };
    }
    if let Some((code, message)) = msg.split_once(' ') {
        if let Ok(code) = code.parse::<u8>() {
            return Err(Failure { code, message: message.to_string() });
        }
    }
    Err(env_failure(format!("mount process exited before the mount was ready (wait status {status})")))
}

fn daemon_main(plan: Plan, build: impl FnOnce() -> Result<Index, Failure>, mp: &Path, mut tx: File) -> i32 {
    let mut report = |f: Failure| {
        let line = f.message.replace('\n', " ");
        let _ = writeln!(tx, "{} {}", f.code, line);
        i32::from(f.code)
    };
    let mut watchdog = match start_watchdog(&plan, mp) {
        Ok(w) => w,
        Err(f) => return report(f),
    };
    let index = match build() {
        Ok(i) => i,
        Err(f) => return report(f),
    };
    block_signals();
    let (session, dev) = match new_session(index, &plan, mp) {
        Ok(s) => s,
        Err(f) => return report(f),
    };
    if let Err(f) = arm(&mut watchdog, &dev) {
        let _ = mounting::unmount_if_ours(mp, &dev);
        return report(f);
    }
    // Leave the terminal's session so its hangup or ^C cannot reach us.
    // SAFETY: plain syscall; fails harmlessly if already a leader.
    unsafe { libc::setsid() };
    if writeln!(tx, "ok").and_then(|_| tx.flush()).is_err() {
        // The parent is gone (killed while we indexed): do not linger.
        let _ = unmount(mp);
        return i32::from(EXIT_USAGE);
    }
    drop(tx);
    detach_stdio();
    let _ = std::env::set_current_dir("/");
    match serve(session, mp, &dev) {
        Ok(()) => 0,
        Err(_) => i32::from(EXIT_USAGE),
    }
}

/// The `auto_unmount` watchdog, forked while this process has no threads.
fn start_watchdog(plan: &Plan, mp: &Path) -> Result<Option<Watchdog>, Failure> {
    if !plan.options.auto_unmount {
        return Ok(None);
    }
    Watchdog::start(mp)
        .map(Some)
        .map_err(|e| env_failure(format!("auto_unmount: cannot start its watchdog: {e}")))
}

fn arm(watchdog: &mut Option<Watchdog>, dev: &str) -> Result<(), Failure> {
    match watchdog {
        Some(w) => w.arm(dev).map_err(|e| env_failure(format!("auto_unmount: the watchdog is gone: {e}"))),
        None => Ok(()),
    }
}

/// Mounts and completes the FUSE handshake; returns the session and the
/// mount's device (how it is recognised later). Root mounts directly
/// (see `mounting.rs` for why); where `mount(2)` is not permitted, fuser
/// mounts through fusermount3.
fn new_session(index: Index, plan: &Plan, mp: &Path) -> Result<(Session<FuseFs>, String), Failure> {
    let fs = FuseFs::new(Arc::new(index), plan.settings);
    let mut config = Config::default();
    config.acl = plan.options.acl;
    config.n_threads = Some(plan.threads.max(1));
    config.clone_fd = plan.clone_fd && plan.threads > 1;
    let session = match mounting::mount_direct(mp, &plan.options) {
        Ok(fd) => {
            let dev = mounting::mount_dev(mp).unwrap_or_default();
            return match Session::from_fd(fs, fd, config.acl, config) {
                Ok(s) => Ok((s, dev)),
                Err(e) => {
                    let _ = mounting::unmount_if_ours(mp, &dev);
                    Err(mount_failure(mp, &e))
                }
            };
        }
        Err(e) if e.raw_os_error() == Some(libc::EPERM) => {
            config.mount_options = plan.options.fuser_options();
            Session::new(fs, mp, &config).map_err(|e| mount_failure(mp, &e))?
        }
        Err(e) => return Err(mount_failure(mp, &e)),
    };
    Ok((session, mounting::mount_dev(mp).unwrap_or_default()))
}

/// One clear line for the usual reasons a mount fails.
fn mount_failure(mp: &Path, e: &io::Error) -> Failure {
    if !Path::new("/dev/fuse").exists() {
        return env_failure(
            "/dev/fuse is missing: load the fuse module (modprobe fuse) or pass the device into the container",
        );
    }
    // SAFETY: geteuid cannot fail.
    let root = unsafe { libc::geteuid() } == 0;
    if !root && e.kind() == io::ErrorKind::NotFound && !on_path("fusermount3") && !on_path("fusermount") {
        return env_failure("fusermount3 not found: install the fuse3 package to mount as a non-root user");
    }
    let dev = CString::new("/dev/fuse").unwrap_or_default();
    // SAFETY: valid path; access() only reads it.
    if !root
        && e.kind() == io::ErrorKind::PermissionDenied
        && unsafe { libc::access(dev.as_ptr(), libc::R_OK | libc::W_OK) } != 0
    {
        return env_failure("/dev/fuse is not accessible to this user (it is usually mode 0666): fix its mode or mount as root");
    }
    let detail = e.to_string();
    env_failure(format!("cannot mount on {}: {}", mp.display(), detail.trim().replace('\n', " ")))
}

fn on_path(bin: &str) -> bool {
    std::env::var_os("PATH").is_some_and(|p| std::env::split_paths(&p).any(|d| d.join(bin).is_file()))
}

const SIGNALS: [libc::c_int; 3] = [libc::SIGINT, libc::SIGTERM, libc::SIGHUP];

fn signal_set() -> libc::sigset_t {
    // SAFETY: sigemptyset initialises the set before sigaddset uses it.
    unsafe {
        let mut set: libc::sigset_t = std::mem::zeroed();
        libc::sigemptyset(&mut set);
        for s in SIGNALS {
            libc::sigaddset(&mut set, s);
        }
        set
    }
}

/// Blocks the termination signals in this thread and so in every thread
/// started after it; one thread then takes them with `sigwait`.
fn block_signals() {
    let set = signal_set();
    // SAFETY: `set` is initialised; the old mask is not wanted.
    unsafe { libc::pthread_sigmask(libc::SIG_BLOCK, &set, std::ptr::null_mut()) };
}

fn wait_signal() -> libc::c_int {
    let set = signal_set();
    let mut sig = 0;
    // SAFETY: `set` is initialised and `sig` is a valid out pointer.
    unsafe { libc::sigwait(&set, &mut sig) };
    sig
}

/// Runs the session to its end. The first SIGINT/SIGTERM/SIGHUP unmounts
/// (lazily if busy, so the session ends when the last file closes); a
/// second one exits at once.
fn serve(session: Session<FuseFs>, mp: &Path, dev: &str) -> Result<(), Failure> {
    let target = mp.to_path_buf();
    let watcher = std::thread::Builder::new().name("fsmfs-signals".into()).spawn(move || {
        let mut asked = false;
        loop {
            let sig = wait_signal();
            if asked {
                log::warn!("second signal {sig}: exiting without waiting for open files");
                std::process::exit(0);
            }
            asked = true;
            log::info!("signal {sig}: unmounting {}", target.display());
            if let Err(e) = unmount(&target) {
                log::error!("cannot unmount {}: {e}", target.display());
                asked = false;
            }
        }
    });
    if let Err(e) = watcher {
        return Err(env_failure(format!("cannot start the signal thread: {e}")));
    }
    let outcome = session.run();
    // Normally the mount is gone by now (umount, or the signal thread);
    // if the session ended otherwise, do not leave a dead mount behind.
    let _ = mounting::unmount_if_ours(mp, dev);
    outcome.map_err(|e| {
        log::error!("{}: {e}", mp.display());
        env_failure(format!("{}: {e}", mp.display()))
    })
}

/// Unmounts `mp`: directly as root (lazily when busy), through
/// fusermount3 otherwise. "Not mounted" counts as done.
pub(crate) fn unmount(mp: &Path) -> io::Result<()> {
    let c = CString::new(mp.as_os_str().as_bytes()).map_err(io::Error::other)?;
    // SAFETY: `c` is a valid NUL-terminated path.
    if unsafe { libc::umount2(c.as_ptr(), 0) } == 0 {
        return Ok(());
    }
    let err = io::Error::last_os_error();
    match err.raw_os_error() {
        Some(libc::EINVAL) => Ok(()),
        // SAFETY: as above.
        Some(libc::EBUSY) if unsafe { libc::umount2(c.as_ptr(), libc::MNT_DETACH) } == 0 => Ok(()),
        Some(libc::EPERM) => fusermount_unmount(mp),
        _ => Err(err),
    }
}

pub(super) fn fusermount_unmount(mp: &Path) -> io::Result<()> {
    let mut last = io::Error::other("fusermount3 not found");
    for bin in ["fusermount3", "fusermount"] {
        for args in [&["-u"][..], &["-u", "-z"][..]] {
            match Command::new(bin).args(args).arg("--").arg(mp).output() {
                Ok(out) if out.status.success() => return Ok(()),
                Ok(out) => last = io::Error::other(String::from_utf8_lossy(&out.stderr).trim().to_string()),
                Err(e) if e.kind() == io::ErrorKind::NotFound => break,
                Err(e) => last = e,
            }
        }
    }
    Err(last)
}

/// Points stdin, stdout and stderr at /dev/null, so the daemon holds no
/// terminal or pipe of whoever started it.
fn detach_stdio() {
    if let Ok(null) = std::fs::OpenOptions::new().read(true).write(true).open("/dev/null") {
        for fd in 0..3 {
            // SAFETY: dup2 onto the standard descriptors; `null` stays open
            // until after the calls.
            unsafe { libc::dup2(null.as_raw_fd(), fd) };
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mountpoint_checks_name_the_problem() {
        let dir = tempfile::tempdir().unwrap();
        let missing = dir.path().join("nope");
        let e = check_mountpoint(&missing).unwrap_err();
        assert_eq!(e.code, EXIT_USAGE);
        assert!(e.message.contains("does not exist"), "{}", e.message);
        let file = dir.path().join("f");
        std::fs::write(&file, b"x").unwrap();
        assert!(check_mountpoint(&file).unwrap_err().message.contains("not a directory"));
        assert_eq!(check_mountpoint(dir.path()).unwrap(), dir.path().canonicalize().unwrap());
        assert!(check_mountpoint(Path::new("/")).unwrap_err().message.contains("busy"));
    }

    #[test]
    fn parent_reads_the_childs_verdict() {
        let mp = Path::new("/mnt");
        assert!(parent_outcome(-1, "ok\n", mp).is_ok());
        let e = parent_outcome(-1, "2 snap.fsm: bad magic\n", mp).unwrap_err();
        assert_eq!((e.code, e.message.as_str()), (2, "snap.fsm: bad magic"));
        let e = parent_outcome(-1, "", mp).unwrap_err();
        assert_eq!(e.code, EXIT_USAGE);
        assert!(e.message.contains("before the mount was ready"));
    }
}
