//! Round trips through `pack` (issue 4, `pack.md` §11):
//! * every golden DynamoDB/S3 tree: pack(tree) then extract gives the tree;
//! * extract(snapshot) then pack then extract gives the same tree, for the
//!   demo snapshot and for live-shaped snapshots (generations ≠ 1,
//!   multipart and offloaded S3 objects, GSIs, collision renames);
//! * canonicalize-once: packing a tree twice gives identical bytes, and
//!   decode → pack → decode → pack is a fixed point.

use fsmfs::adapters::dynamodb::records::*;
use fsmfs::adapters::s3::records::*;

use crate::common::pack::*;
use crate::common::snap::{attrs, n, s, Snap};

const GOLDEN: [&str; 6] =
    ["ddb_attr_kinds", "ddb_generations", "ddb_mvcc_live", "ddb_spec_a8", "s3_objects", "s3_spec_b8"];

/// pack(tree) → extract = tree; pack(extract) = pack(tree); pack twice = same.
fn golden_round_trip(tree: &std::path::Path, case: &str) {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("out.fsm");
    let r = pack_lib(tree, &out).unwrap_or_else(|e| panic!("{case}: {e}"));
    assert!(r.self_test, "{case}");
    let back = tmp.path().join("back");
    extract_to(&out, &back, false);
    assert_same_files(&back, tree, case);
    // Canonicalize-once: the decoded tree packs to the same bytes, and
    // packing the same tree again does too.
    let again = tmp.path().join("again.fsm");
    pack_lib(&back, &again).unwrap();
    assert_eq!(std::fs::read(&out).unwrap(), std::fs::read(&again).unwrap(), "{case}: not a fixed point");
    let twice = tmp.path().join("twice.fsm");
    pack_lib(tree, &twice).unwrap();
    assert_eq!(std::fs::read(&out).unwrap(), std::fs::read(&twice).unwrap(), "{case}: not deterministic");
}

#[test]
fn golden_trees_pack_and_decode_back() {
    for case in GOLDEN {
        golden_round_trip(&golden(case), case);
    }
}

/// `ddb_keys` holds a legacy-encoded table whose `N` key `"abc"` the
/// ordered key codec refuses (upstream too: exit 2). Without that item the
/// tree round-trips, SHA-fallback and `b64.` names included.
#[test]
fn golden_with_an_unencodable_key_is_refused_then_round_trips_without_it() {
    let tmp = tempfile::tempdir().unwrap();
    let e = pack_lib(&golden("ddb_keys"), &tmp.path().join("x.fsm")).unwrap_err();
    assert_eq!(e.code, 2);
    assert!(e.message.contains("dynamodb/legacy/items/abc.json: key attribute \"n\": number \"abc\""), "{e}");
    let tree = tmp.path().join("t");
    copy_tree(&golden("ddb_keys"), &tree);
    std::fs::remove_file(tree.join("dynamodb/legacy/items/abc.json")).unwrap();
    golden_round_trip(&tree, "ddb_keys without abc");
}

/// `s3_options` was decoded with `--include-orphans` and
/// `--include-incomplete-uploads`, which pack cannot rebuild (§4.5), and it
/// holds a bucket without `_bucket.json`. Refused as a whole; with those
/// parts removed (and the manifest saying so) its `--rename-collisions`
/// renames reverse.
#[test]
fn golden_with_unsupported_modes_is_refused_then_packs_without_them() {
    let tmp = tempfile::tempdir().unwrap();
    let e = pack_lib(&golden("s3_options"), &tmp.path().join("x.fsm")).unwrap_err();
    assert_eq!(e.code, 2);
    assert!(e.message.contains("include_incomplete_uploads"), "{e}");
    assert_eq!(listing(tmp.path()), Vec::<String>::new());

    let tree = tmp.path().join("t");
    copy_tree(&golden("s3_options"), &tree);
    let m = std::fs::read_to_string(tree.join("MANIFEST.json")).unwrap();
    let m = m.replace("\"include_incomplete_uploads\": true", "\"include_incomplete_uploads\": false");
    let m = m.replace("\"include_orphans\": true", "\"include_orphans\": false");
    std::fs::write(tree.join("MANIFEST.json"), m).unwrap();
    std::fs::remove_dir_all(tree.join("s3/opt/_orphans")).unwrap();
    std::fs::remove_dir_all(tree.join("s3/opt/_incomplete_uploads")).unwrap();
    let e = pack_lib(&tree, &tmp.path().join("x.fsm")).unwrap_err();
    assert!(e.message.contains("s3/nometa/_bucket.json: missing"), "{e}");
    std::fs::remove_dir_all(tree.join("s3/nometa")).unwrap();
    let out = tmp.path().join("x.fsm");
    pack_lib(&tree, &out).unwrap();
    let back = tmp.path().join("back");
    extract_to(&out, &back, true);
    assert_same_files(&back, &tree, "s3_options without orphans");
    assert!(back.join("s3/opt/x.elastickv-meta.json.user-data").is_file());
}

