//! Byte-exact reproduction of the JSON text produced by Go's `encoding/json`
//! (toolchain Go 1.22 or newer) for the shapes elastickv's backup decoder
//! writes.
//!
//! Covered behaviour:
//!
//! * string quoting for arbitrary bytes ([`write_str`], [`str_len`]),
//!   including Go's treatment of invalid UTF-8 (one `\ufffd` per offending
//!   byte), U+2028/U+2029, and optional HTML escaping of `<` `>` `&`;
//! * `float64` numbers as `encoding/json` prints them ([`write_f64`],
//!   [`format_f64_go`]) and as `strconv.FormatFloat(v, 'g', -1, 64)` prints
//!   them ([`format_float_g`]);
//! * a streaming writer ([`JsonWriter`]) whose "pretty" mode equals
//!   `json.MarshalIndent(v, "", "  ")` and whose "compact" mode equals
//!   `json.Marshal` / `json.Encoder.Encode` (minus the encoder's trailing
//!   newline, see [`JsonWriter::end_line`]);
//! * pre-encoded fragments ([`JsonWriter::raw`]) handled the way Go treats a
//!   `json.RawMessage`: validated, whitespace removed, optionally
//!   HTML-escaped, and re-indented in pretty mode.
//!
//! Nothing here goes through serde; every byte is produced explicitly.

use std::fmt;

// ---------------------------------------------------------------------------
// Errors
// ---------------------------------------------------------------------------

/// A NaN or infinite `f64` was given where Go's encoder would fail with
/// `json: unsupported value`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("json: unsupported value: NaN or infinite float")]
pub(crate) struct NonFinite;

/// A fragment passed to [`JsonWriter::raw`] is not a single valid JSON value
/// (Go's `Marshal` fails on such a `json.RawMessage`). `offset` is the byte
/// position at which the problem was detected.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("invalid JSON fragment at byte {offset}")]
pub(crate) struct InvalidJson {
    pub(crate) offset: usize,
}

// ---------------------------------------------------------------------------
// Strings
// ---------------------------------------------------------------------------

const HEX: &[u8; 16] = b"0123456789abcdef";

/// Per-byte class used by the string scanner.
const C_PLAIN: u8 = 0; // copied verbatim in every mode
const C_HTML: u8 = 1; // `<` `>` `&`: verbatim unless HTML escaping is on
const C_ESCAPE: u8 = 2; // `"`, `\` and the C0 controls: always escaped
const C_HIGH: u8 = 3; // 0x80..=0xFF: start (or garbage) of a multi-byte sequence

static CLASS: [u8; 256] = {
    let mut t = [C_PLAIN; 256];
    let mut i = 0;
    while i < 256 {
        t[i] = if i < 0x20 || i == b'"' as usize || i == b'\\' as usize {
            C_ESCAPE
        } else if i == b'<' as usize || i == b'>' as usize || i == b'&' as usize {
            C_HTML
        } else if i >= 0x80 {
            C_HIGH
        } else {
            C_PLAIN
        };
        i += 1;
    }
    t
};

/// An escape sequence of at most six bytes (`\"` … `\u2029`).
#[derive(Clone, Copy)]
struct Esc {
    buf: [u8; 6],
    len: u8,
}

impl Esc {
    #[inline]
    fn short(c: u8) -> Esc {
        Esc { buf: [b'\\', c, 0, 0, 0, 0], len: 2 }
    }

    /// `\u00XX` for an ASCII byte.
    #[inline]
    fn byte(b: u8) -> Esc {
        Esc { buf: [b'\\', b'u', b'0', b'0', HEX[(b >> 4) as usize], HEX[(b & 0xF) as usize]], len: 6 }
    }

    #[inline]
    fn lit(s: &[u8; 6]) -> Esc {
        Esc { buf: *s, len: 6 }
    }

    #[inline]
    fn as_bytes(&self) -> &[u8] {
        &self.buf[..self.len as usize]
    }
}

/// Escape for an ASCII byte of class [`C_ESCAPE`] or [`C_HTML`].
#[inline]
fn ascii_escape(b: u8) -> Esc {
    match b {
        b'"' => Esc::short(b'"'),
        b'\\' => Esc::short(b'\\'),
        b'\n' => Esc::short(b'n'),
        b'\r' => Esc::short(b'r'),
        b'\t' => Esc::short(b't'),
        // Go 1.22 and newer use the short forms for backspace and form
        // feed (older releases wrote \u0008 and \u000c).
        0x08 => Esc::short(b'b'),
        0x0C => Esc::short(b'f'),
        _ => Esc::byte(b),
    }
}

/// Length of the well-formed UTF-8 sequence starting at `s[0]` (a
/// non-ASCII byte), or 0 when Go's `utf8.DecodeRune` would report an error for it
/// (in which case Go consumes exactly one byte).
///
/// Accepts exactly the Unicode scalar values: no overlong forms, no
/// surrogates (U+D800..U+DFFF), nothing above U+10FFFF.
#[inline]
fn utf8_seq_len(s: &[u8]) -> usize {
    // Sequence length and the allowed range of the second byte, which is
    // where overlongs, surrogates and values above U+10FFFF are excluded.
    let (len, lo, hi) = match s.first() {
        Some(0xC2..=0xDF) => (2, 0x80, 0xBF),
        Some(0xE0) => (3, 0xA0, 0xBF),
        Some(0xED) => (3, 0x80, 0x9F),
        Some(0xE1..=0xEF) => (3, 0x80, 0xBF),
        Some(0xF0) => (4, 0x90, 0xBF),
        Some(0xF4) => (4, 0x80, 0x8F),
        Some(0xF1..=0xF3) => (4, 0x80, 0xBF),
        _ => return 0,
    };
    match s.get(1..len) {
        Some([second, rest @ ..])
            if (lo..=hi).contains(second) && rest.iter().all(|c| (0x80..=0xBF).contains(c)) =>
        {
            len
        }
        _ => 0,
    }
}

/// Receiver for the pieces of an escaped string.
trait Sink {
    /// Bytes that appear in the output unchanged.
    fn verbatim(&mut self, bytes: &[u8]);
    /// A replacement for one input character.
    fn escape(&mut self, esc: &[u8]);
}

struct VecSink<'a>(&'a mut Vec<u8>);

impl Sink for VecSink<'_> {
    #[inline]
    fn verbatim(&mut self, bytes: &[u8]) {
        self.0.extend_from_slice(bytes);
    }
    #[inline]
    fn escape(&mut self, esc: &[u8]) {
        self.0.extend_from_slice(esc);
    }
}

#[cfg(test)]
struct LenSink(usize);

#[cfg(test)]
impl Sink for LenSink {
    #[inline]
    fn verbatim(&mut self, bytes: &[u8]) {
        self.0 += bytes.len();
    }
    #[inline]
    fn escape(&mut self, esc: &[u8]) {
        self.0 += esc.len();
    }
}

/// The single classification loop shared by [`write_str`] and [`str_len`]
/// (the quotes are not included). Runs of bytes that need no change are
/// reported with one `verbatim` call.
#[inline]
fn scan_str<S: Sink>(s: &[u8], html: bool, sink: &mut S) {
    let mut start = 0; // first byte not yet handed to the sink
    let mut i = 0;
    while i < s.len() {
        let b = s[i];
        let (e, consumed) = match CLASS[b as usize] {
            C_PLAIN => {
                i += 1;
                continue;
            }
            C_HTML if !html => {
                i += 1;
                continue;
            }
            C_HTML | C_ESCAPE => (ascii_escape(b), 1),
            _ => {
                // C_HIGH: decode like utf8.DecodeRune.
                let n = utf8_seq_len(&s[i..]);
                if n == 0 {
                    (Esc::lit(b"\\ufffd"), 1)
                } else if n == 3 && b == 0xE2 && s[i + 1] == 0x80 && (s[i + 2] | 1) == 0xA9 {
                    // U+2028 LINE SEPARATOR / U+2029 PARAGRAPH SEPARATOR are
                    // escaped in every mode.
                    let last = if s[i + 2] == 0xA8 { b'8' } else { b'9' };
                    (Esc::lit(&[b'\\', b'u', b'2', b'0', b'2', last]), 3)
                } else {
                    i += n;
                    continue;
                }
            }
        };
        if start < i {
            sink.verbatim(&s[start..i]);
        }
        sink.escape(e.as_bytes());
        i += consumed;
        start = i;
    }
    if start < s.len() {
        sink.verbatim(&s[start..]);
    }
}

/// Appends `s` as a quoted JSON string exactly as Go's encoder writes a Go
/// `string` holding these bytes (`html` = escape `<` `>` `&`).
pub(crate) fn write_str(out: &mut Vec<u8>, s: &[u8], html: bool) {
    out.reserve(s.len() + 2);
    out.push(b'"');
    scan_str(s, html, &mut VecSink(out));
    out.push(b'"');
}

/// Number of bytes [`write_str`] appends for `s` (quotes included).
#[cfg(test)]
pub(crate) fn str_len(s: &[u8], html: bool) -> usize {
    let mut sink = LenSink(2);
    scan_str(s, html, &mut sink);
    sink.0
}

// ---------------------------------------------------------------------------
// Integers
// ---------------------------------------------------------------------------

/// Appends the decimal digits of `v`.
pub(crate) fn write_u64(out: &mut Vec<u8>, mut v: u64) {
    let mut buf = [0u8; 20];
    let mut pos = buf.len();
    loop {
        pos -= 1;
        buf[pos] = b'0' + (v % 10) as u8;
        v /= 10;
        if v == 0 {
            break;
        }
    }
    out.extend_from_slice(&buf[pos..]);
}

