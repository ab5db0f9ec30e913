//! The snapshot file changes under a live mount (`docs/fuse.md`, "When
//! the snapshot file changes"): truncated, or overwritten in place with
//! other bytes of the same size. The daemon must survive, answer EIO for
//! every read it can no longer vouch for, log that once, and keep serving
//! listings; a file renamed over the path changes nothing.
//!
//! Needs /dev/fuse; without it the tests print a note and pass, except
//! under `CI=true`, where they fail.

use std::fs;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use crate::common::fuse::*;

const DEMO: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/data/demo.fsm");

/// A foreground mount whose log goes to a file the test reads.
struct Foreground {
    child: Option<Child>,
    mp: PathBuf,
    log: PathBuf,
}

impl Foreground {
    fn start(snap: &Path, dir: &Path) -> Foreground {
        let mp = dir.join("mnt");
        let log = dir.join("daemon.log");
        fs::create_dir_all(&mp).unwrap();
        let child = Command::new(BIN)
            .arg("mount")
            .arg("-f")
            .arg(snap)
            .arg(&mp)
            .env_remove("RUST_LOG")
            .stdout(Stdio::null())
            .stderr(fs::File::create(&log).unwrap())
            .spawn()
            .unwrap();
        let end = Instant::now() + Duration::from_secs(30);
        while !is_mounted(&mp) {
            assert!(
                Instant::now() < end,
                "mount not ready: {}",
                fs::read_to_string(&log).unwrap_or_default()
            );
            std::thread::sleep(Duration::from_millis(20));
        }
        Foreground { child: Some(child), mp, log }
    }

    fn alive(&mut self) -> bool {
        self.child.as_mut().unwrap().try_wait().unwrap().is_none()
    }

    fn log(&self) -> String {
        fs::read_to_string(&self.log).unwrap()
    }

