//! Snapshot record encoders for the Redis adapter: the user keys and value
//! bodies elastickv's live Redis adapter writes (`redis-sqs.md` §2–§3), for
//! fixtures, benchmarks and `pack`. Keys carry no MVCC suffix and values no
//! MVCC header.

use crate::adapters::records::Record;
use crate::codec::protowire::Writer;

pub(crate) const STR_PREFIX: &[u8] = b"!redis|str|";
pub(crate) const HLL_PREFIX: &[u8] = b"!redis|hll|";
pub(crate) const TTL_PREFIX: &[u8] = b"!redis|ttl|";
pub(crate) const ZSET_BLOB_PREFIX: &[u8] = b"!redis|zset|";
pub const HASH_META_PREFIX: &[u8] = b"!hs|meta|";
pub const HASH_DELTA_PREFIX: &[u8] = b"!hs|meta|d|";
pub const HASH_FIELD_PREFIX: &[u8] = b"!hs|fld|";
pub(crate) const LIST_META_PREFIX: &[u8] = b"!lst|meta|";
pub const LIST_DELTA_PREFIX: &[u8] = b"!lst|meta|d|";
pub(crate) const LIST_ITEM_PREFIX: &[u8] = b"!lst|itm|";
pub(crate) const LIST_CLAIM_PREFIX: &[u8] = b"!lst|claim|";
pub const SET_META_PREFIX: &[u8] = b"!st|meta|";
pub const SET_DELTA_PREFIX: &[u8] = b"!st|meta|d|";
pub const SET_MEMBER_PREFIX: &[u8] = b"!st|mem|";
pub const ZSET_META_PREFIX: &[u8] = b"!zs|meta|";
pub const ZSET_DELTA_PREFIX: &[u8] = b"!zs|meta|d|";
pub const ZSET_MEMBER_PREFIX: &[u8] = b"!zs|mem|";
pub(crate) const ZSET_SCORE_PREFIX: &[u8] = b"!zs|scr|";
pub const STREAM_META_PREFIX: &[u8] = b"!stream|meta|";
pub const STREAM_ENTRY_PREFIX: &[u8] = b"!stream|entry|";

/// Magic of a legacy `!redis|zset|` blob (`RedisZSetValue` follows).
pub(crate) const ZSET_BLOB_MAGIC: &[u8] = &[0x00, b'R', b'Z', 0x01];
/// Magic of a `!stream|entry|` value (`RedisStreamEntry` follows).
pub(crate) const STREAM_ENTRY_MAGIC: &[u8] = &[0x00, b'R', b'X', b'E', 0x01];

fn cat(parts: &[&[u8]]) -> Vec<u8> {
    parts.concat()
}

/// `BE32(len(k)) ‖ k`, the length-prefixed user key of wide-column keys.
pub fn lp(user_key: &[u8]) -> Vec<u8> {
    cat(&[&(user_key.len() as u32).to_be_bytes(), user_key])
}

/// A signed sequence number in byte-sortable form (sign bit flipped).
pub(crate) fn sort64(v: i64) -> [u8; 8] {
    ((v as u64) ^ (1 << 63)).to_be_bytes()
}

fn with_ttl_header(version: u8, ttl: Option<u64>, payload: &[u8]) -> Vec<u8> {
    match ttl {
        None => cat(&[&[0xFF, version, 0x00], payload]),
        Some(ms) => cat(&[&[0xFF, version, 0x01], &ms.to_be_bytes(), payload]),
    }
}

// --- strings, HLL, TTL index ---------------------------------------------------

pub fn string_key(k: &[u8]) -> Vec<u8> {
    cat(&[STR_PREFIX, k])
}

/// Current string format: `FF 01 flags [BE64 ttl] payload`.
pub fn string_value(payload: &[u8], ttl: Option<u64>) -> Vec<u8> {
    with_ttl_header(0x01, ttl, payload)
}

pub fn hll_key(k: &[u8]) -> Vec<u8> {
    cat(&[HLL_PREFIX, k])
}

/// Current HLL format: `FF 02 flags [BE64 ttl] sketch`.
pub fn hll_value(sketch: &[u8], ttl: Option<u64>) -> Vec<u8> {
    with_ttl_header(0x02, ttl, sketch)
}

pub fn ttl_key(k: &[u8]) -> Vec<u8> {
    cat(&[TTL_PREFIX, k])
}

pub fn ttl_value(expire_at_ms: u64) -> Vec<u8> {
    expire_at_ms.to_be_bytes().to_vec()
}

