//! The `EKVPBBL1` entry framing (`u64le keyLen ‖ key ‖ u64le valLen ‖ value`)
//! and the MVCC key/value encoding inside each entry.

use super::{ContainerError, MAX_KEY_LEN, MAX_VALUE_LEN, TS_SUFFIX_LEN, VALUE_HEADER_LEN};

/// One framed entry: where it starts and the byte ranges of key and value.
#[derive(Debug, Clone, Copy)]
pub(crate) struct RawEntry<'a> {
    /// Offset of the entry's `keyLen` field in the file.
    pub(crate) offset: u64,
    pub key: &'a [u8],
    pub value: &'a [u8],
}

/// How the framing walk stopped.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum StreamEnd {
    /// Input ended exactly at an entry boundary.
    Clean,
    /// Exactly four bytes were left at an entry boundary: a CRC footer, or a
    /// truncated length. The caller decides which.
    FourByteTail,
}

/// Walks the entry framing of a stream between `pos` and `end`, checking
/// every length prefix against the limits before using it.
pub(crate) struct RawEntries<'a> {
    data: &'a [u8],
    pos: usize,
    end: usize,
    outcome: Option<Result<StreamEnd, ContainerError>>,
}

impl<'a> RawEntries<'a> {
    pub(crate) fn new(data: &'a [u8], start: usize, end: usize) -> Self {
        RawEntries { data, pos: start, end: end.min(data.len()), outcome: None }
    }

    /// How the walk ended; `None` until the iterator returned `None`.
    pub(crate) fn outcome(&self) -> Option<&Result<StreamEnd, ContainerError>> {
        self.outcome.as_ref()
    }

    /// Offset of the next unread byte.
    pub(crate) fn position(&self) -> u64 {
        self.pos as u64
    }

    fn read_len(&self, at: usize) -> Option<u64> {
        let b = self.data.get(at..at.checked_add(8)?)?;
        Some(u64::from_le_bytes(b.try_into().ok()?))
    }

    fn fail(&mut self, err: ContainerError) -> Option<RawEntry<'a>> {
        self.outcome = Some(Err(err));
        None
    }

    fn step(&mut self) -> Option<RawEntry<'a>> {
        let remaining = self.end - self.pos;
        if remaining == 0 {
            self.outcome = Some(Ok(StreamEnd::Clean));
            return None;
        }
        let offset = self.pos as u64;
        if remaining < 8 {
            if remaining == 4 {
                self.outcome = Some(Ok(StreamEnd::FourByteTail));
                return None;
            }
            return self.fail(ContainerError::Truncated { offset, what: "partial key length" });
        }
        let key_len = self.read_len(self.pos).unwrap_or(u64::MAX);
        if key_len > MAX_KEY_LEN {
            return self.fail(ContainerError::KeyTooLarge { offset, len: key_len });
        }
        let key_start = self.pos + 8;
        let key_end = key_start + key_len as usize;
        if key_end > self.end {
            return self.fail(ContainerError::Truncated { offset, what: "key runs past end of file" });
        }
        if self.end - key_end < 8 {
            return self.fail(ContainerError::Truncated { offset, what: "missing value length" });
        }
        let val_len = self.read_len(key_end).unwrap_or(u64::MAX);
        let key = &self.data[key_start..key_end];
        if val_len > MAX_VALUE_LEN {
            return self.fail(ContainerError::ValueTooLarge { offset, len: val_len, key: key.to_vec() });
        }
        let val_start = key_end + 8;
        let val_end = val_start + val_len as usize;
        if val_end > self.end {
            return self.fail(ContainerError::Truncated { offset, what: "value runs past end of file" });
        }
        self.pos = val_end;
        Some(RawEntry { offset, key, value: &self.data[val_start..val_end] })
    }
}

impl<'a> Iterator for RawEntries<'a> {
    type Item = RawEntry<'a>;

    fn next(&mut self) -> Option<RawEntry<'a>> {
        if self.outcome.is_some() {
            return None;
        }
        self.step()
    }
}

/// Re-reads the framing of an entry the scan already validated. Returns
/// `None` instead of panicking if `offset` does not start a whole entry.
pub(crate) fn raw_entry_at(data: &[u8], offset: u64) -> Option<RawEntry<'_>> {
    let start = usize::try_from(offset).ok()?;
    let len_at = |at: usize| -> Option<usize> {
        let b = data.get(at..at.checked_add(8)?)?;
        usize::try_from(u64::from_le_bytes(b.try_into().ok()?)).ok()
    };
    let key_len = len_at(start)?;
    let key_start = start.checked_add(8)?;
    let key_end = key_start.checked_add(key_len)?;
    let val_len = len_at(key_end)?;
    let val_start = key_end.checked_add(8)?;
    let val_end = val_start.checked_add(val_len)?;
    Some(RawEntry { offset, key: data.get(key_start..key_end)?, value: data.get(val_start..val_end)? })
}

