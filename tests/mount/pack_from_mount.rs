//! Packing straight from a live `fsmfs mount`, and from an `rsync -a` copy
//! of one, gives the same payload as packing the extracted tree.
//!
//! Needs FUSE (and rsync); without it the test prints a note and passes,
//! except under `CI=true`.

use std::path::Path;
use std::process::Command;

use crate::common::fuse::{fuse_ready, mount};
use crate::common::pack::*;

#[test]
fn pack_from_a_live_mount_and_an_rsync_copy() {
    if !fuse_ready(&["rsync"]) {
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let demo = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/demo.fsm");
    // The reference: pack of the extracted tree.
    let tree = tmp.path().join("tree");
    extract_to(&demo, &tree, false);
    let want = tmp.path().join("want.fsm");
    pack_lib(&tree, &want).unwrap();

    let mp = tmp.path().join("mnt");
    let _mounted = mount(&demo, &mp, &[]);

    let from_mount = tmp.path().join("mount.fsm");
    let r = run(&["pack", mp.to_str().unwrap(), from_mount.to_str().unwrap()]);
    assert!(r.status.success(), "pack from the mount: {}", stderr(&r));
    assert_eq!(std::fs::read(&from_mount).unwrap(), std::fs::read(&want).unwrap(), "mount");

    let copy = tmp.path().join("copy");
    let st = Command::new("rsync").arg("-a").arg(format!("{}/", mp.display())).arg(&copy).status().unwrap();
    assert!(st.success());
    let from_copy = tmp.path().join("copy.fsm");
    let r = run(&["pack", copy.to_str().unwrap(), from_copy.to_str().unwrap()]);
    assert!(r.status.success(), "pack from the rsync copy: {}", stderr(&r));
    assert_eq!(std::fs::read(&from_copy).unwrap(), std::fs::read(&want).unwrap(), "rsync copy");
}
