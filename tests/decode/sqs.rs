//! SQS golden trees: the spec's worked example (`redis-sqs.md` §6.2) with
//! its printed bytes asserted literally, under every option, then
//! standard, FIFO and partitioned-FIFO queues with generations, several
//! versions and odd message JSON, compared with `tests/golden/`.

use fsmfs::adapters::sqs::records::*;
use fsmfs::index::Index;
use fsmfs::keys::segment::b64url_nopad;

use crate::common::redis_sqs::*;
use crate::common::snap::*;

fn read(tree: &std::path::Path, p: &str) -> String {
    String::from_utf8(std::fs::read(tree.join(p)).unwrap_or_else(|e| panic!("{p}: {e}"))).unwrap()
}

const ORDERS_QUEUE: &str = r#"{
  "format_version": 1,
  "name": "orders.fifo",
  "fifo": true,
  "visibility_timeout_seconds": 30,
  "message_retention_seconds": 345600,
  "delay_seconds": 0,
  "maximum_message_size": 262144,
  "redrive_policy": "{\"deadLetterTargetArn\":\"arn:aws:sqs:us-east-1:000000000000:orders-dlq.fifo\",\"maxReceiveCount\":5}"
}"#;

const EVENTS_QUEUE: &str = r#"{
  "format_version": 1,
  "name": "events.fifo",
  "fifo": true,
  "visibility_timeout_seconds": 30,
  "message_retention_seconds": 345600,
  "delay_seconds": 0,
  "maximum_message_size": 262144,
  "partition_count": 4,
  "fifo_throughput_limit": "perMessageGroupId",
  "deduplication_scope": "messageGroup"
}"#;

const PLAIN_QUEUE: &str = r#"{
  "format_version": 1,
  "name": "plain-q",
  "visibility_timeout_seconds": 30,
  "message_retention_seconds": 345600,
  "delay_seconds": 5,
  "receive_message_wait_seconds": 20,
  "maximum_message_size": 262144
}"#;

const ORDERS_LINE_1: &str = r#"{"message_id":"0b1c2d3e4f5061728394a5b6c7d8e9f0","body":{"base64":"__4"},"md5_of_body":"f3b25701fe362ec84616a93a45ce9998","send_timestamp_millis":1714400000000,"available_at_millis":1714400000000,"visible_at_millis":0,"receive_count":0,"queue_generation":3,"message_group_id":"g1","message_deduplication_id":"d-0","sequence_number":1}"#;
const ORDERS_LINE_2: &str = r#"{"message_id":"a3f1c2d4e5f60718293a4b5c6d7e8f90","body":"\u003corder id=\"1\"/\u003e","md5_of_body":"92c5aa04a7e1bf0ca66122c5123e92cf","message_attributes":{"trace":{"DataType":"String","StringValue":"abc"}},"send_timestamp_millis":1714400000000,"available_at_millis":1714400000000,"visible_at_millis":0,"receive_count":0,"queue_generation":3,"message_group_id":"g1","message_deduplication_id":"d-1","sequence_number":2}"#;
const EVENTS_LINE: &str = r#"{"message_id":"11112222333344445555666677778888","body":"hi","md5_of_body":"49f68a5c8493ec2c0bf489821c21fc3b","send_timestamp_millis":1714500000000,"available_at_millis":1714500000000,"visible_at_millis":0,"receive_count":0,"queue_generation":1,"message_group_id":"user-7","message_deduplication_id":"x1","sequence_number":1,"partition":2}"#;

