//! `fsmfs mount` on real FUSE mounts: the mounted tree equals `extract`'s,
//! standard tools (rsync, tar, find, sha256sum, dd) work on it, writes
//! fail with EROFS, a broken record fails only its file, and the mount's
//! life cycle (ready on return, SIGTERM, umount) is clean.
//!
//! Needs /dev/fuse (and fusermount3 when not root). Without it the tests
//! print a note and pass, except under `CI=true`, where they fail.

use std::collections::BTreeMap;
use std::ffi::{CString, OsStr};
use std::fs;
use std::io::{Read, Seek, SeekFrom};
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use fsmfs::adapters::dynamodb::records::{
    ddb_item_records, ddb_item_value, ddb_schema_records, AttrValue, Record, TableDef,
};
use fsmfs::adapters::s3::records::{s3_bucket_records, s3_object_records, BucketDef, ObjectDef, PartDef};
use fsmfs::container::writer::{encode_key, StreamWriter};
use fsmfs::index::{DecodeOptions, Index};
use sha2::{Digest, Sha256};

use crate::common::fuse::*;

const TS: u64 = 1_795_161_600_000 << 16;

// --- snapshots ----------------------------------------------------------------

fn s(v: &str) -> AttrValue {
    AttrValue::S(v.into())
}

fn n(v: &str) -> AttrValue {
    AttrValue::N(v.into())
}

fn item(list: &[(&str, AttrValue)]) -> Vec<(String, AttrValue)> {
    list.iter().map(|(k, v)| (k.to_string(), v.clone())).collect()
}

/// Deterministic filler bytes.
fn filler(len: usize, seed: u64) -> Vec<u8> {
    let mut x = seed | 1;
    (0..len)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x as u8
        })
        .collect()
}

/// Writes rows (user key, commit ts) as a snapshot in encoded-key order.
fn write_snapshot(path: &Path, mut rows: Vec<(Record, u64)>) {
    rows.sort_by_cached_key(|(r, ts)| encode_key(&r.key, *ts));
    let mut w = StreamWriter::new(Vec::new(), TS + 1_000_000).unwrap();
    for (r, ts) in &rows {
        w.live(&r.key, *ts, &r.value).unwrap();
    }
    fs::write(path, w.finish()).unwrap();
}

fn orders() -> TableDef {
    TableDef {
        name: "orders".into(),
        attribute_definitions: vec![("customer".into(), "S".into()), ("ts".into(), "N".into())],
        hash_key: "customer".into(),
        range_key: "ts".into(),
        key_encoding_version: 2,
        generation: 1,
        ..Default::default()
    }
}

fn users() -> TableDef {
    TableDef {
        name: "users".into(),
        attribute_definitions: vec![("id".into(), "S".into())],
        hash_key: "id".into(),
        key_encoding_version: 2,
        generation: 1,
        ..Default::default()
    }
}

fn object(key: &str, body: &[u8], chunk: usize, ts: u64) -> ObjectDef {
    let chunks: Vec<Vec<u8>> = body.chunks(chunk.max(1)).map(|c| c.to_vec()).collect();
    ObjectDef {
        key: key.as_bytes().to_vec(),
        generation: 1,
        upload_id: b"up-1".to_vec(),
        etag: format!("{:x}", Sha256::digest(body))[..32].to_string(),
        size_bytes: body.len() as i64,
        last_modified_hlc: ts,
        content_type: "application/octet-stream".into(),
        parts: if body.is_empty() {
            vec![]
        } else {
            vec![PartDef { part_no: 1, size_bytes: body.len() as i64, chunks, ..Default::default() }]
        },
        ..Default::default()
    }
}

