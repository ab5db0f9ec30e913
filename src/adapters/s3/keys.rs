//! The S3 key grammar (`dynamodb-s3.md` B1–B2): `seg(x)` escapes `00` as
//! `00 FF` and ends with `00 01`; integers are 8-byte big-endian.

/// Reads one segment starting at `at`: the raw bytes' encoded extent
/// (without the terminator) and the offset after the terminator.
pub(crate) fn segment_at(key: &[u8], at: usize) -> Option<(usize, usize)> {
    let mut i = at;
    while i < key.len() {
        if key[i] == 0 {
            match key.get(i + 1)? {
                0xFF => i += 2,
                0x01 => return Some((i, i + 2)),
                _ => return None,
            }
        } else {
            i += 1;
        }
    }
    None
}

/// Undoes the `00 FF` escaping of an encoded segment body.
pub(crate) fn unescape(encoded: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(encoded.len());
    let mut i = 0;
    while i < encoded.len() {
        out.push(encoded[i]);
        i += if encoded[i] == 0 { 2 } else { 1 };
    }
    out
}

/// Compares an encoded segment body with raw bytes without allocating.
pub(crate) fn unescaped_eq(encoded: &[u8], raw: &[u8]) -> bool {
    let (mut i, mut j) = (0, 0);
    while i < encoded.len() {
        if j >= raw.len() || encoded[i] != raw[j] {
            return false;
        }
        i += if encoded[i] == 0 { 2 } else { 1 };
        j += 1;
    }
    j == raw.len()
}

fn u64_at(key: &[u8], at: usize) -> Option<(u64, usize)> {
    let b = key.get(at..at + 8)?;
    Some((u64::from_be_bytes(b.try_into().ok()?), at + 8))
}

/// Positions inside an object-scoped key, all relative to the key after
/// its family prefix.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct ObjectKey {
    /// Encoded bucket body.
    pub(crate) bucket: (usize, usize),
    pub generation: u64,
    /// Encoded object body.
    pub(crate) object: (usize, usize),
    /// End of `seg(bucket) ‖ gen ‖ seg(object)`: the object's identity.
    pub(crate) ident_end: usize,
}

fn object_head(rest: &[u8]) -> Option<ObjectKey> {
    let (b_end, next) = segment_at(rest, 0)?;
    let (generation, next) = u64_at(rest, next)?;
    let (o_end, ident_end) = segment_at(rest, next)?;
    Some(ObjectKey { bucket: (0, b_end), generation, object: (next, o_end), ident_end })
}

/// `seg(bucket)` with nothing after it: the encoded bucket body's end.
pub(crate) fn parse_bucket_meta(rest: &[u8]) -> Option<usize> {
    let (end, next) = segment_at(rest, 0)?;
    (next == rest.len()).then_some(end)
}

/// `seg(bucket) ‖ u64(gen) ‖ seg(object)`, nothing after.
pub(crate) fn parse_manifest(rest: &[u8]) -> Option<ObjectKey> {
    object_head(rest).filter(|k| k.ident_end == rest.len())
}

/// A blob or chunkref key.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct ChunkKey {
    pub(crate) object: ObjectKey,
    /// Encoded upload-id body.
    pub(crate) upload: (usize, usize),
    pub part_no: u64,
    pub(crate) chunk_no: u64,
    pub part_version: u64,
}

/// `… ‖ seg(uploadID) ‖ u64(partNo) ‖ u64(chunkNo) [‖ u64(partVersion)]`.
pub(crate) fn parse_chunk(rest: &[u8]) -> Option<ChunkKey> {
    let object = object_head(rest)?;
    let (u_end, next) = segment_at(rest, object.ident_end)?;
    let (part_no, next) = u64_at(rest, next)?;
    let (chunk_no, next) = u64_at(rest, next)?;
    let part_version = match rest.len() - next {
        0 => 0,
        8 => u64_at(rest, next)?.0,
        _ => return None,
    };
    Some(ChunkKey { object, upload: (object.ident_end, u_end), part_no, chunk_no, part_version })
}

/// `… ‖ seg(uploadID) ‖ u64(partNo)`, nothing after.
pub(crate) fn parse_upload_part(rest: &[u8]) -> Option<ObjectKey> {
    let object = object_head(rest)?;
    let (_, next) = segment_at(rest, object.ident_end)?;
    let (_, next) = u64_at(rest, next)?;
    (next == rest.len()).then_some(object)
}

/// The bucket of an upload-meta key the way upstream routes it: the raw
/// bytes before the first `00 01`, escapes left as they are.
pub(crate) fn upload_meta_bucket(rest: &[u8]) -> Option<&[u8]> {
    rest.windows(2).position(|w| w == [0, 1]).map(|i| &rest[..i])
}

/// A 64-hex-digit SHA-256 (either case).
pub(crate) fn parse_chunkblob(rest: &[u8]) -> Option<[u8; 32]> {
    if rest.len() != 64 {
        return None;
    }
    let mut out = [0u8; 32];
    for (i, pair) in rest.chunks_exact(2).enumerate() {
        let hex = |c: u8| (c as char).to_digit(16);
        out[i] = (hex(pair[0])? * 16 + hex(pair[1])?) as u8;
    }
    Some(out)
}

