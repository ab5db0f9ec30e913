//! Snapshot record builders for S3: given buckets and objects, the exact
//! user keys and value bodies elastickv writes (the live adapter's shapes
//! for fixtures, the upstream restore encoder's for `pack`). Keys carry no
//! MVCC suffix and values no MVCC header; records are returned unsorted.
//!
//! Byte-level contracts: `dynamodb-s3.md` B1–B3, B9 and `pack.md` §6.6, §9.

use std::fmt;

use sha2::{Digest, Sha256};

pub use crate::adapters::records::Record;
use crate::codec::ordered::push_segment;

// ===========================================================================
// S3
// ===========================================================================

const S3_BUCKET_META_PREFIX: &[u8] = b"!s3|bucket|meta|";
const S3_BUCKET_GEN_PREFIX: &[u8] = b"!s3|bucket|gen|";
const S3_MANIFEST_PREFIX: &[u8] = b"!s3|obj|head|";
const S3_UPLOAD_META_PREFIX: &[u8] = b"!s3|upload|meta|";
const S3_UPLOAD_PART_PREFIX: &[u8] = b"!s3|upload|part|";
const S3_BLOB_PREFIX: &[u8] = b"!s3|blob|";
const S3_CHUNKREF_PREFIX: &[u8] = b"!s3|chunkref|";
const S3_CHUNKBLOB_PREFIX: &[u8] = b"!s3|chunkblob|";
const S3_ROUTE_PREFIX: &[u8] = b"!s3route|";

/// What the upstream restore encoder stamps on everything it writes.
const S3_RESTORE_GENERATION: u64 = 1;
const S3_RESTORE_UPLOAD_ID: &[u8] = b"elastickv-restore";
const S3_RESTORE_PART_NO: u64 = 1;
/// Size of the blob chunks the restore encoder cuts bodies into.
pub(crate) const S3_RESTORE_CHUNK_SIZE: usize = 1 << 20;

