//! Redis golden trees: the spec's worked example (`redis-sqs.md` §6.1)
//! with its printed bytes asserted literally, then one snapshot per type
//! (TTL sources, binary keys and values, empty collections, SHA-fallback
//! names, several versions, expired entries), each compared byte for byte
//! with a checked-in copy under `tests/golden/`.

use fsmfs::index::Index;

use crate::common::redis_sqs::*;
use crate::common::snap::*;

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
}

/// Relative paths of every file under `root`.
fn walk_files(root: &std::path::Path) -> Vec<String> {
    read_tree(root).into_iter().filter(|(_, n)| matches!(n, Node::File { .. })).map(|(p, _)| p).collect()
}

/// Every Redis case against its golden tree.
#[test]
fn redis_goldens() {
    for c in all().into_iter().filter(|c| c.name.starts_with("redis_")) {
        let (_tmp, tree) = extract(c.snap.build(), c.opts).unwrap_or_else(|e| panic!("{}: {e}", c.name));
        assert_golden(c.name, &tree);
    }
}

fn warnings_of(snap: &Snap) -> Vec<String> {
    let index = Index::from_bytes(snap.build(), opts("w")).unwrap();
    index.warnings.iter().map(|w| w.to_string()).collect()
}

/// `docs/compatibility.md`: where fsmfs deliberately differs, one check
/// each.
#[test]
fn deliberate_differences() {
    // Deltas count toward the declared length: a compacted-looking hash
    // with an outstanding delta is consistent; a delta-only length is
    // checked too.
    let w = warnings_of(&redis_hashes());
    assert!(!w.iter().any(|w| w.contains("user_key_len=11 ")), "with_deltas: {w:?}");
    assert!(w
        .iter()
        .any(|w| w.contains("redis_hash_length_mismatch user_key_len=6 declared_len=5 observed_fields=1")));
    let w = warnings_of(&redis_lists());
    assert!(!w.iter().any(|w| w.contains("list_length_mismatch")), "{w:?}");
    // A list whose key starts with `d|` keeps its meta (TTL and length).
    let (_t, tree) = extract(redis_lists().build(), opts("l")).unwrap();
    let dx = std::fs::read_to_string(tree.join("redis/db_0/lists/d%7Cx.json")).unwrap();
    assert!(dx.ends_with("\"expire_at_ms\": 1735689600001\n}"), "{dx}");
    // KEYMAP lines are not repeated (upstream writes the long key's line
    // for the blob and again for its TTL line).
    let (_t, tree) = extract(redis_strings().build(), opts("s")).unwrap();
    let km = std::fs::read_to_string(tree.join("redis/db_0/KEYMAP.jsonl")).unwrap();
    let lines: Vec<&str> = km.lines().collect();
    let mut unique = lines.clone();
    unique.sort();
    unique.dedup();
    assert_eq!((lines.len(), unique.len()), (4, 4), "{km}");
    // Newest version wins; tombstones and expired versions hide keys.
    let (_t, tree) = extract(redis_versions().build(), opts("v")).unwrap();
    let db = tree.join("redis/db_0");
    assert_eq!(std::fs::read(db.join("strings/mv.bin")).unwrap(), b"new");
    assert!(!db.join("strings/del.bin").exists());
    assert!(!db.join("strings/expired.bin").exists());
    // Streams that all lack meta leave no empty `streams/` directory.
    let mut s = Snap::new();
    s.put(
        &fsmfs::adapters::redis::records::stream_entry_key(b"o", 1, 0),
        &fsmfs::adapters::redis::records::stream_entry_value("1-0", &[]),
    );
    s.put(&fsmfs::adapters::redis::records::string_key(b"x"), b"x");
    let (_t, tree) = extract(s.build(), opts("e")).unwrap();
    assert!(tree.join("redis/db_0/strings").is_dir());
    assert!(!tree.join("redis/db_0/streams").exists());
}

#[test]
fn warnings_name_upstream_events() {
    let w = warnings_of(&redis_streams());
    assert_eq!(
        w.iter().map(|w| w.split(' ').next().unwrap()).collect::<Vec<_>>(),
        ["event=redis_stream_orphan_entries_without_meta", "event=redis_stream_length_mismatch",],
        "{w:?}"
    );
    assert!(w[1]
        .starts_with("event=redis_stream_length_mismatch user_key_len=4 declared_len=5 observed_entries=3"));
    let w = warnings_of(&redis_zsets());
    assert!(
        w.iter()
            .any(|w| w
                .contains("redis_zset_length_mismatch user_key_len=6 declared_len=13 observed_members=12")),
        "{w:?}"
    );
    let w = warnings_of(&redis_sets());
    assert!(w.iter().any(|w| w.contains("redis_set_length_mismatch user_key_len=1 declared_len=0 observed_members=1")), "{w:?}");
    let w = warnings_of(&spec_61());
    assert!(w.last().unwrap().starts_with("event=redis_orphan_ttl count=1"));
}

