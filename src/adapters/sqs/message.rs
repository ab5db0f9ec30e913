//! A stored message (`\0SM\1` ‖ JSON) read the way Go's `json.Unmarshal`
//! fills upstream's message struct: fields matched exactly or ASCII-case-
//! insensitively, the last occurrence winning, `null` leaving strings and
//! numbers alone but clearing `[]byte` and map fields, integers exact,
//! `[]byte` from standard base64, invalid UTF-8 in strings read as U+FFFD.
//!
//! The index reads the four fields that order and filter a queue's messages
//! for every record, so the walk borrows from the mapping and allocates
//! nothing; the renderer uses the same walk after a full syntax check.

use std::borrow::Cow;
use std::ops::Range;

use base64::engine::general_purpose::{GeneralPurpose, GeneralPurposeConfig, STANDARD};
use base64::engine::DecodePaddingMode;
use base64::Engine as _;

use crate::codec::gojson::{validate_json, JsonWriter};

/// Go's `base64.StdEncoding` as `encoding/json` uses it for `[]byte`:
/// padding required, non-zero trailing bits accepted.
const GO_STD: GeneralPurpose = GeneralPurpose::new(
    &base64::alphabet::STANDARD,
    GeneralPurposeConfig::new()
        .with_decode_allow_trailing_bits(true)
        .with_decode_padding_mode(DecodePaddingMode::RequireCanonical),
);

/// One JSON value: its kind and where it is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum Tok {
    /// Inner bytes of a string (between the quotes, escapes undecoded).
    Str(Range<usize>),
    Num(Range<usize>),
    Bool(Range<usize>),
    Null(Range<usize>),
    Obj(Range<usize>),
    Arr(Range<usize>),
}

impl Tok {
    pub(super) fn kind(&self) -> &'static str {
        match self {
            Tok::Str(_) => "string",
            Tok::Num(_) => "number",
            Tok::Bool(_) => "bool",
            Tok::Null(_) => "null",
            Tok::Obj(_) => "object",
            Tok::Arr(_) => "array",
        }
    }
}

/// A tolerant lexer: it never panics, and finds the structure of valid JSON
/// (the renderer validates first; the index accepts what it can walk).
pub(super) struct Lexer<'a> {
    pub(super) s: &'a [u8],
    pub(super) i: usize,
}

pub(super) type R<T> = Result<T, String>;

impl<'a> Lexer<'a> {
    pub(super) fn ws(&mut self) {
        while matches!(self.s.get(self.i), Some(b' ' | b'\t' | b'\n' | b'\r')) {
            self.i += 1;
        }
    }

    fn syntax(&self) -> String {
        format!("invalid character at offset {}", self.i)
    }

    fn eat(&mut self, c: u8) -> R<()> {
        self.ws();
        if self.s.get(self.i) != Some(&c) {
            return Err(self.syntax());
        }
        self.i += 1;
        Ok(())
    }

    /// At a `"`: returns the inner range.
    fn string(&mut self) -> R<Range<usize>> {
        self.eat(b'"')?;
        let (s, start) = (self.s, self.i);
        let mut i = start;
        loop {
            // Eight bytes at a time while none is a quote or a backslash
            // (message bodies are long runs of base64).
            while let Some(w) = s.get(i..i + 8) {
                let v = u64::from_le_bytes(w.try_into().expect("8 bytes"));
                if has_byte(v, b'"') | has_byte(v, b'\\') != 0 {
                    break;
                }
                i += 8;
            }
            match s.get(i) {
                None => return Err("unexpected end of JSON input".into()),
                Some(b'"') => {
                    self.i = i + 1;
                    return Ok(start..i);
                }
                Some(b'\\') => i += 2,
                Some(_) => i += 1,
            }
        }
    }

