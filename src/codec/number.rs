//! DynamoDB number handling.
//!
//! * [`canonical_number`]: the item-file name form (dynamodb-s3 spec A6.2),
//!   i.e. Go's `new(big.Rat).SetString(strings.TrimSpace(v))` followed by
//!   `RatString()`, falling back to the trimmed text when Go would refuse.
//! * [`ordered_number_bytes`]: the order-encoded key bytes (spec A1.2) that
//!   the live adapter stores for `N` key attributes.

use num_bigint::{BigInt, BigUint};
use num_integer::Integer;
use num_traits::{One, Signed, ToPrimitive, Zero};
use std::cmp::Ordering;

/// Go's `unicode.IsSpace` (the Unicode White_Space set), spelled out so the
/// result cannot drift with the Rust toolchain's Unicode tables.
pub(crate) fn is_go_space(c: char) -> bool {
    matches!(
        c,
        '\t' | '\n' | '\u{0B}' | '\u{0C}' | '\r' | ' ' | '\u{85}' | '\u{A0}' | '\u{1680}' | '\u{2000}'
            ..='\u{200A}' | '\u{2028}' | '\u{2029}' | '\u{202F}' | '\u{205F}' | '\u{3000}'
    )
}

/// Go's `strings.TrimSpace`.
pub(crate) fn go_trim_space(s: &str) -> &str {
    s.trim_matches(is_go_space)
}

// ---------------------------------------------------------------------------
// canonical_number (A6.2)
// ---------------------------------------------------------------------------

/// Go `big.Rat.SetString` refuses |5-exponent| above this ("avoid excessively
/// large exponents"); mirrored so results match Go exactly.
const GO_MAX_EXP5: i64 = 1_000_000;
/// Same for the 2-exponent.
const GO_MAX_EXP2: i64 = 10_000_000;

/// Canonical text of a DynamoDB number as used in item file names:
/// the exact rational in lowest terms, `n` or `n/d`; unparsable input is
/// returned trimmed but otherwise unchanged.
///
/// Accepts everything Go's `Rat.SetString` accepts: decimal and `0b`/`0o`/`0x`
/// mantissas with an optional radix point, `e`/`E` (decimal) and `p`/`P`
/// (binary) exponents, `_` digit separators, and `a/b` fractions whose parts
/// may carry base prefixes (including octal `0` prefixes). Go's own exponent
/// limits (|exp5| ≤ 1e6, |exp2| ≤ 1e7) apply, so the work per call is
/// bounded: the largest accepted values have about 10^7 bits.
pub fn canonical_number(text: &str) -> String {
    let t = go_trim_space(text);
    go_rat_string(t).unwrap_or_else(|| t.to_owned())
}

/// `Rat.SetString(s)` + `RatString()`; `None` where `SetString` fails.
fn go_rat_string(s: &str) -> Option<String> {
    let bytes = s.as_bytes();
    if bytes.is_empty() {
        return None;
    }
    match bytes.iter().position(|&c| c == b'/') {
        Some(sep) => fraction_rat_string(bytes.get(..sep)?, bytes.get(sep + 1..)?),
        None => float_rat_string(bytes),
    }
}

/// Byte reader with one byte of push-back, like Go's `strings.Reader`.
struct Reader<'a> {
    s: &'a [u8],
    pos: usize,
}

impl<'a> Reader<'a> {
    fn new(s: &'a [u8]) -> Self {
        Reader { s, pos: 0 }
    }
    fn read(&mut self) -> Option<u8> {
        let c = self.s.get(self.pos).copied();
        if c.is_some() {
            self.pos += 1;
        }
        c
    }
    /// Only called right after a successful `read`.
    fn unread(&mut self) {
        self.pos = self.pos.saturating_sub(1);
    }
    fn at_end(&self) -> bool {
        self.pos >= self.s.len()
    }
}

/// Result of Go's `nat.scan` with base 0: digit values (leading zeros may be
/// omitted, they do not change the value), the actual base, and Go's `count`
/// (digits scanned, or minus the number of fractional digits if a radix
/// point was seen).
struct ScannedNat {
    digits: Vec<u8>,
    base: u32,
    count: i64,
}

impl ScannedNat {
    fn is_zero(&self) -> bool {
        self.digits.iter().all(|&d| d == 0)
    }
}

#[derive(PartialEq, Eq, Clone, Copy)]
enum Prefix {
    None,
    Octal0,
    Other,
}

