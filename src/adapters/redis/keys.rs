//! Redis key grammar and value layouts (`redis-sqs.md` §2–§3): the parsing
//! the index needs (user keys, TTL headers, metas) and the decoding the
//! renderers need (zset blobs, stream entries). Every function borrows from
//! the snapshot mapping.

use crate::adapters::redis::records::{STREAM_ENTRY_MAGIC, ZSET_BLOB_MAGIC};
use crate::codec::protowire::{Fields, Value};

/// `BE32(n) ‖ k[n] ‖ rest` → `(k, rest)`.
pub(crate) fn parse_lp(b: &[u8]) -> Option<(&[u8], &[u8])> {
    let n = u32::from_be_bytes(b.get(..4)?.try_into().ok()?) as usize;
    let k = b.get(4..4usize.checked_add(n)?)?;
    Some((k, &b[4 + n..]))
}

/// The user key of the entry at `offset` (no MVCC suffix). The offset must
/// come from the scan, which validated the framing.
pub(crate) fn user_key_at(data: &[u8], offset: u64) -> &[u8] {
    let at = offset as usize;
    let key_len = u64::from_le_bytes(data[at..at + 8].try_into().expect("8 bytes")) as usize;
    &data[at + 8..at + 8 + key_len - crate::container::TS_SUFFIX_LEN]
}

/// A string or HLL value with its optional TTL header taken apart.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Blob {
    /// Where the payload starts in the value.
    pub(crate) payload_at: usize,
    /// Inline expiry in ms (clamped to `i64::MAX`); 0 = none.
    pub(crate) ttl: u64,
    /// Current (`FF <version>`) format: the header owns the key's TTL.
    pub(crate) current: bool,
}

/// `FF <version> flags [BE64 ttl] payload`, or a legacy value (all payload).
pub(crate) fn parse_blob(v: &[u8], version: u8) -> Result<Blob, &'static str> {
    if v.len() < 2 || v[0] != 0xFF || v[1] != version {
        return Ok(Blob { payload_at: 0, ttl: 0, current: false });
    }
    let Some(&flags) = v.get(2) else { return Err("header truncated") };
    if flags & 0x01 == 0 {
        return Ok(Blob { payload_at: 3, ttl: 0, current: true });
    }
    let Some(ms) = v.get(3..11) else { return Err("ttl section truncated") };
    let ms = u64::from_be_bytes(ms.try_into().expect("8 bytes")).min(i64::MAX as u64);
    Ok(Blob { payload_at: 11, ttl: ms, current: true })
}

fn be64(v: &[u8], at: usize) -> u64 {
    u64::from_be_bytes(v[at..at + 8].try_into().expect("8 bytes"))
}

/// A `!redis|ttl|` value: BE64 ms, clamped to `i64::MAX`.
pub(crate) fn ttl_value(v: &[u8]) -> Result<u64, String> {
    if v.len() != 8 {
        return Err(format!("length {} != 8", v.len()));
    }
    Ok(be64(v, 0).min(i64::MAX as u64))
}

/// What a collection meta declares.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Meta {
    pub(crate) len: i64,
    /// The inline TTL field (unclamped; 0 = no TTL) when the meta has one.
    pub(crate) inline_ttl: Option<u64>,
}

fn declared_len(raw: u64) -> Result<i64, String> {
    i64::try_from(raw).map_err(|_| format!("declared len {raw} overflows int64"))
}

/// Hash, set and zset base meta: `BE64 len [‖ BE64 ttl]`.
pub(crate) fn count_meta(v: &[u8]) -> Result<Meta, String> {
    if v.len() != 8 && v.len() != 16 {
        return Err(format!("length {} not in {{8,16}}", v.len()));
    }
    Ok(Meta { len: declared_len(be64(v, 0))?, inline_ttl: (v.len() == 16).then(|| be64(v, 8)) })
}

/// List meta: `BE64 head ‖ BE64 tail ‖ BE64 len [‖ BE64 ttl]`.
pub(crate) fn list_meta(v: &[u8]) -> Result<Meta, String> {
    if v.len() != 24 && v.len() != 32 {
        return Err(format!("length {} not in {{24,32}}", v.len()));
    }
    Ok(Meta { len: declared_len(be64(v, 16))?, inline_ttl: (v.len() == 32).then(|| be64(v, 24)) })
}

