//! Snapshot record encoders for the SQS adapter: the keys and values
//! elastickv's live SQS adapter writes (`redis-sqs.md` §4), for fixtures,
//! benchmarks and `pack`. Keys carry no MVCC suffix and values no MVCC
//! header.

use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;

use crate::adapters::records::Record;
use crate::codec::gojson::JsonWriter;
use crate::keys::segment::b64url_nopad;

pub(crate) const QUEUE_META_PREFIX: &[u8] = b"!sqs|queue|meta|";
pub(crate) const QUEUE_GEN_PREFIX: &[u8] = b"!sqs|queue|gen|";
pub(crate) const QUEUE_SEQ_PREFIX: &[u8] = b"!sqs|queue|seq|";
pub(crate) const QUEUE_TOMBSTONE_PREFIX: &[u8] = b"!sqs|queue|tombstone|";
pub const MSG_DATA_PREFIX: &[u8] = b"!sqs|msg|data|";
pub const MSG_VIS_PREFIX: &[u8] = b"!sqs|msg|vis|";
pub(crate) const MSG_BYAGE_PREFIX: &[u8] = b"!sqs|msg|byage|";
pub(crate) const MSG_DEDUP_PREFIX: &[u8] = b"!sqs|msg|dedup|";
pub const MSG_GROUP_PREFIX: &[u8] = b"!sqs|msg|group|";

/// `\0SQ\1`, before a queue meta JSON object.
pub const QUEUE_META_MAGIC: &[u8] = &[0x00, b'S', b'Q', 0x01];
/// `\0SM\1`, before a message JSON object.
pub const MESSAGE_MAGIC: &[u8] = &[0x00, b'S', b'M', 0x01];

/// A queue's configuration as the live catalog stores it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct QueueDef {
    pub name: String,
    pub generation: u64,
    pub is_fifo: bool,
    pub content_based_dedup: bool,
    pub visibility_timeout_seconds: i64,
    pub message_retention_seconds: i64,
    pub delay_seconds: i64,
    pub receive_message_wait_seconds: i64,
    pub maximum_message_size: i64,
    pub redrive_policy: String,
    pub redrive_allow_policy: String,
    pub partition_count: u32,
    pub fifo_throughput_limit: String,
    pub deduplication_scope: String,
}

/// A stored message record (`sqsMessageRecord`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct MessageDef {
    pub message_id: String,
    pub body: Vec<u8>,
    pub md5_of_body: String,
    pub md5_of_message_attributes: String,
    /// Attribute name → JSON text of its value.
    pub message_attributes: Vec<(String, String)>,
    pub sender_id: String,
    pub send_timestamp_millis: i64,
    pub available_at_millis: i64,
    pub visible_at_millis: i64,
    pub receive_count: i64,
    pub first_receive_millis: i64,
    pub current_receipt_token: Option<Vec<u8>>,
    pub queue_generation: u64,
    pub message_group_id: String,
    pub message_deduplication_id: String,
    pub sequence_number: u64,
    pub dead_letter_source_arn: String,
}

fn q(name: &str) -> String {
    b64url_nopad(name.as_bytes())
}

fn cat(parts: &[&[u8]]) -> Vec<u8> {
    parts.concat()
}

pub fn queue_meta_key(name: &str) -> Vec<u8> {
    cat(&[QUEUE_META_PREFIX, q(name).as_bytes()])
}

pub fn queue_gen_key(name: &str) -> Vec<u8> {
    cat(&[QUEUE_GEN_PREFIX, q(name).as_bytes()])
}

pub fn queue_seq_key(name: &str) -> Vec<u8> {
    cat(&[QUEUE_SEQ_PREFIX, q(name).as_bytes()])
}

pub fn queue_tombstone_key(name: &str, generation: u64) -> Vec<u8> {
    cat(&[QUEUE_TOMBSTONE_PREFIX, q(name).as_bytes(), &generation.to_be_bytes()])
}