/// DynamoDB tables with nested items and several S3 objects, one of
/// 3 MiB in 1 MiB chunks; every record with its own commit time.
fn standard_rows() -> Vec<(Record, u64)> {
    let mut rows = Vec::new();
    let mut ts = TS;
    let mut next = || {
        ts += 1 << 16; // one millisecond apart
        ts
    };
    for t in [orders(), users()] {
        rows.extend(ddb_schema_records(&t).into_iter().map(|r| (r, TS)));
    }
    for c in 0..4 {
        for k in 0..5 {
            let it = item(&[
                ("customer", s(&format!("c-{c}"))),
                ("ts", n(&format!("{}", 1_763_000_000 + k * 3600))),
                ("total", n(&format!("{}.{}", c * 10 + k, k))),
                ("lines", AttrValue::L(vec![s("widget"), n("3")])),
                ("meta", AttrValue::M(item(&[("gift", AttrValue::Bool(k % 2 == 0)), ("note", s("<&>"))]))),
            ]);
            let t = next();
            rows.extend(ddb_item_records(&orders(), &it, 1).unwrap().into_iter().map(|r| (r, t)));
        }
    }
    for name in ["alice", "bob", "ünïcødé", "with space", "a\\b"] {
        let it = item(&[("id", s(name)), ("blob", AttrValue::B(filler(40, 7)))]);
        let t = next();
        rows.extend(ddb_item_records(&users(), &it, 1).unwrap().into_iter().map(|r| (r, t)));
    }
    let bucket =
        BucketDef { name: b"photos".to_vec(), generation: 1, owner: "me".into(), ..Default::default() };
    rows.extend(s3_bucket_records(&bucket).into_iter().map(|r| (r, TS)));
    let objects = [
        object("big.bin", &filler(3 << 20, 1), 1 << 20, next()),
        object("a/b.txt", b"hello, world\n", 1 << 20, next()),
        object("a/deep/c.json", br#"{"k":[1,2,3]}"#, 4, next()),
        object("empty", b"", 1, next()),
        object("odd-size.bin", &filler(1_000_003, 2), 300_000, next()),
    ];
    for o in &objects {
        let t = next();
        rows.extend(s3_object_records(b"photos", o).into_iter().map(|r| (r, t)));
    }
    rows
}

/// An item whose non-key attribute `x` is `{S: "\xff"}` (not UTF-8): the
/// index accepts it, rendering fails.
fn broken_item_row() -> Record {
    let it = item(&[("id", s("broken"))]);
    let mut r = ddb_item_records(&users(), &it, 1).unwrap().remove(0);
    assert_eq!(r.value, ddb_item_value(&it));
    r.value.extend_from_slice(&[0x0a, 0x08, 0x0a, 0x01, b'x', 0x12, 0x03, 0x0a, 0x01, 0xff]);
    r
}

struct Scratch {
    dir: tempfile::TempDir,
}

impl Scratch {
    fn new() -> Self {
        Scratch { dir: tempfile::tempdir().unwrap() }
    }

    fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    fn snapshot(&self, name: &str, rows: Vec<(Record, u64)>) -> PathBuf {
        let p = self.path(name);
        write_snapshot(&p, rows);
        p
    }

    fn mountpoint(&self, name: &str) -> PathBuf {
        let p = self.path(name);
        fs::create_dir_all(&p).unwrap();
        p
    }
}

// --- running fsmfs ------------------------------------------------------------

fn extract(snap: &Path, out: &Path) {
    let o = fsmfs(&[OsStr::new("extract"), snap.as_os_str(), out.as_os_str()]);
    assert!(o.status.success(), "extract: {}", String::from_utf8_lossy(&o.stderr));
}

/// `fsmfs mount -f` as a child; returns once the mount appears.
fn mount_foreground(snap: &Path, mp: &Path, log: &Path) -> Mounted {
    let child = Command::new(BIN)
        .args([OsStr::new("mount"), OsStr::new("-f"), snap.as_os_str(), mp.as_os_str()])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(fs::File::create(log).unwrap())
        .spawn()
        .unwrap();
    let mut m = Mounted { mp: mp.to_path_buf(), foreground: Some(child), daemon: None };
    let end = Instant::now() + Duration::from_secs(20);
    while !is_mounted(mp) {
        let c = m.foreground.as_mut().unwrap();
        if let Some(st) = c.try_wait().unwrap() {
            panic!("foreground mount exited ({st}): {}", fs::read_to_string(log).unwrap_or_default());
        }
        assert!(Instant::now() < end, "foreground mount never became ready");
        std::thread::sleep(Duration::from_millis(20));
    }
    m
}

// --- tree comparison ------------------------------------------------------------

#[derive(Debug, PartialEq)]
struct Entry {
    dir: bool,
    size: u64,
    mode: u32,
    mtime: (i64, i64),
    /// SHA-256 of the content (files).
    digest: Option<[u8; 32]>,
}

/// Every path under `root` with what `stat` and a full read show; also
/// checks what only the mount must get right (d_type, nlink, blocks).
fn walk(root: &Path, mounted: bool) -> BTreeMap<PathBuf, Entry> {
    let mut out = BTreeMap::new();
    let mut stack = vec![root.to_path_buf()];
    while let Some(dir) = stack.pop() {
        let mut subdirs = 0;
        for e in fs::read_dir(&dir).unwrap() {
            let e = e.unwrap();
            let p = e.path();
            let md = fs::symlink_metadata(&p).unwrap();
            // DirEntry::file_type is d_type when the file system fills it.
            assert_eq!(e.file_type().unwrap().is_dir(), md.is_dir(), "d_type of {}", p.display());
            let digest = if md.is_file() {
                let bytes = fs::read(&p).unwrap();
                assert_eq!(bytes.len() as u64, md.len(), "size of {}", p.display());
                Some(Sha256::digest(&bytes).into())
            } else {
                subdirs += 1;
                stack.push(p.clone());
                None
            };
            if mounted && md.is_file() {
                assert_eq!(md.blocks(), md.len().div_ceil(512), "st_blocks of {}", p.display());
                assert_eq!(md.nlink(), 1);
            }
            out.insert(
                p.strip_prefix(root).unwrap().to_path_buf(),
                Entry {
                    dir: md.is_dir(),
                    size: if md.is_dir() { 0 } else { md.len() },
                    mode: md.mode() & 0o7777,
                    mtime: (md.mtime(), md.mtime_nsec()),
                    digest,
                },
            );
        }
        if mounted {
            assert_eq!(fs::metadata(&dir).unwrap().nlink(), 2 + subdirs, "st_nlink of {}", dir.display());
        }
    }
    out
}

fn index_file_count(snap: &Path) -> usize {
    let opts = DecodeOptions { source_path: snap.to_string_lossy().into_owned(), ..Default::default() };
    Index::open(snap, opts, &mut |_| {}).unwrap().tree.files().count()
}

// --- tests --------------------------------------------------------------------

#[test]
fn mounted_tree_equals_extract() {
    if !fuse_ready(&[]) {
        return;
    }
    let t = Scratch::new();
    let snap = t.snapshot("s.fsm", standard_rows());
    let out = t.path("out");
    extract(&snap, &out);
    let mp = t.mountpoint("mnt");
    let _m = mount(&snap, &mp, &[]);
    let want = walk(&out, false);
    let got = walk(&mp, true);
    assert_eq!(want.keys().collect::<Vec<_>>(), got.keys().collect::<Vec<_>>());
    for (path, w) in &want {
        assert_eq!(&got[path], w, "{}", path.display());
    }
    let root = fs::metadata(&mp).unwrap();
    // SAFETY: getuid/getgid cannot fail.
    let (uid, gid) = unsafe { (libc::getuid(), libc::getgid()) };
    assert_eq!((root.uid(), root.gid()), (uid, gid));
    assert_eq!(root.ino(), 1);
    assert_eq!(fs::metadata(mp.join("MANIFEST.json")).unwrap().mode() & 0o777, 0o644);
    assert_eq!(fs::metadata(mp.join("s3/photos/big.bin")).unwrap().mode() & 0o777, 0o600);
    // No extended attributes: "not supported", decided by the kernel after
    // the first answer (so `ls -l` costs no round trip per file).
    let c = CString::new(mp.join("MANIFEST.json").as_os_str().as_bytes()).unwrap();
    let name = CString::new("user.x").unwrap();
    for _ in 0..2 {
        // SAFETY: valid strings; a zero-size query writes nothing.
        let r = unsafe { libc::getxattr(c.as_ptr(), name.as_ptr(), std::ptr::null_mut(), 0) };
        assert_eq!((r, std::io::Error::last_os_error().raw_os_error()), (-1, Some(libc::EOPNOTSUPP)));
        // SAFETY: as above.
        let r = unsafe { libc::listxattr(c.as_ptr(), std::ptr::null_mut(), 0) };
        assert_eq!((r, std::io::Error::last_os_error().raw_os_error()), (-1, Some(libc::EOPNOTSUPP)));
    }
}

#[test]
fn ownership_and_mode_overrides() {
    if !fuse_ready(&[]) {
        return;
    }
    let t = Scratch::new();
    let snap = t.snapshot("s.fsm", standard_rows());
    let mp = t.mountpoint("mnt");
    // Without root, files owned by someone else would be unreadable.
    let (uid, gid) = if is_root() { ("4321", "765") } else { ("", "") };
    let mut extra = vec!["--file-mode", "0440", "--dir-mode", "550"];
    if is_root() {
        extra.extend(["--uid", uid, "--gid", gid]);
    }
    let _m = mount(&snap, &mp, &extra);
    let f = fs::metadata(mp.join("MANIFEST.json")).unwrap();
    assert_eq!(f.mode() & 0o7777, 0o440);
    assert_eq!(fs::metadata(mp.join("dynamodb")).unwrap().mode() & 0o7777, 0o550);
    if is_root() {
        assert_eq!((f.uid(), f.gid()), (4321, 765));
    }
    let mounts = fs::read_to_string("/proc/self/mountinfo").unwrap();
    let line = mounts.lines().find(|l| l.contains(&*mp.to_string_lossy())).unwrap().to_string();
    assert!(line.contains(" ro,") || line.contains(" ro "), "{line}");
    assert!(!line.contains("allow_other"), "private by default: {line}");
}

#[test]
fn allow_other_passes_through() {
    // Non-root users need user_allow_other in /etc/fuse.conf for this.
    if !is_root() || !fuse_ready(&[]) {
        return;
    }
    let t = Scratch::new();
    let snap = t.snapshot("s.fsm", standard_rows());
    let mp = t.mountpoint("mnt");
    let _m = mount(&snap, &mp, &["-o", "allow_other"]);
    let mounts = fs::read_to_string("/proc/self/mountinfo").unwrap();
    let line = mounts.lines().find(|l| l.contains(&*mp.to_string_lossy())).unwrap();
    assert!(line.contains("allow_other"), "{line}");
    assert!(fs::read(mp.join("MANIFEST.json")).is_ok());
}

#[test]
fn inodes_are_stable_across_mounts() {
    if !fuse_ready(&[]) {
        return;
    }
    let t = Scratch::new();
    let snap = t.snapshot("s.fsm", standard_rows());
    let inodes = |mp: &Path| -> BTreeMap<PathBuf, u64> {
        let mut out = BTreeMap::new();
        let mut stack = vec![mp.to_path_buf()];
        while let Some(d) = stack.pop() {
            for e in fs::read_dir(&d).unwrap() {
                let e = e.unwrap();
                // readdir's d_ino must agree with stat's st_ino.
                assert_eq!(std::os::unix::fs::DirEntryExt::ino(&e), e.metadata().unwrap().ino());
                if e.file_type().unwrap().is_dir() {
                    stack.push(e.path());
                }
                out.insert(e.path().strip_prefix(mp).unwrap().to_path_buf(), e.metadata().unwrap().ino());
            }
        }
        out
    };
    let (a, b) = (t.mountpoint("a"), t.mountpoint("b"));
    let first = {
        let _m = mount(&snap, &a, &[]);
        inodes(&a)
    };
    let _m2 = mount(&snap, &b, &[]);
    let _m1 = mount(&snap, &a, &[]);
    assert_eq!(first, inodes(&b));
    assert_eq!(first, inodes(&a));
    // And they are what `fsmfs ls --json` reports.
    let o = fsmfs(&[OsStr::new("ls"), snap.as_os_str(), OsStr::new("--json")]);
    let listed: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    for e in listed.as_array().unwrap() {
        let name = e["name"].as_str().unwrap();
        assert_eq!(first[Path::new(name)], e["inode"].as_u64().unwrap(), "{name}");
    }
}

#[test]
fn rsync_copy_verifies_and_a_second_run_transfers_nothing() {
    if !fuse_ready(&["rsync", "sha256sum"]) {
        return;
    }
    let t = Scratch::new();
    let snap = t.snapshot("s.fsm", standard_rows());
    let mp = t.mountpoint("mnt");
    let dest = t.path("dest");
    let _m = mount(&snap, &mp, &[]);
    let src = format!("{}/", mp.display());
    let dst = format!("{}/", dest.display());
    let o = Command::new("rsync").args(["-a", &src, &dst]).output().unwrap();
    assert!(o.status.success(), "rsync: {}", String::from_utf8_lossy(&o.stderr));
    let o =
        Command::new("sha256sum").args(["-c", "--quiet", "CHECKSUMS"]).current_dir(&dest).output().unwrap();
    assert!(
        o.status.success(),
        "sha256sum -c: {}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    );
    let o = Command::new("rsync").args(["-a", "--itemize-changes", &src, &dst]).output().unwrap();
    assert!(o.status.success());
    assert_eq!(String::from_utf8_lossy(&o.stdout), "", "second rsync transferred something");
    // The copy equals extract's tree (modes and mtimes preserved by -a).
    let out = t.path("out");
    extract(&snap, &out);
    assert_eq!(walk(&out, false), walk(&dest, false));
}

#[test]
fn tar_and_find_see_every_file() {
    if !fuse_ready(&["tar", "find"]) {
        return;
    }
    let t = Scratch::new();
    let snap = t.snapshot("s.fsm", standard_rows());
    let mp = t.mountpoint("mnt");
    let _m = mount(&snap, &mp, &[]);
    let files = index_file_count(&snap);
    let o = Command::new("sh").arg("-c").arg("tar cf - . | tar tf -").current_dir(&mp).output().unwrap();
    assert!(o.status.success(), "tar: {}", String::from_utf8_lossy(&o.stderr));
    let listed = String::from_utf8_lossy(&o.stdout);
    let tar_files = listed.lines().filter(|l| !l.ends_with('/')).count();
    assert_eq!(tar_files, files);
    let o = Command::new("sh").arg("-c").arg("find . -type f | wc -l").current_dir(&mp).output().unwrap();
    assert_eq!(String::from_utf8_lossy(&o.stdout).trim(), files.to_string());
    // `find -ls` stats everything; sizes add up to what tar archived.
    let o = Command::new("find").arg(".").arg("-ls").current_dir(&mp).output().unwrap();
    assert!(o.status.success());
}

#[test]
fn parallel_readers_get_identical_bytes() {
    if !fuse_ready(&["cat", "sha256sum", "dd"]) {
        return;
    }
    let t = Scratch::new();
    let snap = t.snapshot("s.fsm", standard_rows());
    let out = t.path("out");
    extract(&snap, &out);
    let mp = t.mountpoint("mnt");
    let _m = mount(&snap, &mp, &["--threads", "4"]);
    let files = [
        "s3/photos/big.bin",
        "s3/photos/odd-size.bin",
        "dynamodb/orders/items/c-1/1763003600.json",
        "CHECKSUMS",
    ];
    std::thread::scope(|sc| {
        for worker in 0..8u64 {
            let (mp, out) = (&mp, &out);
            sc.spawn(move || {
                let mut seed = 0x9e37_79b9_7f4a_7c15u64 ^ worker;
                let mut rnd = || {
                    seed ^= seed << 13;
                    seed ^= seed >> 7;
                    seed ^= seed << 17;
                    seed
                };
                for round in 0..6 {
                    let f = files[(rnd() % files.len() as u64) as usize];
                    let want = fs::read(out.join(f)).unwrap();
                    let path = mp.join(f);
                    match (worker + round) % 3 {
                        0 => {
                            let o = Command::new("cat").arg(&path).output().unwrap();
                            assert!(o.stdout == want, "cat {f}");
                        }
                        1 => {
                            let o = Command::new("sha256sum").arg(&path).output().unwrap();
                            let hex: String =
                                Sha256::digest(&want).iter().map(|b| format!("{b:02x}")).collect();
                            assert!(String::from_utf8_lossy(&o.stdout).starts_with(&hex), "sha256sum {f}");
                        }
                        _ => {
                            let skip = rnd() % want.len().max(1) as u64;
                            let count = 1 + rnd() % 300_000;
                            let o = Command::new("dd")
                                .arg(format!("if={}", path.display()))
                                .args(["iflag=skip_bytes,count_bytes", "bs=65536", "status=none"])
                                .arg(format!("skip={skip}"))
                                .arg(format!("count={count}"))
                                .output()
                                .unwrap();
                            let end = (skip + count).min(want.len() as u64) as usize;
                            assert!(o.stdout == want[skip as usize..end], "dd {f} skip={skip} count={count}");
                        }
                    }
                    // And in-process: random pread()s.
                    let mut file = fs::File::open(&path).unwrap();
                    let at = rnd() % want.len().max(1) as u64;
                    let mut buf = vec![0u8; 4096];
                    file.seek(SeekFrom::Start(at)).unwrap();
                    let k = file.read(&mut buf).unwrap();
                    assert_eq!(&buf[..k], &want[at as usize..(at as usize + k)]);
                }
            });
        }
    });
}

fn erofs(r: std::io::Result<impl Sized>) -> bool {
    matches!(r, Err(e) if e.raw_os_error() == Some(libc::EROFS))
}

#[test]
fn writes_fail_with_erofs_and_the_mount_keeps_serving() {
    if !fuse_ready(&["touch", "mkdir", "rm"]) {
        return;
    }
    let t = Scratch::new();
    let snap = t.snapshot("s.fsm", standard_rows());
    let mp = t.mountpoint("mnt");
    let _m = mount(&snap, &mp, &[]);
    let before = fs::read(mp.join("MANIFEST.json")).unwrap();
    let m = mp.join("MANIFEST.json");
    for (what, cmd) in [
        ("touch new", format!("touch '{}/new'", mp.display())),
        ("touch existing", format!("touch '{}'", m.display())),
        ("mkdir", format!("mkdir '{}/d'", mp.display())),
        ("rm", format!("rm -f '{}'", m.display())),
        ("rm -r", format!("rm -rf '{}/s3'", mp.display())),
        ("redirect", format!("echo x > '{}'", m.display())),
        ("append", format!("echo x >> '{}'", m.display())),
        ("mv", format!("mv '{}' '{}/m2'", m.display(), mp.display())),
        ("chmod", format!("chmod 777 '{}'", m.display())),
    ] {
        let o = Command::new("sh").arg("-c").arg(&cmd).output().unwrap();
        assert!(!o.status.success(), "{what} succeeded");
        let err = String::from_utf8_lossy(&o.stderr);
        assert!(err.contains("Read-only file system"), "{what}: {err}");
    }
    assert!(erofs(fs::OpenOptions::new().write(true).open(&m)));
    assert!(erofs(fs::OpenOptions::new().append(true).open(&m)));
    assert!(erofs(fs::File::create(mp.join("x"))));
    assert!(erofs(fs::create_dir(mp.join("x"))));
    assert!(erofs(fs::remove_file(&m)));
    assert!(erofs(fs::remove_dir(mp.join("dynamodb"))));
    assert!(erofs(fs::rename(&m, mp.join("y"))));
    assert!(erofs(fs::hard_link(&m, mp.join("y"))));
    assert!(erofs(std::os::unix::fs::symlink("MANIFEST.json", mp.join("y"))));
    assert!(erofs(fs::set_permissions(&m, fs::Permissions::from_mode(0o777))));
    assert!(is_mounted(&mp));
    assert_eq!(fs::read(&m).unwrap(), before);
    assert_eq!(fs::read_dir(&mp).unwrap().count(), 4);
}

#[test]
fn a_broken_record_gives_eio_for_its_file_only() {
    if !fuse_ready(&["cat"]) {
        return;
    }
    let t = Scratch::new();
    let mut rows = standard_rows();
    rows.push((broken_item_row(), TS + 5));
    let snap = t.snapshot("s.fsm", rows);
    let mp = t.mountpoint("mnt");
    let log = t.path("log");
    let _m = mount_foreground(&snap, &mp, &log);
    let items = mp.join("dynamodb/users/items");
    let names: Vec<String> = fs::read_dir(&items)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert!(names.contains(&"broken.json".to_string()), "{names:?}");
    let bad = items.join("broken.json");
    let e = fs::read(&bad).unwrap_err();
    assert_eq!(e.raw_os_error(), Some(libc::EIO), "{e}");
    let o = Command::new("cat").arg(&bad).output().unwrap();
    assert!(String::from_utf8_lossy(&o.stderr).contains("Input/output error"));
    // Everything else still reads, twice over.
    for _ in 0..2 {
        for e in fs::read_dir(&items).unwrap() {
            let p = e.unwrap().path();
            if p != bad {
                assert!(fs::read(&p).unwrap().starts_with(b"{"), "{}", p.display());
            }
        }
        assert_eq!(fs::read(mp.join("s3/photos/a/b.txt")).unwrap(), b"hello, world\n");
    }
    assert!(is_mounted(&mp));
    // The log names the key and where the record is.
    let text = fs::read_to_string(&log).unwrap();
    let line =
        text.lines().find(|l| l.contains("broken.json")).unwrap_or_else(|| panic!("no log line: {text}"));
    assert!(line.contains("offset") && line.contains("key"), "{line}");
}

#[test]
fn sigterm_and_sigint_unmount_a_foreground_mount() {
    if !fuse_ready(&[]) {
        return;
    }
    let t = Scratch::new();
    let snap = t.snapshot("s.fsm", standard_rows());
    for sig in [libc::SIGTERM, libc::SIGINT] {
        let mp = t.mountpoint(&format!("mnt{sig}"));
        let mut m = mount_foreground(&snap, &mp, &t.path("log"));
        assert_eq!(fs::read_dir(&mp).unwrap().count(), 4);
        let child = m.foreground.as_mut().unwrap();
        // SAFETY: signalling our own child.
        unsafe { libc::kill(child.id() as i32, sig) };
        let end = Instant::now() + Duration::from_secs(20);
        let status = loop {
            if let Some(st) = child.try_wait().unwrap() {
                break st;
            }
            assert!(Instant::now() < end, "mount -f did not exit on signal {sig}");
            std::thread::sleep(Duration::from_millis(20));
        };
        assert_eq!(status.code(), Some(0), "signal {sig}: {}", fs::read_to_string(t.path("log")).unwrap());
        assert!(!is_mounted(&mp), "still mounted after signal {sig}");
    }
}

#[test]
fn umount_ends_the_background_daemon_with_status_0() {
    if !fuse_ready(&[]) {
        return;
    }
    let t = Scratch::new();
    let snap = t.snapshot("s.fsm", standard_rows());
    let mp = t.mountpoint("mnt");
    let mut m = mount(&snap, &mp, &[]);
    let pid = m.daemon.take().unwrap();
    assert_eq!(fs::read(mp.join("s3/photos/a/b.txt")).unwrap(), b"hello, world\n");
    // SAFETY: probing a process we started.
    assert_eq!(unsafe { libc::kill(pid, 0) }, 0, "daemon not running");
    let o = user_unmount(&mp);
    assert!(o.status.success(), "umount: {}", String::from_utf8_lossy(&o.stderr));
    let status = wait_pid(pid, Duration::from_secs(20)).expect("daemon did not exit after umount");
    assert!(libc::WIFEXITED(status) && libc::WEXITSTATUS(status) == 0, "daemon wait status {status:#x}");
    // SAFETY: as above; the process is gone now.
    assert_eq!(unsafe { libc::kill(pid, 0) }, -1);
    assert!(!is_mounted(&mp));
}

#[test]
fn mount_errors_are_reported_before_returning() {
    if !fuse_ready(&[]) {
        return;
    }
    let t = Scratch::new();
    let good = t.snapshot("good.fsm", standard_rows());
    let garbage = t.path("garbage.fsm");
    fs::write(&garbage, b"this is not a snapshot at all, just some bytes").unwrap();
    let mp = t.mountpoint("mnt");
    let run = |args: &[&OsStr]| {
        let o = fsmfs(args);
        let err = String::from_utf8_lossy(&o.stderr).trim().to_string();
        (o.status.code(), err)
    };
    let m = OsStr::new("mount");
    for fg in [false, true] {
        let f: &[&OsStr] = if fg { &[OsStr::new("-f")] } else { &[] };
        fn with<'a>(m: &'a OsStr, f: &[&'a OsStr], rest: &[&'a OsStr]) -> Vec<&'a OsStr> {
            [&[m][..], f, rest].concat()
        }

        let (code, err) = run(&with(m, f, &[garbage.as_os_str(), mp.as_os_str()]));
        assert_eq!(code, Some(2), "bad snapshot: {err}");
        assert!(err.starts_with("fsmfs: ") && err.lines().count() == 1, "{err}");

        let (code, err) = run(&with(m, f, &[t.path("missing.fsm").as_os_str(), mp.as_os_str()]));
        assert_eq!(code, Some(1), "{err}");
        assert!(err.contains("missing.fsm"), "{err}");

        let (code, err) = run(&with(m, f, &[good.as_os_str(), t.path("nowhere").as_os_str()]));
        assert_eq!(code, Some(1), "{err}");
        assert!(err.contains("does not exist"), "{err}");

        let (code, err) = run(&with(m, f, &[good.as_os_str(), good.as_os_str()]));
        assert_eq!(code, Some(1), "{err}");
        assert!(err.contains("not a directory"), "{err}");
        assert!(!is_mounted(&mp));
    }
    let _held = mount(&good, &mp, &[]);
    let (code, err) = run(&[m, good.as_os_str(), mp.as_os_str()]);
    assert_eq!(code, Some(1), "{err}");
    assert!(err.contains("busy"), "{err}");
}

