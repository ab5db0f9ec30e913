//! Every malformed Redis and SQS record of `redis-sqs.md` gives its typed
//! error. Records the index must read to lay the tree out (keys, TTL
//! headers, metas, queue metas, the fields that order messages) refuse the
//! index with the record's offset and key; records read only to render a
//! file fail that file; records that produce no file (orphan streams and
//! queues, stale messages) are deferred errors that `extract` reports.

use fsmfs::adapters::redis::records::*;
use fsmfs::adapters::sqs::records::*;
use fsmfs::index::{DecodeOptions, Index};

use crate::common::snap::*;

/// Snapshot rows: (user key, value).
type Rows = Vec<(Vec<u8>, Vec<u8>)>;

fn snap(rows: &[(Vec<u8>, Vec<u8>)]) -> Vec<u8> {
    let mut s = Snap::new();
    for (k, v) in rows {
        s.put(k, v);
    }
    s.build()
}

/// The index is refused, naming the record.
fn refused(rows: &[(Vec<u8>, Vec<u8>)], options: DecodeOptions, want: &str) {
    let err =
        Index::from_bytes(snap(rows), options).err().unwrap_or_else(|| panic!("{want}: indexed")).to_string();
    assert!(err.contains(want), "want {want:?} in {err:?}");
    assert!(err.contains(" at offset ") && err.contains("(key "), "no location in {err:?}");
}

/// The index builds; extracting fails on one file (or a deferred record).
fn extract_fails(rows: &[(Vec<u8>, Vec<u8>)], options: DecodeOptions, want: &str) {
    let index = Index::from_bytes(snap(rows), options.clone()).unwrap_or_else(|e| panic!("{want}: {e}"));
    let err = extract(snap(rows), options).err().unwrap_or_else(|| panic!("{want}: extracted"));
    assert!(err.contains(want), "want {want:?} in {err:?}");
    assert!(err.contains("offset"), "no location in {err:?}");
    drop(index);
}

fn o() -> DecodeOptions {
    opts("bad")
}

fn r(k: Vec<u8>, v: &[u8]) -> (Vec<u8>, Vec<u8>) {
    (k, v.to_vec())
}

fn lp_bad(prefix: &[u8]) -> Vec<u8> {
    [prefix, &[0, 0, 0, 9], b"short"].concat()
}

#[test]
fn redis_values_and_keys_read_while_indexing() {
    let cases: Vec<(Rows, &str)> = vec![
        (
            vec![r(string_key(b"s"), &[0xFF, 0x01])],
            "invalid !redis|str| value at offset 16 (key !redis|str|s): header truncated",
        ),
        (
            vec![r(string_key(b"s"), &[0xFF, 0x01, 0x01, 0, 0])],
            "invalid !redis|str| value at offset 16 (key !redis|str|s): ttl section truncated",
        ),
        (vec![r(hll_key(b"h"), &[0xFF, 0x02])], "invalid !redis|hll| value"),
        (vec![r(hll_key(b"h"), &[0xFF, 0x02, 0x01, 0])], "ttl section truncated"),
        (vec![r(ttl_key(b"t"), &[0; 7])], "invalid !redis|ttl| value"),
        (vec![r(lp_bad(HASH_META_PREFIX), &[0; 8])], "malformed !hs| key"),
        (vec![r(lp_bad(HASH_FIELD_PREFIX), b"v")], "malformed !hs| key"),
        (vec![r(hash_meta_key(b"h"), &[0; 9])], "invalid !hs|meta| value"),
        (vec![r(hash_meta_key(b"h"), &u64::MAX.to_be_bytes())], "overflows int64"),
        (vec![r(b"!lst|itm|short".to_vec(), b"v")], "malformed !lst| key"),
        (vec![r(list_meta_key(b"l"), &[0; 20])], "invalid !lst|meta| value"),
        (vec![r(list_meta_key(b"l"), &list_meta_value(0, 0, u64::MAX, None))], "invalid !lst|meta| value"),
        (vec![r(lp_bad(SET_META_PREFIX), &[0; 8])], "malformed !st| key"),
        (vec![r(lp_bad(SET_MEMBER_PREFIX), b"")], "malformed !st| key"),
        (vec![r(set_meta_key(b"s"), &[0; 12])], "invalid !st|meta| value"),
        (vec![r(lp_bad(ZSET_META_PREFIX), &[0; 8])], "malformed !zs| key"),
        (vec![r(lp_bad(ZSET_MEMBER_PREFIX), &[0; 8])], "malformed !zs| key"),
        (vec![r(zset_meta_key(b"z"), &[0; 4])], "invalid !zs|meta| value"),
        (vec![r(zset_blob_key(b"z"), b"\x00RS\x01")], "invalid !redis|zset| value"),
        (vec![r(zset_blob_key(b"z"), b"\x00RZ\x01\x0a\x05ab")], "invalid !redis|zset| value"),
        (vec![r(zset_blob_key(b"z"), &zset_blob_value(&[(b"n", f64::NAN)]))], "NaN score"),
        (vec![r(zset_blob_key(b"z"), &zset_blob_value(&[(b"\xff", 1.0)]))], "invalid UTF-8"),
        (vec![r(lp_bad(STREAM_META_PREFIX), &[0; 24])], "malformed !stream| key"),
        (vec![r([STREAM_ENTRY_PREFIX, &lp(b"s"), &[0; 15]].concat(), b"")], "malformed !stream| key"),
        (vec![r(stream_meta_key(b"s"), &[0; 40])], "invalid !stream|meta| value"),
        (vec![r(stream_meta_key(b"s"), &stream_meta_value(u64::MAX, 0, 0, None, None))], "overflows int64"),
    ];
    for (rows, want) in cases {
        refused(&rows, o(), want);
    }
}