/// Mirrors `nat.scan(r, 0, frac_ok)`; `None` means Go returns an error.
fn scan_nat(r: &mut Reader<'_>, mut frac_ok: bool) -> Option<ScannedNat> {
    // prev: b'.' (start / other), b'0' (digit), b'_' (separator).
    let mut prev = b'.';
    let mut inval_sep = false;
    let mut base: u32 = 10;
    let mut prefix = Prefix::None;
    let mut count: i64 = 0;

    let mut ch = r.read();
    if ch == Some(b'0') {
        prev = b'0';
        count = 1;
        ch = r.read();
        if let Some(c) = ch {
            match c {
                b'b' | b'B' => (base, prefix) = (2, Prefix::Other),
                b'o' | b'O' => (base, prefix) = (8, Prefix::Other),
                b'x' | b'X' => (base, prefix) = (16, Prefix::Other),
                _ if !frac_ok => (base, prefix) = (8, Prefix::Octal0),
                _ => {}
            }
            if prefix != Prefix::None {
                count = 0; // the prefix is not a digit
                if prefix == Prefix::Other {
                    ch = r.read();
                }
            }
        }
    }

    let mut digits = Vec::new();
    let mut dp: Option<i64> = None;
    while let Some(c) = ch {
        if c == b'.' && frac_ok {
            frac_ok = false;
            if prev == b'_' {
                inval_sep = true;
            }
            prev = b'.';
            dp = Some(count);
        } else if c == b'_' {
            if prev != b'0' {
                inval_sep = true;
            }
            prev = b'_';
        } else {
            let d = match c {
                b'0'..=b'9' => u32::from(c - b'0'),
                b'a'..=b'z' => u32::from(c - b'a') + 10,
                b'A'..=b'Z' => u32::from(c - b'A') + 10,
                _ => u32::MAX,
            };
            if d >= base {
                r.unread();
                break;
            }
            prev = b'0';
            count += 1;
            // Leading zeros carry no value; skipping them keeps the buffer small.
            if d != 0 || !digits.is_empty() {
                digits.push(d as u8);
            }
        }
        ch = r.read();
    }

    if inval_sep || prev == b'_' {
        return None;
    }
    if count == 0 {
        if prefix == Prefix::Octal0 {
            // Lone "0" followed by a non-octal byte: Go reads it as decimal 0.
            return Some(ScannedNat { digits: Vec::new(), base: 10, count: 1 });
        }
        return None;
    }
    if let Some(dp) = dp {
        count = dp - count;
    }
    Some(ScannedNat { digits, base, count })
}

/// Go's `scanSign`: consumes one leading `+` or `-`.
fn scan_sign(r: &mut Reader<'_>) -> Option<bool> {
    match r.read()? {
        b'-' => Some(true),
        b'+' => Some(false),
        _ => {
            r.unread();
            Some(false)
        }
    }
}

/// Mirrors `scanExponent(r, true, true)`: returns (exponent, base 10 or 2).
fn scan_exponent(r: &mut Reader<'_>) -> Option<(i64, u32)> {
    let ebase = match r.read() {
        None => return Some((0, 10)),
        Some(b'e' | b'E') => 10,
        Some(b'p' | b'P') => 2,
        Some(_) => {
            r.unread();
            return Some((0, 10));
        }
    };
    let mut ch = r.read();
    let mut neg = false;
    if let Some(c @ (b'+' | b'-')) = ch {
        neg = c == b'-';
        ch = r.read();
    }
    let mut prev = b'.';
    let mut inval_sep = false;
    let mut has_digits = false;
    // Magnitude accumulated with overflow detection, like strconv.ParseInt.
    let mut mag: u64 = 0;
    let mut overflow = false;
    while let Some(c) = ch {
        if c.is_ascii_digit() {
            match mag.checked_mul(10).and_then(|m| m.checked_add(u64::from(c - b'0'))) {
                Some(m) => mag = m,
                None => overflow = true,
            }
            prev = b'0';
            has_digits = true;
        } else if c == b'_' {
            if prev != b'0' {
                inval_sep = true;
            }
            prev = b'_';
        } else {
            r.unread();
            break;
        }
        ch = r.read();
    }
    if !has_digits || overflow || inval_sep || prev == b'_' {
        return None;
    }
    let exp = if neg {
        if mag > 1u64 << 63 {
            return None;
        }
        0i64.wrapping_sub_unsigned(mag)
    } else {
        i64::try_from(mag).ok()?
    };
    Some((exp, ebase))
}

/// Floating-point branch of `Rat.SetString`.
fn float_rat_string(s: &[u8]) -> Option<String> {
    let mut r = Reader::new(s);
    let neg = scan_sign(&mut r)?;
    let mant = scan_nat(&mut r, true)?;
    let (exp, ebase) = scan_exponent(&mut r)?;
    if !r.at_end() {
        return None;
    }
    if mant.is_zero() {
        return Some("0".to_owned());
    }

    // Exponent bookkeeping exactly as Go does it (int64, wrapping).
    let mut exp2: i64 = 0;
    let mut exp5: i64 = 0;
    if mant.count < 0 {
        let d = mant.count;
        match mant.base {
            10 => {
                exp5 = d;
                exp2 = d;
            }
            2 => exp2 = d,
            8 => exp2 = d.wrapping_mul(3),
            _ => exp2 = d.wrapping_mul(4),
        }
    }
    if ebase == 10 {
        exp5 = exp5.wrapping_add(exp);
    }
    exp2 = exp2.wrapping_add(exp);
    if exp5 != 0 {
        let n = if exp5 < 0 { exp5.checked_neg()? } else { exp5 };
        if n > GO_MAX_EXP5 {
            return None;
        }
    }
    if !(-GO_MAX_EXP2..=GO_MAX_EXP2).contains(&exp2) {
        return None;
    }

    // Trailing zero digits of a decimal mantissa are factors of 10; moving
    // them into the exponents keeps the big integer small.
    let mut digits: &[u8] = &mant.digits;
    if mant.base == 10 {
        let tz = digits.iter().rev().take_while(|&&d| d == 0).count();
        digits = digits.get(..digits.len() - tz).unwrap_or(digits);
        let tz = i64::try_from(tz).ok()?;
        exp2 += tz;
        exp5 += tz;
    }
    let m = digits_to_biguint(digits, mant.base)?;
    Some(render_scaled(neg, m, exp2, exp5))
}

