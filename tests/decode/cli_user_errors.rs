//! Error lines a user can act on (issue 9 §7): a snapshot path that is not
//! a regular file says what it is, output into a closed pipe ends quietly
//! like coreutils, malformed S3 object keys name the record's offset and
//! key (cut when long), an empty store stream is refused like upstream,
//! and `info` says when a file carries no integrity check.

use std::fs::File;
use std::io::Read;
use std::os::fd::FromRawFd;
use std::os::unix::process::ExitStatusExt;
use std::path::Path;
use std::process::{Command, Stdio};

use fsmfs::adapters::dynamodb::records::*;
use fsmfs::adapters::s3::records::*;
use fsmfs::container::writer::{encode_key, encode_value, wrap_engine_v1, StreamWriter};

use crate::common::snap::*;

const BIN: &str = env!("CARGO_BIN_EXE_fsmfs");

fn live(user_key: &[u8], body: &[u8]) -> (Vec<u8>, Vec<u8>) {
    (encode_key(user_key, T), encode_value(false, 0, body))
}

fn stream(mut rows: Vec<(Vec<u8>, Vec<u8>)>) -> Vec<u8> {
    rows.sort();
    let mut w = StreamWriter::new(Vec::new(), T).unwrap();
    for (k, v) in &rows {
        w.entry(k, &[v]).unwrap();
    }
    w.finish()
}

fn recs(rs: Vec<Record>) -> Vec<(Vec<u8>, Vec<u8>)> {
    rs.into_iter().map(|r| live(&r.key, &r.value)).collect()
}

/// The one `fsmfs: ` line of a failed run, after checking its exit code.
fn error_line(o: &std::process::Output, code: i32) -> String {
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(code), "stderr: {stderr}");
    let lines: Vec<&str> = stderr.lines().filter(|l| l.starts_with("fsmfs: ")).collect();
    assert_eq!(lines.len(), 1, "one error line: {stderr}");
    lines[0].to_string()
}

fn write_snap(dir: &Path, bytes: &[u8]) -> std::path::PathBuf {
    let p = dir.join("snap.fsm");
    std::fs::write(&p, bytes).unwrap();
    p
}

// --- snapshot paths that are not regular files ---------------------------------

#[test]
fn a_directory_or_special_file_is_named_as_such() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path().to_str().unwrap().to_string();
    let out = dir.path().join("out");
    let mp = dir.path().join("mp");
    std::fs::create_dir(&mp).unwrap();
    let runs: Vec<Vec<&str>> = vec![
        vec!["info", &d],
        vec!["ls", &d],
        vec!["cat", &d, "MANIFEST.json"],
        vec!["extract", &d, out.to_str().unwrap()],
        vec!["mount", &d, mp.to_str().unwrap()],
    ];
    for args in &runs {
        let line = error_line(&fsmfs(args), 1);
        assert_eq!(line, format!("fsmfs: {d}: is a directory, not a snapshot file"), "{args:?}");
    }
    assert!(!out.exists());
    let line = error_line(&fsmfs(&["info", "/dev/null"]), 1);
    assert_eq!(line, "fsmfs: /dev/null: is a character device, not a snapshot file");
    // A FIFO is refused without opening it (opening would block).
    let fifo = dir.path().join("fifo");
    let c = std::ffi::CString::new(fifo.to_str().unwrap()).unwrap();
    // SAFETY: valid path string.
    assert_eq!(unsafe { libc::mkfifo(c.as_ptr(), 0o600) }, 0);
    let line = error_line(&fsmfs(&["info", fifo.to_str().unwrap()]), 1);
    assert!(line.ends_with("is a FIFO, not a snapshot file"), "{line}");
}

// --- output into a closed pipe -----------------------------------------------

const DEMO: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/data/demo.fsm");