    /// Skips a container starting at the current `[` or `{`.
    fn container(&mut self) -> R<Range<usize>> {
        let start = self.i;
        let mut depth = 0usize;
        loop {
            match self.s.get(self.i) {
                None => return Err("unexpected end of JSON input".into()),
                Some(b'"') => {
                    self.string()?;
                    continue;
                }
                Some(b'[' | b'{') => depth += 1,
                Some(b']' | b'}') => {
                    depth -= 1;
                    if depth == 0 {
                        self.i += 1;
                        return Ok(start..self.i);
                    }
                }
                _ => {}
            }
            self.i += 1;
        }
    }

    pub(super) fn value(&mut self) -> R<Tok> {
        self.ws();
        let start = self.i;
        let word = |l: &mut Self, w: &[u8]| {
            if l.s[l.i..].starts_with(w) {
                l.i += w.len();
                Ok(())
            } else {
                Err(l.syntax())
            }
        };
        match self.s.get(self.i) {
            Some(b'"') => self.string().map(Tok::Str),
            Some(b'{') => self.container().map(Tok::Obj),
            Some(b'[') => self.container().map(Tok::Arr),
            Some(b't') => word(self, b"true").map(|_| Tok::Bool(start..self.i)),
            Some(b'f') => word(self, b"false").map(|_| Tok::Bool(start..self.i)),
            Some(b'n') => word(self, b"null").map(|_| Tok::Null(start..self.i)),
            Some(b'-' | b'0'..=b'9') => {
                while matches!(self.s.get(self.i), Some(b'-' | b'+' | b'.' | b'e' | b'E' | b'0'..=b'9')) {
                    self.i += 1;
                }
                Ok(Tok::Num(start..self.i))
            }
            _ => Err(self.syntax()),
        }
    }

    /// Calls `f(key inner bytes, value)` for each member of the object at
    /// the current position.
    pub(super) fn members(&mut self, mut f: impl FnMut(&'a [u8], Tok) -> R<()>) -> R<()> {
        self.eat(b'{')?;
        self.ws();
        if self.s.get(self.i) == Some(&b'}') {
            self.i += 1;
            return Ok(());
        }
        loop {
            let k = self.string()?;
            self.eat(b':')?;
            let v = self.value()?;
            f(&self.s[k], v)?;
            self.ws();
            match self.s.get(self.i) {
                Some(b',') => {
                    self.i += 1;
                    self.ws();
                }
                Some(b'}') => {
                    self.i += 1;
                    return Ok(());
                }
                _ => return Err(self.syntax()),
            }
        }
    }
}

/// Non-zero when a byte of `v` equals `b`.
fn has_byte(v: u64, b: u8) -> u64 {
    const LO: u64 = 0x0101_0101_0101_0101;
    let x = v ^ (LO * u64::from(b));
    x.wrapping_sub(LO) & !x & (LO << 7)
}

/// Length of the valid UTF-8 sequence at `s[i]`, or 0 (Go's
/// `utf8.DecodeRune` rules: no overlongs, surrogates or values past
/// U+10FFFF).
fn utf8_len(s: &[u8], i: usize) -> usize {
    let cont = |k: usize| s.get(i + k).is_some_and(|&b| (0x80..=0xBF).contains(&b));
    let in_range = |k: usize, lo: u8, hi: u8| s.get(i + k).is_some_and(|&b| (lo..=hi).contains(&b));
    match s[i] {
        0x00..=0x7F => 1,
        0xC2..=0xDF if cont(1) => 2,
        0xE0 if in_range(1, 0xA0, 0xBF) && cont(2) => 3,
        0xE1..=0xEC | 0xEE | 0xEF if cont(1) && cont(2) => 3,
        0xED if in_range(1, 0x80, 0x9F) && cont(2) => 3,
        0xF0 if in_range(1, 0x90, 0xBF) && cont(2) && cont(3) => 4,
        0xF1..=0xF3 if cont(1) && cont(2) && cont(3) => 4,
        0xF4 if in_range(1, 0x80, 0x8F) && cont(2) && cont(3) => 4,
        _ => 0,
    }
}

fn hex4(s: &[u8]) -> Option<u32> {
    let h = std::str::from_utf8(s.get(..4)?).ok()?;
    u32::from_str_radix(h, 16).ok().filter(|_| h.bytes().all(|b| b.is_ascii_hexdigit()))
}

/// The bytes of a JSON string's inner text as Go decodes them.
pub(crate) fn unquote(inner: &[u8]) -> Cow<'_, [u8]> {
    if !inner.contains(&b'\\') && std::str::from_utf8(inner).is_ok() {
        return Cow::Borrowed(inner);
    }
    let mut out = Vec::with_capacity(inner.len());
    let push = |out: &mut Vec<u8>, c: char| out.extend_from_slice(c.encode_utf8(&mut [0; 4]).as_bytes());
    let mut i = 0;
    while i < inner.len() {
        match inner[i] {
            b'\\' => {
                let esc = inner.get(i + 1).copied().unwrap_or(0);
                i += 2;
                let c = match esc {
                    b'b' => '\u{8}',
                    b'f' => '\u{c}',
                    b'n' => '\n',
                    b'r' => '\r',
                    b't' => '\t',
                    b'u' => {
                        let Some(u) = hex4(&inner[i..]) else { break };
                        i += 4;
                        if (0xD800..0xE000).contains(&u) {
                            let lo = (inner.get(i..i + 2) == Some(b"\\u"))
                                .then(|| hex4(&inner[i + 2..]))
                                .flatten();
                            match lo {
                                Some(lo) if u < 0xDC00 && (0xDC00..0xE000).contains(&lo) => {
                                    i += 6;
                                    char::from_u32(0x10000 + ((u - 0xD800) << 10) + (lo - 0xDC00))
                                        .unwrap_or('\u{FFFD}')
                                }
                                _ => '\u{FFFD}',
                            }
                        } else {
                            char::from_u32(u).unwrap_or('\u{FFFD}')
                        }
                    }
                    other => char::from(other),
                };
                push(&mut out, c);
            }
            _ => {
                let n = utf8_len(inner, i);
                if n == 0 {
                    push(&mut out, '\u{FFFD}');
                    i += 1;
                } else {
                    out.extend_from_slice(&inner[i..i + n]);
                    i += n;
                }
            }
        }
    }
    Cow::Owned(out)
}

