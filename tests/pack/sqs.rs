//! `fsmfs pack` for SQS (`pack.md` §10):
//! * the exact records of standard, FIFO (content-based deduplication,
//!   winners and ties, sequence counter) and partitioned queues, spelled
//!   out here from the spec rather than from fsmfs's encoders;
//! * every §10.6 refusal: exit 2, one line naming the file (and line);
//! * round trips: canonical golden trees pack and decode back, live-shaped
//!   trees canonicalise once, trees decoded with visibility or side
//!   records are refused by the manifest guard.

use std::collections::BTreeMap;
use std::os::unix::fs::symlink;
use std::path::Path;

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use fsmfs::pack::{self, Options};

use crate::common::pack::*;
use crate::common::redis_sqs;

const T: u64 = 0x018F_D118_9400_0003;

fn b64u(s: &str) -> String {
    URL_SAFE_NO_PAD.encode(s)
}

fn be64(v: u64) -> [u8; 8] {
    v.to_be_bytes()
}

fn be32(v: u32) -> [u8; 4] {
    v.to_be_bytes()
}

fn key(parts: &[&[u8]]) -> Vec<u8> {
    parts.concat()
}

/// The user keys and values of an `EKVPBBL1` payload (`pack.md` §5.1:
/// `u64le(K) ‖ key ‖ u64be(^T) ‖ u64le(V) ‖ 9-byte header ‖ value`).
fn rows(payload: &[u8]) -> BTreeMap<Vec<u8>, Vec<u8>> {
    assert_eq!(&payload[..8], b"EKVPBBL1");
    let le = |b: &[u8]| u64::from_le_bytes(b[..8].try_into().unwrap()) as usize;
    let mut out = BTreeMap::new();
    let mut i = 16;
    while i < payload.len() {
        let klen = le(&payload[i..]);
        let k = &payload[i + 8..i + 8 + klen];
        i += 8 + klen;
        let vlen = le(&payload[i..]);
        let v = &payload[i + 8..i + 8 + vlen];
        i += 8 + vlen;
        // The header's commit timestamp on every key, a zero value header.
        assert_eq!(&k[klen - 8..], &(!le(&payload[8..]) as u64).to_be_bytes());
        assert_eq!(&v[..9], &[0; 9]);
        out.insert(k[..klen - 8].to_vec(), v[9..].to_vec());
    }
    out
}

/// Packs `files` (manifest at `T`) through the library; the self-test is
/// off because hand-written trees are not what the decoder writes.
fn pack_rows(files: &[(&str, &[u8])]) -> BTreeMap<Vec<u8>, Vec<u8>> {
    let tmp = tempfile::tempdir().unwrap();
    let tree = tmp.path().join("tree");
    make_tree(&tree, T, files);
    let out = tmp.path().join("out.fsm");
    let mut opts = Options::new(&tree, &out);
    opts.self_test = false;
    pack::pack(&opts).unwrap_or_else(|e| panic!("{e}"));
    rows(&std::fs::read(&out).unwrap())
}

fn show(m: &BTreeMap<Vec<u8>, Vec<u8>>) -> String {
    m.iter()
        .map(|(k, v)| format!("{}\n  = {}\n", String::from_utf8_lossy(k), String::from_utf8_lossy(v)))
        .collect()
}

fn assert_rows(got: &BTreeMap<Vec<u8>, Vec<u8>>, want: &[(Vec<u8>, Vec<u8>)]) {
    let want: BTreeMap<Vec<u8>, Vec<u8>> = want.iter().cloned().collect();
    assert!(got == &want, "--- got\n{}--- want\n{}", show(got), show(&want));
}

fn meta(q: &str, json: &str) -> (Vec<u8>, Vec<u8>) {
    (key(&[b"!sqs|queue|meta|", b64u(q).as_bytes()]), [&b"\x00SQ\x01"[..], json.as_bytes()].concat())
}

fn gen(q: &str) -> (Vec<u8>, Vec<u8>) {
    (key(&[b"!sqs|queue|gen|", b64u(q).as_bytes()]), b"1".to_vec())
}

fn seq(q: &str, v: &str) -> (Vec<u8>, Vec<u8>) {
    (key(&[b"!sqs|queue|seq|", b64u(q).as_bytes()]), v.as_bytes().to_vec())
}

/// The queue part of a message-family key: classic `Q‖gen` or
/// partitioned `p|Q|‖BE32(P)‖gen`.
fn lane(q: &str, p: Option<u32>) -> Vec<u8> {
    match p {
        None => key(&[b64u(q).as_bytes(), &be64(1)]),
        Some(p) => key(&[b"p|", b64u(q).as_bytes(), b"|", &be32(p), &be64(1)]),
    }
}