#[test]
fn spec_62_default_options() {
    let snap = spec_62(true);
    let index = Index::from_bytes(snap.build(), opts("sqs_spec_62")).unwrap();
    assert_eq!(index.counts.sqs, 15);
    let events: Vec<String> = index.warnings.iter().map(|w| w.to_string()).collect();
    assert_eq!(events.len(), 2, "{events:?}");
    assert!(events[0].starts_with(
        "event=sqs_orphan_messages encoded_queue=Z29uZQ buffered_messages=1 buffered_side_records=0"
    ));
    assert!(events[1]
        .starts_with("event=sqs_stale_generation_messages_dropped queue=orders.fifo active_gen=3 dropped=1"));
    let q: Vec<_> = index.counts.queues.iter().map(|q| (q.name.as_str(), q.messages, q.stale)).collect();
    assert_eq!(q, [("events.fifo", 1, 0), ("orders.fifo", 2, 1), ("plain-q", 0, 0)]);

    let (_tmp, tree) = extract(snap.build(), opts("sqs_spec_62")).unwrap();
    let files: Vec<String> = read_tree(&tree.join("sqs")).into_keys().collect();
    assert_eq!(
        files,
        [
            "events.fifo",
            "events.fifo/_queue.json",
            "events.fifo/messages.jsonl",
            "orders.fifo",
            "orders.fifo/_queue.json",
            "orders.fifo/messages.jsonl",
            "plain-q",
            "plain-q/_queue.json"
        ]
    );
    let sqs = tree.join("sqs");
    assert_eq!(read(&sqs, "orders.fifo/_queue.json"), ORDERS_QUEUE);
    assert_eq!(read(&sqs, "events.fifo/_queue.json"), EVENTS_QUEUE);
    assert_eq!(read(&sqs, "plain-q/_queue.json"), PLAIN_QUEUE);
    assert_eq!(read(&sqs, "orders.fifo/messages.jsonl"), format!("{ORDERS_LINE_1}\n{ORDERS_LINE_2}\n"));
    assert_eq!(read(&sqs, "events.fifo/messages.jsonl"), format!("{EVENTS_LINE}\n"));
}

#[test]
fn spec_62_preserve_visibility() {
    let mut o = opts("sqs_spec_62_preserve");
    o.preserve_sqs_visibility = true;
    let (_tmp, tree) = extract(spec_62(true).build(), o).unwrap();
    let lines = read(&tree, "sqs/orders.fifo/messages.jsonl");
    let lines: Vec<&str> = lines.lines().collect();
    assert_eq!(
        lines[0],
        ORDERS_LINE_1.replace("\"visible_at_millis\":0", "\"visible_at_millis\":1714400000000")
    );
    assert_eq!(
        lines[1],
        ORDERS_LINE_2.replace(
            "\"visible_at_millis\":0,\"receive_count\":0,",
            "\"visible_at_millis\":1714400030000,\"receive_count\":2,\"first_receive_millis\":1714400001000,\"current_receipt_token\":\"AAECAwQFBgcICQoLDA0ODw==\","
        )
    );
}

#[test]
fn spec_62_side_records() {
    // Without the seq row: exactly the spec's bytes.
    let mut o = opts("sqs_spec_62_side");
    o.include_sqs_side_records = true;
    let index = Index::from_bytes(spec_62(false).build(), o.clone()).unwrap();
    assert!(index.warnings[0].to_string().contains("buffered_side_records=1"), "{:?}", index.warnings);
    let (_tmp, tree) = extract(spec_62(false).build(), o.clone()).unwrap();
    let vis = r#"{"prefix":"!sqs|msg|vis|","key_hex":"217371737c6d73677c7669737c62334a6b5a584a7a4c6d5a705a6d3800000000000000030000018f2a346d3059544e6d4d574d795a44526c4e5759324d4463784f4449354d324530596a566a4e6d51335a54686d4f5441","value_b64":"YTNmMWMyZDRlNWY2MDcxODI5M2E0YjVjNmQ3ZThmOTA"}"#;
    let tomb = r#"{"prefix":"!sqs|queue|tombstone|","key_hex":"217371737c71756575657c746f6d6273746f6e657c5a3239755a510000000000000001","value_b64":"AQ"}"#;
    assert_eq!(read(&tree, "sqs/orders.fifo/_internals/side_records.jsonl"), format!("{vis}\n"));
    assert_eq!(read(&tree, "sqs/Z29uZQ.orphan/_internals/side_records.jsonl"), format!("{tomb}\n"));

    // With it: upstream fails (ErrSQSMalformedKey); fsmfs reads the seq
    // row's whole remainder as the queue segment.
    let (_tmp2, tree) = extract(spec_62(true).build(), o).unwrap();
    let seq_key = hex(&queue_seq_key("orders.fifo"));
    assert_eq!(
        read(&tree, "sqs/orders.fifo/_internals/side_records.jsonl"),
        format!(
            "{vis}\n{{\"prefix\":\"!sqs|queue|seq|\",\"key_hex\":\"{seq_key}\",\"value_b64\":\"{}\"}}\n",
            b64url_nopad(b"2")
        )
    );
}

fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

/// Every SQS case against its golden tree.
#[test]
fn sqs_goldens() {
    for c in all().into_iter().filter(|c| c.name.starts_with("sqs_")) {
        let (_tmp, tree) = extract(c.snap.build(), c.opts).unwrap_or_else(|e| panic!("{}: {e}", c.name));
        assert_golden(c.name, &tree);
    }
}

#[test]
fn queue_kinds_and_warnings() {
    let index = Index::from_bytes(sqs_queues().build(), opts("q")).unwrap();
    let w: Vec<String> = index.warnings.iter().map(|w| w.to_string()).collect();
    assert_eq!(w.len(), 2, "{w:?}");
    assert!(
        w[0].starts_with("event=sqs_orphan_messages encoded_queue=ZGVsZXRlZA buffered_messages=0"),
        "{w:?}"
    );
    assert!(
        w[1].starts_with("event=sqs_stale_generation_messages_dropped queue=std q/1 active_gen=5 dropped=2")
    );
    let q: Vec<_> = index
        .counts
        .queues
        .iter()
        .map(|q| (q.name.as_str(), q.fifo, q.partition_count, q.messages, q.stale))
        .collect();
    assert_eq!(
        q,
        [
            ("hot.fifo", true, 4, 3, 0),
            ("jobs.fifo", true, 0, 3, 0),
            ("std q/1", false, 0, 6, 2),
            ("unnamed", false, 0, 1, 0)
        ]
    );
    // MVCC: a deleted queue meta leaves nothing, not even a warning.
    let index = Index::from_bytes(sqs_versions().build(), opts("v")).unwrap();
    assert!(index.warnings.is_empty(), "{:?}", index.warnings);
    assert_eq!(index.counts.queues.len(), 1);
}

/// `fsmfs info` counts keys per Redis type and messages per queue.
#[test]
fn info_reports_types_and_queues() {
    let mut s = spec_61();
    s.versions.extend(spec_62(true).versions);
    let dir = tempfile::tempdir().unwrap();
    let snap = dir.path().join("mix.fsm");
    std::fs::write(&snap, s.build()).unwrap();
    let o = fsmfs(&["info", snap.to_str().unwrap()]);
    let text = String::from_utf8_lossy(&o.stdout);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    assert!(
        text.contains(
            "redis keys:         strings 5  hll 1  hashes 1  lists 1  sets 2  zsets 2  streams 1\n"
        ),
        "{text}"
    );
    assert!(text.contains("sqs queues:         3\n"), "{text}");
    assert!(text.contains("  events.fifo (fifo, 4 partitions): 1 messages\n"), "{text}");
    assert!(text.contains("  orders.fifo (fifo): 2 messages, 1 stale (hidden)\n"), "{text}");
    assert!(text.contains("  plain-q (standard): 0 messages\n"), "{text}");
    let o = fsmfs(&["info", "--json", snap.to_str().unwrap()]);
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(v["redis_keys"]["zsets"], 2);
    assert_eq!(v["sqs_queues"][1]["name"], "orders.fifo");
    assert_eq!(v["sqs_queues"][1]["stale_messages"], 1);
    assert_eq!(v["records"]["redis"], 48);
    assert_eq!(v["records"]["sqs"], 15);
}
