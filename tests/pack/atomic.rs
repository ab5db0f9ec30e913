//! Atomic publish (issue 4 §2, `pack.md` §3.3): a pack killed half-way
//! (SIGKILL, SIGINT, SIGTERM), one that runs out of disk space, or one that
//! fails on bad input leaves no OUT, no temp file and no sidecar behind,
//! and an existing OUT (with its sidecar) is untouched.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use crate::common::pack::*;

const T: u64 = 0x018F_D118_9400_0003;
const MIB: u64 = 1 << 20;

/// A tree with one S3 object of `size` bytes (sparse: cheap to make, slow
/// enough to pack that a signal lands mid-way) and a canonical sidecar.
fn big_tree(root: &Path, size: u64) {
    make_tree(root, T, &[("s3/b/_bucket.json", b"{\n  \"format_version\": 1,\n  \"name\": \"b\"\n}")]);
    let f = std::fs::File::create(root.join("s3/b/big")).unwrap();
    f.set_len(size).unwrap();
    std::fs::write(
        root.join("s3/b/big.elastickv-meta.json"),
        format!("{{\n  \"format_version\": 1,\n  \"size_bytes\": {size}\n}}"),
    )
    .unwrap();
}

/// Puts an old OUT and sidecar in `dir`; returns OUT.
fn old_output(dir: &Path) -> PathBuf {
    let out = dir.join("x.fsm");
    std::fs::write(&out, b"old payload").unwrap();
    std::fs::write(dir.join("x.fsm.encode_info.json"), b"old sidecar").unwrap();
    out
}

fn assert_old_output_only(dir: &Path, what: &str) {
    assert_eq!(listing(dir), vec!["x.fsm", "x.fsm.encode_info.json"], "{what}: leftovers");
    assert_eq!(std::fs::read(dir.join("x.fsm")).unwrap(), b"old payload", "{what}");
    assert_eq!(std::fs::read(dir.join("x.fsm.encode_info.json")).unwrap(), b"old sidecar", "{what}");
}

fn spawn_pack(tree: &Path, out: &Path, env: &[(&str, &str)]) -> Child {
    let mut c = Command::new(BIN);
    c.arg("pack").arg(tree).arg(out).stdout(Stdio::null()).stderr(Stdio::piped());
    for (k, v) in env {
        c.env(k, v);
    }
    c.spawn().unwrap()
}

/// Waits until `pid` holds a descriptor on a file in `dir` (the unnamed
/// output shows as `dir/#inode (deleted)`), or its named temp file
/// `.x.fsm.fsmfs-pack-<pid>-<hex>` appears.
fn wait_for_output(pid: u32, dir: &Path, named: bool) {
    let start = Instant::now();
    let dir_s = dir.canonicalize().unwrap().to_string_lossy().into_owned();
    loop {
        assert!(start.elapsed() < Duration::from_secs(30), "the output file never appeared");
        if named {
            let temp = format!(".x.fsm.fsmfs-pack-{pid}-");
            if listing(dir).iter().any(|n| n.starts_with(&temp) && !n.ends_with(".lock")) {
                return;
            }
        } else if let Ok(fds) = std::fs::read_dir(format!("/proc/{pid}/fd")) {
            for fd in fds.flatten() {
                if let Ok(target) = std::fs::read_link(fd.path()) {
                    let t = target.to_string_lossy();
                    if t.starts_with(&format!("{dir_s}/#")) {
                        return;
                    }
                }
            }
        }
        std::thread::sleep(Duration::from_millis(1));
    }
}

fn kill(child: &mut Child, sig: i32) {
    // SAFETY: signalling our own child.
    unsafe { libc::kill(child.id() as i32, sig) };
    let st = child.wait().unwrap();
    assert!(!st.success(), "the pack finished before the signal");
}

#[test]
fn sigkill_mid_way_leaves_nothing() {
    let tmp = tempfile::tempdir().unwrap();
    let tree = tmp.path().join("tree");
    big_tree(&tree, 768 * MIB);
    let dir = tmp.path().join("out");
    std::fs::create_dir(&dir).unwrap();
    let out = old_output(&dir);
    let mut child = spawn_pack(&tree, &out, &[]);
    wait_for_output(child.id(), &dir, false);
    std::thread::sleep(Duration::from_millis(20));
    kill(&mut child, libc::SIGKILL);
    assert_old_output_only(&dir, "SIGKILL");
}