#[test]
fn redis_values_read_while_rendering() {
    let cases: Vec<(Rows, &str)> = vec![
        (vec![r(zset_member_key(b"z", b"m"), &[0; 7])], "invalid !zs|mem| value: length 7 != 8"),
        (
            vec![r(zset_member_key(b"z", b"m"), &zset_score_value(f64::NAN))],
            "invalid !zs|mem| value: NaN score",
        ),
        (
            vec![
                r(stream_meta_key(b"s"), &stream_meta_value(1, 1, 0, None, None)),
                r(stream_entry_key(b"s", 1, 0), b"\x00RXE\x02"),
            ],
            "invalid !stream|entry| value: missing or corrupt magic prefix",
        ),
        (
            vec![
                r(stream_meta_key(b"s"), &stream_meta_value(1, 1, 0, None, None)),
                r(stream_entry_key(b"s", 1, 0), &stream_entry_value("1-0", &[b"odd"])),
            ],
            "odd field count 1",
        ),
        (
            vec![
                r(stream_meta_key(b"s"), &stream_meta_value(1, 1, 0, None, None)),
                r(stream_entry_key(b"s", 1, 0), &stream_entry_value("1-0", &[b"\xff", b"v"])),
            ],
            "invalid UTF-8",
        ),
        (
            vec![
                r(stream_meta_key(b"s"), &stream_meta_value(1, 1, 0, None, None)),
                r(stream_entry_key(b"s", 1, 0), b"\x00RXE\x01\x12\x09ab"),
            ],
            "unmarshal: protobuf truncated",
        ),
        // An orphan stream's entries produce no file: a deferred error.
        (vec![r(stream_entry_key(b"o", 1, 0), b"\x00RXE\x02")], "invalid !stream|entry| value"),
    ];
    for (rows, want) in cases {
        extract_fails(&rows, o(), want);
    }
}