/// A decoded `!s3|chunkref|` value (B3.5); peers are not needed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct ChunkRef {
    pub(crate) sha256: [u8; 32],
    pub size: u64,
}

pub(crate) fn parse_chunkref_value(v: &[u8]) -> Option<ChunkRef> {
    let version = *v.first()?;
    let sha256: [u8; 32] = v.get(1..33)?.try_into().ok()?;
    let size = u64::from_be_bytes(v.get(33..41)?.try_into().ok()?);
    let mut at = 41;
    let field = |at: &mut usize| -> Option<()> {
        let n = u16::from_be_bytes(v.get(*at..*at + 2)?.try_into().ok()?) as usize;
        v.get(*at + 2..*at + 2 + n)?;
        *at += 2 + n;
        Some(())
    };
    field(&mut at)?; // source peer
    match version {
        1 => {}
        2 => {
            let count = u16::from_be_bytes(v.get(at..at + 2)?.try_into().ok()?);
            at += 2;
            for _ in 0..count {
                field(&mut at)?; // node id
                field(&mut at)?; // address
            }
        }
        _ => return None,
    }
    (at == v.len()).then_some(ChunkRef { sha256, size })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::codec::ordered::push_segment;

    fn hex(s: &str) -> Vec<u8> {
        s.split_whitespace().map(|b| u8::from_str_radix(b, 16).unwrap()).collect()
    }

    #[test]
    fn spec_blob_key_parses() {
        // Row 4 of dynamodb-s3.md B8, after the 9-byte "!s3|blob|" prefix.
        let key =
            hex("21 73 33 7c 62 6c 6f 62 7c 70 68 6f 74 6f 73 00 01 00 00 00 00 00 00 00 02 32 30 32 36
             2f 61 2e 74 78 74 00 01 75 31 00 01 00 00 00 00 00 00 00 01 00 00 00 00 00 00 00 00");
        assert_eq!(key.len(), 57);
        let rest = &key[9..];
        let k = parse_chunk(rest).unwrap();
        assert_eq!(&rest[k.object.bucket.0..k.object.bucket.1], b"photos");
        assert_eq!(k.object.generation, 2);
        assert_eq!(&rest[k.object.object.0..k.object.object.1], b"2026/a.txt");
        assert_eq!(&rest[k.upload.0..k.upload.1], b"u1");
        assert_eq!((k.part_no, k.chunk_no, k.part_version), (1, 0, 0));
        let mut v = rest.to_vec();
        v.extend_from_slice(&0x018f2a33f8000005u64.to_be_bytes());
        assert_eq!(parse_chunk(&v).unwrap().part_version, 0x018f2a33f8000005);
        v.push(0);
        assert!(parse_chunk(&v).is_none());
        assert!(parse_manifest(rest).is_none());
    }

    #[test]
    fn segments_escape_nul() {
        let mut out = Vec::new();
        push_segment(&mut out, b"a\0b");
        assert_eq!(out, hex("61 00 ff 62 00 01"));
        let (end, next) = segment_at(&out, 0).unwrap();
        assert_eq!((end, next), (4, 6));
        assert_eq!(unescape(&out[..end]), b"a\0b");
        assert!(unescaped_eq(&out[..end], b"a\0b"));
        assert!(!unescaped_eq(&out[..end], b"a\0"));
        assert!(segment_at(b"a\0\x02", 0).is_none());
        assert!(segment_at(b"abc", 0).is_none());
        assert!(segment_at(b"ab\0", 0).is_none());
    }

    #[test]
    fn chunkref_values() {
        let mut v = vec![1u8];
        v.extend_from_slice(&[7; 32]);
        v.extend_from_slice(&6u64.to_be_bytes());
        v.extend_from_slice(&0u16.to_be_bytes());
        assert_eq!(v.len(), 43);
        assert_eq!(parse_chunkref_value(&v), Some(ChunkRef { sha256: [7; 32], size: 6 }));
        let mut extra = v.clone();
        extra.push(0);
        assert!(parse_chunkref_value(&extra).is_none());
        let mut v2 = v.clone();
        v2[0] = 2;
        v2.extend_from_slice(&1u16.to_be_bytes());
        v2.extend_from_slice(&[0, 1, b'n', 0, 2, b'a', b'b']);
        assert!(parse_chunkref_value(&v2).is_some());
        v2[0] = 3;
        assert!(parse_chunkref_value(&v2).is_none());
        assert!(parse_chunkref_value(&v[..42]).is_none());
    }

    #[test]
    fn chunkblob_digest() {
        let d = "5e3235a8346e5a4585f8c58562f5052b8fe26a3bb122e1e96c76784964dfc461";
        assert_eq!(parse_chunkblob(d.as_bytes()).unwrap()[0], 0x5e);
        assert!(parse_chunkblob(d.to_uppercase().as_bytes()).is_some());
        assert!(parse_chunkblob(&d.as_bytes()[1..]).is_none());
        assert!(parse_chunkblob(&[b'g'; 64]).is_none());
    }
}
