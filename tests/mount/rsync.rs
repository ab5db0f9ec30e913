//! An incremental `rsync -a` of a mount over an earlier copy always leaves
//! an archive that `sha256sum -c CHECKSUMS` verifies and that equals the
//! mount, whatever path the snapshot was reached by and whichever
//! content-changing options the mounts used (`design.md` §5,
//! `docs/compatibility.md`).
//!
//! Needs /dev/fuse, rsync and sha256sum. Without them the tests print a
//! note and pass, except under `CI=true`, where they fail.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

use crate::common::fuse::*;

const DEMO: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/data/demo.fsm");

/// A scratch area: the snapshot in `snaps/demo.fsm`, a symlink to it under
/// another name in `links/`, the archive copy, and a mount point.
struct Scratch {
    _dir: tempfile::TempDir,
    snaps: PathBuf,
    links: PathBuf,
    copy: PathBuf,
    mp: PathBuf,
}

fn scratch() -> Scratch {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().to_path_buf();
    let (snaps, links, copy, mp) =
        (root.join("snaps"), root.join("links"), root.join("copy"), root.join("mnt"));
    for d in [&snaps, &links, &copy] {
        fs::create_dir_all(d).unwrap();
    }
    fs::copy(DEMO, snaps.join("demo.fsm")).unwrap();
    std::os::unix::fs::symlink("../snaps/demo.fsm", links.join("latest.fsm")).unwrap();
    Scratch { _dir: dir, snaps, links, copy, mp }
}

/// Mounts `snap` (relative to `cwd`), rsyncs the mount over the copy the
/// way the README does, checks the copy's generated files equal the
/// mount's, unmounts, and checks the copy verifies.
fn rsync_round(s: &Scratch, cwd: &Path, snap: &str, extra: &[&str]) {
    let what = format!("mount of {snap} from {} with {extra:?}", cwd.display());
    {
        let _m = mount_in(cwd, Path::new(snap), &s.mp, extra);
        let mut from = s.mp.clone().into_os_string();
        from.push("/");
        let mut to = s.copy.clone().into_os_string();
        to.push("/");
        let o = Command::new("rsync").arg("-ai").arg(&from).arg(&to).output().unwrap();
        assert!(o.status.success(), "rsync after {what}: {}", String::from_utf8_lossy(&o.stderr));
        for f in ["MANIFEST.json", "CHECKSUMS"] {
            let mounted = fs::read(s.mp.join(f)).unwrap();
            let copied = fs::read(s.copy.join(f)).unwrap();
            assert!(
                mounted == copied,
                "after {what}, rsync left a stale {f} (itemized: {})",
                String::from_utf8_lossy(&o.stdout)
            );
        }
    }
    let o =
        Command::new("sha256sum").args(["-c", "--quiet", "CHECKSUMS"]).current_dir(&s.copy).output().unwrap();
    assert!(
        o.status.success(),
        "sha256sum -c after {what}: {}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    );
}

fn manifest_of(s: &Scratch) -> String {
    fs::read_to_string(s.copy.join("MANIFEST.json")).unwrap()
}

#[test]
fn absolute_then_relative_path_leaves_a_verifying_archive() {
    if !fuse_ready(&["rsync", "sha256sum"]) {
        return;
    }
    let s = scratch();
    let abs = s.snaps.join("demo.fsm");
    rsync_round(&s, Path::new("/"), abs.to_str().unwrap(), &[]);
    let first = manifest_of(&s);
    rsync_round(&s, &s.snaps, "demo.fsm", &[]);
    rsync_round(&s, &s.links, "../snaps/./demo.fsm", &[]);
    assert_eq!(manifest_of(&s), first, "one snapshot, one MANIFEST.json");
}

#[test]
fn mount_through_a_symlink_leaves_a_verifying_archive() {
    if !fuse_ready(&["rsync", "sha256sum"]) {
        return;
    }
    let s = scratch();
    rsync_round(&s, &s.snaps, "demo.fsm", &[]);
    let first = manifest_of(&s);
    rsync_round(&s, &s.links, "latest.fsm", &[]);
    assert_eq!(manifest_of(&s), first, "a symlink reaches the same snapshot");
}

#[test]
fn changing_cluster_id_between_mounts_leaves_a_verifying_archive() {
    if !fuse_ready(&["rsync", "sha256sum"]) {
        return;
    }
    let s = scratch();
    // Default, then an id (MANIFEST.json grows, CHECKSUMS keeps its size),
    // then another id of the same length (neither file changes size).
    rsync_round(&s, &s.snaps, "demo.fsm", &[]);
    rsync_round(&s, &s.snaps, "demo.fsm", &["--cluster-id", "ek-a"]);
    assert!(manifest_of(&s).contains("\"cluster_id\": \"ek-a\""));
    rsync_round(&s, &s.snaps, "demo.fsm", &["--cluster-id", "ek-b"]);
    assert!(manifest_of(&s).contains("\"cluster_id\": \"ek-b\""));
    // Back to the defaults: the copy must follow again.
    rsync_round(&s, &s.snaps, "demo.fsm", &[]);
    assert!(!manifest_of(&s).contains("cluster_id"));
}

#[test]
fn changing_exclusion_flags_between_mounts_leaves_a_verifying_archive() {
    if !fuse_ready(&["rsync", "sha256sum"]) {
        return;
    }
    let s = scratch();
    // Each flag flips one boolean in MANIFEST.json: same size, new bytes.
    rsync_round(&s, &s.snaps, "demo.fsm", &["--include-orphans"]);
    rsync_round(&s, &s.snaps, "demo.fsm", &["--include-incomplete-uploads"]);
    rsync_round(&s, &s.snaps, "demo.fsm", &["--include-sqs-side-records"]);
}
