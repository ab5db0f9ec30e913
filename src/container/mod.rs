//! The `.fsm` container: on-disk shapes (raft-engine wrapper, HLC header,
//! CRC32C footer), the `EKVPBBL1` entry stream and the MVCC value header.
//!
//! Everything here works on a borrowed byte slice (the mmap) and hands out
//! offsets into it; nothing is copied. `writer` is the reverse direction,
//! used by `pack` and by the test fixtures.

pub(crate) mod error;
pub(crate) mod mapped;
mod shape;
mod sigbus;
mod stream;
pub mod writer;

pub(crate) use error::ContainerError;
pub(crate) use shape::{detect, EngineHeader, Layout, Probe, Shape};
pub(crate) use stream::{decode_entry, entry_at, is_store_row, Entry, StreamEnd};

/// Magic of the only store stream format fsmfs decodes.
pub(crate) const STREAM_MAGIC: &[u8; 8] = b"EKVPBBL1";
/// Bytes before the first entry: magic + u64le lastCommitTS.
pub(crate) const STREAM_HEADER_LEN: usize = 16;
/// Largest encoded key a writer may emit (1 MiB user key + 8-byte suffix).
pub(crate) const MAX_KEY_LEN: u64 = (1 << 20) + 8;
/// Largest encoded value (256 MiB body + 9-byte header + 34-byte envelope).
pub(crate) const MAX_VALUE_LEN: u64 = (256 << 20) + 9 + 34;
/// Largest value a writer accepts from a user (256 MiB body plus the
/// 34-byte envelope).
pub(crate) const MAX_USER_VALUE: usize = (256 << 20) + 34;
/// MVCC value header: flags byte + u64le expireAt.
pub(crate) const VALUE_HEADER_LEN: usize = 9;
/// MVCC key suffix: u64be(^commitTS).
pub(crate) const TS_SUFFIX_LEN: usize = 8;

/// Commit timestamp of the entry at `offset` (from its key suffix).
pub(crate) fn commit_ts_at(data: &[u8], offset: u64) -> u64 {
    let at = offset as usize;
    let key_len = u64::from_le_bytes(data[at..at + 8].try_into().expect("8 bytes")) as usize;
    let end = at + 8 + key_len;
    !u64::from_be_bytes(data[end - 8..end].try_into().expect("8 bytes"))
}

/// CRC-32C (Castagnoli) as the raft engine computes it.
pub(crate) fn crc32c(bytes: &[u8]) -> u32 {
    crc32c::crc32c(bytes)
}
