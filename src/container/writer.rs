//! Writes `EKVPBBL1` streams: the reverse of [`super::stream`]. `pack` uses
//! it for its output and the tests use it to build fixtures, so both sides
//! of every round trip go through the same framing code.

use std::io::{self, Write};

use super::{crc32c, STREAM_MAGIC, TS_SUFFIX_LEN, VALUE_HEADER_LEN};

/// `userKey ‖ u64be(^commitTS)`.
pub fn encode_key(user_key: &[u8], commit_ts: u64) -> Vec<u8> {
    let mut k = Vec::with_capacity(user_key.len() + TS_SUFFIX_LEN);
    k.extend_from_slice(user_key);
    k.extend_from_slice(&(!commit_ts).to_be_bytes());
    k
}

/// `flags ‖ u64le expireAt ‖ body`.
pub fn encode_value(tombstone: bool, expire_at: u64, body: &[u8]) -> Vec<u8> {
    let mut v = Vec::with_capacity(VALUE_HEADER_LEN + body.len());
    v.push(u8::from(tombstone));
    v.extend_from_slice(&expire_at.to_le_bytes());
    v.extend_from_slice(body);
    v
}

/// Streams entries out with the `EKVPBBL1` framing. Entries are written in
/// the order given; sorting is the caller's job.
pub struct StreamWriter<W: Write> {
    out: W,
    written: u64,
}

impl<W: Write> StreamWriter<W> {
    pub fn new(mut out: W, last_commit_ts: u64) -> io::Result<Self> {
        out.write_all(STREAM_MAGIC)?;
        out.write_all(&last_commit_ts.to_le_bytes())?;
        Ok(StreamWriter { out, written: 16 })
    }

    /// Writes one entry from an already encoded key and a value whose body
    /// is given in pieces (so large bodies need not be joined first).
    pub fn entry(&mut self, encoded_key: &[u8], value_parts: &[&[u8]]) -> io::Result<()> {
        let val_len: usize = value_parts.iter().map(|p| p.len()).sum();
        self.out.write_all(&(encoded_key.len() as u64).to_le_bytes())?;
        self.out.write_all(encoded_key)?;
        self.out.write_all(&(val_len as u64).to_le_bytes())?;
        for p in value_parts {
            self.out.write_all(p)?;
        }
        self.written += 16 + encoded_key.len() as u64 + val_len as u64;
        Ok(())
    }

    /// Writes one entry whose value (`value_len` bytes, header included) is
    /// produced by `write_value` straight into the output, so a large value
    /// can be copied from its source without an intermediate buffer. The
    /// callback must write exactly `value_len` bytes.
    pub(crate) fn entry_with(
        &mut self,
        encoded_key: &[u8],
        value_len: u64,
        write_value: impl FnOnce(&mut W) -> io::Result<()>,
    ) -> io::Result<()> {
        self.out.write_all(&(encoded_key.len() as u64).to_le_bytes())?;
        self.out.write_all(encoded_key)?;
        self.out.write_all(&value_len.to_le_bytes())?;
        write_value(&mut self.out)?;
        self.written += 16 + encoded_key.len() as u64 + value_len;
        Ok(())
    }

    /// Writes a live, cleartext entry with no TTL: the only kind `pack` emits.
    pub fn live(&mut self, user_key: &[u8], commit_ts: u64, body: &[u8]) -> io::Result<()> {
        let key = encode_key(user_key, commit_ts);
        let header = encode_value(false, 0, &[]);
        self.entry(&key, &[&header, body])
    }

    pub(crate) fn bytes_written(&self) -> u64 {
        self.written
    }

    pub fn finish(self) -> W {
        self.out
    }
}

/// Wraps a stream the way the raft engine stores it: `EKVTHLC1` header with
/// the HLC ceiling, then the CRC32C footer over everything before it.
pub fn wrap_engine_v1(stream: &[u8], ceiling_ms: u64) -> Vec<u8> {
    let mut out = Vec::with_capacity(stream.len() + 20);
    out.extend_from_slice(b"EKVTHLC1");
    out.extend_from_slice(&ceiling_ms.to_be_bytes());
    out.extend_from_slice(stream);
    let crc = crc32c(&out);
    out.extend_from_slice(&crc.to_be_bytes());
    out
}

/// The `EKVTHLC2` form, as written once a raft envelope cutover was seen.
pub fn wrap_engine_v2(stream: &[u8], ceiling_ms: u64, cutover: u64) -> Vec<u8> {
    let mut out = Vec::with_capacity(stream.len() + 30);
    out.extend_from_slice(b"EKVTHLC2");
    out.extend_from_slice(&16u16.to_be_bytes());
    out.extend_from_slice(&ceiling_ms.to_be_bytes());
    out.extend_from_slice(&cutover.to_be_bytes());
    out.extend_from_slice(stream);
    let crc = crc32c(&out);
    out.extend_from_slice(&crc.to_be_bytes());
    out
}

/// A headerless legacy engine file: the stream plus its CRC32C footer.
pub fn wrap_legacy(stream: &[u8]) -> Vec<u8> {
    let mut out = stream.to_vec();
    out.extend_from_slice(&crc32c(stream).to_be_bytes());
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reproduces_the_spec_example_bytes() {
        let ts = 0x018F2A33F8000000u64;
        let mut w = StreamWriter::new(Vec::new(), ts).unwrap();
        w.live(b"!ddb|meta|gen|dA", ts, b"1").unwrap();
        assert_eq!(w.bytes_written(), 66);
        let out = w.finish();
        let hex: String = out.iter().map(|b| format!("{b:02x}")).collect();
        assert_eq!(
            hex,
            "454b565042424c31000000f8332a8f011800000000000000216464627c6d6574617c67656e7c6441fe70d5cc07ffffff0a0000000000000000000000000000000031"
        );
        assert_eq!(&wrap_engine_v1(&out, 0x0000018F2A33F801)[82..], &0xcefc8534u32.to_be_bytes());
    }
}
