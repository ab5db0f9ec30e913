//! The same records in every on-disk shape decode to the same tree, and
//! `info` names the shape.

use fsmfs::adapters::dynamodb::records::*;
use fsmfs::adapters::s3::records::*;
use fsmfs::container::writer::{wrap_engine_v1, wrap_engine_v2, wrap_legacy};

use crate::common::snap::*;

fn mixed() -> Vec<u8> {
    let mut snap = Snap::new();
    let t = TableDef {
        name: "users".into(),
        attribute_definitions: vec![("id".into(), "S".into())],
        hash_key: "id".into(),
        key_encoding_version: 2,
        generation: 1,
        ..Default::default()
    };
    snap.records(ddb_schema_records(&t));
    for i in 0..20 {
        snap.records(
            ddb_item_records(&t, &attrs(&[("id", s(&format!("user-{i:03}"))), ("n", n(&i.to_string()))]), 1)
                .unwrap(),
        );
    }
    snap.records(s3_bucket_records(&BucketDef { name: b"b".to_vec(), generation: 1, ..Default::default() }));
    let o = ObjectDef {
        key: b"dir/file.txt".to_vec(),
        generation: 1,
        upload_id: b"u".to_vec(),
        size_bytes: 5,
        parts: vec![PartDef { part_no: 1, chunks: vec![b"hello".to_vec()], ..Default::default() }],
        ..Default::default()
    };
    snap.records(s3_object_records(b"b", &o));
    // Rows no adapter knows, and internal rows: counted, not shown.
    snap.put(b"!fs|inode|1", b"x");
    snap.put(b"!txn|lock|1", b"x");
    snap.build()
}

/// A live stream also carries store bookkeeping rows.
fn with_store_rows(mut stream: Vec<u8>) -> Vec<u8> {
    let mut registry = b"!encryption|writers|".to_vec();
    registry.extend_from_slice(&[0, 0, 0, 1, b'|', 0, 2]);
    let rows: Vec<(Vec<u8>, Vec<u8>)> = vec![
        (registry, vec![0; 12]),
        (b"_meta_applied_index".to_vec(), 42u64.to_le_bytes().to_vec()),
        (b"_meta_last_commit_ts".to_vec(), T.to_le_bytes().to_vec()),
        (b"_meta_min_retained_ts".to_vec(), 1u64.to_le_bytes().to_vec()),
        (b"_meta_pending_min_retained_ts".to_vec(), 0u64.to_le_bytes().to_vec()),
    ];
    for (k, v) in rows {
        stream.extend_from_slice(&(k.len() as u64).to_le_bytes());
        stream.extend_from_slice(&k);
        stream.extend_from_slice(&(v.len() as u64).to_le_bytes());
        stream.extend_from_slice(&v);
    }
    stream
}

#[test]
fn every_shape_gives_the_same_tree() {
    let raw = mixed();
    let live = with_store_rows(raw.clone());
    let mut phys = wrap_engine_v1(&live, 7);
    phys.truncate(phys.len() - 4);
    let shapes: Vec<(&str, Vec<u8>)> = vec![
        ("raw EKVPBBL1 stream", raw.clone()),
        ("headerless legacy engine file (CRC32C footer)", wrap_legacy(&live)),
        ("raft engine file, EKVTHLC1 header, CRC32C footer", wrap_engine_v1(&live, (T >> 16) + 1)),
        ("raft engine file, EKVTHLC2 header, CRC32C footer", wrap_engine_v2(&live, (T >> 16) + 1, 9)),
        ("physical export, EKVTHLC1 header, no footer", phys),
    ];
    let (_t0, reference) = extract(raw, opts("x")).unwrap();
    let want = read_tree(&reference);
    assert!(want.contains_key("dynamodb/users/items/user-007.json"));
    assert_eq!(std::fs::read(reference.join("s3/b/dir/file.txt")).unwrap(), b"hello");
    for (name, bytes) in shapes {
        let (_t, tree) = extract(bytes.clone(), opts("x")).unwrap();
        assert_eq!(read_tree(&tree), want, "{name}");
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("0000000000000064.fsm");
        std::fs::write(&p, &bytes).unwrap();
        let o = fsmfs(&["info", "--json", p.to_str().unwrap()]);
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
        let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
        assert_eq!(v["shape"], name);
        assert_eq!(v["snapshot_index"], 100);
        assert_eq!(v["records"]["dynamodb"], 22);
        assert_eq!(v["records"]["unknown"], 1);
        // !txn| and the S3 bucket generation counter.
        assert_eq!(v["records"]["internal"], 2);
        let store_rows = if name.starts_with("raw") { 0 } else { 5 };
        assert_eq!(v["store_rows_skipped"], store_rows, "{name}");
    }
}

#[test]
fn adapter_selection_drops_the_others() {
    let mut o = opts("x");
    o.adapters = vec![fsmfs::adapters::route::Adapter::S3];
    let (_t, tree) = extract(mixed(), o).unwrap();
    assert!(!tree.join("dynamodb").exists());
    assert!(tree.join("s3/b/dir/file.txt").is_file());
    let manifest = std::fs::read_to_string(tree.join("MANIFEST.json")).unwrap();
    assert!(manifest.contains("\"adapters\": {\n    \"s3\": {}\n  }"), "{manifest}");
}

#[test]
fn ls_and_cat_serve_the_same_bytes_as_extract() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("s.fsm");
    std::fs::write(&p, mixed()).unwrap();
    let snap = p.to_str().unwrap();
    let o = fsmfs(&["ls", snap]);
    assert_eq!(String::from_utf8_lossy(&o.stdout), "CHECKSUMS\nMANIFEST.json\ndynamodb/\ns3/\n");
    let o = fsmfs(&["ls", "--json", snap, "s3/b/dir"]);
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(v[0]["name"], "file.txt");
    assert_eq!(v[0]["size"], 5);
    assert_eq!(v[0]["mode"], "600");
    let o = fsmfs(&["cat", snap, "s3/b/dir/file.txt"]);
    assert_eq!(o.stdout, b"hello");
    let o = fsmfs(&["cat", snap, "CHECKSUMS"]);
    let out = dir.path().join("t");
    assert!(fsmfs(&["extract", snap, out.to_str().unwrap()]).status.success());
    assert_eq!(o.stdout, std::fs::read(out.join("CHECKSUMS")).unwrap());
    let o = fsmfs(&["cat", snap, "nope"]);
    assert_eq!(o.status.code(), Some(1));
}