/// Stream meta: `BE64 length ‖ BE64 last_ms ‖ BE64 last_seq [‖ BE64 ttl
/// [‖ trim cursor]]`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct StreamMeta {
    pub(crate) meta: Meta,
    pub(crate) last_ms: u64,
    pub(crate) last_seq: u64,
}

pub(crate) fn stream_meta(v: &[u8]) -> Result<StreamMeta, String> {
    if !matches!(v.len(), 24 | 32 | 48) {
        return Err(format!("length {} not in {{24,32,48}}", v.len()));
    }
    Ok(StreamMeta {
        meta: Meta { len: declared_len(be64(v, 0))?, inline_ttl: (v.len() > 24).then(|| be64(v, 24)) },
        last_ms: be64(v, 8),
        last_seq: be64(v, 16),
    })
}

/// Signed BE64 length delta of a hash/set/zset delta row, or the length
/// half of a 16-byte list delta; `None` for other sizes.
pub(crate) fn delta(v: &[u8], list: bool) -> Option<i64> {
    match (list, v.len()) {
        (false, 8) => Some(be64(v, 0) as i64),
        (true, 16) => Some(be64(v, 8) as i64),
        _ => None,
    }
}

fn utf8_string<'a>(b: &'a [u8], what: &str) -> Result<&'a [u8], String> {
    std::str::from_utf8(b)
        .map(|_| b)
        .map_err(|_| format!("unmarshal: {what}: string field contains invalid UTF-8"))
}

/// The members of a legacy `!redis|zset|` blob in stored order (duplicates
/// kept; the last one wins when they are collected).
pub(crate) fn zset_blob(v: &[u8]) -> Result<Vec<(&[u8], f64)>, String> {
    if !v.starts_with(ZSET_BLOB_MAGIC) {
        return Err(format!("missing or corrupt magic prefix (len={})", v.len()));
    }
    let mut out = Vec::new();
    for field in Fields::new(&v[ZSET_BLOB_MAGIC.len()..]) {
        let (num, val) = field.map_err(|e| format!("unmarshal: {e}"))?;
        let (1, Value::Bytes(entry)) = (num, val) else { continue };
        let (mut member, mut score) = (&[][..], 0.0f64);
        for f in Fields::new(entry) {
            match f.map_err(|e| format!("unmarshal: {e}"))? {
                (1, Value::Bytes(m)) => member = utf8_string(m, "RedisZSetEntry.member")?,
                (2, Value::Fixed64(bits)) => score = f64::from_bits(bits),
                _ => {}
            }
        }
        if score.is_nan() {
            return Err(format!("NaN score for member {:?}", String::from_utf8_lossy(member)));
        }
        out.push((member, score));
    }
    Ok(out)
}

