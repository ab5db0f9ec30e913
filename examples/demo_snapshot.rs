//! Writes the bundled demo snapshot (`tests/data/demo.fsm`): a few
//! DynamoDB tables, S3 buckets, Redis keys of every type and SQS queues of
//! realistic shape, built with the same record encoders the tests and
//! `pack` use. Deterministic: the same bytes on every run.
//!
//! Run: `scripts/make-demo` (or `cargo run --example demo_snapshot -- OUT`).

#[path = "support/rng.rs"]
mod rng;

use fsmfs::adapters::dynamodb::records::*;
use fsmfs::adapters::redis::records as redis;
use fsmfs::adapters::s3::records::*;
use fsmfs::adapters::sqs::records::{message_records, queue_records, queue_seq_key, MessageDef, QueueDef};
use fsmfs::container::writer::{encode_key, StreamWriter};
use rng::Rng;

/// 2026-11-20T08:00:00Z as an HLC timestamp.
const TS: u64 = 1_795_161_600_000 << 16;

fn s(v: &str) -> AttrValue {
    AttrValue::S(v.into())
}

fn n(v: &str) -> AttrValue {
    AttrValue::N(v.into())
}

fn kv(list: &[(&str, AttrValue)]) -> Vec<(String, AttrValue)> {
    list.iter().map(|(k, v)| (k.to_string(), v.clone())).collect()
}

fn tables(out: &mut Vec<Record>) {
    let customers = TableDef {
        name: "customers".into(),
        attribute_definitions: vec![("customer_id".into(), "S".into()), ("email".into(), "S".into())],
        hash_key: "customer_id".into(),
        gsis: vec![GsiDef {
            name: "by_email".into(),
            hash: "email".into(),
            projection_type: "KEYS_ONLY".into(),
            ..Default::default()
        }],
        key_encoding_version: 2,
        generation: 1,
        ..Default::default()
    };
    out.extend(ddb_schema_records(&customers));
    let names = [
        "Ada Lovelace",
        "Grace Hopper",
        "Edsger Dijkstra",
        "Barbara Liskov",
        "Ken Thompson",
        "Frances Allen",
    ];
    for (i, name) in names.iter().enumerate() {
        let id = format!("c-{:04}", 1000 + i);
        let email = format!("{}@example.com", name.split(' ').next().unwrap_or("x").to_lowercase());
        let item = kv(&[
            ("customer_id", s(&id)),
            ("name", s(name)),
            ("email", s(&email)),
            ("vip", AttrValue::Bool(i % 3 == 0)),
            ("tags", AttrValue::Ss(vec!["newsletter".into(), format!("region-{}", i % 2)])),
            (
                "address",
                AttrValue::M(kv(&[
                    ("city", s(["Tokyo", "Zürich", "Austin"][i % 3])),
                    ("zip", s(&format!("{:05}", 10000 + i * 37))),
                ])),
            ),
        ]);
        out.extend(ddb_item_records(&customers, &item, 1).expect("valid item"));
    }

    let orders = TableDef {
        name: "orders".into(),
        attribute_definitions: vec![
            ("customer_id".into(), "S".into()),
            ("order_ts".into(), "N".into()),
            ("status".into(), "S".into()),
        ],
        hash_key: "customer_id".into(),
        range_key: "order_ts".into(),
        gsis: vec![GsiDef {
            name: "by_status".into(),
            hash: "status".into(),
            projection_type: "ALL".into(),
            ..Default::default()
        }],
        key_encoding_version: 2,
        generation: 1,
        ..Default::default()
    };
    out.extend(ddb_schema_records(&orders));
    let mut rng = Rng(0x5eed);
    for c in 0..6 {
        for k in 0..4 {
            let ts = 1_763_000_000 + (c * 4 + k) as u64 * 3_600;
            let total = format!("{}.{:02}", rng.next() % 500, rng.next() % 100);
            let item = kv(&[
                ("customer_id", s(&format!("c-{:04}", 1000 + c))),
                ("order_ts", n(&ts.to_string())),
                ("status", s(["open", "shipped", "delivered"][(rng.next() % 3) as usize])),
                ("total", n(&total)),
                (
                    "lines",
                    AttrValue::L(
                        (0..1 + rng.next() % 3)
                            .map(|l| {
                                AttrValue::M(kv(&[
                                    ("sku", s(&format!("SKU-{}", 100 + l))),
                                    ("qty", n(&(1 + rng.next() % 4).to_string())),
                                ]))
                            })
                            .collect(),
                    ),
                ),
                (
                    "gift_note",
                    if k == 2 { s("Happy birthday <3 & see you soon") } else { AttrValue::Null(true) },
                ),
            ]);
            out.extend(ddb_item_records(&orders, &item, 1).expect("valid item"));
        }
    }

    let devices = TableDef {
        name: "devices".into(),
        attribute_definitions: vec![("device_id".into(), "B".into())],
        hash_key: "device_id".into(),
        key_encoding_version: 2,
        generation: 1,
        ..Default::default()
    };
    out.extend(ddb_schema_records(&devices));
    for d in 0..3u8 {
        let item = kv(&[
            ("device_id", AttrValue::B(vec![0xde, 0xad, d, 0xff])),
            ("firmware", s(&format!("2.{d}.1"))),
            ("readings", AttrValue::Ns(vec!["21.5".into(), "22".into(), format!("2{d}.75")])),
            ("calibration", AttrValue::B(vec![d; 6])),
        ]);
        out.extend(ddb_item_records(&devices, &item, 1).expect("valid item"));
    }
}

