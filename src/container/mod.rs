//! The `.fsm` container: on-disk shapes (raft-engine wrapper, HLC header,
//! CRC32C footer), the `EKVPBBL1` entry stream and the MVCC value header.
//!
//! Everything here works on a borrowed byte slice (the mmap) and hands out
//! offsets into it; nothing is copied. `writer` is the reverse direction,
//! used by `pack` and by the test fixtures.

pub(crate) mod error;
pub mod mapped;
mod shape;
mod sigbus;
mod stream;
pub mod writer;

pub use error::ContainerError;
pub use shape::{detect, EngineHeader, Layout, Probe, Shape};
pub use stream::{
    decode_entry, entry_at, is_store_row, raw_entry_at, Entry, EntryHeader, RawEntries, RawEntry, StreamEnd,
};

/// Magic of the only store stream format fsmfs decodes.
pub const STREAM_MAGIC: &[u8; 8] = b"EKVPBBL1";
/// Bytes before the first entry: magic + u64le lastCommitTS.
pub const STREAM_HEADER_LEN: usize = 16;
/// Largest encoded key a writer may emit (1 MiB user key + 8-byte suffix).
pub const MAX_KEY_LEN: u64 = (1 << 20) + 8;
/// Largest encoded value (256 MiB body + 9-byte header + 34-byte envelope).
pub const MAX_VALUE_LEN: u64 = (256 << 20) + 9 + 34;
/// MVCC value header: flags byte + u64le expireAt.
pub const VALUE_HEADER_LEN: usize = 9;
/// MVCC key suffix: u64be(^commitTS).
pub const TS_SUFFIX_LEN: usize = 8;

/// CRC-32C (Castagnoli) as the raft engine computes it.
pub fn crc32c(bytes: &[u8]) -> u32 {
    crc32c::crc32c(bytes)
}
