//! The self-test (`pack.md` §3.4): a tree that does not decode back to
//! itself is refused with exit 2, `OUT.mismatch.txt` lists the differing
//! paths (sorted, cut after 64), a stale OUT is removed and the sidecar
//! says `matched: false`; an S3 `KEYMAP.jsonl` in another line order is
//! not a difference; `--no-self-test` publishes anyway.

use crate::common::pack::*;

fn sidecar_json(out: &std::path::Path) -> serde_json::Value {
    serde_json::from_slice(&std::fs::read(fsmfs::pack::sidecar_path(out)).unwrap()).unwrap()
}

#[test]
fn non_canonical_tree_fails_the_self_test() {
    let tmp = tempfile::tempdir().unwrap();
    let tree = tmp.path().join("tree");
    copy_tree(&golden("ddb_spec_a8"), &tree);
    // Same data, different JSON layout: packs fine, decodes differently.
    std::fs::write(
        tree.join("dynamodb/sessions/items/sess-abc.json"),
        br#"{"id":{"S":"sess-abc"},"user":{"S":"u1"}}"#,
    )
    .unwrap();
    let dir = tmp.path().join("out");
    std::fs::create_dir(&dir).unwrap();
    let out = dir.join("x.fsm");
    std::fs::write(&out, b"stale payload").unwrap();
    std::fs::write(dir.join("x.fsm.mismatch.txt"), b"stale report").unwrap();
    let r = run(&["pack", tree.to_str().unwrap(), out.to_str().unwrap()]);
    assert_eq!(r.status.code(), Some(2), "{}", stderr(&r));
    assert!(stderr(&r).contains("self-test"), "{}", stderr(&r));
    assert!(stderr(&r).contains("x.fsm.mismatch.txt"), "{}", stderr(&r));
    assert_eq!(
        listing(&dir),
        vec!["x.fsm.encode_info.json", "x.fsm.mismatch.txt"],
        "stale OUT removed, no temp"
    );
    assert_eq!(
        std::fs::read_to_string(dir.join("x.fsm.mismatch.txt")).unwrap(),
        "dynamodb/sessions/items/sess-abc.json (bytes differ)\n"
    );
    let info = sidecar_json(&out);
    assert_eq!(info["self_test"], serde_json::json!({"ran": true, "matched": false}));
    assert_eq!(info["output_fsm_sha256"].as_str().unwrap().len(), 64);

    // --no-self-test publishes the same payload; the sidecar says so; a
    // stale mismatch report is removed.
    let r = run(&["pack", "--no-self-test", tree.to_str().unwrap(), out.to_str().unwrap()]);
    assert!(r.status.success(), "{}", stderr(&r));
    assert_eq!(listing(&dir), vec!["x.fsm", "x.fsm.encode_info.json"]);
    let info2 = sidecar_json(&out);
    assert_eq!(info2["self_test"], serde_json::json!({"ran": false, "matched": false}));
    assert_eq!(info2["output_fsm_sha256"], info["output_fsm_sha256"], "same bytes either way");

    // Packing the re-decoded tree then passes (canonicalize once).
    let canon = tmp.path().join("canon");
    extract_to(&out, &canon, false);
    let out2 = dir.join("y.fsm");
    pack_lib(&canon, &out2).unwrap();
    assert_eq!(std::fs::read(&out).unwrap(), std::fs::read(&out2).unwrap());
}

