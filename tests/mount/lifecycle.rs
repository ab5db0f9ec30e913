//! Mounting and unmounting the way FUSE users do it, on real mounts: a
//! clean stop (SIGINT, SIGTERM, SIGHUP, `umount`) is silent and exits 0;
//! `-o auto_unmount` takes the mount down when the server is killed;
//! FUSE-style options work, and a wrong one is refused with one line
//! naming it.
//!
//! Needs /dev/fuse (and fusermount3 when not root). Without it the mount
//! tests print a note and pass, except under `CI=true`, where they fail.

use std::ffi::OsStr;
use std::fs;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use fsmfs::fuse::is_mount_point;

use crate::common::fuse::*;

const DEMO: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/data/demo.fsm");

fn scratch() -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let mp = dir.path().canonicalize().unwrap().join("mnt");
    fs::create_dir(&mp).unwrap();
    (dir, mp)
}

/// Waits until `cond` holds; false after `secs`.
fn within(secs: u64, mut cond: impl FnMut() -> bool) -> bool {
    let end = Instant::now() + Duration::from_secs(secs);
    while !cond() {
        if Instant::now() > end {
            return false;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    true
}

/// `fsmfs mount -f` (no -v) as a child with stderr in `log`; returns once
/// the mount appears.
fn foreground(mp: &Path, log: &Path, extra: &[&str]) -> Mounted {
    let child = Command::new(BIN)
        .args([OsStr::new("mount"), OsStr::new("-f"), OsStr::new(DEMO), mp.as_os_str()])
        .args(extra)
        .env_remove("RUST_LOG")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(fs::File::create(log).unwrap())
        .spawn()
        .unwrap();
    let mut m = Mounted { mp: mp.to_path_buf(), foreground: Some(child), daemon: None };
    let ready = within(20, || {
        let c = m.foreground.as_mut().unwrap();
        if let Some(st) = c.try_wait().unwrap() {
            panic!("mount -f exited ({st}): {}", fs::read_to_string(log).unwrap_or_default());
        }
        is_mount_point(mp)
    });
    assert!(ready, "mount -f never became ready");
    m
}

/// Processes still running (not zombies) that were started for `mp`: the
/// server and, with auto_unmount, its watchdog (both carry `mp` in their
/// command line).
fn live_processes_for(mp: &Path) -> Vec<i32> {
    let want = mp.to_string_lossy().into_owned();
    let mut pids = Vec::new();
    for e in fs::read_dir("/proc").unwrap().flatten() {
        let Ok(pid) = e.file_name().to_string_lossy().parse::<i32>() else { continue };
        let cmd = fs::read(e.path().join("cmdline")).unwrap_or_default();
        let stat = fs::read_to_string(e.path().join("stat")).unwrap_or_default();
        let zombie = stat.rsplit(')').next().is_some_and(|s| s.trim_start().starts_with('Z'));
        if !zombie && String::from_utf8_lossy(&cmd).split('\0').any(|a| a == want) {
            pids.push(pid);
        }
    }
    pids
}

fn sigkill(pid: i32) {
    // SAFETY: signalling a process this test started.
    unsafe { libc::kill(pid, libc::SIGKILL) };
}

#[test]
fn a_clean_foreground_stop_is_silent_and_exits_0() {
    if !fuse_ready(&[]) {
        return;
    }
    let (dir, _) = scratch();
    let stops =
        [("SIGINT", libc::SIGINT), ("SIGTERM", libc::SIGTERM), ("SIGHUP", libc::SIGHUP), ("umount", 0)];
    for (how, sig) in stops {
        let mp = dir.path().join(how);
        fs::create_dir(&mp).unwrap();
        let log = dir.path().join(format!("{how}.log"));
        let mut m = foreground(&mp, &log, &[]);
        assert!(fs::read(mp.join("MANIFEST.json")).is_ok());
        let child = m.foreground.as_mut().unwrap();
        if sig == 0 {
            let o = user_unmount(&mp);
            assert!(o.status.success(), "umount: {}", String::from_utf8_lossy(&o.stderr));
        } else {
            // SAFETY: signalling our own child.
            unsafe { libc::kill(child.id() as i32, sig) };
        }
        let mut status = None;
        assert!(within(20, || {
            status = child.try_wait().unwrap();
            status.is_some()
        }));
        let err = fs::read_to_string(&log).unwrap();
        assert_eq!(status.unwrap().code(), Some(0), "{how}: {err}");
        assert_eq!(err, "", "{how}: a clean stop must print nothing");
        assert!(!is_mount_point(&mp), "{how}: still mounted");
    }
}

#[test]
fn auto_unmount_takes_the_mount_down_when_the_server_is_killed() {
    if !fuse_ready(&[]) {
        return;
    }
    let (dir, mp) = scratch();
    // In the background: kill the daemon.
    let mut m = mount(Path::new(DEMO), &mp, &["-o", "auto_unmount"]);
    assert!(fs::read(mp.join("MANIFEST.json")).is_ok());
    sigkill(m.daemon.unwrap());
    assert!(within(30, || !is_mount_point(&mp)), "still mounted after the daemon was killed");
    assert!(within(30, || live_processes_for(&mp).is_empty()), "the watchdog lingers");
    m.daemon = None;
    drop(m);

    // In the foreground: kill `fsmfs mount -f` itself.
    let mut m = foreground(&mp, &dir.path().join("fg.log"), &["-o", "auto_unmount"]);
    let pid = m.foreground.as_ref().unwrap().id() as i32;
    sigkill(pid);
    assert!(within(30, || !is_mount_point(&mp)), "still mounted after mount -f was killed");
    assert!(within(30, || live_processes_for(&mp).is_empty()), "the watchdog lingers");
    drop(m.foreground.take().map(|mut c| c.wait()));

    // A clean stop ends the watchdog too, and leaves nothing mounted.
    let mut m = mount(Path::new(DEMO), &mp, &["-o", "auto_unmount"]);
    assert!(user_unmount(&mp).status.success());
    let pid = m.daemon.take().unwrap();
    let status = wait_pid(pid, Duration::from_secs(20)).expect("daemon did not exit after umount");
    assert!(libc::WIFEXITED(status) && libc::WEXITSTATUS(status) == 0, "wait status {status:#x}");
    assert!(within(30, || live_processes_for(&mp).is_empty()), "the watchdog lingers");
    assert!(!is_mount_point(&mp));
}

#[test]
fn without_auto_unmount_a_killed_server_leaves_its_dead_mount() {
    // The control for the test above: the unmount there is auto_unmount's.
    if !fuse_ready(&[]) {
        return;
    }
    let (_dir, mp) = scratch();
    let mut m = mount(Path::new(DEMO), &mp, &[]);
    let pid = m.daemon.take().unwrap();
    sigkill(pid);
    wait_pid(pid, Duration::from_secs(10)).expect("daemon survived SIGKILL");
    std::thread::sleep(Duration::from_millis(300));
    assert!(is_mount_point(&mp), "a killed server's mount stays until someone unmounts it");
    let e = fs::read_dir(&mp).unwrap_err();
    assert_eq!(e.raw_os_error(), Some(libc::ENOTCONN), "{e}");
    force_unmount(&mp);
}

#[test]
fn fuse_style_options_are_honoured() {
    if !fuse_ready(&[]) {
        return;
    }
    let (_dir, mp) = scratch();
    let opts = "uid=1000,gid=100,umask=027,nonempty,noexec,noatime,fsname=snapx";
    let _m = mount(Path::new(DEMO), &mp, &["-o", opts]);
    let file = fs::metadata(mp.join("MANIFEST.json")).unwrap();
    let root = fs::metadata(&mp).unwrap();
    assert_eq!((file.uid(), file.gid(), file.mode() & 0o7777), (1000, 100, 0o640));
    assert_eq!((root.uid(), root.gid(), root.mode() & 0o7777), (1000, 100, 0o750));
    let info = fs::read_to_string("/proc/self/mountinfo").unwrap();
    let mp_text = mp.to_string_lossy();
    let line = info.lines().find(|l| l.split(' ').nth(4) == Some(&*mp_text)).unwrap();
    let vfs: Vec<&str> = line.split(' ').nth(5).unwrap().split(',').collect();
    for flag in ["ro", "noexec", "noatime", "nosuid", "nodev"] {
        assert!(vfs.contains(&flag), "{flag} missing: {line}");
    }
    let after = line.split(" - ").nth(1).unwrap();
    assert!(after.starts_with("fuse.fsmfs snapx "), "{line}");
}

#[test]
fn a_wrong_mount_option_is_one_line_naming_it() {
    // Refused before anything is mounted, so no FUSE is needed.
    let (_dir, mp) = scratch();
    for (opt, hint) in [
        ("bogus", "accepted: allow_other, allow_root, auto_unmount"),
        ("max_read=4096", "accepted:"),
        ("uid=alice", "--uid"),
        ("gid=staff", "--gid"),
        ("umask=u=rwx", "octal"),
        ("fmask=0133", "--file-mode"),
        ("dmask=0022", "--dir-mode"),
        ("rw", "read-only"),
    ] {
        let o = fsmfs(&[
            OsStr::new("mount"),
            OsStr::new(DEMO),
            mp.as_os_str(),
            OsStr::new("-o"),
            OsStr::new(opt),
        ]);
        let err = String::from_utf8_lossy(&o.stderr);
        assert_eq!(o.status.code(), Some(1), "{opt}: {err}");
        assert_eq!(err.lines().count(), 1, "{opt}: {err}");
        assert!(err.starts_with(&format!("fsmfs: -o {opt}: ")), "{opt}: {err}");
        assert!(err.contains(hint) && !err.contains("MsFlags"), "{opt}: {err}");
        assert!(!is_mount_point(&mp));
    }
    // --uid and uid= must agree.
    let mp_text = mp.to_string_lossy().into_owned();
    let args = ["mount", DEMO, mp_text.as_str(), "-o", "uid=5", "--uid", "6"].map(OsStr::new);
    let o = fsmfs(&args);
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(1), "{err}");
    assert!(err.lines().count() == 1 && err.contains("disagree"), "{err}");
}
