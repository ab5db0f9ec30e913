//! Filename segment encoding (fsm-container spec §15).
//!
//! Every file-name component derived from user bytes goes through
//! [`encode_segment`] (or [`encode_binary_segment`] for DynamoDB `B` keys).
//! The encoding is a pure function of the input bytes and matches the
//! upstream Go encoder byte for byte.

use base64::Engine as _;
use sha2::{Digest, Sha256};

/// Longest encoded segment that is emitted verbatim; anything longer takes
/// the SHA fallback. Leaves headroom under the usual NAME_MAX of 255.
pub(crate) const MAX_SEGMENT_BYTES: usize = 240;
/// Number of lower-case hex characters of SHA-256 in a fallback name.
const SHA_HEX_CHARS: usize = 32;
/// Raw bytes of the original kept (percent-encoded) after the `__`.
const SHA_SUFFIX_RAW_BYTES: usize = 64;
const SHA_SEPARATOR: &[u8] = b"__";
const BINARY_PREFIX: &[u8] = b"b64.";

const HEX_UPPER: &[u8; 16] = b"0123456789ABCDEF";
const HEX_LOWER: &[u8; 16] = b"0123456789abcdef";

/// `[A-Za-z0-9._-]`; `~` is deliberately excluded (upstream choice).
static UNRESERVED: [bool; 256] = build_unreserved();

const fn build_unreserved() -> [bool; 256] {
    let mut t = [false; 256];
    let mut i = 0;
    while i < 256 {
        let c = i as u8;
        t[i] = c.is_ascii_alphanumeric() || c == b'-' || c == b'.' || c == b'_';
        i += 1;
    }
    t
}

#[inline]
fn is_unreserved(c: u8) -> bool {
    UNRESERVED[usize::from(c)]
}

#[inline]
fn unhex(c: u8) -> Option<u8> {
    match c {
        b'0'..=b'9' => Some(c - b'0'),
        b'a'..=b'f' => Some(c - b'a' + 10),
        b'A'..=b'F' => Some(c - b'A' + 10),
        _ => None,
    }
}

/// Why [`decode_segment`] refused its input.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub(crate) enum SegmentError {
    /// Longer than [`MAX_SEGMENT_BYTES`]; the encoder never produces that.
    #[error("invalid encoded filename segment: longer than {max} bytes", max = MAX_SEGMENT_BYTES)]
    TooLong,
    /// A SHA-fallback name: the original is only in `KEYMAP.jsonl`.
    #[error("filename uses SHA fallback; consult KEYMAP.jsonl")]
    ShaFallbackNeedsKeymap,
    /// `b64.` segment whose remainder is not valid unpadded base64url.
    #[error("invalid encoded filename segment: bad base64url after b64.")]
    BadBase64,
    /// `%` not followed by two hex digits; `pos` is the offset of the `%`.
    #[error("invalid encoded filename segment: bad percent escape at offset {pos}")]
    BadPercentEscape { pos: usize },
    /// A bare byte outside `[A-Za-z0-9._-]` at offset `pos`.
    #[error("invalid encoded filename segment: unexpected raw byte 0x{byte:02x} at offset {pos}")]
    ForbiddenByte { pos: usize, byte: u8 },
}

/// Output buffer that only ever receives ASCII. Lets the hot path write
/// into either a `Vec<u8>` or a `String` without unsafe code.
trait AsciiSink {
    fn push_ascii(&mut self, b: u8);
    fn extend_ascii(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.push_ascii(b);
        }
    }
    fn reserve_more(&mut self, n: usize);
}

impl AsciiSink for Vec<u8> {
    #[inline]
    fn push_ascii(&mut self, b: u8) {
        self.push(b);
    }
    fn extend_ascii(&mut self, bytes: &[u8]) {
        self.extend_from_slice(bytes);
    }
    fn reserve_more(&mut self, n: usize) {
        self.reserve(n);
    }
}

impl AsciiSink for String {
    #[inline]
    fn push_ascii(&mut self, b: u8) {
        debug_assert!(b.is_ascii());
        self.push(char::from(b));
    }
    fn extend_ascii(&mut self, bytes: &[u8]) {
        match std::str::from_utf8(bytes) {
            Ok(s) => self.push_str(s),
            Err(_) => bytes.iter().for_each(|&b| self.push_ascii(b)),
        }
    }
    fn reserve_more(&mut self, n: usize) {
        self.reserve(n);
    }
}

