//! `KEYMAP.jsonl` lines (`pack.md` §6.2), shared by the adapters that
//! reverse renamed file names (S3 collision renames; Redis SHA-fallback
//! stems). Each adapter applies its own rules on top (S3 refuses
//! duplicates, Redis keeps the last).

use serde_json::Value;

use crate::keys::segment::b64url_nopad_decode;

/// Longest line upstream's scanner accepts.
pub(crate) const MAX_LINE: usize = 4 << 20;

/// One parsed line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Record {
    /// 1-based line number, for messages.
    pub(crate) line: usize,
    pub(crate) encoded: String,
    /// The decoded original bytes.
    pub(crate) original: Vec<u8>,
    pub(crate) kind: String,
}

/// Parses a whole file. Lines end at `\n` (a trailing `\r` is dropped); the
/// final newline is optional; an empty line is an error. `Err` carries
/// `line N: why`.
pub(crate) fn parse(bytes: &[u8]) -> Result<Vec<Record>, String> {
    let mut out = Vec::new();
    let body = bytes.strip_suffix(b"\n").unwrap_or(bytes);
    if bytes.is_empty() {
        return Ok(out);
    }
    for (i, raw) in body.split(|&b| b == b'\n').enumerate() {
        let line = i + 1;
        let raw = raw.strip_suffix(b"\r").unwrap_or(raw);
        if raw.len() > MAX_LINE {
            return Err(format!("line {line}: longer than {MAX_LINE} bytes"));
        }
        out.push(parse_line(raw).map_err(|e| format!("line {line}: {e}"))?.with_line(line));
    }
    Ok(out)
}

impl Record {
    fn with_line(mut self, line: usize) -> Self {
        self.line = line;
        self
    }
}

fn parse_line(raw: &[u8]) -> Result<Record, String> {
    if raw.is_empty() {
        return Err("empty line".into());
    }
    let v: Value = serde_json::from_slice(raw).map_err(|e| e.to_string())?;
    let Value::Object(m) = v else {
        return Err("not a JSON object".into());
    };
    let field = |name: &str| -> Result<String, String> {
        match m.get(name) {
            None => Err(format!("missing field {name:?}")),
            Some(Value::Null) => Err(format!("field {name:?} is null")),
            Some(Value::String(s)) => Ok(s.clone()),
            Some(_) => Err(format!("field {name:?} is not a string")),
        }
    };
    let encoded = field("encoded")?;
    let original_b64 = field("original")?;
    let kind = field("kind")?;
    if encoded.is_empty() || kind.is_empty() {
        return Err("missing encoded or kind".into());
    }
    let original = b64url_nopad_decode(original_b64.as_bytes())
        .ok_or_else(|| format!("original {original_b64:?} is not unpadded base64url"))?;
    Ok(Record { line: 0, encoded, original, kind })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines() {
        let recs = parse(b"{\"encoded\":\"a.elastickv-leaf-data\",\"original\":\"YQ\",\"kind\":\"s3-leaf-data\"}\r\n{\"kind\":\"k\",\"encoded\":\"e\",\"original\":\"\"}").unwrap();
        assert_eq!(recs.len(), 2);
        assert_eq!(recs[0].original, b"a");
        assert_eq!((recs[1].line, recs[1].original.len()), (2, 0));
        assert!(parse(b"").unwrap().is_empty());
        for (bad, why) in [
            (&b"\n"[..], "line 1: empty line"),
            (b"{\"encoded\":\"e\",\"original\":\"YQ\",\"kind\":\"k\"}\n\n", "line 2: empty line"),
            (b"{\"encoded\":\"e\",\"original\":\"YQ\"}", "missing field \"kind\""),
            (b"{\"encoded\":null,\"original\":\"YQ\",\"kind\":\"k\"}", "is null"),
            (b"{\"encoded\":\"\",\"original\":\"YQ\",\"kind\":\"k\"}", "missing encoded or kind"),
            (b"{\"encoded\":\"e\",\"original\":\"YQ==\",\"kind\":\"k\"}", "base64url"),
            (b"{\"encoded\":\"e\",\"original\":7,\"kind\":\"k\"}", "not a string"),
            (b"[1]", "not a JSON object"),
            (b"{oops", "line 1: key must be a string"),
        ] {
            let e = parse(bad).unwrap_err();
            assert!(e.contains(why), "{e} / {why}");
        }
    }
}
