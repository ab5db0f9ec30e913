//! Reading JSON values the way Go's `json.Unmarshal` fills a struct:
//! unknown fields ignored, `null` leaves the zero value, field names match
//! exactly or else ASCII-case-insensitively, numbers must fit the field's
//! integer type exactly, and invalid UTF-8 inside strings becomes U+FFFD
//! rather than an error.

use serde_json::{Map, Value};

/// A decoded JSON object, or an explanation in Go's spirit.
pub(crate) struct GoObject(Map<String, Value>);

/// Replaces each invalid UTF-8 byte with U+FFFD, as Go's decoder does
/// inside strings (outside strings such bytes are syntax errors either way).
pub(crate) fn sanitize(bytes: &[u8]) -> std::borrow::Cow<'_, [u8]> {
    if std::str::from_utf8(bytes).is_ok() {
        return std::borrow::Cow::Borrowed(bytes);
    }
    let mut out = Vec::with_capacity(bytes.len() + 16);
    let mut rest = bytes;
    loop {
        match std::str::from_utf8(rest) {
            Ok(s) => {
                out.extend_from_slice(s.as_bytes());
                break;
            }
            Err(e) => {
                let good = e.valid_up_to();
                out.extend_from_slice(&rest[..good]);
                out.extend_from_slice("\u{FFFD}".as_bytes());
                rest = &rest[good + 1..];
            }
        }
    }
    std::borrow::Cow::Owned(out)
}

impl GoObject {
    /// Parses a whole document that must be an object (a top-level `null`
    /// is accepted and reads as all-zero, as Go does).
    pub(crate) fn parse(bytes: &[u8]) -> Result<GoObject, String> {
        let clean = sanitize(bytes);
        match serde_json::from_slice::<Value>(&clean) {
            Ok(Value::Object(m)) => Ok(GoObject(m)),
            Ok(Value::Null) => Ok(GoObject(Map::new())),
            Ok(other) => Err(format!("cannot unmarshal {} into an object", kind(&other))),
            Err(e) => Err(e.to_string()),
        }
    }

    /// An already-parsed JSON value read as a struct: an object, or `null`
    /// (all fields zero).
    pub(crate) fn from_value(v: Value) -> Result<GoObject, String> {
        match v {
            Value::Object(m) => Ok(GoObject(m)),
            Value::Null => Ok(GoObject(Map::new())),
            other => Err(format!("cannot unmarshal {} into an object", kind(&other))),
        }
    }

    fn field(&self, name: &str) -> Option<&Value> {
        field_of(&self.0, name)
    }

    /// A slice field as raw values; absent or `null` reads as empty.
    pub(crate) fn array(&self, name: &str) -> Result<&[Value], String> {
        match self.field(name) {
            None | Some(Value::Null) => Ok(&[]),
            Some(Value::Array(a)) => Ok(a),
            Some(v) => Err(mismatch(name, v, "array")),
        }
    }

    pub(crate) fn str(&self, name: &str) -> Result<String, String> {
        match self.field(name) {
            None | Some(Value::Null) => Ok(String::new()),
            Some(Value::String(s)) => Ok(s.clone()),
            Some(v) => Err(mismatch(name, v, "string")),
        }
    }

    pub(crate) fn u64(&self, name: &str) -> Result<u64, String> {
        match self.field(name) {
            None | Some(Value::Null) => Ok(0),
            Some(v) => as_u64(v).ok_or_else(|| mismatch(name, v, "uint64")),
        }
    }

    pub(crate) fn i64(&self, name: &str) -> Result<i64, String> {
        match self.field(name) {
            None | Some(Value::Null) => Ok(0),
            Some(v) => v.as_i64().filter(|_| is_integer(v)).ok_or_else(|| mismatch(name, v, "int64")),
        }
    }

    pub(crate) fn bool(&self, name: &str) -> Result<bool, String> {
        match self.field(name) {
            None | Some(Value::Null) => Ok(false),
            Some(Value::Bool(b)) => Ok(*b),
            Some(v) => Err(mismatch(name, v, "bool")),
        }
    }

