//! Redis golden trees: the spec's worked example (`redis-sqs.md` §6.1)
//! with its printed bytes asserted literally, then one snapshot per type
//! (TTL sources, binary keys and values, empty collections, SHA-fallback
//! names, several versions, expired entries), each compared byte for byte
//! with a checked-in copy under `tests/golden/`.

mod common;

use common::*;
use fsmfs::adapters::encode_redis::*;
use fsmfs::index::{DecodeOptions, Index};

const TTL1: u64 = 1_735_689_600_000;

/// The entries of §6.1, in the order the table lists them.
fn spec_61() -> Snap {
    let mut s = Snap::new();
    let user = b"user:1";
    s.put(&hash_field_key(user, b"age"), b"30");
    s.put(&hash_field_key(user, b"name"), b"alice");
    s.put(&hash_field_key(user, b"\xff"), b"x<y");
    s.put(&hash_meta_key(user), &count_meta_value(3, Some(TTL1)));
    s.put(&delta_key(HASH_DELTA_PREFIX, user, T, 0), &delta_value(1));
    let jobs = b"queue:jobs";
    s.put(&list_claim_key(jobs, -2), b"");
    s.put(&list_item_key(jobs, -1), b"job-0");
    s.put(&list_item_key(jobs, 0), b"job-1");
    s.put(&list_item_key(jobs, 1), b"job-2");
    s.put(&list_meta_key(jobs), &list_meta_value(-1, 2, 3, None));
    s.put(
        &hll_key(b"pf:uniq"),
        &hll_value(&[0x00, 0x52, 0x53, 0x01, 0x0a, 0x01, 0x61, 0x0a, 0x01, 0x62], Some(TTL1)),
    );
    s.put(&string_key(b"bin\x00key"), &[0x00, 0xff]);
    s.put(&string_key(b"counter"), b"42");
    s.put(&string_key(&[b'k'; 250]), &string_value(b"long", None));
    s.put(&string_key(b"plain"), &string_value(b"v", None));
    s.put(&string_key(b"session:abc"), &string_value(b"hello", Some(TTL1)));
    for (k, ms) in [
        (&b"counter"[..], 1_735_689_610_500u64),
        (b"events", 1_735_690_000_000),
        (b"nothing", TTL1),
        (b"oldz", 1_735_689_900_000),
        (b"pf:uniq", TTL1),
        (b"plain", 1_700_000_000_000),
        (b"queue:jobs", 1_735_689_700_000),
        (b"tags:p1", 1_735_689_800_000),
        (b"tags:p2", 1_735_689_800_000),
        (b"user:1", TTL1),
    ] {
        s.put(&ttl_key(k), &ttl_value(ms));
    }
    s.put(&zset_blob_key(b"oldz"), &zset_blob_value(&[(b"x", 1.5), (b"y", -2.0)]));
    s.put(&stream_entry_key(b"ghost", 5, 0), &stream_entry_value("5-0", &[b"f", b"v"]));
    s.put(
        &stream_entry_key(b"events", 1_714_400_000_000, 0),
        &stream_entry_value("1714400000000-0", &[b"event", b"login", b"user", b"alice"]),
    );
    s.put(
        &stream_entry_key(b"events", 1_714_400_000_001, 0),
        &stream_entry_value("1714400000001-0", &[b"event", b"logout", b"user", b"alice"]),
    );
    s.put(&stream_meta_key(b"events"), &stream_meta_value(2, 1_714_400_000_001, 0, None, None));
    for m in [&b"blue"[..], b"green", b"red"] {
        s.put(&set_member_key(b"tags:p1", m), b"");
    }
    s.put(&set_member_key(b"tags:p2", b"x"), b"");
    s.put(&set_meta_key(b"tags:p1"), &count_meta_value(3, Some(0)));
    s.put(&set_meta_key(b"tags:p2"), &count_meta_value(2, None));
    let board: [(&[u8], f64); 5] =
        [(b"alice", 100.0), (b"bob", 85.5), (b"carol", f64::INFINITY), (b"dave", 1e21), (b"eve", 1.25e-7)];
    for (m, sc) in board {
        s.put(&zset_member_key(b"leaderboard", m), &zset_score_value(sc));
        s.put(&zset_score_key(b"leaderboard", sc, m), b"");
    }
    s.put(&zset_meta_key(b"leaderboard"), &count_meta_value(5, None));
    s
}

fn read(tree: &std::path::Path, p: &str) -> String {
    String::from_utf8(std::fs::read(tree.join(p)).unwrap_or_else(|e| panic!("{p}: {e}"))).unwrap()
}

