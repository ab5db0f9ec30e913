//! The order-preserving byte-string escape elastickv's keys use for
//! variable-length segments: every 0x00 becomes 0x00 0xFF and the segment
//! ends with 0x00 0x01, so segments compare like the raw strings.

/// Appends `seg(raw)`.
pub(crate) fn push_segment(out: &mut Vec<u8>, raw: &[u8]) {
    for &b in raw {
        out.push(b);
        if b == 0 {
            out.push(0xFF);
        }
    }
    out.extend_from_slice(&[0, 1]);
}
