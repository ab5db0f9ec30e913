//! Recognises the six on-disk shapes of `fsm-container.md` §2 and finds the
//! store stream inside them. Detection needs the end of the entry framing,
//! so it is split in two: [`detect`] reads the headers, the caller walks the
//! entries (doing its real work on the way), and [`Probe::settle`] decides
//! between "CRC footer" and "no footer" from where the walk stopped.

use super::stream::{RawEntries, StreamEnd};
use super::{ContainerError, STREAM_HEADER_LEN, STREAM_MAGIC};

const ENGINE_PREFIX: &[u8; 7] = b"EKVTHLC";
const FOOTER_LEN: usize = 4;

/// The raft-engine payload header (L2), when present.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum EngineHeader {
    V1 { ceiling_ms: u64 },
    V2 { ceiling_ms: u64, cutover: u64, len: u16 },
}

/// Which of the known file shapes this is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Shape {
    /// Bare `EKVPBBL1` stream: what the upstream encoder and `pack` write.
    Raw,
    /// `EKVPBBL1` stream followed by a CRC32C footer (pre-HLC engine file).
    Legacy,
    /// Raft-engine file with an `EKVTHLC*` header; `footer` is false for
    /// physical exports that carry their CRC elsewhere.
    Engine { header: EngineHeader, footer: bool },
    /// A four-byte file holding only the CRC of an empty payload.
    EmptyFootered,
}

impl Shape {
    pub(crate) fn name(&self) -> &'static str {
        match self {
            Shape::Raw => "raw EKVPBBL1 stream",
            Shape::Legacy => "headerless legacy engine file (CRC32C footer)",
            Shape::Engine { header: EngineHeader::V1 { .. }, footer: true } => {
                "raft engine file, EKVTHLC1 header, CRC32C footer"
            }
            Shape::Engine { header: EngineHeader::V2 { .. }, footer: true } => {
                "raft engine file, EKVTHLC2 header, CRC32C footer"
            }
            Shape::Engine { header: EngineHeader::V1 { .. }, footer: false } => {
                "physical export, EKVTHLC1 header, no footer"
            }
            Shape::Engine { header: EngineHeader::V2 { .. }, footer: false } => {
                "physical export, EKVTHLC2 header, no footer"
            }
            Shape::EmptyFootered => "empty payload with CRC32C footer",
        }
    }

    pub(crate) fn has_footer(&self) -> bool {
        matches!(self, Shape::Legacy | Shape::EmptyFootered | Shape::Engine { footer: true, .. })
    }
}

/// Result of reading the headers, before the entries are walked.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Probe {
    pub(crate) header: Option<EngineHeader>,
    /// Offset of the `EKVPBBL1` magic, or `None` for an empty store stream.
    pub(crate) stream_start: Option<usize>,
    pub(crate) last_commit_ts: u64,
    len: usize,
}

/// The settled layout of a file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Layout {
    pub(crate) shape: Shape,
    /// Offset of the first entry and the end of the last one.
    pub(crate) entries_start: usize,
    pub(crate) entries_end: usize,
    pub(crate) last_commit_ts: u64,
    /// The footer value when the shape has one (already verified).
    pub(crate) crc: Option<u32>,
    /// False when the payload holds no store stream at all (the node
    /// restores that as an empty store; upstream's decoder fails on it).
    pub(crate) has_store_stream: bool,
}

fn be_u64(b: &[u8]) -> u64 {
    let mut a = [0u8; 8];
    a.copy_from_slice(&b[..8]);
    u64::from_be_bytes(a)
}

fn footer(data: &[u8]) -> u32 {
    let n = data.len();
    u32::from_be_bytes([data[n - 4], data[n - 3], data[n - 2], data[n - 1]])
}