#[test]
fn readdir_positions_survive_seekdir_and_telldir() {
    if !fuse_ready(&[]) {
        return;
    }
    let t = Scratch::new();
    let mut rows: Vec<(Record, u64)> = ddb_schema_records(&users()).into_iter().map(|r| (r, TS)).collect();
    let count = 5000;
    for i in 0..count {
        // Long names make every readdir reply hold only a few dozen entries.
        let it = item(&[("id", s(&format!("{i:05}-{}", "x".repeat(120))))]);
        rows.extend(ddb_item_records(&users(), &it, 1).unwrap().into_iter().map(|r| (r, TS)));
    }
    let snap = t.snapshot("s.fsm", rows);
    let mp = t.mountpoint("mnt");
    let _m = mount(&snap, &mp, &[]);
    let dir = CString::new(mp.join("dynamodb/users/items").as_os_str().as_bytes()).unwrap();
    for pass in 0..2 {
        // SAFETY: libc directory stream calls on a stream we own; entries
        // are copied out before the next call.
        unsafe {
            let d = libc::opendir(dir.as_ptr());
            assert!(!d.is_null());
            let mut seen: Vec<(libc::c_long, Vec<u8>)> = Vec::new();
            loop {
                let pos = libc::telldir(d);
                let e = libc::readdir(d);
                if e.is_null() {
                    break;
                }
                let name = std::ffi::CStr::from_ptr((*e).d_name.as_ptr()).to_bytes().to_vec();
                assert_eq!((*e).d_type, if name.starts_with(b".") { libc::DT_DIR } else { libc::DT_REG });
                seen.push((pos, name));
            }
            let names: Vec<&[u8]> =
                seen.iter().map(|(_, n)| n.as_slice()).filter(|n| !n.starts_with(b".")).collect();
            assert_eq!(names.len(), count, "pass {pass}");
            assert!(names.windows(2).all(|w| w[0] < w[1]), "sorted");
            let mut k = 12345usize;
            for _ in 0..300 {
                k = (k * 1_103_515_245 + 12345) % seen.len();
                let (pos, name) = &seen[k];
                libc::seekdir(d, *pos);
                let e = libc::readdir(d);
                assert!(!e.is_null());
                let got = std::ffi::CStr::from_ptr((*e).d_name.as_ptr()).to_bytes();
                assert_eq!(got, name.as_slice(), "after seekdir to entry {k}");
            }
            libc::closedir(d);
        }
    }
}