/// Appends `v` in decimal with a leading `-` when negative.
pub(crate) fn write_i64(out: &mut Vec<u8>, v: i64) {
    if v < 0 {
        out.push(b'-');
    }
    write_u64(out, v.unsigned_abs());
}

/// Number of bytes [`write_u64`] appends.
#[cfg(test)]
pub(crate) fn u64_len(mut v: u64) -> usize {
    let mut n = 1;
    while v >= 10 {
        v /= 10;
        n += 1;
    }
    n
}

/// Number of bytes [`write_i64`] appends.
#[cfg(test)]
pub(crate) fn i64_len(v: i64) -> usize {
    usize::from(v < 0) + u64_len(v.unsigned_abs())
}

// ---------------------------------------------------------------------------
// Floats
// ---------------------------------------------------------------------------

/// Decimal digits of a finite non-zero magnitude: value = 0.d[0..nd] × 10^dp,
/// no leading or trailing zero digits.
struct Digits {
    d: [u8; 20],
    nd: usize,
    dp: i32,
}

impl Digits {
    fn digits(&self) -> &[u8] {
        &self.d[..self.nd]
    }

    /// The digits as an integer; `None` beyond 17 digits (never the case for
    /// shortest `f64` output, which keeps `2n + 1` far from overflow).
    fn as_u64(&self) -> Option<u64> {
        if self.nd > 17 {
            return None;
        }
        Some(self.digits().iter().fold(0u64, |acc, &c| acc * 10 + u64::from(c.wrapping_sub(b'0'))))
    }

    /// Replaces the digits by those of `n` scaled by 10^k (value = n × 10^k).
    fn set(&mut self, mut n: u64, k: i32) {
        let mut tmp = [0u8; 20];
        let mut len = 0;
        while n > 0 && len < tmp.len() {
            tmp[len] = b'0' + (n % 10) as u8;
            n /= 10;
            len += 1;
        }
        self.dp = len as i32 + k;
        // `tmp` holds the digits least significant first; drop trailing zeros.
        let mut lo = 0;
        while lo < len && tmp[lo] == b'0' {
            lo += 1;
        }
        self.nd = len - lo;
        for (i, &c) in tmp[lo..len].iter().rev().enumerate() {
            self.d[i] = c;
        }
    }
}

/// Fixed-capacity text buffer for `write!`.
struct StackBuf {
    buf: [u8; 40],
    len: usize,
}

impl fmt::Write for StackBuf {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        let end = self.len + s.len();
        let dst = self.buf.get_mut(self.len..end).ok_or(fmt::Error)?;
        dst.copy_from_slice(s.as_bytes());
        self.len = end;
        Ok(())
    }
}

/// 5^k as u128, `None` when it does not fit.
fn pow5(k: u32) -> Option<u128> {
    let mut p: u128 = 1;
    for _ in 0..k {
        p = p.checked_mul(5)?;
    }
    Some(p)
}

/// Whether m × 2^e × 2 == n × 10^k exactly, for odd `n` (used to detect a
/// value lying exactly halfway between two decimal candidates).
fn doubled_equals(m: u64, e: i32, n: u64, k: i32) -> bool {
    if m == 0 {
        return false;
    }
    let t = m.trailing_zeros() as i32;
    let odd_m = u128::from(m >> t);
    // Both sides' odd parts and powers of two must match; n and 5^|k| are odd.
    if t + e + 1 != k {
        return false;
    }
    if k >= 0 {
        pow5(k.unsigned_abs()).and_then(|p| p.checked_mul(u128::from(n))) == Some(odd_m)
    } else {
        pow5(k.unsigned_abs()).and_then(|p| p.checked_mul(odd_m)) == Some(u128::from(n))
    }
}

/// Compares 10^k with 2^g exactly (|k| small, as in every tie case).
fn cmp_pow10_pow2(k: i32, g: i32) -> std::cmp::Ordering {
    use std::cmp::Ordering::{Greater, Less};
    // 10^k = 5^k × 2^k, so compare 5^k with 2^(g-k).
    let s = g - k;
    if k >= 0 {
        if s < 0 {
            return Greater;
        }
        match (pow5(k.unsigned_abs()), s) {
            (Some(p5), s) if s < 128 => p5.cmp(&(1u128 << s)),
            (Some(_), _) => Less,
            (None, s) if s < 128 => Greater,
            // Both astronomically large: compare logarithms (5^k is never a
            // power of two for k > 0, so there is no equality to miss).
            (None, s) => (f64::from(k) * 5f64.log2()).total_cmp(&f64::from(s)),
        }
    } else {
        // 10^k < 2^g  <=>  1 < 2^s × 5^(-k).
        if s >= 0 {
            return Less;
        }
        // <=>  2^(-s) < 5^(-k)
        let ns = s.unsigned_abs();
        match pow5(k.unsigned_abs()) {
            Some(p5) if ns < 128 => (1u128 << ns).cmp(&p5),
            Some(_) => Greater,
            None if ns < 128 => Less,
            None => (f64::from(ns)).total_cmp(&(f64::from(-k) * 5f64.log2())),
        }
    }
}

/// Shortest round-trip digits of a finite, non-zero `v` (sign ignored),
/// chosen exactly as Go's `strconv` shortest mode chooses them.
///
/// Both Rust's formatter and Go's Ryū find the minimal digit count whose
/// candidates fall inside the rounding interval of `v` (bounds inclusive iff
/// the significand is even; the lower half-gap halved at a power of two), and
/// both pick the candidate closest to `v`. They differ only when `v` lies
/// exactly halfway between two such candidates: Rust rounds the tie up, Go
/// rounds it to the even candidate (when that one is inside the interval).
/// Example: 680279041106479.25 → Rust `...479.3`, Go `...479.2`.
fn shortest_digits(v: f64) -> Digits {
    use fmt::Write as _;
    let a = v.abs();
    let mut sb = StackBuf { buf: [0; 40], len: 0 };
    let _ = write!(sb, "{a:e}");
    let text = &sb.buf[..sb.len];
    let mut dg = Digits { d: [0; 20], nd: 0, dp: 0 };
    let mut exp_part: &[u8] = b"0";
    for (i, &c) in text.iter().enumerate() {
        match c {
            b'0'..=b'9' if dg.nd < dg.d.len() => {
                dg.d[dg.nd] = c;
                dg.nd += 1;
            }
            b'e' => {
                exp_part = &text[i + 1..];
                break;
            }
            _ => {} // the decimal point
        }
    }
    let exp10: i32 = std::str::from_utf8(exp_part).ok().and_then(|t| t.parse().ok()).unwrap_or(0);
    dg.dp = exp10 + 1;
    // Rust never emits trailing zeros for shortest output, but be safe.
    while dg.nd > 1 && dg.d[dg.nd - 1] == b'0' {
        dg.nd -= 1;
    }

    // Tie correction.
    if let Some(big) = dg.as_u64().filter(|n| n % 2 == 1) {
        let bits = a.to_bits();
        let biased = ((bits >> 52) & 0x7FF) as i32;
        let frac = bits & ((1u64 << 52) - 1);
        let (m, e) = if biased == 0 { (frac, -1074) } else { (frac | (1u64 << 52), biased - 1075) };
        let k = dg.dp - dg.nd as i32; // value of the digits = big × 10^k
        let lower_gap_halved = biased > 1 && frac == 0;
        let even_ok = |g: i32| match cmp_pow10_pow2(k, g) {
            std::cmp::Ordering::Less => true,
            std::cmp::Ordering::Equal => m % 2 == 0,
            std::cmp::Ordering::Greater => false,
        };
        if doubled_equals(m, e, 2 * big - 1, k) {
            // v is halfway between big-1 and big; big-1 is even. It is at
            // distance ½·10^k below v; allowed if inside the lower bound.
            let g = if lower_gap_halved { e - 1 } else { e };
            if big > 1 && even_ok(g) {
                dg.set(big - 1, k);
            }
        } else if doubled_equals(m, e, 2 * big + 1, k) && even_ok(e) {
            dg.set(big + 1, k);
        }
    }
    dg
}

/// Go's `%e`-style layout: `d[.ddd]e±X`, exponent padded to `min_exp_digits`.
fn push_exp_form(out: &mut Vec<u8>, neg: bool, dg: &Digits, min_exp_digits: usize) {
    if neg {
        out.push(b'-');
    }
    let digits = dg.digits();
    out.push(digits.first().copied().unwrap_or(b'0'));
    if digits.len() > 1 {
        out.push(b'.');
        out.extend_from_slice(&digits[1..]);
    }
    out.push(b'e');
    let exp = if digits.is_empty() { 0 } else { dg.dp - 1 };
    out.push(if exp < 0 { b'-' } else { b'+' });
    let mag = exp.unsigned_abs();
    if min_exp_digits >= 2 && mag < 10 {
        out.push(b'0');
    }
    write_u64(out, u64::from(mag));
}

/// Go's `%f`-style layout with exactly the digits needed (no exponent).
fn push_fixed_form(out: &mut Vec<u8>, neg: bool, dg: &Digits) {
    if neg {
        out.push(b'-');
    }
    let digits = dg.digits();
    let nd = digits.len() as i64;
    let dp = i64::from(dg.dp);
    let digit_at = |i: i64| -> u8 {
        if i >= 0 && i < nd {
            digits[i as usize]
        } else {
            b'0'
        }
    };
    if dp > 0 {
        for i in 0..dp {
            out.push(digit_at(i));
        }
    } else {
        out.push(b'0');
    }
    if nd > dp {
        out.push(b'.');
        for i in dp..nd {
            out.push(digit_at(i));
        }
    }
}