fn object(key: &str, content_type: &str, body: &[u8], chunk: usize, meta: &[(&str, &str)]) -> ObjectDef {
    let chunks: Vec<Vec<u8>> = body.chunks(chunk.max(1)).map(|c| c.to_vec()).collect();
    ObjectDef {
        key: key.as_bytes().to_vec(),
        generation: 1,
        upload_id: format!("up-{}", key.len()).into_bytes(),
        etag: format!(
            "{:032x}",
            body.iter().fold(0u128, |h, &b| h.wrapping_mul(31).wrapping_add(u128::from(b)))
        ),
        size_bytes: body.len() as i64,
        last_modified_hlc: TS - (key.len() as u64) * (60_000 << 16),
        content_type: content_type.into(),
        user_metadata: meta.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect(),
        parts: if body.is_empty() {
            vec![]
        } else {
            vec![PartDef {
                part_no: 1,
                etag: String::new(),
                size_bytes: body.len() as i64,
                chunks,
                ..Default::default()
            }]
        },
        ..Default::default()
    }
}

fn buckets(out: &mut Vec<Record>) {
    out.extend(s3_bucket_records(&BucketDef {
        name: b"assets".to_vec(),
        generation: 1,
        created_at_hlc: TS,
        owner: "web-team".into(),
        region: "ap-northeast-1".into(),
        acl: "public-read".into(),
    }));
    let mut rng = Rng(42);
    let logo: Vec<u8> = (0..40_000).map(|_| rng.next() as u8).collect();
    let css = b"body { font-family: sans-serif; }\n.hero { color: #333; }\n".repeat(40);
    for o in [
        object(
            "index.html",
            "text/html",
            b"<!doctype html><title>demo</title><h1>Hello from elastickv</h1>\n",
            1 << 20,
            &[],
        ),
        object("css/site.css", "text/css", &css, 1 << 20, &[("build", "2026.11.20")]),
        object("img/logo.png", "image/png", &logo, 16 * 1024, &[("author", "design"), ("license", "CC-BY")]),
        object(
            "docs/readme v2.txt",
            "text/plain",
            "Read me: ünïcödé paths work too.\n".as_bytes(),
            1 << 20,
            &[],
        ),
        object("docs", "text/plain", b"an object that is also a directory prefix\n", 1 << 20, &[]),
        object("empty.txt", "text/plain", b"", 1 << 20, &[]),
    ] {
        out.extend(s3_object_records(b"assets", &o));
    }

    out.extend(s3_bucket_records(&BucketDef {
        name: b"backups".to_vec(),
        generation: 1,
        created_at_hlc: TS,
        owner: "ops".into(),
        region: "us-east-1".into(),
        acl: "private".into(),
    }));
    let dump: Vec<u8> = (0..200_000u32).map(|i| (i % 251) as u8).collect();
    // A multipart upload, parts uploaded out of order.
    let mut mp = object("db/2026-11-19.dump", "application/octet-stream", &[], 1, &[("source", "pg_dump")]);
    mp.size_bytes = dump.len() as i64;
    mp.etag = "9b2cf535f27731c974343645a3985328-2".into();
    mp.parts = vec![
        PartDef {
            part_no: 2,
            size_bytes: 80_000,
            chunks: dump[120_000..].chunks(32 * 1024).map(|c| c.to_vec()).collect(),
            ..Default::default()
        },
        PartDef {
            part_no: 1,
            size_bytes: 120_000,
            chunks: dump[..120_000].chunks(32 * 1024).map(|c| c.to_vec()).collect(),
            ..Default::default()
        },
    ];
    out.extend(s3_object_records(b"backups", &mp));
    out.extend(s3_object_records(
        b"backups",
        &object("db/latest.txt", "text/plain", b"2026-11-19.dump\n", 1 << 20, &[]),
    ));
}