/// The part of a message-family key after its prefix, up to (and
/// including) the generation: `Q‖BE64(gen)` or
/// `p|Q|‖BE32(partition)‖BE64(gen)`.
fn queue_part(name: &str, partition: Option<u32>, generation: u64) -> Vec<u8> {
    match partition {
        None => cat(&[q(name).as_bytes(), &generation.to_be_bytes()]),
        Some(p) => cat(&[b"p|", q(name).as_bytes(), b"|", &p.to_be_bytes(), &generation.to_be_bytes()]),
    }
}

pub fn msg_data_key(name: &str, partition: Option<u32>, generation: u64, message_id: &str) -> Vec<u8> {
    cat(&[MSG_DATA_PREFIX, &queue_part(name, partition, generation), q(message_id).as_bytes()])
}

/// A visibility- or age-index row: `prefix‖queue part‖BE64(ts)‖M`.
pub fn msg_index_key(
    prefix: &[u8],
    name: &str,
    partition: Option<u32>,
    generation: u64,
    ts: u64,
    message_id: &str,
) -> Vec<u8> {
    cat(&[prefix, &queue_part(name, partition, generation), &ts.to_be_bytes(), q(message_id).as_bytes()])
}

pub(crate) fn msg_dedup_key(name: &str, generation: u64, dedup_id: &str) -> Vec<u8> {
    cat(&[MSG_DEDUP_PREFIX, &queue_part(name, None, generation), q(dedup_id).as_bytes()])
}

pub fn queue_meta_value(d: &QueueDef) -> Vec<u8> {
    let mut out = QUEUE_META_MAGIC.to_vec();
    let mut w = JsonWriter::compact(&mut out, true);
    w.begin_object();
    w.key(b"name");
    w.string(d.name.as_bytes());
    w.key(b"generation");
    w.u64(d.generation);
    if d.is_fifo {
        w.key(b"is_fifo");
        w.bool(true);
    }
    if d.content_based_dedup {
        w.key(b"content_based_dedup");
        w.bool(true);
    }
    for (k, v) in [
        ("visibility_timeout_seconds", d.visibility_timeout_seconds),
        ("message_retention_seconds", d.message_retention_seconds),
        ("delay_seconds", d.delay_seconds),
        ("receive_message_wait_seconds", d.receive_message_wait_seconds),
        ("maximum_message_size", d.maximum_message_size),
    ] {
        w.key(k.as_bytes());
        w.i64(v);
    }
    for (k, v) in [("redrive_policy", &d.redrive_policy), ("redrive_allow_policy", &d.redrive_allow_policy)] {
        if !v.is_empty() {
            w.key(k.as_bytes());
            w.string(v.as_bytes());
        }
    }
    if d.partition_count != 0 {
        w.key(b"partition_count");
        w.u64(u64::from(d.partition_count));
    }
    for (k, v) in
        [("fifo_throughput_limit", &d.fifo_throughput_limit), ("deduplication_scope", &d.deduplication_scope)]
    {
        if !v.is_empty() {
            w.key(k.as_bytes());
            w.string(v.as_bytes());
        }
    }
    w.end_object();
    out
}

/// The stored message JSON (`body` and the receipt token in standard
/// base64, as Go encodes `[]byte`).
pub fn message_value(m: &MessageDef) -> Vec<u8> {
    let mut out = MESSAGE_MAGIC.to_vec();
    let mut w = JsonWriter::compact(&mut out, true);
    w.begin_object();
    w.key(b"message_id");
    w.string(m.message_id.as_bytes());
    w.key(b"body");
    w.string(STANDARD.encode(&m.body).as_bytes());
    for (k, v) in
        [("md5_of_body", &m.md5_of_body), ("md5_of_message_attributes", &m.md5_of_message_attributes)]
    {
        w.key(k.as_bytes());
        w.string(v.as_bytes());
    }
    if !m.message_attributes.is_empty() {
        w.key(b"message_attributes");
        w.begin_object();
        for (k, v) in &m.message_attributes {
            w.key(k.as_bytes());
            w.raw(v.as_bytes()).expect("attribute value must be JSON");
        }
        w.end_object();
    }
    w.key(b"sender_id");
    w.string(m.sender_id.as_bytes());
    for (k, v) in [
        ("send_timestamp_millis", m.send_timestamp_millis),
        ("available_at_millis", m.available_at_millis),
        ("visible_at_millis", m.visible_at_millis),
        ("receive_count", m.receive_count),
        ("first_receive_millis", m.first_receive_millis),
    ] {
        w.key(k.as_bytes());
        w.i64(v);
    }
    w.key(b"current_receipt_token");
    match &m.current_receipt_token {
        Some(t) => w.string(STANDARD.encode(t).as_bytes()),
        None => w.null(),
    }
    w.key(b"queue_generation");
    w.u64(m.queue_generation);
    for (k, v) in
        [("message_group_id", &m.message_group_id), ("message_deduplication_id", &m.message_deduplication_id)]
    {
        w.key(k.as_bytes());
        w.string(v.as_bytes());
    }
    w.key(b"sequence_number");
    w.u64(m.sequence_number);
    w.key(b"dead_letter_source_arn");
    w.string(m.dead_letter_source_arn.as_bytes());
    w.end_object();
    out
}