fn read_engine_header(data: &[u8]) -> Result<(EngineHeader, usize), ContainerError> {
    match data[7] {
        b'1' => {
            if data.len() < 16 {
                return Err(ContainerError::TooShort {
                    len: data.len() as u64,
                    need: 16,
                    what: "EKVTHLC1 header",
                });
            }
            Ok((EngineHeader::V1 { ceiling_ms: be_u64(&data[8..16]) }, 16))
        }
        b'2' => {
            if data.len() < 10 {
                return Err(ContainerError::TooShort {
                    len: data.len() as u64,
                    need: 10,
                    what: "EKVTHLC2 header length",
                });
            }
            let len = u16::from_be_bytes([data[8], data[9]]);
            if !(16..=1024).contains(&len) {
                return Err(ContainerError::HeaderInvalidLength { len });
            }
            let end = 10 + len as usize;
            if data.len() < end {
                return Err(ContainerError::TooShort {
                    len: data.len() as u64,
                    need: end as u64,
                    what: "EKVTHLC2 header",
                });
            }
            let header =
                EngineHeader::V2 { ceiling_ms: be_u64(&data[10..18]), cutover: be_u64(&data[18..26]), len };
            Ok((header, end))
        }
        _ => Err(ContainerError::HeaderUnknownMagic { found: data[..8].to_vec() }),
    }
}

/// Reads the engine header (if any) and the store stream header.
pub(crate) fn detect(data: &[u8]) -> Result<Probe, ContainerError> {
    let n = data.len();
    if n == 0 {
        return Err(ContainerError::Empty);
    }
    if n == FOOTER_LEN && data == [0, 0, 0, 0] {
        return Ok(Probe { header: None, stream_start: None, last_commit_ts: 0, len: n });
    }
    let (header, start) = if n >= 8 && data.starts_with(ENGINE_PREFIX) {
        let (h, end) = read_engine_header(data)?;
        (Some(h), end)
    } else {
        (None, 0)
    };
    let rest = n - start;
    // An engine payload may hold an empty store stream ("restore wipes the
    // database"), with or without the footer.
    if header.is_some() && (rest == 0 || rest == FOOTER_LEN) {
        return Ok(Probe { header, stream_start: None, last_commit_ts: 0, len: n });
    }
    let magic = &data[start..n.min(start + 8)];
    if magic.len() == 8 {
        let unsupported = match magic {
            b"EKVSSTI1" => Some("EKVSSTI1 (SST-ingest bundle)"),
            b"EKVMVCC2" => Some("EKVMVCC2 (in-memory MVCC stream)"),
            _ => None,
        };
        if let Some(name) = unsupported {
            return Err(ContainerError::UnsupportedStore { offset: start as u64, name });
        }
        if magic != STREAM_MAGIC {
            return Err(ContainerError::BadMagic { found: magic.to_vec() });
        }
    } else if !STREAM_MAGIC.starts_with(magic) {
        return Err(ContainerError::BadMagic { found: magic.to_vec() });
    }
    if rest < STREAM_HEADER_LEN {
        return Err(ContainerError::TooShort {
            len: n as u64,
            need: (start + STREAM_HEADER_LEN) as u64,
            what: "EKVPBBL1 stream header",
        });
    }
    let mut ts = [0u8; 8];
    ts.copy_from_slice(&data[start + 8..start + 16]);
    Ok(Probe { header, stream_start: Some(start), last_commit_ts: u64::from_le_bytes(ts), len: n })
}