fn data(q: &str, p: Option<u32>, id: &str, json: &str) -> (Vec<u8>, Vec<u8>) {
    (
        key(&[b"!sqs|msg|data|", &lane(q, p), b64u(id).as_bytes()]),
        [&b"\x00SM\x01"[..], json.as_bytes()].concat(),
    )
}

fn vis(q: &str, p: Option<u32>, ts: u64, id: &str) -> (Vec<u8>, Vec<u8>) {
    (key(&[b"!sqs|msg|vis|", &lane(q, p), &be64(ts), b64u(id).as_bytes()]), id.as_bytes().to_vec())
}

fn byage(q: &str, p: Option<u32>, ts: u64, id: &str) -> (Vec<u8>, Vec<u8>) {
    (key(&[b"!sqs|msg|byage|", &lane(q, p), &be64(ts), b64u(id).as_bytes()]), id.as_bytes().to_vec())
}

fn dedup(q: &str, d: &str, json: &str) -> (Vec<u8>, Vec<u8>) {
    (key(&[b"!sqs|msg|dedup|", &lane(q, None), b64u(d).as_bytes()]), json.as_bytes().to_vec())
}

fn dedup_p(q: &str, p: u32, group: &str, d: &str, json: &str) -> (Vec<u8>, Vec<u8>) {
    let k = key(&[b"!sqs|msg|dedup|", &lane(q, Some(p)), b64u(group).as_bytes(), b"|", b64u(d).as_bytes()]);
    (k, json.as_bytes().to_vec())
}

/// A message's data row is checked elsewhere: its key with any value.
fn data_key_only(got: &BTreeMap<Vec<u8>, Vec<u8>>, q: &str, p: Option<u32>, id: &str) -> (Vec<u8>, Vec<u8>) {
    let k = data(q, p, id, "").0;
    let v = got.get(&k).cloned().unwrap_or_else(|| panic!("no data row for {id}"));
    (k, v)
}

#[test]
fn standard_queue_records() {
    let queue = br#"{"format_version":1,"name":"std","content_based_deduplication":true,"visibility_timeout_seconds":30,"message_retention_seconds":60,"delay_seconds":0,"receive_message_wait_seconds":20,"maximum_message_size":1024,"redrive_allow_policy":"{\"redrivePermission\":\"allowAll\"}"}"#;
    // m1 carries every field, visibility state included, and a partition
    // of 0 (allowed on a classic queue); m2 has no body member and a
    // negative send time, and a sequence number (no counter: not FIFO).
    let messages = concat!(
        r#"{"message_id":"m1","body":"<b>&","md5_of_body":"x","md5_of_message_attributes":"y","message_attributes":{"z":{ "DataType" : "String", "StringValue":"<" },"a":1.0},"sender_id":"AIDA","send_timestamp_millis":1000,"available_at_millis":2000,"visible_at_millis":99,"receive_count":3,"first_receive_millis":7,"current_receipt_token":"AQI=","queue_generation":5,"message_deduplication_id":"d","sequence_number":0,"dead_letter_source_arn":"arn","partition":0}"#,
        "\n",
        r#"{"message_id":"m2","send_timestamp_millis":-5,"sequence_number":4}"#,
        "\n"
    );
    let got = pack_rows(&[("sqs/std/_queue.json", queue), ("sqs/std/messages.jsonl", messages.as_bytes())]);
    assert_rows(
        &got,
        &[
            meta(
                "std",
                r#"{"name":"std","generation":1,"content_based_dedup":true,"visibility_timeout_seconds":30,"message_retention_seconds":60,"delay_seconds":0,"receive_message_wait_seconds":20,"maximum_message_size":1024,"redrive_allow_policy":"{\"redrivePermission\":\"allowAll\"}"}"#,
            ),
            gen("std"),
            data(
                "std",
                None,
                "m1",
                r#"{"message_id":"m1","body":"PGI+Jg==","md5_of_body":"x","md5_of_message_attributes":"y","message_attributes":{"a":1.0,"z":{"DataType":"String","StringValue":"\u003c"}},"sender_id":"AIDA","send_timestamp_millis":1000,"available_at_millis":2000,"visible_at_millis":0,"receive_count":0,"current_receipt_token":null,"queue_generation":1,"message_deduplication_id":"d","dead_letter_source_arn":"arn"}"#,
            ),
            data(
                "std",
                None,
                "m2",
                r#"{"message_id":"m2","body":null,"md5_of_body":"","send_timestamp_millis":-5,"available_at_millis":0,"visible_at_millis":0,"receive_count":0,"current_receipt_token":null,"queue_generation":1,"sequence_number":4}"#,
            ),
            // Visible at available_at (state reset); negative times clamp to 0.
            vis("std", None, 2000, "m1"),
            byage("std", None, 1000, "m1"),
            vis("std", None, 0, "m2"),
            byage("std", None, 0, "m2"),
            // No dedup rows and no seq counter: not a FIFO queue.
        ],
    );
}