/// Renders `±m · 2^e2 · 5^e5` (m > 0) in lowest terms as Go's `RatString`.
fn render_scaled(neg: bool, mut m: BigUint, mut e2: i64, mut e5: i64) -> String {
    if let Some(tz) = m.trailing_zeros() {
        m >>= tz;
        e2 += i64::try_from(tz).unwrap_or(0);
    }
    if e5 < 0 {
        // Cancel common factors of 5 (at most -e5 ≤ 1e6 + input length).
        let want = e5.unsigned_abs();
        let removed = strip_factors_of_5(&mut m, want);
        e5 += i64::try_from(removed).unwrap_or(0);
    }
    // Now gcd(numerator, denominator) == 1.
    let mut out = String::new();
    if neg {
        out.push('-');
    }
    push_scaled_decimal(&mut out, m, e2.max(0).unsigned_abs(), e5.max(0).unsigned_abs());
    let (d2, d5) = ((-e2).max(0).unsigned_abs(), (-e5).max(0).unsigned_abs());
    if d2 != 0 || d5 != 0 {
        out.push('/');
        push_scaled_decimal(&mut out, BigUint::one(), d2, d5);
    }
    out
}

/// Divides out up to `max` factors of 5; returns how many were removed.
fn strip_factors_of_5(m: &mut BigUint, max: u64) -> u64 {
    const CHUNK: u32 = 27; // 5^27 < 2^64
    let chunk_div = BigUint::from(5u64.pow(CHUNK));
    let five = BigUint::from(5u32);
    let mut removed = 0u64;
    while removed + u64::from(CHUNK) <= max {
        let (q, rem) = m.div_rem(&chunk_div);
        if !rem.is_zero() {
            break;
        }
        *m = q;
        removed += u64::from(CHUNK);
    }
    while removed < max {
        let (q, rem) = m.div_rem(&five);
        if !rem.is_zero() {
            break;
        }
        *m = q;
        removed += 1;
    }
    removed
}

/// Appends the decimal form of `m · 2^a · 5^b`, emitting the common 10^min(a,b)
/// as literal zeros instead of converting them.
fn push_scaled_decimal(out: &mut String, m: BigUint, a: u64, b: u64) {
    let tens = a.min(b);
    let mut x = m;
    if a > tens {
        x <<= a - tens;
    }
    if b > tens {
        // b - tens ≤ 1e6 + input length, within u32 for any realistic input.
        let e = u32::try_from(b - tens).unwrap_or(u32::MAX);
        x *= BigUint::from(5u32).pow(e);
    }
    out.push_str(&x.to_string());
    let zeros = usize::try_from(tens).unwrap_or(0);
    out.extend(std::iter::repeat_n('0', zeros));
}

/// Builds the integer from digit values in `base`; decimal uses
/// divide-and-conquer so very long mantissas stay sub-quadratic.
fn digits_to_biguint(digits: &[u8], base: u32) -> Option<BigUint> {
    if digits.is_empty() {
        return Some(BigUint::zero());
    }
    if base != 10 {
        // Power-of-two radix: linear bit packing inside num-bigint.
        return BigUint::from_radix_be(digits, base);
    }
    decimal_dc(digits)
}

fn decimal_dc(digits: &[u8]) -> Option<BigUint> {
    const LEAF: usize = 2_000;
    if digits.len() <= LEAF {
        return BigUint::from_radix_be(digits, 10);
    }
    let lo_len = digits.len() / 2;
    let (hi, lo) = digits.split_at(digits.len() - lo_len);
    let hi = decimal_dc(hi)?;
    let lo = decimal_dc(lo)?;
    let scale = BigUint::from(10u32).pow(u32::try_from(lo_len).ok()?);
    Some(hi * scale + lo)
}

