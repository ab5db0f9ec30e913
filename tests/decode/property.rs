//! Property test: random DynamoDB items and S3 objects → snapshot written
//! by the fixture writer → extract → the tree holds exactly the model.
//! The expected JSON is built here with serde_json from the model, not by
//! fsmfs's own writer.

use std::collections::{BTreeMap, BTreeSet};

use base64::Engine;
use fsmfs::adapters::dynamodb::records::*;
use fsmfs::adapters::s3::records::*;
use fsmfs::codec::number::canonical_number;
use fsmfs::keys::segment::{encode_binary_segment, encode_segment};
use proptest::prelude::*;
use serde_json::{json, Value};

use crate::common::prop_config::config;
use crate::common::snap::*;

fn b64(b: &[u8]) -> String {
    base64::engine::general_purpose::STANDARD.encode(b)
}

fn typed(v: &AttrValue) -> Value {
    match v {
        AttrValue::S(s) => json!({ "S": s }),
        AttrValue::N(n) => json!({ "N": n }),
        AttrValue::B(b) => json!({ "B": b64(b) }),
        AttrValue::Bool(b) => json!({ "BOOL": b }),
        AttrValue::Null(b) => json!({ "NULL": b }),
        AttrValue::Ss(l) => json!({ "SS": l }),
        AttrValue::Ns(l) => json!({ "NS": l }),
        AttrValue::Bs(l) => json!({ "BS": l.iter().map(|b| b64(b)).collect::<Vec<_>>() }),
        AttrValue::L(l) => json!({ "L": l.iter().map(typed).collect::<Vec<_>>() }),
        AttrValue::M(m) => {
            let map: serde_json::Map<String, Value> = m.iter().map(|(k, v)| (k.clone(), typed(v))).collect();
            json!({ "M": map })
        }
        AttrValue::Empty => json!({ "NULL": true }),
    }
}