/// The string fields, in upstream's output order (indices of `Field::Str`).
const STRINGS: [&str; 7] = [
    "message_id",
    "md5_of_body",
    "md5_of_message_attributes",
    "sender_id",
    "message_group_id",
    "message_deduplication_id",
    "dead_letter_source_arn",
];

/// Indices into [`Fields`]: `strings` (as [`STRINGS`]), `ints`, `uints`.
pub(super) const MESSAGE_ID: usize = 0;
pub(super) const MD5_OF_BODY: usize = 1;
pub(super) const MD5_OF_ATTRIBUTES: usize = 2;
pub(super) const SENDER_ID: usize = 3;
pub(super) const GROUP_ID: usize = 4;
pub(super) const DEDUP_ID: usize = 5;
pub(super) const DLQ_SOURCE: usize = 6;
pub(super) const SEND_TS: usize = 0;
pub(super) const AVAILABLE_AT: usize = 1;
pub(super) const GENERATION: usize = 0;
pub(super) const SEQUENCE: usize = 1;

/// Which struct a message object fills.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Shape {
    /// The stored record: `body` and the receipt token are `[]byte`; there
    /// is no `partition` member (Go ignores one).
    Stored,
    /// A `messages.jsonl` line of a dump: `body` is a string, `null` or
    /// `{"base64": …}`, and `partition` is a `*uint32`.
    Dump,
}

/// A message as the struct holds it, borrowing from the JSON text.
#[derive(Default)]
pub(super) struct Fields {
    pub(super) strings: [Range<usize>; 7],
    pub(super) ints: [i64; 5],
    pub(super) uints: [u64; 2],
    /// The last `body` member (for a dump, a `null` one is kept: it reads
    /// as an empty body, while no member at all is a nil one).
    pub(super) body: Option<Tok>,
    pub(super) token: Option<Tok>,
    /// A dump's `partition` (`None` when absent or `null`).
    pub(super) partition: Option<u32>,
    /// The `message_attributes` objects since the last `null` (Go merges
    /// repeated objects into one map).
    pub(super) attributes: Vec<Range<usize>>,
}

