//! SQS: `sqs/<queue>/_queue.json` and `messages.jsonl` back to queue meta,
//! generation and sequence counters, message rows, and the visibility,
//! age and deduplication rows the live adapter keeps beside each message
//! (`pack.md` §10, `redis-sqs.md` §5). Record bytes come from
//! [`crate::adapters::sqs::records`], message lines parse with
//! [`crate::adapters::sqs::dump`]; this module reads the tree and applies
//! upstream's queue rules.
//!
//! As upstream: non-directories under `sqs/` and anything in a queue
//! directory besides `_queue.json` and `messages.jsonl` (`_internals/`)
//! are ignored, and the directory name is not checked (the self-test
//! reports a queue in the wrong directory). A queue is checked completely
//! before any of its records is added.
//!
//! Beyond upstream: a stray `]` or `}` between messages is refused (Go's
//! decoder silently stops reading there), and two directories holding the
//! same queue, or a message id repeated in a queue, are reported as such
//! rather than as a duplicate record key.

use std::collections::HashMap;

use sha2::{Digest, Sha256};

use crate::adapters::packing::{Ctx, RESTORE_GENERATION};
use crate::adapters::records::Record;
use crate::adapters::sqs::dump::{parse_messages, DumpMessage, LineError};
use crate::adapters::sqs::records::{
    fifo_dedup_value, msg_data_key, msg_dedup_key, msg_index_key, msg_partitioned_dedup_key, queue_records,
    queue_seq_key, restore_message_value, QueueDef, MSG_BYAGE_PREFIX, MSG_VIS_PREFIX,
};
use crate::codec::gostruct::GoObject;
use crate::codec::hex;
use crate::dumptree::fsio::{Dir, FileError, Kind};
use crate::dumptree::join;
use crate::dumptree::MAX_DOCUMENT;
use crate::exit::Failure as PackError;

const QUEUE_JSON: &[u8] = b"_queue.json";
const MESSAGES: &[u8] = b"messages.jsonl";
/// Every message of a queue is held in memory (as upstream does), so the
/// file is bounded by memory rather than by the record cap; this bound only
/// keeps the reader's arithmetic far from overflow.
const MAX_MESSAGES_FILE: u64 = 1 << 48;

/// The live adapter's HT-FIFO limits and settings (`adapter/sqs_partitioning.go`).
const MAX_PARTITIONS: u32 = 32;
const PER_MESSAGE_GROUP: &str = "perMessageGroupId";
const PER_QUEUE: &str = "perQueue";
const SCOPE_MESSAGE_GROUP: &str = "messageGroup";
const SCOPE_QUEUE: &str = "queue";

pub(crate) fn encode(root: &Dir, ctx: &mut Ctx) -> Result<(), PackError> {
    let rel = b"sqs".to_vec();
    // Queue name → the directory that defined it.
    let mut seen: HashMap<String, Vec<u8>> = HashMap::new();
    for e in root.entries().map_err(|e| ctx.io(&rel, e))? {
        let e = e.map_err(|e| ctx.io(&rel, e))?;
        if e.kind != Kind::Dir {
            continue;
        }
        let path = join(&rel, &e.name);
        let dir = root.open_dir(&e.name).map_err(|err| ctx.io(&path, err))?;
        queue(&dir, &path, &mut seen, ctx)?;
    }
    Ok(())
}

