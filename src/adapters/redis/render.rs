//! The pieces of Redis files, byte for byte as upstream's `json.MarshalIndent`
//! (collections) and `json.Marshal` lines (streams, TTL sidecars) lay them
//! out (`redis-sqs.md` §1.4–§1.5, §3). Collection documents are cut into a
//! head, one piece per member and a tail so a large hash or set can be
//! served in ranges (`views::frag`).

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;

use super::keys::{self, parse_lp, user_key_at};
use crate::adapters::frag::{FragError, FragFile, Piece};
use crate::codec::gojson::{write_f64, write_str, write_u64, JsonWriter};
use crate::container::entry_at;
use crate::keys::segment::encode_segment_into;

/// The Redis file kinds built from fragments.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    Hash,
    List,
    Set,
    /// A zset from `!zs|mem|` rows.
    Zset,
    /// A zset from a legacy `!redis|zset|` blob (`aux`), rendered whole
    /// as the head.
    ZsetLegacy,
    /// Entries, then the `_meta` line from the meta entry in `aux`.
    Stream,
    StringsTtl,
    HllTtl,
}

const SPACES: &[u8; 16] = b"                ";

fn newline_indent(out: &mut Vec<u8>, depth: usize) {
    out.push(b'\n');
    out.extend_from_slice(&SPACES[..2 * depth]);
}

/// §1.5: a JSON string when the bytes are UTF-8, else the base64url
/// envelope; `depth` is the indentation level of the value in a pretty
/// document (`None` = compact line).
fn binary_value(out: &mut Vec<u8>, b: &[u8], depth: Option<usize>) {
    if std::str::from_utf8(b).is_ok() {
        write_str(out, b, true);
        return;
    }
    let b64 = URL_SAFE_NO_PAD.encode(b);
    match depth {
        None => {
            out.extend_from_slice(b"{\"base64\":");
            write_str(out, b64.as_bytes(), true);
        }
        Some(d) => {
            out.push(b'{');
            newline_indent(out, d + 1);
            out.extend_from_slice(b"\"base64\": ");
            write_str(out, b64.as_bytes(), true);
            newline_indent(out, d);
        }
    }
    out.push(b'}');
}

/// A zset score: a Go float, or the strings `"+inf"` / `"-inf"`.
fn score(out: &mut Vec<u8>, s: f64) -> Result<(), String> {
    if s == f64::INFINITY {
        out.extend_from_slice(b"\"+inf\"");
    } else if s == f64::NEG_INFINITY {
        out.extend_from_slice(b"\"-inf\"");
    } else {
        write_f64(out, s).map_err(|_| "NaN score".to_string())?;
    }
    Ok(())
}

fn head(out: &mut Vec<u8>, array: &str) {
    out.extend_from_slice(b"{\n  \"format_version\": 1,\n  \"");
    out.extend_from_slice(array.as_bytes());
    out.extend_from_slice(b"\": [");
}

fn tail(out: &mut Vec<u8>, empty: bool, ttl: Option<u64>) {
    out.extend_from_slice(if empty { b"]" as &[u8] } else { b"\n  ]" });
    out.extend_from_slice(b",\n  \"expire_at_ms\": ");
    match ttl {
        Some(ms) => write_u64(out, ms),
        None => out.extend_from_slice(b"null"),
    }
    out.extend_from_slice(b"\n}");
}

/// Separator and indentation before an array element at depth 2.
fn element(out: &mut Vec<u8>, first: bool) {
    if !first {
        out.push(b',');
    }
    newline_indent(out, 2);
}

/// `{"<a>": A, "<b>": B}` as an array element (depth 2, members depth 3).
fn pair(out: &mut Vec<u8>, first: bool, a: &str, av: &[u8], b: &str, bv: impl FnOnce(&mut Vec<u8>)) {
    element(out, first);
    out.push(b'{');
    newline_indent(out, 3);
    out.push(b'"');
    out.extend_from_slice(a.as_bytes());
    out.extend_from_slice(b"\": ");
    binary_value(out, av, Some(3));
    out.push(b',');
    newline_indent(out, 3);
    out.push(b'"');
    out.extend_from_slice(b.as_bytes());
    out.extend_from_slice(b"\": ");
    bv(out);
    newline_indent(out, 2);
    out.push(b'}');
}

fn after_lp(user_key: &[u8], prefix: usize) -> &[u8] {
    parse_lp(&user_key[prefix..]).map_or(&[][..], |(_, rest)| rest)
}

