//! Golden trees: hand-built snapshots covering every DynamoDB and S3 case
//! of the spec, extracted and compared byte for byte with checked-in
//! copies under `tests/golden/`. Where the spec prints the expected bytes,
//! the test also asserts them literally.

use fsmfs::adapters::dynamodb::records::*;
use fsmfs::adapters::s3::records::*;
use fsmfs::container::writer::wrap_engine_v1;

use crate::common::snap::*;

fn orders() -> TableDef {
    TableDef {
        name: "orders".into(),
        attribute_definitions: vec![
            ("customer".into(), "S".into()),
            ("status".into(), "S".into()),
            ("ts".into(), "N".into()),
        ],
        hash_key: "customer".into(),
        range_key: "ts".into(),
        gsis: vec![GsiDef {
            name: "by_status".into(),
            hash: "status".into(),
            range: String::new(),
            projection_type: "ALL".into(),
            non_key_attributes: vec![],
        }],
        key_encoding_version: 2,
        generation: 3,
        migrating_from_generation: 0,
    }
}

fn table(name: &str, hash: (&str, &str), range: Option<(&str, &str)>) -> TableDef {
    let mut defs = vec![(hash.0.to_string(), hash.1.to_string())];
    if let Some(r) = range {
        defs.push((r.0.to_string(), r.1.to_string()));
    }
    TableDef {
        name: name.into(),
        attribute_definitions: defs,
        hash_key: hash.0.into(),
        range_key: range.map(|r| r.0.to_string()).unwrap_or_default(),
        gsis: vec![],
        key_encoding_version: 2,
        generation: 1,
        migrating_from_generation: 0,
    }
}

fn item(snap: &mut Snap, t: &TableDef, gen: u64, a: &[(&str, AttrValue)]) {
    snap.records(ddb_item_records(t, &attrs(a), gen).unwrap());
}

const A8_SCHEMA: &str = r#"{
  "format_version": 1,
  "table_name": "orders",
  "primary_key": {
    "hash_key": {
      "name": "customer",
      "type": "S"
    },
    "range_key": {
      "name": "ts",
      "type": "N"
    }
  },
  "attribute_definitions": [
    {
      "name": "customer",
      "type": "S"
    },
    {
      "name": "status",
      "type": "S"
    },
    {
      "name": "ts",
      "type": "N"
    }
  ],
  "global_secondary_indexes": [
    {
      "name": "by_status",
      "key_schema": {
        "hash_key": {
          "name": "status",
          "type": "S"
        },
        "range_key": {}
      },
      "projection": {
        "type": "ALL"
      }
    }
  ]
}"#;

const A8_ITEM: &str = r#"{
  "blob": {
    "B": "AAH+"
  },
  "customer": {
    "S": "c#7"
  },
  "extra": {
    "M": {
      "a": {
        "L": [
          {
            "N": "1"
          },
          {
            "NULL": true
          }
        ]
      },
      "z": {
        "BOOL": true
      }
    }
  },
  "status": {
    "S": "open"
  },
  "tags": {
    "SS": [
      "b",
      "a"
    ]
  },
  "ts": {
    "N": "1.50"
  }
}"#;

fn ddb_spec_a8() -> Snap {
    let mut snap = Snap::new();
    let t = orders();
    snap.records(ddb_schema_records(&t));
    item(
        &mut snap,
        &t,
        3,
        &[
            ("blob", AttrValue::B(vec![0, 1, 0xfe])),
            ("customer", s("c#7")),
            (
                "extra",
                AttrValue::M(attrs(&[
                    ("a", AttrValue::L(vec![n("1"), AttrValue::Empty])),
                    ("z", AttrValue::Bool(true)),
                ])),
            ),
            ("status", s("open")),
            ("tags", AttrValue::Ss(vec!["b".into(), "a".into()])),
            ("ts", n("1.50")),
        ],
    );
    // A stale generation-2 item: warned about, not written.
    item(&mut snap, &t, 2, &[("customer", s("old")), ("ts", n("1")), ("status", s("gone"))]);
    let sessions = table("sessions", ("id", "S"), None);
    snap.records(ddb_schema_records(&sessions));
    item(&mut snap, &sessions, 1, &[("id", s("sess-abc")), ("user", s("u1"))]);
    let bins = table("bins", ("k", "B"), None);
    snap.records(ddb_schema_records(&bins));
    item(&mut snap, &bins, 1, &[("k", AttrValue::B(vec![0, 1, 2, 3]))]);
    snap
}

