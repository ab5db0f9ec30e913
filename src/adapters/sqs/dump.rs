//! Reading `messages.jsonl` back, as upstream's encoder does (`pack.md`
//! §10.3, §6.3, §6.7): the file is a stream of JSON values (whitespace
//! between them, not necessarily one per line), and each value fills the
//! dump struct the way Go's `json.Decoder` would — members matched exactly
//! or else ASCII-case-insensitively, the last occurrence winning, unknown
//! members ignored, `null` leaving a field alone, integers exact, invalid
//! UTF-8 inside strings read as U+FFFD. Fields a restore drops are still
//! type-checked, because Go refuses a line whose types are wrong.
//!
//! The `body` is a JSON string (its UTF-8 bytes) or exactly
//! `{"base64": <unpadded base64url>}`; any other member in that object is
//! an error, as upstream decodes it with unknown fields disallowed.

use std::collections::BTreeMap;
use std::ops::Range;

use super::message::{
    article, attribute_members, unquote, walk, Lexer, Shape, Tok, AVAILABLE_AT, DEDUP_ID, DLQ_SOURCE,
    GROUP_ID, MD5_OF_ATTRIBUTES, MD5_OF_BODY, MESSAGE_ID, R, SENDER_ID, SEND_TS, SEQUENCE,
};
use crate::adapters::sqs::records::RestoreMessage;
use crate::codec::gojson::validate_json;
use crate::keys::segment::b64url_nopad_decode;

/// One message of `messages.jsonl`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct DumpMessage {
    /// 1-based line on which the value starts.
    pub(crate) line: usize,
    pub message: RestoreMessage,
    /// The `partition` member (`None` when absent or `null`).
    pub(crate) partition: Option<u32>,
}

/// A problem with the file: the 1-based line and what is wrong.
pub(crate) type LineError = (usize, String);

/// Parses a whole `messages.jsonl`.
pub(crate) fn parse_messages(src: &[u8]) -> Result<Vec<DumpMessage>, LineError> {
    let mut out = Vec::new();
    let mut lines = LineCounter::default();
    let mut lx = Lexer { s: src, i: 0 };
    loop {
        lx.ws();
        if lx.i == src.len() {
            return Ok(out);
        }
        let start = lx.i;
        let line = lines.line_at(src, start);
        if lx.value().is_err() {
            return Err(syntax_error(src, lx.i));
        }
        let value = &src[start..lx.i];
        // The lexer only finds the value's extent; Go's grammar is checked
        // here, so the parser below can trust the structure.
        validate_json(value).map_err(|e| syntax_error(src, start + e.offset))?;
        let (message, partition) = parse_message(value).map_err(|d| (line, d))?;
        out.push(DumpMessage { line, message, partition });
    }
}

/// Counts lines up to increasing offsets without rescanning.
#[derive(Default)]
struct LineCounter {
    pos: usize,
    newlines: usize,
}

impl LineCounter {
    fn line_at(&mut self, src: &[u8], pos: usize) -> usize {
        self.newlines += src[self.pos..pos].iter().filter(|&&b| b == b'\n').count();
        self.pos = pos;
        self.newlines + 1
    }
}

/// Where and why the JSON grammar breaks at `pos`.
fn syntax_error(src: &[u8], pos: usize) -> LineError {
    let before = &src[..pos.min(src.len())];
    let line = 1 + before.iter().filter(|&&b| b == b'\n').count();
    let column = 1 + before.iter().rev().take_while(|&&b| b != b'\n').count();
    let detail = match src.get(pos) {
        None => "invalid JSON: unexpected end of input".to_string(),
        Some(&b) if b.is_ascii_graphic() => {
            format!("invalid JSON: unexpected character '{}' at column {column}", char::from(b))
        }
        Some(&b) => format!("invalid JSON: unexpected byte 0x{b:02x} at column {column}"),
    };
    (line, detail)
}