/// The interleaved name/value fields of a `!stream|entry|` value.
pub(crate) fn stream_fields(v: &[u8]) -> Result<Vec<&[u8]>, String> {
    if !v.starts_with(STREAM_ENTRY_MAGIC) {
        return Err(format!("missing or corrupt magic prefix (len={})", v.len()));
    }
    let mut out = Vec::new();
    for field in Fields::new(&v[STREAM_ENTRY_MAGIC.len()..]) {
        match field.map_err(|e| format!("unmarshal: {e}"))? {
            (1, Value::Bytes(id)) => {
                utf8_string(id, "RedisStreamEntry.id")?;
            }
            (2, Value::Bytes(f)) => out.push(utf8_string(f, "RedisStreamEntry.fields")?),
            _ => {}
        }
    }
    if out.len() % 2 != 0 {
        return Err(format!("odd field count {} (XADD enforces name/value pairs)", out.len()));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::adapters::redis::records as enc;

    #[test]
    fn length_prefix() {
        assert_eq!(parse_lp(b"\0\0\0\x02abXY"), Some((&b"ab"[..], &b"XY"[..])));
        assert_eq!(parse_lp(b"\0\0\0\0"), Some((&b""[..], &b""[..])));
        assert_eq!(parse_lp(b"\0\0\0\x03ab"), None);
        assert_eq!(parse_lp(b"\0\0\0"), None);
        assert_eq!(parse_lp(b"\xff\xff\xff\xffab"), None);
    }

    #[test]
    fn blob_headers() {
        assert_eq!(parse_blob(b"plain", 1).unwrap(), Blob { payload_at: 0, ttl: 0, current: false });
        assert!(!parse_blob(&[0xFF, 0x02, 0, b'x'], 1).unwrap().current);
        assert_eq!(
            parse_blob(&[0xFF, 0x01, 0x00, b'v'], 1).unwrap(),
            Blob { payload_at: 3, ttl: 0, current: true }
        );
        assert_eq!(
            parse_blob(&enc::string_value(b"x", Some(7)), 1).unwrap(),
            Blob { payload_at: 11, ttl: 7, current: true }
        );
        assert_eq!(parse_blob(&enc::string_value(b"x", Some(u64::MAX)), 1).unwrap().ttl, i64::MAX as u64);
        assert_eq!(parse_blob(&[0xFF, 0x01], 1), Err("header truncated"));
        assert_eq!(parse_blob(&[0xFF, 0x02, 0x01, 0, 0], 2), Err("ttl section truncated"));
        // Unknown flag bits are ignored.
        assert_eq!(parse_blob(&[0xFF, 0x01, 0xFE, b'v'], 1).unwrap().payload_at, 3);
    }

    #[test]
    fn metas() {
        assert_eq!(count_meta(&enc::count_meta_value(3, None)).unwrap(), Meta { len: 3, inline_ttl: None });
        assert_eq!(count_meta(&enc::count_meta_value(3, Some(0))).unwrap().inline_ttl, Some(0));
        assert!(count_meta(&[0; 9]).is_err());
        assert!(count_meta(&u64::MAX.to_be_bytes()).unwrap_err().contains("overflows"));
        assert_eq!(
            list_meta(&enc::list_meta_value(-1, 2, 3, Some(9))).unwrap(),
            Meta { len: 3, inline_ttl: Some(9) }
        );
        assert!(list_meta(&[0; 16]).is_err());
        let s = stream_meta(&enc::stream_meta_value(2, 9, 3, Some(5), Some((8, 1)))).unwrap();
        assert_eq!((s.meta.len, s.last_ms, s.last_seq, s.meta.inline_ttl), (2, 9, 3, Some(5)));
        assert!(stream_meta(&[0; 40]).is_err());
        assert_eq!(delta(&enc::delta_value(-2), false), Some(-2));
        assert_eq!(delta(&enc::list_delta_value(1, -3), true), Some(-3));
        assert_eq!(delta(&[0; 8], true), None);
    }

    #[test]
    fn protobuf_values() {
        let blob = enc::zset_blob_value(&[(b"x", 1.5), (b"y", -2.0)]);
        assert_eq!(zset_blob(&blob).unwrap(), vec![(&b"x"[..], 1.5), (&b"y"[..], -2.0)]);
        assert!(zset_blob(b"\0RZ").is_err());
        assert!(zset_blob(&enc::zset_blob_value(&[(b"\xff", 1.0)])).unwrap_err().contains("UTF-8"));
        assert!(zset_blob(&enc::zset_blob_value(&[(b"n", f64::NAN)])).unwrap_err().contains("NaN"));
        let e = enc::stream_entry_value("1-0", &[b"a", b"b"]);
        assert_eq!(stream_fields(&e).unwrap(), vec![&b"a"[..], &b"b"[..]]);
        assert!(stream_fields(&enc::stream_entry_value("1-0", &[b"a"])).unwrap_err().contains("odd"));
        assert!(stream_fields(&enc::stream_entry_value("\u{0}\u{ff}", &[])).is_ok());
        let mut bad_id = enc::STREAM_ENTRY_MAGIC.to_vec();
        bad_id.extend_from_slice(&[0x0a, 0x01, 0xff]);
        assert!(stream_fields(&bad_id).is_err());
        assert!(stream_fields(b"\0RXE\x01\x12\x05ab").is_err());
    }
}
