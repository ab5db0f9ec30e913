//! Byte-level fixtures: tiny trees and the exact `.fsm` bytes `pack.md` §5
//! says they become, spelled out here from the spec (not from fsmfs's
//! encoders): the `EKVPBBL1` header with `u64le(T)`, entries sorted by the
//! full encoded key (suffix `u64be(^T)` included), little-endian lengths,
//! the zeroed 9-byte value header, big-endian integers inside keys, and the
//! sidecar's SHA-256 of exactly those bytes.

use crate::common::pack::*;

const T: u64 = SPEC_T;

fn header() -> Vec<u8> {
    hex("45 4b 56 50 42 42 4c 31  03 00 00 94 18 d1 8f 01")
}

#[test]
fn empty_tree_is_the_bare_header() {
    let got = pack_files(&[]);
    assert_eq!(show(&got), "454b565042424c310300009418d18f01");
    // The same with empty adapter directories.
    let tmp = tempfile::tempdir().unwrap();
    let tree = tmp.path().join("t");
    make_tree(&tree, T, &[]);
    std::fs::create_dir_all(tree.join("dynamodb")).unwrap();
    std::fs::create_dir_all(tree.join("s3")).unwrap();
    let out = tmp.path().join("o.fsm");
    pack_lib(&tree, &out).unwrap();
    assert_eq!(std::fs::read(&out).unwrap(), header());
}

const ORDERS_SCHEMA: &str = r#"{
  "format_version": 1,
  "table_name": "Orders",
  "primary_key": {
    "hash_key": {
      "name": "pk",
      "type": "S"
    },
    "range_key": {
      "name": "sk",
      "type": "N"
    }
  },
  "attribute_definitions": [
    {
      "name": "pk",
      "type": "S"
    },
    {
      "name": "sk",
      "type": "N"
    }
  ]
}"#;

const ORDERS_ITEM: &str = r#"{
  "pk": {
    "S": "u1"
  },
  "sk": {
    "N": "7"
  }
}"#;

/// §8.2 and §8.3 examples: the schema row, the generation counter and the
/// item row, in key order (`!ddb|item|` < `!ddb|meta|gen|` < `!ddb|meta|table|`).
#[test]
fn dynamodb_spec_examples() {
    let got = pack_files(&[
        ("dynamodb/Orders/_schema.json", ORDERS_SCHEMA.as_bytes()),
        ("dynamodb/Orders/items/u1/7.json", ORDERS_ITEM.as_bytes()),
    ]);
    let item_key = [&b"!ddb|item|T3JkZXJz|1|"[..], &hex("75 31 00 01  02 02 01 01 00 FF 37 00 01")].concat();
    let item_val = hex("00 44 49 01 0a 0a 0a 02 70 6b 12 04 0a 02 75 31 0a 09 0a 02 73 6b 12 03 12 01 37");
    let schema_val =
        hex("00 44 53 01  0a 06 4f 72 64 65 72 73  12 07 0a 02 70 6b 12 01 53  12 07 0a 02 73 6b 12 01 4e
         1a 08 0a 02 70 6b 12 02 73 6b  28 02  38 01");
    let want = [
        header(),
        entry(&item_key, &item_val),
        entry(b"!ddb|meta|gen|T3JkZXJz", b"1"),
        entry(b"!ddb|meta|table|T3JkZXJz", &schema_val),
    ]
    .concat();
    assert_eq!(show(&got), show(&want));
    // Spot-check the framing of the first entry literally.
    assert_eq!(show(&got[16..24]), "2a00000000000000", "K = 34 + 8, little-endian");
    assert_eq!(show(&got[58..66]), "fe702ee76bfffffc", "suffix = u64be(^T)");
    assert_eq!(show(&got[66..83]), "2400000000000000000000000000000000", "V = 27 + 9, zero header");
}

fn hash_only_schema(name: &str) -> String {
    format!(
        r#"{{
  "format_version": 1,
  "table_name": "{name}",
  "primary_key": {{
    "hash_key": {{
      "name": "k",
      "type": "S"
    }},
    "range_key": {{}}
  }},
  "attribute_definitions": [
    {{
      "name": "k",
      "type": "S"
    }}
  ]
}}"#
    )
}