/// Appends `v` exactly as Go's `encoding/json` encodes a `float64`.
///
/// Go picks `strconv` format `'f'` unless `v != 0` and `|v| < 1e-6` or
/// `|v| >= 1e21`, in which case it uses `'e'` and then removes the leading
/// zero of a one-digit negative exponent (`1e-07` → `1e-7`). Positive
/// exponents are always >= 21 there, so the net effect is: explicit sign, no
/// padding. Both forms use the shortest round-trip digits. Negative zero
/// prints `-0`.
///
/// NaN and ±Inf make Go's encoder fail; they return `Err(NonFinite)` and
/// leave `out` untouched.
pub(crate) fn write_f64(out: &mut Vec<u8>, v: f64) -> Result<(), NonFinite> {
    if !v.is_finite() {
        return Err(NonFinite);
    }
    let neg = v.is_sign_negative();
    let abs = v.abs();
    if abs == 0.0 {
        out.extend_from_slice(if neg { b"-0" as &[u8] } else { b"0" });
        return Ok(());
    }
    let dg = shortest_digits(v);
    if (1e-6..1e21).contains(&abs) {
        push_fixed_form(out, neg, &dg);
    } else {
        push_exp_form(out, neg, &dg, 1);
    }
    Ok(())
}

/// [`write_f64`] into a new string; `None` for NaN and ±Inf.
#[cfg(test)]
pub(crate) fn format_f64_go(v: f64) -> Option<String> {
    let mut out = Vec::with_capacity(24);
    write_f64(&mut out, v).ok()?;
    // Only ASCII digits, '-', '+', '.', 'e' are ever written.
    String::from_utf8(out).ok()
}

/// `strconv.FormatFloat(v, 'g', -1, 64)`: shortest round-trip digits;
/// exponent form when the decimal exponent is < -4 or >= 6 (the fixed
/// cut-off Go uses for shortest `'g'`), with an explicit exponent sign and at
/// least two exponent digits (`1e+06`, `1e-05`, `1.7976931348623157e+308`);
/// otherwise positional (`100000`, `0.0001`, `-0`). Non-finite values give
/// `+Inf`, `-Inf` and `NaN`.
#[cfg(test)]
pub(crate) fn format_float_g(v: f64) -> String {
    if v.is_nan() {
        return "NaN".to_owned();
    }
    if v.is_infinite() {
        return if v > 0.0 { "+Inf" } else { "-Inf" }.to_owned();
    }
    let neg = v.is_sign_negative();
    if v == 0.0 {
        return if neg { "-0" } else { "0" }.to_owned();
    }
    let dg = shortest_digits(v);
    let mut out = Vec::with_capacity(24);
    let exp = dg.dp - 1;
    if !(-4..6).contains(&exp) {
        push_exp_form(&mut out, neg, &dg, 2);
    } else {
        push_fixed_form(&mut out, neg, &dg);
    }
    String::from_utf8(out).unwrap_or_default()
}

// ---------------------------------------------------------------------------
// Raw fragments: validation and string copying
// ---------------------------------------------------------------------------

/// Go's scanner rejects documents nested deeper than this.
const MAX_NESTING: usize = 10_000;

#[inline]
fn is_ws(b: u8) -> bool {
    matches!(b, b' ' | b'\t' | b'\n' | b'\r')
}

#[inline]
fn skip_ws(src: &[u8], mut i: usize) -> usize {
    while i < src.len() && is_ws(src[i]) {
        i += 1;
    }
    i
}

/// Validates the string starting at `src[i] == '"'`; returns the index just
/// past the closing quote. Like Go's scanner it accepts any byte >= 0x20
/// (including invalid UTF-8) and the escapes `\" \\ \/ \b \f \n \r \t \uXXXX`.
fn check_string(src: &[u8], mut i: usize) -> Result<usize, InvalidJson> {
    if src.get(i) != Some(&b'"') {
        return Err(InvalidJson { offset: i });
    }
    i += 1;
    loop {
        match src.get(i) {
            None => return Err(InvalidJson { offset: i }),
            Some(b'"') => return Ok(i + 1),
            Some(b'\\') => match src.get(i + 1) {
                Some(b'"' | b'\\' | b'/' | b'b' | b'f' | b'n' | b'r' | b't') => i += 2,
                Some(b'u') => {
                    for k in 0..4 {
                        match src.get(i + 2 + k) {
                            Some(c) if c.is_ascii_hexdigit() => {}
                            _ => return Err(InvalidJson { offset: i + 2 + k }),
                        }
                    }
                    i += 6;
                }
                _ => return Err(InvalidJson { offset: i + 1 }),
            },
            Some(&c) if c < 0x20 => return Err(InvalidJson { offset: i }),
            Some(_) => i += 1,
        }
    }
}

/// Validates a number `-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?`
/// starting at `i`; returns the index after it.
fn check_number(src: &[u8], mut i: usize) -> Result<usize, InvalidJson> {
    let digits = |src: &[u8], mut i: usize| -> Result<usize, InvalidJson> {
        if !matches!(src.get(i), Some(c) if c.is_ascii_digit()) {
            return Err(InvalidJson { offset: i });
        }
        while matches!(src.get(i), Some(c) if c.is_ascii_digit()) {
            i += 1;
        }
        Ok(i)
    };
    if src.get(i) == Some(&b'-') {
        i += 1;
    }
    match src.get(i) {
        Some(b'0') => i += 1,
        Some(b'1'..=b'9') => i = digits(src, i)?,
        _ => return Err(InvalidJson { offset: i }),
    }
    if src.get(i) == Some(&b'.') {
        i = digits(src, i + 1)?;
    }
    if matches!(src.get(i), Some(b'e' | b'E')) {
        i += 1;
        if matches!(src.get(i), Some(b'+' | b'-')) {
            i += 1;
        }
        i = digits(src, i)?;
    }
    Ok(i)
}

/// Checks that `src` holds exactly one JSON value (surrounded by optional
/// whitespace) under the same rules as Go's `json.Valid`, including its
/// nesting limit.
pub(crate) fn validate_json(src: &[u8]) -> Result<(), InvalidJson> {
    let mut stack = KindStack::new();
    let mut i = 0;
    'value: loop {
        // Parse one value starting at (whitespace before) `i`.
        i = skip_ws(src, i);
        match src.get(i) {
            Some(&open @ (b'{' | b'[')) => {
                if stack.len() >= MAX_NESTING {
                    return Err(InvalidJson { offset: i });
                }
                let is_obj = open == b'{';
                let close = if is_obj { b'}' } else { b']' };
                i = skip_ws(src, i + 1);
                if src.get(i) == Some(&close) {
                    i += 1;
                } else {
                    stack.push(is_obj);
                    if is_obj {
                        i = check_string(src, i)?;
                        i = skip_ws(src, i);
                        if src.get(i) != Some(&b':') {
                            return Err(InvalidJson { offset: i });
                        }
                        i += 1;
                    }
                    continue 'value;
                }
            }
            Some(b'"') => i = check_string(src, i)?,
            Some(b'-' | b'0'..=b'9') => i = check_number(src, i)?,
            Some(b't') => i = check_word(src, i, b"true")?,
            Some(b'f') => i = check_word(src, i, b"false")?,
            Some(b'n') => i = check_word(src, i, b"null")?,
            _ => return Err(InvalidJson { offset: i }),
        }
        // A value just ended: close containers or move to the next entry.
        loop {
            i = skip_ws(src, i);
            let Some(is_obj) = stack.top() else {
                return if i == src.len() { Ok(()) } else { Err(InvalidJson { offset: i }) };
            };
            match src.get(i) {
                Some(b',') => {
                    i += 1;
                    if is_obj {
                        i = check_string(src, skip_ws(src, i))?;
                        i = skip_ws(src, i);
                        if src.get(i) != Some(&b':') {
                            return Err(InvalidJson { offset: i });
                        }
                        i += 1;
                    }
                    continue 'value;
                }
                Some(b'}') if is_obj => {
                    stack.pop();
                    i += 1;
                }
                Some(b']') if !is_obj => {
                    stack.pop();
                    i += 1;
                }
                _ => return Err(InvalidJson { offset: i }),
            }
        }
    }
}

fn check_word(src: &[u8], i: usize, word: &[u8]) -> Result<usize, InvalidJson> {
    for (k, &w) in word.iter().enumerate() {
        if src.get(i + k) != Some(&w) {
            return Err(InvalidJson { offset: i + k });
        }
    }
    Ok(i + word.len())
}

/// Index just past the closing quote of the (already validated) string
/// starting at `src[i]`.
fn string_end(src: &[u8], mut i: usize) -> usize {
    i += 1;
    while i < src.len() {
        match src[i] {
            b'"' => return i + 1,
            b'\\' => i += 2,
            _ => i += 1,
        }
    }
    src.len()
}

