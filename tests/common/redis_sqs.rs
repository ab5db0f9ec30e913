//! Hand-built Redis and SQS snapshots shared by the decode, mount and pack tests:
//! every case of `redis-sqs.md` §3 and §5 and each deliberate difference of
//! `docs/compatibility.md`. Each case is a snapshot plus the options it is
//! decoded with; `tests/golden/<name>/` holds its expected tree.
#![allow(dead_code)]

use super::snap::*;
use fsmfs::adapters::redis::records::*;
use fsmfs::adapters::sqs::records::*;
use fsmfs::index::DecodeOptions;

pub const TTL1: u64 = 1_735_689_600_000;

pub struct Case {
    pub name: &'static str,
    pub snap: Snap,
    pub opts: DecodeOptions,
}

fn case(name: &'static str, snap: Snap) -> Case {
    Case { name, opts: opts(name), snap }
}

/// Every golden case of this module.
pub fn all() -> Vec<Case> {
    let mut v = vec![
        case("redis_spec_61", spec_61()),
        case("redis_strings", redis_strings()),
        case("redis_hashes", redis_hashes()),
        case("redis_lists", redis_lists()),
        case("redis_sets", redis_sets()),
        case("redis_zsets", redis_zsets()),
        case("redis_streams", redis_streams()),
        case("redis_versions", redis_versions()),
        case("sqs_spec_62", spec_62(true)),
        case("sqs_queues", sqs_queues()),
        case("sqs_versions", sqs_versions()),
    ];
    let mut c = case("sqs_spec_62_preserve", spec_62(true));
    c.opts.preserve_sqs_visibility = true;
    v.push(c);
    let mut c = case("sqs_spec_62_side", spec_62(true));
    c.opts.include_sqs_side_records = true;
    v.push(c);
    let mut c = case("redis_versions_expired", redis_versions());
    c.opts.include_expired = true;
    v.push(c);
    v
}

// --- Redis ----------------------------------------------------------------------

/// The entries of §6.1, in the order the table lists them.
pub fn spec_61() -> Snap {
    let mut s = Snap::new();
    let user = b"user:1";
    s.put(&hash_field_key(user, b"age"), b"30");
    s.put(&hash_field_key(user, b"name"), b"alice");
    s.put(&hash_field_key(user, b"\xff"), b"x<y");
    s.put(&hash_meta_key(user), &count_meta_value(3, Some(TTL1)));
    s.put(&delta_key(HASH_DELTA_PREFIX, user, T, 0), &delta_value(1));
    let jobs = b"queue:jobs";
    s.put(&list_claim_key(jobs, -2), b"");
    s.put(&list_item_key(jobs, -1), b"job-0");
    s.put(&list_item_key(jobs, 0), b"job-1");
    s.put(&list_item_key(jobs, 1), b"job-2");
    s.put(&list_meta_key(jobs), &list_meta_value(-1, 2, 3, None));
    s.put(
        &hll_key(b"pf:uniq"),
        &hll_value(&[0x00, 0x52, 0x53, 0x01, 0x0a, 0x01, 0x61, 0x0a, 0x01, 0x62], Some(TTL1)),
    );
    s.put(&string_key(b"bin\x00key"), &[0x00, 0xff]);
    s.put(&string_key(b"counter"), b"42");
    s.put(&string_key(&[b'k'; 250]), &string_value(b"long", None));
    s.put(&string_key(b"plain"), &string_value(b"v", None));
    s.put(&string_key(b"session:abc"), &string_value(b"hello", Some(TTL1)));
    for (k, ms) in [
        (&b"counter"[..], 1_735_689_610_500u64),
        (b"events", 1_735_690_000_000),
        (b"nothing", TTL1),
        (b"oldz", 1_735_689_900_000),
        (b"pf:uniq", TTL1),
        (b"plain", 1_700_000_000_000),
        (b"queue:jobs", 1_735_689_700_000),
        (b"tags:p1", 1_735_689_800_000),
        (b"tags:p2", 1_735_689_800_000),
        (b"user:1", TTL1),
    ] {
        s.put(&ttl_key(k), &ttl_value(ms));
    }
    s.put(&zset_blob_key(b"oldz"), &zset_blob_value(&[(b"x", 1.5), (b"y", -2.0)]));
    s.put(&stream_entry_key(b"ghost", 5, 0), &stream_entry_value("5-0", &[b"f", b"v"]));
    s.put(
        &stream_entry_key(b"events", 1_714_400_000_000, 0),
        &stream_entry_value("1714400000000-0", &[b"event", b"login", b"user", b"alice"]),
    );
    s.put(
        &stream_entry_key(b"events", 1_714_400_000_001, 0),
        &stream_entry_value("1714400000001-0", &[b"event", b"logout", b"user", b"alice"]),
    );
    s.put(&stream_meta_key(b"events"), &stream_meta_value(2, 1_714_400_000_001, 0, None, None));
    for m in [&b"blue"[..], b"green", b"red"] {
        s.put(&set_member_key(b"tags:p1", m), b"");
    }
    s.put(&set_member_key(b"tags:p2", b"x"), b"");
    s.put(&set_meta_key(b"tags:p1"), &count_meta_value(3, Some(0)));
    s.put(&set_meta_key(b"tags:p2"), &count_meta_value(2, None));
    let board: [(&[u8], f64); 5] =
        [(b"alice", 100.0), (b"bob", 85.5), (b"carol", f64::INFINITY), (b"dave", 1e21), (b"eve", 1.25e-7)];
    for (m, sc) in board {
        s.put(&zset_member_key(b"leaderboard", m), &zset_score_value(sc));
        s.put(&zset_score_key(b"leaderboard", sc, m), b"");
    }
    s.put(&zset_meta_key(b"leaderboard"), &count_meta_value(5, None));
    s
}