fn round_trip(snap: &[u8], rename_collisions: bool, what: &str) -> Vec<u8> {
    let tmp = tempfile::tempdir().unwrap();
    let src = write_snap(tmp.path(), "src.fsm", snap);
    let t1 = tmp.path().join("t1");
    extract_to(&src, &t1, rename_collisions);
    let p1 = tmp.path().join("p1.fsm");
    pack_lib(&t1, &p1).unwrap_or_else(|e| panic!("{what}: {e}"));
    let t2 = tmp.path().join("t2");
    extract_to(&p1, &t2, rename_collisions);
    assert_same_files(&t2, &t1, what);
    let p2 = tmp.path().join("p2.fsm");
    pack_lib(&t2, &p2).unwrap();
    let bytes = std::fs::read(&p1).unwrap();
    assert_eq!(bytes, std::fs::read(&p2).unwrap(), "{what}: not a fixed point");
    bytes
}

#[test]
fn demo_snapshot_round_trips() {
    let demo = std::fs::read(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/data/demo.fsm")).unwrap();
    round_trip(&demo, false, "demo");
}

fn live_table() -> TableDef {
    TableDef {
        name: "orders".into(),
        attribute_definitions: vec![
            ("customer".into(), "S".into()),
            ("ts".into(), "N".into()),
            ("status".into(), "S".into()),
            ("region".into(), "B".into()),
        ],
        hash_key: "customer".into(),
        range_key: "ts".into(),
        gsis: vec![
            GsiDef {
                name: "by_status".into(),
                hash: "status".into(),
                range: "ts".into(),
                projection_type: "ALL".into(),
                non_key_attributes: vec![],
            },
            GsiDef {
                name: "by_region".into(),
                hash: "region".into(),
                range: String::new(),
                projection_type: "INCLUDE".into(),
                non_key_attributes: vec!["status".into(), "".into()],
            },
        ],
        key_encoding_version: 2,
        generation: 3,
        migrating_from_generation: 0,
    }
}

fn live_shaped() -> Vec<u8> {
    let mut snap = Snap::new();
    let t = live_table();
    snap.records(ddb_schema_records(&t));
    for i in 0..40u32 {
        let mut a = vec![
            ("customer", s(&format!("c#{}", i % 7))),
            ("ts", n(&format!("{}.{}e1", 100 + i, i % 3))),
            ("payload", AttrValue::M(attrs(&[("k", s("v\u{0}<&>")), ("l", AttrValue::L(vec![n("-0.5")]))]))),
        ];
        if i % 2 == 0 {
            a.push(("status", s(if i % 4 == 0 { "open" } else { "done" })));
        }
        if i % 5 == 0 {
            a.push(("region", AttrValue::B(vec![0, i as u8, 0xff])));
        }
        snap.records(ddb_item_records(&t, &attrs(&a), 3).unwrap());
    }
    // A stale generation the decoder drops.
    snap.records(ddb_item_records(&t, &attrs(&[("customer", s("old")), ("ts", n("1"))]), 2).unwrap());
    let hash_only = TableDef {
        name: "sessions/ü".into(),
        attribute_definitions: vec![("id".into(), "N".into())],
        hash_key: "id".into(),
        key_encoding_version: 2,
        generation: 9,
        ..Default::default()
    };
    snap.records(ddb_schema_records(&hash_only));
    for id in ["0", "-1.5", "12345678901234567890", "7e-3"] {
        snap.records(
            ddb_item_records(&hash_only, &attrs(&[("id", n(id)), ("x", AttrValue::Null(false))]), 9).unwrap(),
        );
    }

    let b = BucketDef {
        name: b"media".to_vec(),
        generation: 2,
        created_at_hlc: 5 << 16,
        owner: "alice".into(),
        region: "eu".into(),
        acl: String::new(),
    };
    snap.records(s3_bucket_records(&b));
    let mib = 1usize << 20;
    let big: Vec<u8> = (0..(2 * mib + 12345)).map(|i| (i * 31 % 251) as u8).collect();
    let obj = |key: &[u8], parts: Vec<PartDef>| ObjectDef {
        key: key.to_vec(),
        generation: 2,
        upload_id: b"up-1".to_vec(),
        etag: "etag-x".into(),
        size_bytes: parts.iter().map(|p| p.chunks.iter().map(Vec::len).sum::<usize>()).sum::<usize>() as i64,
        last_modified_hlc: (1_714_400_000_123 << 16) | 7,
        content_type: "application/octet-stream".into(),
        user_metadata: vec![("camera".into(), "fx30".into())],
        parts,
        ..Default::default()
    };
    let part = |no: u64, chunks: Vec<Vec<u8>>, version: u64, offloaded: bool| PartDef {
        part_no: no,
        etag: format!("p{no}"),
        size_bytes: chunks.iter().map(Vec::len).sum::<usize>() as i64,
        part_version: version,
        chunk_ref_version: if offloaded { version } else { 0 },
        offloaded,
        chunks,
    };
    // Multipart with uneven chunks, a versioned part and an offloaded part.
    let multipart = obj(
        b"video/big.bin",
        vec![
            part(1, vec![big[..700_000].to_vec(), big[700_000..mib].to_vec()], 0, false),
            part(2, vec![big[mib..2 * mib].to_vec()], 4, false),
            part(3, vec![big[2 * mib..].to_vec()], 1, true),
        ],
    );
    snap.records(s3_object_records(b"media", &multipart));
    snap.records(s3_object_records(b"media", &obj(b"a", vec![part(1, vec![b"leaf".to_vec()], 0, false)])));
    snap.records(s3_object_records(
        b"media",
        &obj(b"a/b", vec![part(1, vec![b"deeper".to_vec()], 0, false)]),
    ));
    snap.records(s3_object_records(b"media", &obj(b"a/b/c", vec![part(1, vec![b"c".to_vec()], 0, false)])));
    snap.records(s3_object_records(b"media", &obj(b"empty", vec![])));
    snap.records(s3_object_records(
        b"media",
        &obj(b"meta.elastickv-meta.json", vec![part(1, vec![b"renamed".to_vec()], 0, false)]),
    ));
    snap.records(s3_object_records(
        b"media",
        &obj("日本/報告 1.txt".as_bytes(), vec![part(1, vec![b"x".to_vec()], 0, false)]),
    ));
    // A bucket with a NUL in its name and an object of a stale generation.
    let odd = BucketDef { name: b"odd\0name".to_vec(), generation: 1, ..Default::default() };
    snap.records(s3_bucket_records(&odd));
    let mut k = obj(b"k", vec![part(1, vec![b"v".to_vec()], 0, false)]);
    k.generation = 1;
    snap.records(s3_object_records(b"odd\0name", &k));
    k.generation = 0;
    snap.records(s3_object_records(b"odd\0name", &k));
    snap.build()
}

#[test]
fn live_shaped_snapshot_round_trips() {
    let bytes = round_trip(&live_shaped(), true, "live-shaped");
    // Restore shapes: generation 1 everywhere, upload elastickv-restore,
    // 1 MiB chunks.
    let tmp = tempfile::tempdir().unwrap();
    let p = write_snap(tmp.path(), "p.fsm", &bytes);
    let opts = fsmfs::index::DecodeOptions { rename_collisions: true, ..Default::default() };
    let index = fsmfs::index::Index::open(&p, opts, &mut |_| {}).unwrap();
    assert_eq!(index.counts.tables, 2);
    let text = String::from_utf8_lossy(&bytes);
    assert!(text.contains("elastickv-restore"));
    assert!(!text.contains("up-1"));
    assert!(text.contains("\"chunk_sizes\":[1048576,1048576,12345]"), "re-chunked at 1 MiB");
    assert!(text.contains("!ddb|gsi|b3JkZXJz|1|Ynlfc3RhdHVz|open"), "GSI rows regenerated at generation 1");
}

#[test]
fn gsi_rows_and_counters_are_regenerated() {
    // The decoder drops GSI rows and counters; pack derives them again, so
    // packing a tree decoded from upstream-encoder output gives back exactly
    // that output (generation 1 in, generation 1 out).
    let t = TableDef { generation: 1, ..live_table() };
    let mut snap = Snap::new();
    snap.records(ddb_schema_records(&t));
    for i in 0..10 {
        snap.records(
            ddb_item_records(
                &t,
                &attrs(&[("customer", s("c")), ("ts", n(&i.to_string())), ("status", s("open"))]),
                1,
            )
            .unwrap(),
        );
    }
    snap.records(s3_restore_bucket_records(b"bk", "o", "", ""));
    let side = SidecarDef { etag: "e".into(), size_bytes: 3, ..Default::default() };
    snap.records(s3_restore_object_records(b"bk", b"k", b"abc", &side));
    let original = snap.build();
    let packed = round_trip(&original, false, "restore-shaped");
    assert_eq!(packed, original, "upstream-shaped input packs to identical bytes");
}