pub(super) fn type_error(tok: &Tok, field: &str, ty: &str) -> String {
    format!("json: cannot unmarshal {} into Go struct field .{field} of type {ty}", tok.kind())
}

/// An integer field's value (`None` for `null`); on failure, what Go
/// would have called the value.
pub(super) fn int(json: &[u8], tok: &Tok, unsigned: bool) -> Result<Option<i128>, String> {
    let r = match tok {
        Tok::Null(_) => return Ok(None),
        Tok::Num(r) => r.clone(),
        other => return Err(other.kind().to_string()),
    };
    let text = std::str::from_utf8(&json[r]).map_err(|_| "number".to_string())?;
    let v = if text.starts_with('+') {
        None
    } else if unsigned {
        text.parse::<u64>().ok().map(i128::from)
    } else {
        text.parse::<i64>().ok().map(i128::from)
    };
    v.map(Some).ok_or_else(|| format!("number {text}"))
}

pub(super) fn int_error(what: String, field: &str, unsigned: bool) -> String {
    let ty = if unsigned { "uint64" } else { "int64" };
    format!("json: cannot unmarshal {what} into Go struct field .{field} of type {ty}")
}

/// Where a member of the message object goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Field {
    Str(usize),
    Int(usize),
    Uint(usize),
    Body,
    Token,
    Attributes,
    /// Only in a dump ([`Shape::Dump`]).
    Partition,
}

/// upstream's `sqsMessageRecord` (plus the dump's `partition`), member
/// name → field.
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
    ("queue_generation", Field::Uint(GENERATION)),
    ("message_group_id", Field::Str(GROUP_ID)),
    ("message_deduplication_id", Field::Str(DEDUP_ID)),
    ("sequence_number", Field::Uint(SEQUENCE)),
    ("dead_letter_source_arn", Field::Str(DLQ_SOURCE)),
    ("partition", Field::Partition),
];

/// The field a member name selects, with its name: the exact name, else
/// (Go's fallback) an ASCII-case-insensitive match of the decoded name.
fn field_of(raw: &[u8]) -> Option<(&'static str, Field)> {
    if let Some(&hit) = FIELDS.iter().find(|(n, _)| n.as_bytes() == raw) {
        return Some(hit);
    }
    let key = unquote(raw);
    FIELDS.iter().find(|(n, _)| key.eq_ignore_ascii_case(n.as_bytes())).copied()
}