pub fn long_key(c: u8) -> Vec<u8> {
    vec![c; 300]
}

/// Strings and HLLs: both formats, every TTL source, odd names.
pub fn redis_strings() -> Snap {
    let mut s = Snap::new();
    let all_bytes: Vec<u8> = (0..=255).collect();
    s.put(&string_key(b"legacy"), b"v");
    s.put(&string_key(b"legacy_ttl"), b"expires");
    s.put(&ttl_key(b"legacy_ttl"), &ttl_value(TTL1));
    s.put(&string_key(b"legacy_ttl0"), b"zero");
    s.put(&ttl_key(b"legacy_ttl0"), &ttl_value(0));
    // TTL flag with a zero TTL: no line; the header still owns the TTL.
    s.put(&string_key(b"flag0"), &[0xFF, 0x01, 0x01, 0, 0, 0, 0, 0, 0, 0, 0, b'f']);
    s.put(&ttl_key(b"flag0"), &ttl_value(TTL1));
    s.put(&string_key(b"current_ttl"), &string_value(b"c", Some(TTL1 + 1)));
    s.put(&string_key(b"past_ttl"), &string_value(b"p", Some(1000)));
    s.put(&string_key(b"clamped"), &string_value(b"m", Some(u64::MAX)));
    s.put(&string_key(b""), b"empty-key");
    s.put(&string_key(b"bin\xff\x00"), &all_bytes);
    s.put(&string_key(b"b64.x"), b"looks binary");
    s.put(&string_key(b"0123456789abcdef0123456789abcdef__x"), b"looks hashed");
    s.put(&string_key(b"."), b"dot");
    s.put(&string_key(b".."), b"dotdot");
    s.put(&string_key(b"a/b c~"), b"escaped");
    // A long key with an inline TTL and an index row: one KEYMAP line.
    s.put(&string_key(&long_key(b's')), &string_value(b"long", Some(TTL1)));
    s.put(&ttl_key(&long_key(b's')), &ttl_value(TTL1));
    // A long legacy key whose TTL comes from the index.
    s.put(&string_key(&long_key(b't')), b"long legacy");
    s.put(&ttl_key(&long_key(b't')), &ttl_value(TTL1 + 2));
    s.put(&hll_key(b"hll_legacy"), b"\x00RS\x01sketch");
    s.put(&ttl_key(b"hll_legacy"), &ttl_value(TTL1 + 3));
    s.put(&hll_key(b"hll_current"), &hll_value(b"\x00RS\x01", None));
    s.put(&ttl_key(b"hll_current"), &ttl_value(TTL1 + 4));
    s.put(&hll_key(b"hll_ttl"), &hll_value(b"\x00RS\x01x", Some(TTL1 + 5)));
    // One key as string and HLL: the string takes the index TTL.
    s.put(&hll_key(b"dual"), b"sketch");
    s.put(&string_key(b"dual"), b"string");
    s.put(&ttl_key(b"dual"), &ttl_value(TTL1 + 6));
    // Unrouted legacy layouts are unknown, not errors.
    s.put(b"!redis|hash|x", b"\x00RH\x01");
    s.put(b"!redis|route|x", b"");
    s
}