    /// A `map[string]string`, sorted by key as Go marshals it; `None` for
    /// absent or `null`.
    pub(crate) fn str_map(&self, name: &str) -> Result<Option<Vec<(String, String)>>, String> {
        match self.field(name) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::Object(m)) => {
                let mut out = Vec::with_capacity(m.len());
                for (k, v) in m {
                    match v {
                        Value::String(s) => out.push((k.clone(), s.clone())),
                        // A null element stores the zero value.
                        Value::Null => out.push((k.clone(), String::new())),
                        other => return Err(mismatch(name, other, "string")),
                    }
                }
                out.sort_by(|a, b| a.0.as_bytes().cmp(b.0.as_bytes()));
                Ok(Some(out))
            }
            Some(v) => Err(mismatch(name, v, "map[string]string")),
        }
    }

    /// A `[]uint64`; `None` for absent or `null`.
    pub(crate) fn u64_list(&self, name: &str) -> Result<Option<Vec<u64>>, String> {
        match self.field(name) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::Array(a)) => {
                a.iter()
                    .map(|v| {
                        if v.is_null() {
                            Ok(0)
                        } else {
                            as_u64(v).ok_or_else(|| mismatch(name, v, "uint64"))
                        }
                    })
                    .collect::<Result<Vec<_>, _>>()
                    .map(Some)
            }
            Some(v) => Err(mismatch(name, v, "[]uint64")),
        }
    }

    /// A nested struct; absent or `null` reads as an empty object (Go leaves
    /// the zero value).
    pub(crate) fn object(&self, name: &str) -> Result<GoObject, String> {
        match self.field(name) {
            None | Some(Value::Null) => Ok(GoObject(Map::new())),
            Some(Value::Object(m)) => Ok(GoObject(m.clone())),
            Some(v) => Err(mismatch(name, v, "object")),
        }
    }

    /// A `[]string`; absent or `null` reads as empty, a `null` element as "".
    pub(crate) fn strings(&self, name: &str) -> Result<Vec<String>, String> {
        match self.field(name) {
            None | Some(Value::Null) => Ok(Vec::new()),
            Some(Value::Array(a)) => a
                .iter()
                .map(|v| match v {
                    Value::String(s) => Ok(s.clone()),
                    Value::Null => Ok(String::new()),
                    other => Err(mismatch(name, other, "string")),
                })
                .collect(),
            Some(v) => Err(mismatch(name, v, "[]string")),
        }
    }

    /// Whether the field is present with a non-`null` value (Go's pointer
    /// fields: `nil` unless set).
    pub(crate) fn is_set(&self, name: &str) -> bool {
        !matches!(self.field(name), None | Some(Value::Null))
    }

    /// A `uint32` field (Go refuses values that do not fit).
    pub(crate) fn u32(&self, name: &str) -> Result<u32, String> {
        match self.field(name) {
            None | Some(Value::Null) => Ok(0),
            Some(v) => {
                as_u64(v).and_then(|n| u32::try_from(n).ok()).ok_or_else(|| mismatch(name, v, "uint32"))
            }
        }
    }

    /// A slice of structs.
    pub(crate) fn objects(&self, name: &str) -> Result<Vec<GoObject>, String> {
        match self.field(name) {
            None | Some(Value::Null) => Ok(Vec::new()),
            Some(Value::Array(a)) => a
                .iter()
                .map(|v| match v {
                    Value::Object(m) => Ok(GoObject(m.clone())),
                    Value::Null => Ok(GoObject(Map::new())),
                    other => Err(mismatch(name, other, "object")),
                })
                .collect(),
            Some(v) => Err(mismatch(name, v, "array")),
        }
    }
}

/// The value of field `name` in `m` as Go's decoder matches it: the exact
/// name, else an ASCII-case-insensitive one.
pub(crate) fn field_of<'a>(m: &'a Map<String, Value>, name: &str) -> Option<&'a Value> {
    if let Some(v) = m.get(name) {
        return Some(v);
    }
    m.iter().filter(|(k, _)| k.eq_ignore_ascii_case(name)).map(|(_, v)| v).next_back()
}

fn is_integer(v: &Value) -> bool {
    matches!(v, Value::Number(n) if n.is_u64() || n.is_i64())
}

fn as_u64(v: &Value) -> Option<u64> {
    match v {
        Value::Number(n) => n.as_u64(),
        _ => None,
    }
}

/// What a JSON value is, in Go's error words.
pub(crate) fn kind(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "bool",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    }
}

fn mismatch(field: &str, v: &Value, want: &str) -> String {
    format!("json: cannot unmarshal {} into field {field} of type {want}", kind(v))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn go_like_field_rules() {
        let o =
            GoObject::parse(br#"{"Upload_ID":"u1","size_bytes":11,"extra":[1],"parts":null,"etag":null}"#)
                .unwrap();
        assert_eq!(o.str("upload_id").unwrap(), "u1");
        assert_eq!(o.u64("size_bytes").unwrap(), 11);
        assert_eq!(o.str("etag").unwrap(), "");
        assert!(o.objects("parts").unwrap().is_empty());
        assert!(o.str("size_bytes").is_err());
        let o = GoObject::parse(br#"{"n":-1,"f":1.5,"e":1e3}"#).unwrap();
        assert!(o.u64("n").is_err());
        assert_eq!(o.i64("n").unwrap(), -1);
        assert!(o.u64("f").is_err() && o.i64("f").is_err() && o.u64("e").is_err());
        assert!(GoObject::parse(b"[1]").is_err());
        assert!(GoObject::parse(b"{} x").is_err());
        assert!(GoObject::parse(b"null").unwrap().str("a").unwrap().is_empty());
        let o = GoObject::parse(b"{\"a\":\"x\xffy\"}").unwrap();
        assert_eq!(o.str("a").unwrap(), "x\u{FFFD}y");
        let o = GoObject::parse(br#"{"K":{"n":"v"},"l":["a",null],"big":4294967296,"nul":null}"#).unwrap();
        assert_eq!(o.object("k").unwrap().str("n").unwrap(), "v");
        assert!(o.object("missing").unwrap().str("n").unwrap().is_empty());
        assert!(o.object("l").is_err());
        assert_eq!(o.strings("l").unwrap(), vec!["a".to_string(), String::new()]);
        assert!(o.strings("k").is_err());
        assert!(o.is_set("k") && !o.is_set("nul") && !o.is_set("missing"));
        assert!(o.u32("big").is_err());
        assert_eq!(o.u64("big").unwrap(), 1 << 32);
    }
}