#[test]
fn catchable_signals_remove_the_named_temp_file() {
    // The fallback for filesystems without O_TMPFILE: a named temp file,
    // removed by the signal handler.
    for sig in [libc::SIGINT, libc::SIGTERM, libc::SIGHUP] {
        let tmp = tempfile::tempdir().unwrap();
        let tree = tmp.path().join("tree");
        big_tree(&tree, 768 * MIB);
        let dir = tmp.path().join("out");
        std::fs::create_dir(&dir).unwrap();
        let out = old_output(&dir);
        let mut child = spawn_pack(&tree, &out, &[("FSMFS_PACK_NAMED_TEMP", "1")]);
        wait_for_output(child.id(), &dir, true);
        std::thread::sleep(Duration::from_millis(20));
        kill(&mut child, sig);
        assert_old_output_only(&dir, &format!("signal {sig}"));
    }
    // And SIGINT with the unnamed file.
    let tmp = tempfile::tempdir().unwrap();
    let tree = tmp.path().join("tree");
    big_tree(&tree, 768 * MIB);
    let dir = tmp.path().join("out");
    std::fs::create_dir(&dir).unwrap();
    let out = old_output(&dir);
    let mut child = spawn_pack(&tree, &out, &[]);
    wait_for_output(child.id(), &dir, false);
    kill(&mut child, libc::SIGINT);
    assert_old_output_only(&dir, "SIGINT");
}

#[test]
fn named_temp_fallback_publishes_and_cleans_up_on_errors() {
    let tmp = tempfile::tempdir().unwrap();
    let tree = tmp.path().join("tree");
    big_tree(&tree, 3 * MIB + 5);
    let dir = tmp.path().join("out");
    std::fs::create_dir(&dir).unwrap();
    let out = dir.join("x.fsm");
    let r = Command::new(BIN)
        .arg("pack")
        .arg(&tree)
        .arg(&out)
        .env("FSMFS_PACK_NAMED_TEMP", "1")
        .output()
        .unwrap();
    assert!(r.status.success(), "{}", stderr(&r));
    assert_eq!(listing(&dir), vec!["x.fsm", "x.fsm.encode_info.json"]);
    // Same bytes as through O_TMPFILE.
    let out2 = tmp.path().join("y.fsm");
    pack_lib(&tree, &out2).unwrap();
    assert_eq!(std::fs::read(&out).unwrap(), std::fs::read(&out2).unwrap());
    // A failing run with the fallback leaves the old pair alone.
    std::fs::write(tree.join("s3/b/stray"), b"no sidecar").unwrap();
    let dir = tmp.path().join("out2");
    std::fs::create_dir(&dir).unwrap();
    let out = old_output(&dir);
    let r = Command::new(BIN)
        .arg("pack")
        .arg(&tree)
        .arg(&out)
        .env("FSMFS_PACK_NAMED_TEMP", "1")
        .output()
        .unwrap();
    assert_eq!(r.status.code(), Some(2), "{}", stderr(&r));
    assert_old_output_only(&dir, "fallback + bad tree");
}

#[test]
fn bad_input_keeps_an_existing_output_and_its_sidecar() {
    let tmp = tempfile::tempdir().unwrap();
    let tree = tmp.path().join("tree");
    make_tree(&tree, T, &[("s3/b/_bucket.json", BUCKET), ("s3/b/k", b"body without sidecar")]);
    let dir = tmp.path().join("out");
    std::fs::create_dir(&dir).unwrap();
    let out = old_output(&dir);
    let r = run(&["pack", tree.to_str().unwrap(), out.to_str().unwrap()]);
    assert_eq!(r.status.code(), Some(2), "{}", stderr(&r));
    assert_old_output_only(&dir, "bad tree");
}

fn is_root() -> bool {
    // SAFETY: no preconditions.
    unsafe { libc::geteuid() == 0 }
}

/// Mounts a small tmpfs at `at`; false (with a note) where that is not
/// possible, except under `CI=true`.
fn small_tmpfs(at: &Path, size: &str) -> bool {
    std::fs::create_dir_all(at).unwrap();
    let ok = is_root()
        && Command::new("mount")
            .args(["-t", "tmpfs", "-o", &format!("size={size}"), "tmpfs"])
            .arg(at)
            .status()
            .is_ok_and(|s| s.success());
    if !ok {
        assert!(
            std::env::var("CI").as_deref() != Ok("true"),
            "CI=true but cannot mount a tmpfs (needs root)"
        );
        eprintln!("note: skipping the full-filesystem test (cannot mount a tmpfs)");
    }
    ok
}

struct Unmount(PathBuf);

impl Drop for Unmount {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg("-l").arg(&self.0).status();
    }
}