pub fn redis_hashes() -> Snap {
    let mut s = Snap::new();
    s.records(hash_records(
        b"h1",
        &[
            (b"", b"empty field name"),
            (b"x<y>&", b"html"),
            (b"\xfe", b"binary name"),
            (b"ctl", b"\x01\t\n\x7f\xe2\x80\xa8&"),
            (b"bin", b"\xff\x00"),
            (b"uni", "日本".as_bytes()),
        ],
        Some(TTL1),
    ));
    s.put(&hash_meta_key(b"empty"), &count_meta_value(0, None));
    s.put(&delta_key(HASH_DELTA_PREFIX, b"deltas_only", T, 0), &delta_value(2));
    // Base meta 2 plus a +1 delta: three fields, no mismatch warning.
    s.put(&hash_meta_key(b"with_deltas"), &count_meta_value(2, None));
    s.put(&delta_key(HASH_DELTA_PREFIX, b"with_deltas", T, 0), &delta_value(1));
    for f in [&b"a"[..], b"b", b"c"] {
        s.put(&hash_field_key(b"with_deltas", f), b"1");
    }
    // Deltas and no base meta: a delta-only length (mismatched here).
    s.put(&delta_key(HASH_DELTA_PREFIX, b"nometa", T, 0), &delta_value(5));
    s.put(&hash_field_key(b"nometa", b"f"), b"v");
    s.put(&ttl_key(b"nometa"), &ttl_value(TTL1 + 1));
    s.records(hash_records(b"inline0", &[(b"f", b"v")], Some(0)));
    s.put(&ttl_key(b"inline0"), &ttl_value(TTL1));
    s.records(hash_records(b"index0", &[(b"f", b"v")], None));
    s.put(&ttl_key(b"index0"), &ttl_value(0));
    // Trailing bytes after a meta key's user key are ignored.
    let mut odd_meta = hash_meta_key(b"trailing");
    odd_meta.extend_from_slice(b"junk");
    s.put(&odd_meta, &count_meta_value(1, Some(TTL1 + 2)));
    s.put(&hash_field_key(b"trailing", b"f"), b"v");
    s.records(hash_records(&long_key(b'h'), &[(b"f", b"v")], None));
    s
}

pub fn redis_lists() -> Snap {
    let mut s = Snap::new();
    let k = b"mixed";
    for (seq, v) in [(-3i64, &b"a"[..]), (-1, b"b"), (0, b"\xff"), (7, b"z")] {
        s.put(&list_item_key(k, seq), v);
    }
    s.put(&list_meta_key(k), &list_meta_value(-3, 8, 4, Some(TTL1)));
    // A list whose key starts with `d|` keeps its meta (upstream loses it).
    s.put(&list_meta_key(b"d|x"), &list_meta_value(0, 1, 1, Some(TTL1 + 1)));
    s.put(&list_item_key(b"d|x", 0), b"item");
    // A real list delta beside it: counted, not a meta.
    s.put(&list_meta_key(b"counted"), &list_meta_value(0, 1, 1, None));
    s.put(&delta_key(LIST_DELTA_PREFIX, b"counted", T, 0), &list_delta_value(0, 1));
    s.put(&list_item_key(b"counted", 0), b"one");
    s.put(&list_item_key(b"counted", 1), b"two");
    s.put(&list_claim_key(b"counted", 2), b"");
    s.put(&list_meta_key(b"empty"), &list_meta_value(0, 0, 0, None));
    // Keys that are prefixes of each other interleave in the snapshot.
    s.put(&list_item_key(b"a", 0), b"a0");
    s.put(&list_item_key(b"a", -1), b"a-1");
    s.put(&list_item_key(b"ab", 0), b"ab0");
    s.put(&ttl_key(b"a"), &ttl_value(TTL1 + 2));
    s
}

