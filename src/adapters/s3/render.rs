//! `_bucket.json`, object sidecars, `KEYMAP.jsonl` lines and incomplete
//! upload records, byte for byte as upstream writes them.

use base64::Engine;

use crate::adapters::s3::keys as k;
use crate::codec::gojson::JsonWriter;
use crate::codec::gostruct::GoObject;
use crate::codec::hlctime::format_hlc_rfc3339;
use crate::container::entry_at;

/// `_bucket.json` from the bucket meta entry (B5.1). The name comes from
/// the key, not from the JSON.
pub(crate) fn bucket_json(user_key: &[u8], body: &[u8], out: &mut Vec<u8>) -> Result<(), String> {
    let rest = &user_key[b"!s3|bucket|meta|".len()..];
    let end = k::parse_bucket_meta(rest).ok_or("bucket meta key")?;
    let name = k::unescape(&rest[..end]);
    let m = GoObject::parse(body)?;
    let mut w = JsonWriter::pretty(out, true);
    w.begin_object();
    w.key(b"format_version");
    w.u64(1);
    w.key(b"name");
    w.string(&name);
    for (field, json) in [("owner", "owner"), ("region", "region"), ("acl", "acl")] {
        let v = m.str(field)?;
        if !v.is_empty() {
            w.key(json.as_bytes());
            w.string(v.as_bytes());
        }
    }
    w.end_object();
    Ok(())
}

/// `<object>.elastickv-meta.json` from the manifest (B5.2).
pub(crate) fn sidecar_json(body: &[u8], out: &mut Vec<u8>) -> Result<(), String> {
    let m = GoObject::parse(body)?;
    let mut w = JsonWriter::pretty(out, true);
    w.begin_object();
    w.key(b"format_version");
    w.u64(1);
    let etag = m.str("etag")?;
    if !etag.is_empty() {
        w.key(b"etag");
        w.string(etag.as_bytes());
    }
    w.key(b"size_bytes");
    w.i64(m.i64("size_bytes")?);
    if let Some(t) = format_hlc_rfc3339(m.u64("last_modified_hlc")?) {
        w.key(b"last_modified");
        w.string(t.as_bytes());
    }
    for f in ["content_type", "content_encoding", "cache_control", "content_disposition"] {
        let v = m.str(f)?;
        if !v.is_empty() {
            w.key(f.as_bytes());
            w.string(v.as_bytes());
        }
    }
    if let Some(meta) = m.str_map("user_metadata")?.filter(|m| !m.is_empty()) {
        w.key(b"user_metadata");
        w.begin_object();
        for (k, v) in meta {
            w.key(k.as_bytes());
            w.string(v.as_bytes());
        }
        w.end_object();
    }
    w.end_object();
    Ok(())
}

/// One `KEYMAP.jsonl` line (`fsm-container.md` §14.4): compact, HTML
/// escaping off, newline-terminated.
pub(crate) fn keymap_line(out: &mut Vec<u8>, encoded: &[u8], original_b64url: &str, kind: &str) {
    let mut w = JsonWriter::compact(out, false);
    w.begin_object();
    w.key(b"encoded");
    w.string(encoded);
    w.key(b"original");
    w.string(original_b64url.as_bytes());
    w.key(b"kind");
    w.string(kind.as_bytes());
    w.end_object();
    w.end_line();
}

fn upload_prefix(user_key: &[u8]) -> &'static str {
    if user_key.starts_with(b"!s3|upload|part|") {
        "!s3|upload|part|"
    } else {
        "!s3|upload|meta|"
    }
}

const RECORD_HEAD: &str = "{\"prefix\":\"";
const RECORD_KEY: &str = "\",\"key\":\"";
const RECORD_VALUE: &str = "\",\"value\":\"";
const RECORD_TAIL: &str = "\"}\n";

fn b64_len(n: usize) -> usize {
    n.div_ceil(3) * 4
}

/// Length of one `_incomplete_uploads/records.jsonl` line.
pub(crate) fn upload_record_len(data: &[u8], offset: u64) -> usize {
    let Some(e) = entry_at(data, offset) else { return 0 };
    RECORD_HEAD.len()
        + upload_prefix(e.user_key).len()
        + RECORD_KEY.len()
        + b64_len(e.user_key.len())
        + RECORD_VALUE.len()
        + b64_len(e.body.len())
        + RECORD_TAIL.len()
}

/// One `records.jsonl` line: the record's full user key and value in
/// standard base64 (B6.3).
pub(crate) fn upload_record(data: &[u8], offset: u64, out: &mut Vec<u8>) {
    let Some(e) = entry_at(data, offset) else { return };
    let b64 = base64::engine::general_purpose::STANDARD;
    out.extend_from_slice(RECORD_HEAD.as_bytes());
    out.extend_from_slice(upload_prefix(e.user_key).as_bytes());
    out.extend_from_slice(RECORD_KEY.as_bytes());
    out.extend_from_slice(b64.encode(e.user_key).as_bytes());
    out.extend_from_slice(RECORD_VALUE.as_bytes());
    out.extend_from_slice(b64.encode(e.body).as_bytes());
    out.extend_from_slice(RECORD_TAIL.as_bytes());
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spec_b8_outputs() {
        let mut key = b"!s3|bucket|meta|".to_vec();
        crate::codec::ordered::push_segment(&mut key, b"photos");
        let mut out = Vec::new();
        bucket_json(
            &key,
            br#"{"bucket_name":"photos","generation":2,"created_at_hlc":112354918400000000,"owner":"alice","region":"us-east-1","acl":"private"}"#,
            &mut out,
        )
        .unwrap();
        assert_eq!(
            String::from_utf8(out).unwrap(),
            "{\n  \"format_version\": 1,\n  \"name\": \"photos\",\n  \"owner\": \"alice\",\n  \"region\": \"us-east-1\",\n  \"acl\": \"private\"\n}"
        );
        let mut out = Vec::new();
        sidecar_json(
            br#"{"upload_id":"u1","etag":"5eb63bbbe01eeed093cb22bb8f5acdc3","size_bytes":11,"last_modified_hlc":112354918408060935,"content_type":"text/plain","user_metadata":{"camera":"fx30"},"parts":[{"part_no":1,"etag":"5eb63bbbe01eeed093cb22bb8f5acdc3","size_bytes":11,"chunk_count":2,"chunk_sizes":[6,5]}]}"#,
            &mut out,
        )
        .unwrap();
        assert_eq!(
            String::from_utf8(out).unwrap(),
            "{\n  \"format_version\": 1,\n  \"etag\": \"5eb63bbbe01eeed093cb22bb8f5acdc3\",\n  \"size_bytes\": 11,\n  \"last_modified\": \"2024-04-29T14:13:20.123Z\",\n  \"content_type\": \"text/plain\",\n  \"user_metadata\": {\n    \"camera\": \"fx30\"\n  }\n}"
        );
        let mut out = Vec::new();
        keymap_line(&mut out, b"2026.elastickv-leaf-data", "MjAyNg", "s3-leaf-data");
        assert_eq!(
            String::from_utf8(out).unwrap(),
            "{\"encoded\":\"2026.elastickv-leaf-data\",\"original\":\"MjAyNg\",\"kind\":\"s3-leaf-data\"}\n"
        );
    }
}
