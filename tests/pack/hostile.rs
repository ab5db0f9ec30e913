//! `pack` against hostile inputs and outputs (issue 9 §3, §4): it never
//! replaces what is not its output, reads `MANIFEST.json` like every other
//! tree file, keeps descriptors bounded however deep the tree, reports
//! environment failures as exit 1, and cuts long paths in error lines.

use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use crate::common::pack::*;

const T: u64 = 0x018F_D118_9400_0003;

/// A canonical S3 tree (the self-test passes on it).
fn small_tree(root: &Path) {
    make_tree(
        root,
        T,
        &[
            ("s3/b/_bucket.json", b"{\n  \"format_version\": 1,\n  \"name\": \"b\"\n}"),
            ("s3/b/k", b"v"),
            ("s3/b/k.elastickv-meta.json", b"{\n  \"format_version\": 1,\n  \"size_bytes\": 1\n}"),
        ],
    );
}

/// Runs `fsmfs ARGS` with a 60 s deadline (a FIFO must not hang it) and,
/// when given, a lowered descriptor limit.
fn run_limited(args: &[&std::ffi::OsStr], nofile: Option<u64>, cwd: Option<&Path>) -> Output {
    let mut c = Command::new(BIN);
    c.args(args).stdout(Stdio::null()).stderr(Stdio::piped());
    if let Some(d) = cwd {
        c.current_dir(d);
    }
    if let Some(n) = nofile {
        // SAFETY: only async-signal-safe setrlimit between fork and exec.
        unsafe {
            c.pre_exec(move || {
                let lim = libc::rlimit { rlim_cur: n, rlim_max: n };
                if libc::setrlimit(libc::RLIMIT_NOFILE, &lim) != 0 {
                    return Err(std::io::Error::last_os_error());
                }
                Ok(())
            });
        }
    }
    let mut child = c.spawn().unwrap();
    let start = Instant::now();
    while child.try_wait().unwrap().is_none() {
        if start.elapsed() > Duration::from_secs(60) {
            let _ = child.kill();
            panic!("fsmfs {args:?} hangs");
        }
        std::thread::sleep(Duration::from_millis(5));
    }
    child.wait_with_output().unwrap()
}

fn pack_args<'a>(tree: &'a Path, out: &'a Path) -> Vec<&'a std::ffi::OsStr> {
    vec!["pack".as_ref(), tree.as_os_str(), out.as_os_str()]
}

fn one_line(o: &Output, code: i32, what: &str) -> String {
    let err = stderr(o);
    assert_eq!(o.status.code(), Some(code), "{what}: {err}");
    assert_eq!(err.trim_end().lines().count(), 1, "{what}: {err}");
    assert!(err.starts_with("fsmfs: "), "{what}: {err}");
    err
}

fn mkfifo(p: &Path) {
    let c = std::ffi::CString::new(p.to_str().unwrap()).unwrap();
    assert_eq!(unsafe { libc::mkfifo(c.as_ptr(), 0o600) }, 0);
}

/// A character device node (as root): `/dev/full`'s numbers.
fn mknod_full(p: &Path) -> bool {
    let c = std::ffi::CString::new(p.to_str().unwrap()).unwrap();
    unsafe { libc::mknod(c.as_ptr(), libc::S_IFCHR | 0o600, libc::makedev(1, 7)) == 0 }
}

/// Lists `dir` with each entry's type, so a replaced node shows.
fn snapshot(dir: &Path) -> Vec<(String, String)> {
    let mut v: Vec<_> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| {
            let e = e.unwrap();
            let ft = std::fs::symlink_metadata(e.path()).unwrap().file_type();
            (e.file_name().to_string_lossy().into_owned(), format!("{ft:?}"))
        })
        .collect();
    v.sort();
    v
}

