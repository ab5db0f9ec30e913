//! Property tests: random DynamoDB tables and S3 buckets (any generation,
//! multipart and offloaded parts), and random Redis keyspaces (every type,
//! binary data, TTLs), written as live-shaped snapshots and extracted to a
//! tree; then pack → extract gives that tree again, and packing the result
//! gives identical bytes (canonicalize-once).

use std::collections::BTreeMap;

use fsmfs::adapters::dynamodb::records::*;
use fsmfs::adapters::s3::records::*;
use proptest::prelude::*;

use crate::common::pack::*;
use crate::common::prop_config::config;
use crate::common::snap::Snap;

fn leaf() -> impl Strategy<Value = AttrValue> {
    prop_oneof![
        "[ -~<>&é日\\n]{0,12}".prop_map(AttrValue::S),
        (-1_000_000i64..1_000_000, 0u32..4).prop_map(|(m, e)| AttrValue::N(format!("{m}e-{e}"))),
        prop::collection::vec(any::<u8>(), 0..8).prop_map(AttrValue::B),
        any::<bool>().prop_map(AttrValue::Bool),
        any::<bool>().prop_map(AttrValue::Null),
        prop::collection::vec("[a-z]{0,4}", 0..3).prop_map(AttrValue::Ss),
        prop::collection::vec("[0-9]{1,3}", 0..3).prop_map(AttrValue::Ns),
        prop::collection::vec(prop::collection::vec(any::<u8>(), 0..4), 0..3).prop_map(AttrValue::Bs),
    ]
}

fn value() -> impl Strategy<Value = AttrValue> {
    leaf().prop_recursive(3, 16, 4, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(AttrValue::L),
            prop::collection::btree_map("[a-zA-Z_<]{1,6}", inner, 0..4)
                .prop_map(|m| AttrValue::M(m.into_iter().collect())),
        ]
    })
}

/// A key attribute value of type `ty`.
fn key_value(ty: u8) -> BoxedStrategy<AttrValue> {
    match ty {
        0 => "[a-z0-9 %/#é]{0,10}"
            .prop_filter("dot names are not decodable", |s| s != "." && s != "..")
            .prop_map(AttrValue::S)
            .boxed(),
        1 => (-100_000i64..100_000, 0u32..3).prop_map(|(m, e)| AttrValue::N(format!("{m}e-{e}"))).boxed(),
        _ => prop::collection::vec(any::<u8>(), 0..6).prop_map(AttrValue::B).boxed(),
    }
}

#[derive(Debug, Clone)]
struct Table {
    def: TableDef,
    items: Vec<Vec<(String, AttrValue)>>,
}

fn table() -> impl Strategy<Value = Table> {
    ("[a-zA-Z0-9._ -]{1,12}", 0u8..3, prop::option::of(0u8..3), any::<bool>(), 1u64..5)
        .prop_flat_map(|(name, hty, rty, gsi, generation)| {
            let types = ["S", "N", "B"];
            let mut defs = vec![("h".to_string(), types[hty as usize].to_string())];
            if let Some(r) = rty {
                defs.push(("r".into(), types[r as usize].into()));
            }
            let gsis = if gsi {
                vec![GsiDef {
                    name: "by_g".into(),
                    hash: "g".into(),
                    range: if rty.is_some() { "r".into() } else { String::new() },
                    projection_type: "ALL".into(),
                    non_key_attributes: vec![],
                }]
            } else {
                vec![]
            };
            if gsi {
                defs.push(("g".into(), "S".into()));
            }
            let def = TableDef {
                name: name.trim().to_string() + "t",
                attribute_definitions: defs,
                hash_key: "h".into(),
                range_key: if rty.is_some() { "r".into() } else { String::new() },
                gsis,
                key_encoding_version: 2,
                generation,
                migrating_from_generation: 0,
            };
            let item = (
                key_value(hty),
                match rty {
                    Some(r) => key_value(r).prop_map(Some).boxed(),
                    None => Just(None).boxed(),
                },
                prop::option::of("[a-c]{1,2}"),
                prop::collection::btree_map("[a-z]{2,5}", value(), 0..4),
            )
                .prop_map(|(h, r, g, rest)| {
                    let mut a: Vec<(String, AttrValue)> = rest.into_iter().collect();
                    a.push(("h".into(), h));
                    if let Some(r) = r {
                        a.push(("r".into(), r));
                    }
                    if let Some(g) = g {
                        a.push(("g".into(), AttrValue::S(g)));
                    }
                    a
                });
            (Just(def), prop::collection::vec(item, 0..8))
        })
        .prop_map(|(def, items)| Table { def, items })
}

