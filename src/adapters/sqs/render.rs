//! `_queue.json`, `messages.jsonl` lines and side-record lines, byte for
//! byte as upstream writes them (`redis-sqs.md` §5.2–§5.4).

use super::message;
use crate::adapters::frag::{FragError, Piece};
use crate::adapters::route;
use crate::adapters::sqs::records::{MESSAGE_MAGIC, QUEUE_META_MAGIC, QUEUE_META_PREFIX};
use crate::codec::gojson::JsonWriter;
use crate::codec::gostruct::GoObject;
use crate::container::entry_at;
use crate::keys::segment::{b64url_nopad, b64url_nopad_decode};

/// The SQS file kinds built from fragments.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    Messages { preserve_visibility: bool },
    SideRecords,
}

pub(crate) fn piece(data: &[u8], kind: Kind, p: Piece, out: &mut Vec<u8>) -> Result<(), FragError> {
    let Piece::Item { offset, .. } = p else { return Ok(()) };
    let e = entry_at(data, offset).ok_or_else(|| FragError::at(offset, "entry unreadable"))?;
    match kind {
        Kind::Messages { preserve_visibility } => {
            let partition = super::keys::partition_of(&e.user_key[b"!sqs|msg|data|".len()..]);
            message_line(e.body, partition, preserve_visibility, out)
                .map_err(|d| FragError::at(offset, format!("invalid !sqs|msg|data value: {d}")))
        }
        Kind::SideRecords => {
            side_record_line(e.user_key, e.body, out);
            Ok(())
        }
    }
}

/// A `messages.jsonl` line from a stored message value.
pub(crate) fn message_line(
    value: &[u8],
    partition: Option<u32>,
    preserve: bool,
    out: &mut Vec<u8>,
) -> Result<(), String> {
    let json = value.strip_prefix(MESSAGE_MAGIC).ok_or("missing magic prefix")?;
    message::render_line(json, partition, preserve, out)
}

/// `{"prefix":…,"key_hex":…,"value_b64":…}`, escaping off.
pub(crate) fn side_record_line(user_key: &[u8], value: &[u8], out: &mut Vec<u8>) {
    let prefix_len = route::classify(user_key).map_or(0, |(_, n)| n);
    let mut hex = Vec::with_capacity(user_key.len() * 2);
    for b in user_key {
        hex.extend_from_slice(format!("{b:02x}").as_bytes());
    }
    let mut w = JsonWriter::compact(out, false);
    w.begin_object();
    w.key(b"prefix");
    w.string(&user_key[..prefix_len]);
    w.key(b"key_hex");
    w.string(&hex);
    w.key(b"value_b64");
    w.string(b64url_nopad(value).as_bytes());
    w.end_object();
    w.end_line();
}

/// `_queue.json` (§5.2) from the queue meta entry; the name falls back to
/// the one the key encodes.
pub(crate) fn queue_json(user_key: &[u8], value: &[u8], out: &mut Vec<u8>) -> Result<(), String> {
    let name =
        b64url_nopad_decode(&user_key[QUEUE_META_PREFIX.len()..]).ok_or("queue segment is not base64url")?;
    let json = value.strip_prefix(QUEUE_META_MAGIC).ok_or("missing magic prefix")?;
    let m = GoObject::parse(json)?;
    let stored_name = m.str("name")?;
    let mut w = JsonWriter::pretty(out, true);
    w.begin_object();
    w.key(b"format_version");
    w.u64(1);
    w.key(b"name");
    w.string(if stored_name.is_empty() { &name } else { stored_name.as_bytes() });
    for (live, dump) in [("is_fifo", "fifo"), ("content_based_dedup", "content_based_deduplication")] {
        if m.bool(live)? {
            w.key(dump.as_bytes());
            w.bool(true);
        }
    }
    for (field, omit_zero) in [
        ("visibility_timeout_seconds", false),
        ("message_retention_seconds", false),
        ("delay_seconds", false),
        ("receive_message_wait_seconds", true),
        ("maximum_message_size", true),
    ] {
        let v = m.i64(field)?;
        if v != 0 || !omit_zero {
            w.key(field.as_bytes());
            w.i64(v);
        }
    }
    let strings = |w: &mut JsonWriter<'_>, fields: &[&str]| -> Result<(), String> {
        for f in fields {
            let v = m.str(f)?;
            if !v.is_empty() {
                w.key(f.as_bytes());
                w.string(v.as_bytes());
            }
        }
        Ok(())
    };
    strings(&mut w, &["redrive_policy", "redrive_allow_policy"])?;
    let partitions = m.u32("partition_count")?;
    if partitions != 0 {
        w.key(b"partition_count");
        w.u64(u64::from(partitions));
    }
    strings(&mut w, &["fifo_throughput_limit", "deduplication_scope"])?;
    w.end_object();
    Ok(())
}
