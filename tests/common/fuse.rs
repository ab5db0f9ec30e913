//! Mounting in tests: whether FUSE can run here (under `CI=true` a missing
//! piece fails instead of skipping), background and foreground mounts that
//! unmount and reap their server on drop.

use std::ffi::{CString, OsStr};
use std::fs;
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output};
use std::time::{Duration, Instant};

pub const BIN: &str = env!("CARGO_BIN_EXE_fsmfs");

pub fn is_root() -> bool {
    // SAFETY: geteuid cannot fail.
    unsafe { libc::geteuid() == 0 }
}

pub fn have(bin: &str) -> bool {
    Command::new("sh").arg("-c").arg(format!("command -v {bin}")).output().is_ok_and(|o| o.status.success())
}

/// Whether mounts can run here; under `CI=true` a missing piece fails.
pub fn fuse_ready(also: &[&str]) -> bool {
    let mut missing: Vec<String> = Vec::new();
    if !Path::new("/dev/fuse").exists() {
        missing.push("/dev/fuse".into());
    }
    if !is_root() && !have("fusermount3") {
        missing.push("fusermount3 (package fuse3)".into());
    }
    missing.extend(also.iter().filter(|b| !have(b)).map(|b| b.to_string()));
    if missing.is_empty() {
        return true;
    }
    if std::env::var("CI").as_deref() == Ok("true") {
        panic!("CI=true but mount tests cannot run: missing {}", missing.join(", "));
    }
    eprintln!("note: skipping mount test, missing {}", missing.join(", "));
    false
}

pub fn is_mounted(mp: &Path) -> bool {
    if have("mountpoint") {
        return Command::new("mountpoint").arg("-q").arg(mp).status().is_ok_and(|s| s.success());
    }
    let info = fs::read_to_string("/proc/self/mountinfo").unwrap_or_default();
    let want = mp.canonicalize().unwrap_or(mp.to_path_buf());
    info.lines().any(|l| l.split(' ').nth(4) == Some(&*want.to_string_lossy()))
}

pub fn force_unmount(mp: &Path) {
    if is_root() {
        let c = CString::new(mp.as_os_str().as_bytes()).unwrap();
        // SAFETY: valid path string.
        unsafe { libc::umount2(c.as_ptr(), libc::MNT_DETACH) };
    } else {
        let _ = Command::new("fusermount3").args(["-u", "-z"]).arg(mp).output();
    }
}

/// `umount` the way a user would.
pub fn user_unmount(mp: &Path) -> Output {
    if is_root() {
        Command::new("umount").arg(mp).output().unwrap()
    } else {
        Command::new("fusermount3").arg("-u").arg(mp).output().unwrap()
    }
}

/// Waits for a (reparented) process without blocking forever; returns
/// its wait status.
pub fn wait_pid(pid: i32, timeout: Duration) -> Option<i32> {
    let end = Instant::now() + timeout;
    loop {
        let mut status = 0;
        // SAFETY: `status` is a valid out pointer.
        let r = unsafe { libc::waitpid(pid, &mut status, libc::WNOHANG) };
        if r == pid {
            return Some(status);
        }
        if r < 0 || Instant::now() > end {
            return None;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// Makes orphaned daemons our children, so their exit status is ours to
/// read (the `fsmfs mount` parent exits right after the mount is ready).
pub fn become_subreaper() {
    // SAFETY: plain prctl with integer arguments.
    unsafe { libc::prctl(libc::PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) };
}

pub fn fsmfs(args: &[&OsStr]) -> Output {
    fsmfs_in(Path::new("."), args)
}

/// `fsmfs` run from `cwd`, so a relative snapshot path resolves there.
pub fn fsmfs_in(cwd: &Path, args: &[&OsStr]) -> Output {
    Command::new(BIN).args(args).current_dir(cwd).env_remove("RUST_LOG").output().unwrap()
}

/// A live mount; unmounts (and reaps the server) on drop, so a failing
/// test leaves nothing mounted.
pub struct Mounted {
    pub mp: PathBuf,
    pub foreground: Option<Child>,
    pub daemon: Option<i32>,
}

impl Drop for Mounted {
    fn drop(&mut self) {
        if is_mounted(&self.mp) {
            force_unmount(&self.mp);
        }
        if let Some(c) = &mut self.foreground {
            let _ = c.kill();
            let _ = c.wait();
        }
        if let Some(pid) = self.daemon {
            if wait_pid(pid, Duration::from_secs(5)).is_none() {
                // SAFETY: signalling a process we started.
                unsafe { libc::kill(pid, libc::SIGKILL) };
                wait_pid(pid, Duration::from_secs(5));
            }
        }
    }
}

/// `fsmfs -v mount` in the background; the mount must be ready on return.
pub fn mount(snap: &Path, mp: &Path, extra: &[&str]) -> Mounted {
    mount_in(Path::new("."), snap, mp, extra)
}

/// `mount` run from `cwd` (`snap` may be relative to it).
pub fn mount_in(cwd: &Path, snap: &Path, mp: &Path, extra: &[&str]) -> Mounted {
    become_subreaper();
    fs::create_dir_all(mp).unwrap();
    let mut args: Vec<&OsStr> = vec![OsStr::new("-v"), OsStr::new("mount"), snap.as_os_str(), mp.as_os_str()];
    args.extend(extra.iter().map(OsStr::new));
    let o = fsmfs_in(cwd, &args);
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(o.status.success(), "mount failed: {err}");
    let daemon = err
        .split("(pid ")
        .nth(1)
        .and_then(|r| r.split(')').next())
        .and_then(|p| p.parse().ok())
        .unwrap_or_else(|| panic!("no daemon pid in: {err}"));
    let m = Mounted { mp: mp.to_path_buf(), foreground: None, daemon: Some(daemon) };
    assert!(is_mounted(mp), "mount returned before the mount was ready");
    m
}