/// A queue's meta and generation rows.
pub fn queue_records(d: &QueueDef) -> Vec<Record> {
    vec![
        Record { key: queue_meta_key(&d.name), value: queue_meta_value(d) },
        Record { key: queue_gen_key(&d.name), value: d.generation.to_string().into_bytes() },
    ]
}

/// A message's data row plus the visibility and age index rows the live
/// adapter writes beside it.
pub fn message_records(queue: &str, partition: Option<u32>, m: &MessageDef) -> Vec<Record> {
    let g = m.queue_generation;
    let id = &m.message_id;
    vec![
        Record { key: msg_data_key(queue, partition, g, id), value: message_value(m) },
        Record {
            key: msg_index_key(MSG_VIS_PREFIX, queue, partition, g, m.visible_at_millis.max(0) as u64, id),
            value: id.as_bytes().to_vec(),
        },
        Record {
            key: msg_index_key(
                MSG_BYAGE_PREFIX,
                queue,
                partition,
                g,
                m.send_timestamp_millis.max(0) as u64,
                id,
            ),
            value: id.as_bytes().to_vec(),
        },
    ]
}

/// How long the live FIFO path honours a deduplication id (5 minutes).
pub(crate) const FIFO_DEDUP_WINDOW_MILLIS: i64 = 5 * 60 * 1000;

/// What a restore keeps of a dumped message (upstream `encode_sqs.go`,
/// `sqsStoredMessage`): everything else is reset.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct RestoreMessage {
    pub message_id: String,
    /// `None` when the dump line has no `body` member: Go then stores a nil
    /// `[]byte`, which marshals as `null` rather than `""`.
    pub body: Option<Vec<u8>>,
    pub md5_of_body: String,
    pub md5_of_message_attributes: String,
    /// Attribute name → JSON text of its value, sorted by name, names unique.
    pub message_attributes: Vec<(Vec<u8>, Vec<u8>)>,
    pub sender_id: String,
    pub send_timestamp_millis: i64,
    pub available_at_millis: i64,
    pub message_group_id: String,
    pub message_deduplication_id: String,
    pub sequence_number: u64,
    pub dead_letter_source_arn: String,
}

