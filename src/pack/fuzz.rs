//! Byte-level entry points into pack's parsers for the fuzz harness
//! ([`crate::fuzz_targets`]). Pack reads its inputs from a directory tree;
//! these feed one file's bytes straight to the function that parses that
//! kind of file, and on to the encoders its records go through, so a
//! fuzzer needs no temporary tree. Each returns nothing: only a panic (or
//! an abort) is a finding.

use super::manifest;
use crate::adapters::dynamodb::pack as dynamodb;
use crate::adapters::dynamodb::records::{ddb_item_records, ddb_schema_records, AttrValue, GsiDef, TableDef};
use crate::adapters::packing::RESTORE_GENERATION;
use crate::adapters::redis::pack as redis;
use crate::adapters::s3::pack as s3;
use crate::adapters::sqs::dump::parse_messages;
use crate::adapters::sqs::pack as sqs;
use crate::adapters::sqs::records::{queue_records, QueueDef};
use crate::adapters::Adapter;
use crate::keys::keymap;

/// `MANIFEST.json`: validation, then the producer-mode guards.
pub(crate) fn manifest(data: &[u8]) {
    if let Ok(m) = manifest::parse(data) {
        let _ = m.unsupported_mode(&Adapter::ALL);
    }
}

/// `_schema.json` and item files: the schema's records; an item's records
/// and file path under a table keyed by its own first attributes (so any
/// attribute value the parser accepts reaches the key encoders).
pub(crate) fn dynamodb(data: &[u8]) {
    if let Ok(t) = dynamodb::parse_schema(data) {
        let _ = ddb_schema_records(&t);
    }
    let Ok(attrs) = dynamodb::parse_item(data) else { return };
    let keyable: Vec<&str> = attrs
        .iter()
        .filter(|(_, v)| matches!(v, AttrValue::S(_) | AttrValue::N(_) | AttrValue::B(_)))
        .map(|(n, _)| n.as_str())
        .collect();
    let Some(&hash) = keyable.first() else { return };
    for range in [None, keyable.get(1).copied()] {
        let gsis = keyable
            .last()
            .map(|&g| GsiDef {
                name: "fuzz".into(),
                hash: g.into(),
                range: String::new(),
                projection_type: "ALL".into(),
                non_key_attributes: vec![],
            })
            .into_iter()
            .collect();
        let t = TableDef {
            name: "fuzz".into(),
            attribute_definitions: keyable.iter().map(|n| (n.to_string(), "S".to_string())).collect(),
            hash_key: hash.into(),
            range_key: range.unwrap_or_default().into(),
            gsis,
            key_encoding_version: 2,
            generation: RESTORE_GENERATION,
            migrating_from_generation: 0,
        };
        let _ = ddb_item_records(&t, &attrs, RESTORE_GENERATION);
        let _ = dynamodb::item_path(&t, &attrs);
    }
}

/// Object sidecars and the bucket's `KEYMAP.jsonl` rename tracker.
pub(crate) fn s3(data: &[u8]) {
    let _ = s3::parse_sidecar(data);
    let _ = keymap::parse(data);
}

/// Redis files: the bytes as every type's file (strings and HLLs with and
/// without a TTL), as a TTL sidecar, as `KEYMAP.jsonl`, and (short inputs)
/// as a file stem.
pub(crate) fn redis(data: &[u8]) {
    for t in redis::Type::ALL {
        let _ = redis::records(t, b"k", data, 0);
        let _ = redis::records(t, b"k", data, 1_700_000_000_000);
    }
    let _ = redis::parse_ttls(data);
    let keymap = keymap::parse(data)
        .map(|records| records.into_iter().map(|r| (r.encoded.into_bytes(), r.original)).collect());
    if data.len() <= 512 {
        let _ = redis::stem_key(data, &keymap.unwrap_or_default());
    }
}

/// SQS: `_queue.json`, and `messages.jsonl` checked and encoded into a
/// standard, a FIFO and a partitioned FIFO queue as `pack` would.
pub(crate) fn sqs(data: &[u8]) {
    if let Ok(q) = sqs::parse_queue(data) {
        let _ = queue_records(&q);
    }
    let Ok(messages) = parse_messages(data) else { return };
    for q in fuzz_queues() {
        if sqs::check_messages(&q, &messages).is_err() {
            continue;
        }
        let dedup = sqs::dedup_winners(&q, &messages);
        for (m, d) in messages.iter().zip(&dedup) {
            let _ = sqs::message_records(&q, m, d.as_deref());
        }
    }
}

fn fuzz_queues() -> [QueueDef; 3] {
    let standard = QueueDef {
        name: "q".into(),
        generation: RESTORE_GENERATION,
        is_fifo: false,
        content_based_dedup: false,
        visibility_timeout_seconds: 30,
        message_retention_seconds: 345_600,
        delay_seconds: 0,
        receive_message_wait_seconds: 0,
        maximum_message_size: 262_144,
        redrive_policy: String::new(),
        redrive_allow_policy: String::new(),
        partition_count: 0,
        fifo_throughput_limit: String::new(),
        deduplication_scope: String::new(),
    };
    let fifo =
        QueueDef { name: "q.fifo".into(), is_fifo: true, content_based_dedup: true, ..standard.clone() };
    let partitioned = QueueDef {
        partition_count: 4,
        fifo_throughput_limit: "perMessageGroupId".into(),
        deduplication_scope: "messageGroup".into(),
        ..fifo.clone()
    };
    [standard, fifo, partitioned]
}