/// Encodes one path segment (§15.1). Never fails; long or ambiguous inputs
/// become a non-reversible SHA-fallback name (§15.3).
pub fn encode_segment(raw: &[u8]) -> String {
    let mut out = String::with_capacity(raw.len().saturating_mul(3).min(MAX_SEGMENT_BYTES));
    encode_into(raw, &mut out);
    out
}

/// Appends `encode_segment(raw)` to `out`. Allocation-free when `out` has
/// room and no fallback is needed.
pub(crate) fn encode_segment_into(raw: &[u8], out: &mut Vec<u8>) {
    encode_into(raw, out);
}

/// Appends `encode_segment(raw)` to `out`.
#[cfg(test)]
pub(crate) fn encode_segment_into_string(raw: &[u8], out: &mut String) {
    encode_into(raw, out);
}

fn encode_into<S: AsciiSink>(raw: &[u8], out: &mut S) {
    // The two ambiguous shapes consist of unreserved bytes only, so they
    // survive percent-encoding unchanged: checking `raw` is the same as
    // checking the encoded form, and lets us decide before writing anything.
    if raw.len() > MAX_SEGMENT_BYTES || looks_like_sha_fallback(raw) || raw.starts_with(BINARY_PREFIX) {
        sha_fallback_into(raw, out);
        return;
    }
    let escapes = raw.iter().filter(|&&c| !is_unreserved(c)).count();
    if raw.len() + 2 * escapes > MAX_SEGMENT_BYTES {
        sha_fallback_into(raw, out);
        return;
    }
    if escapes == 0 {
        out.extend_ascii(raw);
        return;
    }
    out.reserve_more(raw.len() + 2 * escapes);
    for &c in raw {
        if is_unreserved(c) {
            out.push_ascii(c);
        } else {
            push_escape(out, c);
        }
    }
}

#[inline]
fn push_escape<S: AsciiSink>(out: &mut S, c: u8) {
    out.push_ascii(b'%');
    out.push_ascii(HEX_UPPER[usize::from(c >> 4)]);
    out.push_ascii(HEX_UPPER[usize::from(c & 0x0f)]);
}

/// Unbounded percent-encoding; only used for the fallback suffix (≤ 64 bytes).
fn percent_encode_into<S: AsciiSink>(raw: &[u8], out: &mut S) {
    for &c in raw {
        if is_unreserved(c) {
            out.push_ascii(c);
        } else {
            push_escape(out, c);
        }
    }
}

/// `lowerhex(sha256(raw))[..32] ‖ "__" ‖ percentEncode(raw[..min(64, len)])`.
fn sha_fallback_into<S: AsciiSink>(raw: &[u8], out: &mut S) {
    let digest = Sha256::digest(raw);
    out.reserve_more(SHA_HEX_CHARS + SHA_SEPARATOR.len() + 3 * SHA_SUFFIX_RAW_BYTES);
    for &b in digest.iter().take(SHA_HEX_CHARS / 2) {
        out.push_ascii(HEX_LOWER[usize::from(b >> 4)]);
        out.push_ascii(HEX_LOWER[usize::from(b & 0x0f)]);
    }
    out.extend_ascii(SHA_SEPARATOR);
    let keep = raw.len().min(SHA_SUFFIX_RAW_BYTES);
    percent_encode_into(raw.get(..keep).unwrap_or(raw), out);
}

/// Encodes a DynamoDB `B` key segment (§15.2): `b64.` + unpadded base64url,
/// or the SHA fallback when that would exceed 240 characters (raw ≥ 178 bytes).
pub fn encode_binary_segment(raw: &[u8]) -> String {
    let mut out = String::with_capacity(MAX_SEGMENT_BYTES);
    encode_binary_into(raw, &mut out);
    out
}

/// Appends `encode_binary_segment(raw)` to `out`.
pub(crate) fn encode_binary_segment_into(raw: &[u8], out: &mut Vec<u8>) {
    encode_binary_into(raw, out);
}

fn b64_nopad_len(n: usize) -> usize {
    // ceil(4n/3) without padding, overflow-safe.
    (n / 3) * 4 + [0, 2, 3][n % 3]
}