fn queue(dir: &Dir, rel: &[u8], seen: &mut HashMap<String, Vec<u8>>, ctx: &mut Ctx) -> Result<(), PackError> {
    let meta_path = join(rel, QUEUE_JSON);
    let bytes = dir.read_file(QUEUE_JSON, MAX_DOCUMENT).map_err(|e| match e {
        FileError::Missing => ctx.tree(&meta_path, "missing: every queue directory needs its _queue.json"),
        e => ctx.file(&meta_path, e),
    })?;
    ctx.walked();
    let q = parse_queue(&bytes).map_err(|d| ctx.tree(&meta_path, d))?;
    if let Some(first) = seen.get(&q.name) {
        return Err(ctx.tree(
            &meta_path,
            format!(
                "queue {:?} is also defined by {}/_queue.json (a queue name may appear once)",
                q.name,
                String::from_utf8_lossy(first)
            ),
        ));
    }
    seen.insert(q.name.clone(), rel.to_vec());

    let messages_path = join(rel, MESSAGES);
    let messages = match dir.read_file(MESSAGES, MAX_MESSAGES_FILE) {
        Ok(bytes) => {
            ctx.walked();
            parse_messages(&bytes).map_err(|e| line_error(ctx, &messages_path, e))?
        }
        Err(FileError::Missing) => Vec::new(),
        Err(e) => return Err(ctx.file(&messages_path, e)),
    };
    check_messages(&q, &messages).map_err(|e| line_error(ctx, &messages_path, e))?;
    add_queue(&q, messages, &meta_path, &messages_path, ctx)
}

fn line_error(ctx: &Ctx, path: &[u8], (line, detail): LineError) -> PackError {
    ctx.tree(path, format!("line {line}: {detail}"))
}

/// `_queue.json` (`redis-sqs.md` §5.2) → the queue as a restore stores it
/// (generation 1), refusing what the live adapter could never have held
/// (`pack.md` §10.2). Checks run in upstream's order.
pub(crate) fn parse_queue(bytes: &[u8]) -> Result<QueueDef, String> {
    let o = GoObject::parse(bytes)?;
    let version = o.u32("format_version")?;
    let q = QueueDef {
        name: o.str("name")?,
        generation: RESTORE_GENERATION,
        is_fifo: o.bool("fifo")?,
        content_based_dedup: o.bool("content_based_deduplication")?,
        visibility_timeout_seconds: o.i64("visibility_timeout_seconds")?,
        message_retention_seconds: o.i64("message_retention_seconds")?,
        delay_seconds: o.i64("delay_seconds")?,
        receive_message_wait_seconds: o.i64("receive_message_wait_seconds")?,
        maximum_message_size: o.i64("maximum_message_size")?,
        redrive_policy: o.str("redrive_policy")?,
        redrive_allow_policy: o.str("redrive_allow_policy")?,
        partition_count: o.u32("partition_count")?,
        fifo_throughput_limit: o.str("fifo_throughput_limit")?,
        deduplication_scope: o.str("deduplication_scope")?,
    };
    if version != 1 {
        return Err(format!("unsupported format_version {version}"));
    }
    check_ht_fifo(&q)?;
    if q.name.is_empty() {
        return Err("empty queue name".into());
    }
    Ok(q)
}

/// The HT-FIFO settings the live adapter's validator allows.
fn check_ht_fifo(q: &QueueDef) -> Result<(), String> {
    let (limit, scope, n) =
        (q.fifo_throughput_limit.as_str(), q.deduplication_scope.as_str(), q.partition_count);
    if !["", PER_MESSAGE_GROUP, PER_QUEUE].contains(&limit) {
        return Err(format!(
            "unsupported fifo_throughput_limit {limit:?} (want {PER_MESSAGE_GROUP:?} or {PER_QUEUE:?})"
        ));
    }
    if !["", SCOPE_MESSAGE_GROUP, SCOPE_QUEUE].contains(&scope) {
        return Err(format!(
            "unsupported deduplication_scope {scope:?} (want {SCOPE_MESSAGE_GROUP:?} or {SCOPE_QUEUE:?})"
        ));
    }
    // partitionFor masks the group hash with n-1, which equals `% n` only
    // for powers of two.
    if !n.is_power_of_two() && n != 0 {
        return Err(format!("partition_count {n} must be a power of two"));
    }
    if n > MAX_PARTITIONS {
        return Err(format!("partition_count {n} exceeds the maximum of {MAX_PARTITIONS}"));
    }
    if !q.is_fifo {
        if n > 1 {
            return Err(format!("partition_count {n} is only valid on FIFO queues"));
        }
        if !limit.is_empty() {
            return Err(format!("fifo_throughput_limit {limit:?} is only valid on FIFO queues"));
        }
        if !scope.is_empty() {
            return Err(format!("deduplication_scope {scope:?} is only valid on FIFO queues"));
        }
        return Ok(());
    }
    if n > 1 && scope == SCOPE_QUEUE {
        return Err(format!("deduplication_scope {scope:?} is incompatible with partition_count {n}"));
    }
    if limit == PER_MESSAGE_GROUP && n <= 1 {
        return Err(format!("fifo_throughput_limit {limit:?} requires partition_count > 1"));
    }
    Ok(())
}