pub fn redis_sets() -> Snap {
    let mut s = Snap::new();
    s.records(set_records(b"s1", &[b"", b"b", b"a", b"\x80", b"<&>"], None));
    s.put(&ttl_key(b"s1"), &ttl_value(TTL1));
    s.put(&set_meta_key(b"empty"), &count_meta_value(0, Some(0)));
    s.put(&set_member_key(b"nometa", b"m"), b"ignored value");
    // Prefix keys: LP(k) keeps each set's members together.
    s.records(set_records(b"k", &[b"x"], None));
    s.records(set_records(b"k\x00", &[b"y"], None));
    s.put(&delta_key(SET_DELTA_PREFIX, b"k", T, 1), &delta_value(-1));
    s
}

pub fn redis_zsets() -> Snap {
    let mut s = Snap::new();
    let scores: [(&[u8], f64); 12] = [
        (b"zero", 0.0),
        (b"negzero", -0.0),
        (b"neg", -1.5),
        (b"ninf", f64::NEG_INFINITY),
        (b"inf", f64::INFINITY),
        (b"tiny", 5e-324),
        (b"max", f64::MAX),
        (b"edge_small", 1e-6),
        (b"below", 9.99e-7),
        (b"big", 1e20),
        (b"digits", 12345678901234567000.0),
        (b"\xff", 2.0),
    ];
    s.records(zset_records(b"scores", &scores, Some(TTL1)));
    s.put(&delta_key(ZSET_DELTA_PREFIX, b"scores", T, 0), &delta_value(1));
    // Wide rows win over a legacy blob.
    s.put(&zset_blob_key(b"both"), &zset_blob_value(&[(b"legacy", 1.0)]));
    s.put(&zset_member_key(b"both", b"wide"), &zset_score_value(-0.0));
    // Blob plus a meta row only: the blob's members, deduplicated.
    s.put(&zset_blob_key(b"mix"), &zset_blob_value(&[(b"b", 1.0), (b"a", 3.0), (b"b", 2.0)]));
    s.put(&zset_meta_key(b"mix"), &count_meta_value(2, None));
    s.put(&ttl_key(b"mix"), &ttl_value(TTL1 + 1));
    s.put(&zset_blob_key(b"emptyblob"), &zset_blob_value(&[]));
    s.put(&zset_meta_key(b"metaonly"), &count_meta_value(0, None));
    s.put(&delta_key(ZSET_DELTA_PREFIX, b"metaonly", T, 0), &delta_value(0));
    s
}

pub fn redis_streams() -> Snap {
    let mut s = Snap::new();
    s.put(&stream_entry_key(b"s48", 9, 3), &stream_entry_value("9-3", &[b"k", b"v"]));
    s.put(&stream_meta_key(b"s48"), &stream_meta_value(1, 9, 3, Some(TTL1), Some((8, 1))));
    s.put(&ttl_key(b"s48"), &ttl_value(1));
    let fields: [&[u8]; 6] = [b"dup", b"1", b"dup", b"2", "名".as_bytes(), b"<v>\n"];
    s.put(&stream_entry_key(b"rich", 1, 0), &stream_entry_value("1-0", &fields));
    s.put(&stream_entry_key(b"rich", 1, 1), &stream_entry_value("1-1", &[]));
    s.put(&stream_entry_key(b"rich", u64::MAX, u64::MAX), &stream_entry_value("x", &[b"a", b"b"]));
    s.put(&stream_meta_key(b"rich"), &stream_meta_value(5, u64::MAX, u64::MAX, None, None));
    s.put(&ttl_key(b"rich"), &ttl_value(TTL1 + 1));
    s.put(&stream_meta_key(b"empty"), &stream_meta_value(0, 0, 0, Some(0), None));
    // Entries without a meta row: no file (and not an empty directory).
    s.put(&stream_entry_key(b"orphan", 1, 0), &stream_entry_value("1-0", &[b"f", b"v"]));
    // A stream and a set on one key: the stream claims the parked TTL.
    s.records(stream_records(b"both", &[(2, 0, vec![b"f", b"v"])], None));
    s.records(set_records(b"both", &[b"m"], None));
    s.put(&ttl_key(b"both"), &ttl_value(TTL1 + 2));
    s
}