/// Copies an already encoded string token (quotes included). With `html`,
/// applies the substitutions Go's compaction of a `json.RawMessage` makes
/// under HTML escaping: `<` `>` `&` → `\u003c` `\u003e` `\u0026` and the
/// UTF-8 bytes of U+2028/U+2029 → `\u2028`/`\u2029`. Everything else,
/// including existing escapes and invalid UTF-8, is kept as is.
fn copy_raw_string(out: &mut Vec<u8>, tok: &[u8], html: bool) {
    if !html {
        out.extend_from_slice(tok);
        return;
    }
    let mut start = 0;
    let mut i = 0;
    while i < tok.len() {
        let b = tok[i];
        if matches!(b, b'<' | b'>' | b'&') {
            out.extend_from_slice(&tok[start..i]);
            out.extend_from_slice(Esc::byte(b).as_bytes());
            i += 1;
            start = i;
        } else if b == 0xE2 && i + 2 < tok.len() && tok[i + 1] == 0x80 && (tok[i + 2] | 1) == 0xA9 {
            out.extend_from_slice(&tok[start..i]);
            let last = if tok[i + 2] == 0xA8 { b'8' } else { b'9' };
            out.extend_from_slice(&[b'\\', b'u', b'2', b'0', b'2', last]);
            i += 3;
            start = i;
        } else {
            i += 1;
        }
    }
    out.extend_from_slice(&tok[start..]);
}

// ---------------------------------------------------------------------------
// Nesting stack
// ---------------------------------------------------------------------------

/// Stack of container kinds (true = object), one bit per level. The first
/// 128 levels live inline so ordinary documents never allocate.
struct KindStack {
    len: usize,
    inline: u128,
    spill: Vec<u64>,
}

impl KindStack {
    const INLINE: usize = 128;

    fn new() -> Self {
        KindStack { len: 0, inline: 0, spill: Vec::new() }
    }

    #[inline]
    fn len(&self) -> usize {
        self.len
    }

    fn push(&mut self, is_obj: bool) {
        let at = self.len;
        if at < Self::INLINE {
            let bit = 1u128 << at;
            if is_obj {
                self.inline |= bit;
            } else {
                self.inline &= !bit;
            }
        } else {
            let k = at - Self::INLINE;
            let (word, bit) = (k / 64, 1u64 << (k % 64));
            if word >= self.spill.len() {
                self.spill.push(0);
            }
            if let Some(w) = self.spill.get_mut(word) {
                if is_obj {
                    *w |= bit;
                } else {
                    *w &= !bit;
                }
            }
        }
        self.len += 1;
    }

    fn top(&self) -> Option<bool> {
        let at = self.len.checked_sub(1)?;
        if at < Self::INLINE {
            Some(self.inline >> at & 1 == 1)
        } else {
            let k = at - Self::INLINE;
            self.spill.get(k / 64).map(|w| w >> (k % 64) & 1 == 1)
        }
    }

    fn pop(&mut self) -> Option<bool> {
        let top = self.top()?;
        self.len -= 1;
        Some(top)
    }
}

// ---------------------------------------------------------------------------
// Writer
// ---------------------------------------------------------------------------

const SPACES: &[u8; 64] = b"                                                                ";

/// Streaming JSON writer reproducing Go's output byte for byte.
///
/// * [`JsonWriter::pretty`] = `json.MarshalIndent(v, "", "  ")`: newline and
///   two spaces per level before every entry, `": "` after keys, `{}` / `[]`
///   for empty containers, closing bracket on its own line, no trailing
///   newline.
/// * [`JsonWriter::compact`] = `json.Marshal` (no whitespace at all).
///
/// `html` selects Go's HTML escaping (`Marshal`/`MarshalIndent` always
/// escape; an `Encoder` after `SetEscapeHTML(false)` does not).
///
/// The caller supplies values in order (struct field order, sorted map keys,
/// …). Misuse (a value in an object without a key, unbalanced `end_*`, two
/// top-level values without [`end_line`](Self::end_line)) trips a
/// `debug_assert!`; release builds never panic but may emit invalid JSON.
pub(crate) struct JsonWriter<'a> {
    out: &'a mut Vec<u8>,
    pretty: bool,
    html: bool,
    stack: KindStack,
    /// The innermost open container has no entries yet.
    empty: bool,
    /// In an object: a key has been written, its value has not.
    after_key: bool,
    /// A complete top-level value has been written.
    complete: bool,
}

impl<'a> JsonWriter<'a> {
    /// Indented output (`json.MarshalIndent(v, "", "  ")`), appended to `out`.
    #[must_use]
    pub(crate) fn pretty(out: &'a mut Vec<u8>, html: bool) -> Self {
        Self::new(out, true, html)
    }

    /// Compact output (`json.Marshal`, `json.Encoder`), appended to `out`.
    #[must_use]
    pub(crate) fn compact(out: &'a mut Vec<u8>, html: bool) -> Self {
        Self::new(out, false, html)
    }

    fn new(out: &'a mut Vec<u8>, pretty: bool, html: bool) -> Self {
        JsonWriter {
            out,
            pretty,
            html,
            stack: KindStack::new(),
            empty: true,
            after_key: false,
            complete: false,
        }
    }

    /// True once a whole top-level value has been written (and not yet
    /// followed by [`end_line`](Self::end_line)).
    #[cfg(test)]
    pub(crate) fn is_complete(&self) -> bool {
        self.complete
    }

    /// Current nesting depth (0 at top level).
    #[cfg(test)]
    pub(crate) fn depth(&self) -> usize {
        self.stack.len()
    }

    /// Ends the writer, checking (in debug builds) that exactly one complete
    /// value was written.
    #[cfg(test)]
    pub(crate) fn finish(self) {
        debug_assert!(self.complete && self.stack.len() == 0, "JsonWriter finished with an incomplete value");
    }

    /// Terminates the current top-level value with `\n` (what
    /// `json.Encoder.Encode` appends) and allows another top-level value —
    /// one writer can produce a whole JSONL file.
    pub(crate) fn end_line(&mut self) {
        debug_assert!(self.complete && self.stack.len() == 0, "end_line before the value is complete");
        self.out.push(b'\n');
        self.complete = false;
        self.empty = true;
        self.after_key = false;
    }

    // -- structure ---------------------------------------------------------

    pub(crate) fn begin_object(&mut self) {
        self.before_value();
        self.out.push(b'{');
        self.open(true);
    }

    pub(crate) fn end_object(&mut self) {
        self.close(true);
    }

    pub(crate) fn begin_array(&mut self) {
        self.before_value();
        self.out.push(b'[');
        self.open(false);
    }

    pub(crate) fn end_array(&mut self) {
        self.close(false);
    }

    /// Object member name, escaped like a string value.
    pub(crate) fn key(&mut self, k: &[u8]) {
        self.before_key();
        write_str(self.out, k, self.html);
        self.after_key_written();
    }

    // -- scalars -----------------------------------------------------------

    pub(crate) fn string(&mut self, s: &[u8]) {
        let html = self.html;
        self.string_with_html(s, html);
    }

    /// A string escaped with an explicit HTML setting, independent of the
    /// writer's. Models a value that Go produced with a separate, escaping
    /// `json.Marshal` and embedded as a `json.RawMessage` in a non-escaping
    /// encoder (e.g. the SQS `body` field in `messages.jsonl`).
    pub(crate) fn string_with_html(&mut self, s: &[u8], html: bool) {
        self.before_value();
        write_str(self.out, s, html);
        self.after_value();
    }

    pub(crate) fn u64(&mut self, v: u64) {
        self.before_value();
        write_u64(self.out, v);
        self.after_value();
    }

    pub(crate) fn i64(&mut self, v: i64) {
        self.before_value();
        write_i64(self.out, v);
        self.after_value();
    }

    pub(crate) fn bool(&mut self, v: bool) {
        self.before_value();
        self.out.extend_from_slice(if v { b"true" as &[u8] } else { b"false" });
        self.after_value();
    }

    pub(crate) fn null(&mut self) {
        self.before_value();
        self.out.extend_from_slice(b"null");
        self.after_value();
    }

    /// A `float64` as `encoding/json` writes it (see [`write_f64`]). NaN and
    /// ±Inf return `Err` without writing anything or changing the state; Go
    /// would abort the whole `Marshal`, so the caller should discard the
    /// output.
    #[cfg(test)]
    pub(crate) fn f64(&mut self, v: f64) -> Result<(), NonFinite> {
        if !v.is_finite() {
            return Err(NonFinite);
        }
        self.before_value();
        write_f64(self.out, v)?;
        self.after_value();
        Ok(())
    }

    /// A pre-encoded JSON value, treated like a Go `json.RawMessage` field:
    /// it must be one valid JSON value (else `Err`, nothing written, state
    /// unchanged); insignificant whitespace is removed; with HTML escaping on
    /// `<` `>` `&` and U+2028/U+2029 inside its strings become `\u` escapes
    /// while all other bytes and existing escapes are kept; in pretty mode it
    /// is indented to the current depth exactly as `MarshalIndent` would.
    pub(crate) fn raw(&mut self, json_fragment: &[u8]) -> Result<(), InvalidJson> {
        validate_json(json_fragment)?;
        let src = json_fragment;
        let mut i = 0;
        while i < src.len() {
            match src[i] {
                b' ' | b'\t' | b'\n' | b'\r' | b',' | b':' => i += 1,
                b'{' => {
                    self.begin_object();
                    i += 1;
                }
                b'}' => {
                    self.end_object();
                    i += 1;
                }
                b'[' => {
                    self.begin_array();
                    i += 1;
                }
                b']' => {
                    self.end_array();
                    i += 1;
                }
                b'"' => {
                    let end = string_end(src, i);
                    let tok = &src[i..end];
                    if self.stack.top() == Some(true) && !self.after_key {
                        self.before_key();
                        copy_raw_string(self.out, tok, self.html);
                        self.after_key_written();
                    } else {
                        self.before_value();
                        copy_raw_string(self.out, tok, self.html);
                        self.after_value();
                    }
                    i = end;
                }
                _ => {
                    // Number or literal: runs until a delimiter.
                    let mut end = i + 1;
                    while end < src.len()
                        && !matches!(src[end], b',' | b']' | b'}' | b' ' | b'\t' | b'\n' | b'\r')
                    {
                        end += 1;
                    }
                    self.before_value();
                    self.out.extend_from_slice(&src[i..end]);
                    self.after_value();
                    i = end;
                }
            }
        }
        Ok(())
    }

