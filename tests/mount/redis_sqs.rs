//! Every Redis and SQS golden snapshot mounted: the mounted tree equals
//! `extract`'s (names, sizes, bytes, modes, mtimes), large aggregated files
//! read in 128 KiB requests at every alignment equal their extracted
//! bytes, and a record that cannot be rendered fails only its file.
//!
//! Needs /dev/fuse (and fusermount3 when not root); without it the tests
//! print a note and pass, except under `CI=true`, where they fail.

use std::collections::BTreeMap;
use std::ffi::OsStr;
use std::fs;
use std::io::{Read, Seek, SeekFrom};
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};

use fsmfs::adapters::redis::records::*;
use fsmfs::index::DecodeOptions;
use sha2::{Digest, Sha256};

use crate::common::fuse::*;
use crate::common::redis_sqs;
use crate::common::snap::Snap;

fn flags(o: &DecodeOptions) -> Vec<&'static str> {
    let mut v = Vec::new();
    for (on, flag) in [
        (o.preserve_sqs_visibility, "--preserve-sqs-visibility"),
        (o.include_sqs_side_records, "--include-sqs-side-records"),
        (o.include_expired, "--include-expired"),
    ] {
        if on {
            v.push(flag);
        }
    }
    v
}

fn extract(snap: &Path, out: &Path, extra: &[&str]) {
    let mut args: Vec<&OsStr> = vec![OsStr::new("extract"), snap.as_os_str(), out.as_os_str()];
    args.extend(extra.iter().map(OsStr::new));
    let o = fsmfs(&args);
    assert!(o.status.success(), "extract: {}", String::from_utf8_lossy(&o.stderr));
}

#[derive(Debug, PartialEq)]
struct Entry {
    dir: bool,
    size: u64,
    mode: u32,
    mtime: (i64, i64),
    digest: Option<[u8; 32]>,
}

fn walk(root: &Path) -> BTreeMap<PathBuf, Entry> {
    let mut out = BTreeMap::new();
    let mut stack = vec![root.to_path_buf()];
    while let Some(dir) = stack.pop() {
        for e in fs::read_dir(&dir).unwrap() {
            let p = e.unwrap().path();
            let md = fs::symlink_metadata(&p).unwrap();
            let digest = if md.is_file() {
                let bytes = fs::read(&p).unwrap();
                assert_eq!(bytes.len() as u64, md.len(), "size of {}", p.display());
                Some(Sha256::digest(&bytes).into())
            } else {
                stack.push(p.clone());
                None
            };
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
    }
    out
}

fn assert_same_tree(name: &str, extracted: &Path, mounted: &Path) {
    let want = walk(extracted);
    let got = walk(mounted);
    assert_eq!(want.keys().collect::<Vec<_>>(), got.keys().collect::<Vec<_>>(), "{name}: paths");
    for (path, w) in &want {
        assert_eq!(&got[path], w, "{name}: {}", path.display());
    }
}

#[test]
fn every_golden_snapshot_mounts_as_extracted() {
    if !fuse_ready(&[]) {
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    for c in redis_sqs::all() {
        let snap = tmp.path().join(format!("{}.fsm", c.name));
        fs::write(&snap, c.snap.build()).unwrap();
        let out = tmp.path().join(format!("{}.out", c.name));
        let extra = flags(&c.opts);
        extract(&snap, &out, &extra);
        let mp = tmp.path().join(format!("{}.mnt", c.name));
        let _m = mount(&snap, &mp, &extra);
        assert_same_tree(c.name, &out, &mp);
    }
}

/// Reads `path` in `chunk`-byte requests starting at `start`, wrapping
/// around, and returns the bytes in file order.
fn read_chunked(path: &Path, chunk: usize, start: u64) -> Vec<u8> {
    let mut f = fs::File::open(path).unwrap();
    let len = f.metadata().unwrap().len();
    let mut out = vec![0u8; len as usize];
    let mut buf = vec![0u8; chunk];
    let mut at = start % len.max(1);
    let mut done = 0u64;
    while done < len {
        f.seek(SeekFrom::Start(at)).unwrap();
        let want = chunk.min((len - at) as usize);
        let n = f.read(&mut buf[..want]).unwrap();
        assert!(n > 0, "short read at {at} of {}", path.display());
        out[at as usize..at as usize + n].copy_from_slice(&buf[..n]);
        done += n as u64;
        at = (at + n as u64) % len;
    }
    out
}

#[test]
fn large_aggregated_files_read_in_pieces() {
    if !fuse_ready(&[]) {
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let mut s = Snap::new();
    let n = 20_000u64;
    s.put(&stream_meta_key(b"big"), &stream_meta_value(n, n, 0, None, None));
    for i in 1..=n {
        let v = format!("value <{i}> \u{2028}");
        s.put(&stream_entry_key(b"big", i, 0), &stream_entry_value("x", &[b"field", v.as_bytes()]));
        s.put(&hash_field_key(b"h", format!("f{i:06}").as_bytes()), v.as_bytes());
    }
    let snap = tmp.path().join("big.fsm");
    fs::write(&snap, s.build()).unwrap();
    let out = tmp.path().join("out");
    extract(&snap, &out, &[]);
    let mp = tmp.path().join("mnt");
    let _m = mount(&snap, &mp, &[]);
    for file in ["redis/db_0/streams/big.jsonl", "redis/db_0/hashes/h.json"] {
        let want = fs::read(out.join(file)).unwrap();
        assert!(want.len() > 1 << 20, "{file} is only {} bytes", want.len());
        for (chunk, start) in
            [(128 << 10, 0u64), (128 << 10, 777), (4096, 1 << 20), (1, want.len() as u64 - 3)]
        {
            if chunk == 1 {
                // Byte-sized reads near the end (the tail piece).
                let mut f = fs::File::open(mp.join(file)).unwrap();
                f.seek(SeekFrom::Start(start)).unwrap();
                let mut rest = Vec::new();
                f.read_to_end(&mut rest).unwrap();
                assert_eq!(rest, want[start as usize..]);
                continue;
            }
            assert!(read_chunked(&mp.join(file), chunk, start) == want, "{file} chunk {chunk} start {start}");
        }
    }
}

#[test]
fn a_broken_member_fails_only_its_file() {
    if !fuse_ready(&[]) {
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let mut s = Snap::new();
    s.put(&zset_member_key(b"bad", b"m"), &[0; 7]);
    s.records(zset_records(b"good", &[(b"m", 1.0)], None));
    let snap = tmp.path().join("bad.fsm");
    fs::write(&snap, s.build()).unwrap();
    let mp = tmp.path().join("mnt");
    let _m = mount(&snap, &mp, &[]);
    let bad = fs::metadata(mp.join("redis/db_0/zsets/bad.json"));
    let eio = |r: std::io::Result<_>| r.err().and_then(|e| e.raw_os_error()) == Some(libc::EIO);
    assert!(eio(bad.map(|_| ())) || eio(fs::read(mp.join("redis/db_0/zsets/bad.json")).map(|_| ())));
    assert!(fs::read(mp.join("redis/db_0/zsets/good.json")).is_ok());
    assert!(fs::read(mp.join("MANIFEST.json")).is_ok());
}