/// `a/b` branch of `Rat.SetString`: numerator via `Int.SetString(a, 0)`,
/// denominator via `nat.scan(b, 0, false)`; both must consume everything.
fn fraction_rat_string(num: &[u8], den: &[u8]) -> Option<String> {
    let mut r = Reader::new(num);
    let neg = scan_sign(&mut r)?;
    let a = scan_nat(&mut r, false)?;
    if !r.at_end() {
        return None;
    }
    let mut r = Reader::new(den);
    let b = scan_nat(&mut r, false)?;
    if !r.at_end() || b.is_zero() {
        return None;
    }
    if a.is_zero() {
        return Some("0".to_owned());
    }
    let a = digits_to_biguint(&a.digits, a.base)?;
    let b = digits_to_biguint(&b.digits, b.base)?;
    let g = lehmer_gcd(&a, &b);
    let (a, b) = if g.is_one() { (a, b) } else { (a / &g, b / &g) };
    let mut out = String::new();
    if neg {
        out.push('-');
    }
    out.push_str(&a.to_string());
    if !b.is_one() {
        out.push('/');
        out.push_str(&b.to_string());
    }
    Some(out)
}

/// GCD via Lehmer's algorithm (Knuth, TAOCP 4.5.2, Algorithm L) so that huge
/// operands of similar size stay near-quadratic in words rather than bits.
fn lehmer_gcd(x: &BigUint, y: &BigUint) -> BigUint {
    let (mut u, mut v) = if x >= y { (x.clone(), y.clone()) } else { (y.clone(), x.clone()) };
    loop {
        if v.is_zero() {
            return u;
        }
        if let (Some(a), Some(b)) = (u.to_u64(), v.to_u64()) {
            return BigUint::from(a.gcd(&b));
        }
        // Leading 62 bits of u and the same window of v.
        let shift = u.bits().saturating_sub(62);
        let (mut uh, mut vh) = ((&u >> shift).to_i128().unwrap_or(0), (&v >> shift).to_i128().unwrap_or(0));
        let (mut a, mut b, mut c, mut d): (i128, i128, i128, i128) = (1, 0, 0, 1);
        loop {
            // Stop where Algorithm L would stop, and also before any
            // non-positive operand (keeps `/` equal to floor division).
            if vh + c <= 0 || vh + d <= 0 || uh + a < 0 || uh + b < 0 {
                break;
            }
            let q = (uh + a) / (vh + c);
            if q != (uh + b) / (vh + d) {
                break;
            }
            (a, c) = (c, a - q * c);
            (b, d) = (d, b - q * d);
            (uh, vh) = (vh, uh - q * vh);
        }
        if b == 0 {
            let rem = &u % &v;
            u = v;
            v = rem;
        } else {
            let (ub, vb) = (BigInt::from(u), BigInt::from(v));
            let nu = &ub * a + &vb * b;
            let nv = &ub * c + &vb * d;
            // Algorithm L keeps both non-negative; abs() guards against misuse.
            u = nu.abs().to_biguint().unwrap_or_default();
            v = nv.abs().to_biguint().unwrap_or_default();
        }
    }
}

// ---------------------------------------------------------------------------
// ordered_number_bytes (A1.2)
// ---------------------------------------------------------------------------

/// Why [`ordered_number_bytes`] rejected a number literal (same cases, in the
/// same order of checking, as upstream `parseDDBNumericKeyParts`).
///
/// Every message ends in upstream's sentinel text
/// `: backup: dynamodb encode invalid item json`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub(crate) enum NumberError {
    /// Nothing left after trimming white space.
    #[error("empty number literal: backup: dynamodb encode invalid item json")]
    Empty,
    /// Only a `+` or `-`.
    #[error("number literal is sign only: backup: dynamodb encode invalid item json")]
    SignOnly,
    /// `e`/`E` with nothing (but white space) after it.
    #[error("empty exponent: backup: dynamodb encode invalid item json")]
    EmptyExponent,
    /// Exponent text that is not a decimal `i64`.
    #[error("bad exponent {0:?}: backup: dynamodb encode invalid item json")]
    BadExponent(String),
    /// More than one `.` in the mantissa.
    #[error("number has multiple decimal points: backup: dynamodb encode invalid item json")]
    MultipleDecimalPoints,
    /// Mantissa is `.` or empty.
    #[error("number has no digits: backup: dynamodb encode invalid item json")]
    NoDigits,
    /// Mantissa contains something other than ASCII digits and one `.`.
    #[error("number has non-decimal characters: backup: dynamodb encode invalid item json")]
    NonDecimalCharacters,
}

const NUM_NEGATIVE: u8 = 0x00;
const NUM_ZERO: u8 = 0x01;
const NUM_POSITIVE: u8 = 0x02;
const NUM_SEPARATOR: u8 = 0x00;

