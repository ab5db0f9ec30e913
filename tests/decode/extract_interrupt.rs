//! An interrupted `extract` leaves nothing behind (issue 9 §5): SIGINT,
//! SIGTERM and SIGHUP remove the temporary directory before the process
//! dies by the signal; what a SIGKILL leaves is removed by the next
//! `extract` into the same directory. And errors about OUTDIR name OUTDIR
//! in user terms (issue 9 §7): a missing parent, a mount point.

use std::os::unix::process::ExitStatusExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use crate::common::pack::*;

const T: u64 = 0x018F_D118_9400_0003;

/// A snapshot whose extract takes a while: one sparse S3 object of 1 GiB.
fn big_snapshot(dir: &Path) -> PathBuf {
    let tree = dir.join("tree");
    let size = 1u64 << 30;
    make_tree(&tree, T, &[("s3/b/_bucket.json", b"{\n  \"format_version\": 1,\n  \"name\": \"b\"\n}")]);
    std::fs::File::create(tree.join("s3/b/big")).unwrap().set_len(size).unwrap();
    std::fs::write(
        tree.join("s3/b/big.elastickv-meta.json"),
        format!("{{\n  \"format_version\": 1,\n  \"size_bytes\": {size}\n}}"),
    )
    .unwrap();
    let snap = dir.join("snap.fsm");
    let o = run(&["pack", "--no-self-test", tree.to_str().unwrap(), snap.to_str().unwrap()]);
    assert!(o.status.success(), "{}", stderr(&o));
    std::fs::remove_dir_all(&tree).unwrap();
    snap
}

fn spawn_extract(snap: &Path, out: &Path) -> Child {
    Command::new(BIN)
        .arg("extract")
        .arg(snap)
        .arg(out)
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap()
}

/// Waits until the extract's temporary directory beside OUTDIR holds the
/// tree's directories (files are being written then).
fn wait_for_temp(dir: &Path) {
    let start = Instant::now();
    loop {
        assert!(start.elapsed() < Duration::from_secs(60), "the temporary directory never appeared");
        let busy = listing(dir).iter().any(|n| {
            n.contains(".fsmfs-extract-") && !n.ends_with(".lock") && dir.join(n).join("s3/b").is_dir()
        });
        if busy {
            return;
        }
        std::thread::sleep(Duration::from_millis(2));
    }
}

fn signal(child: &Child, sig: i32) {
    // SAFETY: signalling our own child.
    assert_eq!(unsafe { libc::kill(child.id() as i32, sig) }, 0);
}

#[test]
fn catchable_signals_remove_the_temporary_and_kill_leaves_it_to_the_next_run() {
    let tmp = tempfile::tempdir().unwrap();
    let snap = big_snapshot(tmp.path());
    let dir = tmp.path().join("work");
    std::fs::create_dir(&dir).unwrap();
    let out = dir.join("out");
    for sig in [libc::SIGINT, libc::SIGTERM, libc::SIGHUP] {
        let mut child = spawn_extract(&snap, &out);
        wait_for_temp(&dir);
        std::thread::sleep(Duration::from_millis(30));
        signal(&child, sig);
        let st = child.wait().unwrap();
        assert_eq!(st.signal(), Some(sig), "signal {sig}: the extract should die by it, got {st:?}");
        assert_eq!(listing(&dir), Vec::<String>::new(), "signal {sig}: leftovers");
    }
    // SIGKILL cannot be caught: the temporary and its lock file stay ...
    let mut child = spawn_extract(&snap, &out);
    wait_for_temp(&dir);
    signal(&child, libc::SIGKILL);
    child.wait().unwrap();
    let left = listing(&dir);
    assert_eq!(left.len(), 2, "{left:?}");
    assert!(left.iter().all(|n| n.contains(&format!(".out.fsmfs-extract-{}-", child.id()))), "{left:?}");
    // ... until the next extract into the same directory removes them.
    let done = run(&["extract", snap.to_str().unwrap(), out.to_str().unwrap()]);
    assert!(done.status.success(), "{}", stderr(&done));
    assert_eq!(listing(&dir), vec!["out"]);
    assert_eq!(std::fs::metadata(out.join("s3/b/big")).unwrap().len(), 1 << 30);
}

/// A small snapshot for the error cases.
fn small_snapshot(dir: &Path) -> PathBuf {
    let tree = dir.join("tree");
    make_tree(
        &tree,
        T,
        &[("s3/b/_bucket.json", BUCKET), ("s3/b/k", b"v"), ("s3/b/k.elastickv-meta.json", &sidecar(1))],
    );
    let snap = dir.join("small.fsm");
    let o = run(&["pack", "--no-self-test", tree.to_str().unwrap(), snap.to_str().unwrap()]);
    assert!(o.status.success(), "{}", stderr(&o));
    snap
}

fn one_line_exit_1(o: &std::process::Output) -> String {
    let err = stderr(o);
    assert_eq!(o.status.code(), Some(1), "{err}");
    assert_eq!(err.trim_end().lines().count(), 1, "{err}");
    assert!(!err.contains("fsmfs-extract"), "names the internal temporary: {err}");
    err
}

#[test]
fn a_missing_parent_is_named_as_such() {
    let tmp = tempfile::tempdir().unwrap();
    let snap = small_snapshot(tmp.path());
    let out = tmp.path().join("no/such/out");
    let err = one_line_exit_1(&run(&["extract", snap.to_str().unwrap(), out.to_str().unwrap()]));
    assert!(err.contains("parent directory") && err.contains("does not exist"), "{err}");
    assert!(err.contains("no/such"), "{err}");
    // A parent that is a file.
    let out = snap.join("out");
    let err = one_line_exit_1(&run(&["extract", snap.to_str().unwrap(), out.to_str().unwrap()]));
    assert!(err.contains("parent directory") && err.contains("Not a directory"), "{err}");
}

#[test]
fn a_mount_point_is_refused_with_what_to_do() {
    let tmp = tempfile::tempdir().unwrap();
    let snap = small_snapshot(tmp.path());
    let mnt = tmp.path().join("mnt");
    std::fs::create_dir(&mnt).unwrap();
    let mounted = Command::new("mount").args(["-t", "tmpfs", "fsmfs-test", mnt.to_str().unwrap()]).status();
    if !mounted.is_ok_and(|s| s.success()) {
        assert!(std::env::var_os("CI").is_none(), "cannot mount a tmpfs (root needed)");
        eprintln!("skipped: cannot mount a tmpfs here");
        return;
    }
    let r = run(&["extract", snap.to_str().unwrap(), mnt.to_str().unwrap()]);
    let listed = (listing(tmp.path()), listing(&mnt));
    // A subdirectory of it works.
    let sub = mnt.join("tree");
    let ok = run(&["extract", snap.to_str().unwrap(), sub.to_str().unwrap()]);
    let extracted = sub.join("s3/b/k").is_file();
    let _ = Command::new("umount").arg(&mnt).status();
    let err = one_line_exit_1(&r);
    assert!(err.contains("is a mount point") && err.contains("subdirectory"), "{err}");
    assert_eq!(listed.0, vec!["mnt", "small.fsm", "small.fsm.encode_info.json", "tree"]);
    assert_eq!(listed.1, Vec::<String>::new());
    assert!(ok.status.success() && extracted, "{}", stderr(&ok));
}