/// One Redis key of every type, some expiring.
fn redis_keys(out: &mut Vec<Record>) {
    let day = 1_795_248_000_000; // 2026-11-21T08:00:00Z, in ms
    let str_rec =
        |k: &[u8], v: &[u8], ttl| Record { key: redis::string_key(k), value: redis::string_value(v, ttl) };
    out.push(str_rec(b"config:motd", b"Welcome to elastickv\n", None));
    out.push(str_rec(b"session:7f3a", b"{\"user\":\"c-1000\"}", Some(day)));
    out.push(str_rec(b"counter:visits", b"48213", None));
    out.push(Record {
        key: redis::hll_key(b"uniq:visitors"),
        value: vec![0x48, 0x59, 0x4c, 0x4c, 1, 0, 0, 0],
    });
    out.extend(redis::hash_records(
        b"user:c-1000",
        &[(b"name", b"Ada Lovelace"), (b"plan", b"pro"), (b"avatar", &[0x89, b'P', b'N', b'G'])],
        None,
    ));
    out.extend(redis::list_records(
        b"queue:emails",
        &[b"welcome:c-1001", b"invoice:o-17", b"reset:c-1000"],
        None,
    ));
    out.extend(redis::set_records(b"tags:post:42", &[b"rust", b"fuse", b"backup"], Some(day)));
    out.extend(redis::zset_records(
        b"leaderboard",
        &[(b"ada", 3120.5), (b"grace", 2990.0), (b"linus", f64::NEG_INFINITY)],
        None,
    ));
    let base = 1_795_161_000_000u64;
    out.extend(redis::stream_records(
        b"events:orders",
        &[
            (base, 0, vec![&b"order"[..], b"o-17", b"status", b"paid"]),
            (base, 1, vec![&b"order"[..], b"o-18", b"status", b"created"]),
            (base + 5000, 0, vec![&b"order"[..], b"o-17", b"status", b"shipped"]),
        ],
        None,
    ));
}

/// A standard queue and a FIFO queue with content-based deduplication.
fn queues(out: &mut Vec<Record>) {
    let std_q = QueueDef {
        name: "order-events".into(),
        generation: 1,
        visibility_timeout_seconds: 30,
        message_retention_seconds: 345_600,
        maximum_message_size: 262_144,
        ..Default::default()
    };
    out.extend(queue_records(&std_q));
    let sent = 1_795_160_000_000i64;
    for (i, body) in ["{\"order\":\"o-17\",\"event\":\"paid\"}", "{\"order\":\"o-18\",\"event\":\"created\"}"]
        .iter()
        .enumerate()
    {
        let m = MessageDef {
            message_id: format!("6c1f0d2e-0000-4000-8000-00000000000{i}"),
            body: body.as_bytes().to_vec(),
            md5_of_body: format!("{:032x}", i + 1),
            send_timestamp_millis: sent + i as i64 * 1000,
            available_at_millis: sent + i as i64 * 1000,
            queue_generation: 1,
            ..Default::default()
        };
        out.extend(message_records(&std_q.name, None, &m));
    }
    let fifo = QueueDef {
        name: "payments.fifo".into(),
        generation: 1,
        is_fifo: true,
        content_based_dedup: true,
        visibility_timeout_seconds: 60,
        message_retention_seconds: 345_600,
        maximum_message_size: 262_144,
        ..Default::default()
    };
    out.extend(queue_records(&fifo));
    for seq in 1..=3u64 {
        let m = MessageDef {
            message_id: format!("9a7e5b1c-0000-4000-8000-00000000000{seq}"),
            body: format!("charge o-{} EUR {}.00", 16 + seq, 10 * seq).into_bytes(),
            md5_of_body: format!("{seq:032x}"),
            send_timestamp_millis: sent + 10_000 * seq as i64,
            available_at_millis: sent + 10_000 * seq as i64,
            queue_generation: 1,
            message_group_id: "customer-c-1000".into(),
            sequence_number: seq,
            ..Default::default()
        };
        out.extend(message_records(&fifo.name, None, &m));
    }
    out.push(Record { key: queue_seq_key(&fifo.name), value: b"3".to_vec() });
}

fn main() {
    let path = std::env::args().nth(1).unwrap_or_else(|| "tests/data/demo.fsm".into());
    let mut records = Vec::new();
    tables(&mut records);
    buckets(&mut records);
    redis_keys(&mut records);
    queues(&mut records);
    let mut rows: Vec<(Vec<u8>, Vec<u8>)> =
        records.into_iter().map(|r| (encode_key(&r.key, TS), r.value)).collect();
    rows.sort();
    rows.dedup_by(|a, b| a.0 == b.0);
    let mut w = StreamWriter::new(Vec::new(), TS).expect("in-memory write");
    for (k, v) in &rows {
        w.entry(k, &[&[0u8; 9][..], v]).expect("in-memory write");
    }
    let bytes = w.finish();
    std::fs::write(&path, &bytes).unwrap_or_else(|e| panic!("{path}: {e}"));
    eprintln!("wrote {path}: {} bytes, {} records", bytes.len(), rows.len());
}