pub(crate) fn piece(
    data: &[u8],
    kind: Kind,
    f: &FragFile,
    p: Piece,
    out: &mut Vec<u8>,
) -> Result<(), FragError> {
    let entry = |off: u64| entry_at(data, off).ok_or_else(|| FragError::at(off, "entry unreadable"));
    match (kind, p) {
        (Kind::Hash, Piece::Head) => head(out, "fields"),
        (Kind::List, Piece::Head) => head(out, "items"),
        (Kind::Set | Kind::Zset, Piece::Head) => head(out, "members"),
        (Kind::Hash | Kind::List | Kind::Set | Kind::Zset, Piece::Tail { empty }) => tail(out, empty, f.ttl),
        (Kind::Hash, Piece::Item { offset, first }) => {
            let e = entry(offset)?;
            let name = after_lp(e.user_key, b"!hs|fld|".len());
            pair(out, first, "name", name, "value", |out| binary_value(out, e.body, Some(3)));
        }
        (Kind::List, Piece::Item { offset, first }) => {
            element(out, first);
            binary_value(out, entry(offset)?.body, Some(2));
        }
        (Kind::Set, Piece::Item { offset, first }) => {
            element(out, first);
            binary_value(out, after_lp(user_key_at(data, offset), b"!st|mem|".len()), Some(2));
        }
        (Kind::Zset, Piece::Item { offset, first }) => {
            let e = entry(offset)?;
            let bad = |d: String| FragError::at(offset, format!("invalid !zs|mem| value: {d}"));
            let bits: [u8; 8] =
                e.body.try_into().map_err(|_| bad(format!("length {} != 8", e.body.len())))?;
            let s = f64::from_bits(u64::from_be_bytes(bits));
            if s.is_nan() {
                return Err(bad("NaN score".into()));
            }
            let member = after_lp(e.user_key, b"!zs|mem|".len());
            pair(out, first, "member", member, "score", |out| {
                score(out, s).expect("not NaN");
            });
        }
        (Kind::ZsetLegacy, Piece::Head) => zset_legacy(data, f.aux, f.ttl, out)?,
        (Kind::ZsetLegacy, _) => {}
        (Kind::Stream, Piece::Head) => {}
        (Kind::Stream, Piece::Item { offset, .. }) => stream_line(data, offset, out)?,
        (Kind::Stream, Piece::Tail { .. }) => {
            let e = entry(f.aux)?;
            let m = keys::stream_meta(e.body)
                .map_err(|d| FragError::at(f.aux, format!("invalid !stream|meta| value: {d}")))?;
            let mut w = JsonWriter::compact(out, true);
            w.begin_object();
            w.key(b"_meta");
            w.bool(true);
            w.key(b"length");
            w.i64(m.meta.len);
            w.key(b"last_ms");
            w.u64(m.last_ms);
            w.key(b"last_seq");
            w.u64(m.last_seq);
            w.key(b"expire_at_ms");
            match f.ttl {
                Some(ms) => w.u64(ms),
                None => w.null(),
            }
            w.end_object();
            w.end_line();
        }
        (Kind::StringsTtl | Kind::HllTtl, Piece::Item { offset, .. }) => ttl_line(data, offset, out)?,
        (Kind::StringsTtl | Kind::HllTtl, _) => {}
    }
    Ok(())
}

/// One `strings_ttl.jsonl` / `hll_ttl.jsonl` line from a value with an
/// inline TTL header or from a `!redis|ttl|` row. The three prefixes have
/// the same length.
fn ttl_line(data: &[u8], offset: u64, out: &mut Vec<u8>) -> Result<(), FragError> {
    let e = entry_at(data, offset).ok_or_else(|| FragError::at(offset, "entry unreadable"))?;
    let (prefix, user_key) = e.user_key.split_at(b"!redis|ttl|".len());
    let ms = if prefix == b"!redis|ttl|" {
        keys::ttl_value(e.body)
    } else {
        keys::parse_blob(e.body, if prefix == b"!redis|str|" { 1 } else { 2 })
            .map(|b| b.ttl)
            .map_err(str::to_string)
    }
    .map_err(|d| FragError::at(offset, d))?;
    let mut seg = Vec::new();
    encode_segment_into(user_key, &mut seg);
    let mut w = JsonWriter::compact(out, false);
    w.begin_object();
    w.key(b"key");
    w.string(&seg);
    w.key(b"expire_at_ms");
    w.u64(ms);
    w.end_object();
    w.end_line();
    Ok(())
}