/// A directory of a million entries lists completely and in order, with
/// positions that survive seekdir. Slow in a debug build: run with
/// `cargo test --release --test mount -- --ignored`.
#[test]
#[ignore]
fn a_million_entry_directory_lists_completely() {
    if !fuse_ready(&[]) {
        return;
    }
    let t = Scratch::new();
    let count = 1_000_000usize;
    let mut rows: Vec<(Record, u64)> = ddb_schema_records(&users()).into_iter().map(|r| (r, TS)).collect();
    rows.reserve(count);
    for i in 0..count {
        let it = item(&[("id", s(&format!("{i:07}")))]);
        rows.extend(ddb_item_records(&users(), &it, 1).unwrap().into_iter().map(|r| (r, TS)));
    }
    let snap = t.snapshot("s.fsm", rows);
    let mp = t.mountpoint("mnt");
    let _m = mount(&snap, &mp, &[]);
    let dir = mp.join("dynamodb/users/items");
    let mut n = 0usize;
    let mut last: Option<std::ffi::OsString> = None;
    for e in fs::read_dir(&dir).unwrap() {
        let name = e.unwrap().file_name();
        if let Some(prev) = &last {
            assert!(prev.as_bytes() < name.as_bytes(), "order at entry {n}");
        }
        last = Some(name);
        n += 1;
    }
    assert_eq!(n, count);
    let c = CString::new(dir.as_os_str().as_bytes()).unwrap();
    // SAFETY: a directory stream we own; names copied before the next call.
    unsafe {
        let d = libc::opendir(c.as_ptr());
        assert!(!d.is_null());
        let mut marks = Vec::new();
        let mut i = 0usize;
        loop {
            let pos = libc::telldir(d);
            let e = libc::readdir(d);
            if e.is_null() {
                break;
            }
            if i % 99_991 == 0 {
                marks.push((pos, std::ffi::CStr::from_ptr((*e).d_name.as_ptr()).to_bytes().to_vec()));
            }
            i += 1;
        }
        assert_eq!(i, count + 2);
        for (pos, name) in marks.iter().rev() {
            libc::seekdir(d, *pos);
            let e = libc::readdir(d);
            assert_eq!(std::ffi::CStr::from_ptr((*e).d_name.as_ptr()).to_bytes(), name.as_slice());
        }
        libc::closedir(d);
    }
}