fn leaf() -> impl Strategy<Value = AttrValue> {
    prop_oneof![
        "[ -~<>&é日\\n]{0,12}".prop_map(AttrValue::S),
        (-1_000_000i64..1_000_000, 0u32..4).prop_map(|(m, e)| AttrValue::N(format!("{m}e-{e}"))),
        prop::collection::vec(any::<u8>(), 0..8).prop_map(AttrValue::B),
        any::<bool>().prop_map(AttrValue::Bool),
        Just(AttrValue::Null(true)),
        prop::collection::vec("[a-z]{0,4}", 0..3).prop_map(AttrValue::Ss),
        prop::collection::vec(prop::collection::vec(any::<u8>(), 0..4), 0..3).prop_map(AttrValue::Bs),
        Just(AttrValue::Empty),
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

#[derive(Debug, Clone)]
enum KeyKind {
    S,
    N,
    B,
}

fn key_value(kind: &KeyKind, i: usize, salt: &str) -> AttrValue {
    match kind {
        KeyKind::S => AttrValue::S(format!("{salt}{i}")),
        KeyKind::N => AttrValue::N(format!("{i}.{}", salt.len())),
        KeyKind::B => AttrValue::B(format!("{salt}{i}").into_bytes()),
    }
}

fn segment(v: &AttrValue) -> String {
    match v {
        AttrValue::S(s) => encode_segment(s.as_bytes()),
        AttrValue::N(n) => encode_segment(canonical_number(n).as_bytes()),
        AttrValue::B(b) => encode_binary_segment(b),
        _ => unreachable!(),
    }
}

#[derive(Debug, Clone)]
struct Model {
    hash: KeyKind,
    composite: bool,
    salt: String,
    items: Vec<Vec<(String, AttrValue)>>,
    objects: BTreeMap<String, Vec<Vec<u8>>>,
}

fn model() -> impl Strategy<Value = Model> {
    (
        prop_oneof![Just(KeyKind::S), Just(KeyKind::N), Just(KeyKind::B)],
        any::<bool>(),
        "[a-z~ /%]{0,5}",
        prop::collection::vec(prop::collection::btree_map("[a-z]{1,5}", value(), 0..5), 1..8),
        prop::collection::btree_map(
            "[a-c]{1,3}(/[a-c ]{1,3}){0,2}",
            prop::collection::vec(prop::collection::vec(any::<u8>(), 0..300), 0..3),
            0..8,
        ),
    )
        .prop_map(|(hash, composite, salt, items, objects)| Model {
            hash,
            composite,
            salt,
            items: items.into_iter().map(|m| m.into_iter().collect()).collect(),
            objects,
        })
}

fn build(m: &Model) -> (Vec<u8>, BTreeMap<String, Value>) {
    let mut snap = Snap::new();
    let t = TableDef {
        name: "t".into(),
        attribute_definitions: vec![("pk".into(), "S".into()), ("sk".into(), "N".into())],
        hash_key: "pk".into(),
        range_key: if m.composite { "sk".into() } else { String::new() },
        key_encoding_version: 2,
        generation: 1,
        ..Default::default()
    };
    snap.records(ddb_schema_records(&t));
    let mut expected = BTreeMap::new();
    for (i, attrs) in m.items.iter().enumerate() {
        let mut item: Vec<(String, AttrValue)> =
            attrs.iter().filter(|(k, _)| k != "pk" && k != "sk").cloned().collect();
        let pk = key_value(&m.hash, i, &m.salt);
        item.push(("pk".into(), pk.clone()));
        let mut path = segment(&pk);
        if m.composite {
            let sk = AttrValue::N(format!("{}", i * 7));
            item.push(("sk".into(), sk.clone()));
            path = format!("{path}/{}", segment(&sk));
        }
        snap.records(ddb_item_records(&t, &item, 1).unwrap());
        let json: serde_json::Map<String, Value> = item.iter().map(|(k, v)| (k.clone(), typed(v))).collect();
        expected.insert(format!("dynamodb/t/items/{path}.json"), Value::Object(json));
    }
    snap.records(s3_bucket_records(&BucketDef {
        name: b"bkt".to_vec(),
        generation: 1,
        ..Default::default()
    }));
    for (key, chunks) in &m.objects {
        let size: usize = chunks.iter().map(|c| c.len()).sum();
        let o = ObjectDef {
            key: key.as_bytes().to_vec(),
            generation: 1,
            upload_id: b"u".to_vec(),
            size_bytes: size as i64,
            parts: if chunks.is_empty() {
                vec![]
            } else {
                vec![PartDef {
                    part_no: 1,
                    size_bytes: size as i64,
                    chunks: chunks.clone(),
                    ..Default::default()
                }]
            },
            ..Default::default()
        };
        snap.records(s3_object_records(b"bkt", &o));
    }
    (snap.build(), expected)
}

proptest! {
    #![proptest_config(config(48))]

    #[test]
    fn extract_reproduces_the_model(m in model()) {
        let (bytes, expected_items) = build(&m);
        let (_tmp, tree) = extract(bytes, opts("prop")).unwrap();
        let files = read_tree(&tree);
        // DynamoDB: exactly the items, each with exactly its attributes.
        let got_items: BTreeSet<&String> = files.keys().filter(|p| p.starts_with("dynamodb/t/items/") && p.ends_with(".json")).collect();
        let want_items: BTreeSet<&String> = expected_items.keys().collect();
        prop_assert_eq!(got_items, want_items);
        for (path, want) in &expected_items {
            let got: Value = serde_json::from_slice(&std::fs::read(tree.join(path)).unwrap()).unwrap();
            prop_assert_eq!(&got, want, "{}", path);
        }
        // S3: every body at its path (or its leaf-data rename), with a
        // sidecar holding its size; KEYMAP maps renames back.
        let keys: BTreeSet<&str> = m.objects.keys().map(|k| k.as_str()).collect();
        let mut renamed = BTreeMap::new();
        if let Ok(km) = std::fs::read_to_string(tree.join("s3/bkt/KEYMAP.jsonl")) {
            for line in km.lines() {
                let v: Value = serde_json::from_str(line).unwrap();
                let orig = base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(v["original"].as_str().unwrap()).unwrap();
                renamed.insert(String::from_utf8(orig).unwrap(), v["encoded"].as_str().unwrap().to_string());
            }
        }
        for (key, chunks) in &m.objects {
            let is_prefix = keys.iter().any(|k| k.len() > key.len() && k.starts_with(key.as_str()) && k.as_bytes()[key.len()] == b'/');
            let path = if is_prefix {
                let r = renamed.get(key).cloned();
                prop_assert_eq!(r.clone(), Some(format!("{key}.elastickv-leaf-data")));
                r.unwrap()
            } else {
                key.clone()
            };
            let body = std::fs::read(tree.join("s3/bkt").join(&path)).unwrap();
            prop_assert_eq!(body, chunks.concat());
            let side: Value = serde_json::from_slice(&std::fs::read(tree.join("s3/bkt").join(format!("{path}.elastickv-meta.json"))).unwrap()).unwrap();
            prop_assert_eq!(side["size_bytes"].as_u64(), Some(chunks.concat().len() as u64));
        }
        prop_assert_eq!(renamed.len(), keys.iter().filter(|key| keys.iter().any(|k| k.len() > key.len() && k.starts_with(*key) && k.as_bytes()[key.len()] == b'/')).count());
        // CHECKSUMS verifies the extracted tree.
        let status = std::process::Command::new("sha256sum").args(["-c", "--quiet", "CHECKSUMS"]).current_dir(&tree).status().unwrap();
        prop_assert!(status.success());
    }
}
