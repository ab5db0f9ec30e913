//! Object bodies as ordered lists of payload ranges in the mapping, read
//! by binary search over each piece's start offset.

use std::sync::atomic::{AtomicU8, Ordering};

use sha2::{Digest, Sha256};

/// One contiguous run of body bytes.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Piece {
    /// Offset of this piece within the object body.
    pub(crate) start: u64,
    /// Absolute offset of the bytes in the mapping.
    pub(crate) at: u64,
    /// Index into the digest table when the bytes come from a
    /// content-addressed chunkblob (checked before first use).
    pub(crate) digest: u32,
}

const NO_DIGEST: u32 = u32::MAX;

struct BodyObject {
    manifest: u64,
    first: u64,
    count: u32,
    size: u64,
}

/// chunkblob digests and whether the payload has been checked yet.
struct DigestSlot {
    sha256: [u8; 32],
    /// 0 = not checked, 1 = good, 2 = mismatch.
    state: AtomicU8,
}

#[derive(Default)]
pub(crate) struct BodyTable {
    objects: Vec<BodyObject>,
    pieces: Vec<Piece>,
    digests: Vec<DigestSlot>,
}

/// Why a body range could not be read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum BodyError {
    DigestMismatch { at: u64 },
}

pub(super) fn check_digest(payload: &[u8], expected: &[u8; 32]) -> Option<String> {
    let actual: [u8; 32] = Sha256::digest(payload).into();
    (actual != *expected).then(|| {
        let hex = |d: &[u8]| d.iter().map(|b| format!("{b:02x}")).collect::<String>();
        format!("key digest={} actual={}", hex(expected), hex(&actual))
    })
}

impl BodyTable {
    /// Adds a body made of `(at, len, digest)` pieces in order; returns
    /// (object index, size).
    pub(crate) fn add_object(
        &mut self,
        manifest: u64,
        pieces: impl Iterator<Item = (u64, u64, Option<[u8; 32]>)>,
    ) -> (u32, u64) {
        let first = self.pieces.len() as u64;
        let mut size = 0u64;
        for (at, len, digest) in pieces {
            if len == 0 {
                continue;
            }
            let digest = match digest {
                None => NO_DIGEST,
                Some(d) => {
                    self.digests.push(DigestSlot { sha256: d, state: AtomicU8::new(0) });
                    (self.digests.len() - 1) as u32
                }
            };
            self.pieces.push(Piece { start: size, at, digest });
            size += len;
        }
        let count = (self.pieces.len() as u64 - first) as u32;
        self.objects.push(BodyObject { manifest, first, count, size });
        ((self.objects.len() - 1) as u32, size)
    }

    pub(crate) fn manifest_offset(&self, obj: u32) -> u64 {
        self.objects[obj as usize].manifest
    }

    fn pieces(&self, obj: u32) -> &[Piece] {
        let o = &self.objects[obj as usize];
        &self.pieces[o.first as usize..o.first as usize + o.count as usize]
    }

    /// Copies up to `buf.len()` body bytes starting at `offset`; returns
    /// the number copied (0 at or past the end).
    pub(crate) fn read(
        &self,
        data: &[u8],
        obj: u32,
        offset: u64,
        buf: &mut [u8],
    ) -> Result<usize, BodyError> {
        let o = &self.objects[obj as usize];
        let pieces = self.pieces(obj);
        if offset >= o.size || buf.is_empty() {
            return Ok(0);
        }
        // The last piece starting at or before `offset`.
        let mut i = pieces.partition_point(|p| p.start <= offset) - 1;
        let mut pos = offset;
        let mut done = 0;
        while done < buf.len() && i < pieces.len() {
            let p = pieces[i];
            let end = pieces.get(i + 1).map_or(o.size, |n| n.start);
            let payload = &data[p.at as usize..(p.at + (end - p.start)) as usize];
            if p.digest != NO_DIGEST {
                self.verify(p.digest, payload).map_err(|_| BodyError::DigestMismatch { at: p.at })?;
            }
            let from = (pos - p.start) as usize;
            let n = (payload.len() - from).min(buf.len() - done);
            buf[done..done + n].copy_from_slice(&payload[from..from + n]);
            done += n;
            pos += n as u64;
            i += 1;
        }
        Ok(done)
    }

    fn verify(&self, slot: u32, payload: &[u8]) -> Result<(), ()> {
        let s = &self.digests[slot as usize];
        match s.state.load(Ordering::Acquire) {
            1 => Ok(()),
            2 => Err(()),
            _ => {
                let ok = check_digest(payload, &s.sha256).is_none();
                s.state.store(if ok { 1 } else { 2 }, Ordering::Release);
                if ok {
                    Ok(())
                } else {
                    Err(())
                }
            }
        }
    }

    pub(crate) fn heap_bytes(&self) -> usize {
        self.objects.capacity() * std::mem::size_of::<BodyObject>()
            + self.pieces.capacity() * std::mem::size_of::<Piece>()
            + self.digests.capacity() * std::mem::size_of::<DigestSlot>()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_across_pieces_at_any_offset() {
        let data = b"xxHELLO yyWORLDzz".to_vec();
        let mut t = BodyTable::default();
        let (obj, size) = t.add_object(0, [(2u64, 6u64, None), (10, 5, None), (0, 0, None)].into_iter());
        assert_eq!(size, 11);
        let mut whole = vec![0u8; 32];
        let n = t.read(&data, obj, 0, &mut whole).unwrap();
        assert_eq!(&whole[..n], b"HELLO WORLD");
        for off in 0..=11u64 {
            for len in 0..=12usize {
                let mut b = vec![0u8; len];
                let n = t.read(&data, obj, off, &mut b).unwrap();
                let want = &b"HELLO WORLD"[off as usize..(off as usize + len).min(11)];
                assert_eq!(&b[..n], want, "off {off} len {len}");
            }
        }
    }

    #[test]
    fn digest_mismatch_is_an_error_not_wrong_bytes() {
        let data = b"hello ".to_vec();
        let good: [u8; 32] = Sha256::digest(b"hello ").into();
        let mut t = BodyTable::default();
        let (a, _) = t.add_object(0, [(0u64, 6u64, Some(good))].into_iter());
        let (b, _) = t.add_object(0, [(0u64, 6u64, Some([0u8; 32]))].into_iter());
        let mut buf = [0u8; 6];
        assert_eq!(t.read(&data, a, 0, &mut buf), Ok(6));
        assert!(t.read(&data, b, 0, &mut buf).is_err());
        assert!(t.read(&data, b, 3, &mut buf).is_err());
    }
}
