//! SQS key grammar (`redis-sqs.md` §4.2): which queue a record belongs to,
//! found exactly the way upstream's decoder finds it.

use crate::adapters::route::SqsFamily;

fn is_b64url_byte(c: u8) -> bool {
    c.is_ascii_alphanumeric() || c == b'-' || c == b'_'
}

/// Whether Go's `base64.RawURLEncoding.DecodeString` accepts `s` (`\r` and
/// `\n` skipped, no padding, a lone final symbol refused, trailing bits
/// ignored). Allocation-free: the index checks one message id per record.
pub(crate) fn b64url_valid(s: &[u8]) -> bool {
    let mut n = 0usize;
    for &c in s {
        if c == b'\r' || c == b'\n' {
            continue;
        }
        if !is_b64url_byte(c) {
            return false;
        }
        n += 1;
    }
    n % 4 != 1
}

/// Length of the leading run of base64url bytes.
fn b64url_run(s: &[u8]) -> usize {
    s.iter().position(|&c| !is_b64url_byte(c)).unwrap_or(s.len())
}

/// Where a message's queue segment and partition are.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct DataKey<'a> {
    pub(crate) queue: &'a [u8],
    pub(crate) partition: Option<u32>,
}

const GEN: usize = 8;
const PARTITION: usize = 4;

/// `p|Q|‖BE32(partition)‖BE64(gen)‖tail`: `(Q, partition, tail)`.
fn partitioned(body: &[u8]) -> Result<(&[u8], u32, &[u8]), String> {
    let end = body
        .iter()
        .position(|&c| c == b'|')
        .filter(|&i| i > 0)
        .ok_or("partitioned key missing queue terminator")?;
    let queue = &body[..end];
    if !b64url_valid(queue) {
        return Err("queue segment is not base64url".into());
    }
    let trailer = &body[end + 1..];
    if trailer.len() < PARTITION + GEN {
        return Err("partitioned key trailer truncated".into());
    }
    let partition = u32::from_be_bytes(trailer[..PARTITION].try_into().expect("4 bytes"));
    Ok((queue, partition, &trailer[PARTITION + GEN..]))
}

/// A `!sqs|msg|data|` key (after the prefix).
pub(crate) fn parse_data_key(rest: &[u8]) -> Result<DataKey<'_>, String> {
    if let Some(body) = rest.strip_prefix(b"p|") {
        let (queue, partition, msg) = partitioned(body)?;
        if msg.is_empty() {
            return Err("partitioned msg-data key missing message-id".into());
        }
        if !b64url_valid(msg) {
            return Err("message-id segment is not base64url".into());
        }
        return Ok(DataKey { queue, partition: Some(partition) });
    }
    let end = b64url_run(rest);
    if end == 0 || end + GEN >= rest.len() {
        return Err("queue segment or message-id segment not found".into());
    }
    let (queue, msg) = (&rest[..end], &rest[end + GEN..]);
    if !b64url_valid(queue) {
        return Err("queue segment is not base64url".into());
    }
    if !b64url_valid(msg) {
        return Err("message-id segment is not base64url".into());
    }
    Ok(DataKey { queue, partition: None })
}

/// The partition of a data key the index has already checked.
pub(crate) fn partition_of(rest: &[u8]) -> Option<u32> {
    let body = rest.strip_prefix(b"p|")?;
    let end = body.iter().position(|&c| c == b'|')?;
    Some(u32::from_be_bytes(body.get(end + 1..end + 5)?.try_into().ok()?))
}

/// The queue segment of a side record (after its prefix). A
/// `!sqs|queue|seq|` key is the segment and nothing else (upstream
/// requires a binary trailer there and so fails on every FIFO queue).
pub(crate) fn parse_side_key(family: SqsFamily, rest: &[u8]) -> Result<&[u8], String> {
    if family == SqsFamily::QueueSeq {
        if !rest.iter().all(|&c| is_b64url_byte(c)) {
            return Err("queue segment is not base64url".into());
        }
        return Ok(rest);
    }
    if let Some(body) = rest.strip_prefix(b"p|") {
        return partitioned(body).map(|(q, ..)| q);
    }
    let end = b64url_run(rest);
    if end == 0 || end == rest.len() {
        return Err("queue segment not found after the prefix".into());
    }
    Ok(&rest[..end])
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::adapters::sqs::records as enc;

    fn rest(key: &[u8], prefix: &[u8]) -> Vec<u8> {
        key[prefix.len()..].to_vec()
    }

    #[test]
    fn base64url_acceptance() {
        assert!(b64url_valid(b""));
        assert!(b64url_valid(b"b3JkZXJz"));
        assert!(b64url_valid(b"ab"));
        assert!(b64url_valid(b"a\r\nbc"));
        assert!(!b64url_valid(b"a"));
        assert!(!b64url_valid(b"ab=="));
        assert!(!b64url_valid(b"a+b/"));
    }

    #[test]
    fn data_keys() {
        let k = enc::msg_data_key("orders.fifo", None, 3, "a3f1");
        let r = rest(&k, enc::MSG_DATA_PREFIX);
        assert_eq!(parse_data_key(&r).unwrap(), DataKey { queue: b"b3JkZXJzLmZpZm8", partition: None });
        let k = enc::msg_data_key("events.fifo", Some(2), 1, "1111");
        let r = rest(&k, enc::MSG_DATA_PREFIX);
        assert_eq!(parse_data_key(&r).unwrap(), DataKey { queue: b"ZXZlbnRzLmZpZm8", partition: Some(2) });
        assert_eq!(partition_of(&r), Some(2));
        // Missing message id, missing generation, bad segments.
        assert!(parse_data_key(b"cQ\0\0\0\0\0\0\0\x01").is_err());
        assert!(parse_data_key(b"cQ\0\0\0").is_err());
        assert!(parse_data_key(b"\0\0\0\0\0\0\0\x01bQ").is_err());
        assert!(parse_data_key(b"c\0\0\0\0\0\0\0\x01b=").is_err());
        assert!(parse_data_key(b"p|cQ|\0\0\0\x01\0\0\0\0\0\0\0\x01").is_err());
        assert!(parse_data_key(b"p||\0\0\0\x01\0\0\0\0\0\0\0\x01bQ").is_err());
        assert!(parse_data_key(b"p|cQ\0\0\0\x01").is_err());
    }

    #[test]
    fn side_keys() {
        let k = enc::queue_tombstone_key("gone", 1);
        assert_eq!(
            parse_side_key(SqsFamily::QueueTombstone, &rest(&k, enc::QUEUE_TOMBSTONE_PREFIX)).unwrap(),
            b"Z29uZQ"
        );
        let k = enc::queue_seq_key("orders.fifo");
        assert_eq!(
            parse_side_key(SqsFamily::QueueSeq, &rest(&k, enc::QUEUE_SEQ_PREFIX)).unwrap(),
            b"b3JkZXJzLmZpZm8"
        );
        let k = enc::msg_index_key(enc::MSG_VIS_PREFIX, "q", Some(1), 1, 5, "m");
        assert_eq!(parse_side_key(SqsFamily::MsgVis, &rest(&k, enc::MSG_VIS_PREFIX)).unwrap(), b"cQ");
        assert!(parse_side_key(SqsFamily::QueueSeq, b"a/b").is_err());
        assert!(parse_side_key(SqsFamily::MsgVis, b"cQ").is_err());
        assert!(parse_side_key(SqsFamily::MsgVis, b"\0").is_err());
        assert!(parse_side_key(SqsFamily::MsgVis, b"p|cQ|\0\0").is_err());
    }
}