#[derive(Debug, Clone)]
struct Object {
    key: String,
    body: Vec<u8>,
    parts: usize,
    offloaded: bool,
}

fn object() -> impl Strategy<Value = Object> {
    let seg = "[a-z0-9 é_-]{1,4}";
    (
        prop::collection::vec(seg, 1..4),
        prop_oneof![
            8 => prop::collection::vec(any::<u8>(), 0..64),
            1 => (0usize..3).prop_map(|n| vec![7u8; (1 << 20) * n + 100]),
        ],
        1usize..3,
        any::<bool>(),
    )
        .prop_map(|(segs, body, parts, offloaded)| Object {
            key: segs.join("/"),
            body,
            parts,
            offloaded,
        })
}

fn bucket() -> impl Strategy<Value = (String, u64, BTreeMap<String, Object>)> {
    (
        "[a-z0-9.-]{1,10}".prop_filter("dot names", |s| s != "." && s != ".."),
        1u64..4,
        prop::collection::vec(object(), 0..6),
    )
        .prop_map(|(name, gen, objs)| (name, gen, objs.into_iter().map(|o| (o.key.clone(), o)).collect()))
}

fn snapshot(tables: &[Table], buckets: &[(String, u64, BTreeMap<String, Object>)]) -> Vec<u8> {
    let mut snap = Snap::new();
    let mut seen_tables = std::collections::BTreeSet::new();
    for t in tables {
        if !seen_tables.insert(t.def.name.clone()) {
            continue;
        }
        snap.records(ddb_schema_records(&t.def));
        for item in &t.items {
            snap.records(ddb_item_records(&t.def, item, t.def.generation).unwrap());
        }
    }
    let mut seen_buckets = std::collections::BTreeSet::new();
    for (name, gen, objects) in buckets {
        if !seen_buckets.insert(name.clone()) {
            continue;
        }
        snap.records(s3_bucket_records(&BucketDef {
            name: name.as_bytes().to_vec(),
            generation: *gen,
            owner: "o".into(),
            ..Default::default()
        }));
        for o in objects.values() {
            let n = o.parts.min(o.body.len().max(1));
            let per = o.body.len().div_ceil(n).max(1);
            let parts: Vec<PartDef> = o
                .body
                .chunks(per)
                .enumerate()
                .map(|(i, c)| PartDef {
                    part_no: i as u64 + 1,
                    etag: format!("p{i}"),
                    size_bytes: c.len() as i64,
                    offloaded: o.offloaded && i == 0,
                    chunks: c.chunks(700_000).map(<[u8]>::to_vec).collect(),
                    ..Default::default()
                })
                .collect();
            snap.records(s3_object_records(
                name.as_bytes(),
                &ObjectDef {
                    key: o.key.as_bytes().to_vec(),
                    generation: *gen,
                    upload_id: b"u".to_vec(),
                    etag: "e".into(),
                    size_bytes: o.body.len() as i64,
                    last_modified_hlc: 1_714_400_000_123 << 16,
                    user_metadata: vec![("k".into(), "v".into())],
                    parts,
                    ..Default::default()
                },
            ));
        }
    }
    // Offloaded payloads shared between objects give identical chunkblob
    // rows; the snapshot writer keeps one.
    snap.build()
}

