//! Property test: random DynamoDB tables and S3 buckets, written as a
//! live-shaped snapshot (any generation, multipart and offloaded parts),
//! extracted to a tree; then pack → extract gives that tree again, and
//! packing the result gives identical bytes (canonicalize-once).

mod common;
mod pack_util;

use std::collections::BTreeMap;

use common::Snap;
use fsmfs::adapters::encode::*;
use pack_util::*;
use proptest::prelude::*;

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
    #![proptest_config(ProptestConfig { cases: 48, ..ProptestConfig::default() })]

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