/// One message value (already known to be valid JSON), filled the way the
/// decoder's reader fills a stored record, with the dump's field types.
fn parse_message(json: &[u8]) -> R<(RestoreMessage, Option<u32>)> {
    let mut lx = Lexer { s: json, i: 0 };
    lx.ws();
    if !matches!(json.get(lx.i), Some(b'{' | b'n')) {
        let tok = lx.value()?;
        return Err(format!("a message is a JSON object, not {}", article(tok.kind())));
    }
    let f = walk(json, true, Shape::Dump)?;
    let s = |i: usize| String::from_utf8_lossy(&unquote(&json[f.strings[i].clone()])).into_owned();
    let mut attributes = BTreeMap::new();
    // Go's map: the last value of a repeated name wins; sorted by bytes.
    attribute_members(json, &f.attributes, |k, v| {
        attributes.insert(k.into_owned(), v.to_vec());
    })?;
    let message = RestoreMessage {
        message_id: s(MESSAGE_ID),
        body: f.body.map(|t| body(json, t)).transpose()?,
        md5_of_body: s(MD5_OF_BODY),
        md5_of_message_attributes: s(MD5_OF_ATTRIBUTES),
        message_attributes: attributes.into_iter().collect(),
        sender_id: s(SENDER_ID),
        send_timestamp_millis: f.ints[SEND_TS],
        available_at_millis: f.ints[AVAILABLE_AT],
        message_group_id: s(GROUP_ID),
        message_deduplication_id: s(DEDUP_ID),
        sequence_number: f.uints[SEQUENCE],
        dead_letter_source_arn: s(DLQ_SOURCE),
    };
    Ok((message, f.partition))
}

/// A body: a string's bytes, `null` as empty (Go's unmarshal of `null`
/// into the string leaves it empty), or the `{"base64": …}` envelope (the
/// walk has refused every other kind).
fn body(json: &[u8], tok: Tok) -> R<Vec<u8>> {
    match tok {
        Tok::Str(r) => Ok(unquote(&json[r]).into_owned()),
        Tok::Obj(r) => envelope(json, r),
        _ => Ok(Vec::new()),
    }
}