const CHUNKREF_V1: u8 = 1;
const CHUNKREF_V2: u8 = 2;

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct BucketDef {
    pub name: Vec<u8>,
    pub generation: u64,
    pub created_at_hlc: u64,
    pub owner: String,
    pub region: String,
    pub acl: String,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ObjectDef {
    pub key: Vec<u8>,
    pub generation: u64,
    pub upload_id: Vec<u8>,
    pub etag: String,
    pub size_bytes: i64,
    pub last_modified_hlc: u64,
    pub content_type: String,
    pub content_encoding: String,
    pub cache_control: String,
    pub content_disposition: String,
    /// Any order; a repeated name keeps its last value.
    pub user_metadata: Vec<(String, String)>,
    pub parts: Vec<PartDef>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PartDef {
    pub part_no: u64,
    pub etag: String,
    pub size_bytes: i64,
    /// Version of blob keys (non-offloaded parts); 0 = 6-field keys.
    pub part_version: u64,
    /// Version of chunkref keys (offloaded parts); 0 = 6-field keys.
    pub chunk_ref_version: u64,
    pub offloaded: bool,
    /// Payloads in chunk order.
    pub chunks: Vec<Vec<u8>>,
}

/// The parts of an object sidecar the restore encoder copies into the
/// manifest; `last_modified_hlc` is already converted (`ms << 16`, 0 when
/// absent/unparsable/negative).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SidecarDef {
    pub etag: String,
    pub size_bytes: i64,
    pub last_modified_hlc: u64,
    pub content_type: String,
    pub content_encoding: String,
    pub cache_control: String,
    pub content_disposition: String,
    /// `None` → `null`; `Some(empty)` → `{}`.
    pub user_metadata: Option<Vec<(String, String)>>,
}

fn object_key_head(prefix: &[u8], bucket: &[u8], generation: u64, object: &[u8]) -> Vec<u8> {
    let mut key = Vec::with_capacity(prefix.len() + bucket.len() + object.len() + 12);
    key.extend_from_slice(prefix);
    push_segment(&mut key, bucket);
    key.extend_from_slice(&generation.to_be_bytes());
    push_segment(&mut key, object);
    key
}

/// `!s3|bucket|meta|seg(name)`.
pub fn s3_bucket_meta_key(name: &[u8]) -> Vec<u8> {
    let mut key = S3_BUCKET_META_PREFIX.to_vec();
    push_segment(&mut key, name);
    key
}

/// `!s3|bucket|gen|seg(name)`.
pub fn s3_bucket_gen_key(name: &[u8]) -> Vec<u8> {
    let mut key = S3_BUCKET_GEN_PREFIX.to_vec();
    push_segment(&mut key, name);
    key
}

/// `!s3|obj|head|seg(bucket) u64(gen) seg(object)`.
pub fn s3_manifest_key(bucket: &[u8], generation: u64, object: &[u8]) -> Vec<u8> {
    object_key_head(S3_MANIFEST_PREFIX, bucket, generation, object)
}

/// `!s3route|seg(bucket) u64(gen) seg(object)` (never emitted by `pack`;
/// for fixtures).
pub fn s3_route_key(bucket: &[u8], generation: u64, object: &[u8]) -> Vec<u8> {
    object_key_head(S3_ROUTE_PREFIX, bucket, generation, object)
}

/// `!s3|upload|meta|… seg(upload)`.
pub fn s3_upload_meta_key(bucket: &[u8], generation: u64, object: &[u8], upload: &[u8]) -> Vec<u8> {
    let mut key = object_key_head(S3_UPLOAD_META_PREFIX, bucket, generation, object);
    push_segment(&mut key, upload);
    key
}

/// `!s3|upload|part|… seg(upload) u64(partNo)`.
pub fn s3_upload_part_key(
    bucket: &[u8],
    generation: u64,
    object: &[u8],
    upload: &[u8],
    part_no: u64,
) -> Vec<u8> {
    let mut key = object_key_head(S3_UPLOAD_PART_PREFIX, bucket, generation, object);
    push_segment(&mut key, upload);
    key.extend_from_slice(&part_no.to_be_bytes());
    key
}

/// Appends `seg(upload) u64(partNo) u64(chunkNo) [u64(partVersion)]`.
fn push_chunk_tail(
    mut key: Vec<u8>,
    upload: &[u8],
    part_no: u64,
    chunk_no: u64,
    part_version: Option<u64>,
) -> Vec<u8> {
    push_segment(&mut key, upload);
    key.extend_from_slice(&part_no.to_be_bytes());
    key.extend_from_slice(&chunk_no.to_be_bytes());
    if let Some(v) = part_version {
        key.extend_from_slice(&v.to_be_bytes());
    }
    key
}

/// `!s3|blob|… seg(upload) u64(partNo) u64(chunkNo) [u64(partVersion)]`.
/// `None` gives the 6-field form; `Some(v)` always appends `v` (even 0,
/// which upstream never writes), so tests can build either.
pub fn s3_blob_key(
    bucket: &[u8],
    generation: u64,
    object: &[u8],
    upload: &[u8],
    part_no: u64,
    chunk_no: u64,
    part_version: Option<u64>,
) -> Vec<u8> {
    let head = object_key_head(S3_BLOB_PREFIX, bucket, generation, object);
    push_chunk_tail(head, upload, part_no, chunk_no, part_version)
}

/// `!s3|chunkref|…`, same layout and `part_version` rule as
/// [`s3_blob_key`].
pub fn s3_chunkref_key(
    bucket: &[u8],
    generation: u64,
    object: &[u8],
    upload: &[u8],
    part_no: u64,
    chunk_no: u64,
    part_version: Option<u64>,
) -> Vec<u8> {
    let head = object_key_head(S3_CHUNKREF_PREFIX, bucket, generation, object);
    push_chunk_tail(head, upload, part_no, chunk_no, part_version)
}

/// `!s3|chunkblob|<64 lower-case hex digits>`.
pub fn s3_chunkblob_key(sha: &[u8; 32]) -> Vec<u8> {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let mut key = S3_CHUNKBLOB_PREFIX.to_vec();
    for b in sha {
        key.push(HEX[usize::from(b >> 4)]);
        key.push(HEX[usize::from(b & 0x0f)]);
    }
    key
}

/// A `!s3|chunkref|` value (B3.5): v1, or v2 when `replicas` (node id,
/// address) is non-empty — the writers' rule. `None` when a length does not
/// fit the format's u16 fields (upstream refuses those too).
pub fn s3_chunkref_value(
    sha: &[u8; 32],
    size: u64,
    source_peer: &[u8],
    replicas: &[(&[u8], &[u8])],
) -> Option<Vec<u8>> {
    fn push_field(out: &mut Vec<u8>, field: &[u8]) -> Option<()> {
        out.extend_from_slice(&u16::try_from(field.len()).ok()?.to_be_bytes());
        out.extend_from_slice(field);
        Some(())
    }
    let mut out = Vec::with_capacity(43 + source_peer.len());
    out.push(if replicas.is_empty() { CHUNKREF_V1 } else { CHUNKREF_V2 });
    out.extend_from_slice(sha);
    out.extend_from_slice(&size.to_be_bytes());
    push_field(&mut out, source_peer)?;
    if !replicas.is_empty() {
        out.extend_from_slice(&u16::try_from(replicas.len()).ok()?.to_be_bytes());
        for (node, addr) in replicas {
            push_field(&mut out, node)?;
            push_field(&mut out, addr)?;
        }
    }
    Some(out)
}

/// The v1 chunkref the offload path writes when no replica acked: empty
/// source peer, 43 bytes.
fn chunkref_v1(sha: &[u8; 32], size: u64) -> Vec<u8> {
    let mut out = Vec::with_capacity(43);
    out.push(CHUNKREF_V1);
    out.extend_from_slice(sha);
    out.extend_from_slice(&size.to_be_bytes());
    out.extend_from_slice(&[0, 0]);
    out
}

// --- Go `encoding/json` (json.Marshal: compact, HTML escaping on) ---------

/// A JSON string exactly as Go's `json.Marshal` writes it. Invalid UTF-8 is
/// replaced byte by byte with `\ufffd`, as Go's decoder loop does.
fn json_string(out: &mut Vec<u8>, s: &[u8]) {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    out.push(b'"');
    let mut rest = s;
    while !rest.is_empty() {
        let (valid, bad) = match std::str::from_utf8(rest) {
            Ok(v) => (v, false),
            Err(e) => (
                std::str::from_utf8(rest.get(..e.valid_up_to()).unwrap_or_default()).unwrap_or_default(),
                true,
            ),
        };
        for c in valid.chars() {
            match c {
                '"' => out.extend_from_slice(b"\\\""),
                '\\' => out.extend_from_slice(b"\\\\"),
                '\n' => out.extend_from_slice(b"\\n"),
                '\r' => out.extend_from_slice(b"\\r"),
                '\t' => out.extend_from_slice(b"\\t"),
                '\u{8}' => out.extend_from_slice(b"\\b"),
                '\u{c}' => out.extend_from_slice(b"\\f"),
                '\u{2028}' => out.extend_from_slice(b"\\u2028"),
                '\u{2029}' => out.extend_from_slice(b"\\u2029"),
                // Control characters plus Go's HTML-unsafe trio.
                '\0'..='\u{1f}' | '<' | '>' | '&' => {
                    let b = c as u8;
                    out.extend_from_slice(b"\\u00");
                    out.push(HEX[usize::from(b >> 4)]);
                    out.push(HEX[usize::from(b & 0x0f)]);
                }
                _ => {
                    let mut buf = [0u8; 4];
                    out.extend_from_slice(c.encode_utf8(&mut buf).as_bytes());
                }
            }
        }
        rest = rest.get(valid.len()..).unwrap_or_default();
        if bad {
            out.extend_from_slice(b"\\ufffd");
            rest = rest.get(1..).unwrap_or_default();
        }
    }
    out.push(b'"');
}

/// A `map[string]string`: keys in byte order, last duplicate wins.
fn json_string_map(out: &mut Vec<u8>, entries: &[(String, String)]) {
    out.push(b'{');
    for (i, (k, v)) in crate::adapters::records::last_wins(entries).into_iter().enumerate() {
        if i > 0 {
            out.push(b',');
        }
        json_string(out, k.as_bytes());
        out.push(b':');
        json_string(out, v.as_bytes());
    }
    out.push(b'}');
}

fn json_u64_array(out: &mut Vec<u8>, values: impl Iterator<Item = u64>) {
    out.push(b'[');
    for (i, v) in values.enumerate() {
        if i > 0 {
            out.push(b',');
        }
        out.extend_from_slice(v.to_string().as_bytes());
    }
    out.push(b']');
}

/// Writes one JSON object's members in call order (= Go struct field
/// order); omitempty is decided by the caller.
struct JsonObject<'a> {
    out: &'a mut Vec<u8>,
    empty: bool,
}