// --- hashes, sets, zsets: length-prefixed keys -----------------------------------

/// Base meta of a hash, set or zset: `BE64 len`, or `BE64 len ‖ BE64 ttl`
/// when `ttl` is given (even `Some(0)`, which means "no TTL").
pub fn count_meta_value(len: u64, ttl: Option<u64>) -> Vec<u8> {
    match ttl {
        None => len.to_be_bytes().to_vec(),
        Some(ms) => cat(&[&len.to_be_bytes(), &ms.to_be_bytes()]),
    }
}

/// `<prefix>‖LP(k)‖BE64(commit_ts)‖BE32(seq)`: a length delta row.
pub fn delta_key(prefix: &[u8], k: &[u8], commit_ts: u64, seq: u32) -> Vec<u8> {
    cat(&[prefix, &lp(k), &commit_ts.to_be_bytes(), &seq.to_be_bytes()])
}

/// Value of a hash/set/zset delta: signed BE64.
pub fn delta_value(delta: i64) -> Vec<u8> {
    delta.to_be_bytes().to_vec()
}

pub fn hash_meta_key(k: &[u8]) -> Vec<u8> {
    cat(&[HASH_META_PREFIX, &lp(k)])
}

pub fn hash_field_key(k: &[u8], field: &[u8]) -> Vec<u8> {
    cat(&[HASH_FIELD_PREFIX, &lp(k), field])
}

pub fn set_meta_key(k: &[u8]) -> Vec<u8> {
    cat(&[SET_META_PREFIX, &lp(k)])
}

pub fn set_member_key(k: &[u8], member: &[u8]) -> Vec<u8> {
    cat(&[SET_MEMBER_PREFIX, &lp(k), member])
}

pub fn zset_meta_key(k: &[u8]) -> Vec<u8> {
    cat(&[ZSET_META_PREFIX, &lp(k)])
}

pub fn zset_member_key(k: &[u8], member: &[u8]) -> Vec<u8> {
    cat(&[ZSET_MEMBER_PREFIX, &lp(k), member])
}

/// A zset score: IEEE-754 double, big-endian.
pub fn zset_score_value(score: f64) -> Vec<u8> {
    score.to_bits().to_be_bytes().to_vec()
}

/// The score-index row `!zs|scr|‖LP(k)‖SORTF64(score)‖member`.
pub fn zset_score_key(k: &[u8], score: f64, member: &[u8]) -> Vec<u8> {
    let score = if score == 0.0 { 0.0 } else { score };
    let bits = score.to_bits();
    let sortable = if score.is_sign_negative() { !bits } else { bits ^ (1 << 63) };
    cat(&[ZSET_SCORE_PREFIX, &lp(k), &sortable.to_be_bytes(), member])
}

pub fn zset_blob_key(k: &[u8]) -> Vec<u8> {
    cat(&[ZSET_BLOB_PREFIX, k])
}

/// A legacy whole-zset blob: magic ‖ `RedisZSetValue{entries}`.
pub fn zset_blob_value(entries: &[(&[u8], f64)]) -> Vec<u8> {
    let mut w = Writer::default();
    for (member, score) in entries {
        w.message(1, |e| {
            e.bytes(1, member);
            e.varint((2 << 3) | 1);
            e.buf.extend_from_slice(&score.to_le_bytes());
        });
    }
    cat(&[ZSET_BLOB_MAGIC, &w.buf])
}

// --- lists: raw user keys -----------------------------------------------------------

pub fn list_meta_key(k: &[u8]) -> Vec<u8> {
    cat(&[LIST_META_PREFIX, k])
}

/// `BE64 head ‖ BE64 tail ‖ BE64 len [‖ BE64 ttl]`.
pub fn list_meta_value(head: i64, tail: i64, len: u64, ttl: Option<u64>) -> Vec<u8> {
    let mut v = cat(&[&head.to_be_bytes(), &tail.to_be_bytes(), &len.to_be_bytes()]);
    if let Some(ms) = ttl {
        v.extend_from_slice(&ms.to_be_bytes());
    }
    v
}

pub fn list_item_key(k: &[u8], seq: i64) -> Vec<u8> {
    cat(&[LIST_ITEM_PREFIX, k, &sort64(seq)])
}

pub fn list_claim_key(k: &[u8], seq: i64) -> Vec<u8> {
    cat(&[LIST_CLAIM_PREFIX, &lp(k), &sort64(seq)])
}

