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

use super::message::{bytes_of, int, int_error, type_error, unquote, Lexer, Tok, R};
use crate::adapters::encode_sqs::RestoreMessage;
use crate::codec::gojson::validate_json;
use crate::keys::segment::b64url_nopad_decode;

/// One message of `messages.jsonl`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DumpMessage {
    /// 1-based line on which the value starts.
    pub line: usize,
    pub message: RestoreMessage,
    /// The `partition` member (`None` when absent or `null`).
    pub partition: Option<u32>,
}

/// A problem with the file: the 1-based line and what is wrong.
pub type LineError = (usize, String);

/// Parses a whole `messages.jsonl`.
pub fn parse_messages(src: &[u8]) -> Result<Vec<DumpMessage>, LineError> {
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

/// Where a member of the dump struct goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Field {
    Str(usize),
    /// An `int64` (only the first two are kept).
    Int(usize),
    /// A `uint64` (only `sequence_number` is kept).
    Uint(usize),
    Partition,
    Body,
    Token,
    Attributes,
}

const MESSAGE_ID: usize = 0;
const MD5_OF_BODY: usize = 1;
const MD5_OF_ATTRIBUTES: usize = 2;
const SENDER_ID: usize = 3;
const GROUP_ID: usize = 4;
const DEDUP_ID: usize = 5;
const DLQ_SOURCE: usize = 6;
const SEND_TS: usize = 0;
const AVAILABLE_AT: usize = 1;
const SEQUENCE: usize = 1;

/// upstream's `sqsMessageRecord`, member name → field.
const FIELDS: [(&str, Field); 18] = [
    ("message_id", Field::Str(MESSAGE_ID)),
    ("body", Field::Body),
    ("md5_of_body", Field::Str(MD5_OF_BODY)),
    ("md5_of_message_attributes", Field::Str(MD5_OF_ATTRIBUTES)),
    ("message_attributes", Field::Attributes),
    ("sender_id", Field::Str(SENDER_ID)),
    ("send_timestamp_millis", Field::Int(SEND_TS)),
    ("available_at_millis", Field::Int(AVAILABLE_AT)),
    ("visible_at_millis", Field::Int(2)),
    ("receive_count", Field::Int(3)),
    ("first_receive_millis", Field::Int(4)),
    ("current_receipt_token", Field::Token),
    ("queue_generation", Field::Uint(0)),
    ("message_group_id", Field::Str(GROUP_ID)),
    ("message_deduplication_id", Field::Str(DEDUP_ID)),
    ("sequence_number", Field::Uint(SEQUENCE)),
    ("dead_letter_source_arn", Field::Str(DLQ_SOURCE)),
    ("partition", Field::Partition),
];

fn field_of(raw: &[u8]) -> Option<(&'static str, Field)> {
    if let Some(&hit) = FIELDS.iter().find(|(n, _)| n.as_bytes() == raw) {
        return Some(hit);
    }
    let key = unquote(raw);
    FIELDS.iter().find(|(n, _)| key.eq_ignore_ascii_case(n.as_bytes())).copied()
}

/// The members of one message as the walk finds them.
#[derive(Default)]
struct Fields {
    /// Inner ranges of the string fields (escapes undecoded).
    strings: [Range<usize>; 7],
    ints: [i64; 5],
    uints: [u64; 2],
    partition: Option<u32>,
    body: Option<Vec<u8>>,
    /// The `message_attributes` objects since the last `null` (Go merges a
    /// repeated object into the same map).
    attributes: Vec<Range<usize>>,
}