impl<'a> JsonObject<'a> {
    fn open(out: &'a mut Vec<u8>) -> Self {
        out.push(b'{');
        JsonObject { out, empty: true }
    }

    /// Starts a member and returns the buffer for its value.
    fn key(&mut self, name: &str) -> &mut Vec<u8> {
        if !self.empty {
            self.out.push(b',');
        }
        self.empty = false;
        json_string(self.out, name.as_bytes());
        self.out.push(b':');
        self.out
    }

    fn string(&mut self, name: &str, v: &[u8]) {
        json_string(self.key(name), v);
    }

    fn number(&mut self, name: &str, v: impl fmt::Display) {
        let text = v.to_string();
        self.key(name).extend_from_slice(text.as_bytes());
    }

    fn boolean(&mut self, name: &str, v: bool) {
        self.key(name).extend_from_slice(if v { b"true" } else { b"false" });
    }

    fn close(self) {
        self.out.push(b'}');
    }
}

/// Bucket meta with every field present (`bucket_name`, `generation`,
/// `created_at_hlc`, `owner`, `region`, `acl`), as the restore encoder's
/// struct marshals it.
fn bucket_meta_json(
    name: &[u8],
    generation: u64,
    created_at_hlc: u64,
    owner: &str,
    region: &str,
    acl: &str,
) -> Vec<u8> {
    let mut out = Vec::new();
    let mut o = JsonObject::open(&mut out);
    o.string("bucket_name", name);
    o.number("generation", generation);
    o.number("created_at_hlc", created_at_hlc);
    o.string("owner", owner.as_bytes());
    o.string("region", region.as_bytes());
    o.string("acl", acl.as_bytes());
    o.close();
    out
}

/// Bucket meta (every field present, restore-encoder field order) and the
/// generation counter (`u64` big-endian).
pub fn s3_bucket_records(b: &BucketDef) -> Vec<Record> {
    vec![
        Record::new(
            s3_bucket_meta_key(&b.name),
            bucket_meta_json(&b.name, b.generation, b.created_at_hlc, &b.owner, &b.region, &b.acl),
        ),
        Record::new(s3_bucket_gen_key(&b.name), b.generation.to_be_bytes().to_vec()),
    ]
}

/// B9: the restore encoder's bucket rows — generation 1, `created_at_hlc`
/// 0, empty strings kept.
pub fn s3_restore_bucket_records(name: &[u8], owner: &str, region: &str, acl: &str) -> Vec<Record> {
    s3_bucket_records(&BucketDef {
        name: name.to_vec(),
        generation: S3_RESTORE_GENERATION,
        created_at_hlc: 0,
        owner: owner.to_owned(),
        region: region.to_owned(),
        acl: acl.to_owned(),
    })
}

/// A manifest part in the live adapter's omitempty shape.
fn live_part_json(out: &mut Vec<u8>, p: &PartDef) {
    let mut o = JsonObject::open(out);
    o.number("part_no", p.part_no);
    o.string("etag", p.etag.as_bytes());
    o.number("size_bytes", p.size_bytes);
    o.number("chunk_count", p.chunks.len());
    if !p.chunks.is_empty() {
        json_u64_array(o.key("chunk_sizes"), p.chunks.iter().map(|c| c.len() as u64));
    }
    if p.part_version != 0 {
        o.number("part_version", p.part_version);
    }
    if p.chunk_ref_version != 0 {
        o.number("chunk_ref_version", p.chunk_ref_version);
    }
    if p.offloaded {
        o.boolean("offloaded", true);
    }
    o.close();
}

