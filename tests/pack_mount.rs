//! Packing straight from a live `fsmfs mount`, and from an `rsync -a` copy
//! of one, gives the same payload as packing the extracted tree.
//!
//! Needs FUSE (and rsync); without it the test prints a note and passes,
//! except under `CI=true`.

mod pack_util;

use std::path::Path;
use std::process::Command;

use pack_util::*;

fn have(bin: &str) -> bool {
    Command::new("sh").arg("-c").arg(format!("command -v {bin}")).output().is_ok_and(|o| o.status.success())
}

fn fuse_ready() -> bool {
    let root = unsafe { libc::geteuid() } == 0;
    let ok = Path::new("/dev/fuse").exists() && (root || have("fusermount3")) && have("rsync");
    if !ok {
        assert!(std::env::var("CI").as_deref() != Ok("true"), "CI=true but FUSE or rsync is missing");
        eprintln!("note: skipping pack-from-mount test (no FUSE or rsync)");
    }
    ok
}

struct Mounted(std::path::PathBuf);

impl Drop for Mounted {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg(&self.0).status();
        let _ = Command::new("umount").arg("-l").arg(&self.0).output();
    }
}

#[test]
fn pack_from_a_live_mount_and_an_rsync_copy() {
    if !fuse_ready() {
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
    std::fs::create_dir(&mp).unwrap();
    let o = Command::new(BIN).arg("mount").arg(&demo).arg(&mp).output().unwrap();
    assert!(o.status.success(), "mount: {}", stderr(&o));
    let _guard = Mounted(mp.clone());

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