#[test]
fn report_is_sorted_per_adapter_and_cut_at_64() {
    let tmp = tempfile::tempdir().unwrap();
    let tree = tmp.path().join("tree");
    let schema = std::fs::read(golden("ddb_spec_a8").join("dynamodb/sessions/_schema.json")).unwrap();
    let mut files: Files = vec![("dynamodb/sessions/_schema.json".into(), schema)];
    for i in 0..70 {
        files.push((
            format!("dynamodb/sessions/items/k{i:03}.json"),
            format!(r#"{{"id":{{"S":"k{i:03}"}}}}"#).into_bytes(),
        ));
    }
    let refs: Vec<(&str, &[u8])> = files.iter().map(|(p, b)| (p.as_str(), b.as_slice())).collect();
    make_tree(&tree, 1, &refs);
    let out = tmp.path().join("x.fsm");
    let e = pack_lib(&tree, &out).unwrap_err();
    assert_eq!(e.code, 2);
    let report = std::fs::read_to_string(tmp.path().join("x.fsm.mismatch.txt")).unwrap();
    let lines: Vec<&str> = report.lines().collect();
    assert_eq!(lines.len(), 65, "{report}");
    assert_eq!(lines[0], "dynamodb/sessions/items/k000.json (bytes differ)");
    assert_eq!(lines[63], "dynamodb/sessions/items/k063.json (bytes differ)");
    assert_eq!(lines[64], "... (truncated; first 64 paths shown)");
    assert!(report.ends_with('\n'));
    assert!(!out.exists());
}

#[test]
fn keymap_line_order_is_not_a_difference() {
    let tmp = tempfile::tempdir().unwrap();
    let tree = tmp.path().join("tree");
    copy_tree(&golden("s3_objects"), &tree);
    let km = tree.join("s3/media/KEYMAP.jsonl");
    let text = std::fs::read_to_string(&km).unwrap();
    let mut lines: Vec<&str> = text.lines().collect();
    assert!(lines.len() >= 2);
    lines.reverse();
    std::fs::write(&km, lines.join("\n") + "\n").unwrap();
    let out = tmp.path().join("x.fsm");
    let r = pack_lib(&tree, &out).unwrap();
    assert!(r.self_test);
    // The output is the same as for the sorted original.
    let out2 = tmp.path().join("y.fsm");
    pack_lib(&golden("s3_objects"), &out2).unwrap();
    assert_eq!(std::fs::read(&out).unwrap(), std::fs::read(&out2).unwrap());
    // But a KEYMAP with different content is a difference: here the
    // renamed body is packed under its original key either way, so a
    // changed line would fail earlier — a missing trailing newline is the
    // smallest real byte difference.
    std::fs::write(&km, lines.join("\n")).unwrap();
    let e = pack_lib(&tree, &tmp.path().join("z.fsm")).unwrap_err();
    assert!(e.message.contains("self-test"), "{e}");
    let report = std::fs::read_to_string(tmp.path().join("z.fsm.mismatch.txt")).unwrap();
    assert_eq!(report, "s3/media/KEYMAP.jsonl (bytes differ)\n");
}

#[test]
fn golden_leaf_data_rename_without_its_children_passes() {
    // `s3_spec_b8` without `2026/a.txt`: the shape a live node's decode has
    // when `2026/…` exists there only as orphan chunks. Nothing lives under
    // `2026/` after packing, so the next decode writes the object under its
    // natural name and no KEYMAP.jsonl — the self-test expects exactly that.
    let tmp = tempfile::tempdir().unwrap();
    let tree = tmp.path().join("tree");
    copy_tree(&golden("s3_spec_b8"), &tree);
    std::fs::remove_dir_all(tree.join("s3/photos/2026")).unwrap();
    let out = tmp.path().join("x.fsm");
    assert!(pack_lib(&tree, &out).unwrap_or_else(|e| panic!("{e}")).self_test);
    let canon = tmp.path().join("canon");
    extract_to(&out, &canon, false);
    let names: Vec<String> = adapter_files(&canon).into_keys().collect();
    assert_eq!(names, ["s3/photos/2026", "s3/photos/2026.elastickv-meta.json", "s3/photos/_bucket.json"]);
    let side = "s3/photos/2026.elastickv-leaf-data.elastickv-meta.json";
    assert_eq!(
        std::fs::read(canon.join("s3/photos/2026.elastickv-meta.json")).unwrap(),
        std::fs::read(tree.join(side)).unwrap()
    );
    pack_lib(&canon, &tmp.path().join("y.fsm")).unwrap();
    assert_eq!(std::fs::read(&out).unwrap(), std::fs::read(tmp.path().join("y.fsm")).unwrap());
}

// --- trees a decoder writes from a live node (`pack.md` §11.2) --------------

/// Tree-relative path → content.
type Files = Vec<(String, Vec<u8>)>;

/// `_bucket.json` as the decoder writes it.
fn bucket_json(name: &str) -> String {
    format!("{{\n  \"format_version\": 1,\n  \"name\": \"{name}\",\n  \"owner\": \"alice\",\n  \"region\": \"us-east-1\",\n  \"acl\": \"private\"\n}}")
}

/// An object sidecar as the decoder writes it.
fn object_sidecar(body: &[u8]) -> String {
    format!(
        "{{\n  \"format_version\": 1,\n  \"etag\": \"e\",\n  \"size_bytes\": {},\n  \"last_modified\": \"2024-04-29T14:13:20.123Z\",\n  \"content_type\": \"text/plain\"\n}}",
        body.len()
    )
}

/// A `KEYMAP.jsonl` line as both decoders write it.
fn keymap_line(encoded: &str, original: &[u8], kind: &str) -> String {
    format!(
        "{{\"encoded\":\"{encoded}\",\"original\":\"{}\",\"kind\":\"{kind}\"}}\n",
        fsmfs::keys::segment::b64url_nopad(original)
    )
}

/// Writes an S3 object (body and sidecar) at bucket-relative `path`.
fn put_object(files: &mut Files, bucket: &str, path: &str, body: &[u8]) {
    files.push((format!("s3/{bucket}/{path}"), body.to_vec()));
    files.push((format!("s3/{bucket}/{path}.elastickv-meta.json"), object_sidecar(body).into_bytes()));
}

fn write_files(root: &std::path::Path, files: &[(String, Vec<u8>)]) {
    let refs: Vec<(&str, &[u8])> = files.iter().map(|(p, b)| (p.as_str(), b.as_slice())).collect();
    make_tree(root, SPEC_T, &refs);
}

/// What a decode of a live node writes when orphan chunks (an upload of
/// `obj/part` that never got a manifest, `b/solo/x` likewise) sit under an
/// object's key: bucket `b` holds `obj` renamed to
/// `obj.elastickv-leaf-data` because of the orphan, and `dir` renamed
/// because `dir/x` really exists; bucket `c` holds only an orphan-forced
/// rename. The orphans themselves are not in the tree. KEYMAP lines come
/// in map order (not sorted), as upstream writes them.
fn s3_live_files() -> Files {
    let mut f = vec![
        ("s3/b/_bucket.json".to_string(), bucket_json("b").into_bytes()),
        ("s3/c/_bucket.json".to_string(), bucket_json("c").into_bytes()),
    ];
    put_object(&mut f, "b", "obj.elastickv-leaf-data", b"orphaned prefix");
    put_object(&mut f, "b", "dir.elastickv-leaf-data", b"shorter key");
    put_object(&mut f, "b", "dir/x", b"longer key");
    put_object(&mut f, "b", "plain", b"no rename");
    put_object(&mut f, "c", "solo.elastickv-leaf-data", b"alone");
    let km_b = keymap_line("obj.elastickv-leaf-data", b"obj", "s3-leaf-data")
        + &keymap_line("dir.elastickv-leaf-data", b"dir", "s3-leaf-data");
    f.push(("s3/b/KEYMAP.jsonl".into(), km_b.into_bytes()));
    f.push((
        "s3/c/KEYMAP.jsonl".into(),
        keymap_line("solo.elastickv-leaf-data", b"solo", "s3-leaf-data").into_bytes(),
    ));
    f
}

/// The same data as the next decode writes it: the orphan-forced renames
/// are gone (with bucket `c`'s tracker), the real one stays.
fn s3_canonical_files() -> Files {
    let mut f = vec![
        ("s3/b/_bucket.json".to_string(), bucket_json("b").into_bytes()),
        ("s3/c/_bucket.json".to_string(), bucket_json("c").into_bytes()),
    ];
    put_object(&mut f, "b", "obj", b"orphaned prefix");
    put_object(&mut f, "b", "dir.elastickv-leaf-data", b"shorter key");
    put_object(&mut f, "b", "dir/x", b"longer key");
    put_object(&mut f, "b", "plain", b"no rename");
    put_object(&mut f, "c", "solo", b"alone");
    f.push((
        "s3/b/KEYMAP.jsonl".into(),
        keymap_line("dir.elastickv-leaf-data", b"dir", "s3-leaf-data").into_bytes(),
    ));
    f
}

/// Packs `tree` and expects a self-test mismatch whose report is `want`.
fn assert_mismatch(tree: &std::path::Path, want: &str) {
    let out = tree.with_extension("fsm");
    let e = pack_lib(tree, &out).unwrap_err();
    assert_eq!(e.code, 2, "{e}");
    assert!(e.message.contains("self-test"), "{e}");
    let report = std::fs::read_to_string(out.with_extension("fsm.mismatch.txt")).unwrap();
    assert_eq!(report, want);
    assert!(!out.exists());
}

#[test]
fn s3_leaf_data_rename_forced_by_orphans_passes() {
    let tmp = tempfile::tempdir().unwrap();
    let (live, canon) = (tmp.path().join("live"), tmp.path().join("canon"));
    write_files(&live, &s3_live_files());
    write_files(&canon, &s3_canonical_files());
    let out = tmp.path().join("live.fsm");
    let r = pack_lib(&live, &out).unwrap_or_else(|e| panic!("{e}"));
    assert!(r.self_test);
    // The payload is the canonical tree's, and decodes to it.
    let out2 = tmp.path().join("canon.fsm");
    pack_lib(&canon, &out2).unwrap();
    assert_eq!(std::fs::read(&out).unwrap(), std::fs::read(&out2).unwrap());
    let decoded = tmp.path().join("decoded");
    extract_to(&out, &decoded, true);
    assert_same_files(&decoded, &canon, "decode of the live tree's payload");
}

#[test]
fn s3_live_tree_with_a_real_difference_still_fails() {
    let tmp = tempfile::tempdir().unwrap();
    let edit = |name: &str, change: &dyn Fn(&mut Files)| {
        let mut files = s3_live_files();
        change(&mut files);
        let tree = tmp.path().join(name);
        write_files(&tree, &files);
        tree
    };
    let set = |files: &mut Files, path: &str, bytes: Vec<u8>| {
        files.iter_mut().find(|(p, _)| p == path).unwrap().1 = bytes;
    };
    // A changed byte in the line of the rename that stays.
    let t = edit("needed_line", &|f| {
        let km = keymap_line("obj.elastickv-leaf-data", b"obj", "s3-leaf-data")
            + &keymap_line("dir.elastickv-leaf-data", b"dir", "s3-leaf-data").replace("\":\"", "\": \"");
        set(f, "s3/b/KEYMAP.jsonl", km.into_bytes());
    });
    assert_mismatch(&t, "s3/b/KEYMAP.jsonl (bytes differ)\n");
    // A changed byte in the sidecar of an object that moves back to its
    // natural name (reported under the input's name).
    let t = edit("moved_sidecar", &|f| {
        let side = object_sidecar(b"orphaned prefix").replace("\n}", " \n}");
        set(f, "s3/b/obj.elastickv-leaf-data.elastickv-meta.json", side.into_bytes());
    });
    assert_mismatch(&t, "s3/b/obj.elastickv-leaf-data.elastickv-meta.json (bytes differ)\n");
    // A leaf-data record no decoder writes (its original is not the
    // encoded name minus the suffix): not a canonical change, so the next
    // decode's natural name is "missing in input" and the input's names
    // "missing in scratch".
    let t = edit("odd_record", &|f| {
        let km = keymap_line("obj.elastickv-leaf-data", b"other", "s3-leaf-data")
            + &keymap_line("dir.elastickv-leaf-data", b"dir", "s3-leaf-data");
        set(f, "s3/b/KEYMAP.jsonl", km.into_bytes());
    });
    assert_mismatch(
        &t,
        "s3/b/KEYMAP.jsonl (bytes differ)\n\
         s3/b/obj.elastickv-leaf-data (missing in scratch)\n\
         s3/b/obj.elastickv-leaf-data.elastickv-meta.json (missing in scratch)\n\
         s3/b/other (missing in input)\n\
         s3/b/other.elastickv-meta.json (missing in input)\n",
    );
}

/// Upstream's Redis decode writes a SHA-fallback key's KEYMAP line each
/// time it writes something of that key: once per string version and
/// once per TTL line (fsmfs's decode: once per key). Here a 300-byte string
/// key with two versions, both with an inline TTL (three lines, and two
/// `strings_ttl.jsonl` lines), and a 300-byte hash key (one line).
fn redis_live_files(keymap: &dyn Fn(&[String]) -> String) -> Files {
    let (skey, hkey) = (vec![b's'; 300], vec![b'h'; 300]);
    let (sstem, hstem) =
        (fsmfs::keys::segment::encode_segment(&skey), fsmfs::keys::segment::encode_segment(&hkey));
    assert!(sstem.contains("__") && hstem.contains("__"), "SHA-fallback names");
    let (sl, hl) = (keymap_line(&sstem, &skey, "sha-fallback"), keymap_line(&hstem, &hkey, "sha-fallback"));
    let ttl = format!("{{\"key\":\"{sstem}\",\"expire_at_ms\":1700000000000}}\n");
    vec![
        (format!("redis/db_0/strings/{sstem}.bin"), b"v2".to_vec()),
        ("redis/db_0/strings_ttl.jsonl".into(), ttl.repeat(2).into_bytes()),
        (
            format!("redis/db_0/hashes/{hstem}.json"),
            br#"{"format_version":1,"fields":[{"name":"f","value":"v"}],"expire_at_ms":null}"#.to_vec(),
        ),
        ("redis/db_0/KEYMAP.jsonl".into(), keymap(&[sl.clone(), sl.clone(), hl, sl]).into_bytes()),
    ]
}

/// The lines in upstream's write order.
fn upstream_order(l: &[String]) -> String {
    l.concat()
}

#[test]
fn redis_keymap_repeated_per_record_passes() {
    let tmp = tempfile::tempdir().unwrap();
    let live = tmp.path().join("live");
    write_files(&live, &redis_live_files(&upstream_order));
    let out = tmp.path().join("live.fsm");
    let r = pack_lib(&live, &out).unwrap_or_else(|e| panic!("{e}"));
    assert!(r.self_test);
    // The next decode writes each line once; packing that gives the same
    // payload.
    let decoded = tmp.path().join("decoded");
    extract_to(&out, &decoded, false);
    let km = std::fs::read_to_string(decoded.join("redis/db_0/KEYMAP.jsonl")).unwrap();
    let live_km = std::fs::read_to_string(live.join("redis/db_0/KEYMAP.jsonl")).unwrap();
    let (mut got, mut want): (Vec<&str>, Vec<&str>) = (km.lines().collect(), live_km.lines().collect());
    got.sort();
    want.sort();
    want.dedup();
    assert_eq!(got, want);
    pack_lib(&decoded, &tmp.path().join("again.fsm")).unwrap();
    assert_eq!(std::fs::read(&out).unwrap(), std::fs::read(tmp.path().join("again.fsm")).unwrap());
}

#[test]
fn redis_keymap_with_a_real_difference_still_fails() {
    let tmp = tempfile::tempdir().unwrap();
    let tree = |name: &str, keymap: &dyn Fn(&[String]) -> String| {
        let t = tmp.path().join(name);
        write_files(&t, &redis_live_files(keymap));
        t
    };
    // One repeat with a changed byte: not the line the decoder writes.
    let t = tree("changed", &|l| [&l[..3], &[l[3].replace("\":\"", "\": \"")]].concat().concat());
    assert_mismatch(&t, "redis/db_0/KEYMAP.jsonl (bytes differ)\n");
    // A line for a key with no file: the decoder does not write it.
    let t = tree("stray", &|l| {
        upstream_order(l)
            + &keymap_line(&fsmfs::keys::segment::encode_segment(&[b'x'; 300]), &[b'x'; 300], "sha-fallback")
    });
    assert_mismatch(&t, "redis/db_0/KEYMAP.jsonl (bytes differ)\n");
    // The hash's only line lost: its key cannot be recovered, pack refuses
    // the tree before any self-test.
    let t = tree("lost", &|l| [&l[..2], &l[3..]].concat().concat());
    let e = pack_lib(&t, &tmp.path().join("lost.fsm")).unwrap_err();
    assert_eq!(e.code, 2, "{e}");
    assert!(e.message.contains("redis/db_0/hashes/") && e.message.contains("KEYMAP.jsonl"), "{e}");
}