    // -- internals ---------------------------------------------------------

    fn newline_indent(&mut self, depth: usize) {
        self.out.push(b'\n');
        let mut n = depth * 2;
        while n > 0 {
            let k = n.min(SPACES.len());
            self.out.extend_from_slice(&SPACES[..k]);
            n -= k;
        }
    }

    /// Comma (unless first) and, in pretty mode, line break + indent before
    /// an array element or object key.
    fn entry_separator(&mut self) {
        if !self.empty {
            self.out.push(b',');
        }
        self.empty = false;
        if self.pretty {
            self.newline_indent(self.stack.len());
        }
    }

    fn before_value(&mut self) {
        match self.stack.top() {
            None => debug_assert!(!self.complete, "second top-level value"),
            Some(true) => {
                debug_assert!(self.after_key, "object value without a key");
                if self.after_key {
                    self.after_key = false;
                } else {
                    // Misuse in a release build: keep the output shaped.
                    self.entry_separator();
                }
            }
            Some(false) => self.entry_separator(),
        }
    }

    fn after_value(&mut self) {
        if self.stack.len() == 0 {
            self.complete = true;
        }
    }

    fn before_key(&mut self) {
        debug_assert!(
            self.stack.top() == Some(true) && !self.after_key,
            "key outside an object or two keys in a row"
        );
        self.entry_separator();
    }

    fn after_key_written(&mut self) {
        self.out.push(b':');
        if self.pretty {
            self.out.push(b' ');
        }
        self.after_key = true;
    }

    fn open(&mut self, is_obj: bool) {
        self.stack.push(is_obj);
        self.empty = true;
        self.after_key = false;
    }

    fn close(&mut self, is_obj: bool) {
        debug_assert!(
            self.stack.top() == Some(is_obj),
            "end_{} does not match the open container",
            if is_obj { "object" } else { "array" }
        );
        debug_assert!(!self.after_key, "object closed after a key");
        let had_entries = !self.empty;
        self.stack.pop();
        if had_entries && self.pretty {
            self.newline_indent(self.stack.len());
        }
        self.out.push(if is_obj { b'}' } else { b']' });
        self.empty = false;
        self.after_key = false;
        self.after_value();
    }
}

// ---------------------------------------------------------------------------
// Tests
// ---------------------------------------------------------------------------

#[cfg(test)]
mod tests {
    use super::*;

    fn q(s: &[u8], html: bool) -> String {
        let mut out = Vec::new();
        write_str(&mut out, s, html);
        assert_eq!(out.len(), str_len(s, html), "str_len mismatch for {s:?}");
        String::from_utf8(out).expect("escaped output is UTF-8")
    }

    fn both(s: &[u8]) -> String {
        let a = q(s, true);
        let b = q(s, false);
        assert_eq!(a, b, "html flag must not matter for {s:?}");
        a
    }

    #[test]
    fn control_bytes() {
        for b in 0u8..0x20 {
            let want = match b {
                0x08 => "\"\\b\"".to_owned(),
                0x09 => "\"\\t\"".to_owned(),
                0x0A => "\"\\n\"".to_owned(),
                0x0C => "\"\\f\"".to_owned(),
                0x0D => "\"\\r\"".to_owned(),
                _ => format!("\"\\u{:04x}\"", b),
            };
            assert_eq!(both(&[b]), want, "byte {b:#04x}");
        }
        assert_eq!(both(&[0x1F]), "\"\\u001f\"");
        assert_eq!(both(&[0x0B]), "\"\\u000b\"");
        assert_eq!(both(&[0x00]), "\"\\u0000\"");
        assert_eq!(both(&[0x7F]), "\"\x7f\"");
    }

    #[test]
    fn printable_ascii_and_specials() {
        for b in 0x20u8..0x80 {
            let got = q(&[b], false);
            let want = match b {
                b'"' => "\"\\\"\"".to_owned(),
                b'\\' => "\"\\\\\"".to_owned(),
                _ => format!("\"{}\"", b as char),
            };
            assert_eq!(got, want);
        }
        assert_eq!(both(b""), "\"\"");
        assert_eq!(both(b"a\"b\\c/d"), "\"a\\\"b\\\\c/d\"");
        assert_eq!(both(b"line1\nline2\r\n\ttab"), "\"line1\\nline2\\r\\n\\ttab\"");
    }

    #[test]
    fn html_escaping() {
        assert_eq!(
            q(b"<a href=\"x\">&</a>", true),
            "\"\\u003ca href=\\\"x\\\"\\u003e\\u0026\\u003c/a\\u003e\""
        );
        assert_eq!(q(b"<a href=\"x\">&</a>", false), "\"<a href=\\\"x\\\">&</a>\"");
        assert_eq!(q(b"x<y", true), "\"x\\u003cy\"");
        assert_eq!(q(b"&&", true), "\"\\u0026\\u0026\"");
        assert_eq!(q(b"&&", false), "\"&&\"");
    }

    #[test]
    fn line_separators_always_escaped() {
        let s = "a\u{2028}b\u{2029}c".as_bytes();
        assert_eq!(q(s, true), "\"a\\u2028b\\u2029c\"");
        assert_eq!(q(s, false), "\"a\\u2028b\\u2029c\"");
        // Neighbours are ordinary characters.
        assert_eq!(both("\u{2027}\u{202A}".as_bytes()), "\"\u{2027}\u{202A}\"");
    }

    #[test]
    fn valid_non_ascii_is_literal() {
        let s = "héllo ✓ 𝄞 \u{FFFD} \u{10FFFF} \u{D7FF} \u{E000}";
        assert_eq!(both(s.as_bytes()), format!("\"{s}\""));
    }

    #[test]
    fn invalid_utf8_one_replacement_per_byte() {
        let r = "\\ufffd";
        let cases: &[(&[u8], String)] = &[
            (b"\x80", format!("\"{r}\"")),
            (b"\xff", format!("\"{r}\"")),
            (b"a\x80b", format!("\"a{r}b\"")),
            // Truncated multi-byte sequences: each byte separately.
            (b"\xe2\x82", format!("\"{r}{r}\"")),
            (b"\xe2\x82x", format!("\"{r}{r}x\"")),
            (b"\xf0\x9f\x98", format!("\"{r}{r}{r}\"")),
            (b"\xc3", format!("\"{r}\"")),
            // Overlong encodings.
            (b"\xc0\x80", format!("\"{r}{r}\"")),
            (b"\xc1\xbf", format!("\"{r}{r}\"")),
            (b"\xe0\x80\xaf", format!("\"{r}{r}{r}\"")),
            (b"\xf0\x80\x80\xaf", format!("\"{r}{r}{r}{r}\"")),
            // Surrogates.
            (b"\xed\xa0\x80", format!("\"{r}{r}{r}\"")),
            (b"\xed\xbf\xbf", format!("\"{r}{r}{r}\"")),
            // Above U+10FFFF and invalid leads.
            (b"\xf4\x90\x80\x80", format!("\"{r}{r}{r}{r}\"")),
            (b"\xf5\x80\x80\x80", format!("\"{r}{r}{r}{r}\"")),
            (b"\xf8\x88\x80\x80\x80", format!("\"{r}{r}{r}{r}{r}\"")),
            // A bad continuation stops the sequence; the next byte restarts.
            (b"\xe2\x28\xa1", format!("\"{r}({r}\"")),
            (b"\xe2\x80\xe2\x80\xa8", format!("\"{r}{r}\\u2028\"")),
            // Valid sequence right after garbage.
            ("\u{80}".as_bytes(), "\"\u{80}\"".to_owned()),
            (b"\x80\xc2\x80", format!("\"{r}\u{80}\"")),
            // The literal replacement character stays literal.
            (b"\xef\xbf\xbd", "\"\u{FFFD}\"".to_owned()),
            // Ends of the valid ranges.
            (b"\xed\x9f\xbf", "\"\u{D7FF}\"".to_owned()),
            (b"\xf4\x8f\xbf\xbf", "\"\u{10FFFF}\"".to_owned()),
            (b"\xe0\xa0\x80", "\"\u{800}\"".to_owned()),
            (b"\xf0\x90\x80\x80", "\"\u{10000}\"".to_owned()),
        ];
        for (input, want) in cases {
            assert_eq!(&both(input), want, "input {input:?}");
        }
    }