impl Probe {
    /// The entry walker over everything after the stream header. It runs to
    /// the end of the file; a trailing footer shows up as
    /// [`StreamEnd::FourByteTail`].
    pub(crate) fn entries<'a>(&self, data: &'a [u8]) -> RawEntries<'a> {
        match self.stream_start {
            Some(s) => RawEntries::new(data, s + STREAM_HEADER_LEN, self.len),
            None => RawEntries::new(data, self.len, self.len),
        }
    }

    /// Decides the shape from how the walk ended. `crc` computes the CRC32C
    /// of everything before the last four bytes; it is called only when a
    /// footer is possible (so callers may compute it on another thread).
    pub(crate) fn settle(
        &self,
        data: &[u8],
        walk: Result<StreamEnd, ContainerError>,
        crc: impl FnOnce() -> u32,
    ) -> Result<Layout, ContainerError> {
        let n = data.len();
        let Some(start) = self.stream_start else {
            // Empty store stream: legal only as a whole engine payload.
            let footered = n - self.header.map_or(0, |_| header_len(data)) == FOOTER_LEN;
            let shape = match self.header {
                None => Shape::EmptyFootered,
                Some(header) => Shape::Engine { header, footer: footered },
            };
            let mut stored = None;
            if footered {
                let (s, c) = (footer(data), crc());
                if s != c {
                    return Err(ContainerError::CrcMismatch { stored: s, computed: c, detail: None });
                }
                stored = Some(s);
            }
            let end = if footered { n - FOOTER_LEN } else { n };
            return Ok(Layout {
                shape,
                entries_start: end,
                entries_end: end,
                last_commit_ts: 0,
                crc: stored,
                has_store_stream: false,
            });
        };
        let entries_start = start + STREAM_HEADER_LEN;
        let layout = |shape, footered: bool, crc| Layout {
            shape,
            entries_start,
            entries_end: if footered { n - FOOTER_LEN } else { n },
            last_commit_ts: self.last_commit_ts,
            crc,
            has_store_stream: true,
        };
        match self.header {
            None => match walk {
                Ok(StreamEnd::Clean) => Ok(layout(Shape::Raw, false, None)),
                Ok(StreamEnd::FourByteTail) => {
                    let (s, c) = (footer(data), crc());
                    if s == c {
                        Ok(layout(Shape::Legacy, true, Some(s)))
                    } else {
                        Err(ContainerError::Truncated {
                            offset: (n - FOOTER_LEN) as u64,
                            what: "partial key length (and the last 4 bytes are not a CRC32C footer)",
                        })
                    }
                }
                Err(e) => Err(e),
            },
            Some(header) => {
                // A footered file must pass its CRC; a footer-less physical
                // export must frame exactly to the end of the file.
                if walk == Ok(StreamEnd::Clean) {
                    return Ok(layout(Shape::Engine { header, footer: false }, false, None));
                }
                let (s, c) = (footer(data), crc());
                match walk {
                    Ok(_) if s == c => Ok(layout(Shape::Engine { header, footer: true }, true, Some(s))),
                    Ok(_) => Err(ContainerError::CrcMismatch { stored: s, computed: c, detail: None }),
                    Err(e) if s == c => Err(e),
                    Err(e) => Err(ContainerError::CrcMismatch {
                        stored: s,
                        computed: c,
                        detail: Some(format!(
                            "and the entries do not frame to the end of the file either ({e})"
                        )),
                    }),
                }
            }
        }
    }
}

