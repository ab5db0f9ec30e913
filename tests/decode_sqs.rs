//! SQS golden trees: the spec's worked example (`redis-sqs.md` §6.2) with
//! its printed bytes asserted literally, under every option, then
//! standard, FIFO and partitioned-FIFO queues with generations, several
//! versions and odd message JSON, compared with `tests/golden/`.

mod common;

use common::*;
use fsmfs::adapters::encode_sqs::*;
use fsmfs::index::Index;
use fsmfs::keys::segment::b64url_nopad;

fn msg(json: &str) -> Vec<u8> {
    let mut v = MESSAGE_MAGIC.to_vec();
    v.extend_from_slice(json.as_bytes());
    v
}

fn meta(json: &str) -> Vec<u8> {
    let mut v = QUEUE_META_MAGIC.to_vec();
    v.extend_from_slice(json.as_bytes());
    v
}

const ORDERS_A: &str = "0b1c2d3e4f5061728394a5b6c7d8e9f0";
const ORDERS_B: &str = "a3f1c2d4e5f60718293a4b5c6d7e8f90";

/// The entries of §6.2.
fn spec_62(with_seq: bool) -> Snap {
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
    assert_golden("sqs_spec_62", &tree);
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
    assert_golden("sqs_spec_62_preserve", &tree);
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
    assert_golden("sqs_spec_62_side", &tree);
}

fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}