/// Several MVCC versions and deletions per family; a version expired at
/// the snapshot's commit time.
pub fn redis_versions() -> Snap {
    let mut s = Snap::new();
    let t = T;
    s.version(&string_key(b"mv"), t, false, 0, b"new");
    s.version(&string_key(b"mv"), t - 10, false, 0, b"old");
    s.version(&string_key(b"del"), t, true, 0, b"");
    s.version(&string_key(b"del"), t - 10, false, 0, b"alive-before-delete");
    s.version(&string_key(b"expired"), t - 5, false, t - 1, b"gone at commit time");
    s.version(&hash_field_key(b"h", b"f"), t, false, 0, b"v2");
    s.version(&hash_field_key(b"h", b"f"), t - 10, false, 0, b"v1");
    s.version(&hash_field_key(b"h", b"g"), t, true, 0, b"");
    s.version(&hash_field_key(b"h", b"g"), t - 10, false, 0, b"deleted field");
    s.version(&hash_meta_key(b"h"), t, false, 0, &count_meta_value(1, None));
    s.version(&hash_meta_key(b"h"), t - 10, false, 0, &count_meta_value(2, Some(TTL1)));
    s.version(&ttl_key(b"legacy"), t, false, 0, &ttl_value(TTL1 + 1));
    s.version(&ttl_key(b"legacy"), t - 10, false, 0, &ttl_value(TTL1));
    s.version(&string_key(b"legacy"), t - 10, false, 0, b"v");
    s.version(&stream_entry_key(b"st", 1, 0), t, false, 0, &stream_entry_value("1-0", &[b"n", b"2"]));
    s.version(&stream_entry_key(b"st", 1, 0), t - 10, false, 0, &stream_entry_value("1-0", &[b"n", b"1"]));
    s.version(&stream_meta_key(b"st"), t, false, 0, &stream_meta_value(1, 1, 0, None, None));
    s.version(&zset_member_key(b"z", b"m"), t, false, 0, &zset_score_value(2.0));
    s.version(&zset_member_key(b"z", b"m"), t - 10, false, 0, &zset_score_value(1.0));
    s
}

// --- SQS ------------------------------------------------------------------------

pub fn msg(json: &str) -> Vec<u8> {
    let mut v = MESSAGE_MAGIC.to_vec();
    v.extend_from_slice(json.as_bytes());
    v
}

pub fn meta(json: &str) -> Vec<u8> {
    let mut v = QUEUE_META_MAGIC.to_vec();
    v.extend_from_slice(json.as_bytes());
    v
}

pub const ORDERS_A: &str = "0b1c2d3e4f5061728394a5b6c7d8e9f0";
pub const ORDERS_B: &str = "a3f1c2d4e5f60718293a4b5c6d7e8f90";