#[test]
fn spec_61_worked_example() {
    let snap = spec_61();
    let index = Index::from_bytes(snap.build(), opts("redis_spec_61")).unwrap();
    assert_eq!(index.counts.redis, 48);
    let events: Vec<String> = index.warnings.iter().map(|w| w.to_string()).collect();
    // Upstream's warnings, plus one it cannot give: user:1's delta row (+1)
    // makes the declared length 4 while 3 fields exist.
    assert!(
        events[0]
            .starts_with("event=redis_hash_length_mismatch user_key_len=6 declared_len=4 observed_fields=3"),
        "{events:?}"
    );
    assert!(events[1]
        .starts_with("event=redis_set_length_mismatch user_key_len=7 declared_len=2 observed_members=1"));
    assert!(events[2]
        .starts_with("event=redis_stream_orphan_entries_without_meta user_key_len=5 observed_entries=1"));
    assert!(events[3].starts_with("event=redis_orphan_ttl count=1"), "{events:?}");
    assert_eq!(events.len(), 4, "{events:?}");

    let (_tmp, tree) = extract(snap.build(), opts("redis_spec_61")).unwrap();
    let db = tree.join("redis/db_0");
    let mut names: Vec<String> = walk_files(&db);
    names.sort();
    let long = format!("strings/b2c715564e4cfe3ed19da5b49dbb2931__{}.bin", "k".repeat(64));
    let mut want = vec![
        "KEYMAP.jsonl",
        "hashes/user%3A1.json",
        "hll/pf%3Auniq.bin",
        "hll_ttl.jsonl",
        "lists/queue%3Ajobs.json",
        "sets/tags%3Ap1.json",
        "sets/tags%3Ap2.json",
        "streams/events.jsonl",
        &long,
        "strings/bin%00key.bin",
        "strings/counter.bin",
        "strings/plain.bin",
        "strings/session%3Aabc.bin",
        "strings_ttl.jsonl",
        "zsets/leaderboard.json",
        "zsets/oldz.json",
    ];
    want.sort();
    assert_eq!(names, want);
    let bin = |p: &str| std::fs::read(db.join(p)).unwrap();
    assert_eq!(bin("strings/session%3Aabc.bin"), b"hello");
    assert_eq!(bin("strings/counter.bin"), b"42");
    assert_eq!(bin("strings/plain.bin"), b"v");
    assert_eq!(bin("strings/bin%00key.bin"), [0x00, 0xff]);
    assert_eq!(bin(&long), b"long");
    assert_eq!(bin("hll/pf%3Auniq.bin"), [0x00, 0x52, 0x53, 0x01, 0x0a, 0x01, 0x61, 0x0a, 0x01, 0x62]);
    assert_eq!(
        read(&db, "strings_ttl.jsonl"),
        "{\"key\":\"session%3Aabc\",\"expire_at_ms\":1735689600000}\n{\"key\":\"counter\",\"expire_at_ms\":1735689610500}\n"
    );
    assert_eq!(read(&db, "hll_ttl.jsonl"), "{\"key\":\"pf%3Auniq\",\"expire_at_ms\":1735689600000}\n");
    let original = fsmfs::keys::segment::b64url_nopad(&[b'k'; 250]);
    assert_eq!(
        read(&db, "KEYMAP.jsonl"),
        format!(
            "{{\"encoded\":\"b2c715564e4cfe3ed19da5b49dbb2931__{}\",\"original\":\"{original}\",\"kind\":\"sha-fallback\"}}\n",
            "k".repeat(64)
        )
    );
    assert!(original.starts_with("a2tra2tra2tr") && original.ends_with("a2traw"));
    assert_eq!(
        read(&db, "hashes/user%3A1.json"),
        r#"{
  "format_version": 1,
  "fields": [
    {
      "name": "age",
      "value": "30"
    },
    {
      "name": "name",
      "value": "alice"
    },
    {
      "name": {
        "base64": "_w"
      },
      "value": "x\u003cy"
    }
  ],
  "expire_at_ms": 1735689600000
}"#
    );
    assert_eq!(
        read(&db, "lists/queue%3Ajobs.json"),
        "{\n  \"format_version\": 1,\n  \"items\": [\n    \"job-0\",\n    \"job-1\",\n    \"job-2\"\n  ],\n  \"expire_at_ms\": 1735689700000\n}"
    );
    assert_eq!(
        read(&db, "sets/tags%3Ap1.json"),
        "{\n  \"format_version\": 1,\n  \"members\": [\n    \"blue\",\n    \"green\",\n    \"red\"\n  ],\n  \"expire_at_ms\": null\n}"
    );
    assert_eq!(
        read(&db, "sets/tags%3Ap2.json"),
        "{\n  \"format_version\": 1,\n  \"members\": [\n    \"x\"\n  ],\n  \"expire_at_ms\": 1735689800000\n}"
    );
    assert_eq!(
        read(&db, "zsets/leaderboard.json"),
        r#"{
  "format_version": 1,
  "members": [
    {
      "member": "alice",
      "score": 100
    },
    {
      "member": "bob",
      "score": 85.5
    },
    {
      "member": "carol",
      "score": "+inf"
    },
    {
      "member": "dave",
      "score": 1e+21
    },
    {
      "member": "eve",
      "score": 1.25e-7
    }
  ],
  "expire_at_ms": null
}"#
    );
    assert_eq!(
        read(&db, "zsets/oldz.json"),
        r#"{
  "format_version": 1,
  "members": [
    {
      "member": "x",
      "score": 1.5
    },
    {
      "member": "y",
      "score": -2
    }
  ],
  "expire_at_ms": 1735689900000
}"#
    );
    assert_eq!(
        read(&db, "streams/events.jsonl"),
        concat!(
            "{\"id\":\"1714400000000-0\",\"fields\":[{\"name\":\"event\",\"value\":\"login\"},{\"name\":\"user\",\"value\":\"alice\"}]}\n",
            "{\"id\":\"1714400000001-0\",\"fields\":[{\"name\":\"event\",\"value\":\"logout\"},{\"name\":\"user\",\"value\":\"alice\"}]}\n",
            "{\"_meta\":true,\"length\":2,\"last_ms\":1714400000001,\"last_seq\":0,\"expire_at_ms\":1735690000000}\n"
        )
    );
    assert_golden("redis_spec_61", &tree);
}

/// Relative paths of every file under `root`.
fn walk_files(root: &std::path::Path) -> Vec<String> {
    read_tree(root).into_iter().filter(|(_, n)| matches!(n, Node::File { .. })).map(|(p, _)| p).collect()
}

#[allow(dead_code)]
fn no_options() -> DecodeOptions {
    DecodeOptions::default()
}