/// Walks the top-level object (or `null`) as Go fills the struct of
/// `shape`. `full`: check every field's type, as Go does; otherwise only
/// the fields [`sort_key`] needs (the rest is left to the renderer, so a
/// bad field fails `messages.jsonl`, not the index).
pub(super) fn walk(json: &[u8], full: bool, shape: Shape) -> R<Fields> {
    let mut f = Fields::default();
    let mut lx = Lexer { s: json, i: 0 };
    lx.ws();
    if json[lx.i..].starts_with(b"null") {
        lx.i += 4;
    } else if json.get(lx.i) == Some(&b'{') {
        lx.members(|key, tok| {
            let Some((name, field)) = field_of(key) else { return Ok(()) };
            match field {
                Field::Str(i) if full || i == MESSAGE_ID => match tok {
                    Tok::Str(r) => f.strings[i] = r,
                    Tok::Null(_) => {}
                    other => return Err(type_error(&other, name, "string")),
                },
                Field::Int(i) if full || i == SEND_TS => {
                    if let Some(v) = int(json, &tok, false).map_err(|t| int_error(t, name, false))? {
                        f.ints[i] = v as i64;
                    }
                }
                Field::Uint(i) => {
                    if let Some(v) = int(json, &tok, true).map_err(|t| int_error(t, name, true))? {
                        f.uints[i] = v as u64;
                    }
                }
                Field::Body if full && shape == Shape::Dump => match tok {
                    Tok::Str(_) | Tok::Null(_) | Tok::Obj(_) => f.body = Some(tok),
                    other => {
                        return Err(format!(
                            "body: a message body is a JSON string or {{\"base64\": …}}, not {}",
                            article(other.kind())
                        ))
                    }
                },
                Field::Body | Field::Token if full => {
                    // A dump drops the token, but Go still decodes it.
                    if field == Field::Token && shape == Shape::Dump {
                        bytes_of(json, &tok, name)?;
                    }
                    let slot = if field == Field::Body { &mut f.body } else { &mut f.token };
                    match tok {
                        Tok::Null(_) => *slot = None,
                        Tok::Str(_) | Tok::Arr(_) => *slot = Some(tok),
                        other => return Err(type_error(&other, name, "[]uint8")),
                    }
                }
                Field::Partition if shape == Shape::Dump => f.partition = partition(json, &tok)?,
                Field::Attributes if full => match tok {
                    Tok::Null(_) => f.attributes.clear(),
                    Tok::Obj(r) => f.attributes.push(r),
                    other => return Err(type_error(&other, name, "map[string]json.RawMessage")),
                },
                _ => {}
            }
            Ok(())
        })?;
    } else {
        let tok = lx.value()?;
        return Err(format!("json: cannot unmarshal {} into Go value of type struct", tok.kind()));
    }
    lx.ws();
    if lx.i != json.len() {
        return Err(lx.syntax());
    }
    Ok(f)
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

/// A JSON kind with its article ("an object", "a string").
pub(super) fn article(kind: &str) -> String {
    match kind {
        "array" | "object" => format!("an {kind}"),
        _ => format!("a {kind}"),
    }
}

/// Calls `f(decoded name, raw JSON text of the value)` for every member of
/// the `message_attributes` objects, in order.
pub(super) fn attribute_members<'j>(
    json: &'j [u8],
    objects: &[Range<usize>],
    mut f: impl FnMut(Cow<'j, [u8]>, &'j [u8]),
) -> R<()> {
    for r in objects {
        let mut lx = Lexer { s: &json[..r.end], i: r.start };
        lx.members(|k, v| {
            let raw = match v {
                Tok::Str(r) => &json[r.start - 1..r.end + 1],
                Tok::Num(r) | Tok::Obj(r) | Tok::Arr(r) | Tok::Bool(r) | Tok::Null(r) => &json[r],
            };
            f(unquote(k), raw);
            Ok(())
        })?;
    }
    Ok(())
}

/// What orders and filters a queue's messages.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct SortKey {
    pub(crate) send_ts: i64,
    pub(crate) sequence: u64,
    pub generation: u64,
    /// Inner text of `message_id` within the JSON (escapes undecoded).
    pub(crate) id: Range<usize>,
}

/// The index's read of a message's JSON (after the magic).
pub(crate) fn sort_key(json: &[u8]) -> R<SortKey> {
    let f = walk(json, false, Shape::Stored)?;
    Ok(SortKey {
        send_ts: f.ints[SEND_TS],
        sequence: f.uints[SEQUENCE],
        generation: f.uints[GENERATION],
        id: f.strings[MESSAGE_ID].clone(),
    })
}