/// The decoded entry at `offset`, for views that render from the mapping.
pub(crate) fn entry_at(data: &[u8], offset: u64) -> Option<Entry<'_>> {
    decode_entry(raw_entry_at(data, offset)?).ok()
}

/// The MVCC header of one entry, decoded and checked.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct EntryHeader {
    pub(crate) commit_ts: u64,
    pub(crate) tombstone: bool,
    pub(crate) expire_at: u64,
}

/// An MVCC entry: user key, header and body.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Entry<'a> {
    pub(crate) offset: u64,
    pub(crate) user_key: &'a [u8],
    pub(crate) header: EntryHeader,
    pub body: &'a [u8],
}

const FLAG_TOMBSTONE: u8 = 0x01;
const FLAG_ENCRYPTION_MASK: u8 = 0x06;
const FLAG_RESERVED_MASK: u8 = 0xF8;

/// Decodes the MVCC encoding of a framed entry, with upstream's checks in
/// upstream's order (short key, short value, reserved bits, encryption).
pub(crate) fn decode_entry(raw: RawEntry<'_>) -> Result<Entry<'_>, ContainerError> {
    let RawEntry { offset, key, value } = raw;
    if key.len() < TS_SUFFIX_LEN {
        return Err(ContainerError::ShortKey { offset, len: key.len() as u64 });
    }
    if value.len() < VALUE_HEADER_LEN {
        return Err(ContainerError::ShortValue { offset, len: value.len() as u64, key: key.to_vec() });
    }
    let flags = value[0];
    if flags & FLAG_RESERVED_MASK != 0 {
        return Err(ContainerError::EncryptedReserved { offset, flags, key: key.to_vec() });
    }
    match (flags & FLAG_ENCRYPTION_MASK) >> 1 {
        0 => {}
        1 => return Err(ContainerError::EncryptedEntry { offset, key: key.to_vec() }),
        _ => return Err(ContainerError::EncryptedReserved { offset, flags, key: key.to_vec() }),
    }
    let split = key.len() - TS_SUFFIX_LEN;
    let (user_key, suffix) = key.split_at(split);
    let inverted = u64::from_be_bytes(suffix.try_into().expect("8-byte suffix"));
    let expire_at = u64::from_le_bytes(value[1..9].try_into().expect("8-byte expireAt"));
    Ok(Entry {
        offset,
        user_key,
        header: EntryHeader { commit_ts: !inverted, tombstone: flags & FLAG_TOMBSTONE != 0, expire_at },
        body: &value[VALUE_HEADER_LEN..],
    })
}

/// Store bookkeeping rows that live snapshots carry but that are not
/// MVCC-encoded (`fsm-container.md` §5.1). fsmfs skips them instead of
/// failing like upstream.
pub(crate) fn is_store_row(key: &[u8]) -> bool {
    const META: [&[u8]; 4] = [
        b"_meta_last_commit_ts",
        b"_meta_min_retained_ts",
        b"_meta_pending_min_retained_ts",
        b"_meta_applied_index",
    ];
    const REGISTRY: &[u8] = b"!encryption|writers|";
    if META.contains(&key) {
        return true;
    }
    key.len() == 27 && key.starts_with(REGISTRY) && key[24] == b'|'
}

#[cfg(test)]
mod tests {
    use super::*;

    fn frame(entries: &[(&[u8], &[u8])]) -> Vec<u8> {
        let mut out = Vec::new();
        for (k, v) in entries {
            out.extend_from_slice(&(k.len() as u64).to_le_bytes());
            out.extend_from_slice(k);
            out.extend_from_slice(&(v.len() as u64).to_le_bytes());
            out.extend_from_slice(v);
        }
        out
    }

    #[test]
    fn walks_entries_and_ends_clean() {
        let data = frame(&[(b"k1", b"v1"), (b"", b"")]);
        let mut it = RawEntries::new(&data, 0, data.len());
        let a = it.next().unwrap();
        assert_eq!((a.offset, a.key, a.value), (0, &b"k1"[..], &b"v1"[..]));
        let b = it.next().unwrap();
        assert_eq!((b.offset, b.key, b.value), (20, &b""[..], &b""[..]));
        assert!(it.next().is_none());
        assert_eq!(it.outcome(), Some(&Ok(StreamEnd::Clean)));
    }

    #[test]
    fn four_trailing_bytes_are_reported_not_failed() {
        let mut data = frame(&[(b"k", b"v")]);
        data.extend_from_slice(&[1, 2, 3, 4]);
        let mut it = RawEntries::new(&data, 0, data.len());
        assert!(it.next().is_some());
        assert!(it.next().is_none());
        assert_eq!(it.outcome(), Some(&Ok(StreamEnd::FourByteTail)));
    }

    #[test]
    fn truncations_name_their_offset() {
        let full = frame(&[(b"key", b"value")]);
        for cut in 1..full.len() {
            if cut == 4 {
                continue;
            }
            let data = &full[..cut];
            let mut it = RawEntries::new(data, 0, data.len());
            assert!(it.next().is_none(), "cut {cut}");
            match it.outcome() {
                Some(Err(ContainerError::Truncated { offset: 0, .. })) => {}
                other => panic!("cut {cut}: {other:?}"),
            }
        }
    }

    #[test]
    fn absurd_lengths_are_refused_before_use() {
        let mut data = u64::MAX.to_le_bytes().to_vec();
        data.extend_from_slice(b"xx");
        let mut it = RawEntries::new(&data, 0, data.len());
        assert!(it.next().is_none());
        assert!(matches!(it.outcome(), Some(Err(ContainerError::KeyTooLarge { offset: 0, .. }))));

        let mut data = 1u64.to_le_bytes().to_vec();
        data.push(b'k');
        data.extend_from_slice(&(MAX_VALUE_LEN + 1).to_le_bytes());
        let mut it = RawEntries::new(&data, 0, data.len());
        assert!(it.next().is_none());
        assert!(matches!(it.outcome(), Some(Err(ContainerError::ValueTooLarge { offset: 0, .. }))));
    }

    fn entry<'a>(key: &'a [u8], value: &'a [u8]) -> Result<Entry<'a>, ContainerError> {
        decode_entry(RawEntry { offset: 7, key, value })
    }

    #[test]
    fn decodes_mvcc_header() {
        let ts: u64 = 0x018F2A33F8000000;
        let mut key = b"user".to_vec();
        key.extend_from_slice(&(!ts).to_be_bytes());
        let mut value = vec![0u8];
        value.extend_from_slice(&0x018F2A33F8010000u64.to_le_bytes());
        value.push(b'v');
        let e = entry(&key, &value).unwrap();
        assert_eq!(e.user_key, b"user");
        assert_eq!(e.header, EntryHeader { commit_ts: ts, tombstone: false, expire_at: 0x018F2A33F8010000 });
        assert_eq!(e.body, b"v");
    }

    #[test]
    fn value_checks_follow_upstream_order() {
        let key = [0u8; 8];
        assert!(matches!(entry(&key[..7], &[0; 9]), Err(ContainerError::ShortKey { offset: 7, len: 7 })));
        assert!(matches!(entry(&key, &[0; 8]), Err(ContainerError::ShortValue { .. })));
        let mut v = [0u8; 9];
        v[0] = 0x01;
        assert!(entry(&key, &v).unwrap().header.tombstone);
        v[0] = 0x02;
        assert!(matches!(entry(&key, &v), Err(ContainerError::EncryptedEntry { .. })));
        v[0] = 0x03; // an encrypted tombstone still aborts
        assert!(matches!(entry(&key, &v), Err(ContainerError::EncryptedEntry { .. })));
        for flags in [0x04u8, 0x06, 0x08, 0x10, 0x80] {
            v[0] = flags;
            assert!(matches!(entry(&key, &v), Err(ContainerError::EncryptedReserved { .. })), "{flags:#x}");
        }
    }

    #[test]
    fn recognises_store_rows() {
        assert!(is_store_row(b"_meta_last_commit_ts"));
        assert!(is_store_row(b"_meta_applied_index"));
        assert!(!is_store_row(b"_meta_applied_indexx"));
        let mut reg = b"!encryption|writers|".to_vec();
        reg.extend_from_slice(&[0, 0, 0, 7, b'|', 0, 3]);
        assert_eq!(reg.len(), 27);
        assert!(is_store_row(&reg));
        reg[24] = b'x';
        assert!(!is_store_row(&reg));
    }
}
