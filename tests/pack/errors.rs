//! Bad input to `fsmfs pack`: each case gives one line on stderr that names
//! the offending path, the exit code upstream uses (1 usage/environment,
//! 2 data), and leaves no output, temp or sidecar file behind.

use std::os::unix::fs::symlink;
use std::path::Path;

use crate::common::pack::*;

const T: u64 = 0x018F_D118_9400_0003;

struct Case {
    name: &'static str,
    files: Vec<(&'static str, Vec<u8>)>,
    /// Extra setup after the files are written (symlinks, FIFOs, …).
    setup: fn(&Path),
    args: Vec<&'static str>,
    code: i32,
    /// Substrings the message must contain.
    want: Vec<&'static str>,
}

fn none(_: &Path) {}

fn case(name: &'static str, files: Vec<(&'static str, &[u8])>, code: i32, want: Vec<&'static str>) -> Case {
    Case {
        name,
        files: files.into_iter().map(|(p, b)| (p, b.to_vec())).collect(),
        setup: none,
        args: vec![],
        code,
        want,
    }
}

const SCHEMA: &[u8] = HASH_SCHEMA;
const ITEM: &[u8] = br#"{"id":{"S":"a"}}"#;

fn run_case(c: &Case) {
    let tmp = tempfile::tempdir().unwrap();
    let tree = tmp.path().join("tree");
    let files: Vec<(&str, &[u8])> = c.files.iter().map(|(p, b)| (*p, b.as_slice())).collect();
    make_tree(&tree, T, &files);
    (c.setup)(&tree);
    let outdir = tmp.path().join("out");
    std::fs::create_dir(&outdir).unwrap();
    let out = outdir.join("x.fsm");
    let mut args = vec!["pack"];
    args.extend(c.args.iter().copied());
    let (t, o) = (tree.to_str().unwrap().to_string(), out.to_str().unwrap().to_string());
    args.push(&t);
    args.push(&o);
    let r = run(&args);
    let err = stderr(&r);
    assert_eq!(r.status.code(), Some(c.code), "{}: exit code; stderr: {err}", c.name);
    assert_eq!(err.trim_end().lines().count(), 1, "{}: one line expected: {err}", c.name);
    assert!(err.starts_with("fsmfs: "), "{}: {err}", c.name);
    for w in &c.want {
        assert!(err.contains(w), "{}: {err:?} lacks {w:?}", c.name);
    }
    assert_eq!(
        listing(&outdir),
        Vec::<String>::new(),
        "{}: something was left in the output directory",
        c.name
    );
}

fn ddb(extra: Vec<(&'static str, &'static [u8])>) -> Vec<(&'static str, &'static [u8])> {
    let mut v: Vec<(&'static str, &'static [u8])> = vec![("dynamodb/t/_schema.json", SCHEMA)];
    v.extend(extra);
    v
}

fn s3(extra: Vec<(&'static str, &'static [u8])>) -> Vec<(&'static str, &'static [u8])> {
    let mut v: Vec<(&'static str, &'static [u8])> = vec![("s3/b/_bucket.json", BUCKET)];
    v.extend(extra);
    v
}

const SIDE2: &[u8] = br#"{"format_version":1,"size_bytes":2}"#;