/// The manifest JSON the live adapter writes (B3.2: `content_*`,
/// `user_metadata`, `parts` omitted when empty).
fn live_manifest_json(o: &ObjectDef) -> Vec<u8> {
    let mut out = Vec::new();
    let mut j = JsonObject::open(&mut out);
    j.string("upload_id", &o.upload_id);
    j.string("etag", o.etag.as_bytes());
    j.number("size_bytes", o.size_bytes);
    j.number("last_modified_hlc", o.last_modified_hlc);
    for (name, v) in [
        ("content_type", &o.content_type),
        ("content_encoding", &o.content_encoding),
        ("cache_control", &o.cache_control),
        ("content_disposition", &o.content_disposition),
    ] {
        if !v.is_empty() {
            j.string(name, v.as_bytes());
        }
    }
    if !o.user_metadata.is_empty() {
        json_string_map(j.key("user_metadata"), &o.user_metadata);
    }
    if !o.parts.is_empty() {
        let buf = j.key("parts");
        buf.push(b'[');
        for (i, p) in o.parts.iter().enumerate() {
            if i > 0 {
                buf.push(b',');
            }
            live_part_json(buf, p);
        }
        buf.push(b']');
    }
    j.close();
    out
}

/// The rows the live adapter leaves for one object: the manifest first,
/// then per part either blob rows (non-offloaded; versioned by
/// `part_version`) or chunkref rows (offloaded; versioned by
/// `chunk_ref_version`, v1 value with empty source peer), then one
/// `!s3|chunkblob|` row per distinct offloaded payload. Payloads shared
/// with other objects give identical chunkblob rows the caller must merge.
pub fn s3_object_records(bucket: &[u8], o: &ObjectDef) -> Vec<Record> {
    let mut rows = vec![Record::new(s3_manifest_key(bucket, o.generation, &o.key), live_manifest_json(o))];
    let mut blobs: Vec<Record> = Vec::new();
    let version = |v: u64| (v != 0).then_some(v);
    for p in &o.parts {
        for (chunk_no, payload) in (0u64..).zip(&p.chunks) {
            if !p.offloaded {
                let key = s3_blob_key(
                    bucket,
                    o.generation,
                    &o.key,
                    &o.upload_id,
                    p.part_no,
                    chunk_no,
                    version(p.part_version),
                );
                rows.push(Record::new(key, payload.clone()));
                continue;
            }
            let sha: [u8; 32] = Sha256::digest(payload).into();
            let key = s3_chunkref_key(
                bucket,
                o.generation,
                &o.key,
                &o.upload_id,
                p.part_no,
                chunk_no,
                version(p.chunk_ref_version),
            );
            rows.push(Record::new(key, chunkref_v1(&sha, payload.len() as u64)));
            let blob_key = s3_chunkblob_key(&sha);
            if !blobs.iter().any(|r| r.key == blob_key) {
                blobs.push(Record::new(blob_key, payload.clone()));
            }
        }
    }
    rows.extend(blobs);
    rows
}

/// The restore encoder's manifest: every field present, `user_metadata`
/// `null` when absent, `parts` `null` for an empty body.
fn restore_manifest_json(sidecar: &SidecarDef, chunk_sizes: &[u64]) -> Vec<u8> {
    let mut out = Vec::new();
    let mut j = JsonObject::open(&mut out);
    j.string("upload_id", S3_RESTORE_UPLOAD_ID);
    j.string("etag", sidecar.etag.as_bytes());
    j.number("size_bytes", sidecar.size_bytes);
    j.number("last_modified_hlc", sidecar.last_modified_hlc);
    j.string("content_type", sidecar.content_type.as_bytes());
    j.string("content_encoding", sidecar.content_encoding.as_bytes());
    j.string("cache_control", sidecar.cache_control.as_bytes());
    j.string("content_disposition", sidecar.content_disposition.as_bytes());
    match &sidecar.user_metadata {
        Some(m) => json_string_map(j.key("user_metadata"), m),
        None => j.key("user_metadata").extend_from_slice(b"null"),
    }
    if chunk_sizes.is_empty() {
        j.key("parts").extend_from_slice(b"null");
    } else {
        let buf = j.key("parts");
        buf.push(b'[');
        let mut p = JsonObject::open(buf);
        p.number("part_no", S3_RESTORE_PART_NO);
        // The single synthesized part repeats the object's etag and size.
        p.string("etag", sidecar.etag.as_bytes());
        p.number("size_bytes", sidecar.size_bytes);
        p.number("chunk_count", chunk_sizes.len());
        json_u64_array(p.key("chunk_sizes"), chunk_sizes.iter().copied());
        p.number("part_version", 0);
        p.number("chunk_ref_version", 0);
        p.boolean("offloaded", false);
        p.close();
        buf.push(b']');
    }
    j.close();
    out
}

/// The chunk sizes the restore encoder cuts a body of `size` bytes into:
/// full 1 MiB chunks, then the remainder; none for an empty body.
pub(crate) fn s3_restore_chunk_sizes(size: u64) -> Vec<u64> {
    let chunk = S3_RESTORE_CHUNK_SIZE as u64;
    let mut sizes = vec![chunk; (size / chunk) as usize];
    if size % chunk != 0 {
        sizes.push(size % chunk);
    }
    sizes
}