    /// Unmounts and returns the daemon's exit status.
    fn stop(mut self) -> std::process::ExitStatus {
        let out = user_unmount(&self.mp);
        assert!(out.status.success(), "umount: {}", String::from_utf8_lossy(&out.stderr));
        let mut child = self.child.take().unwrap();
        let end = Instant::now() + Duration::from_secs(10);
        loop {
            if let Some(s) = child.try_wait().unwrap() {
                return s;
            }
            assert!(Instant::now() < end, "daemon did not exit after umount");
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

impl Drop for Foreground {
    fn drop(&mut self) {
        if is_mounted(&self.mp) {
            force_unmount(&self.mp);
        }
        if let Some(c) = &mut self.child {
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}

/// Every regular file under `root`, by walking names only (readdir needs
/// no attributes, so it keeps working after a change).
fn files(root: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![root.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in fs::read_dir(&d).unwrap() {
            let e = e.unwrap();
            if e.file_type().unwrap().is_dir() {
                stack.push(e.path());
            } else {
                out.push(e.path());
            }
        }
    }
    out.sort();
    out
}

fn read(p: &Path) -> std::io::Result<Vec<u8>> {
    let mut v = Vec::new();
    fs::File::open(p)?.read_to_end(&mut v)?;
    Ok(v)
}

/// Extracted bytes of the snapshot before it changes, by relative path.
fn reference(snap: &Path, dir: &Path) -> PathBuf {
    let out = dir.join("ref");
    let o = Command::new(BIN).arg("extract").arg(snap).arg(&out).output().unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    out
}

/// Reads every file of the mount: each either fails with EIO or returns
/// exactly the original snapshot's bytes. Returns (served, refused).
fn check_all(mount: &Path, reference: &Path) -> (Vec<PathBuf>, usize) {
    let (mut ok, mut eio) = (Vec::new(), 0);
    for f in files(mount) {
        let rel = f.strip_prefix(mount).unwrap();
        match read(&f) {
            Ok(bytes) => {
                assert!(
                    bytes == fs::read(reference.join(rel)).unwrap(),
                    "{} served foreign bytes",
                    rel.display()
                );
                ok.push(rel.to_path_buf());
            }
            Err(e) => {
                assert_eq!(e.raw_os_error(), Some(libc::EIO), "{}: {e}", rel.display());
                eio += 1;
            }
        }
    }
    (ok, eio)
}

/// Files the index holds in memory (rendered while indexing): the
/// manifest and S3 KEYMAP files.
fn in_memory(rel: &Path) -> bool {
    rel == Path::new("MANIFEST.json") || rel.ends_with("KEYMAP.jsonl")
}

/// A copy of the demo snapshot to change, and its tree extracted before
/// any change; `None` (the test passes) where FUSE cannot run outside CI.
struct Scene {
    dir: tempfile::TempDir,
    snap: PathBuf,
    want: PathBuf,
}

impl Scene {
    fn new() -> Option<Scene> {
        if !fuse_ready(&[]) {
            return None;
        }
        let dir = tempfile::tempdir().unwrap();
        let snap = dir.path().join("snap.fsm");
        fs::copy(DEMO, &snap).unwrap();
        let want = reference(&snap, dir.path());
        Some(Scene { dir, snap, want })
    }
}

/// After a change, every file is refused or (held in memory) still the
/// indexed bytes; the daemon lives and said so in one line, containing
/// `why`.
fn assert_refused_once(m: &mut Foreground, want: &Path, why: &str) -> usize {
    let (served, refused) = check_all(&m.mp, want);
    assert!(m.alive(), "the daemon died: {}", m.log());
    assert!(refused > 0, "no read was refused");
    assert!(served.iter().all(|p| in_memory(p)), "served after the change: {served:?}");
    let log = m.log();
    assert_eq!(changed_lines(&log), 1, "want one line naming the file:\n{log}");
    assert!(log.contains(why), "{log}");
    refused
}

fn changed_lines(log: &str) -> usize {
    log.lines().filter(|l| l.contains("snap.fsm") && l.contains("EIO")).count()
}

#[test]
fn truncated_under_the_mount_gives_eio_not_sigbus() {
    let Some(Scene { dir, snap, want }) = Scene::new() else { return };
    let before = files(&want).len();
    let mut m = Foreground::start(&snap, dir.path());

    fs::OpenOptions::new().write(true).open(&snap).unwrap().set_len(100_000).unwrap();
    // Only files held in memory are served; everything else comes from
    // the file that was cut, and nothing was read before the cut.
    let refused = assert_refused_once(&mut m, &want, "267794 → 100000");
    // Reading them all again: still EIO, still alive, still one line.
    assert_eq!(assert_refused_once(&mut m, &want, "267794 → 100000"), refused);
    assert_eq!(files(&m.mp).len(), before, "listings must keep working");
    assert!(read(&m.mp.join("MANIFEST.json")).is_ok());
    assert!(m.stop().success());
}

#[test]
fn same_size_overwrite_under_the_mount_never_serves_foreign_bytes() {
    let Some(Scene { dir, snap, want }) = Scene::new() else { return };
    let mut m = Foreground::start(&snap, dir.path());

    // Another file of the same size, written over the snapshot in place as
    // `cp new.fsm snap.fsm` does: every byte flipped but the first 16.
    let mut other = fs::read(DEMO).unwrap();
    for b in &mut other[16..] {
        *b = !*b;
    }
    std::thread::sleep(Duration::from_millis(20));
    let new = dir.path().join("new.fsm");
    fs::write(&new, &other).unwrap();
    let o = Command::new("cp").arg(&new).arg(&snap).output().unwrap();
    assert!(o.status.success());
    assert_eq!(fs::metadata(&snap).unwrap().len(), other.len() as u64);

    assert_refused_once(&mut m, &want, "was modified since it was indexed");
    assert!(m.stop().success());
}

#[test]
fn a_file_renamed_over_the_path_changes_nothing() {
    let Some(Scene { dir, snap, want }) = Scene::new() else { return };
    let mut m = Foreground::start(&snap, dir.path());
    // The atomic replacement operators should use: the mount keeps the
    // old file open and keeps serving it, completely.
    let new = dir.path().join("new.fsm");
    fs::write(&new, b"not a snapshot at all").unwrap();
    fs::rename(&new, &snap).unwrap();
    let (served, refused) = check_all(&m.mp, &want);
    assert_eq!(refused, 0, "{}", m.log());
    assert!(served.len() > 10);
    assert!(m.alive());
    assert_eq!(changed_lines(&m.log()), 0);
    assert!(m.stop().success());
}

/// Without a mount: `cat` and `extract` of a snapshot that is cut while
/// the index is held refuse with exit 1 naming the file.
#[test]
fn index_reads_after_a_truncation_are_refused_in_process() {
    use fsmfs::index::{DecodeOptions, Index};
    let dir = tempfile::tempdir().unwrap();
    let snap = dir.path().join("snap.fsm");
    fs::copy(DEMO, &snap).unwrap();
    let index = Index::open(&snap, DecodeOptions::default(), &mut |_| {}).unwrap();
    let files: Vec<_> = index.tree.files().collect();
    for &id in &files {
        index.size(id).unwrap();
    }
    fs::OpenOptions::new().write(true).open(&snap).unwrap().set_len(1000).unwrap();
    let mut refused = 0;
    for &id in &files {
        let mut buf = vec![0u8; 1 << 16];
        match index.read(id, 0, &mut buf) {
            // Small static files (the manifest) are held in the index.
            Ok(_) if !index.is_streamed(id) && !index.is_generated(id) => {}
            Ok(_) => {
                panic!("{} was read after the truncation", String::from_utf8_lossy(&index.tree.path(id)))
            }
            Err(e) => {
                assert!(e.snapshot_changed, "{e}");
                assert!(e.to_string().contains("snap.fsm"), "{e}");
                refused += 1;
            }
        }
    }
    assert!(refused >= files.len() - 2, "{refused} of {}", files.len());
    let out = dir.path().join("out");
    let e = fsmfs::extract::extract(&index, &out, &|_| {}).unwrap_err();
    assert!(e.to_string().contains("size 267794 → 1000 bytes"), "{e}");
    assert!(!out.exists());
}