#[test]
fn an_out_that_is_not_a_regular_file_is_refused() {
    let tmp = tempfile::tempdir().unwrap();
    let tree = tmp.path().join("tree");
    small_tree(&tree);
    let elsewhere = tmp.path().join("elsewhere");
    std::fs::write(&elsewhere, b"keep").unwrap();
    type Setup = fn(&Path, &Path);
    let cases: Vec<(&str, &str, Setup)> = vec![
        ("FIFO at OUT", "a FIFO", |out, _| mkfifo(out)),
        ("socket at OUT", "a socket", |out, _| {
            std::mem::forget(std::os::unix::net::UnixListener::bind(out).unwrap());
        }),
        ("symlink at OUT", "a symlink", |out, e| std::os::unix::fs::symlink(e, out).unwrap()),
        ("dangling symlink at OUT", "a symlink", |out, _| {
            std::os::unix::fs::symlink("nowhere", out).unwrap()
        }),
        ("directory at OUT", "is a directory", |out, _| std::fs::create_dir(out).unwrap()),
        ("device at OUT", "a device", |out, _| assert!(mknod_full(out))),
        ("FIFO at the sidecar", "FIFO", |out, _| {
            mkfifo(&PathBuf::from(format!("{}.encode_info.json", out.display())))
        }),
        ("directory at the sidecar", "non-regular", |out, _| {
            std::fs::create_dir(format!("{}.encode_info.json", out.display())).unwrap()
        }),
        ("FIFO at the mismatch report", "a FIFO", |out, _| {
            mkfifo(&PathBuf::from(format!("{}.mismatch.txt", out.display())))
        }),
    ];
    for (what, want, setup) in cases {
        let dir = tmp.path().join("out");
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir(&dir).unwrap();
        let out = dir.join("x.fsm");
        setup(&out, &elsewhere);
        let before = snapshot(&dir);
        let r = run_limited(&pack_args(&tree, &out), None, None);
        let err = one_line(&r, 1, what);
        assert!(err.contains(want) && err.contains("nothing was changed"), "{what}: {err}");
        assert_eq!(snapshot(&dir), before, "{what}: the output directory changed");
        assert_eq!(std::fs::read(&elsewhere).unwrap(), b"keep");
    }
    // A regular file is still replaced.
    let dir = tmp.path().join("out");
    std::fs::remove_dir_all(&dir).unwrap();
    std::fs::create_dir(&dir).unwrap();
    std::fs::write(dir.join("x.fsm"), b"old").unwrap();
    let r = run_limited(&pack_args(&tree, &dir.join("x.fsm")), None, None);
    assert!(r.status.success(), "{}", stderr(&r));
    assert!(std::fs::read(dir.join("x.fsm")).unwrap().starts_with(b"EKVPBBL1"));
}

#[test]
fn dash_is_not_standard_output() {
    let tmp = tempfile::tempdir().unwrap();
    let tree = tmp.path().join("tree");
    small_tree(&tree);
    let r = run_limited(&["pack".as_ref(), tree.as_os_str(), "-".as_ref()], None, Some(tmp.path()));
    let err = one_line(&r, 1, "-");
    assert!(err.contains("standard output") && err.contains("./-"), "{err}");
    assert_eq!(listing(tmp.path()), vec!["tree"]);
    // `./-` is a file called `-`.
    let r = run_limited(&["pack".as_ref(), tree.as_os_str(), "./-".as_ref()], None, Some(tmp.path()));
    assert!(r.status.success(), "{}", stderr(&r));
    assert_eq!(listing(tmp.path()), vec!["-", "-.encode_info.json", "tree"]);
}