/// Order-encoded key bytes of a DynamoDB number (before the key-segment
/// escaping): `01` for zero, `02 ‖ body` for positive, `00 ‖ !body` for
/// negative, where `body = encI64(exponent) ‖ 00 ‖ significant digits`.
///
/// Faithful to upstream, including its quirk that negative numbers whose
/// significant digits extend another's (e.g. `-1.2` vs `-1.23`) do not sort
/// numerically.
pub(crate) fn ordered_number_bytes(text: &str) -> Result<Vec<u8>, NumberError> {
    let trimmed = go_trim_space(text);
    if trimmed.is_empty() {
        return Err(NumberError::Empty);
    }
    let (negative, rest) = match trimmed.as_bytes().first() {
        Some(b'+') => (false, trimmed.get(1..).unwrap_or("")),
        Some(b'-') => (true, trimmed.get(1..).unwrap_or("")),
        _ => (false, trimmed),
    };
    if rest.is_empty() {
        return Err(NumberError::SignOnly);
    }
    let (mantissa, exp10) = match rest.find(['e', 'E']) {
        Some(idx) => {
            let exp_part = go_trim_space(rest.get(idx + 1..).unwrap_or(""));
            if exp_part.is_empty() {
                return Err(NumberError::EmptyExponent);
            }
            let exp = go_parse_i64(exp_part).ok_or_else(|| NumberError::BadExponent(exp_part.to_owned()))?;
            (rest.get(..idx).unwrap_or(""), exp)
        }
        None => (rest, 0),
    };

    let m = mantissa.as_bytes();
    if m.iter().filter(|&&c| c == b'.').count() > 1 {
        return Err(NumberError::MultipleDecimalPoints);
    }
    let (int_part, frac_part) = match m.iter().position(|&c| c == b'.') {
        Some(p) => (m.get(..p).unwrap_or(&[]), m.get(p + 1..).unwrap_or(&[])),
        None => (m, &[][..]),
    };
    if int_part.is_empty() && frac_part.is_empty() {
        return Err(NumberError::NoDigits);
    }
    if !int_part.iter().all(u8::is_ascii_digit) || !frac_part.iter().all(u8::is_ascii_digit) {
        return Err(NumberError::NonDecimalCharacters);
    }

    let combined = int_part.iter().chain(frac_part.iter());
    let leading_zeros = combined.clone().take_while(|&&c| c == b'0').count();
    let mut digits: Vec<u8> = combined.skip(leading_zeros).copied().collect();
    while digits.last() == Some(&b'0') {
        digits.pop();
    }
    if digits.is_empty() {
        return Ok(vec![NUM_ZERO]);
    }
    // Go computes this in int64 and silently wraps on overflow.
    let exponent = (int_part.len() as i64).wrapping_add(exp10).wrapping_sub(leading_zeros as i64);

    let mut body = ordered_i64(exponent);
    body.push(NUM_SEPARATOR);
    body.extend_from_slice(&digits);
    let mut out = Vec::with_capacity(body.len() + 1);
    if negative {
        out.push(NUM_NEGATIVE);
        out.extend(body.iter().map(|b| !b));
    } else {
        out.push(NUM_POSITIVE);
        out.extend_from_slice(&body);
    }
    Ok(out)
}

/// `strconv.ParseInt(s, 10, 64)`: optional sign, ≥ 1 ASCII digit, no `_`.
fn go_parse_i64(s: &str) -> Option<i64> {
    let b = s.as_bytes();
    let (neg, digits) = match b.first() {
        Some(b'+') => (false, b.get(1..)?),
        Some(b'-') => (true, b.get(1..)?),
        _ => (false, b),
    };
    if digits.is_empty() {
        return None;
    }
    let mut mag: u64 = 0;
    for &c in digits {
        if !c.is_ascii_digit() {
            return None;
        }
        mag = mag.checked_mul(10)?.checked_add(u64::from(c - b'0'))?;
    }
    if neg {
        if mag > 1u64 << 63 {
            return None;
        }
        Some(0i64.wrapping_sub_unsigned(mag))
    } else {
        i64::try_from(mag).ok()
    }
}

/// `01` for zero, `02 ‖ encU64(v)` for positive, `00 ‖ !encU64(|v|)` for negative.
fn ordered_i64(v: i64) -> Vec<u8> {
    match v.cmp(&0) {
        Ordering::Equal => vec![NUM_ZERO],
        Ordering::Greater => {
            let mut out = vec![NUM_POSITIVE];
            out.extend(ordered_u64(v.unsigned_abs()));
            out
        }
        Ordering::Less => {
            let mut out = vec![NUM_NEGATIVE];
            out.extend(ordered_u64(v.unsigned_abs()).iter().map(|b| !b));
            out
        }
    }
}