/// One message value (already known to be valid JSON).
fn parse_message(json: &[u8]) -> R<(RestoreMessage, Option<u32>)> {
    let mut f = Fields::default();
    let mut lx = Lexer { s: json, i: 0 };
    match lx.value()? {
        // Go decodes `null` into a struct as a no-op.
        Tok::Null(_) => {}
        Tok::Obj(_) => {
            lx.i = 0;
            lx.members(|key, tok| member(json, &mut f, key, tok))?;
        }
        other => return Err(format!("a message is a JSON object, not {}", article(other.kind()))),
    }
    let s = |i: usize| String::from_utf8_lossy(&unquote(&json[f.strings[i].clone()])).into_owned();
    let message = RestoreMessage {
        message_id: s(MESSAGE_ID),
        body: f.body.clone(),
        md5_of_body: s(MD5_OF_BODY),
        md5_of_message_attributes: s(MD5_OF_ATTRIBUTES),
        message_attributes: attributes(json, &f.attributes)?,
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

fn article(kind: &str) -> String {
    match kind {
        "array" | "object" => format!("an {kind}"),
        _ => format!("a {kind}"),
    }
}

fn member(json: &[u8], f: &mut Fields, key: &[u8], tok: Tok) -> R<()> {
    let Some((name, field)) = field_of(key) else { return Ok(()) };
    match field {
        Field::Str(i) => match tok {
            Tok::Str(r) => f.strings[i] = r,
            Tok::Null(_) => {}
            other => return Err(type_error(&other, name, "string")),
        },
        Field::Int(i) => {
            if let Some(v) = int(json, &tok, false).map_err(|t| int_error(t, name, false))? {
                f.ints[i] = v as i64;
            }
        }
        Field::Uint(i) => {
            if let Some(v) = int(json, &tok, true).map_err(|t| int_error(t, name, true))? {
                f.uints[i] = v as u64;
            }
        }
        Field::Partition => f.partition = partition(json, &tok)?,
        Field::Body => f.body = Some(body(json, tok)?),
        Field::Token => match tok {
            // Dropped on restore, but Go still decodes it.
            Tok::Str(_) | Tok::Arr(_) => {
                bytes_of(json, &tok, name)?;
            }
            Tok::Null(_) => {}
            other => return Err(type_error(&other, name, "[]uint8")),
        },
        Field::Attributes => match tok {
            Tok::Null(_) => f.attributes.clear(),
            Tok::Obj(r) => f.attributes.push(r),
            other => return Err(type_error(&other, name, "map[string]json.RawMessage")),
        },
    }
    Ok(())
}

/// `partition` is a `*uint32`: `null` clears it.
fn partition(json: &[u8], tok: &Tok) -> R<Option<u32>> {
    let bad = |what: String| {
        format!("json: cannot unmarshal {what} into Go struct field .partition of type uint32")
    };
    match int(json, tok, true).map_err(bad)? {
        None => Ok(None),
        Some(v) => u32::try_from(v).map(Some).map_err(|_| bad(format!("number {v}"))),
    }
}

/// A body: a string's bytes, `null` as empty (Go's unmarshal of `null`
/// into the string leaves it empty), or the `{"base64": …}` envelope.
fn body(json: &[u8], tok: Tok) -> R<Vec<u8>> {
    match tok {
        Tok::Str(r) => Ok(unquote(&json[r]).into_owned()),
        Tok::Null(_) => Ok(Vec::new()),
        Tok::Obj(r) => envelope(json, r),
        other => Err(format!(
            "body: a message body is a JSON string or {{\"base64\": …}}, not {}",
            article(other.kind())
        )),
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

/// The attribute map: names decoded, sorted by bytes, the last value of a
/// repeated name kept (Go's map), values as their raw JSON text.
fn attributes(json: &[u8], objects: &[Range<usize>]) -> R<Vec<(Vec<u8>, Vec<u8>)>> {
    let mut map = BTreeMap::new();
    for r in objects {
        let mut lx = Lexer { s: &json[..r.end], i: r.start };
        lx.members(|k, v| {
            let raw = match v {
                Tok::Str(r) => &json[r.start - 1..r.end + 1],
                Tok::Num(r) | Tok::Obj(r) | Tok::Arr(r) | Tok::Bool(r) | Tok::Null(r) => &json[r],
            };
            map.insert(unquote(k).into_owned(), raw.to_vec());
            Ok(())
        })?;
    }
    Ok(map.into_iter().collect())
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