#[test]
fn manifest_is_read_like_every_tree_file() {
    let tmp = tempfile::tempdir().unwrap();
    let good = manifest(T, "");
    let outside = tmp.path().join("outside.json");
    std::fs::write(&outside, &good).unwrap();
    type Setup = fn(&Path, &Path);
    let cases: Vec<(&str, i32, &str, Setup)> = vec![
        ("FIFO", 2, "FIFO", |m, _| mkfifo(m)),
        ("symlink out of the tree", 2, "symlink", |m, o| std::os::unix::fs::symlink(o, m).unwrap()),
        ("device", 2, "FIFO, socket or device", |m, _| assert!(mknod_full(m))),
        ("3 GiB sparse file", 2, "larger than", |m, _| {
            std::fs::File::create(m).unwrap().set_len(3 << 30).unwrap()
        }),
        ("hard link out of the tree", 2, "hard links", |m, o| std::fs::hard_link(o, m).unwrap()),
        ("directory", 2, "a directory", |m, _| std::fs::create_dir(m).unwrap()),
        ("missing", 1, "does not exist", |_, _| {}),
    ];
    for (what, code, want, setup) in cases {
        let tree = tmp.path().join("tree");
        let _ = std::fs::remove_dir_all(&tree);
        std::fs::create_dir(&tree).unwrap();
        setup(&tree.join("MANIFEST.json"), &outside);
        let out = tmp.path().join("x.fsm");
        let r = run_limited(&pack_args(&tree, &out), None, None);
        let err = one_line(&r, code, what);
        assert!(err.contains("MANIFEST.json") && err.contains(want), "{what}: {err}");
        assert!(!out.exists());
    }
}

/// A tree with one S3 object 511 directory levels deep (a 1,024-byte key).
fn deep_tree(root: &Path) -> PathBuf {
    small_tree(root);
    let mut dir = root.join("s3/b");
    for _ in 0..511 {
        dir.push("a");
    }
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("o"), b"hi").unwrap();
    std::fs::write(dir.join("o.elastickv-meta.json"), b"{\n  \"format_version\": 1,\n  \"size_bytes\": 2\n}")
        .unwrap();
    dir
}

#[test]
fn a_deep_tree_packs_with_few_descriptors() {
    let tmp = tempfile::tempdir().unwrap();
    let tree = tmp.path().join("tree");
    deep_tree(&tree);
    let out = tmp.path().join("x.fsm");
    // Walk and self-test both go 511 levels down with 64 descriptors.
    let r = run_limited(&pack_args(&tree, &out), Some(64), None);
    assert!(r.status.success(), "{}", stderr(&r));
    let info = std::fs::read_to_string(tmp.path().join("x.fsm.encode_info.json")).unwrap();
    assert!(info.contains("\"matched\": true"), "{info}");
}

#[test]
fn running_out_of_descriptors_is_an_environment_error() {
    let tmp = tempfile::tempdir().unwrap();
    let tree = tmp.path().join("tree");
    deep_tree(&tree);
    let mut failed = 0;
    for n in 4..=40 {
        let dir = tmp.path().join(format!("out{n}"));
        std::fs::create_dir(&dir).unwrap();
        let r = run_limited(&pack_args(&tree, &dir.join("x.fsm")), Some(n), None);
        if r.status.success() {
            continue;
        }
        failed += 1;
        let err = one_line(&r, 1, &format!("ulimit -n {n}"));
        assert!(err.contains("Too many open files"), "ulimit -n {n}: {err}");
        assert_eq!(listing(&dir), Vec::<String>::new(), "ulimit -n {n}: leftovers");
    }
    assert!(failed > 0, "no limit was low enough to fail");
}

#[test]
fn long_paths_in_error_lines_are_cut() {
    let tmp = tempfile::tempdir().unwrap();
    let tree = tmp.path().join("tree");
    let deep = deep_tree(&tree);
    mkfifo(&deep.join("bad"));
    let r = run_limited(&pack_args(&tree, &tmp.path().join("x.fsm")), None, None);
    let err = one_line(&r, 2, "FIFO deep down");
    assert!(err.len() < 400, "{} bytes: {err}", err.len());
    assert!(err.contains("bytes)…") && err.contains("a/a/bad: is a special file"), "{err}");
}