/// Runs fsmfs with stdout a pipe whose read end is already closed.
fn into_closed_pipe(args: &[&str]) -> std::process::Output {
    let mut fds = [0; 2];
    // SAFETY: `fds` has room for the two descriptors.
    assert_eq!(unsafe { libc::pipe2(fds.as_mut_ptr(), libc::O_CLOEXEC) }, 0);
    // SAFETY: pipe2 just returned these descriptors; each is owned once.
    let (reader, writer) = unsafe { (File::from_raw_fd(fds[0]), File::from_raw_fd(fds[1])) };
    drop(reader);
    Command::new(BIN).args(args).stdout(writer).stderr(Stdio::piped()).output().unwrap()
}

#[test]
fn a_closed_pipe_ends_the_output_quietly_like_coreutils() {
    for args in [
        &["cat", DEMO, "s3/backups/db/2026-11-19.dump"][..],
        &["cat", DEMO, "MANIFEST.json"],
        &["ls", "-l", DEMO],
        &["ls", "--json", DEMO, "dynamodb"],
        &["info", DEMO],
        &["info", "--json", DEMO],
    ] {
        let o = into_closed_pipe(args);
        assert!(o.stderr.is_empty(), "{args:?}: {}", String::from_utf8_lossy(&o.stderr));
        assert_eq!(o.status.signal(), Some(libc::SIGPIPE), "{args:?}: {:?}", o.status);
    }
}