proptest! {
    #![proptest_config(config(48))]

    #[test]
    fn random_trees_round_trip(
        tables in prop::collection::vec(table(), 0..3),
        buckets in prop::collection::vec(bucket(), 0..3),
    ) {
        let tmp = tempfile::tempdir().unwrap();
        let src = write_snap(tmp.path(), "src.fsm", &snapshot(&tables, &buckets));
        let t1 = tmp.path().join("t1");
        extract_to(&src, &t1, false);
        let p1 = tmp.path().join("p1.fsm");
        let r = pack_lib(&t1, &p1);
        prop_assert!(r.is_ok(), "{:?}", r.err());
        let t2 = tmp.path().join("t2");
        extract_to(&p1, &t2, false);
        let (a, b) = (adapter_files(&t1), adapter_files(&t2));
        prop_assert_eq!(a.keys().collect::<Vec<_>>(), b.keys().collect::<Vec<_>>());
        for (k, v) in &a {
            prop_assert!(v == &b[k], "{} differs", k);
        }
        let p2 = tmp.path().join("p2.fsm");
        pack_lib(&t2, &p2).unwrap();
        prop_assert!(std::fs::read(&p1).unwrap() == std::fs::read(&p2).unwrap(), "not a fixed point");
    }
}

// --- Redis ----------------------------------------------------------------------

/// One Redis key's content, as the live adapter stores it.
#[derive(Debug, Clone)]
enum RedisValue {
    String(Vec<u8>),
    Hll(Vec<u8>),
    Hash(BTreeMap<Vec<u8>, Vec<u8>>),
    Set(std::collections::BTreeSet<Vec<u8>>),
    /// Items and the sequence number of the first (lists are renumbered
    /// from 0 by pack; the tree does not show sequence numbers).
    List(Vec<Vec<u8>>, i64),
    Zset(BTreeMap<Vec<u8>, f64>),
    /// Entries by (ms, seq); stream fields are protobuf strings.
    Stream(BTreeMap<(u64, u64), Vec<String>>),
}

fn bytes() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        3 => "[ -~é日\\n\\u{2028}]{0,8}".prop_map(String::into_bytes),
        1 => prop::collection::vec(any::<u8>(), 0..8),
    ]
}

fn score() -> impl Strategy<Value = f64> {
    prop_oneof![
        any::<f64>().prop_filter("NaN is no score", |f| !f.is_nan()),
        Just(-0.0),
        Just(f64::INFINITY),
        Just(f64::NEG_INFINITY),
        (-1000i32..1000).prop_map(|i| f64::from(i) / 8.0),
    ]
}

fn redis_value() -> impl Strategy<Value = RedisValue> {
    prop_oneof![
        prop::collection::vec(any::<u8>(), 0..40).prop_map(RedisValue::String),
        prop::collection::vec(any::<u8>(), 1..20).prop_map(RedisValue::Hll),
        prop::collection::btree_map(bytes(), bytes(), 0..5).prop_map(RedisValue::Hash),
        prop::collection::btree_set(bytes(), 0..5).prop_map(RedisValue::Set),
        (prop::collection::vec(bytes(), 0..5), -5i64..5).prop_map(|(v, h)| RedisValue::List(v, h)),
        prop::collection::btree_map(bytes(), score(), 0..5).prop_map(RedisValue::Zset),
        prop::collection::btree_map(
            (0u64..3, 0u64..3),
            prop::collection::vec("[ -~é]{0,4}", 0..3).prop_map(|v| {
                // name/value pairs
                v.iter().flat_map(|s| [s.clone(), s.to_uppercase()]).collect()
            }),
            0..4
        )
        .prop_map(RedisValue::Stream),
    ]
}

/// Keys: short binary, or long enough for a SHA-fallback file name.
fn redis_key() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        6 => prop::collection::vec(any::<u8>(), 0..10),
        1 => (any::<u8>(), 241usize..300).prop_map(|(b, n)| vec![b; n]),
    ]
}

