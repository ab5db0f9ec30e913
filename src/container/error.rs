use std::fmt;

/// Why a `.fsm` file cannot be read. Every variant that concerns a place in
/// the file carries its byte offset, and the key when one is known, so the
/// message alone lets an operator find the record with `xxd -s`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ContainerError {
    #[error("empty file: not a snapshot")]
    Empty,
    /// Fewer bytes than the 16-byte stream header (or an engine header).
    #[error("file too short for {what}: {len} bytes, need at least {need}")]
    TooShort { len: u64, need: u64, what: &'static str },
    #[error(
        "not an elastickv snapshot: offset 0 holds \"{}\", expected \"EKVPBBL1\" or an \"EKVTHLC\" engine header",
        show_key(.found)
    )]
    BadMagic { found: Vec<u8> },
    /// A store format that exists upstream but that fsmfs does not decode.
    #[error("store stream at offset {offset} is {name}, which fsmfs does not decode (only EKVPBBL1)")]
    UnsupportedStore { offset: u64, name: &'static str },
    #[error("unknown snapshot header version \"{}\" at offset 0", show_key(.found))]
    HeaderUnknownMagic { found: Vec<u8> },
    #[error("EKVTHLC2 header at offset 0 declares length {len}, outside 16..=1024")]
    HeaderInvalidLength { len: u16 },
    #[error("snapshot truncated at offset {offset}: {what}")]
    Truncated { offset: u64, what: &'static str },
    #[error("entry at offset {offset}: key length {len} > limit {limit}", limit = super::MAX_KEY_LEN)]
    KeyTooLarge { offset: u64, len: u64 },
    #[error(
        "entry at offset {offset} (key {}): value length {len} > limit {limit}",
        show_key(.key),
        limit = super::MAX_VALUE_LEN
    )]
    ValueTooLarge { offset: u64, len: u64, key: Vec<u8> },
    #[error("entry at offset {offset}: key of {len} bytes is shorter than the 8-byte timestamp suffix")]
    ShortKey { offset: u64, len: u64 },
    #[error(
        "entry at offset {offset} (key {}): value of {len} bytes is shorter than the 9-byte value header",
        show_key(.key)
    )]
    ShortValue { offset: u64, len: u64, key: Vec<u8> },
    #[error("entry at offset {offset} (key {}) is encrypted; fsmfs has no keyring", show_key(.key))]
    EncryptedEntry { offset: u64, key: Vec<u8> },
    #[error("entry at offset {offset} (key {}): value flags 0x{flags:02x} use reserved bits", show_key(.key))]
    EncryptedReserved { offset: u64, flags: u8, key: Vec<u8> },
    #[error(fmt = crc_mismatch)]
    CrcMismatch { stored: u32, computed: u32, detail: Option<String> },
}

/// Render key bytes for an error line: printable ASCII as is, the rest as
/// `\xNN`, long keys cut with an ellipsis.
pub(crate) fn show_key(key: &[u8]) -> String {
    const MAX: usize = 96;
    let mut s = String::new();
    for &b in key.iter().take(MAX) {
        if (0x20..0x7f).contains(&b) && b != b'\\' {
            s.push(b as char);
        } else {
            s.push_str(&format!("\\x{b:02x}"));
        }
    }
    if key.len() > MAX {
        s.push_str(&format!("… ({} bytes)", key.len()));
    }
    s
}

/// The CRC footer line: the optional detail (what else was found) is
/// appended after a `; ` only when there is one.
fn crc_mismatch(
    stored: &u32,
    computed: &u32,
    detail: &Option<String>,
    f: &mut fmt::Formatter<'_>,
) -> fmt::Result {
    write!(f, "CRC32C footer mismatch: stored 0x{stored:08x}, computed 0x{computed:08x} (file corrupt)")?;
    if let Some(d) = detail {
        write!(f, "; {d}")?;
    }
    Ok(())
}