/// Decodes a `[]byte` field: a standard-base64 string, or an array of
/// byte values.
pub(super) fn bytes_of(json: &[u8], tok: &Tok, field: &str) -> R<Vec<u8>> {
    match tok {
        Tok::Str(r) => {
            let raw = &json[r.clone()];
            let bad = |e| format!("field {field}: illegal base64 data: {e}");
            // Base64 text needs no unescaping unless it has escapes, and Go
            // skips CR and LF inside it.
            if !raw.iter().any(|&c| matches!(c, b'\\' | b'\r' | b'\n')) {
                return GO_STD.decode(raw).map_err(bad);
            }
            let text: Vec<u8> = unquote(raw).iter().copied().filter(|&c| c != b'\r' && c != b'\n').collect();
            GO_STD.decode(&text).map_err(bad)
        }
        Tok::Arr(r) => {
            let mut out = Vec::new();
            let mut lx = Lexer { s: &json[..r.end], i: r.start + 1 };
            lx.ws();
            if lx.s.get(lx.i) == Some(&b']') {
                return Ok(out);
            }
            loop {
                let v = lx.value()?;
                let b = int(json, &v, true).map_err(|t| int_error(t, field, true))?.unwrap_or(0);
                out.push(
                    u8::try_from(b).map_err(|_| {
                        format!("json: cannot unmarshal number {b} into Go value of type uint8")
                    })?,
                );
                lx.ws();
                match lx.s.get(lx.i) {
                    Some(b',') => lx.i += 1,
                    _ => return Ok(out),
                }
            }
        }
        _ => Ok(Vec::new()),
    }
}