fn envelope(json: &[u8], r: Range<usize>) -> R<Vec<u8>> {
    let mut text: Option<Range<usize>> = None;
    let mut lx = Lexer { s: &json[..r.end], i: r.start };
    lx.members(|k, v| {
        let key = unquote(k);
        if !key.eq_ignore_ascii_case(b"base64") {
            return Err(format!(
                "body: unknown member {:?} (a binary body is exactly {{\"base64\": …}})",
                String::from_utf8_lossy(&key)
            ));
        }
        text = match v {
            Tok::Str(r) => Some(r),
            Tok::Null(_) => None,
            other => return Err(format!("body: base64 must be a string, not {}", article(other.kind()))),
        };
        Ok(())
    })?;
    let inner = text.ok_or("body: the {\"base64\": …} object has no base64 string")?;
    b64url_nopad_decode(&unquote(&json[inner]))
        .ok_or_else(|| "body: base64 is not unpadded base64url text".to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn one(line: &str) -> R<DumpMessage> {
        parse_messages(line.as_bytes()).map_err(|(_, d)| d).map(|mut v| v.remove(0))
    }

    #[test]
    fn go_field_rules() {
        let m = one(r#"{"Message_ID":"a","message_id":"b","BODY":"x","extra":[1],"partition":null,"md5_of_body":null}"#)
            .unwrap();
        assert_eq!(m.message.message_id, "b");
        assert_eq!(m.message.body.as_deref(), Some(&b"x"[..]));
        assert_eq!(m.partition, None);
        let m = one(r#"{"message_id":"m","partition":7,"sequence_number":9,"send_timestamp_millis":-4}"#)
            .unwrap();
        assert_eq!(
            (m.partition, m.message.sequence_number, m.message.send_timestamp_millis),
            (Some(7), 9, -4)
        );
        assert_eq!(m.message.body, None, "no body member: Go keeps a nil slice");
        assert_eq!(one(r#"{"body":null}"#).unwrap().message.body, Some(Vec::new()));
        assert_eq!(one("null").unwrap().message, RestoreMessage::default());
        for (bad, why) in [
            (r#"{"partition":4294967296}"#, "of type uint32"),
            (r#"{"partition":-1}"#, "of type uint32"),
            (r#"{"sequence_number":1.5}"#, "number 1.5"),
            (r#"{"receive_count":"3"}"#, "receive_count of type int64"),
            (r#"{"queue_generation":-1}"#, "uint64"),
            (r#"{"current_receipt_token":"!!"}"#, "illegal base64"),
            (r#"{"current_receipt_token":5}"#, "[]uint8"),
            (r#"{"message_attributes":[]}"#, "json.RawMessage"),
            (r#"{"sender_id":1}"#, "of type string"),
            ("[1]", "not an array"),
            ("7", "not a number"),
        ] {
            let e = one(bad).unwrap_err();
            assert!(e.contains(why), "{bad}: {e}");
        }
    }

    #[test]
    fn bodies() {
        let b = |s: &str| one(&format!(r#"{{"body":{s}}}"#)).map(|m| m.message.body.unwrap());
        assert_eq!(b(r#""\u003c\ud83d\ude00""#).unwrap(), "<😀".as_bytes());
        assert_eq!(b(r#"{"base64":"AP8"}"#).unwrap(), vec![0, 0xff]);
        assert_eq!(b(r#"{"BASE64":"AP8"}"#).unwrap(), vec![0, 0xff]);
        assert_eq!(b(r#"{"base64":""}"#).unwrap(), Vec::<u8>::new());
        for (bad, why) in [
            ("{}", "no base64 string"),
            (r#"{"base64":null}"#, "no base64 string"),
            (r#"{"oops":"x"}"#, "unknown member \"oops\""),
            (r#"{"base64":"AP8","x":1}"#, "unknown member"),
            (r#"{"base64":"AP8="}"#, "unpadded base64url"),
            (r#"{"base64":"A+8"}"#, "unpadded base64url"),
            (r#"{"base64":1}"#, "must be a string"),
            ("1", "not a number"),
            ("[]", "not an array"),
        ] {
            let e = b(bad).unwrap_err();
            assert!(e.contains(why), "{bad}: {e}");
        }
    }

    #[test]
    fn attributes_merge_sort_and_keep_raw_text() {
        let m = one(r#"{"message_attributes":{"b": 1.0 ,"a":"x"},"message_attributes":{"b":{"k" : [true]},"c":null}}"#)
            .unwrap();
        let got: Vec<(String, String)> = m
            .message
            .message_attributes
            .iter()
            .map(|(k, v)| (String::from_utf8_lossy(k).into(), String::from_utf8_lossy(v).into()))
            .collect();
        let want = [("a", r#""x""#), ("b", r#"{"k" : [true]}"#), ("c", "null")];
        assert_eq!(got, want.map(|(k, v)| (k.to_string(), v.to_string())));
        let m = one(r#"{"message_attributes":{"a":1},"message_attributes":null}"#).unwrap();
        assert!(m.message.message_attributes.is_empty());
    }

    #[test]
    fn value_stream_and_lines() {
        let src = b"{\"message_id\":\"a\"}{\"message_id\":\"b\"}\n\n  {\"message_id\":\n\"c\"}\n";
        let got = parse_messages(src).unwrap();
        let ids: Vec<_> = got.iter().map(|m| (m.line, m.message.message_id.as_str())).collect();
        assert_eq!(ids, vec![(1, "a"), (1, "b"), (3, "c")]);
        assert!(parse_messages(b"").unwrap().is_empty());
        assert!(parse_messages(b" \n\t").unwrap().is_empty());
        for (bad, line, why) in [
            (&b"{\"message_id\":\"a\"}\n{\"message_id\":}\n"[..], 2, "unexpected character '}' at column 15"),
            (b"{}\n{\"a\":1", 2, "unexpected end of input"),
            (b"{}\n]", 2, "unexpected character ']'"),
            (b"{}\n{\"a\":1,}", 2, "unexpected character '}'"),
            (b"{}\n\n{\"a\":\n01}", 4, "unexpected character '1'"),
            (b"{}\n{\"message_id\":5}", 2, "message_id of type string"),
            (b"{\"a\":\"\x01\"}", 1, "unexpected byte 0x01"),
        ] {
            let (l, d) = parse_messages(bad).unwrap_err();
            assert_eq!(l, line, "{d}");
            assert!(d.contains(why), "{:?}: {d}", String::from_utf8_lossy(bad));
        }
    }

    #[test]
    fn invalid_utf8_in_strings_reads_as_replacement() {
        let m = one("{\"message_id\":\"a\u{0}\"}".replace('\u{0}', "\\u0000").as_str()).unwrap();
        assert_eq!(m.message.message_id, "a\u{0}");
        let got = parse_messages(b"{\"message_id\":\"x\xffy\",\"body\":\"\xfe\"}").unwrap();
        assert_eq!(got[0].message.message_id, "x\u{FFFD}y");
        assert_eq!(got[0].message.body.as_deref(), Some("\u{FFFD}".as_bytes()));
    }
}