fn header_len(data: &[u8]) -> usize {
    match data.get(7) {
        Some(b'1') => 16,
        Some(b'2') => 10 + u16::from_be_bytes([data[8], data[9]]) as usize,
        _ => 0,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::container::crc32c;

    /// The 66-byte F-RAW stream of `fsm-container.md` §16.1.
    fn spec_raw() -> Vec<u8> {
        let hex = "454b565042424c31000000f8332a8f011800000000000000216464627c6d6574617c67656e7c6441fe70d5cc07ffffff0a0000000000000000000000000000000031";
        (0..hex.len()).step_by(2).map(|i| u8::from_str_radix(&hex[i..i + 2], 16).unwrap()).collect()
    }

    fn settle(data: &[u8]) -> Result<Layout, ContainerError> {
        let probe = detect(data)?;
        let mut walk = probe.entries(data);
        let count = walk.by_ref().count();
        let _ = count;
        let outcome = walk.outcome().cloned().unwrap();
        probe.settle(data, outcome, || crc32c(&data[..data.len() - 4]))
    }

    #[test]
    fn spec_examples_have_documented_crcs() {
        let raw = spec_raw();
        assert_eq!(raw.len(), 66);
        assert_eq!(crc32c(b"123456789"), 0xE3069283);
        assert_eq!(crc32c(&raw), 0x8d3462ad);
    }

    #[test]
    fn detects_every_shape() {
        let raw = spec_raw();
        let ts = 0x018F2A33F8000000u64;
        let l = settle(&raw).unwrap();
        assert_eq!((l.shape, l.entries_start, l.entries_end, l.last_commit_ts), (Shape::Raw, 16, 66, ts));

        let mut leg = raw.clone();
        leg.extend_from_slice(&crc32c(&raw).to_be_bytes());
        let l = settle(&leg).unwrap();
        assert_eq!((l.shape, l.entries_end, l.crc), (Shape::Legacy, 66, Some(0x8d3462ad)));

        let mut eng1 = b"EKVTHLC1".to_vec();
        eng1.extend_from_slice(&0x0000018F2A33F801u64.to_be_bytes());
        eng1.extend_from_slice(&raw);
        let phys1 = eng1.clone();
        let crc = crc32c(&eng1);
        assert_eq!(crc, 0xcefc8534);
        eng1.extend_from_slice(&crc.to_be_bytes());
        let l = settle(&eng1).unwrap();
        let h1 = EngineHeader::V1 { ceiling_ms: 0x0000018F2A33F801 };
        assert_eq!(l.shape, Shape::Engine { header: h1, footer: true });
        assert_eq!((l.entries_start, l.entries_end), (32, 82));
        let l = settle(&phys1).unwrap();
        assert_eq!(l.shape, Shape::Engine { header: h1, footer: false });

        let mut eng2 = b"EKVTHLC2".to_vec();
        eng2.extend_from_slice(&16u16.to_be_bytes());
        eng2.extend_from_slice(&0x0000018F2A33F801u64.to_be_bytes());
        eng2.extend_from_slice(&0u64.to_be_bytes());
        eng2.extend_from_slice(&raw);
        let crc = crc32c(&eng2);
        eng2.extend_from_slice(&crc.to_be_bytes());
        assert_eq!(eng2.len(), 96);
        assert_eq!(&eng2[92..], &[0xc9, 0x9e, 0xb9, 0xf5]);
        let l = settle(&eng2).unwrap();
        assert!(matches!(
            l.shape,
            Shape::Engine { header: EngineHeader::V2 { len: 16, cutover: 0, .. }, footer: true }
        ));
        assert_eq!(l.entries_start, 42);

        assert_eq!(settle(&[0, 0, 0, 0]).unwrap().shape, Shape::EmptyFootered);
    }

    #[test]
    fn crc_mismatch_is_reported() {
        let raw = spec_raw();
        let mut eng1 = b"EKVTHLC1".to_vec();
        eng1.extend_from_slice(&1u64.to_be_bytes());
        eng1.extend_from_slice(&raw);
        eng1.extend_from_slice(&[0xde, 0xad, 0xbe, 0xef]);
        assert!(matches!(settle(&eng1), Err(ContainerError::CrcMismatch { stored: 0xdeadbeef, .. })));
        // A flipped payload byte in a legacy file: the footer no longer matches.
        let mut leg = raw.clone();
        leg.extend_from_slice(&crc32c(&raw).to_be_bytes());
        leg[65] ^= 1;
        assert!(matches!(settle(&leg), Err(ContainerError::Truncated { offset: 66, .. })));
    }

    #[test]
    fn header_errors() {
        assert_eq!(detect(b"").unwrap_err(), ContainerError::Empty);
        assert!(matches!(detect(b"EKVTHLC3xxxxxxxxxxxxxxx"), Err(ContainerError::HeaderUnknownMagic { .. })));
        let mut v2 = b"EKVTHLC2".to_vec();
        v2.extend_from_slice(&15u16.to_be_bytes());
        v2.extend_from_slice(&[0; 40]);
        assert!(matches!(detect(&v2), Err(ContainerError::HeaderInvalidLength { len: 15 })));
        assert!(matches!(detect(b"EKVTHLC1\0\0"), Err(ContainerError::TooShort { .. })));
        assert!(matches!(detect(b"EKVSSTI1\0\0\0\0\0\0\0\0"), Err(ContainerError::UnsupportedStore { .. })));
        assert!(matches!(detect(b"EKVMVCC2\0\0\0\0\0\0\0\0"), Err(ContainerError::UnsupportedStore { .. })));
        assert!(matches!(detect(b"PK\x03\x04 zip file"), Err(ContainerError::BadMagic { .. })));
        assert!(matches!(detect(b"EKVPB"), Err(ContainerError::TooShort { .. })));
        assert!(matches!(detect(b"EKVPBBL1\0\0"), Err(ContainerError::TooShort { .. })));
    }
}