#[test]
fn full_filesystem_leaves_nothing_and_keeps_the_old_output() {
    let tmp = tempfile::tempdir().unwrap();
    let fs = tmp.path().join("small");
    if !small_tmpfs(&fs, "2m") {
        return;
    }
    let _guard = Unmount(fs.clone());
    let tree = tmp.path().join("tree");
    big_tree(&tree, 8 * MIB);
    let out = old_output(&fs);
    let r = run(&["pack", tree.to_str().unwrap(), out.to_str().unwrap()]);
    assert_eq!(r.status.code(), Some(1), "{}", stderr(&r));
    assert!(stderr(&r).contains("No space left on device"), "{}", stderr(&r));
    assert_old_output_only(&fs, "ENOSPC");
    // The space is free again: a small tree fits.
    let small = tmp.path().join("small-tree");
    big_tree(&small, 1000);
    let r = run(&["pack", small.to_str().unwrap(), out.to_str().unwrap()]);
    assert!(r.status.success(), "{}", stderr(&r));
    assert_ne!(std::fs::read(&out).unwrap(), b"old payload");

    // A full spill directory is an environment error too.
    let spill = tmp.path().join("spill");
    if !small_tmpfs(&spill, "64k") {
        return;
    }
    let _guard2 = Unmount(spill.clone());
    let items = tmp.path().join("items");
    let mut files: Vec<(String, Vec<u8>)> = vec![("dynamodb/t/_schema.json".into(), HASH_SCHEMA.to_vec())];
    for i in 0..3000 {
        files.push((
            format!("dynamodb/t/items/k{i}.json"),
            format!(r#"{{"id":{{"S":"k{i}"}},"pad":{{"S":"{}"}}}}"#, "x".repeat(300)).into_bytes(),
        ));
    }
    let refs: Vec<(&str, &[u8])> = files.iter().map(|(p, b)| (p.as_str(), b.as_slice())).collect();
    make_tree(&items, T, &refs);
    let dir = tmp.path().join("o3");
    std::fs::create_dir(&dir).unwrap();
    let out = old_output(&dir);
    let r = run(&[
        "pack",
        "--no-self-test",
        "--memory-budget",
        "1M",
        "--scratch-root",
        spill.to_str().unwrap(),
        items.to_str().unwrap(),
        out.to_str().unwrap(),
    ]);
    assert_eq!(r.status.code(), Some(1), "{}", stderr(&r));
    assert!(stderr(&r).contains("spilling a sorted run"), "{}", stderr(&r));
    assert_old_output_only(&dir, "spill ENOSPC");
    assert_eq!(listing(&spill), Vec::<String>::new());
}

/// A sidecar path the safe open would refuse (here a symlink) fails the run
/// before OUT is replaced: the old OUT, and the symlink's target, stay.
#[test]
fn refused_sidecar_path_keeps_the_old_output() {
    let tmp = tempfile::tempdir().unwrap();
    let tree = tmp.path().join("tree");
    big_tree(&tree, 1000);
    let dir = tmp.path().join("out");
    std::fs::create_dir(&dir).unwrap();
    let out = dir.join("x.fsm");
    std::fs::write(&out, b"old payload").unwrap();
    std::fs::write(tmp.path().join("target"), b"not yours").unwrap();
    std::os::unix::fs::symlink(tmp.path().join("target"), dir.join("x.fsm.encode_info.json")).unwrap();
    let r = run(&["pack", tree.to_str().unwrap(), out.to_str().unwrap()]);
    assert_eq!(r.status.code(), Some(1), "{}", stderr(&r));
    assert!(stderr(&r).contains("refusing to overwrite symlink"), "{}", stderr(&r));
    assert_eq!(std::fs::read(&out).unwrap(), b"old payload");
    assert_eq!(std::fs::read(tmp.path().join("target")).unwrap(), b"not yours");
    assert_eq!(listing(&dir), vec!["x.fsm", "x.fsm.encode_info.json"]);
}

/// What a SIGKILL leaves on a filesystem without `O_TMPFILE` — the named
/// temp file and its lock file — is removed by the next pack into the same
/// directory (issue 9 §5); a look-alike of a live process is not.
#[test]
fn the_next_run_removes_what_a_killed_run_left() {
    let tmp = tempfile::tempdir().unwrap();
    let tree = tmp.path().join("tree");
    big_tree(&tree, 768 * MIB);
    let dir = tmp.path().join("out");
    std::fs::create_dir(&dir).unwrap();
    let out = old_output(&dir);
    let mut child = spawn_pack(&tree, &out, &[("FSMFS_PACK_NAMED_TEMP", "1")]);
    wait_for_output(child.id(), &dir, true);
    kill(&mut child, libc::SIGKILL);
    let left: Vec<String> = listing(&dir).into_iter().filter(|n| n.starts_with('.')).collect();
    assert_eq!(left.len(), 2, "{left:?}");
    assert!(left.iter().all(|n| n.starts_with(&format!(".x.fsm.fsmfs-pack-{}-", child.id()))), "{left:?}");
    // A live process's temporary (this test's pid) must stay.
    let live = format!(".x.fsm.fsmfs-pack-{}-0123456789abcdef", std::process::id());
    std::fs::write(dir.join(&live), b"in use").unwrap();
    std::fs::write(dir.join(format!("{live}.lock")), b"fsmfs temporary lock\n").unwrap();
    let small = tmp.path().join("small");
    big_tree(&small, 1000);
    let r = run(&["pack", small.to_str().unwrap(), out.to_str().unwrap()]);
    assert!(r.status.success(), "{}", stderr(&r));
    let mut want =
        vec![live.clone(), format!("{live}.lock"), "x.fsm".into(), "x.fsm.encode_info.json".into()];
    want.sort();
    assert_eq!(listing(&dir), want);
}