/// Length byte (1–8) then the big-endian value without leading zero bytes.
fn ordered_u64(v: u64) -> Vec<u8> {
    let be = v.to_be_bytes();
    let start = be.iter().take(7).take_while(|&&b| b == 0).count();
    let significant = be.get(start..).unwrap_or(&be);
    let mut out = Vec::with_capacity(1 + significant.len());
    out.push(significant.len() as u8);
    out.extend_from_slice(significant);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn canon(s: &str) -> String {
        canonical_number(s)
    }

    #[test]
    fn spec_a62_table() {
        for s in ["1", "1.0", "+1", "1e0", "  1 \t"] {
            assert_eq!(canon(s), "1", "{s:?}");
        }
        for s in ["100", "1e2", "1E+2"] {
            assert_eq!(canon(s), "100", "{s:?}");
        }
        for s in ["-0", "0.000"] {
            assert_eq!(canon(s), "0", "{s:?}");
        }
        for s in ["0.5", "5e-1"] {
            assert_eq!(canon(s), "1/2", "{s:?}");
        }
        assert_eq!(canon("1.50"), "3/2");
        assert_eq!(canon("-2.25"), "-9/4");
        assert_eq!(canon("1e-3"), "1/1000");
        assert_eq!(canon("abc"), "abc");
        assert_eq!(canon("  abc  "), "abc");
    }

    #[test]
    fn decimal_forms() {
        assert_eq!(canon("-1.5e3"), "-1500");
        assert_eq!(canon(".5"), "1/2");
        assert_eq!(canon("5."), "5");
        assert_eq!(canon("007"), "7");
        assert_eq!(canon("0.1"), "1/10");
        assert_eq!(canon("0.125"), "1/8");
        assert_eq!(canon("-0.000"), "0");
        assert_eq!(canon("0e99999999"), "0");
        assert_eq!(canon("1.2e-2"), "3/250");
        assert_eq!(canon("12345678901234567890123456789012345678"), "12345678901234567890123456789012345678");
        assert_eq!(
            canon("9.9999999999999999999999999999999999999E+125"),
            format!("{}{}", "9".repeat(38), "0".repeat(88))
        );
        assert_eq!(canon("1E-130"), format!("1/1{}", "0".repeat(130)));
        assert_eq!(canon("-3e-130"), format!("-3/1{}", "0".repeat(130)));
        assert_eq!(canon("1.25E-130"), format!("1/8{}", "0".repeat(129)));
        // Unicode white space is trimmed as Go's strings.TrimSpace does.
        assert_eq!(canon("\u{3000}\u{A0}2.5\u{2029}"), "5/2");
        assert_eq!(canon("\u{200B}2"), "\u{200B}2"); // ZWSP is not White_Space
    }

    #[test]
    fn go_extended_syntax() {
        assert_eq!(canon("1_000"), "1000");
        assert_eq!(canon("1_000.5"), "2001/2");
        assert_eq!(canon("0x10"), "16");
        assert_eq!(canon("0X1.8p1"), "3");
        assert_eq!(canon("0x.8"), "1/2");
        assert_eq!(canon("0x_1F"), "31");
        assert_eq!(canon("0b101"), "5");
        assert_eq!(canon("0b1.1"), "3/2");
        assert_eq!(canon("0b1.1e2"), "150");
        assert_eq!(canon("0o17"), "15");
        assert_eq!(canon("017"), "17"); // float mantissa: leading 0 is decimal
        assert_eq!(canon("1p3"), "8");
        assert_eq!(canon("1P-3"), "1/8");
        assert_eq!(canon("1.5p1"), "3");
        assert_eq!(canon("1e1_0"), "10000000000");
        assert_eq!(canon("3/6"), "1/2");
        assert_eq!(canon("-3/6"), "-1/2");
        assert_eq!(canon("+4/2"), "2");
        assert_eq!(canon("0/5"), "0");
        assert_eq!(canon("-0/5"), "0");
        assert_eq!(canon("010/3"), "8/3"); // fraction parts: leading 0 is octal
        assert_eq!(canon("0x10/0b100"), "4");
        assert_eq!(canon("0/0x1"), "0");
        assert_eq!(canon("0_7/1"), "7");
        assert_eq!(canon("1/0_10"), "1/8");
    }

    #[test]
    fn go_rejections_return_trimmed_text() {
        for s in [
            "", "+", "-", ".", "e5", "1e", "1e+", "1e_5", "1e5_", "_1", "1_", "1__0", "1._5", "1_.5", "0x",
            "0x.p1", "0xp1", "0x1e2.g", "0x1e2..", "1.2.3", "1e5e5", "1 2", "0b102", "1/0", "1/00", "1/-2",
            "/2", "1/", "-/2", "08/1", "1/08", "1.5/2", "1/2/3", "1e2/3", "0x1.8e1x", "--1", "+-1", "inf",
            "NaN", "0_", "0__1", "1/_1",
        ] {
            assert_eq!(canon(s), s.trim(), "{s:?} should be rejected");
        }
        assert_eq!(canon("  1e  "), "1e");
    }

    #[test]
    fn go_exponent_limits() {
        // |exp5| ≤ 1e6 accepted, beyond rejected (Go's own bound).
        let big = canon("1e1000000");
        assert_eq!(big.len(), 1_000_001);
        assert!(big.starts_with('1') && big[1..].bytes().all(|b| b == b'0'));
        assert_eq!(canon("1e1000001"), "1e1000001");
        assert_eq!(canon("1e-1000001"), "1e-1000001");
        let small = canon("1e-1000000");
        assert_eq!(small.len(), 2 + 1_000_001);
        // exp5 counts fractional digits too.
        assert_eq!(canon("0.1e-1000000"), "0.1e-1000000");
        // |exp2| ≤ 1e7.
        assert_eq!(canon("1p10000001"), "1p10000001");
        assert_eq!(canon("0x1p-10000001"), "0x1p-10000001");
        assert_eq!(canon("0x1.8p-9999999"), "0x1.8p-9999999"); // exp2 = -4 - 9999999
                                                               // Exponent overflowing int64 is a syntax error even for zero.
        assert_eq!(canon("0e9223372036854775808"), "0e9223372036854775808");
        assert_eq!(canon("0e-9223372036854775808"), "0");
        assert_eq!(canon("1e-9223372036854775808"), "1e-9223372036854775808");
        assert_eq!(canon("1.5e-9223372036854775808"), "1.5e-9223372036854775808");
        assert_eq!(canon("1e9223372036854775807"), "1e9223372036854775807");
    }

    #[test]
    fn lehmer_matches_euclid() {
        let mut seed: u64 = 0x9e37_79b9_7f4a_7c15;
        let mut next = || {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            seed
        };
        for round in 0..200 {
            let words_a = 1 + (next() % 8) as usize;
            let words_b = 1 + (next() % 8) as usize;
            let common = BigUint::from(next() >> (next() % 64)) + 1u32;
            let a: BigUint = (0..words_a).fold(BigUint::zero(), |acc, _| (acc << 64) + next());
            let b: BigUint = (0..words_b).fold(BigUint::zero(), |acc, _| (acc << 64) + next());
            let (a, b) = (a * &common, b * &common);
            let mut x = a.clone();
            let mut y = b.clone();
            while !y.is_zero() {
                let r = &x % &y;
                x = y;
                y = r;
            }
            assert_eq!(lehmer_gcd(&a, &b), x, "round {round}");
        }
        assert_eq!(lehmer_gcd(&BigUint::zero(), &BigUint::from(7u32)), BigUint::from(7u32));
    }

    #[test]
    fn long_fraction_is_fast_and_reduced() {
        let n = "123456789".repeat(2000);
        let s = format!("{n}0/{n}5");
        let out = canon(&s);
        assert!(out.contains('/'));
        let d = format!("{n}0");
        assert_eq!(canon(&format!("{d}/{d}")), "1");
        assert_eq!(canon(&format!("-{d}0/{d}")), "-10");
    }

    fn hex(b: &[u8]) -> String {
        b.iter().map(|x| format!("{x:02x}")).collect::<Vec<_>>().join(" ")
    }

    #[test]
    fn ordered_spec_example() {
        assert_eq!(ordered_number_bytes("1.50").unwrap(), vec![0x02, 0x02, 0x01, 0x01, 0x00, 0x31, 0x35]);
    }

    #[test]
    fn ordered_zero_forms() {
        for s in ["0", "-0", "+0", "0.000", ".0", "0.", "000e99", " 0 ", "0e-9223372036854775808"] {
            assert_eq!(ordered_number_bytes(s).unwrap(), vec![0x01], "{s:?}");
        }
    }

    #[test]
    fn ordered_values() {
        // 1 → exponent 1, digits "1".
        assert_eq!(hex(&ordered_number_bytes("1").unwrap()), "02 02 01 01 00 31");
        assert_eq!(hex(&ordered_number_bytes("10").unwrap()), "02 02 01 02 00 31");
        assert_eq!(hex(&ordered_number_bytes("1e1").unwrap()), "02 02 01 02 00 31");
        // 0.5 → exponent 0.
        assert_eq!(hex(&ordered_number_bytes("0.5").unwrap()), "02 01 00 35");
        // 0.05 → exponent -1: 00 ‖ !(01 01) = 00 fe fe.
        assert_eq!(hex(&ordered_number_bytes("0.05").unwrap()), "02 00 fe fe 00 35");
        // -1.5 → 00 ‖ !(02 01 01 00 31 35).
        assert_eq!(hex(&ordered_number_bytes("-1.5").unwrap()), "00 fd fe fe ff ce ca");
        assert_eq!(hex(&ordered_number_bytes("1e300").unwrap()), "02 02 02 01 2d 00 31");
        assert_eq!(hex(&ordered_number_bytes("1e-130").unwrap()), "02 00 fe 7e 00 31");
        let d38 = "12345678901234567890123456789012345678";
        let mut want = vec![0x02, 0x02, 0x01, 38, 0x00];
        want.extend_from_slice(d38.as_bytes());
        assert_eq!(ordered_number_bytes(d38).unwrap(), want);
        assert_eq!(ordered_number_bytes(" +12.3400E 1 ").unwrap(), ordered_number_bytes("123.4").unwrap());
        // int64 extremes and Go's wrapping exponent arithmetic.
        assert_eq!(
            hex(&ordered_number_bytes("1e-9223372036854775808").unwrap()),
            // exponent = 1 + MIN = MIN+1 → magnitude 2^63-1.
            "02 00 f7 80 00 00 00 00 00 00 00 00 31"
        );
        assert_eq!(
            hex(&ordered_number_bytes("10e9223372036854775807").unwrap()),
            // 2 + MAX wraps to MIN+1.
            "02 00 f7 80 00 00 00 00 00 00 00 00 31"
        );
        assert_eq!(
            hex(&ordered_number_bytes("0.1e-9223372036854775808").unwrap()),
            "02 00 f7 7f ff ff ff ff ff ff ff 00 31"
        );
    }

    #[test]
    fn ordered_errors() {
        use NumberError::*;
        let cases: &[(&str, NumberError)] = &[
            ("", Empty),
            ("  \u{3000}", Empty),
            ("-", SignOnly),
            ("+", SignOnly),
            ("1e", EmptyExponent),
            ("1e  ", EmptyExponent),
            ("1e5.5", BadExponent("5.5".into())),
            ("1e1_0", BadExponent("1_0".into())),
            ("1e99999999999999999999", BadExponent("99999999999999999999".into())),
            ("1ee5", BadExponent("e5".into())),
            ("1..2", MultipleDecimalPoints),
            ("1.2.3e4", MultipleDecimalPoints),
            (".", NoDigits),
            ("e5", NoDigits),
            ("-e5", NoDigits),
            ("0x10", NonDecimalCharacters),
            ("1_000", NonDecimalCharacters),
            ("- 5", NonDecimalCharacters),
            ("1/2", NonDecimalCharacters),
            ("abc", NonDecimalCharacters),
            ("١", NonDecimalCharacters),
            ("--1", NonDecimalCharacters),
        ];
        for (s, want) in cases {
            assert_eq!(ordered_number_bytes(s).as_ref(), Err(want), "{s:?}");
            assert!(!want.to_string().is_empty());
        }
        // The exponent is checked before the mantissa.
        assert_eq!(ordered_number_bytes("1..2e"), Err(EmptyExponent));
    }

    /// Exact value of a generated decimal as (numerator, power of ten).
    fn exact(int: &str, frac: &str, exp: i64, neg: bool) -> (BigInt, i64) {
        let digits = format!("{int}{frac}");
        let mut v = BigInt::parse_bytes(digits.as_bytes(), 10).unwrap();
        if neg {
            v = -v;
        }
        (v, exp - frac.len() as i64)
    }

    fn cmp_exact(a: &(BigInt, i64), b: &(BigInt, i64)) -> Ordering {
        let k = a.1.min(b.1);
        let sa = &a.0 * BigInt::from(10u32).pow((a.1 - k) as u32);
        let sb = &b.0 * BigInt::from(10u32).pow((b.1 - k) as u32);
        sa.cmp(&sb)
    }

    #[test]
    fn ordering_matches_numeric_order() {
        let mut seed: u64 = 42;
        let mut next = |m: u64| {
            seed = seed.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1_442_695_040_888_963_407);
            (seed >> 33) % m
        };
        let mut samples = Vec::new();
        for _ in 0..300 {
            let neg = next(2) == 0;
            let int: String = (0..next(4)).map(|_| char::from(b'0' + next(10) as u8)).collect();
            let mut frac: String = (0..next(4)).map(|_| char::from(b'0' + next(10) as u8)).collect();
            if int.is_empty() && frac.is_empty() {
                frac.push('7');
            }
            let exp = next(9) as i64 - 4;
            let dot = if frac.is_empty() { "" } else { "." };
            let sign = if neg { "-" } else { "" };
            let text = format!("{sign}{int}{dot}{frac}e{exp}");
            let bytes = ordered_number_bytes(&text).unwrap();
            samples.push((text, exact(&int, &frac, exp, neg), bytes, neg));
        }
        let mut quirks = 0;
        for a in &samples {
            for b in &samples {
                let numeric = cmp_exact(&a.1, &b.1);
                let encoded = a.2.cmp(&b.2);
                // Upstream quirk: for two negatives where one encoding is a
                // proper prefix of the other (same exponent, digits extend),
                // the byte order is the reverse of the numeric order.
                let proper_prefix = a.2 != b.2 && (a.2.starts_with(&b.2) || b.2.starts_with(&a.2));
                if a.3 && b.3 && proper_prefix {
                    assert_eq!(encoded, numeric.reverse(), "{} vs {}", a.0, b.0);
                    quirks += 1;
                    continue;
                }
                assert_eq!(encoded, numeric, "{} vs {}", a.0, b.0);
            }
        }
        // The sample set is large enough to hit the quirk; keep it visible.
        assert!(quirks > 0);
    }

    #[test]
    fn negative_prefix_quirk_is_upstream_behaviour() {
        let a = ordered_number_bytes("-1.2").unwrap();
        let b = ordered_number_bytes("-1.23").unwrap();
        // Numerically -1.2 > -1.23, but the bytes sort the other way.
        assert!(a < b);
        assert!(ordered_number_bytes("1.2").unwrap() < ordered_number_bytes("1.23").unwrap());
    }
}