fn encode_binary_into<S: AsciiSink>(raw: &[u8], out: &mut S) {
    // Checking the length first avoids encoding inputs that cannot fit.
    if raw.len() > MAX_SEGMENT_BYTES || BINARY_PREFIX.len() + b64_nopad_len(raw.len()) > MAX_SEGMENT_BYTES {
        sha_fallback_into(raw, out);
        return;
    }
    let mut buf = [0u8; MAX_SEGMENT_BYTES];
    match base64::engine::general_purpose::URL_SAFE_NO_PAD.encode_slice(raw, &mut buf) {
        Ok(n) => {
            out.extend_ascii(BINARY_PREFIX);
            out.extend_ascii(buf.get(..n).unwrap_or(&[]));
        }
        // Unreachable given the length check; stay total anyway.
        Err(_) => sha_fallback_into(raw, out),
    }
}

/// Reverses [`encode_segment`] / [`encode_binary_segment`] (§15.4).
///
/// Lenient like upstream: lower-case hex escapes are accepted, so callers
/// wanting a canonical name should also check `encode_segment(decoded) == seg`.
#[cfg(test)]
pub(crate) fn decode_segment(seg: &str) -> Result<Vec<u8>, SegmentError> {
    decode_segment_bytes(seg.as_bytes())
}

/// Byte-oriented form of [`decode_segment`] (file names need not be UTF-8).
pub(crate) fn decode_segment_bytes(seg: &[u8]) -> Result<Vec<u8>, SegmentError> {
    if seg.len() > MAX_SEGMENT_BYTES {
        return Err(SegmentError::TooLong);
    }
    if looks_like_sha_fallback(seg) {
        return Err(SegmentError::ShaFallbackNeedsKeymap);
    }
    if let Some(rest) = seg.strip_prefix(BINARY_PREFIX) {
        return b64url_nopad_decode(rest).ok_or(SegmentError::BadBase64);
    }
    percent_decode(seg)
}

fn percent_decode(seg: &[u8]) -> Result<Vec<u8>, SegmentError> {
    let mut out = Vec::with_capacity(seg.len());
    let mut i = 0;
    while let Some(&c) = seg.get(i) {
        if c == b'%' {
            let hi = seg.get(i + 1).copied().and_then(unhex);
            let lo = seg.get(i + 2).copied().and_then(unhex);
            match (hi, lo) {
                (Some(hi), Some(lo)) => out.push((hi << 4) | lo),
                _ => return Err(SegmentError::BadPercentEscape { pos: i }),
            }
            i += 3;
        } else if is_unreserved(c) {
            out.push(c);
            i += 1;
        } else {
            return Err(SegmentError::ForbiddenByte { pos: i, byte: c });
        }
    }
    Ok(out)
}

/// True for the SHA-fallback shape: 32 hex digits (either case) then `__`.
pub(crate) fn is_sha_fallback_name(seg: &str) -> bool {
    looks_like_sha_fallback(seg.as_bytes())
}

fn looks_like_sha_fallback(seg: &[u8]) -> bool {
    match seg.get(..SHA_HEX_CHARS + SHA_SEPARATOR.len()) {
        Some(head) => {
            let (hex, sep) = head.split_at(SHA_HEX_CHARS);
            hex.iter().all(u8::is_ascii_hexdigit) && sep == SHA_SEPARATOR
        }
        None => false,
    }
}

/// Unpadded base64url (`A–Z a–z 0–9 - _`, no `=`).
pub fn b64url_nopad(raw: &[u8]) -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(raw)
}

const B64_INVALID: u8 = 0xff;
static B64URL_DECODE: [u8; 256] = build_b64url_decode();

const fn build_b64url_decode() -> [u8; 256] {
    let alphabet = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    let mut t = [B64_INVALID; 256];
    let mut i = 0;
    while i < 64 {
        t[alphabet[i] as usize] = i as u8;
        i += 1;
    }
    t
}