    /// Independent reference implementation of Go's loop, written from the
    /// description (std UTF-8 decoding for validity; one byte per error).
    fn reference_escape(s: &[u8], html: bool) -> Vec<u8> {
        let mut out = vec![b'"'];
        let mut i = 0;
        while i < s.len() {
            let b = s[i];
            if b < 0x80 {
                match b {
                    b'"' => out.extend_from_slice(b"\\\""),
                    b'\\' => out.extend_from_slice(b"\\\\"),
                    b'\n' => out.extend_from_slice(b"\\n"),
                    b'\r' => out.extend_from_slice(b"\\r"),
                    b'\t' => out.extend_from_slice(b"\\t"),
                    0x08 => out.extend_from_slice(b"\\b"),
                    0x0C => out.extend_from_slice(b"\\f"),
                    b'<' | b'>' | b'&' if html => out.extend_from_slice(format!("\\u{:04x}", b).as_bytes()),
                    0..=0x1F => out.extend_from_slice(format!("\\u{:04x}", b).as_bytes()),
                    _ => out.push(b),
                }
                i += 1;
                continue;
            }
            // Longest prefix (≤ 4 bytes) that std accepts as one char.
            let mut size = 0;
            for n in 2..=4 {
                if i + n <= s.len() {
                    if let Ok(t) = std::str::from_utf8(&s[i..i + n]) {
                        if t.chars().count() == 1 {
                            size = n;
                            break;
                        }
                    }
                }
            }
            if size == 0 {
                out.extend_from_slice(b"\\ufffd");
                i += 1;
            } else {
                let c = std::str::from_utf8(&s[i..i + size]).ok().and_then(|t| t.chars().next());
                match c {
                    Some('\u{2028}') => out.extend_from_slice(b"\\u2028"),
                    Some('\u{2029}') => out.extend_from_slice(b"\\u2029"),
                    _ => out.extend_from_slice(&s[i..i + size]),
                }
                i += size;
            }
        }
        out.push(b'"');
        out
    }

    /// Small deterministic generator (SplitMix64).
    struct Rng(u64);
    impl Rng {
        fn next(&mut self) -> u64 {
            self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
            let mut z = self.0;
            z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
            z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
            z ^ (z >> 31)
        }
        fn below(&mut self, n: usize) -> usize {
            (self.next() % n as u64) as usize
        }
    }

    fn gen_bytes(rng: &mut Rng) -> Vec<u8> {
        const ATOMS: &[&[u8]] = &[
            b"a",
            b"Z9",
            b" ",
            b"\"",
            b"\\",
            b"<",
            b">",
            b"&",
            b"\x00",
            b"\x08",
            b"\x0c",
            b"\n",
            b"\x1f",
            b"\x7f",
            b"\xc3\xa9",
            b"\xe2\x80\xa8",
            b"\xe2\x80\xa9",
            b"\xe2\x80",
            b"\xe2",
            b"\xf0\x9f\x98\x80",
            b"\xf0\x9f",
            b"\xed\xa0\x80",
            b"\xc0\x80",
            b"\xf4\x90\x80\x80",
            b"\xef\xbf\xbd",
            b"\x80",
            b"\xbf",
            b"\xff",
        ];
        let len = rng.below(24);
        let mut v = Vec::new();
        for _ in 0..len {
            if rng.below(3) == 0 {
                v.push(rng.next() as u8);
            } else {
                v.extend_from_slice(ATOMS[rng.below(ATOMS.len())]);
            }
        }
        v
    }

    #[test]
    fn generated_strings_agree_with_reference_and_len() {
        let mut rng = Rng(0x5EED_1234);
        for _ in 0..5000 {
            let s = gen_bytes(&mut rng);
            for html in [false, true] {
                let mut out = Vec::new();
                write_str(&mut out, &s, html);
                assert_eq!(out, reference_escape(&s, html), "input {s:?} html={html}");
                assert_eq!(out.len(), str_len(&s, html), "len for {s:?}");
                // Output is always valid UTF-8 and valid JSON.
                assert!(std::str::from_utf8(&out).is_ok());
                assert!(validate_json(&out).is_ok());
                // And it decodes back to the lossy text (cross-check with serde_json).
                let back: String = serde_json::from_slice(&out).expect("serde parses it");
                let lossy = go_lossy(&s);
                assert_eq!(back, lossy);
            }
        }
    }

    /// What a JSON decoder reads back: invalid bytes become U+FFFD one by one.
    fn go_lossy(s: &[u8]) -> String {
        let mut out = String::new();
        let mut i = 0;
        while i < s.len() {
            let n = if s[i] < 0x80 { 1 } else { utf8_seq_len(&s[i..]) };
            if n == 0 {
                out.push('\u{FFFD}');
                i += 1;
            } else {
                out.push_str(std::str::from_utf8(&s[i..i + n]).expect("valid"));
                i += n;
            }
        }
        out
    }

    #[test]
    fn str_len_all_single_and_double_bytes() {
        for a in 0..=255u8 {
            for html in [false, true] {
                assert_eq!(q(&[a], html).len(), str_len(&[a], html));
                for b in 0..=255u8 {
                    let mut out = Vec::new();
                    write_str(&mut out, &[a, b], html);
                    assert_eq!(out.len(), str_len(&[a, b], html));
                    assert_eq!(out, reference_escape(&[a, b], html));
                }
            }
        }
    }

    // -- floats --------------------------------------------------------------

    fn j(v: f64) -> String {
        format_f64_go(v).expect("finite")
    }

    #[test]
    fn float_table_json() {
        let table: &[(f64, &str)] = &[
            (0.0, "0"),
            (-0.0, "-0"),
            (1.0, "1"),
            (0.1, "0.1"),
            (1e20, "100000000000000000000"),
            (1e21, "1e+21"),
            (1e-6, "0.000001"),
            (1e-7, "1e-7"),
            (123456789.125, "123456789.125"),
            (5e-324, "5e-324"),
            (1.7976931348623157e308, "1.7976931348623157e+308"),
            (-1.7976931348623157e308, "-1.7976931348623157e+308"),
            (3.0, "3"),
            (-2.5, "-2.5"),
            (100.0, "100"),
            (85.5, "85.5"),
            (1.25e-7, "1.25e-7"),
            (1.5, "1.5"),
            (-2.0, "-2"),
            (12345678901234567890.0, "12345678901234567000"),
            (999999999999999900000.0, "999999999999999900000"),
            (1.2e-10, "1.2e-10"),
            (2.5e-100, "2.5e-100"),
            (1e100, "1e+100"),
            (-1e21, "-1e+21"),
            (-1e-7, "-1e-7"),
            (0.000001234, "0.000001234"),
            (680_279_041_106_479.0 + 0.25, "680279041106479.2"),
            (680_279_041_106_479.0 + 0.75, "680279041106479.8"),
            // 2^-24: exact tie, but the even candidate ...062 lies below the
            // (halved) lower half-gap of a power of two, so Go keeps ...063.
            (1.0 / 16_777_216.0, "5.960464477539063e-8"),
            // 2^-25: exact tie; the even candidate is inside, Go takes it.
            (1.0 / 33_554_432.0, "2.9802322387695312e-8"),
            (2.2250738585072014e-308, "2.2250738585072014e-308"),
            (0.30000000000000004, "0.30000000000000004"),
            (1.0 / 3.0, "0.3333333333333333"),
            (9007199254740993.0, "9007199254740992"),
        ];
        for &(v, want) in table {
            assert_eq!(j(v), want, "value {v:e}");
            let mut w = Vec::new();
            let mut jw = JsonWriter::compact(&mut w, true);
            jw.f64(v).expect("finite");
            jw.finish();
            assert_eq!(w, want.as_bytes());
        }
        // Cut-offs: the largest value below 1e21 stays positional, the
        // smallest value >= 1e-6 too.
        let below = f64::from_bits(1e21f64.to_bits() - 1);
        assert_eq!(j(below), "999999999999999900000");
        let above = f64::from_bits(1e-6f64.to_bits() + 1);
        assert_eq!(j(above), "0.0000010000000000000002");
        let under = f64::from_bits(1e-6f64.to_bits() - 1);
        assert_eq!(j(under), "9.999999999999997e-7");
    }

    #[test]
    fn float_non_finite() {
        assert_eq!(format_f64_go(f64::NAN), None);
        assert_eq!(format_f64_go(f64::INFINITY), None);
        assert_eq!(format_f64_go(f64::NEG_INFINITY), None);
        let mut out = b"x".to_vec();
        assert_eq!(write_f64(&mut out, f64::NAN), Err(NonFinite));
        assert_eq!(out, b"x");
        let mut w = Vec::new();
        let mut jw = JsonWriter::compact(&mut w, true);
        jw.begin_array();
        assert_eq!(jw.f64(f64::INFINITY), Err(NonFinite));
        jw.f64(1.0).expect("finite");
        jw.end_array();
        jw.finish();
        assert_eq!(w, b"[1]");
    }

    #[test]
    fn float_table_g() {
        let table: &[(f64, &str)] = &[
            (0.0, "0"),
            (-0.0, "-0"),
            (1.0, "1"),
            (0.1, "0.1"),
            (1e20, "1e+20"),
            (1e21, "1e+21"),
            (1e-6, "1e-06"),
            (1e-7, "1e-07"),
            (123456789.125, "1.23456789125e+08"),
            (5e-324, "5e-324"),
            (1.7976931348623157e308, "1.7976931348623157e+308"),
            (3.0, "3"),
            (-2.5, "-2.5"),
            (100000.0, "100000"),
            (999999.0, "999999"),
            (1e6, "1e+06"),
            (1234567.0, "1.234567e+06"),
            (0.0001, "0.0001"),
            (0.00001, "1e-05"),
            (0.000123, "0.000123"),
            (-1.5e-5, "-1.5e-05"),
            (1e100, "1e+100"),
            (1.0 / 33_554_432.0, "2.9802322387695312e-08"),
            (680_279_041_106_479.0 + 0.25, "6.802790411064792e+14"),
            (f64::INFINITY, "+Inf"),
            (f64::NEG_INFINITY, "-Inf"),
            (f64::NAN, "NaN"),
        ];
        for &(v, want) in table {
            assert_eq!(format_float_g(v), want, "value {v:e}");
        }
    }