fn q_meta() -> (Vec<u8>, Vec<u8>) {
    (queue_meta_key("q"), [QUEUE_META_MAGIC, br#"{"name":"q"}"#].concat())
}

fn m(json: &str) -> Vec<u8> {
    [MESSAGE_MAGIC, json.as_bytes()].concat()
}

#[test]
fn sqs_records_read_while_indexing() {
    let data = |rest: &[u8]| [MSG_DATA_PREFIX, rest].concat();
    let cases: Vec<(Rows, &str)> = vec![
        (vec![r(b"!sqs|queue|meta|a=b".to_vec(), QUEUE_META_MAGIC)], "malformed SQS key"),
        (vec![r(queue_meta_key("q"), br#"{"name":"q"}"#)], "invalid !sqs|queue|meta value at offset"),
        (vec![r(queue_meta_key("q"), &[QUEUE_META_MAGIC, b"{"].concat())], "invalid !sqs|queue|meta value"),
        (
            vec![r(queue_meta_key("q"), &[QUEUE_META_MAGIC, br#"{"is_fifo":"yes"}"#].concat())],
            "invalid !sqs|queue|meta value",
        ),
        (
            vec![r(queue_meta_key("q"), &[QUEUE_META_MAGIC, br#"{"partition_count":-1}"#].concat())],
            "invalid !sqs|queue|meta value",
        ),
        (vec![r(queue_gen_key("q"), b"x1")], "malformed SQS key"),
        (vec![r(queue_gen_key("q"), b"-1")], "malformed SQS key"),
        (vec![r(data(b"cQ"), &m("{}"))], "malformed SQS key"),
        (vec![r(data(b"cQ\0\0\0\0\0\0\0\x01"), &m("{}"))], "malformed SQS key"),
        (vec![r(data(b"c\0\0\0\0\0\0\0\x01bQ"), &m("{}"))], "malformed SQS key"),
        (vec![r(data(b"cQ\0\0\0\0\0\0\0\x01b+"), &m("{}"))], "malformed SQS key"),
        (vec![r(data(b"p|cQ\0\0\0\x01"), &m("{}"))], "malformed SQS key"),
        (vec![r(data(b"p|c=|\0\0\0\x01\0\0\0\0\0\0\0\x01bQ"), &m("{}"))], "malformed SQS key"),
        (vec![r(data(b"p|cQ|\0\0\0\x01\0\0\0\0\0\0\0\x01"), &m("{}"))], "malformed SQS key"),
        (vec![r(msg_data_key("q", None, 1, "m"), b"{}")], "invalid !sqs|msg|data value"),
        (vec![r(msg_data_key("q", None, 1, "m"), &m("[1]"))], "invalid !sqs|msg|data value"),
        (vec![r(msg_data_key("q", None, 1, "m"), &m(r#"{"send_timestamp_millis":1.5}"#))], "of type int64"),
        (vec![r(msg_data_key("q", None, 1, "m"), &m(r#"{"queue_generation":-1}"#))], "of type uint64"),
        (vec![r(msg_data_key("q", None, 1, "m"), &m(r#"{"message_id":7}"#))], "of type string"),
        (vec![r(msg_data_key("q", None, 1, "m"), &m(r#"{"message_id":"m""#))], "invalid !sqs|msg|data value"),
        (
            vec![r(msg_data_key("q", None, 1, "m"), &m(r#"{"message_id":"m"} x"#))],
            "invalid !sqs|msg|data value",
        ),
    ];
    for (rows, want) in cases {
        refused(&rows, o(), want);
    }
    // Side records are parsed only when asked for.
    let mut side = o();
    side.include_sqs_side_records = true;
    let bad_side = vec![r([MSG_VIS_PREFIX, b"\0\0"].concat(), b"")];
    refused(&bad_side, side.clone(), "malformed SQS key");
    assert!(Index::from_bytes(snap(&bad_side), o()).is_ok());
    refused(&[r([MSG_GROUP_PREFIX, b"p|cQ|\0\0"].concat(), b"")], side, "malformed SQS key");
}

#[test]
fn sqs_messages_read_while_rendering() {
    let cases: Vec<(&str, &str)> = vec![
        (r#"{"message_id":"m","body":"not base64!"}"#, "illegal base64 data"),
        (r#"{"message_id":"m","body":"eA"}"#, "illegal base64 data"),
        (r#"{"message_id":"m","body":7}"#, "of type []uint8"),
        (r#"{"message_id":"m","body":[256]}"#, "uint8"),
        (r#"{"message_id":"m","md5_of_body":true}"#, "of type string"),
        (r#"{"message_id":"m","receive_count":"2"}"#, "of type int64"),
        (r#"{"message_id":"m","current_receipt_token":"***"}"#, "illegal base64 data"),
        (r#"{"message_id":"m","message_attributes":[1]}"#, "map[string]json.RawMessage"),
        (r#"{"message_id":"m","x":01}"#, "invalid JSON"),
    ];
    for (json, want) in cases {
        let rows = vec![q_meta(), r(msg_data_key("q", None, 1, "m"), &m(json))];
        extract_fails(&rows, o(), want);
        // The same message in a queue without meta is a deferred error.
        let orphan = vec![r(msg_data_key("q", None, 1, "m"), &m(json))];
        extract_fails(&orphan, o(), want);
    }
    // A stale-generation message too.
    let stale = vec![
        q_meta(),
        r(queue_gen_key("q"), b"2"),
        r(msg_data_key("q", None, 1, "m"), &m(r#"{"queue_generation":1,"body":"!"}"#)),
    ];
    extract_fails(&stale, o(), "illegal base64 data");
}

#[test]
fn sqs_names_that_cannot_be_directories() {
    for name in ["", ".", ".."] {
        let rows = vec![(queue_meta_key(name), [QUEUE_META_MAGIC, b"{}"].concat())];
        refused(&rows, o(), "cannot be a directory name");
    }
    // Two segments that decode to one name (non-canonical trailing bits).
    let rows = vec![
        (b"!sqs|queue|meta|YQ".to_vec(), [QUEUE_META_MAGIC, b"{}"].concat()),
        (b"!sqs|queue|meta|YR".to_vec(), [QUEUE_META_MAGIC, b"{}"].concat()),
    ];
    let err = Index::from_bytes(snap(&rows), o()).err().unwrap().to_string();
    assert!(err.contains("sqs/a/_queue.json"), "{err}");
}