/// One stream entry line: `{"id":"<ms>-<seq>","fields":[…]}`.
fn stream_line(data: &[u8], offset: u64, out: &mut Vec<u8>) -> Result<(), FragError> {
    let e = entry_at(data, offset).ok_or_else(|| FragError::at(offset, "entry unreadable"))?;
    let fields = keys::stream_fields(e.body)
        .map_err(|d| FragError::at(offset, format!("invalid !stream|entry| value: {d}")))?;
    let id = after_lp(e.user_key, b"!stream|entry|".len());
    let (ms, seq) = match id.len() {
        16 => (
            u64::from_be_bytes(id[..8].try_into().expect("8")),
            u64::from_be_bytes(id[8..].try_into().expect("8")),
        ),
        _ => return Err(FragError::at(offset, "malformed !stream| key")),
    };
    out.extend_from_slice(b"{\"id\":\"");
    write_u64(out, ms);
    out.push(b'-');
    write_u64(out, seq);
    out.extend_from_slice(b"\",\"fields\":[");
    for (i, pair) in fields.chunks_exact(2).enumerate() {
        if i > 0 {
            out.push(b',');
        }
        out.extend_from_slice(b"{\"name\":");
        binary_value(out, pair[0], None);
        out.extend_from_slice(b",\"value\":");
        binary_value(out, pair[1], None);
        out.push(b'}');
    }
    out.extend_from_slice(b"]}\n");
    Ok(())
}

/// The members a legacy blob stores, deduplicated (the last wins) and
/// sorted by member bytes.
pub(crate) fn zset_legacy_members(body: &[u8]) -> Result<Vec<(&[u8], f64)>, String> {
    let mut members = keys::zset_blob(body)?;
    // Stable sort keeps stored order among equal members; keep the last.
    members.sort_by(|a, b| a.0.cmp(b.0));
    let mut out: Vec<(&[u8], f64)> = Vec::with_capacity(members.len());
    for m in members {
        match out.last_mut() {
            Some(last) if last.0 == m.0 => *last = m,
            _ => out.push(m),
        }
    }
    Ok(out)
}

fn zset_legacy(data: &[u8], blob: u64, ttl: Option<u64>, out: &mut Vec<u8>) -> Result<(), FragError> {
    let e = entry_at(data, blob).ok_or_else(|| FragError::at(blob, "entry unreadable"))?;
    let members = zset_legacy_members(e.body)
        .map_err(|d| FragError::at(blob, format!("invalid !redis|zset| value: {d}")))?;
    head(out, "members");
    for (i, (m, s)) in members.iter().enumerate() {
        pair(out, i == 0, "member", m, "score", |out| score(out, *s).expect("blob scores are not NaN"));
    }
    tail(out, members.is_empty(), ttl);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn envelopes_at_every_depth() {
        let mut out = Vec::new();
        binary_value(&mut out, b"x<y", Some(3));
        assert_eq!(out, b"\"x\\u003cy\"");
        out.clear();
        binary_value(&mut out, b"\xff", Some(3));
        assert_eq!(String::from_utf8(out.clone()).unwrap(), "{\n        \"base64\": \"_w\"\n      }");
        out.clear();
        binary_value(&mut out, b"\xff\xfe", None);
        assert_eq!(out, b"{\"base64\":\"__4\"}");
    }

    #[test]
    fn scores() {
        for (s, want) in [
            (100.0, "100"),
            (85.5, "85.5"),
            (f64::INFINITY, "\"+inf\""),
            (f64::NEG_INFINITY, "\"-inf\""),
            (1e21, "1e+21"),
            (1.25e-7, "1.25e-7"),
            (-0.0, "-0"),
        ] {
            let mut out = Vec::new();
            score(&mut out, s).unwrap();
            assert_eq!(String::from_utf8(out).unwrap(), want);
        }
        assert!(score(&mut Vec::new(), f64::NAN).is_err());
    }

    #[test]
    fn legacy_members_dedup_last_wins() {
        let blob = crate::adapters::redis::records::zset_blob_value(&[(b"b", 1.0), (b"a", 2.0), (b"b", 3.0)]);
        assert_eq!(zset_legacy_members(&blob).unwrap(), vec![(&b"a"[..], 2.0), (&b"b"[..], 3.0)]);
    }
}