    #[test]
    fn float_json_roundtrips_and_is_valid() {
        let mut rng = Rng(42);
        for _ in 0..20000 {
            let v = f64::from_bits(rng.next());
            let Some(s) = format_f64_go(v) else {
                assert!(!v.is_finite());
                continue;
            };
            let back: f64 = s.parse().expect("parses");
            assert_eq!(back.to_bits(), v.to_bits(), "{s}");
            assert!(validate_json(s.as_bytes()).is_ok(), "{s}");
            let g = format_float_g(v);
            let back: f64 = g.parse().expect("parses");
            assert_eq!(back.to_bits(), v.to_bits(), "{g}");
        }
    }

    // -- integers ------------------------------------------------------------

    #[test]
    fn integers() {
        let mut out = Vec::new();
        for v in [0u64, 1, 9, 10, 99, 100, 12345, u64::MAX] {
            out.clear();
            write_u64(&mut out, v);
            assert_eq!(out, v.to_string().as_bytes());
            assert_eq!(u64_len(v), out.len());
        }
        for v in [0i64, -1, 1, -10, i64::MIN, i64::MAX] {
            out.clear();
            write_i64(&mut out, v);
            assert_eq!(out, v.to_string().as_bytes());
            assert_eq!(i64_len(v), out.len());
        }
    }

    // -- writer --------------------------------------------------------------

    /// `{"name": n, "type": t}` with empty members omitted.
    fn key_attr(w: &mut JsonWriter<'_>, name: &str, ty: &str) {
        w.begin_object();
        if !name.is_empty() {
            w.key(b"name");
            w.string(name.as_bytes());
        }
        if !ty.is_empty() {
            w.key(b"type");
            w.string(ty.as_bytes());
        }
        w.end_object();
    }