/// Decodes unpadded base64url with the acceptance rules of Go's
/// `base64.RawURLEncoding.DecodeString`:
/// * `\r` and `\n` are skipped wherever they appear;
/// * `=` and every other byte outside the alphabet are rejected;
/// * a final group of 1 symbol is rejected, 2 or 3 symbols are accepted;
/// * the encoding is not strict, so non-zero unused trailing bits are ignored
///   (`"AB"` decodes like `"AA"`).
pub(crate) fn b64url_nopad_decode(s: &[u8]) -> Option<Vec<u8>> {
    let mut out = Vec::with_capacity(s.len() / 4 * 3 + 2);
    let mut acc: u32 = 0;
    let mut n = 0u8;
    for &c in s {
        if c == b'\r' || c == b'\n' {
            continue;
        }
        let v = B64URL_DECODE[usize::from(c)];
        if v == B64_INVALID {
            return None;
        }
        acc = (acc << 6) | u32::from(v);
        n += 1;
        if n == 4 {
            out.extend_from_slice(&[(acc >> 16) as u8, (acc >> 8) as u8, acc as u8]);
            acc = 0;
            n = 0;
        }
    }
    match n {
        0 => {}
        1 => return None,
        2 => out.push((acc >> 4) as u8),
        _ => out.extend_from_slice(&[(acc >> 10) as u8, (acc >> 2) as u8]),
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn enc(raw: &[u8]) -> String {
        encode_segment(raw)
    }

    #[test]
    fn spec_table_rows() {
        assert_eq!(enc(b"orders"), "orders");
        assert_eq!(enc(b"a b"), "a%20b");
        assert_eq!(enc("日本".as_bytes()), "%E6%97%A5%E6%9C%AC");
        assert_eq!(enc(b"~x"), "%7Ex");
        assert_eq!(enc(b"3/2"), "3%2F2");
        assert_eq!(enc(b""), "");
        assert_eq!(enc(b"."), ".");
        assert_eq!(enc(b".."), "..");
        assert_eq!(enc(b"b64.foo"), "72ef1a090c013093607ce5a62f598cf4__b64.foo");
        assert_eq!(
            enc(b"0123456789abcdef0123456789abcdef__x"),
            "c6adf9bb73b31df7b339106a031c285a__0123456789abcdef0123456789abcdef__x"
        );
        let a240 = vec![b'a'; 240];
        assert_eq!(enc(&a240), "a".repeat(240));
        let a241 = vec![b'a'; 241];
        assert_eq!(enc(&a241), format!("ec6e326ef29fe322b62111584194c54e__{}", "a".repeat(64)));
        let s80 = vec![b'/'; 80];
        assert_eq!(enc(&s80), "%2F".repeat(80));
        let s81 = vec![b'/'; 81];
        assert_eq!(enc(&s81), format!("2a5bc5b1b5314ecd2a310f8d021df0d1__{}", "%2F".repeat(64)));
        assert_eq!(encode_binary_segment(&[0, 1, 2, 3]), "b64.AAECAw");
        assert_eq!(encode_binary_segment(&[0xff, 0xfe]), "b64.__4");
    }

    #[test]
    fn into_variants_append_and_match() {
        let mut v = b"prefix/".to_vec();
        encode_segment_into(b"a b", &mut v);
        assert_eq!(v, b"prefix/a%20b");
        let mut s = String::from("x/");
        encode_segment_into_string(b"b64.foo", &mut s);
        assert_eq!(s, "x/72ef1a090c013093607ce5a62f598cf4__b64.foo");
        let mut v = b"p/".to_vec();
        encode_segment_into(&[b'/'; 81], &mut v);
        assert_eq!(v, format!("p/2a5bc5b1b5314ecd2a310f8d021df0d1__{}", "%2F".repeat(64)).as_bytes());
        let mut v = b"q".to_vec();
        encode_binary_segment_into(&[0, 1, 2, 3], &mut v);
        assert_eq!(v, b"qb64.AAECAw");
    }

    #[test]
    fn percent_overflow_boundary() {
        // 79 escapes + 3 plain = 240 exactly; one more plain byte overflows.
        let mut raw = vec![b' '; 79];
        raw.extend_from_slice(b"abc");
        let e = enc(&raw);
        assert_eq!(e.len(), 240);
        assert!(!is_sha_fallback_name(&e));
        raw.push(b'd');
        let e = enc(&raw);
        assert!(is_sha_fallback_name(&e));
        assert!(e.len() <= 226);
    }

    #[test]
    fn fallback_is_at_most_226_bytes() {
        let raw = vec![0x80u8; 1000];
        let e = enc(&raw);
        assert_eq!(e.len(), 32 + 2 + 64 * 3);
        assert_eq!(decode_segment(&e), Err(SegmentError::ShaFallbackNeedsKeymap));
    }

    #[test]
    fn sha_shape_in_either_case_is_promoted() {
        let upper = b"0123456789ABCDEF0123456789ABCDEF__";
        assert!(is_sha_fallback_name(&enc(upper)));
        assert_ne!(enc(upper).as_bytes(), upper);
        // 31 hex digits is not the shape.
        let short = b"0123456789abcdef0123456789abcde__";
        assert_eq!(enc(short).as_bytes(), short);
        // Single underscore is not the separator.
        let single = b"0123456789abcdef0123456789abcdef_x";
        assert_eq!(enc(single).as_bytes(), single);
    }

    #[test]
    fn b64_prefix_is_case_sensitive() {
        assert_eq!(enc(b"B64.foo"), "B64.foo");
        assert_eq!(enc(b"b64"), "b64");
        assert!(is_sha_fallback_name(&enc(b"b64.")));
    }

    #[test]
    fn binary_boundaries() {
        let raw177 = vec![7u8; 177];
        let e = encode_binary_segment(&raw177);
        assert!(e.starts_with("b64."));
        assert_eq!(e.len(), 240);
        assert_eq!(decode_segment(&e).as_deref(), Ok(&raw177[..]));
        let raw178 = vec![7u8; 178];
        let e = encode_binary_segment(&raw178);
        assert!(is_sha_fallback_name(&e));
        assert_eq!(encode_binary_segment(&[]), "b64.");
        assert_eq!(decode_segment("b64."), Ok(vec![]));
    }

    #[test]
    fn round_trips() {
        let mut seed: u32 = 12345;
        for len in 0..=240usize {
            let raw: Vec<u8> = (0..len)
                .map(|_| {
                    seed = seed.wrapping_mul(1_103_515_245).wrapping_add(12345);
                    (seed >> 16) as u8
                })
                .collect();
            let e = enc(&raw);
            assert!(e.len() <= MAX_SEGMENT_BYTES);
            if !is_sha_fallback_name(&e) {
                assert_eq!(decode_segment(&e), Ok(raw.clone()), "len {len}");
            }
            let b = encode_binary_segment(&raw);
            if len <= 177 {
                assert_eq!(decode_segment(&b), Ok(raw.clone()));
            } else {
                assert!(is_sha_fallback_name(&b));
            }
        }
        for raw in [&b"orders"[..], b"a b", b"~x", b"3/2", b"", b".", b"..", b"%41"] {
            assert_eq!(decode_segment(&enc(raw)).as_deref(), Ok(raw));
        }
    }

    #[test]
    fn decode_accepts_lower_hex() {
        assert_eq!(decode_segment("%e6%97%a5"), Ok("日".as_bytes().to_vec()));
        assert_eq!(decode_segment("3%2f2"), Ok(b"3/2".to_vec()));
    }

    #[test]
    fn decode_errors() {
        assert_eq!(decode_segment(&"a".repeat(241)), Err(SegmentError::TooLong));
        assert_eq!(decode_segment(&"a".repeat(240)), Ok(vec![b'a'; 240]));
        assert_eq!(decode_segment("%"), Err(SegmentError::BadPercentEscape { pos: 0 }));
        assert_eq!(decode_segment("ab%4"), Err(SegmentError::BadPercentEscape { pos: 2 }));
        assert_eq!(decode_segment("a%G1"), Err(SegmentError::BadPercentEscape { pos: 1 }));
        assert_eq!(decode_segment("a%1G"), Err(SegmentError::BadPercentEscape { pos: 1 }));
        assert_eq!(decode_segment("a~b"), Err(SegmentError::ForbiddenByte { pos: 1, byte: b'~' }));
        assert_eq!(decode_segment("a b"), Err(SegmentError::ForbiddenByte { pos: 1, byte: b' ' }));
        assert_eq!(
            decode_segment_bytes(&[b'a', 0xff]),
            Err(SegmentError::ForbiddenByte { pos: 1, byte: 0xff })
        );
        assert_eq!(decode_segment("b64.A"), Err(SegmentError::BadBase64));
        assert_eq!(decode_segment("b64.AA=="), Err(SegmentError::BadBase64));
        assert_eq!(decode_segment("b64.AA+/"), Err(SegmentError::BadBase64));
        assert_eq!(
            decode_segment("72ef1a090c013093607ce5a62f598cf4__b64.foo"),
            Err(SegmentError::ShaFallbackNeedsKeymap)
        );
        assert_eq!(decode_segment(""), Ok(vec![]));
        assert_eq!(decode_segment("."), Ok(b".".to_vec()));
        assert_eq!(decode_segment(".."), Ok(b"..".to_vec()));
        // Display is implemented for every variant.
        for e in [
            SegmentError::TooLong,
            SegmentError::ShaFallbackNeedsKeymap,
            SegmentError::BadBase64,
            SegmentError::BadPercentEscape { pos: 3 },
            SegmentError::ForbiddenByte { pos: 1, byte: 0x7e },
        ] {
            assert!(!e.to_string().is_empty());
        }
    }

    /// Literal transcription of the upstream steps (encode with a running
    /// bound, then inspect the *encoded* text) to cross-check the fast path.
    fn reference_encode(raw: &[u8]) -> String {
        let fallback = |raw: &[u8]| {
            let mut s = String::new();
            sha_fallback_into(raw, &mut s);
            s
        };
        if raw.len() > MAX_SEGMENT_BYTES {
            return fallback(raw);
        }
        let mut enc = String::new();
        for &c in raw {
            let add = if is_unreserved(c) { 1 } else { 3 };
            if enc.len() + add > MAX_SEGMENT_BYTES {
                return fallback(raw);
            }
            if is_unreserved(c) {
                enc.push(char::from(c));
            } else {
                enc.push_str(&format!("%{c:02X}"));
            }
        }
        if is_sha_fallback_name(&enc) || enc.starts_with("b64.") {
            return fallback(raw);
        }
        enc
    }

    #[test]
    fn matches_reference_algorithm() {
        let mut seed: u64 = 7;
        let mut next = |m: u64| {
            seed = seed.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1_442_695_040_888_963_407);
            (seed >> 33) % m
        };
        let alphabets: [&[u8]; 3] = [b"0123456789abcdefABCDEF_", b"b64.x/ %~", b"aZ9-._"];
        for round in 0..5000 {
            let len = next(260) as usize;
            let raw: Vec<u8> = if round % 4 == 3 {
                (0..len).map(|_| next(256) as u8).collect()
            } else {
                let a = alphabets[round % 3];
                (0..len).map(|_| a[next(a.len() as u64) as usize]).collect()
            };
            let mut raw = raw;
            if round % 7 == 0 && raw.len() >= 34 {
                raw[32] = b'_';
                raw[33] = b'_';
            }
            if round % 11 == 0 && raw.len() >= 4 {
                raw[..4].copy_from_slice(b"b64.");
            }
            assert_eq!(encode_segment(&raw), reference_encode(&raw), "{raw:?}");
        }
    }

    #[test]
    fn base64_go_leniency() {
        assert_eq!(b64url_nopad(&[0xff, 0xfe]), "__4");
        assert_eq!(b64url_nopad_decode(b"__4"), Some(vec![0xff, 0xfe]));
        // Non-zero trailing bits are ignored (RawURLEncoding is not Strict).
        assert_eq!(b64url_nopad_decode(b"__7"), Some(vec![0xff, 0xfe]));
        assert_eq!(b64url_nopad_decode(b"AB"), Some(vec![0]));
        // CR/LF are skipped anywhere.
        assert_eq!(b64url_nopad_decode(b"AA\r\nEC\nAw\r"), Some(vec![0, 1, 2, 3]));
        assert_eq!(b64url_nopad_decode(b"A\n"), None);
        assert_eq!(b64url_nopad_decode(b""), Some(vec![]));
        assert_eq!(b64url_nopad_decode(b"\n\r"), Some(vec![]));
        assert_eq!(b64url_nopad_decode(b"AAAAA"), None);
        assert_eq!(b64url_nopad_decode(b"AA A"), None);
        for len in 0..40usize {
            let raw: Vec<u8> = (0..len).map(|i| (i * 37 + 11) as u8).collect();
            assert_eq!(b64url_nopad_decode(b64url_nopad(&raw).as_bytes()), Some(raw));
        }
    }
}