/// Whether the queue's messages live in the partitioned key families: a
/// property of the queue, never of a message.
fn is_partitioned(q: &QueueDef) -> bool {
    q.partition_count > 1
}

/// Everything that would make a message unrestorable, before any record
/// of the queue is added: partitions first (as upstream), then ids.
pub(crate) fn check_messages(q: &QueueDef, messages: &[DumpMessage]) -> Result<(), LineError> {
    for m in messages {
        check_partition(q, m).map_err(|d| (m.line, d))?;
    }
    // A repeated id gives a repeated data key: only within one lane.
    let mut ids: HashMap<(Option<u32>, &str), usize> = HashMap::new();
    for m in messages {
        let id = m.message.message_id.as_str();
        if id.is_empty() {
            return Err((m.line, "empty message_id".into()));
        }
        if let Some(first) = ids.insert((lane(q, m), id), m.line) {
            return Err((
                m.line,
                format!(
                    "message_id {id:?} already appears on line {first} (several versions of one message cannot be restored)"
                ),
            ));
        }
    }
    Ok(())
}

/// The partition in the message's keys (`None`: classic keys).
fn lane(q: &QueueDef, m: &DumpMessage) -> Option<u32> {
    is_partitioned(q).then(|| m.partition.unwrap_or(0))
}

/// `pack.md` §10.5: a partitioned message must sit on the lane the live
/// router gives its group, or receives and group locks would miss it.
fn check_partition(q: &QueueDef, m: &DumpMessage) -> Result<(), String> {
    let id = &m.message.message_id;
    let n = q.partition_count;
    if !is_partitioned(q) {
        return match m.partition {
            Some(p) if p != 0 => Err(format!(
                "message {id:?} has partition {p}, but queue {:?} is not partitioned (partition_count {n})",
                q.name
            )),
            _ => Ok(()),
        };
    }
    let Some(p) = m.partition else {
        return Err(format!(
            "message {id:?} has no partition, but queue {:?} has partition_count {n} (re-decode the snapshot with a partition-aware decoder)",
            q.name
        ));
    };
    if p >= n {
        return Err(format!("message {id:?} partition {p} is out of range for partition_count {n}"));
    }
    let want = partition_for(q, &m.message.message_group_id);
    if p != want {
        let why = if q.fifo_throughput_limit == PER_QUEUE {
            format!("a {PER_QUEUE:?} queue keeps every message on partition 0")
        } else {
            format!("message_group_id {:?} routes to partition {want}", m.message.message_group_id)
        };
        return Err(format!("message {id:?} has partition {p}, but {why}"));
    }
    Ok(())
}

/// The live router (`partitionFor`): FNV-1a 32 of the group id masked to
/// the partition count; everything on partition 0 for `perQueue` queues
/// and for messages without a group.
fn partition_for(q: &QueueDef, group: &str) -> u32 {
    if !is_partitioned(q) || q.fifo_throughput_limit == PER_QUEUE || group.is_empty() {
        return 0;
    }
    fnv1a32(group.as_bytes()) & (q.partition_count - 1)
}

fn fnv1a32(bytes: &[u8]) -> u32 {
    bytes.iter().fold(2_166_136_261u32, |h, &b| (h ^ u32::from(b)).wrapping_mul(16_777_619))
}