fn redis_snapshot(keys: &BTreeMap<Vec<u8>, (RedisValue, Option<u64>)>) -> Vec<u8> {
    use fsmfs::adapters::redis::records as r;
    let mut snap = Snap::new();
    for (k, (v, ttl)) in keys {
        let ttl_row = |snap: &mut Snap| {
            if let Some(ms) = ttl {
                snap.put(&r::ttl_key(k), &r::ttl_value(*ms));
            }
        };
        match v {
            RedisValue::String(b) => {
                snap.put(&r::string_key(k), &r::string_value(b, *ttl));
            }
            RedisValue::Hll(b) => {
                let value = if ttl.is_some() { r::hll_value(b, *ttl) } else { b.clone() };
                snap.put(&r::hll_key(k), &value);
                ttl_row(&mut snap);
            }
            RedisValue::Hash(m) => {
                let f: Vec<(&[u8], &[u8])> = m.iter().map(|(a, b)| (a.as_slice(), b.as_slice())).collect();
                snap.records(r::hash_records(k, &f, *ttl));
                ttl_row(&mut snap);
            }
            RedisValue::Set(s) => {
                let m: Vec<&[u8]> = s.iter().map(Vec::as_slice).collect();
                snap.records(r::set_records(k, &m, *ttl));
                ttl_row(&mut snap);
            }
            RedisValue::List(items, head) => {
                let n = items.len() as i64;
                snap.put(&r::list_meta_key(k), &r::list_meta_value(*head, head + n, n as u64, *ttl));
                for (i, it) in items.iter().enumerate() {
                    snap.put(&r::list_item_key(k, head + i as i64), it);
                }
                ttl_row(&mut snap);
            }
            RedisValue::Zset(m) => {
                let e: Vec<(&[u8], f64)> = m.iter().map(|(a, s)| (a.as_slice(), *s)).collect();
                snap.records(r::zset_records(k, &e, *ttl));
                ttl_row(&mut snap);
            }
            RedisValue::Stream(entries) => {
                let e: Vec<(u64, u64, Vec<&[u8]>)> = entries
                    .iter()
                    .map(|(&(ms, seq), f)| (ms, seq, f.iter().map(String::as_bytes).collect()))
                    .collect();
                snap.records(r::stream_records(k, &e, *ttl));
                ttl_row(&mut snap);
            }
        }
    }
    snap.build()
}

proptest! {
    #![proptest_config(config(64))]

    /// Random keys of every Redis type, binary keys and values, TTLs,
    /// lists not starting at 0, SHA-fallback names: extract → pack →
    /// extract gives the same tree, and the second pack the same bytes.
    #[test]
    fn random_redis_keyspaces_round_trip(
        keys in prop::collection::btree_map(
            redis_key(),
            (redis_value(), prop::option::of(1u64..4_000_000_000_000)),
            0..8,
        ),
    ) {
        let tmp = tempfile::tempdir().unwrap();
        let src = write_snap(tmp.path(), "src.fsm", &redis_snapshot(&keys));
        let t1 = tmp.path().join("t1");
        extract_to(&src, &t1, false);
        let p1 = tmp.path().join("p1.fsm");
        let r = pack_lib(&t1, &p1);
        prop_assert!(r.is_ok(), "{:?}", r.err());
        let t2 = tmp.path().join("t2");
        extract_to(&p1, &t2, false);
        let (a, b) = (adapter_files(&t1), adapter_files(&t2));
        prop_assert_eq!(a.keys().collect::<Vec<_>>(), b.keys().collect::<Vec<_>>());
        for (k, v) in &a {
            prop_assert!(v == &b[k], "{} differs:\n{}\n---\n{}", k, String::from_utf8_lossy(v), String::from_utf8_lossy(&b[k]));
        }
        let p2 = tmp.path().join("p2.fsm");
        pack_lib(&t2, &p2).unwrap();
        prop_assert!(std::fs::read(&p1).unwrap() == std::fs::read(&p2).unwrap(), "not a fixed point");
    }
}