/// The stored message JSON a restore writes, byte for byte as upstream's
/// encoder marshals it: visibility state reset (`visible_at_millis` and
/// `receive_count` 0, `first_receive_millis` omitted, receipt token
/// `null`), the given generation, and the `omitempty` fields left out when
/// empty. (Unlike [`message_value`], which writes every field the way the
/// live adapter's fixtures need.)
pub(crate) fn restore_message_value(m: &RestoreMessage, generation: u64) -> Vec<u8> {
    let mut out = MESSAGE_MAGIC.to_vec();
    let mut w = JsonWriter::compact(&mut out, true);
    let optional = |w: &mut JsonWriter<'_>, k: &str, v: &str| {
        if !v.is_empty() {
            w.key(k.as_bytes());
            w.string(v.as_bytes());
        }
    };
    w.begin_object();
    w.key(b"message_id");
    w.string(m.message_id.as_bytes());
    w.key(b"body");
    match &m.body {
        Some(b) => w.string(STANDARD.encode(b).as_bytes()),
        None => w.null(),
    }
    w.key(b"md5_of_body");
    w.string(m.md5_of_body.as_bytes());
    optional(&mut w, "md5_of_message_attributes", &m.md5_of_message_attributes);
    if !m.message_attributes.is_empty() {
        w.key(b"message_attributes");
        w.begin_object();
        for (k, v) in &m.message_attributes {
            w.key(k);
            if w.raw(v).is_err() {
                // Callers hand over validated JSON; keep the output valid
                // regardless.
                w.null();
            }
        }
        w.end_object();
    }
    optional(&mut w, "sender_id", &m.sender_id);
    for (k, v) in [
        ("send_timestamp_millis", m.send_timestamp_millis),
        ("available_at_millis", m.available_at_millis),
        ("visible_at_millis", 0),
        ("receive_count", 0),
    ] {
        w.key(k.as_bytes());
        w.i64(v);
    }
    w.key(b"current_receipt_token");
    w.null();
    w.key(b"queue_generation");
    w.u64(generation);
    optional(&mut w, "message_group_id", &m.message_group_id);
    optional(&mut w, "message_deduplication_id", &m.message_deduplication_id);
    if m.sequence_number != 0 {
        w.key(b"sequence_number");
        w.u64(m.sequence_number);
    }
    optional(&mut w, "dead_letter_source_arn", &m.dead_letter_source_arn);
    w.end_object();
    out
}

/// A partitioned queue's deduplication row key:
/// `prefix‖p|Q|‖BE32(partition)‖BE64(gen)‖G|D`. The `|` between the
/// group and dedup segments keeps distinct pairs apart.
pub(crate) fn msg_partitioned_dedup_key(
    name: &str,
    partition: u32,
    generation: u64,
    group_id: &str,
    dedup_id: &str,
) -> Vec<u8> {
    cat(&[
        MSG_DEDUP_PREFIX,
        &queue_part(name, Some(partition), generation),
        q(group_id).as_bytes(),
        b"|",
        q(dedup_id).as_bytes(),
    ])
}

/// The FIFO deduplication record (`sqsFifoDedupRecord`): who owns the id
/// and until when (`send_ts` + 5 minutes, wrapping like Go's `int64`).
pub(crate) fn fifo_dedup_value(message_id: &str, send_timestamp_millis: i64, sequence: u64) -> Vec<u8> {
    let mut out = Vec::new();
    let mut w = JsonWriter::compact(&mut out, true);
    w.begin_object();
    w.key(b"message_id");
    w.string(message_id.as_bytes());
    w.key(b"send_timestamp_ms");
    w.i64(send_timestamp_millis);
    w.key(b"expires_at_millis");
    w.i64(send_timestamp_millis.wrapping_add(FIFO_DEDUP_WINDOW_MILLIS));
    if sequence != 0 {
        w.key(b"original_sequence");
        w.u64(sequence);
    }
    w.end_object();
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dedup_record_expiry_wraps_like_go() {
        let v = fifo_dedup_value("m<", i64::MAX, 0);
        let want = format!(
            r#"{{"message_id":"m\u003c","send_timestamp_ms":{},"expires_at_millis":{}}}"#,
            i64::MAX,
            i64::MIN + FIFO_DEDUP_WINDOW_MILLIS - 1
        );
        assert_eq!(String::from_utf8(v).unwrap(), want);
    }

    #[test]
    fn restore_value_compacts_attribute_json() {
        let m = RestoreMessage {
            message_id: "m".into(),
            body: Some(Vec::new()),
            message_attributes: vec![(b"k".to_vec(), b"[ 1 , \"&\" ]".to_vec())],
            ..Default::default()
        };
        let v = restore_message_value(&m, 1);
        assert_eq!(
            String::from_utf8_lossy(&v[4..]),
            r#"{"message_id":"m","body":"","md5_of_body":"","message_attributes":{"k":[1,"\u0026"]},"send_timestamp_millis":0,"available_at_millis":0,"visible_at_millis":0,"receive_count":0,"current_receipt_token":null,"queue_generation":1}"#
        );
    }
}