/// One `messages.jsonl` line (§5.3) from a message's JSON (after the
/// magic). `partition` is set for partitioned keys.
pub(crate) fn render_line(
    json: &[u8],
    partition: Option<u32>,
    preserve_visibility: bool,
    out: &mut Vec<u8>,
) -> R<()> {
    validate_json(json).map_err(|e| format!("invalid JSON: {e}"))?;
    let f = walk(json, true, Shape::Stored)?;
    let s = |i: usize| unquote(&json[f.strings[i].clone()]);
    let body = match &f.body {
        Some(t) => bytes_of(json, t, "body")?,
        None => Vec::new(),
    };
    let token = match (&f.token, preserve_visibility) {
        (Some(t), true) => bytes_of(json, t, "current_receipt_token")?,
        (Some(t), false) => {
            bytes_of(json, t, "current_receipt_token")?;
            Vec::new()
        }
        (None, _) => Vec::new(),
    };
    let mut attributes: Vec<(Cow<'_, [u8]>, &[u8])> = Vec::new();
    attribute_members(json, &f.attributes, |k, v| attributes.push((k, v)))?;

    let mut w = JsonWriter::compact(out, false);
    w.begin_object();
    w.key(b"message_id");
    w.string(&s(0));
    w.key(b"body");
    if std::str::from_utf8(&body).is_ok() {
        w.string_with_html(&body, true);
    } else {
        w.begin_object();
        w.key(b"base64");
        w.string(crate::keys::segment::b64url_nopad(&body).as_bytes());
        w.end_object();
    }
    for i in [1, 2] {
        if !f.strings[i].is_empty() {
            w.key(STRINGS[i].as_bytes());
            w.string(&s(i));
        }
    }
    attributes.sort_by(|a, b| a.0.cmp(&b.0));
    attributes.dedup_by(|later, earlier| {
        if later.0 == earlier.0 {
            std::mem::swap(later, earlier);
            true
        } else {
            false
        }
    });
    if !attributes.is_empty() {
        w.key(b"message_attributes");
        w.begin_object();
        for (k, v) in &attributes {
            w.key(k);
            w.raw(v).map_err(|e| format!("message_attributes: {e}"))?;
        }
        w.end_object();
    }
    if !f.strings[3].is_empty() {
        w.key(b"sender_id");
        w.string(&s(3));
    }
    let (visible, receives, first) =
        if preserve_visibility { (f.ints[2], f.ints[3], f.ints[4]) } else { (0, 0, 0) };
    for (k, v) in [
        ("send_timestamp_millis", f.ints[0]),
        ("available_at_millis", f.ints[1]),
        ("visible_at_millis", visible),
        ("receive_count", receives),
    ] {
        w.key(k.as_bytes());
        w.i64(v);
    }
    if first != 0 {
        w.key(b"first_receive_millis");
        w.i64(first);
    }
    if !token.is_empty() {
        w.key(b"current_receipt_token");
        w.string(STANDARD.encode(&token).as_bytes());
    }
    w.key(b"queue_generation");
    w.u64(f.uints[GENERATION]);
    for i in [4, 5] {
        if !f.strings[i].is_empty() {
            w.key(STRINGS[i].as_bytes());
            w.string(&s(i));
        }
    }
    if f.uints[SEQUENCE] != 0 {
        w.key(b"sequence_number");
        w.u64(f.uints[SEQUENCE]);
    }
    if !f.strings[6].is_empty() {
        w.key(b"dead_letter_source_arn");
        w.string(&s(6));
    }
    if let Some(p) = partition {
        w.key(b"partition");
        w.u64(u64::from(p));
    }
    w.end_object();
    w.end_line();
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unquote_like_go() {
        assert_eq!(&*unquote(b"plain"), b"plain");
        assert!(matches!(unquote(b"plain"), Cow::Borrowed(_)));
        assert_eq!(&*unquote(br"a\u0041\n\/\\\u00e9"), "aA\n/\\é".as_bytes());
        assert_eq!(&*unquote(br"\ud83d\ude00"), "😀".as_bytes());
        assert_eq!(&*unquote(br"\ud800x"), "\u{FFFD}x".as_bytes());
        assert_eq!(&*unquote(br"\ude00\ud83d"), "\u{FFFD}\u{FFFD}".as_bytes());
        // Invalid UTF-8: one U+FFFD per byte (a truncated sequence is two).
        assert_eq!(&*unquote(b"a\xe2\x80b\xff"), "a\u{FFFD}\u{FFFD}b\u{FFFD}".as_bytes());
        assert_eq!(&*unquote(b"\xed\xa0\x80"), "\u{FFFD}\u{FFFD}\u{FFFD}".as_bytes());
    }

    #[test]
    fn fields_follow_go_decoding() {
        let k = sort_key(br#"{"MESSAGE_ID":"a","message_id":"b","Send_Timestamp_Millis":-5,"queue_generation":3,"sequence_number":null}"#).unwrap();
        assert_eq!((k.send_ts, k.generation, k.sequence), (-5, 3, 0));
        let json = br#"{"MESSAGE_ID":"a","message_id":"b"}"#;
        assert_eq!(&json[sort_key(json).unwrap().id], b"b");
        assert_eq!(sort_key(b" null ").unwrap().send_ts, 0);
        assert!(sort_key(br#"{"queue_generation":1e3}"#).unwrap_err().contains("number 1e3"));
        assert!(sort_key(br#"{"send_timestamp_millis":9223372036854775808}"#).is_err());
        assert!(sort_key(br#"{"sequence_number":-0}"#).is_err());
        assert_eq!(sort_key(br#"{"send_timestamp_millis":-0}"#).unwrap().send_ts, 0);
        assert!(sort_key(b"[]").unwrap_err().contains("into Go value of type struct"));
        // Fields the index does not need are checked when rendering.
        assert!(sort_key(br#"{"receive_count":"x"}"#).is_ok());
        assert!(render_line(br#"{"receive_count":"x"}"#, None, true, &mut Vec::new()).is_err());
    }

    #[test]
    fn lines() {
        let mut out = Vec::new();
        render_line(
            br#"{"message_id":"m","body":"PGE+","message_attributes":{"b": 1 ,"a":{"x" : [ true , null ]}},"current_receipt_token":"AQI=","receive_count":3}"#,
            Some(0),
            false,
            &mut out,
        )
        .unwrap();
        assert_eq!(
            String::from_utf8(out).unwrap(),
            "{\"message_id\":\"m\",\"body\":\"\\u003ca\\u003e\",\"message_attributes\":{\"a\":{\"x\":[true,null]},\"b\":1},\"send_timestamp_millis\":0,\"available_at_millis\":0,\"visible_at_millis\":0,\"receive_count\":0,\"queue_generation\":0,\"partition\":0}\n"
        );
        let mut out = Vec::new();
        render_line(br#"{"current_receipt_token":"AQI=","receive_count":3}"#, None, true, &mut out).unwrap();
        assert!(String::from_utf8(out)
            .unwrap()
            .contains("\"receive_count\":3,\"current_receipt_token\":\"AQI=\","));
    }
}