    #[test]
    fn dynamodb_schema_example() {
        let want = r#"{
  "format_version": 1,
  "table_name": "orders",
  "primary_key": {
    "hash_key": {
      "name": "customer",
      "type": "S"
    },
    "range_key": {
      "name": "ts",
      "type": "N"
    }
  },
  "attribute_definitions": [
    {
      "name": "customer",
      "type": "S"
    },
    {
      "name": "status",
      "type": "S"
    },
    {
      "name": "ts",
      "type": "N"
    }
  ],
  "global_secondary_indexes": [
    {
      "name": "by_status",
      "key_schema": {
        "hash_key": {
          "name": "status",
          "type": "S"
        },
        "range_key": {}
      },
      "projection": {
        "type": "ALL"
      }
    }
  ]
}"#;
        let mut out = Vec::new();
        let mut w = JsonWriter::pretty(&mut out, true);
        w.begin_object();
        w.key(b"format_version");
        w.u64(1);
        w.key(b"table_name");
        w.string(b"orders");
        w.key(b"primary_key");
        w.begin_object();
        w.key(b"hash_key");
        key_attr(&mut w, "customer", "S");
        w.key(b"range_key");
        key_attr(&mut w, "ts", "N");
        w.end_object();
        w.key(b"attribute_definitions");
        w.begin_array();
        for (n, t) in [("customer", "S"), ("status", "S"), ("ts", "N")] {
            key_attr(&mut w, n, t);
        }
        w.end_array();
        w.key(b"global_secondary_indexes");
        w.begin_array();
        w.begin_object();
        w.key(b"name");
        w.string(b"by_status");
        w.key(b"key_schema");
        w.begin_object();
        w.key(b"hash_key");
        key_attr(&mut w, "status", "S");
        w.key(b"range_key");
        key_attr(&mut w, "", "");
        w.end_object();
        w.key(b"projection");
        w.begin_object();
        w.key(b"type");
        w.string(b"ALL");
        w.end_object();
        w.end_object();
        w.end_array();
        w.end_object();
        w.finish();
        assert_eq!(String::from_utf8(out).expect("utf8"), want);
    }

    fn typed(w: &mut JsonWriter<'_>, tag: &[u8], f: impl FnOnce(&mut JsonWriter<'_>)) {
        w.begin_object();
        w.key(tag);
        f(w);
        w.end_object();
    }

    #[test]
    fn dynamodb_item_example() {
        let want = r#"{
  "blob": {
    "B": "AAH+"
  },
  "customer": {
    "S": "c#7"
  },
  "extra": {
    "M": {
      "a": {
        "L": [
          {
            "N": "1"
          },
          {
            "NULL": true
          }
        ]
      },
      "z": {
        "BOOL": true
      }
    }
  },
  "status": {
    "S": "open"
  },
  "tags": {
    "SS": [
      "b",
      "a"
    ]
  },
  "ts": {
    "N": "1.50"
  }
}"#;
        let mut out = Vec::new();
        let mut w = JsonWriter::pretty(&mut out, true);
        w.begin_object();
        w.key(b"blob");
        typed(&mut w, b"B", |w| w.string(b"AAH+"));
        w.key(b"customer");
        typed(&mut w, b"S", |w| w.string(b"c#7"));
        w.key(b"extra");
        typed(&mut w, b"M", |w| {
            w.begin_object();
            w.key(b"a");
            typed(w, b"L", |w| {
                w.begin_array();
                typed(w, b"N", |w| w.string(b"1"));
                typed(w, b"NULL", |w| w.bool(true));
                w.end_array();
            });
            w.key(b"z");
            typed(w, b"BOOL", |w| w.bool(true));
            w.end_object();
        });
        w.key(b"status");
        typed(&mut w, b"S", |w| w.string(b"open"));
        w.key(b"tags");
        typed(&mut w, b"SS", |w| {
            w.begin_array();
            w.string(b"b");
            w.string(b"a");
            w.end_array();
        });
        w.key(b"ts");
        typed(&mut w, b"N", |w| w.string(b"1.50"));
        w.end_object();
        w.finish();
        assert_eq!(String::from_utf8(out).expect("utf8"), want);
    }

    #[test]
    fn s3_sidecar_example() {
        let want = r#"{
  "format_version": 1,
  "etag": "5eb63bbbe01eeed093cb22bb8f5acdc3",
  "size_bytes": 11,
  "last_modified": "2024-04-29T14:13:20.123Z",
  "content_type": "text/plain",
  "user_metadata": {
    "camera": "fx30"
  }
}"#;
        let mut out = Vec::new();
        let mut w = JsonWriter::pretty(&mut out, true);
        w.begin_object();
        w.key(b"format_version");
        w.u64(1);
        w.key(b"etag");
        w.string(b"5eb63bbbe01eeed093cb22bb8f5acdc3");
        w.key(b"size_bytes");
        w.i64(11);
        w.key(b"last_modified");
        w.string(b"2024-04-29T14:13:20.123Z");
        w.key(b"content_type");
        w.string(b"text/plain");
        w.key(b"user_metadata");
        w.begin_object();
        w.key(b"camera");
        w.string(b"fx30");
        w.end_object();
        w.end_object();
        w.finish();
        assert_eq!(String::from_utf8(out).expect("utf8"), want);
    }

    #[test]
    fn redis_zset_example_with_raw_members() {
        let want = r#"{
  "format_version": 1,
  "members": [
    {
      "member": "alice",
      "score": 100
    },
    {
      "member": "bob",
      "score": 85.5
    },
    {
      "member": "carol",
      "score": "+inf"
    },
    {
      "member": "dave",
      "score": 1e+21
    },
    {
      "member": "eve",
      "score": 1.25e-7
    },
    {
      "member": {
        "base64": "_w"
      },
      "score": -2
    }
  ],
  "expire_at_ms": null
}"#;
        let mut out = Vec::new();
        let mut w = JsonWriter::pretty(&mut out, true);
        w.begin_object();
        w.key(b"format_version");
        w.u64(1);
        w.key(b"members");
        w.begin_array();
        for (m, s) in
            [("alice", 100.0), ("bob", 85.5), ("carol", f64::INFINITY), ("dave", 1e21), ("eve", 1.25e-7)]
        {
            w.begin_object();
            w.key(b"member");
            w.string(m.as_bytes());
            w.key(b"score");
            if w.f64(s).is_err() {
                w.string(b"+inf");
            }
            w.end_object();
        }
        // Upstream marshals the envelope separately and embeds it as a
        // RawMessage; MarshalIndent re-indents it.
        w.begin_object();
        w.key(b"member");
        w.raw(br#"{"base64":"_w"}"#).expect("valid");
        w.key(b"score");
        w.raw(b"-2").expect("valid");
        w.end_object();
        w.end_array();
        w.key(b"expire_at_ms");
        w.null();
        w.end_object();
        w.finish();
        assert_eq!(String::from_utf8(out).expect("utf8"), want);
    }

    #[test]
    fn compact_jsonl_lines() {
        let mut out = Vec::new();
        let mut w = JsonWriter::compact(&mut out, false);
        w.begin_object();
        w.key(b"key");
        w.string(b"a<b");
        w.key(b"expire_at_ms");
        w.u64(1735689600000);
        w.end_object();
        w.end_line();
        w.begin_object();
        w.key(b"message_id");
        w.string(b"m1");
        w.key(b"body");
        w.string_with_html(b"<order id=\"1\"/>", true);
        w.key(b"message_attributes");
        w.begin_object();
        w.key(b"trace");
        w.raw(b" { \"DataType\" : \"String\",\n \"StringValue\":\"a<b\\u003c\" } ").expect("valid");
        w.end_object();
        w.key(b"empty");
        w.begin_array();
        w.end_array();
        w.key(b"e2");
        w.begin_object();
        w.end_object();
        w.end_object();
        w.end_line();
        drop(w);
        let want = concat!(
            "{\"key\":\"a<b\",\"expire_at_ms\":1735689600000}\n",
            "{\"message_id\":\"m1\",\"body\":\"\\u003corder id=\\\"1\\\"/\\u003e\",",
            "\"message_attributes\":{\"trace\":{\"DataType\":\"String\",\"StringValue\":\"a<b\\u003c\"}},",
            "\"empty\":[],\"e2\":{}}\n"
        );
        assert_eq!(String::from_utf8(out).expect("utf8"), want);
    }

    #[test]
    fn pretty_empty_and_scalars() {
        let render = |f: &dyn Fn(&mut JsonWriter<'_>)| {
            let mut out = Vec::new();
            let mut w = JsonWriter::pretty(&mut out, true);
            f(&mut w);
            w.finish();
            String::from_utf8(out).expect("utf8")
        };
        assert_eq!(
            render(&|w| {
                w.begin_object();
                w.end_object();
            }),
            "{}"
        );
        assert_eq!(
            render(&|w| {
                w.begin_array();
                w.end_array();
            }),
            "[]"
        );
        assert_eq!(render(&|w| w.string(b"x")), "\"x\"");
        assert_eq!(render(&|w| w.i64(-5)), "-5");
        assert_eq!(
            render(&|w| {
                w.begin_array();
                w.begin_array();
                w.end_array();
                w.begin_object();
                w.end_object();
                w.null();
                w.end_array();
            }),
            "[\n  [],\n  {},\n  null\n]"
        );
    }

    #[test]
    fn raw_reindents_and_escapes() {
        let frag = "{ \"a\" : [1, 2.5e-3, {\"x<\": \"y&\u{2028}\"}, [], {}], \"b\":true ,\"c\":null, \"d\":\"\\u2028\\n\" }";
        let mut out = Vec::new();
        let mut w = JsonWriter::pretty(&mut out, true);
        w.begin_array();
        w.raw(frag.as_bytes()).expect("valid");
        w.end_array();
        w.finish();
        let want = "[\n  {\n    \"a\": [\n      1,\n      2.5e-3,\n      {\n        \"x\\u003c\": \"y\\u0026\\u2028\"\n      },\n      [],\n      {}\n    ],\n    \"b\": true,\n    \"c\": null,\n    \"d\": \"\\u2028\\n\"\n  }\n]";
        assert_eq!(String::from_utf8(out).expect("utf8"), want);

        let mut out = Vec::new();
        let mut w = JsonWriter::compact(&mut out, false);
        w.raw(frag.as_bytes()).expect("valid");
        w.finish();
        let want =
            "{\"a\":[1,2.5e-3,{\"x<\":\"y&\u{2028}\"},[],{}],\"b\":true,\"c\":null,\"d\":\"\\u2028\\n\"}";
        assert_eq!(String::from_utf8(out).expect("utf8"), want);
    }

    #[test]
    fn raw_rejects_invalid_without_writing() {
        let bad: &[&[u8]] = &[
            b"",
            b" ",
            b"{",
            b"}",
            b"[1,]",
            b"[1 2]",
            b"{\"a\"}",
            b"{\"a\":}",
            b"{\"a\":1,}",
            b"{1:2}",
            b"01",
            b"1.",
            b".5",
            b"1e",
            b"-",
            b"+1",
            b"tru",
            b"truex",
            b"nul",
            b"\"abc",
            b"\"a\x01\"",
            b"\"\\x\"",
            b"\"\\u12g4\"",
            b"1 2",
            b"[}",
            b"{]",
            b"NaN",
        ];
        for &frag in bad {
            let mut out = b"[".to_vec();
            let mut w = JsonWriter::compact(&mut out, true);
            assert!(w.raw(frag).is_err(), "accepted {frag:?}");
            assert!(!w.is_complete());
            assert_eq!(w.depth(), 0);
            drop(w);
            assert_eq!(out, b"[", "wrote output for {frag:?}");
            assert!(serde_json::from_slice::<serde_json::Value>(frag).is_err());
        }
        let good: &[&[u8]] = &[
            b"0",
            b"-0",
            b"-0.0e+00",
            b"1E5",
            b"\"\\/\\b\\f\\u00aF\"",
            b" \t\r\n[ ] ",
            b"\"\xff\xfe\"",
            b"{\"\":{\"\":[]}}",
        ];
        for &frag in good {
            assert!(validate_json(frag).is_ok(), "rejected {frag:?}");
        }
    }

    #[test]
    fn raw_nesting_limit_matches_go() {
        let deep = |n: usize| {
            let mut v = vec![b'['; n];
            v.extend(std::iter::repeat_n(b']', n));
            v
        };
        assert!(validate_json(&deep(10_000)).is_ok());
        assert!(validate_json(&deep(10_001)).is_err());
        // Deep raw values render fine (beyond the inline stack).
        let mut out = Vec::new();
        let mut w = JsonWriter::compact(&mut out, true);
        w.raw(&deep(300)).expect("valid");
        w.finish();
        assert_eq!(out, deep(300));
        let mut out = Vec::new();
        let mut w = JsonWriter::pretty(&mut out, true);
        w.raw(b"[[[[[[]]]]]]").expect("valid");
        w.finish();
        assert_eq!(
            String::from_utf8(out).expect("utf8"),
            "[\n  [\n    [\n      [\n        [\n          []\n        ]\n      ]\n    ]\n  ]\n]"
        );
    }

    #[test]
    fn deep_writer_nesting_spills() {
        let mut out = Vec::new();
        let mut w = JsonWriter::compact(&mut out, true);
        for i in 0..500 {
            if i % 2 == 0 {
                w.begin_array();
            } else {
                w.begin_object();
                w.key(b"k");
            }
        }
        w.u64(7);
        for i in (0..500).rev() {
            if i % 2 == 0 {
                w.end_array();
            } else {
                w.end_object();
            }
        }
        w.finish();
        let mut want = String::new();
        for i in 0..500 {
            want.push_str(if i % 2 == 0 { "[" } else { "{\"k\":" });
        }
        want.push('7');
        for i in (0..500).rev() {
            want.push(if i % 2 == 0 { ']' } else { '}' });
        }
        assert_eq!(String::from_utf8(out).expect("utf8"), want);
        assert!(validate_json(want.as_bytes()).is_ok());
    }

    /// Differential data produced by a real Go toolchain with `gocheck/`
    /// (Go 1.19.8; its `\u0008`/`\u000c` string escapes rewritten to the
    /// `\b`/`\f` of Go >= 1.22 by the generator). Covers every byte in
    /// several UTF-8 positions, random byte strings in both HTML modes,
    /// ~18k floats (JSON and 'g' forms, incl. all powers of two and the exact
    /// decimal ties), and random/mutated `RawMessage` documents through
    /// `MarshalIndent` and a non-escaping `Encoder`.
    #[test]
    fn go_golden() {
        let data = include_str!("testdata/go_golden.txt");
        let unhex = |h: &str| -> Vec<u8> {
            (0..h.len() / 2).map(|i| u8::from_str_radix(&h[2 * i..2 * i + 2], 16).expect("hex")).collect()
        };
        let mut counts = [0usize; 4];
        for line in data.lines() {
            let f: Vec<&str> = line.split(' ').collect();
            match f.first().copied() {
                Some("S") => {
                    let input = unhex(f[1]);
                    let mut got = Vec::new();
                    write_str(&mut got, &input, true);
                    assert_eq!(got, unhex(f[2]), "html string {input:?}");
                    assert_eq!(str_len(&input, true), got.len());
                    got.clear();
                    write_str(&mut got, &input, false);
                    assert_eq!(got, unhex(f[3]), "plain string {input:?}");
                    assert_eq!(str_len(&input, false), got.len());
                    counts[0] += 1;
                }
                Some("F") => {
                    let v = f64::from_bits(u64::from_str_radix(f[1], 16).expect("hex"));
                    let json = format_f64_go(v).unwrap_or_else(|| "ERR".to_owned());
                    assert_eq!(json, f[2], "json float {v:e}");
                    assert_eq!(format_float_g(v), f[3], "g float {v:e}");
                    counts[1] += 1;
                }
                Some("R") => {
                    let input = unhex(f[1]);
                    let mut pretty = Vec::new();
                    let mut w = JsonWriter::pretty(&mut pretty, true);
                    w.begin_array();
                    let ok = w.raw(&input).is_ok();
                    w.end_array();
                    let mut compact = Vec::new();
                    let mut w = JsonWriter::compact(&mut compact, false);
                    w.begin_array();
                    let _ = w.raw(&input);
                    w.end_array();
                    if f[2] == "ERR" {
                        assert!(!ok, "accepted {:?}", String::from_utf8_lossy(&input));
                    } else {
                        assert!(ok, "rejected {:?}", String::from_utf8_lossy(&input));
                        assert_eq!(
                            String::from_utf8_lossy(&pretty),
                            String::from_utf8_lossy(&unhex(f[2])),
                            "pretty raw"
                        );
                        assert_eq!(pretty, unhex(f[2]));
                        assert_eq!(compact, unhex(f[3]), "compact raw");
                    }
                    counts[2] += 1;
                }
                _ => {}
            }
        }
        assert!(counts.iter().take(3).all(|&c| c > 0), "golden file incomplete: {counts:?}");
    }
}