/// The queue's records: meta and generation, each message's rows, then
/// the FIFO sequence counter.
fn add_queue(
    q: &QueueDef,
    mut messages: Vec<DumpMessage>,
    meta_path: &[u8],
    messages_path: &[u8],
    ctx: &mut Ctx,
) -> Result<(), PackError> {
    for r in queue_records(q) {
        ctx.add(meta_path, &r.key, &r.value)?;
    }
    if is_partitioned(q) {
        // Processing order decides ties between deduplication winners.
        messages.sort_by(|a, b| {
            (a.partition, a.message.send_timestamp_millis, a.message.sequence_number)
                .cmp(&(b.partition, b.message.send_timestamp_millis, b.message.sequence_number))
                .then_with(|| a.message.message_id.as_bytes().cmp(b.message.message_id.as_bytes()))
        });
    }
    let dedup_ids = dedup_winners(q, &messages);
    for (m, dedup_id) in messages.iter().zip(&dedup_ids) {
        for r in message_records(q, m, dedup_id.as_deref()) {
            ctx.add(messages_path, &r.key, &r.value)?;
        }
    }
    // The counter holds the last sequence number issued (the next send
    // takes max + 1); an empty FIFO queue has none, as a fresh one.
    let max_seq = messages.iter().map(|m| m.message.sequence_number).max().unwrap_or(0);
    if q.is_fifo && max_seq > 0 {
        ctx.add(meta_path, &queue_seq_key(&q.name), max_seq.to_string().as_bytes())?;
    }
    Ok(())
}

/// The deduplication id whose row each message writes (`None`: no row).
/// Only FIFO queues deduplicate; of the messages sharing a row key, the
/// latest send owns it, the earliest in processing order on a tie.
pub(crate) fn dedup_winners(q: &QueueDef, messages: &[DumpMessage]) -> Vec<Option<String>> {
    let mut ids: Vec<Option<String>> =
        messages.iter().map(|m| if q.is_fifo { resolved_dedup_id(q, m) } else { None }).collect();
    // Row key tuple → index of the current owner. Classic rows are keyed by
    // the id alone, partitioned rows by (partition, group, id).
    let mut owner: HashMap<(Option<u32>, &str, &str), usize> = HashMap::new();
    let mut losers = Vec::new();
    for (i, (m, id)) in messages.iter().zip(&ids).enumerate() {
        let Some(id) = id else { continue };
        let key = match lane(q, m) {
            Some(p) => (Some(p), m.message.message_group_id.as_str(), id.as_str()),
            None => (None, "", id.as_str()),
        };
        match owner.get(&key) {
            Some(&prev)
                if messages[prev].message.send_timestamp_millis >= m.message.send_timestamp_millis =>
            {
                losers.push(i)
            }
            Some(&prev) => {
                losers.push(prev);
                owner.insert(key, i);
            }
            None => {
                owner.insert(key, i);
            }
        }
    }
    for i in losers {
        ids[i] = None;
    }
    ids
}

/// The id the live FIFO path deduplicates on: the sender's, else (with
/// content-based deduplication) the SHA-256 of the body. The stored
/// message keeps only the sender's, so the hash is recomputed here.
fn resolved_dedup_id(q: &QueueDef, m: &DumpMessage) -> Option<String> {
    if !m.message.message_deduplication_id.is_empty() {
        return Some(m.message.message_deduplication_id.clone());
    }
    if !q.content_based_dedup {
        return None;
    }
    Some(hex(&Sha256::digest(m.message.body.as_deref().unwrap_or_default())))
}

/// One message's data row, its visibility and age index rows (visible at
/// `available_at_millis`: the visibility state is reset), and the
/// deduplication row when it owns one.
pub(crate) fn message_records(q: &QueueDef, m: &DumpMessage, dedup_id: Option<&str>) -> Vec<Record> {
    let (name, id, msg) = (q.name.as_str(), m.message.message_id.as_str(), &m.message);
    let lane = lane(q, m);
    let index = |prefix: &[u8], ts: i64| Record {
        key: msg_index_key(prefix, name, lane, RESTORE_GENERATION, ts.max(0) as u64, id),
        value: id.as_bytes().to_vec(),
    };
    let mut out = vec![
        Record {
            key: msg_data_key(name, lane, RESTORE_GENERATION, id),
            value: restore_message_value(msg, RESTORE_GENERATION),
        },
        index(MSG_VIS_PREFIX, msg.available_at_millis),
        index(MSG_BYAGE_PREFIX, msg.send_timestamp_millis),
    ];
    if let Some(d) = dedup_id {
        let key = match lane {
            Some(p) => msg_partitioned_dedup_key(name, p, RESTORE_GENERATION, &msg.message_group_id, d),
            None => msg_dedup_key(name, RESTORE_GENERATION, d),
        };
        out.push(Record { key, value: fifo_dedup_value(id, msg.send_timestamp_millis, msg.sequence_number) });
    }
    out
}

