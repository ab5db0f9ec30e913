//! The self-test (`pack.md` §3.4): a tree that does not decode back to
//! itself is refused with exit 2, `OUT.mismatch.txt` lists the differing
//! paths (sorted, cut after 64), a stale OUT is removed and the sidecar
//! says `matched: false`; an S3 `KEYMAP.jsonl` in another line order is
//! not a difference; `--no-self-test` publishes anyway.

mod pack_util;

use pack_util::*;

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
    let mut files: Vec<(String, Vec<u8>)> = vec![("dynamodb/sessions/_schema.json".into(), schema)];
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
fn missing_on_either_side_is_reported() {
    // A leaf-data rename the decoder would not make any more (nothing lives
    // under `a/` after packing without `a/b`): the object comes back under
    // its natural name, so the renamed path is "missing in input" and the
    // KEYMAP "missing in scratch" … reported as upstream words it.
    let tmp = tempfile::tempdir().unwrap();
    let tree = tmp.path().join("tree");
    copy_tree(&golden("s3_spec_b8"), &tree);
    std::fs::remove_dir_all(tree.join("s3/photos/2026")).unwrap();
    let out = tmp.path().join("x.fsm");
    let e = pack_lib(&tree, &out).unwrap_err();
    assert_eq!(e.code, 2, "{e}");
    let report = std::fs::read_to_string(tmp.path().join("x.fsm.mismatch.txt")).unwrap();
    assert_eq!(
        report,
        "s3/photos/2026 (missing in input)\n\
         s3/photos/2026.elastickv-leaf-data (missing in scratch)\n\
         s3/photos/2026.elastickv-leaf-data.elastickv-meta.json (missing in scratch)\n\
         s3/photos/2026.elastickv-meta.json (missing in input)\n\
         s3/photos/KEYMAP.jsonl (missing in scratch)\n"
    );
    // The re-decoded tree is canonical and packs cleanly.
    let r = run(&["pack", "--no-self-test", tree.to_str().unwrap(), out.to_str().unwrap()]);
    assert!(r.status.success());
    let canon = tmp.path().join("canon");
    extract_to(&out, &canon, false);
    pack_lib(&canon, &tmp.path().join("y.fsm")).unwrap();
}