/// §5.3: sorting is by the whole encoded key. `b64u("abc") = "YWJj"` is a
/// prefix of `b64u("abcd") = "YWJjZA"`; the suffix of "abc"'s keys starts
/// `FE`, above `Z` (0x5A), so every "abcd" row comes first.
#[test]
fn full_key_order_puts_the_longer_table_first() {
    let (abc, abcd) = (hash_only_schema("abc"), hash_only_schema("abcd"));
    let got = pack_files(&[
        ("dynamodb/abc/_schema.json", abc.as_bytes()),
        ("dynamodb/abcd/_schema.json", abcd.as_bytes()),
    ]);
    let schema = |name: &[u8]| {
        [
            &hex("00 44 53 01 0a")[..],
            &[name.len() as u8],
            name,
            &hex("12 06 0a 01 6b 12 01 53  1a 03 0a 01 6b  28 02  38 01"),
        ]
        .concat()
    };
    let want = [
        header(),
        entry(b"!ddb|meta|gen|YWJjZA", b"1"),
        entry(b"!ddb|meta|gen|YWJj", b"1"),
        entry(b"!ddb|meta|table|YWJjZA", &schema(b"abcd")),
        entry(b"!ddb|meta|table|YWJj", &schema(b"abc")),
    ]
    .concat();
    assert_eq!(show(&got), show(&want));
}

/// §9.2 and §9.4: bucket meta and counter, one blob chunk with the
/// big-endian generation/part/chunk numbers, the manifest.
#[test]
fn s3_bucket_and_object() {
    let bucket = br#"{
  "format_version": 1,
  "name": "b"
}"#;
    let side = br#"{
  "format_version": 1,
  "etag": "e",
  "size_bytes": 2,
  "last_modified": "2024-06-01T00:00:00.5Z"
}"#;
    let got =
        pack_files(&[("s3/b/_bucket.json", bucket), ("s3/b/k", b"hi"), ("s3/b/k.elastickv-meta.json", side)]);
    let blob_key = [
        &b"!s3|blob|"[..],
        &hex("62 00 01  00 00 00 00 00 00 00 01  6b 00 01"),
        b"elastickv-restore",
        &hex("00 01  00 00 00 00 00 00 00 01  00 00 00 00 00 00 00 00"),
    ]
    .concat();
    let head_key = [&b"!s3|obj|head|"[..], &hex("62 00 01  00 00 00 00 00 00 00 01  6b 00 01")].concat();
    // 2024-06-01T00:00:00.5Z = 1717200000500 ms, << 16.
    let manifest = format!(
        r#"{{"upload_id":"elastickv-restore","etag":"e","size_bytes":2,"last_modified_hlc":{},"content_type":"","content_encoding":"","cache_control":"","content_disposition":"","user_metadata":null,"parts":[{{"part_no":1,"etag":"e","size_bytes":2,"chunk_count":1,"chunk_sizes":[2],"part_version":0,"chunk_ref_version":0,"offloaded":false}}]}}"#,
        1_717_200_000_500u64 << 16
    );
    let want = [
        header(),
        entry(&blob_key, b"hi"),
        entry(&[&b"!s3|bucket|gen|"[..], &hex("62 00 01")].concat(), &hex("00 00 00 00 00 00 00 01")),
        entry(
            &[&b"!s3|bucket|meta|"[..], &hex("62 00 01")].concat(),
            br#"{"bucket_name":"b","generation":1,"created_at_hlc":0,"owner":"","region":"","acl":""}"#,
        ),
        entry(&head_key, manifest.as_bytes()),
    ]
    .concat();
    assert_eq!(show(&got), show(&want));
}

/// `--last-commit-ts` replaces T in the header and in every key suffix.
#[test]
fn last_commit_ts_override_stamps_everything() {
    let tmp = tempfile::tempdir().unwrap();
    let tree = tmp.path().join("tree");
    make_tree(&tree, 5, &[("dynamodb/abc/_schema.json", hash_only_schema("abc").as_bytes())]);
    let out = tmp.path().join("o.fsm");
    let o = run(&["pack", "--last-commit-ts", "0x10002", tree.to_str().unwrap(), out.to_str().unwrap()]);
    assert!(o.status.success(), "{}", stderr(&o));
    let got = std::fs::read(&out).unwrap();
    assert_eq!(show(&got[8..16]), "0200010000000000");
    let suffix = (!0x10002u64).to_be_bytes();
    assert_eq!(got.windows(8).filter(|w| *w == suffix).count(), 2, "both keys carry ^T");
    let info: serde_json::Value =
        serde_json::from_slice(&std::fs::read(tmp.path().join("o.fsm.encode_info.json")).unwrap()).unwrap();
    assert_eq!(info["last_commit_ts"], 0x10002);
    assert_eq!(info["manifest_last_commit_ts"], 5);
    assert_eq!(info["last_commit_ts_overridden"], true);
}