#[test]
fn manifest_problems() {
    let mut missing = case("missing manifest", vec![], 1, vec!["tree/MANIFEST.json: cannot read"]);
    missing.setup = |t| std::fs::remove_file(t.join("MANIFEST.json")).unwrap();
    run_case(&missing);
    let cases = vec![
        case(
            "malformed manifest",
            vec![("MANIFEST.json", b"{\n \"format_version\": 1,\n oops\n}")],
            2,
            vec!["tree/MANIFEST.json", "line 3 column 2"],
        ),
        case(
            "manifest not an object",
            vec![("MANIFEST.json", b"[]")],
            2,
            vec!["MANIFEST.json", "invalid manifest"],
        ),
        case(
            "newer manifest",
            vec![("MANIFEST.json", br#"{"format_version":2}"#)],
            2,
            vec!["MANIFEST.json", "unsupported manifest format_version"],
        ),
    ];
    for c in &cases {
        run_case(c);
    }
    // Scope, timestamp and producer-mode rules.
    let no_s3 = manifest(T, "").replace(r#""s3":{},"#, "");
    let orphans = manifest(T, "").replace(r#""include_orphans":false"#, r#""include_orphans":true"#);
    let jsonl = manifest(T, "").replace(r#""per-item""#, r#""jsonl""#);
    let leaked = |s: String| -> &'static [u8] { Box::leak(s.into_bytes().into_boxed_slice()) };
    let mut c = case(
        "adapter without scope",
        vec![("MANIFEST.json", leaked(no_s3.clone()))],
        2,
        vec!["adapter \"s3\" selected", "MANIFEST.json has no scope"],
    );
    run_case(&c);
    c.args = vec!["--adapter", "dynamodb"];
    c.code = 0;
    run_ok(&c);
    let mut c = case(
        "include_orphans",
        vec![("MANIFEST.json", leaked(orphans))],
        2,
        vec!["exclusions.include_orphans"],
    );
    run_case(&c);
    c.args = vec!["--adapter", "dynamodb,redis"];
    run_ok(&c);
    run_case(&case(
        "jsonl layout",
        vec![("MANIFEST.json", leaked(jsonl))],
        2,
        vec!["dynamodb_layout \"jsonl\""],
    ));
    let mut c = case(
        "lower last-commit-ts",
        vec![],
        2,
        vec!["--last-commit-ts 5 is lower than", "MANIFEST.json last_commit_ts"],
    );
    c.args = vec!["--last-commit-ts", "5"];
    run_case(&c);
}

/// Runs a case that must succeed (self-test off: hand-written trees are
/// not in the decoder's canonical form).
fn run_ok(c: &Case) {
    let tmp = tempfile::tempdir().unwrap();
    let tree = tmp.path().join("tree");
    let files: Vec<(&str, &[u8])> = c.files.iter().map(|(p, b)| (*p, b.as_slice())).collect();
    make_tree(&tree, T, &files);
    (c.setup)(&tree);
    let out = tmp.path().join("x.fsm");
    let mut args = vec!["pack", "--no-self-test"];
    args.extend(c.args.iter().copied());
    let (t, o) = (tree.to_str().unwrap().to_string(), out.to_str().unwrap().to_string());
    args.push(&t);
    args.push(&o);
    let r = run(&args);
    assert!(r.status.success(), "{}: {}", c.name, stderr(&r));
    assert!(out.is_file());
}

#[test]
fn usage_errors_exit_1() {
    let tmp = tempfile::tempdir().unwrap();
    let tree = tmp.path().join("tree");
    make_tree(&tree, T, &[]);
    let t = tree.to_str().unwrap();
    let out = tmp.path().join("o.fsm");
    let o = out.to_str().unwrap();
    let missing = tmp.path().join("nope");
    for (args, want) in [
        (vec!["pack", t], "OUT"),
        (vec!["pack", "--bogus", t, o], "--bogus"),
        (vec!["pack", "--adapter", "ftp", t, o], "unknown adapter \"ftp\""),
        (vec!["pack", "--adapter", " , ", t, o], "selects no adapters"),
        (vec!["pack", "--adapter", "ALL", t, o], "unknown adapter \"all\""),
        (vec!["pack", "--last-commit-ts", "-1", t, o], "--last-commit-ts"),
        (vec!["pack", "--last-commit-ts", "0xZZ", t, o], "--last-commit-ts"),
        (vec!["pack", "--last-commit-ts", "  ", t, o], "--last-commit-ts is empty"),
        (vec!["pack", "--self-test", "--no-self-test", t, o], "cannot be used with"),
        (vec!["pack", "--memory-budget", "1K", t, o], "1 MiB minimum"),
        (vec!["pack", "--scratch-root", missing.to_str().unwrap(), t, o], "--scratch-root"),
        (vec!["pack", missing.to_str().unwrap(), o], "nope: cannot open the tree"),
        (vec!["pack", t, tmp.path().to_str().unwrap()], "is a directory"),
        (vec!["pack", t, "/nonexistent-dir/x.fsm"], "cannot create the output"),
    ] {
        let r = run(&args);
        assert_eq!(r.status.code(), Some(1), "{args:?}: {}", stderr(&r));
        assert!(stderr(&r).contains(want), "{args:?}: {}", stderr(&r));
        assert!(!out.exists());
    }
    // `--self-test` (upstream's flag) is accepted; `=false` turns it off.
    for flag in ["--self-test", "--self-test=true", "-self-test=false"] {
        let r = run(&["pack", flag, t, o]);
        if flag.starts_with("-self") {
            // Go's single-dash form is not clap syntax: a usage error.
            assert_eq!(r.status.code(), Some(1), "{flag}");
            continue;
        }
        assert!(r.status.success(), "{flag}: {}", stderr(&r));
    }
    let r = run(&["pack", "--self-test=false", t, o]);
    assert!(r.status.success());
    let info = std::fs::read_to_string(tmp.path().join("o.fsm.encode_info.json")).unwrap();
    assert!(info.contains("\"ran\": false"), "{info}");
}

#[test]
fn tree_shape_problems() {
    let mut cases = vec![
        case(
            "unknown top-level file",
            vec![("README", b"hi")],
            2,
            vec!["tree/README: unknown top-level entry"],
        ),
        case(
            "unknown top-level dir",
            vec![("extra/x", b"hi")],
            2,
            vec!["tree/extra: unknown top-level entry"],
        ),
        case(
            "adapter root is a file",
            vec![("dynamodb", b"x")],
            2,
            vec!["tree/dynamodb: is a regular file, not a directory"],
        ),
        case(
            "redis database other than db_0",
            vec![("redis/db_2/strings/k.bin", b"v")],
            2,
            vec!["tree/redis: holds db_2; only db_0 can be packed"],
        ),
        case(
            "file in dynamodb/",
            vec![("dynamodb/stray", b"x")],
            2,
            vec!["tree/dynamodb/stray: is a regular file"],
        ),
        case("file in s3/", vec![("s3/_stray", b"x")], 2, vec!["tree/s3/_stray: is a regular file"]),
    ];
    let mut c = case("symlinked adapter root", vec![("elsewhere", b"")], 2, vec!["tree/s3: is a symlink"]);
    c.files.clear();
    c.setup = |t| symlink("/tmp", t.join("s3")).unwrap();
    cases.push(c);
    for c in &cases {
        run_case(c);
    }
    // Upstream's decoder may leave an empty .scratch/ behind: allowed while
    // empty.
    let mut c = case("empty .scratch", vec![], 0, vec![]);
    c.setup = |t| std::fs::create_dir(t.join(".scratch")).unwrap();
    run_ok(&c);
    let c = case(
        "non-empty .scratch",
        vec![(".scratch/s3/x", b"spill")],
        2,
        vec!["tree/.scratch: unknown top-level entry"],
    );
    run_case(&c);
    // Unselected adapters are not looked at.
    let mut c = case("redis deselected", vec![("redis/db_0/strings/k.bin", b"v")], 0, vec![]);
    c.args = vec!["--adapter", "dynamodb,s3"];
    run_ok(&c);
}

#[test]
fn dynamodb_problems() {
    let mut cases = vec![
        case("missing schema", vec![("dynamodb/t/items/a.json", ITEM)], 2, vec![
            "tree/dynamodb/t/_schema.json: does not exist",
        ]),
        case("malformed schema", vec![("dynamodb/t/_schema.json", b"{\"format_version\":1,")], 2, vec![
            "tree/dynamodb/t/_schema.json",
            "line 1 column 20",
        ]),
        case("schema version", vec![("dynamodb/t/_schema.json", br#"{"format_version":3,"table_name":"t"}"#)], 2, vec![
            "_schema.json: unsupported format_version 3",
        ]),
        case("table dir mismatch", vec![("dynamodb/u/_schema.json", SCHEMA)], 2, vec![
            "tree/dynamodb/u/_schema.json: table_name \"t\" belongs in directory dynamodb/t",
        ]),
        case(
            "no hash key",
            vec![("dynamodb/t/_schema.json", br#"{"format_version":1,"table_name":"t"}"#)],
            2,
            vec!["_schema.json: empty primary hash key"],
        ),
        case(
            "duplicate attribute",
            vec![(
                "dynamodb/t/_schema.json",
                br#"{"format_version":1,"table_name":"t","primary_key":{"hash_key":{"name":"id"}},"attribute_definitions":[{"name":"id","type":"S"},{"name":"id","type":"N"}]}"#,
            )],
            2,
            vec!["duplicate attribute definition \"id\""],
        ),
        case("malformed item", ddb(vec![("dynamodb/t/items/a.json", b"{\"id\": {\"S\": \"a\"")]), 2, vec![
            "tree/dynamodb/t/items/a.json",
            "EOF while parsing",
        ]),
        case("unknown type", ddb(vec![("dynamodb/t/items/a.json", br#"{"id":{"S":"a"},"x":{"Q":1}}"#)]), 2, vec![
            "items/a.json: attribute \"x\": unknown attribute type \"Q\"",
        ]),
        case("key does not match path", ddb(vec![("dynamodb/t/items/b.json", ITEM)]), 2, vec![
            "tree/dynamodb/t/items/b.json",
            "key attributes name the file items/a.json",
        ]),
        case("missing hash attribute", ddb(vec![("dynamodb/t/items/a.json", br#"{"x":{"S":"a"}}"#)]), 2, vec![
            "items/a.json: item is missing key attribute \"id\"",
        ]),
        case("key of wrong type", ddb(vec![("dynamodb/t/items/a.json", br#"{"id":{"BOOL":true}}"#)]), 2, vec![
            "items/a.json: key attribute \"id\" is not S, N or B",
        ]),
        case("stray file in items", ddb(vec![("dynamodb/t/items/a.txt", b"x")]), 2, vec![
            "tree/dynamodb/t/items/a.txt: not an item file",
        ]),
        case("nested directory", ddb(vec![("dynamodb/t/items/h/deeper/r.json", ITEM)]), 2, vec![
            "tree/dynamodb/t/items/h/deeper: unexpected nested directory",
        ]),
        case("stray file in table dir", ddb(vec![("dynamodb/t/notes.txt", b"x")]), 2, vec![
            "tree/dynamodb/t/notes.txt: is a regular file; a table directory holds only _schema.json and items/",
        ]),
        case("duplicate item", ddb(vec![("dynamodb/t/items/a.json", ITEM)]), 0, vec![]),
    ];
    // Two files for one key cannot both sit at the decoder's path, but a
    // hash-only item also placed as hash/range is refused by the path rule.
    cases.last_mut().unwrap().files.push(("dynamodb/t/items/a/x.json", ITEM.to_vec()));
    cases.last_mut().unwrap().code = 2;
    cases.last_mut().unwrap().want = vec!["items/a/x.json", "name the file items/a.json"];
    let mut c = case("symlinked item", ddb(vec![]), 2, vec!["tree/dynamodb/t/items/a.json: is a symlink"]);
    c.setup = |t| {
        std::fs::create_dir_all(t.join("dynamodb/t/items")).unwrap();
        symlink("/etc/hostname", t.join("dynamodb/t/items/a.json")).unwrap()
    };
    cases.push(c);
    let mut c = case(
        "hard-linked item",
        ddb(vec![("dynamodb/t/items/a.json", ITEM)]),
        2,
        vec!["tree/dynamodb/t/items/a.json: has 2 hard links"],
    );
    // The second name is CHECKSUMS, which pack does not read.
    c.setup = |t| std::fs::hard_link(t.join("dynamodb/t/items/a.json"), t.join("CHECKSUMS")).unwrap();
    cases.push(c);
    let mut c = case("FIFO item", ddb(vec![]), 2, vec!["tree/dynamodb/t/items/a.json: is a special file"]);
    c.setup = |t| mkfifo(&t.join("dynamodb/t/items/a.json"));
    cases.push(c);
    for c in &cases {
        run_case(c);
    }
}

fn mkfifo(p: &Path) {
    std::fs::create_dir_all(p.parent().unwrap()).unwrap();
    let c = std::ffi::CString::new(p.to_str().unwrap()).unwrap();
    // SAFETY: valid NUL-terminated path.
    assert_eq!(unsafe { libc::mkfifo(c.as_ptr(), 0o600) }, 0);
}

#[test]
fn s3_problems() {
    let keymap = |lines: &'static [u8]| -> Vec<(&'static str, &'static [u8])> {
        s3(vec![
            ("s3/b/KEYMAP.jsonl", lines),
            ("s3/b/a.elastickv-leaf-data", b"hi"),
            ("s3/b/a.elastickv-leaf-data.elastickv-meta.json", SIDE2),
        ])
    };
    let mut cases = vec![
        case("missing bucket meta", vec![("s3/b/k", b"hi"), ("s3/b/k.elastickv-meta.json", SIDE2)], 2, vec![
            "tree/s3/b/_bucket.json: missing",
        ]),
        case("malformed bucket meta", vec![("s3/b/_bucket.json", b"{\"name\": }")], 2, vec![
            "tree/s3/b/_bucket.json",
            "line 1 column 10",
        ]),
        case("bucket dir mismatch", vec![("s3/c/_bucket.json", BUCKET)], 2, vec![
            "tree/s3/c/_bucket.json: bucket name \"b\" belongs in directory s3/b",
        ]),
        case("body without sidecar", s3(vec![("s3/b/dir/k", b"hi")]), 2, vec![
            "tree/s3/b/dir/k: object body without its .elastickv-meta.json sidecar",
        ]),
        case("sidecar without body", s3(vec![("s3/b/k.elastickv-meta.json", SIDE2)]), 2, vec![
            "tree/s3/b/k.elastickv-meta.json: sidecar without an object body",
        ]),
        case("malformed sidecar", s3(vec![("s3/b/k", b"hi"), ("s3/b/k.elastickv-meta.json", b"{")]), 2, vec![
            "tree/s3/b/k.elastickv-meta.json",
            "EOF while parsing",
        ]),
        case(
            "sidecar version",
            s3(vec![("s3/b/k", b"hi"), ("s3/b/k.elastickv-meta.json", br#"{"format_version":2}"#)]),
            2,
            vec!["k.elastickv-meta.json: unsupported format_version 2"],
        ),
        case("size mismatch", s3(vec![("s3/b/k", b"hi!"), ("s3/b/k.elastickv-meta.json", SIDE2)]), 2, vec![
            "k.elastickv-meta.json: size_bytes 2 but the body has 3 bytes",
        ]),
        case("keymap does not parse", keymap(b"{\"encoded\":\"a.elastickv-leaf-data\"\n"), 2, vec![
            "tree/s3/b/KEYMAP.jsonl: line 1:",
        ]),
        case(
            "keymap points nowhere",
            keymap(b"{\"encoded\":\"z.elastickv-leaf-data\",\"original\":\"eg\",\"kind\":\"s3-leaf-data\"}\n"),
            2,
            vec!["tree/s3/b/KEYMAP.jsonl: record \"z.elastickv-leaf-data\" points at no file"],
        ),
        case(
            "keymap duplicate",
            keymap(b"{\"encoded\":\"a.elastickv-leaf-data\",\"original\":\"YQ\",\"kind\":\"s3-leaf-data\"}\n{\"encoded\":\"a.elastickv-leaf-data\",\"original\":\"Yg\",\"kind\":\"s3-leaf-data\"}\n"),
            2,
            vec!["KEYMAP.jsonl: line 2: duplicate encoded path"],
        ),
        case(
            "keymap kind",
            keymap(b"{\"encoded\":\"a.elastickv-leaf-data\",\"original\":\"YQ\",\"kind\":\"rename\"}"),
            2,
            vec!["KEYMAP.jsonl: line 1: unknown kind \"rename\""],
        ),
        case(
            "keymap duplicate key",
            {
                let mut v = keymap(b"{\"encoded\":\"a.elastickv-leaf-data\",\"original\":\"Yg\",\"kind\":\"s3-leaf-data\"}");
                v.push(("s3/b/b", b"hi"));
                v.push(("s3/b/b.elastickv-meta.json", SIDE2));
                v
            },
            2,
            vec!["two files produce the same record key !s3|"],
        ),
        case("reserved directory", s3(vec![("s3/b/_orphans/x/gen-1/u.bin", b"x")]), 2, vec![
            "tree/s3/b/_orphans: is reserved",
        ]),
        case(
            "object named _bucket.json",
            s3(vec![("s3/b/_bucket.json.elastickv-meta.json", SIDE2)]),
            2,
            vec!["tree/s3/b/_bucket.json.elastickv-meta.json: an object named _bucket.json"],
        ),
        case("backslash", s3(vec![("s3/b/a\\b", b"hi"), ("s3/b/a\\b.elastickv-meta.json", SIDE2)]), 2, vec![
            "contains a backslash",
        ]),
    ];
    let mut c = case(
        "symlinked body",
        s3(vec![
            ("s3/b/real", b"hi"),
            ("s3/b/k.elastickv-meta.json", SIDE2),
            ("s3/b/real.elastickv-meta.json", SIDE2),
        ]),
        2,
        vec!["tree/s3/b/k: is a symlink"],
    );
    c.setup = |t| symlink("real", t.join("s3/b/k")).unwrap();
    cases.push(c);
    let mut c = case("symlinked bucket subdir", s3(vec![]), 2, vec!["tree/s3/b/sub: is a symlink"]);
    c.setup = |t| symlink("/etc", t.join("s3/b/sub")).unwrap();
    cases.push(c);
    let mut c = case(
        "FIFO body",
        s3(vec![("s3/b/k.elastickv-meta.json", SIDE2)]),
        2,
        vec!["tree/s3/b/k: is a special file"],
    );
    c.setup = |t| mkfifo(&t.join("s3/b/k"));
    cases.push(c);
    for c in &cases {
        run_case(c);
    }
}

/// Many files go through the parallel windows; an error in one of them is
/// still reported with its path, and nothing is published.
#[test]
fn errors_inside_large_directories() {
    let tmp = tempfile::tempdir().unwrap();
    let tree = tmp.path().join("tree");
    let mut files: Vec<(String, Vec<u8>)> = vec![
        ("dynamodb/t/_schema.json".into(), SCHEMA.to_vec()),
        ("s3/b/_bucket.json".into(), BUCKET.to_vec()),
    ];
    for i in 0..5000 {
        files.push((
            format!("dynamodb/t/items/k{i}.json"),
            format!(r#"{{"id":{{"S":"k{i}"}}}}"#).into_bytes(),
        ));
        files.push((format!("s3/b/d{}/o{i}", i % 7), b"hi".to_vec()));
        files.push((format!("s3/b/d{}/o{i}.elastickv-meta.json", i % 7), SIDE2.to_vec()));
    }
    let refs: Vec<(&str, &[u8])> = files.iter().map(|(p, b)| (p.as_str(), b.as_slice())).collect();
    make_tree(&tree, T, &refs);
    let out = tmp.path().join("x.fsm");
    let args = |extra: &'static str| -> Vec<String> {
        let mut v: Vec<String> = vec!["pack".into(), "--no-self-test".into()];
        if !extra.is_empty() {
            v.extend(["--adapter".into(), extra.into()]);
        }
        v.push(tree.to_str().unwrap().into());
        v.push(out.to_str().unwrap().into());
        v
    };
    let go = |a: Vec<String>| run(&a.iter().map(String::as_str).collect::<Vec<_>>());
    let r = go(args(""));
    assert!(r.status.success(), "{}", stderr(&r));
    std::fs::remove_file(&out).unwrap();
    std::fs::write(tree.join("dynamodb/t/items/k2500.json"), br#"{"id":{"S":"other"}}"#).unwrap();
    let r = go(args("dynamodb"));
    assert_eq!(r.status.code(), Some(2));
    assert!(
        stderr(&r).contains("tree/dynamodb/t/items/k2500.json: the item's key attributes name"),
        "{}",
        stderr(&r)
    );
    std::fs::remove_file(tree.join("s3/b/d3/o2502.elastickv-meta.json")).unwrap();
    let r = go(args("s3"));
    assert_eq!(r.status.code(), Some(2));
    assert!(stderr(&r).contains("tree/s3/b/d3/o2502: object body without"), "{}", stderr(&r));
    std::fs::write(tree.join("s3/b/d3/o2502.elastickv-meta.json"), br#"{"format_version":1,"size_bytes":3}"#)
        .unwrap();
    let r = go(args("s3"));
    assert!(
        stderr(&r).contains("tree/s3/b/d3/o2502.elastickv-meta.json: size_bytes 3 but the body has 2 bytes"),
        "{}",
        stderr(&r)
    );
    assert!(!out.exists());
}