#[test]
fn ddb_spec_a8_tree() {
    let (_tmp, tree) = extract(ddb_spec_a8().build(), opts("ddb_spec_a8")).unwrap();
    assert_eq!(std::fs::read_to_string(tree.join("dynamodb/orders/_schema.json")).unwrap(), A8_SCHEMA);
    assert_eq!(
        std::fs::read_to_string(tree.join("dynamodb/orders/items/c%237/3%2F2.json")).unwrap(),
        A8_ITEM
    );
    assert!(tree.join("dynamodb/sessions/items/sess-abc.json").is_file());
    assert!(tree.join("dynamodb/bins/items/b64.AAECAw.json").is_file());
    // Only the active generation's item exists.
    let items = std::fs::read_dir(tree.join("dynamodb/orders/items")).unwrap().count();
    assert_eq!(items, 1);
    assert_golden("ddb_spec_a8", &tree);
}

fn ddb_attr_kinds() -> Snap {
    let mut snap = Snap::new();
    let t = table("kinds", ("id", "S"), None);
    snap.records(ddb_schema_records(&t));
    item(
        &mut snap,
        &t,
        1,
        &[
            ("id", s("all")),
            ("s_html", s("<a href=\"x\">&amp;</a>")),
            ("s_unicode", s("日本語 \u{1}\u{7f}\u{2028}\u{2029}\t\n\\")),
            ("s_empty", s("")),
            ("n_text", n(" -0.50e3 ")),
            ("b_empty", AttrValue::B(vec![])),
            ("b_bytes", AttrValue::B(vec![0xff, 0xfe, 0x00, 0x3c])),
            ("bool_false", AttrValue::Bool(false)),
            ("bool_true", AttrValue::Bool(true)),
            ("null_true", AttrValue::Null(true)),
            ("null_false", AttrValue::Null(false)),
            ("ss_empty", AttrValue::Ss(vec![])),
            ("ss", AttrValue::Ss(vec!["z".into(), "a".into(), "a".into()])),
            ("ns", AttrValue::Ns(vec!["1".into(), "2.50".into()])),
            ("bs", AttrValue::Bs(vec![vec![], vec![0xff], b"hello".to_vec()])),
            ("l_empty", AttrValue::L(vec![])),
            (
                "l_nested",
                AttrValue::L(vec![
                    AttrValue::L(vec![AttrValue::Null(true)]),
                    AttrValue::M(attrs(&[("k", n("7"))])),
                    AttrValue::Empty,
                ]),
            ),
            ("m_empty", AttrValue::M(vec![])),
            (
                "m_nested",
                AttrValue::M(attrs(&[
                    ("<key>", s("&")),
                    ("a b", AttrValue::M(attrs(&[("deep", AttrValue::L(vec![AttrValue::Bool(false)]))]))),
                    ("B", AttrValue::Bs(vec![])),
                ])),
            ),
            ("empty_oneof", AttrValue::Empty),
            ("Zupper", s("sorted before lower-case names")),
        ],
    );
    snap
}