/// Self-test: whether a decoded `sqs/<queue>/messages.jsonl` that differs
/// in bytes from the input holds the same messages. A tree decoded from a
/// live node carries the queue's generation in every line (and, decoded
/// with upstream's defaults, nothing else pack changes); a restore stamps
/// generation 1, so upstream's self-test fails on any queue that was ever
/// purged. The lines match when they parse to the same messages — every
/// field a restore keeps, in the same order.
pub(crate) fn same_data(rel: &[u8], input: &[u8], decoded: &[u8]) -> bool {
    let is_messages = rel.starts_with(b"sqs/")
        && rel.ends_with(&[b"/", MESSAGES].concat())
        && rel.iter().filter(|&&b| b == b'/').count() == 2;
    if !is_messages {
        return false;
    }
    let kept = |b: &[u8]| {
        parse_messages(b).map(|v| v.into_iter().map(|m| (m.message, m.partition)).collect::<Vec<_>>())
    };
    matches!((kept(input), kept(decoded)), (Ok(a), Ok(b)) if a == b)
}

#[cfg(test)]
mod tests {
    #[test]
    fn same_data_ignores_the_generation_only() {
        let line = |gen: u32, body: &str| {
            format!(
                r#"{{"message_id":"m","body":"{body}","send_timestamp_millis":1,"queue_generation":{gen}}}"#
            )
        };
        let rel = b"sqs/q/messages.jsonl";
        let two = |a: String, b: String| format!("{a}\n{b}\n").into_bytes();
        assert!(same_data(rel, line(7, "x").as_bytes(), line(1, "x").as_bytes()));
        assert!(!same_data(rel, line(7, "x").as_bytes(), line(1, "y").as_bytes()));
        assert!(!same_data(rel, &two(line(1, "x"), line(1, "y")), &two(line(1, "y"), line(1, "x"))));
        assert!(!same_data(b"sqs/q/_queue.json", line(7, "x").as_bytes(), line(1, "x").as_bytes()));
        assert!(!same_data(b"sqs/q/x/messages.jsonl", line(7, "x").as_bytes(), line(1, "x").as_bytes()));
    }

    use super::*;
    use crate::adapters::sqs::records::RestoreMessage;

    fn queue(json: &str) -> Result<QueueDef, String> {
        parse_queue(json.as_bytes())
    }