/// Collections of 100k members against a plain reference rendering, and
/// ranged reads against the whole file.
#[test]
fn huge_collections_match_a_reference() {
    use fsmfs::adapters::redis::records::*;
    let n: i64 = 100_000;
    let mut s = Snap::new();
    // Names that are prefixes of each other ("1" < "10" < "100"), in an
    // order unlike the snapshot's.
    let mut names: Vec<Vec<u8>> = (0..n).map(|i| ((i * 7919) % n).to_string().into_bytes()).collect();
    for (i, name) in names.iter().enumerate() {
        s.put(&hash_field_key(b"h", name), format!("v<{i}>").as_bytes());
        s.put(&set_member_key(b"s", name), b"");
        s.put(&zset_member_key(b"z", name), &zset_score_value(i as f64 * 0.25));
    }
    for seq in -n / 2..n / 2 {
        s.put(&list_item_key(b"l", seq), format!("i{seq}").as_bytes());
    }
    s.put(&stream_meta_key(b"x"), &stream_meta_value(n as u64, 0, 0, None, None));
    for i in 0..n as u64 {
        s.put(
            &stream_entry_key(b"x", i / 3, i % 3),
            &stream_entry_value("", &[b"k", i.to_string().as_bytes()]),
        );
    }
    let value_of: std::collections::HashMap<Vec<u8>, usize> =
        names.iter().enumerate().map(|(i, k)| (k.clone(), i)).collect();
    names.sort();

    let doc = |array: &str, items: Vec<String>| {
        if items.is_empty() {
            return format!("{{\n  \"format_version\": 1,\n  \"{array}\": [],\n  \"expire_at_ms\": null\n}}");
        }
        format!(
            "{{\n  \"format_version\": 1,\n  \"{array}\": [\n{}\n  ],\n  \"expire_at_ms\": null\n}}",
            items.join(",\n")
        )
    };
    let name = |k: &[u8]| String::from_utf8(k.to_vec()).unwrap();
    let want_hash = doc(
        "fields",
        names
            .iter()
            .map(|k| {
                format!(
                    "    {{\n      \"name\": \"{}\",\n      \"value\": \"v\\u003c{}\\u003e\"\n    }}",
                    name(k),
                    value_of[k]
                )
            })
            .collect(),
    );
    let want_set = doc("members", names.iter().map(|k| format!("    \"{}\"", name(k))).collect());
    let want_zset = doc(
        "members",
        names
            .iter()
            .map(|k| {
                format!(
                    "    {{\n      \"member\": \"{}\",\n      \"score\": {}\n    }}",
                    name(k),
                    value_of[k] as f64 * 0.25
                )
            })
            .collect(),
    );
    let want_list = doc("items", (-n / 2..n / 2).map(|q| format!("    \"i{q}\"")).collect());
    let mut want_stream: String = (0..n as u64)
        .map(|i| {
            format!("{{\"id\":\"{}-{}\",\"fields\":[{{\"name\":\"k\",\"value\":\"{i}\"}}]}}\n", i / 3, i % 3)
        })
        .collect();
    want_stream.push_str(&format!(
        "{{\"_meta\":true,\"length\":{n},\"last_ms\":0,\"last_seq\":0,\"expire_at_ms\":null}}\n"
    ));

    let bytes = s.build();
    let index = Index::from_bytes(bytes.clone(), opts("huge")).unwrap();
    assert_eq!(index.counts.redis_types.hashes, 1);
    let (_tmp, tree) = extract(bytes, opts("huge")).unwrap();
    let db = tree.join("redis/db_0");
    for (file, want) in [
        ("hashes/h.json", &want_hash),
        ("sets/s.json", &want_set),
        ("zsets/z.json", &want_zset),
        ("lists/l.json", &want_list),
        ("streams/x.jsonl", &want_stream),
    ] {
        let got = std::fs::read_to_string(db.join(file)).unwrap();
        assert!(
            got == *want,
            "{file} differs from the reference (got {} bytes, want {})",
            got.len(),
            want.len()
        );
        // Ranged reads, including ones that start and end mid-fragment.
        let id = index.tree.resolve(format!("redis/db_0/{file}").as_bytes()).unwrap();
        assert_eq!(index.size(id).unwrap(), want.len() as u64);
        let mut x = 12345u64;
        for _ in 0..200 {
            x = x.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
            let off = (x >> 33) % want.len() as u64;
            let len = ((x >> 13) % 70_000) as usize;
            let mut buf = vec![0u8; len];
            let got = index.read(id, off, &mut buf).unwrap();
            let end = (off as usize + len).min(want.len());
            assert_eq!(&buf[..got], &want.as_bytes()[off as usize..end], "{file} at {off}+{len}");
        }
    }
}

/// A disabled adapter counts its records as internal and shows nothing.
#[test]
fn disabled_adapters_show_nothing() {
    let mut s = spec_61();
    s.versions.extend(spec_62(true).versions);
    let mut o = opts("only_s3");
    o.adapters = vec![fsmfs::adapters::route::Adapter::S3];
    let index = Index::from_bytes(s.build(), o).unwrap();
    assert_eq!((index.counts.redis, index.counts.sqs, index.counts.internal), (0, 0, 63));
    assert!(index.tree.resolve(b"redis").is_none() && index.tree.resolve(b"sqs").is_none());
    assert!(index.warnings.is_empty());
}