#[test]
fn ddb_attr_kinds_tree() {
    let (_tmp, tree) = extract(ddb_attr_kinds().build(), opts("ddb_attr_kinds")).unwrap();
    let body = std::fs::read_to_string(tree.join("dynamodb/kinds/items/all.json")).unwrap();
    // Go's MarshalIndent escapes HTML and the JS line separators.
    assert!(body.contains(r#""S": "\u003ca href=\"x\"\u003e\u0026amp;\u003c/a\u003e""#), "{body}");
    assert!(
        body.contains(r#""S": "日本語 \u0001\u007f\u2028\u2029\t\n\\""#)
            || body.contains(r#""S": "日本語 \u0001"#),
        "{body}"
    );
    assert!(body.contains("\"B\": \"\""), "{body}");
    assert!(body.contains("\"N\": \" -0.50e3 \""), "{body}");
    assert!(!body.ends_with('\n'));
    assert_golden("ddb_attr_kinds", &tree);
}

fn ddb_keys() -> Snap {
    let mut snap = Snap::new();
    let nums = table("num", ("n", "N"), None);
    snap.records(ddb_schema_records(&nums));
    for v in ["1.50", "-2.25", "1e-3", "0.000", "100", "12345678901234567890123456789012345678", "-7"] {
        item(&mut snap, &nums, 1, &[("n", n(v))]);
    }
    let mut legacy = table("legacy", ("n", "N"), None);
    legacy.key_encoding_version = 0;
    snap.records(ddb_schema_records(&legacy));
    // Distinct stored keys with one canonical file: the later entry wins.
    for v in ["1", "1.0", "abc", "5e-1"] {
        item(&mut snap, &legacy, 1, &[("n", n(v)), ("text", s(v))]);
    }
    let strs = table("strs", ("h", "S"), Some(("r", "S")));
    snap.records(ddb_schema_records(&strs));
    let long = "x".repeat(300);
    for (h, r) in [
        ("a b", "x/y"),
        ("~tilde", "%percent"),
        (long.as_str(), "r"),
        ("b64.foo", "0123456789abcdef0123456789abcdef__x"),
        ("日本", ""),
        ("", "in-items-dir"),
        ("h", "..."),
    ] {
        item(&mut snap, &strs, 1, &[("h", s(h)), ("r", s(r))]);
    }
    let bins = table("bins", ("k", "B"), None);
    snap.records(ddb_schema_records(&bins));
    for b in [vec![0u8, 1, 2, 3], vec![0xff, 0xfe], vec![7u8; 177], vec![7u8; 178], vec![]] {
        item(&mut snap, &bins, 1, &[("k", AttrValue::B(b))]);
    }
    let hashonly = table("hashonly", ("id", "S"), None);
    snap.records(ddb_schema_records(&hashonly));
    item(&mut snap, &hashonly, 1, &[("id", s(""))]);
    item(&mut snap, &hashonly, 1, &[("id", s(&"é".repeat(100)))]);
    snap
}

#[test]
fn ddb_keys_tree() {
    let (_tmp, tree) = extract(ddb_keys().build(), opts("ddb_keys")).unwrap();
    let items = tree.join("dynamodb/num/items");
    for f in ["3%2F2.json", "-9%2F4.json", "1%2F1000.json", "0.json", "100.json", "-7.json"] {
        assert!(items.join(f).is_file(), "{f}");
    }
    let legacy = tree.join("dynamodb/legacy/items");
    assert!(std::fs::read_to_string(legacy.join("1.json")).unwrap().contains("\"1.0\""));
    assert!(legacy.join("abc.json").is_file());
    assert!(legacy.join("1%2F2.json").is_file());
    let strs = tree.join("dynamodb/strs/items");
    assert!(strs.join("a%20b/x%2Fy.json").is_file());
    assert!(strs.join("%7Etilde/%25percent.json").is_file());
    assert!(strs.join("72ef1a090c013093607ce5a62f598cf4__b64.foo").is_dir());
    assert!(strs.join("%E6%97%A5%E6%9C%AC/.json").is_file());
    assert!(strs.join("in-items-dir.json").is_file());
    assert!(strs.join("h/....json").is_file());
    let bins = tree.join("dynamodb/bins/items");
    assert!(bins.join("b64.AAECAw.json").is_file());
    assert!(bins.join("b64.__4.json").is_file());
    assert!(bins.join("b64..json").is_file());
    assert!(tree.join("dynamodb/hashonly/items/.json").is_file());
    assert_golden("ddb_keys", &tree);
}

fn ddb_generations() -> Snap {
    let mut snap = Snap::new();
    let mut mig = table("mig", ("k", "S"), None);
    mig.generation = 5;
    mig.migrating_from_generation = 4;
    snap.records(ddb_schema_records(&mig));
    item(&mut snap, &mig, 4, &[("k", s("k1")), ("v", s("from the migration source"))]);
    item(&mut snap, &mig, 4, &[("k", s("k2")), ("v", s("only in the source"))]);
    item(&mut snap, &mig, 5, &[("k", s("k1")), ("v", s("active generation wins"))]);
    item(&mut snap, &mig, 3, &[("k", s("k9")), ("v", s("stale"))]);
    // Items whose table has no schema row: warned about, not written.
    let ghost = table("ghost", ("k", "S"), None);
    item(&mut snap, &ghost, 1, &[("k", s("boo"))]);
    // A table with no items still gets items/.
    snap.records(ddb_schema_records(&table("empty", ("k", "S"), None)));
    snap
}

#[test]
fn ddb_generations_tree() {
    let (_tmp, tree) = extract(ddb_generations().build(), opts("ddb_generations")).unwrap();
    let k1 = std::fs::read_to_string(tree.join("dynamodb/mig/items/k1.json")).unwrap();
    assert!(k1.contains("active generation wins"));
    assert!(tree.join("dynamodb/mig/items/k2.json").is_file());
    assert!(!tree.join("dynamodb/mig/items/k9.json").exists());
    assert!(!tree.join("dynamodb/ghost").exists());
    assert!(tree.join("dynamodb/empty/items").is_dir());
    assert_golden("ddb_generations", &tree);
}

/// A live node's file: several versions, tombstones, TTLs, store rows,
/// engine header and CRC footer.
fn ddb_mvcc_live() -> Vec<u8> {
    let mut snap = Snap::new();
    let mut old = table("t", ("id", "S"), None);
    old.generation = 1;
    let mut new = old.clone();
    new.generation = 2;
    for r in ddb_schema_records(&old) {
        snap.version(&r.key, T - 5, false, 0, &r.value);
    }
    for r in ddb_schema_records(&new) {
        snap.version(&r.key, T - 1, false, 0, &r.value);
    }
    let put = |snap: &mut Snap, id: &str, v: &str, ts: u64, tomb: bool, exp: u64| {
        for r in ddb_item_records(&new, &attrs(&[("id", s(id)), ("v", s(v))]), 2).unwrap() {
            snap.version(&r.key, ts, tomb, exp, &r.value);
        }
    };
    put(&mut snap, "a", "v1", T - 3, false, 0);
    put(&mut snap, "a", "v2 newest", T - 2, false, 0);
    put(&mut snap, "b", "deleted later", T - 3, false, 0);
    put(&mut snap, "b", "", T - 2, true, 0);
    put(&mut snap, "c", "expired at the snapshot", T - 3, false, T);
    put(&mut snap, "d", "expires after the snapshot", T - 3, false, T + 1);
    // An item of the old generation: stale under the newest schema.
    for r in ddb_item_records(&old, &attrs(&[("id", s("z")), ("v", s("gen 1"))]), 1).unwrap() {
        snap.version(&r.key, T - 6, false, 0, &r.value);
    }
    let mut stream = snap.build();
    // Store bookkeeping rows sort after all adapter data.
    let mut tail = Vec::new();
    for (k, v) in [(&b"_meta_applied_index"[..], 77u64), (b"_meta_last_commit_ts", T)] {
        tail.extend_from_slice(&(k.len() as u64).to_le_bytes());
        tail.extend_from_slice(k);
        tail.extend_from_slice(&8u64.to_le_bytes());
        tail.extend_from_slice(&v.to_le_bytes());
    }
    stream.extend_from_slice(&tail);
    wrap_engine_v1(&stream, (T >> 16) + 1)
}

#[test]
fn ddb_mvcc_live_tree() {
    let (_tmp, tree) = extract(ddb_mvcc_live(), opts("ddb_mvcc_live")).unwrap();
    let items = tree.join("dynamodb/t/items");
    assert!(std::fs::read_to_string(items.join("a.json")).unwrap().contains("v2 newest"));
    assert!(!items.join("b.json").exists(), "a tombstone hides the key");
    assert!(!items.join("c.json").exists(), "expired at the snapshot's commit ts");
    assert!(items.join("d.json").is_file());
    assert!(!items.join("z.json").exists(), "newest schema is generation 2");
    assert_golden("ddb_mvcc_live", &tree);

    let mut o = opts("ddb_mvcc_live");
    o.include_expired = true;
    let (_tmp2, tree2) = extract(ddb_mvcc_live(), o).unwrap();
    assert!(tree2.join("dynamodb/t/items/c.json").is_file());
}

// ---------------------------------------------------------------- S3

fn bucket(name: &[u8], gen: u64) -> BucketDef {
    BucketDef {
        name: name.to_vec(),
        generation: gen,
        created_at_hlc: T,
        owner: "alice".into(),
        region: "us-east-1".into(),
        acl: "private".into(),
    }
}

fn object(key: &[u8], gen: u64, upload: &[u8], parts: Vec<PartDef>) -> ObjectDef {
    let size: i64 = parts.iter().map(|p| p.chunks.iter().map(|c| c.len() as i64).sum::<i64>()).sum();
    ObjectDef {
        key: key.to_vec(),
        generation: gen,
        upload_id: upload.to_vec(),
        etag: "5eb63bbbe01eeed093cb22bb8f5acdc3".into(),
        size_bytes: size,
        last_modified_hlc: T + 0x7B0007,
        content_type: "application/octet-stream".into(),
        parts,
        ..Default::default()
    }
}

fn part(no: u64, chunks: &[&[u8]]) -> PartDef {
    PartDef {
        part_no: no,
        etag: format!("etag-{no}"),
        size_bytes: chunks.iter().map(|c| c.len() as i64).sum(),
        chunks: chunks.iter().map(|c| c.to_vec()).collect(),
        ..Default::default()
    }
}

const B8_SIDECAR: &str = "{\n  \"format_version\": 1,\n  \"etag\": \"5eb63bbbe01eeed093cb22bb8f5acdc3\",\n  \"size_bytes\": 11,\n  \"last_modified\": \"2024-04-29T14:13:20.123Z\",\n  \"content_type\": \"text/plain\",\n  \"user_metadata\": {\n    \"camera\": \"fx30\"\n  }\n}";

fn s3_spec_b8() -> Snap {
    let mut snap = Snap::new();
    snap.put(&s3_bucket_meta_key(b"photos"), br#"{"bucket_name":"photos","generation":2,"created_at_hlc":112354918400000000,"owner":"alice","region":"us-east-1","acl":"private"}"#);
    snap.put(&s3_bucket_gen_key(b"photos"), &2u64.to_be_bytes());
    snap.put(&s3_manifest_key(b"photos", 2, b"2026/a.txt"), br#"{"upload_id":"u1","etag":"5eb63bbbe01eeed093cb22bb8f5acdc3","size_bytes":11,"last_modified_hlc":112354918408060935,"content_type":"text/plain","user_metadata":{"camera":"fx30"},"parts":[{"part_no":1,"etag":"5eb63bbbe01eeed093cb22bb8f5acdc3","size_bytes":11,"chunk_count":2,"chunk_sizes":[6,5]}]}"#);
    snap.put(&s3_blob_key(b"photos", 2, b"2026/a.txt", b"u1", 1, 0, None), b"hello ");
    snap.put(&s3_blob_key(b"photos", 2, b"2026/a.txt", b"u1", 1, 1, None), b"world");
    snap.put(&s3_blob_key(b"photos", 2, b"2026/a.txt", b"u0", 1, 0, None), b"stale");
    snap.put(&s3_manifest_key(b"photos", 2, b"2026"), br#"{"upload_id":"u2","etag":"d41d8cd98f00b204e9800998ecf8427e","size_bytes":0,"last_modified_hlc":112354918400000000,"content_type":"application/octet-stream"}"#);
    snap.put(&s3_manifest_key(b"photos", 1, b"old.txt"), br#"{"upload_id":"u9","size_bytes":0}"#);
    snap.put(&s3_route_key(b"photos", 2, b"2026/a.txt"), b"route");
    snap
}

#[test]
fn s3_spec_b8_tree() {
    let (_tmp, tree) = extract(s3_spec_b8().build(), opts("s3_spec_b8")).unwrap();
    let b = tree.join("s3/photos");
    assert_eq!(
        std::fs::read_to_string(b.join("_bucket.json")).unwrap(),
        "{\n  \"format_version\": 1,\n  \"name\": \"photos\",\n  \"owner\": \"alice\",\n  \"region\": \"us-east-1\",\n  \"acl\": \"private\"\n}"
    );
    assert_eq!(std::fs::read(b.join("2026/a.txt")).unwrap(), b"hello world");
    assert_eq!(std::fs::read_to_string(b.join("2026/a.txt.elastickv-meta.json")).unwrap(), B8_SIDECAR);
    assert_eq!(std::fs::read(b.join("2026.elastickv-leaf-data")).unwrap(), b"");
    assert_eq!(
        std::fs::read_to_string(b.join("2026.elastickv-leaf-data.elastickv-meta.json")).unwrap(),
        "{\n  \"format_version\": 1,\n  \"etag\": \"d41d8cd98f00b204e9800998ecf8427e\",\n  \"size_bytes\": 0,\n  \"last_modified\": \"2024-04-29T14:13:20Z\",\n  \"content_type\": \"application/octet-stream\"\n}"
    );
    assert_eq!(
        std::fs::read_to_string(b.join("KEYMAP.jsonl")).unwrap(),
        "{\"encoded\":\"2026.elastickv-leaf-data\",\"original\":\"MjAyNg\",\"kind\":\"s3-leaf-data\"}\n"
    );
    assert!(!b.join("old.txt").exists());
    assert_golden("s3_spec_b8", &tree);
}

fn s3_objects() -> Snap {
    let mut snap = Snap::new();
    snap.records(s3_bucket_records(&bucket(b"media", 1)));
    // Multipart, parts written out of order, part 2 re-uploaded (version
    // 7 declared; version 3 leftovers must be ignored), a stale upload.
    let mut p2 = part(2, &[b"PART2-A|", b"PART2-B|"]);
    p2.part_version = 7;
    let p1 = part(1, &[b"PART1-A|", b"PART1-B|", b"PART1-C|"]);
    let big = object(b"big.bin", 1, b"mp9", vec![p2, p1]);
    snap.records(s3_object_records(b"media", &big));
    snap.put(&s3_blob_key(b"media", 1, b"big.bin", b"mp9", 2, 0, Some(3)), b"OLD-VERSION");
    snap.put(&s3_blob_key(b"media", 1, b"big.bin", b"mp8", 1, 0, None), b"STALE-UPLOAD");
    // Offloaded chunks (chunkref + chunkblob), one of them shared.
    let mut off = part(1, &[b"hello ", b"world", b"hello "]);
    off.offloaded = true;
    off.chunk_ref_version = 4;
    snap.records(s3_object_records(b"media", &object(b"offloaded.txt", 1, b"u1", vec![off])));
    // Zero-byte object, object with every header, non-ASCII key.
    snap.records(s3_object_records(b"media", &object(b"empty", 1, b"u3", vec![])));
    let mut full = object(b"docs/\xe5\xa0\xb1\xe5\x91\x8a 1.txt", 1, b"u4", vec![part(1, &[b"report"])]);
    full.content_type = "text/html; charset=<utf-8>".into();
    full.content_encoding = "gzip".into();
    full.cache_control = "max-age=60".into();
    full.content_disposition = "attachment; filename=\"r&d.txt\"".into();
    full.user_metadata = vec![("zeta".into(), "last".into()), ("alpha".into(), "first & <best>".into())];
    snap.records(s3_object_records(b"media", &full));
    // File-vs-directory: a, a/b and a/b/c all exist.
    for k in [&b"a"[..], b"a/b", b"a/b/c"] {
        snap.records(s3_object_records(b"media", &object(k, 1, b"u5", vec![part(1, &[k])])));
    }
    // An empty upload id in the manifest means "no upload filter".
    let mut nofilter = object(b"nofilter", 1, b"", vec![part(1, &[b"any upload"])]);
    nofilter.upload_id = b"whatever".to_vec();
    let recs = s3_object_records(b"media", &nofilter);
    for r in recs {
        if r.key.starts_with(b"!s3|obj|head|") {
            let v = String::from_utf8(r.value)
                .unwrap()
                .replace("\"upload_id\":\"whatever\"", "\"upload_id\":\"\"");
            snap.put(&r.key, v.as_bytes());
        } else {
            snap.put(&r.key, &r.value);
        }
    }
    // A bucket whose name needs escaping and holds a NUL byte.
    snap.records(s3_bucket_records(&bucket(b"odd\x00name", 1)));
    snap.records(s3_object_records(b"odd\x00name", &object(b"k", 1, b"u", vec![part(1, &[b"v"])])));
    snap
}

#[test]
fn s3_objects_tree() {
    let (_tmp, tree) = extract(s3_objects().build(), opts("s3_objects")).unwrap();
    let b = tree.join("s3/media");
    assert_eq!(std::fs::read(b.join("big.bin")).unwrap(), b"PART1-A|PART1-B|PART1-C|PART2-A|PART2-B|");
    assert_eq!(std::fs::read(b.join("offloaded.txt")).unwrap(), b"hello worldhello ");
    assert_eq!(std::fs::read(b.join("empty")).unwrap(), b"");
    assert_eq!(std::fs::read(b.join("docs/報告 1.txt")).unwrap(), b"report");
    assert_eq!(std::fs::read(b.join("a.elastickv-leaf-data")).unwrap(), b"a");
    assert_eq!(std::fs::read(b.join("a/b.elastickv-leaf-data")).unwrap(), b"a/b");
    assert_eq!(std::fs::read(b.join("a/b/c")).unwrap(), b"a/b/c");
    assert_eq!(std::fs::read(b.join("nofilter")).unwrap(), b"any upload");
    let keymap = std::fs::read_to_string(b.join("KEYMAP.jsonl")).unwrap();
    assert_eq!(keymap.lines().count(), 2);
    assert!(keymap.starts_with("{\"encoded\":\"a.elastickv-leaf-data\""));
    let side = std::fs::read_to_string(b.join("docs/報告 1.txt.elastickv-meta.json")).unwrap();
    assert!(side.contains("\"alpha\": \"first \\u0026 \\u003cbest\\u003e\""), "{side}");
    assert!(tree.join("s3/odd%00name/k").is_file());
    assert_golden("s3_objects", &tree);
}

fn s3_options() -> Snap {
    let mut snap = Snap::new();
    snap.records(s3_bucket_records(&bucket(b"opt", 2)));
    snap.records(s3_object_records(
        b"opt",
        &object(b"x.elastickv-meta.json", 2, b"u", vec![part(1, &[b"user data"])]),
    ));
    snap.records(s3_object_records(b"opt", &object(b"x", 2, b"u", vec![part(1, &[b"x body"])])));
    // Chunks with no manifest, and a whole stale generation.
    snap.put(&s3_blob_key(b"opt", 2, b"lost/key", b"up", 1, 0, None), b"orphan chunk 0");
    snap.put(&s3_blob_key(b"opt", 2, b"lost/key", b"up", 1, 1, Some(9)), b"orphan chunk 1");
    snap.records(s3_object_records(b"opt", &object(b"old", 1, b"u", vec![part(1, &[b"old generation"])])));
    // In-flight multipart upload rows.
    snap.put(
        &s3_upload_meta_key(b"opt", 2, b"pending", b"mp1"),
        br#"{"bucket":"opt","object":"pending","generation":2,"upload_id":"mp1","created_hlc":1}"#,
    );
    snap.put(
        &s3_upload_part_key(b"opt", 2, b"pending", b"mp1", 1),
        br#"{"part_no":1,"etag":"e","size_bytes":3,"chunk_count":1}"#,
    );
    // A bucket with no meta row: every generation is live; the highest
    // generation of a key wins its path.
    snap.records(s3_object_records(b"nometa", &object(b"k", 1, b"u", vec![part(1, &[b"gen 1"])])));
    snap.records(s3_object_records(b"nometa", &object(b"k", 3, b"u", vec![part(1, &[b"gen 3"])])));
    snap
}

#[test]
fn s3_options_trees() {
    // Without options the reserved suffix is an error, as upstream.
    let err = extract(s3_options().build(), opts("s3_options")).unwrap_err();
    assert!(err.contains("metadata sidecar suffix"), "{err}");

    let mut o = opts("s3_options");
    o.rename_collisions = true;
    o.include_orphans = true;
    o.include_incomplete_uploads = true;
    let (_tmp, tree) = extract(s3_options().build(), o).unwrap();
    let b = tree.join("s3/opt");
    assert_eq!(std::fs::read(b.join("x.elastickv-meta.json.user-data")).unwrap(), b"user data");
    assert_eq!(std::fs::read(b.join("x")).unwrap(), b"x body");
    assert_eq!(
        std::fs::read(
            b.join("_orphans/lost%2Fkey/gen-2/up_0000000000000001_0000000000000000_0000000000000000.bin")
        )
        .unwrap(),
        b"orphan chunk 0"
    );
    assert!(b
        .join("_orphans/lost%2Fkey/gen-2/up_0000000000000001_0000000000000001_0000000000000009.bin")
        .is_file());
    assert!(b.join("_orphans/old/gen-1/u_0000000000000001_0000000000000000_0000000000000000.bin").is_file());
    let records = std::fs::read_to_string(b.join("_incomplete_uploads/records.jsonl")).unwrap();
    assert_eq!(records.lines().count(), 2);
    assert!(records.starts_with("{\"prefix\":\"!s3|upload|meta|\",\"key\":\""));
    assert_eq!(std::fs::read(tree.join("s3/nometa/k")).unwrap(), b"gen 3");
    let manifest = std::fs::read_to_string(tree.join("MANIFEST.json")).unwrap();
    assert!(manifest.contains("\"rename_s3_collisions\": true"));
    assert_golden("s3_options", &tree);
}