/// Value of a list delta: `BE64 head delta ‖ BE64 length delta`.
pub fn list_delta_value(head_delta: i64, len_delta: i64) -> Vec<u8> {
    cat(&[&head_delta.to_be_bytes(), &len_delta.to_be_bytes()])
}

// --- streams -----------------------------------------------------------------------

pub fn stream_meta_key(k: &[u8]) -> Vec<u8> {
    cat(&[STREAM_META_PREFIX, &lp(k)])
}

/// 24 bytes; 32 with `ttl`; 48 with `ttl` and a trim cursor.
pub fn stream_meta_value(
    len: u64,
    last_ms: u64,
    last_seq: u64,
    ttl: Option<u64>,
    trim: Option<(u64, u64)>,
) -> Vec<u8> {
    let mut v = cat(&[&len.to_be_bytes(), &last_ms.to_be_bytes(), &last_seq.to_be_bytes()]);
    if ttl.is_some() || trim.is_some() {
        v.extend_from_slice(&ttl.unwrap_or(0).to_be_bytes());
    }
    if let Some((ms, seq)) = trim {
        v.extend_from_slice(&ms.to_be_bytes());
        v.extend_from_slice(&seq.to_be_bytes());
    }
    v
}

pub fn stream_entry_key(k: &[u8], ms: u64, seq: u64) -> Vec<u8> {
    cat(&[STREAM_ENTRY_PREFIX, &lp(k), &ms.to_be_bytes(), &seq.to_be_bytes()])
}

/// magic ‖ `RedisStreamEntry{id, fields}` with interleaved name/value
/// fields.
pub fn stream_entry_value(id: &str, fields: &[&[u8]]) -> Vec<u8> {
    let mut w = Writer::default();
    w.bytes(1, id.as_bytes());
    for f in fields {
        w.bytes(2, f);
    }
    cat(&[STREAM_ENTRY_MAGIC, &w.buf])
}

// --- whole collections, as the live adapter leaves them after compaction ---------

fn rec(key: Vec<u8>, value: Vec<u8>) -> Record {
    Record { key, value }
}

/// A hash: base meta (with the TTL inline when given) and one row per field.
pub fn hash_records(k: &[u8], fields: &[(&[u8], &[u8])], ttl: Option<u64>) -> Vec<Record> {
    let mut out = vec![rec(hash_meta_key(k), count_meta_value(fields.len() as u64, ttl))];
    out.extend(fields.iter().map(|(f, v)| rec(hash_field_key(k, f), v.to_vec())));
    out
}

pub fn set_records(k: &[u8], members: &[&[u8]], ttl: Option<u64>) -> Vec<Record> {
    let mut out = vec![rec(set_meta_key(k), count_meta_value(members.len() as u64, ttl))];
    out.extend(members.iter().map(|m| rec(set_member_key(k, m), Vec::new())));
    out
}

/// A zset: meta, member→score rows and the score index.
pub fn zset_records(k: &[u8], members: &[(&[u8], f64)], ttl: Option<u64>) -> Vec<Record> {
    let mut out = vec![rec(zset_meta_key(k), count_meta_value(members.len() as u64, ttl))];
    for (m, s) in members {
        out.push(rec(zset_member_key(k, m), zset_score_value(*s)));
        out.push(rec(zset_score_key(k, *s, m), Vec::new()));
    }
    out
}

/// A list with items at sequence numbers `0..n`.
pub fn list_records(k: &[u8], items: &[&[u8]], ttl: Option<u64>) -> Vec<Record> {
    let n = items.len() as u64;
    let mut out = vec![rec(list_meta_key(k), list_meta_value(0, n as i64, n, ttl))];
    out.extend(items.iter().enumerate().map(|(i, v)| rec(list_item_key(k, i as i64), v.to_vec())));
    out
}

/// A stream with entries `(ms, seq, fields)`; the meta's last ID is the
/// largest entry ID.
pub fn stream_records(k: &[u8], entries: &[(u64, u64, Vec<&[u8]>)], ttl: Option<u64>) -> Vec<Record> {
    let (last_ms, last_seq) = entries.iter().map(|e| (e.0, e.1)).max().unwrap_or((0, 0));
    let mut out =
        vec![rec(stream_meta_key(k), stream_meta_value(entries.len() as u64, last_ms, last_seq, ttl, None))];
    for (ms, seq, fields) in entries {
        out.push(rec(stream_entry_key(k, *ms, *seq), stream_entry_value(&format!("{ms}-{seq}"), fields)));
    }
    out
}