#[test]
fn fifo_queue_dedup_winners_and_sequence_counter() {
    let queue = br#"{"format_version":1,"name":"f.fifo","fifo":true,"content_based_deduplication":true,"visibility_timeout_seconds":30,"message_retention_seconds":60,"delay_seconds":0}"#;
    let line = |id: &str, body: &str, dedup: &str, ts: u64, seq: u64| {
        format!(
            r#"{{"message_id":"{id}","body":"{body}","md5_of_body":"h","send_timestamp_millis":{ts},"available_at_millis":{ts},"message_group_id":"g","message_deduplication_id":"{dedup}","sequence_number":{seq}}}"#
        )
    };
    let messages = [
        // a and b share the content-based id SHA-256("hello"): b is later.
        line("a", "hello", "", 100, 3),
        line("b", "hello", "", 200, 5),
        // c and d share an explicit id at the same time: the first wins.
        line("c", "x", "explicit", 50, 2),
        line("d", "y", "explicit", 50, 4),
        // Sequence 0: original_sequence omitted.
        line("e", "zz", "e-only", 10, 0),
    ]
    .join("\n");
    let got = pack_rows(&[
        ("sqs/f/_queue.json", queue),
        ("sqs/f/messages.jsonl", messages.as_bytes()),
        (
            "sqs/empty/_queue.json",
            br#"{"format_version":1,"name":"empty.fifo","fifo":true,"visibility_timeout_seconds":1,"message_retention_seconds":2,"delay_seconds":3}"#,
        ),
    ]);
    let hello = "2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824";
    let q = "f.fifo";
    let mut want = vec![
        meta(
            q,
            r#"{"name":"f.fifo","generation":1,"is_fifo":true,"content_based_dedup":true,"visibility_timeout_seconds":30,"message_retention_seconds":60,"delay_seconds":0,"receive_message_wait_seconds":0,"maximum_message_size":0}"#,
        ),
        gen(q),
        seq(q, "5"),
        data(
            q,
            None,
            "a",
            r#"{"message_id":"a","body":"aGVsbG8=","md5_of_body":"h","send_timestamp_millis":100,"available_at_millis":100,"visible_at_millis":0,"receive_count":0,"current_receipt_token":null,"queue_generation":1,"message_group_id":"g","sequence_number":3}"#,
        ),
        dedup(
            q,
            hello,
            r#"{"message_id":"b","send_timestamp_ms":200,"expires_at_millis":300200,"original_sequence":5}"#,
        ),
        dedup(
            q,
            "explicit",
            r#"{"message_id":"c","send_timestamp_ms":50,"expires_at_millis":300050,"original_sequence":2}"#,
        ),
        dedup(q, "e-only", r#"{"message_id":"e","send_timestamp_ms":10,"expires_at_millis":300010}"#),
        // The empty FIFO queue: no sequence counter, as a fresh queue.
        meta(
            "empty.fifo",
            r#"{"name":"empty.fifo","generation":1,"is_fifo":true,"visibility_timeout_seconds":1,"message_retention_seconds":2,"delay_seconds":3,"receive_message_wait_seconds":0,"maximum_message_size":0}"#,
        ),
        gen("empty.fifo"),
    ];
    for (id, ts) in [("a", 100), ("b", 200), ("c", 50), ("d", 50), ("e", 10)] {
        want.push(vis(q, None, ts, id));
        want.push(byage(q, None, ts, id));
        if id != "a" {
            want.push(data_key_only(&got, q, None, id));
        }
    }
    assert_rows(&got, &want);
}

#[test]
fn partitioned_queue_records() {
    let queue = br#"{"format_version":1,"name":"p.fifo","fifo":true,"visibility_timeout_seconds":30,"message_retention_seconds":60,"delay_seconds":0,"partition_count":4,"fifo_throughput_limit":"perMessageGroupId","deduplication_scope":"messageGroup"}"#;
    let line = |id: &str, group: &str, p: u32, dedup: &str, ts: u64, seq: u64| {
        format!(
            r#"{{"message_id":"{id}","body":"b","send_timestamp_millis":{ts},"available_at_millis":{ts},"message_group_id":"{group}","message_deduplication_id":"{dedup}","sequence_number":{seq},"partition":{p}}}"#
        )
    };
    // fnv1a32("g1") & 3 = 1, fnv1a32("user-7") & 3 = 2, no group → 0.
    let messages = [
        // z and y tie on (partition 1, g1, d) and send time; processing
        // order sorts y (sequence 1) first, so y owns the row.
        line("z", "g1", 1, "d", 10, 2),
        line("y", "g1", 1, "d", 10, 1),
        // Same dedup id, other group and partition: its own row.
        line("u", "user-7", 2, "d", 5, 3),
        r#"{"message_id":"n","body":{"base64":"AP8"},"send_timestamp_millis":1,"available_at_millis":1,"partition":0}"#.into(),
    ]
    .join("\n");
    let per_queue = br#"{"format_version":1,"name":"pq.fifo","fifo":true,"visibility_timeout_seconds":30,"message_retention_seconds":60,"delay_seconds":0,"partition_count":2,"fifo_throughput_limit":"perQueue"}"#;
    let got = pack_rows(&[
        ("sqs/p/_queue.json", queue),
        ("sqs/p/messages.jsonl", messages.as_bytes()),
        ("sqs/pq/_queue.json", per_queue),
        (
            "sqs/pq/messages.jsonl",
            br#"{"message_id":"m","body":"","send_timestamp_millis":7,"available_at_millis":8,"message_group_id":"g1","partition":0}"#,
        ),
    ]);
    let q = "p.fifo";
    let mut want = vec![
        meta(
            q,
            r#"{"name":"p.fifo","generation":1,"is_fifo":true,"visibility_timeout_seconds":30,"message_retention_seconds":60,"delay_seconds":0,"receive_message_wait_seconds":0,"maximum_message_size":0,"partition_count":4,"fifo_throughput_limit":"perMessageGroupId","deduplication_scope":"messageGroup"}"#,
        ),
        gen(q),
        seq(q, "3"),
        data(
            q,
            Some(0),
            "n",
            r#"{"message_id":"n","body":"AP8=","md5_of_body":"","send_timestamp_millis":1,"available_at_millis":1,"visible_at_millis":0,"receive_count":0,"current_receipt_token":null,"queue_generation":1}"#,
        ),
        dedup_p(
            q,
            1,
            "g1",
            "d",
            r#"{"message_id":"y","send_timestamp_ms":10,"expires_at_millis":300010,"original_sequence":1}"#,
        ),
        dedup_p(
            q,
            2,
            "user-7",
            "d",
            r#"{"message_id":"u","send_timestamp_ms":5,"expires_at_millis":300005,"original_sequence":3}"#,
        ),
        meta(
            "pq.fifo",
            r#"{"name":"pq.fifo","generation":1,"is_fifo":true,"visibility_timeout_seconds":30,"message_retention_seconds":60,"delay_seconds":0,"receive_message_wait_seconds":0,"maximum_message_size":0,"partition_count":2,"fifo_throughput_limit":"perQueue"}"#,
        ),
        gen("pq.fifo"),
        // perQueue: every group on partition 0, still in partitioned keys.
        data(
            "pq.fifo",
            Some(0),
            "m",
            r#"{"message_id":"m","body":"","md5_of_body":"","send_timestamp_millis":7,"available_at_millis":8,"visible_at_millis":0,"receive_count":0,"current_receipt_token":null,"queue_generation":1,"message_group_id":"g1"}"#,
        ),
        vis("pq.fifo", Some(0), 8, "m"),
        byage("pq.fifo", Some(0), 7, "m"),
    ];
    for (id, p, ts) in [("z", 1, 10), ("y", 1, 10), ("u", 2, 5), ("n", 0, 1)] {
        want.push(vis(q, Some(p), ts, id));
        want.push(byage(q, Some(p), ts, id));
        if id != "n" {
            want.push(data_key_only(&got, q, Some(p), id));
        }
    }
    assert_rows(&got, &want);
}

#[test]
fn lenient_go_json_is_read_like_upstream() {
    // Case-folded and repeated member names, unknown members, nulls,
    // several values on one line and one value over two lines.
    let queue = b"{\"Format_Version\":1,\"NAME\":\"x\",\"name\":\"q\",\"visibility_timeout_seconds\":null,\"extra\":{}}\n";
    let messages = concat!(
        r#"{"Message_ID":"a","BODY":"first","body":"second","unknown":[1,{"x":2}],"sequence_number":null} {"message_id":"b"}"#,
        "\n\n",
        "{\"message_id\":\n\"c\",\"body\":null}",
    );
    let got = pack_rows(&[("sqs/q/_queue.json", queue), ("sqs/q/messages.jsonl", messages.as_bytes())]);
    let value = |id: &str| got[&data("q", None, id, "").0].clone();
    let body = |id: &str| {
        let v: serde_json::Value = serde_json::from_slice(&value(id)[4..]).unwrap();
        v["body"].clone()
    };
    assert_eq!(body("a"), "c2Vjb25k", "the last body wins");
    assert_eq!(body("b"), serde_json::Value::Null, "no body member: null");
    assert_eq!(body("c"), "", "body null: empty");
    assert!(got.contains_key(&meta("q", "").0));
}

// --- refusals -------------------------------------------------------------------

struct Refusal {
    name: &'static str,
    files: Vec<(&'static str, Vec<u8>)>,
    setup: fn(&Path),
    want: Vec<&'static str>,
}

const QUEUE: &[u8] = br#"{"format_version":1,"name":"q","visibility_timeout_seconds":30}"#;
const FIFO4: &[u8] = br#"{"format_version":1,"name":"p","fifo":true,"partition_count":4}"#;

fn none(_: &Path) {}

fn refusal(name: &'static str, files: Vec<(&'static str, &[u8])>, want: Vec<&'static str>) -> Refusal {
    Refusal { name, files: files.into_iter().map(|(p, b)| (p, b.to_vec())).collect(), setup: none, want }
}

/// A queue `q` with these messages.
fn with_messages(name: &'static str, lines: &'static str, want: Vec<&'static str>) -> Refusal {
    refusal(name, vec![("sqs/q/_queue.json", QUEUE), ("sqs/q/messages.jsonl", lines.as_bytes())], want)
}

/// The partitioned queue `p` (4 partitions, routed by group) with a message.
fn partitioned(
    name: &'static str,
    queue: &'static [u8],
    line: &'static str,
    want: Vec<&'static str>,
) -> Refusal {
    refusal(name, vec![("sqs/p/_queue.json", queue), ("sqs/p/messages.jsonl", line.as_bytes())], want)
}

fn queue_json(name: &'static str, json: &'static str, want: Vec<&'static str>) -> Refusal {
    refusal(name, vec![("sqs/q/_queue.json", json.as_bytes())], want)
}

fn mkfifo(p: &Path) {
    let c = std::ffi::CString::new(p.as_os_str().as_encoded_bytes()).unwrap();
    assert_eq!(unsafe { libc::mkfifo(c.as_ptr(), 0o600) }, 0);
}

/// Runs the binary: exit 2, one line naming the problem, nothing written.
fn assert_refused(r: &Refusal) {
    let tmp = tempfile::tempdir().unwrap();
    let tree = tmp.path().join("tree");
    let files: Vec<(&str, &[u8])> = r.files.iter().map(|(p, b)| (*p, b.as_slice())).collect();
    make_tree(&tree, T, &files);
    (r.setup)(&tree);
    let outdir = tmp.path().join("out");
    std::fs::create_dir(&outdir).unwrap();
    let out = outdir.join("x.fsm");
    let o = run(&["pack", tree.to_str().unwrap(), out.to_str().unwrap()]);
    let err = stderr(&o);
    assert_eq!(o.status.code(), Some(2), "{}: {err}", r.name);
    assert_eq!(err.trim_end().lines().count(), 1, "{}: one line expected: {err}", r.name);
    for w in &r.want {
        assert!(err.contains(w), "{}: {err:?} lacks {w:?}", r.name);
    }
    assert_eq!(listing(&outdir), Vec::<String>::new(), "{}: output left behind", r.name);
}

#[test]
fn queue_problems_exit_2() {
    let mut cases = vec![
        refusal(
            "no _queue.json",
            vec![("sqs/q/messages.jsonl", b"")],
            vec!["tree/sqs/q/_queue.json: missing"],
        ),
        queue_json(
            "bad version",
            r#"{"format_version":2,"name":"q"}"#,
            vec!["q/_queue.json: unsupported format_version 2"],
        ),
        queue_json("no version", r#"{"name":"q"}"#, vec!["unsupported format_version 0"]),
        queue_json(
            "empty name",
            r#"{"format_version":1,"name":""}"#,
            vec!["q/_queue.json: empty queue name"],
        ),
        queue_json("not JSON", r#"{"format_version":1,"#, vec!["q/_queue.json: EOF"]),
        queue_json(
            "trailing bracket",
            r#"{"format_version":1,"name":"q"}]"#,
            vec!["q/_queue.json: trailing"],
        ),
        queue_json(
            "wrong type",
            r#"{"format_version":1,"name":"q","fifo":"yes"}"#,
            vec!["field fifo of type bool"],
        ),
        queue_json(
            "HT-FIFO on a standard queue",
            r#"{"format_version":1,"name":"q","partition_count":2}"#,
            vec!["partition_count 2 is only valid on FIFO queues"],
        ),
        queue_json(
            "partition count not a power of two",
            r#"{"format_version":1,"name":"q","fifo":true,"partition_count":6}"#,
            vec!["partition_count 6 must be a power of two"],
        ),
        queue_json(
            "queue dedup scope on a partitioned queue",
            r#"{"format_version":1,"name":"q","fifo":true,"partition_count":2,"deduplication_scope":"queue"}"#,
            vec!["incompatible with partition_count 2"],
        ),
        refusal(
            "two directories, one queue",
            vec![("sqs/a/_queue.json", QUEUE), ("sqs/b/_queue.json", QUEUE)],
            vec!["is also defined by sqs/", "a queue name may appear once"],
        ),
    ];
    let mut c =
        refusal("_queue.json symlink", vec![("sqs/q/x", b"")], vec!["sqs/q/_queue.json: is a symlink"]);
    c.setup = |t| symlink("/etc/hostname", t.join("sqs/q/_queue.json")).unwrap();
    cases.push(c);
    let mut c =
        refusal("_queue.json FIFO", vec![("sqs/q/x", b"")], vec!["sqs/q/_queue.json: is a special file"]);
    c.setup = |t| mkfifo(&t.join("sqs/q/_queue.json"));
    cases.push(c);
    let mut c = refusal(
        "_queue.json hard link",
        vec![("sqs/q/_queue.json", QUEUE)],
        vec!["_queue.json: has 2 hard links"],
    );
    c.setup = |t| std::fs::hard_link(t.join("sqs/q/_queue.json"), t.join("CHECKSUMS")).unwrap();
    cases.push(c);
    let mut c = refusal(
        "_queue.json directory",
        vec![("sqs/q/_queue.json/x", b"")],
        vec!["_queue.json: is a directory"],
    );
    c.setup = none;
    cases.push(c);
    let mut c = refusal(
        "messages symlink",
        vec![("sqs/q/_queue.json", QUEUE)],
        vec!["sqs/q/messages.jsonl: is a symlink"],
    );
    c.setup = |t| symlink("/etc/hostname", t.join("sqs/q/messages.jsonl")).unwrap();
    cases.push(c);
    let mut c = refusal(
        "messages FIFO",
        vec![("sqs/q/_queue.json", QUEUE)],
        vec!["sqs/q/messages.jsonl: is a special file"],
    );
    c.setup = |t| mkfifo(&t.join("sqs/q/messages.jsonl"));
    cases.push(c);
    let mut c =
        refusal("sqs is a symlink", vec![("elsewhere/q/_queue.json", QUEUE)], vec!["tree/sqs: is a symlink"]);
    c.files.clear();
    c.setup = |t| symlink("/tmp", t.join("sqs")).unwrap();
    cases.push(c);
    for c in &cases {
        assert_refused(c);
    }
}

#[test]
fn message_problems_exit_2() {
    let p0 = r#"{"format_version":1,"name":"p","fifo":true,"partition_count":4,"fifo_throughput_limit":"perQueue"}"#;
    let cases = [
        with_messages(
            "malformed line",
            "{\"message_id\":\"a\"}\n{\"message_id\":\"b\",}\n",
            vec!["tree/sqs/q/messages.jsonl: line 2: invalid JSON: unexpected character '}'"],
        ),
        with_messages(
            "truncated",
            "{\"message_id\":\"a\"}\n{\"message_id\"",
            vec!["line 2: invalid JSON: unexpected end"],
        ),
        with_messages(
            "stray bracket",
            "{\"message_id\":\"a\"}\n]\n",
            vec!["line 2: invalid JSON: unexpected character ']'"],
        ),
        with_messages("not an object", "[]", vec!["line 1: a message is a JSON object, not an array"]),
        with_messages(
            "wrong type",
            r#"{"message_id":"a","receive_count":"1"}"#,
            vec!["line 1: json: cannot unmarshal string", "receive_count"],
        ),
        with_messages(
            "empty body object",
            r#"{"message_id":"a","body":{}}"#,
            vec!["line 1: body: the {\"base64\": …} object has no base64 string"],
        ),
        with_messages(
            "extra envelope key",
            r#"{"message_id":"a","body":{"base64":"AA","oops":"x"}}"#,
            vec!["line 1: body: unknown member \"oops\""],
        ),
        with_messages(
            "padded base64",
            r#"{"message_id":"a","body":{"base64":"AA=="}}"#,
            vec!["base64 is not unpadded base64url"],
        ),
        with_messages(
            "number body",
            r#"{"message_id":"a","body":5}"#,
            vec!["body: a message body is a JSON string or"],
        ),
        with_messages(
            "empty message_id",
            "{\"message_id\":\"a\"}\n{\"body\":\"x\"}",
            vec!["line 2: empty message_id"],
        ),
        with_messages(
            "repeated message_id",
            "{\"message_id\":\"a\"}\n{\"message_id\":\"b\"}\n{\"message_id\":\"a\"}",
            vec!["line 3: message_id \"a\" already appears on line 1"],
        ),
        with_messages(
            "partition on a classic queue",
            r#"{"message_id":"a","partition":1}"#,
            vec!["line 1: message \"a\" has partition 1, but queue \"q\" is not partitioned"],
        ),
        partitioned(
            "missing partition",
            FIFO4,
            r#"{"message_id":"a","message_group_id":"g1"}"#,
            vec!["tree/sqs/p/messages.jsonl: line 1: message \"a\" has no partition", "partition_count 4"],
        ),
        partitioned(
            "partition out of range",
            FIFO4,
            r#"{"message_id":"a","message_group_id":"g1","partition":4}"#,
            vec!["partition 4 is out of range for partition_count 4"],
        ),
        partitioned(
            "wrong lane for the group",
            FIFO4,
            r#"{"message_id":"a","message_group_id":"g1","partition":2}"#,
            vec!["message \"a\" has partition 2, but message_group_id \"g1\" routes to partition 1"],
        ),
        partitioned(
            "no group, not partition 0",
            FIFO4,
            r#"{"message_id":"a","partition":1}"#,
            vec!["message_group_id \"\" routes to partition 0"],
        ),
        partitioned(
            "perQueue off partition 0",
            p0.as_bytes(),
            r#"{"message_id":"a","message_group_id":"g1","partition":1}"#,
            vec!["a \"perQueue\" queue keeps every message on partition 0"],
        ),
    ];
    for c in &cases {
        assert_refused(c);
    }
}

/// Everything of a queue is checked before its records are added: a bad
/// last line refuses the queue even though earlier lines were fine, and
/// the partition check comes before the id checks (as upstream).
#[test]
fn partition_errors_come_before_id_errors() {
    assert_refused(&partitioned(
        "order",
        FIFO4,
        "{\"message_id\":\"\",\"message_group_id\":\"g1\",\"partition\":1}\n{\"message_id\":\"b\",\"partition\":3}",
        vec!["line 2: message \"b\" has partition 3"],
    ));
}

#[test]
fn non_directories_under_sqs_and_extra_queue_files_are_ignored() {
    let tmp = tempfile::tempdir().unwrap();
    let tree = tmp.path().join("tree");
    make_tree(
        &tree,
        T,
        &[
            ("sqs/README", b"not a queue"),
            ("sqs/q/_queue.json", QUEUE),
            ("sqs/q/_internals/side_records.jsonl", b"{}"),
            ("sqs/q/notes.txt", b"x"),
        ],
    );
    symlink("/tmp", tree.join("sqs/link")).unwrap();
    let out = tmp.path().join("o.fsm");
    let mut opts = Options::new(&tree, &out);
    opts.self_test = false;
    let r = pack::pack(&opts).unwrap();
    assert_eq!(r.entries, 2, "meta and gen only");
}

// --- round trips ------------------------------------------------------------------

/// pack(tree) with the self-test, decoded back = tree; packing the decoded
/// tree gives the same bytes.
fn canonical_round_trip(tree: &Path, case: &str) -> Vec<u8> {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("out.fsm");
    let r = pack_lib(tree, &out).unwrap_or_else(|e| panic!("{case}: {e}"));
    assert!(r.self_test, "{case}");
    let back = tmp.path().join("back");
    extract_to(&out, &back, false);
    assert_same_files(&back, tree, case);
    let again = tmp.path().join("again.fsm");
    pack_lib(&back, &again).unwrap();
    let bytes = std::fs::read(&out).unwrap();
    assert_eq!(bytes, std::fs::read(&again).unwrap(), "{case}: not a fixed point");
    bytes
}

/// A tree decoded from a live node (generation ≠ 1): the self-test passes
/// (the messages are the same, only their generation changes); decoded, the
/// payload gives `want`, which is canonical and packs to the same bytes
/// (canonicalize-once).
fn canonicalize_once(tree: &Path, want: &Path, case: &str) {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("first.fsm");
    let r = pack_lib(tree, &out).unwrap_or_else(|e| panic!("{case}: {e}"));
    assert!(r.self_test, "{case}");
    let back = tmp.path().join("back");
    extract_to(&out, &back, false);
    assert_same_files(&back, want, case);
    let bytes = canonical_round_trip(&back, case);
    assert_eq!(bytes, std::fs::read(&out).unwrap(), "{case}: the first pack already gives the final bytes");
}

/// A copy of `src` in which every `"queue_generation":N` reads 1.
fn with_generation_one(src: &Path, dst: &Path) {
    copy_tree(src, dst);
    for (rel, bytes) in adapter_files(dst) {
        if rel.ends_with("messages.jsonl") {
            let text = String::from_utf8(bytes).unwrap();
            let mut out = String::new();
            for line in text.split_inclusive('\n') {
                let (head, rest) = line.split_once("\"queue_generation\":").unwrap();
                let digits = rest.find(|c: char| !c.is_ascii_digit()).unwrap();
                out.push_str(&format!("{head}\"queue_generation\":1{}", &rest[digits..]));
            }
            std::fs::write(dst.join(rel), out).unwrap();
        }
    }
}

#[test]
fn canonical_golden_tree_round_trips() {
    canonical_round_trip(&golden("sqs_versions"), "sqs_versions");
}

#[test]
fn live_decoded_golden_trees_canonicalize_once() {
    let tmp = tempfile::tempdir().unwrap();
    // sqs_spec_62: generation 3 messages become generation 1.
    let want = tmp.path().join("spec_62_want");
    with_generation_one(&golden("sqs_spec_62"), &want);
    canonicalize_once(&golden("sqs_spec_62"), &want, "sqs_spec_62");

    // sqs_queues: its hot.fifo fixture puts groups on lanes the live
    // router never uses, which pack refuses; moved to the right lanes
    // (group-0 → 1, group-3 → 0) the tree canonicalises like the other.
    let e = pack_lib(&golden("sqs_queues"), &tmp.path().join("x.fsm")).unwrap_err();
    assert!(e.message.contains("sqs/hot.fifo/messages.jsonl: line 1: message \"p0\" has partition 0, but message_group_id \"group-0\" routes to partition 1"), "{e}");
    let tree = tmp.path().join("queues");
    copy_tree(&golden("sqs_queues"), &tree);
    let hot = tree.join("sqs/hot.fifo/messages.jsonl");
    let lines: Vec<String> = std::fs::read_to_string(&hot).unwrap().lines().map(String::from).collect();
    let relane = |l: &str, from: &str, to: &str| {
        l.replace(&format!("\"partition\":{from}"), &format!("\"partition\":{to}"))
    };
    // The decoder orders messages by send time and sequence, not lane.
    let fixed = [relane(&lines[0], "0", "1"), relane(&lines[1], "3", "0"), relane(&lines[2], "3", "0")];
    std::fs::write(&hot, fixed.map(|l| l + "\n").concat()).unwrap();
    let want = tmp.path().join("queues_want");
    with_generation_one(&tree, &want);
    canonicalize_once(&tree, &want, "sqs_queues");
}

#[test]
fn trees_decoded_with_visibility_or_side_records_are_refused() {
    for (case, flag) in [
        ("sqs_spec_62_preserve", "exclusions.preserve_sqs_visibility"),
        ("sqs_spec_62_side", "exclusions.include_sqs_side_records"),
    ] {
        let tmp = tempfile::tempdir().unwrap();
        let o = run(&["pack", golden(case).to_str().unwrap(), tmp.path().join("x.fsm").to_str().unwrap()]);
        assert_eq!(o.status.code(), Some(2), "{case}");
        assert!(stderr(&o).contains(flag), "{case}: {}", stderr(&o));
        assert_eq!(listing(tmp.path()), Vec::<String>::new(), "{case}");
        // Without SQS the rest of the tree packs.
        let o = run(&[
            "pack",
            "--adapter",
            "dynamodb,s3,redis",
            golden(case).to_str().unwrap(),
            tmp.path().join("y.fsm").to_str().unwrap(),
        ]);
        assert!(o.status.success(), "{case}: {}", stderr(&o));
    }
}

/// A live-shaped snapshot (generation 3, stale messages, side records,
/// group locks, a tombstone): extract → pack → extract → pack is a fixed
/// point, the payload holds regenerated side rows and never a lock or
/// tombstone row.
#[test]
fn extract_pack_extract_is_a_fixed_point() {
    let tmp = tempfile::tempdir().unwrap();
    let snap = write_snap(tmp.path(), "live.fsm", &redis_sqs::spec_62(true).build());
    let first = tmp.path().join("first");
    extract_to(&snap, &first, false);
    let p1 = tmp.path().join("p1.fsm");
    let mut opts = Options::new(&first, &p1);
    opts.self_test = false;
    opts.adapters = vec![fsmfs::adapters::route::Adapter::Sqs];
    pack::pack(&opts).unwrap();
    let second = tmp.path().join("second");
    extract_to(&p1, &second, false);
    let bytes = canonical_round_trip(&second, "spec_62 snapshot");
    assert_eq!(bytes, std::fs::read(&p1).unwrap());

    let got = rows(&bytes);
    let count = |prefix: &[u8]| got.keys().filter(|k| k.starts_with(prefix)).count();
    let messages = count(b"!sqs|msg|data|");
    assert!(messages >= 3, "{}", show(&got));
    assert_eq!(count(b"!sqs|msg|vis|"), messages);
    assert_eq!(count(b"!sqs|msg|byage|"), messages);
    assert!(count(b"!sqs|msg|dedup|") > 0);
    assert_eq!(count(b"!sqs|msg|group|"), 0);
    assert_eq!(count(b"!sqs|queue|tombstone|"), 0);
    let data_values = got.iter().filter(|(k, _)| k.starts_with(b"!sqs|msg|data|"));
    assert!(data_values
        .map(|(_, v)| String::from_utf8_lossy(v).into_owned())
        .all(|v| v.contains("\"queue_generation\":1,")));
}