/// The entries of §6.2 (entry 14, the seq row, optional).
pub fn spec_62(with_seq: bool) -> Snap {
    let mut s = Snap::new();
    s.put(
        &msg_data_key("gone", None, 1, "deadbeef"),
        &msg(r#"{"message_id":"deadbeef","body":"eA==","send_timestamp_millis":1714300000000,"queue_generation":1}"#),
    );
    s.put(
        &msg_data_key("orders.fifo", None, 2, "ffeeddccbbaa99887766554433221100"),
        &msg(r#"{"message_id":"ffeeddccbbaa99887766554433221100","body":"b2xk","send_timestamp_millis":1714300000000,"queue_generation":2,"sequence_number":7}"#),
    );
    s.put(
        &msg_data_key("orders.fifo", None, 3, ORDERS_A),
        &msg(r#"{"message_id":"0b1c2d3e4f5061728394a5b6c7d8e9f0","body":"//4=","md5_of_body":"f3b25701fe362ec84616a93a45ce9998","send_timestamp_millis":1714400000000,"available_at_millis":1714400000000,"visible_at_millis":1714400000000,"receive_count":0,"current_receipt_token":null,"queue_generation":3,"message_group_id":"g1","message_deduplication_id":"d-0","sequence_number":1}"#),
    );
    s.put(
        &msg_data_key("orders.fifo", None, 3, ORDERS_B),
        &msg(r#"{"message_id":"a3f1c2d4e5f60718293a4b5c6d7e8f90","body":"PG9yZGVyIGlkPSIxIi8+","md5_of_body":"92c5aa04a7e1bf0ca66122c5123e92cf","message_attributes":{"trace":{"DataType":"String","StringValue":"abc"}},"send_timestamp_millis":1714400000000,"available_at_millis":1714400000000,"visible_at_millis":1714400030000,"receive_count":2,"first_receive_millis":1714400001000,"current_receipt_token":"AAECAwQFBgcICQoLDA0ODw==","queue_generation":3,"message_group_id":"g1","message_deduplication_id":"d-1","sequence_number":2}"#),
    );
    s.put(
        &msg_data_key("events.fifo", Some(2), 1, "11112222333344445555666677778888"),
        &msg(r#"{"message_id":"11112222333344445555666677778888","body":"aGk=","md5_of_body":"49f68a5c8493ec2c0bf489821c21fc3b","send_timestamp_millis":1714500000000,"available_at_millis":1714500000000,"visible_at_millis":1714500000000,"receive_count":0,"queue_generation":1,"message_group_id":"user-7","message_deduplication_id":"x1","sequence_number":1}"#),
    );
    s.put(
        &msg_index_key(MSG_VIS_PREFIX, "orders.fifo", None, 3, 0x018f_2a34_6d30, ORDERS_B),
        ORDERS_B.as_bytes(),
    );
    for (q, g) in [("gone", "2"), ("events.fifo", "1"), ("orders.fifo", "3"), ("plain-q", "1")] {
        s.put(&queue_gen_key(q), g.as_bytes());
    }
    s.put(
        &queue_meta_key("events.fifo"),
        &meta(r#"{"name":"events.fifo","generation":1,"is_fifo":true,"visibility_timeout_seconds":30,"message_retention_seconds":345600,"delay_seconds":0,"receive_message_wait_seconds":0,"maximum_message_size":262144,"partition_count":4,"fifo_throughput_limit":"perMessageGroupId","deduplication_scope":"messageGroup"}"#),
    );
    s.put(
        &queue_meta_key("orders.fifo"),
        &meta(r#"{"name":"orders.fifo","generation":3,"is_fifo":true,"visibility_timeout_seconds":30,"message_retention_seconds":345600,"delay_seconds":0,"receive_message_wait_seconds":0,"maximum_message_size":262144,"redrive_policy":"{\"deadLetterTargetArn\":\"arn:aws:sqs:us-east-1:000000000000:orders-dlq.fifo\",\"maxReceiveCount\":5}","created_at_millis":1714300000000}"#),
    );
    s.put(
        &queue_meta_key("plain-q"),
        &meta(r#"{"name":"plain-q","generation":1,"visibility_timeout_seconds":30,"message_retention_seconds":345600,"delay_seconds":5,"receive_message_wait_seconds":20,"maximum_message_size":262144}"#),
    );
    if with_seq {
        s.put(&queue_seq_key("orders.fifo"), b"2");
    }
    s.put(&queue_tombstone_key("gone", 1), &[0x01]);
    s
}

fn message(id: &str, ts: i64, seq: u64, gen: u64, body: &[u8]) -> MessageDef {
    MessageDef {
        message_id: id.into(),
        body: body.to_vec(),
        md5_of_body: "md5".into(),
        send_timestamp_millis: ts,
        available_at_millis: ts,
        visible_at_millis: ts + 30_000,
        receive_count: 1,
        first_receive_millis: ts + 1,
        current_receipt_token: Some(vec![1, 2, 3]),
        queue_generation: gen,
        sequence_number: seq,
        ..Default::default()
    }
}

/// Standard, FIFO and partitioned FIFO queues; ordering ties; message JSON
/// read with Go's rules.
pub fn sqs_queues() -> Snap {
    let mut s = Snap::new();
    let std_q = QueueDef {
        name: "std q/1".into(),
        generation: 5,
        visibility_timeout_seconds: 30,
        message_retention_seconds: 60,
        content_based_dedup: true,
        redrive_allow_policy: "{\"redrivePermission\":\"allowAll\"}".into(),
        ..Default::default()
    };
    s.records(queue_records(&std_q));
    // Same send time: ordered by message id; the stale generation is cut.
    for (id, ts) in [("c", 10), ("a", 10), ("b", 5)] {
        s.records(message_records(&std_q.name, None, &message(id, ts, 0, 5, b"plain body")));
    }
    s.records(message_records(&std_q.name, None, &message("old", 1, 0, 4, b"stale")));
    let mut rich = message("rich", 20, 0, 5, "snow ☃ & <tags> \u{2028}".as_bytes());
    rich.message_attributes = vec![
        ("zeta".into(), "{ \"DataType\" : \"Number\", \"StringValue\" : \"1.0\" }".into()),
        ("alpha".into(), "{\"DataType\":\"String\",\"StringValue\":\"\\u003c&\\u003e\"}".into()),
    ];
    rich.sender_id = "AIDA<x>".into();
    rich.dead_letter_source_arn = "arn:aws:sqs:dlq".into();
    rich.md5_of_message_attributes = "attrs".into();
    s.records(message_records(&std_q.name, None, &rich));
    // Hand-written JSON: escapes, case-folded and repeated keys, nulls,
    // unknown fields, attribute objects merged, a body given as bytes.
    s.put(
        &msg_data_key(&std_q.name, None, 5, "raw"),
        &msg(r#"{"Message_Id":"r\u0061w","body":"eA==","BODY":null,"send_timestamp_millis":30,"send_timestamp_millis":null,"queue_generation":5,"message_attributes":{"k":1},"message_attributes":{"j":[1, 2],"k":"two"},"unknown":{"x":[1,2,3]},"sequence_number":null,"md5_of_body":"\ud83d\ude00\ud800"}"#),
    );
    s.put(
        &msg_data_key(&std_q.name, None, 5, "bytes"),
        &msg(r#"{"message_id":"bytes","body":[104,105],"send_timestamp_millis":31,"queue_generation":5,"message_attributes":null}"#),
    );
    s.put(&msg_data_key(&std_q.name, None, 5, "null"), &msg("null"));

    let fifo = QueueDef {
        name: "jobs.fifo".into(),
        generation: 1,
        is_fifo: true,
        visibility_timeout_seconds: 30,
        message_retention_seconds: 60,
        ..Default::default()
    };
    s.records(queue_records(&fifo));
    for (id, seq) in [("m3", 3), ("m1", 1), ("m2", 2)] {
        let mut m = message(id, 100, seq, 1, b"fifo");
        m.message_group_id = "g".into();
        m.message_deduplication_id = format!("d{seq}");
        s.records(message_records(&fifo.name, None, &m));
    }
    s.put(&queue_seq_key(&fifo.name), b"3");

    let part = QueueDef {
        name: "hot.fifo".into(),
        generation: 2,
        is_fifo: true,
        visibility_timeout_seconds: 30,
        message_retention_seconds: 60,
        partition_count: 4,
        fifo_throughput_limit: "perMessageGroupId".into(),
        deduplication_scope: "messageGroup".into(),
        ..Default::default()
    };
    s.records(queue_records(&part));
    for (id, p, seq) in [("p0", 0u32, 1u64), ("p3", 3, 2), ("p3b", 3, 3)] {
        let mut m = message(id, 200, seq, 2, b"\x00\xff");
        m.message_group_id = format!("group-{p}");
        s.records(message_records(&part.name, Some(p), &m));
    }
    // A queue whose gen row reads 0 (no filtering) and whose meta has no
    // name (the key's name is used).
    s.put(&queue_meta_key("unnamed"), &meta(r#"{"visibility_timeout_seconds":1}"#));
    s.put(&queue_gen_key("unnamed"), b" 0\n");
    s.records(message_records("unnamed", None, &message("u1", 1, 0, 9, b"")));
    // A queue with only a gen row left (deleted): warning, no directory.
    s.put(&queue_gen_key("deleted"), b"7");
    s
}

/// MVCC: the newest version of a message wins; a deleted message and a
/// deleted queue meta disappear.
pub fn sqs_versions() -> Snap {
    let mut s = Snap::new();
    let q =
        QueueDef { name: "v".into(), generation: 1, visibility_timeout_seconds: 30, ..Default::default() };
    for r in queue_records(&q) {
        s.put(&r.key, &r.value);
    }
    let m1 = message("m", 5, 0, 1, b"first");
    let mut m2 = m1.clone();
    m2.receive_count = 4;
    m2.body = b"received".to_vec();
    s.version(&msg_data_key("v", None, 1, "m"), T, false, 0, &message_value(&m2));
    s.version(&msg_data_key("v", None, 1, "m"), T - 10, false, 0, &message_value(&m1));
    s.version(&msg_data_key("v", None, 1, "x"), T, true, 0, b"");
    s.version(
        &msg_data_key("v", None, 1, "x"),
        T - 10,
        false,
        0,
        &message_value(&message("x", 1, 0, 1, b"x")),
    );
    let gone = QueueDef { name: "gone".into(), generation: 1, ..Default::default() };
    s.version(&queue_meta_key("gone"), T, true, 0, b"");
    s.version(&queue_meta_key("gone"), T - 10, false, 0, &queue_meta_value(&gone));
    s
}