/// Key of restore blob chunk `chunk_no`: generation 1, upload
/// `elastickv-restore`, part 1, 6-field form.
pub(crate) fn s3_restore_blob_key(bucket: &[u8], key: &[u8], chunk_no: u64) -> Vec<u8> {
    s3_blob_key(bucket, S3_RESTORE_GENERATION, key, S3_RESTORE_UPLOAD_ID, S3_RESTORE_PART_NO, chunk_no, None)
}

/// The restore encoder's manifest row for an object whose body was cut
/// into `chunk_sizes`.
pub(crate) fn s3_restore_manifest_record(
    bucket: &[u8],
    key: &[u8],
    sidecar: &SidecarDef,
    chunk_sizes: &[u64],
) -> Record {
    Record::new(
        s3_manifest_key(bucket, S3_RESTORE_GENERATION, key),
        restore_manifest_json(sidecar, chunk_sizes),
    )
}

/// B9: what the restore encoder emits for one dump object — the body cut
/// into 1 MiB blob rows (generation 1, upload `elastickv-restore`, part 1,
/// 6-field keys; none for an empty body), then the manifest. `size_bytes`
/// is copied from the sidecar; upstream refuses a body whose length differs
/// before getting here, so the caller must check it. (`pack` streams bodies
/// instead, through the three functions above.)
pub fn s3_restore_object_records(
    bucket: &[u8],
    key: &[u8],
    body: &[u8],
    sidecar: &SidecarDef,
) -> Vec<Record> {
    let sizes = s3_restore_chunk_sizes(body.len() as u64);
    let mut rows: Vec<Record> = (0u64..)
        .zip(body.chunks(S3_RESTORE_CHUNK_SIZE))
        .map(|(chunk_no, chunk)| Record::new(s3_restore_blob_key(bucket, key, chunk_no), chunk.to_vec()))
        .collect();
    rows.push(s3_restore_manifest_record(bucket, key, sidecar, &sizes));
    rows
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hex(s: &str) -> Vec<u8> {
        let digits: String = s.split_whitespace().collect();
        (0..digits.len()).step_by(2).map(|i| u8::from_str_radix(&digits[i..i + 2], 16).unwrap()).collect()
    }

    fn json(r: &Record) -> &str {
        std::str::from_utf8(&r.value).unwrap()
    }

    // --- B8 -----------------------------------------------------------------

    const ETAG: &str = "5eb63bbbe01eeed093cb22bb8f5acdc3";

    #[test]
    fn b8_bucket_rows() {
        let rows = s3_bucket_records(&BucketDef {
            name: b"photos".to_vec(),
            generation: 2,
            created_at_hlc: 112354918400000000,
            owner: "alice".into(),
            region: "us-east-1".into(),
            acl: "private".into(),
        });
        assert_eq!(rows[0].key, b"!s3|bucket|meta|photos\x00\x01");
        assert_eq!(
            json(&rows[0]),
            r#"{"bucket_name":"photos","generation":2,"created_at_hlc":112354918400000000,"owner":"alice","region":"us-east-1","acl":"private"}"#
        );
        assert_eq!(
            rows[1],
            Record::new(b"!s3|bucket|gen|photos\x00\x01".to_vec(), hex("00 00 00 00 00 00 00 02"))
        );
    }

    fn a_txt(offloaded: bool) -> ObjectDef {
        ObjectDef {
            key: b"2026/a.txt".to_vec(),
            generation: 2,
            upload_id: b"u1".to_vec(),
            etag: ETAG.into(),
            size_bytes: 11,
            last_modified_hlc: 112354918408060935,
            content_type: "text/plain".into(),
            user_metadata: vec![("camera".into(), "fx30".into())],
            parts: vec![PartDef {
                part_no: 1,
                etag: ETAG.into(),
                size_bytes: 11,
                offloaded,
                chunks: vec![b"hello ".to_vec(), b"world".to_vec()],
                ..Default::default()
            }],
            ..Default::default()
        }
    }

    #[test]
    fn b8_object_rows() {
        let rows = s3_object_records(b"photos", &a_txt(false));
        assert_eq!(rows.len(), 3);
        assert_eq!(
            rows[0].key,
            b"!s3|obj|head|photos\x00\x01\x00\x00\x00\x00\x00\x00\x00\x022026/a.txt\x00\x01"
        );
        assert_eq!(
            json(&rows[0]),
            r#"{"upload_id":"u1","etag":"5eb63bbbe01eeed093cb22bb8f5acdc3","size_bytes":11,"last_modified_hlc":112354918408060935,"content_type":"text/plain","user_metadata":{"camera":"fx30"},"parts":[{"part_no":1,"etag":"5eb63bbbe01eeed093cb22bb8f5acdc3","size_bytes":11,"chunk_count":2,"chunk_sizes":[6,5]}]}"#
        );
        let row4 =
            hex("21 73 33 7c 62 6c 6f 62 7c 70 68 6f 74 6f 73 00 01 00 00 00 00 00 00 00 02 32 30 32 36
                        2f 61 2e 74 78 74 00 01 75 31 00 01 00 00 00 00 00 00 00 01 00 00 00 00 00 00 00 00");
        assert_eq!(row4.len(), 57);
        assert_eq!(rows[1], Record::new(row4.clone(), b"hello ".to_vec()));
        assert_eq!(rows[1].key, s3_blob_key(b"photos", 2, b"2026/a.txt", b"u1", 1, 0, None));
        let mut row5 = row4.clone();
        *row5.last_mut().unwrap() = 1;
        assert_eq!(rows[2], Record::new(row5, b"world".to_vec()));
        // Row 6: the stale u0 chunk.
        assert_eq!(
            s3_blob_key(b"photos", 2, b"2026/a.txt", b"u0", 1, 0, None),
            b"!s3|blob|photos\x00\x01\x00\x00\x00\x00\x00\x00\x00\x022026/a.txt\x00\x01u0\x00\x01\x00\x00\x00\x00\x00\x00\x00\x01\x00\x00\x00\x00\x00\x00\x00\x00"
        );
        // Row 8 and row 9 keys.
        assert_eq!(
            s3_manifest_key(b"photos", 1, b"old.txt"),
            b"!s3|obj|head|photos\x00\x01\x00\x00\x00\x00\x00\x00\x00\x01old.txt\x00\x01"
        );
        assert_eq!(
            s3_route_key(b"photos", 2, b"2026/a.txt"),
            b"!s3route|photos\x00\x01\x00\x00\x00\x00\x00\x00\x00\x022026/a.txt\x00\x01"
        );
    }

    #[test]
    fn b8_empty_object_manifest() {
        let rows = s3_object_records(
            b"photos",
            &ObjectDef {
                key: b"2026".to_vec(),
                generation: 2,
                upload_id: b"u2".to_vec(),
                etag: "d41d8cd98f00b204e9800998ecf8427e".into(),
                last_modified_hlc: 112354918400000000,
                content_type: "application/octet-stream".into(),
                ..Default::default()
            },
        );
        assert_eq!(rows.len(), 1);
        assert_eq!(rows[0].key, b"!s3|obj|head|photos\x00\x01\x00\x00\x00\x00\x00\x00\x00\x022026\x00\x01");
        assert_eq!(
            json(&rows[0]),
            r#"{"upload_id":"u2","etag":"d41d8cd98f00b204e9800998ecf8427e","size_bytes":0,"last_modified_hlc":112354918400000000,"content_type":"application/octet-stream"}"#
        );
    }

    #[test]
    fn b8_part_version_key() {
        let key = s3_blob_key(b"photos", 2, b"big.bin", b"mp9", 3, 0, Some(0x018f2a33f8000005));
        assert_eq!(key.len(), 63);
        let tail =
            hex("6d 70 39 00 01 00 00 00 00 00 00 00 03 00 00 00 00 00 00 00 00 01 8f 2a 33 f8 00 00 05");
        assert!(key.ends_with(&tail));
        // Explicit zero still appends (malformed-on-purpose fixtures).
        assert_eq!(s3_blob_key(b"b", 1, b"o", b"u", 1, 0, Some(0)).len(), 9 + 3 + 8 + 3 + 3 + 24);
    }

    #[test]
    fn b8_nul_in_bucket() {
        assert_eq!(
            s3_bucket_meta_key(b"a\x00b"),
            [&b"!s3|bucket|meta|"[..], &hex("61 00 ff 62 00 01")].concat()
        );
    }

    #[test]
    fn b8_offloaded_variant() {
        let rows = s3_object_records(b"photos", &a_txt(true));
        assert_eq!(rows.len(), 5);
        assert!(json(&rows[0]).ends_with(r#""chunk_count":2,"chunk_sizes":[6,5],"offloaded":true}]}"#));
        let sha = hex("5e3235a8346e5a4585f8c58562f5052b8fe26a3bb122e1e96c76784964dfc461");
        assert_eq!(rows[1].key, s3_chunkref_key(b"photos", 2, b"2026/a.txt", b"u1", 1, 0, None));
        assert!(rows[1].key.starts_with(b"!s3|chunkref|photos\x00\x01"));
        let want = [&[1u8][..], &sha, &hex("00 00 00 00 00 00 00 06 00 00")].concat();
        assert_eq!(want.len(), 43);
        assert_eq!(rows[1].value, want);
        assert_eq!(rows[2].key, s3_chunkref_key(b"photos", 2, b"2026/a.txt", b"u1", 1, 1, None));
        assert_eq!(
            rows[3],
            Record::new(
                b"!s3|chunkblob|5e3235a8346e5a4585f8c58562f5052b8fe26a3bb122e1e96c76784964dfc461".to_vec(),
                b"hello ".to_vec()
            )
        );
        assert_eq!(rows[4].value, b"world");
        let sha: [u8; 32] = sha.try_into().unwrap();
        assert_eq!(s3_chunkref_value(&sha, 6, b"", &[]).unwrap(), want);
    }

    #[test]
    fn versions_and_shared_payloads() {
        let o = ObjectDef {
            key: b"k".to_vec(),
            generation: 7,
            upload_id: b"up".to_vec(),
            parts: vec![
                PartDef {
                    part_no: 2,
                    part_version: 9,
                    chunk_ref_version: 4,
                    chunks: vec![b"x".to_vec()],
                    ..Default::default()
                },
                PartDef {
                    part_no: 3,
                    part_version: 9,
                    chunk_ref_version: 4,
                    offloaded: true,
                    chunks: vec![b"same".to_vec(), b"same".to_vec()],
                    ..Default::default()
                },
                PartDef { part_no: 4, ..Default::default() },
            ],
            ..Default::default()
        };
        let rows = s3_object_records(b"b", &o);
        assert_eq!(
            json(&rows[0]),
            r#"{"upload_id":"up","etag":"","size_bytes":0,"last_modified_hlc":0,"parts":[{"part_no":2,"etag":"","size_bytes":0,"chunk_count":1,"chunk_sizes":[1],"part_version":9,"chunk_ref_version":4},{"part_no":3,"etag":"","size_bytes":0,"chunk_count":2,"chunk_sizes":[4,4],"part_version":9,"chunk_ref_version":4,"offloaded":true},{"part_no":4,"etag":"","size_bytes":0,"chunk_count":0}]}"#
        );
        assert_eq!(rows.len(), 1 + 1 + 2 + 1, "one chunkblob for two identical payloads");
        assert_eq!(rows[1].key, s3_blob_key(b"b", 7, b"k", b"up", 2, 0, Some(9)));
        assert_eq!(rows[2].key, s3_chunkref_key(b"b", 7, b"k", b"up", 3, 0, Some(4)));
        assert_eq!(rows[3].key, s3_chunkref_key(b"b", 7, b"k", b"up", 3, 1, Some(4)));
        assert!(rows[4].key.starts_with(b"!s3|chunkblob|"));
    }

    #[test]
    fn chunkref_v2_and_limits() {
        let sha = [0xab; 32];
        let v = s3_chunkref_value(&sha, 1, b"p", &[(b"n", b"ad")]).unwrap();
        assert_eq!(v[0], 2);
        assert_eq!(&v[41..], &hex("00 01 70 00 01 00 01 6e 00 02 61 64")[..]);
        assert!(s3_chunkref_value(&sha, 1, &vec![0; 65536], &[]).is_none());
        assert_eq!(s3_chunkref_value(&sha, 1, &vec![0; 65535], &[]).unwrap().len(), 43 + 65535);
    }

    #[test]
    fn upload_keys() {
        assert_eq!(
            s3_upload_meta_key(b"b", 1, b"o", b"u"),
            b"!s3|upload|meta|b\x00\x01\x00\x00\x00\x00\x00\x00\x00\x01o\x00\x01u\x00\x01"
        );
        assert_eq!(
            s3_upload_part_key(b"b", 1, b"o", b"u", 2),
            b"!s3|upload|part|b\x00\x01\x00\x00\x00\x00\x00\x00\x00\x01o\x00\x01u\x00\x01\x00\x00\x00\x00\x00\x00\x00\x02"
        );
    }

    #[test]
    fn keys_parse_with_the_fsmfs_readers() {
        use crate::adapters::s3::keys as s3;
        let o = ObjectDef {
            key: b"a\x00/b".to_vec(),
            generation: 5,
            upload_id: b"u\x00".to_vec(),
            parts: vec![
                PartDef { part_no: 2, part_version: 11, chunks: vec![b"p".to_vec()], ..Default::default() },
                PartDef { part_no: 3, offloaded: true, chunks: vec![b"q".to_vec()], ..Default::default() },
            ],
            ..Default::default()
        };
        let rows = s3_object_records(b"bk\x00", &o);
        let m = s3::parse_manifest(&rows[0].key[S3_MANIFEST_PREFIX.len()..]).unwrap();
        assert_eq!(m.generation, 5);
        let blob = &rows[1].key[S3_BLOB_PREFIX.len()..];
        let c = s3::parse_chunk(blob).unwrap();
        assert_eq!(s3::unescape(&blob[c.upload.0..c.upload.1]), b"u\x00");
        assert_eq!((c.part_no, c.chunk_no, c.part_version), (2, 0, 11));
        let cref = &rows[2].key[S3_CHUNKREF_PREFIX.len()..];
        assert_eq!(s3::parse_chunk(cref).unwrap().part_version, 0);
        let r = s3::parse_chunkref_value(&rows[2].value).unwrap();
        assert_eq!(r.size, 1);
        assert_eq!(s3::parse_chunkblob(&rows[3].key[S3_CHUNKBLOB_PREFIX.len()..]), Some(r.sha256));
        let b = s3_bucket_records(&BucketDef { name: b"x\x00".to_vec(), ..Default::default() });
        assert!(s3::parse_bucket_meta(&b[0].key[S3_BUCKET_META_PREFIX.len()..]).is_some());
    }

    // --- B9 / pack.md §9 ----------------------------------------------------

    #[test]
    fn b9_bucket_rows() {
        let rows = s3_restore_bucket_records(b"photos", "alice", "", "private");
        assert_eq!(
            json(&rows[0]),
            r#"{"bucket_name":"photos","generation":1,"created_at_hlc":0,"owner":"alice","region":"","acl":"private"}"#
        );
        assert_eq!(rows[1].value, hex("00 00 00 00 00 00 00 01"));
        assert_eq!(rows[1].key, b"!s3|bucket|gen|photos\x00\x01");
    }

    #[test]
    fn b9_empty_object() {
        let side = SidecarDef { etag: "d41d8cd98f00b204e9800998ecf8427e".into(), ..Default::default() };
        let rows = s3_restore_object_records(b"photos", b"2026", b"", &side);
        assert_eq!(rows.len(), 1);
        assert_eq!(rows[0].key, s3_manifest_key(b"photos", 1, b"2026"));
        assert_eq!(
            json(&rows[0]),
            r#"{"upload_id":"elastickv-restore","etag":"d41d8cd98f00b204e9800998ecf8427e","size_bytes":0,"last_modified_hlc":0,"content_type":"","content_encoding":"","cache_control":"","content_disposition":"","user_metadata":null,"parts":null}"#
        );
        let side = SidecarDef { user_metadata: Some(vec![]), ..side };
        assert!(
            json(&s3_restore_object_records(b"p", b"k", b"", &side)[0]).contains(r#""user_metadata":{},"#)
        );
    }

    #[test]
    fn b9_object_with_body() {
        let side = SidecarDef {
            etag: ETAG.into(),
            size_bytes: 11,
            last_modified_hlc: 112354918408060928,
            content_type: "text/plain".into(),
            user_metadata: Some(vec![("z".into(), "1".into()), ("camera".into(), "fx30".into())]),
            ..Default::default()
        };
        let rows = s3_restore_object_records(b"bkt", b"a/b.txt", b"hello world", &side);
        assert_eq!(rows.len(), 2);
        let want_key = [
            &b"!s3|blob|"[..],
            &hex("62 6b 74 00 01  00 00 00 00 00 00 00 01  61 2f 62 2e 74 78 74 00 01
                  65 6c 61 73 74 69 63 6b 76 2d 72 65 73 74 6f 72 65 00 01
                  00 00 00 00 00 00 00 01  00 00 00 00 00 00 00 00"),
        ]
        .concat();
        assert_eq!(rows[0], Record::new(want_key, b"hello world".to_vec()));
        assert_eq!(rows[1].key, s3_manifest_key(b"bkt", 1, b"a/b.txt"));
        assert_eq!(
            json(&rows[1]),
            r#"{"upload_id":"elastickv-restore","etag":"5eb63bbbe01eeed093cb22bb8f5acdc3","size_bytes":11,"last_modified_hlc":112354918408060928,"content_type":"text/plain","content_encoding":"","cache_control":"","content_disposition":"","user_metadata":{"camera":"fx30","z":"1"},"parts":[{"part_no":1,"etag":"5eb63bbbe01eeed093cb22bb8f5acdc3","size_bytes":11,"chunk_count":1,"chunk_sizes":[11],"part_version":0,"chunk_ref_version":0,"offloaded":false}]}"#
        );
    }

    #[test]
    fn b9_one_mib_chunks() {
        let body = vec![7u8; 2 * (1 << 20) + 1];
        let side = SidecarDef { size_bytes: body.len() as i64, ..Default::default() };
        let rows = s3_restore_object_records(b"b", b"k", &body, &side);
        assert_eq!(rows.len(), 4);
        for (i, r) in rows[..3].iter().enumerate() {
            assert_eq!(r.key, s3_blob_key(b"b", 1, b"k", b"elastickv-restore", 1, i as u64, None));
        }
        assert_eq!(rows[0].value.len(), 1 << 20);
        assert_eq!(rows[2].value.len(), 1);
        assert!(json(&rows[3]).contains(r#""chunk_count":3,"chunk_sizes":[1048576,1048576,1],"#));
    }

    #[test]
    fn b9_chunk_sizes_at_the_boundaries() {
        let mib = 1u64 << 20;
        assert!(s3_restore_chunk_sizes(0).is_empty());
        assert_eq!(s3_restore_chunk_sizes(1), vec![1]);
        assert_eq!(s3_restore_chunk_sizes(mib), vec![mib]);
        assert_eq!(s3_restore_chunk_sizes(mib + 1), vec![mib, 1]);
        assert_eq!(s3_restore_chunk_sizes(3 * mib), vec![mib, mib, mib]);
    }

    // --- Go JSON string escaping -------------------------------------------

    #[test]
    fn go_json_strings() {
        let mut out = Vec::new();
        json_string(
            &mut out,
            b"a<b>&\"\\\n\r\t\x08\x0c\x01\x1f\x7f\xc3\xa9\xe2\x80\xa8\xe2\x80\xa9\xff\xe2\x82A\xed\xa0\x80",
        );
        assert_eq!(
            std::str::from_utf8(&out).unwrap(),
            "\"a\\u003cb\\u003e\\u0026\\\"\\\\\\n\\r\\t\\b\\f\\u0001\\u001f\x7f\u{e9}\\u2028\\u2029\\ufffd\\ufffd\\ufffdA\\ufffd\\ufffd\\ufffd\""
        );
        let mut out = Vec::new();
        json_string(&mut out, b"");
        assert_eq!(out, b"\"\"");
        let rows = s3_restore_bucket_records(b"x\xff<", "o&", "", "");
        assert!(json(&rows[0]).starts_with(
            r#"{"bucket_name":"x\ufffd\u003c","generation":1,"created_at_hlc":0,"owner":"o\u0026""#
        ));
    }

    #[test]
    fn metadata_map_sorted_bytewise_last_wins() {
        let mut out = Vec::new();
        json_string_map(
            &mut out,
            &[
                ("b".into(), "1".into()),
                ("B".into(), "2".into()),
                ("é".into(), "3".into()),
                ("b".into(), "4".into()),
            ],
        );
        assert_eq!(std::str::from_utf8(&out).unwrap(), r#"{"B":"2","b":"4","é":"3"}"#);
    }

    #[test]
    fn negative_sizes_and_extremes_do_not_panic() {
        let o = ObjectDef {
            size_bytes: i64::MIN,
            last_modified_hlc: u64::MAX,
            parts: vec![PartDef { part_no: u64::MAX, size_bytes: -1, ..Default::default() }],
            ..Default::default()
        };
        let rows = s3_object_records(b"", &o);
        assert!(json(&rows[0])
            .contains(r#""size_bytes":-9223372036854775808,"last_modified_hlc":18446744073709551615"#));
    }
}