#[test]
fn head_of_a_big_file_reads_its_first_bytes_quietly() {
    let mut child = Command::new(BIN)
        .args(["cat", DEMO, "s3/backups/db/2026-11-19.dump"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut head = [0u8; 10];
    child.stdout.take().unwrap().read_exact(&mut head).unwrap();
    let o = child.wait_with_output().unwrap();
    assert!(o.stderr.is_empty(), "{}", String::from_utf8_lossy(&o.stderr));
    assert_eq!(o.status.signal(), Some(libc::SIGPIPE));
}

// --- malformed S3 object keys ---------------------------------------------------

fn object_rows(key: &[u8]) -> Vec<(Vec<u8>, Vec<u8>)> {
    let o = ObjectDef {
        key: key.to_vec(),
        generation: 1,
        upload_id: b"u".to_vec(),
        size_bytes: 1,
        parts: vec![PartDef { part_no: 1, size_bytes: 1, chunks: vec![b"v".to_vec()], ..Default::default() }],
        ..Default::default()
    };
    let mut rows =
        recs(s3_bucket_records(&BucketDef { name: b"b".to_vec(), generation: 1, ..Default::default() }));
    rows.extend(recs(s3_object_records(b"b", &o)));
    rows
}

fn s3_key_error(key: &[u8]) -> String {
    let dir = tempfile::tempdir().unwrap();
    let snap = write_snap(dir.path(), &stream(object_rows(key)));
    error_line(&fsmfs(&["ls", snap.to_str().unwrap()]), 2)
}

#[test]
fn malformed_s3_object_keys_name_offset_and_key() {
    let long = [b'k'; 300];
    let deep = [&b"d/"[..], &[b'n'; 256]].concat();
    let cases: [(&[u8], &str); 9] = [
        (b"a//b", "empty path segment: \"a//b\""),
        (b"../x", "dot segment: \"../x\""),
        (b"/a", "empty path segment: \"/a\""),
        (b"a/", "empty path segment: \"a/\""),
        (b"a\0b", "contains NUL: \"a\\0b\""),
        (b"x/./y", "dot segment: \"x/./y\""),
        (b"a\\b", "contains backslash"),
        (&long, "a path segment of 300 bytes, which exceeds NAME_MAX (255)"),
        (&deep, "a path segment of 256 bytes, which exceeds NAME_MAX (255)"),
    ];
    for (key, want) in cases {
        let line = s3_key_error(key);
        assert!(line.starts_with("fsmfs: malformed S3 key at offset "), "{line}");
        assert!(line.contains(" (key !s3|obj|head|b"), "the manifest's key: {line}");
        assert!(line.contains(want), "{want:?} not in {line}");
        assert!(line.len() < 400, "long names are cut: {line}");
    }
    let line = s3_key_error(&long);
    assert!(line.ends_with("kkkkkkkkkkkkkkkk\" (300 bytes)"), "{line}");
}

#[test]
fn a_dot_bucket_name_names_its_meta_record() {
    let rows =
        recs(s3_bucket_records(&BucketDef { name: b"..".to_vec(), generation: 1, ..Default::default() }));
    let dir = tempfile::tempdir().unwrap();
    let snap = write_snap(dir.path(), &stream(rows));
    let line = error_line(&fsmfs(&["ls", snap.to_str().unwrap()]), 2);
    assert!(line.starts_with("fsmfs: malformed S3 key at offset "), "{line}");
    assert!(line.contains("(key !s3|bucket|meta|..\\x00\\x01)"), "{line}");
    assert!(line.ends_with("bucket name \"..\" is empty or a dot segment"), "{line}");
}

// --- empty store streams and integrity -------------------------------------------

#[test]
fn an_empty_store_stream_is_an_empty_snapshot_and_info_says_so() {
    let dir = tempfile::tempdir().unwrap();
    for (name, bytes) in [("zero4", vec![0u8; 4]), ("v1-empty", wrap_engine_v1(&[], 1_700_000_000_000))] {
        let snap = dir.path().join(format!("{name}.fsm"));
        std::fs::write(&snap, &bytes).unwrap();
        let snap = snap.to_str().unwrap();
        let o = fsmfs(&["info", snap]);
        assert!(o.status.success(), "{name}: {}", String::from_utf8_lossy(&o.stderr));
        let stdout = String::from_utf8_lossy(&o.stdout);
        assert!(stdout.lines().any(|l| l == fsmfs::info::NO_STORE_STREAM), "{name}: {stdout}");
        assert!(!stdout.contains("integrity check"), "{name} has a CRC footer: {stdout}");
        let o = fsmfs(&["ls", snap]);
        assert!(o.status.success());
        assert_eq!(String::from_utf8_lossy(&o.stdout), "CHECKSUMS\nMANIFEST.json\n", "{name}");
        let stderr = String::from_utf8_lossy(&o.stderr);
        assert!(stderr.contains("no store stream: an empty snapshot"), "{name}: one warning line: {stderr}");
        let json: serde_json::Value =
            serde_json::from_slice(&fsmfs(&["info", "--json", snap]).stdout).unwrap();
        assert_eq!(json["store_stream"], false);
        assert_eq!(json["integrity_check"], "crc32c");
    }
}

#[test]
fn info_says_when_a_file_has_no_integrity_check() {
    let dir = tempfile::tempdir().unwrap();
    let raw = stream(vec![live(b"!x", b"v")]);
    let engine = wrap_engine_v1(&raw, 1_700_000_000_000);
    for (name, bytes, checked) in [("raw", raw, false), ("engine", engine, true)] {
        let snap = dir.path().join(format!("{name}.fsm"));
        std::fs::write(&snap, &bytes).unwrap();
        let o = fsmfs(&["info", snap.to_str().unwrap()]);
        assert!(o.status.success());
        let stdout = String::from_utf8_lossy(&o.stdout);
        let said = stdout.lines().filter(|l| *l == fsmfs::info::NO_INTEGRITY).count();
        assert_eq!(said, usize::from(!checked), "{name}: {stdout}");
        assert!(!stdout.contains("store stream"), "{name}: {stdout}");
        let json: serde_json::Value =
            serde_json::from_slice(&fsmfs(&["info", "--json", snap.to_str().unwrap()]).stdout).unwrap();
        assert_eq!(json["integrity_check"], if checked { "crc32c" } else { "none" });
        assert_eq!(json["store_stream"], true);
    }
}