    #[test]
    fn queue_shapes() {
        let q = queue(r#"{"format_version":1,"name":"q.fifo","FIFO":true,"partition_count":4,"fifo_throughput_limit":"perMessageGroupId","deduplication_scope":"messageGroup","unknown":[1]}"#).unwrap();
        assert!(q.is_fifo && is_partitioned(&q));
        assert_eq!(q.generation, 1);
        let fifo = r#""format_version":1,"name":"q","fifo":true"#;
        for (bad, why) in [
            (r#"{"format_version":2,"name":"q"}"#.to_string(), "unsupported format_version 2"),
            (r#"{"format_version":1,"name":""}"#.into(), "empty queue name"),
            (r#"{"format_version":1,"name":7}"#.into(), "cannot unmarshal"),
            (r#"{"format_version":1,"name":"q"} x"#.into(), "trailing"),
            (r#"{"format_version":1,"name":"q","partition_count":-1}"#.into(), "uint32"),
            (format!(r#"{{{fifo},"fifo_throughput_limit":"fast"}}"#), "unsupported fifo_throughput_limit"),
            (format!(r#"{{{fifo},"deduplication_scope":"all"}}"#), "unsupported deduplication_scope"),
            (format!(r#"{{{fifo},"partition_count":3}}"#), "must be a power of two"),
            (format!(r#"{{{fifo},"partition_count":64}}"#), "exceeds the maximum of 32"),
            (r#"{"format_version":1,"name":"q","partition_count":2}"#.into(), "only valid on FIFO"),
            (
                r#"{"format_version":1,"name":"q","fifo_throughput_limit":"perQueue"}"#.into(),
                "only valid on FIFO",
            ),
            (r#"{"format_version":1,"name":"q","deduplication_scope":"queue"}"#.into(), "only valid on FIFO"),
            (format!(r#"{{{fifo},"partition_count":2,"deduplication_scope":"queue"}}"#), "incompatible"),
            (
                format!(r#"{{{fifo},"fifo_throughput_limit":"perMessageGroupId"}}"#),
                "requires partition_count > 1",
            ),
        ] {
            let e = queue(&bad).unwrap_err();
            assert!(e.contains(why), "{bad}: {e}");
        }
        for ok in [
            format!(
                r#"{{{fifo},"partition_count":1,"fifo_throughput_limit":"perQueue","deduplication_scope":"queue"}}"#
            ),
            format!(r#"{{{fifo},"partition_count":32,"fifo_throughput_limit":"perQueue"}}"#),
            r#"{"format_version":1,"name":"q","partition_count":1}"#.into(),
        ] {
            queue(&ok).unwrap();
        }
    }

    #[test]
    fn router_matches_the_live_hash() {
        assert_eq!(fnv1a32(b""), 2_166_136_261);
        assert_eq!(fnv1a32(b"a"), 0xe40c_292c);
        let mut q = QueueDef { partition_count: 4, ..Default::default() };
        assert_eq!(partition_for(&q, "g1"), 1);
        assert_eq!(partition_for(&q, "user-7"), 2);
        assert_eq!(partition_for(&q, ""), 0, "no group: partition 0, not the hash of \"\"");
        q.fifo_throughput_limit = PER_QUEUE.into();
        assert_eq!(partition_for(&q, "g1"), 0);
    }

    fn msg(id: &str, ts: i64, dedup: &str, group: &str, partition: Option<u32>) -> DumpMessage {
        DumpMessage {
            line: 1,
            partition,
            message: RestoreMessage {
                message_id: id.into(),
                body: Some(id.as_bytes().to_vec()),
                send_timestamp_millis: ts,
                message_deduplication_id: dedup.into(),
                message_group_id: group.into(),
                ..Default::default()
            },
        }
    }

    #[test]
    fn latest_send_owns_the_dedup_row() {
        let q = QueueDef { is_fifo: true, ..Default::default() };
        let ms = [msg("a", 5, "d", "g1", None), msg("b", 9, "d", "g2", None), msg("c", 9, "d", "g1", None)];
        let got = dedup_winners(&q, &ms);
        assert_eq!(
            got,
            vec![None, Some("d".into()), None],
            "classic rows ignore the group; ties keep the first"
        );
        let std = QueueDef { is_fifo: false, content_based_dedup: true, ..Default::default() };
        assert_eq!(dedup_winners(&std, &ms), vec![None, None, None]);
        let cbd = QueueDef { is_fifo: true, content_based_dedup: true, ..Default::default() };
        let got = dedup_winners(&cbd, &[msg("hello", 1, "", "g", None)]);
        assert_eq!(
            got[0].as_deref(),
            Some("2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824")
        );
        let part = QueueDef { is_fifo: true, partition_count: 2, ..Default::default() };
        let ms = [
            msg("a", 5, "d", "g1", Some(1)),
            msg("b", 5, "d", "g2", Some(1)),
            msg("c", 7, "d", "g1", Some(1)),
        ];
        assert_eq!(dedup_winners(&part, &ms), vec![None, Some("d".into()), Some("d".into())]);
    }
}
