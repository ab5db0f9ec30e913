//! A zero-copy protobuf wire-format reader and a deterministic writer, just
//! enough for elastickv's DynamoDB messages. Readers borrow from the
//! snapshot mapping; nothing is allocated while walking.

#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub(crate) enum WireError {
    #[error("protobuf truncated at byte {at}")]
    Truncated { at: usize },
    #[error("protobuf varint too long at byte {at}")]
    VarintOverflow { at: usize },
    #[error("protobuf invalid field tag at byte {at}")]
    BadTag { at: usize },
    #[error("protobuf unmatched group at byte {at}")]
    UnmatchedGroup { at: usize },
}

/// One field's payload.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Value<'a> {
    Varint(u64),
    Fixed64(u64),
    Bytes(&'a [u8]),
    Fixed32(u32),
    /// A (deprecated) group; only ever skipped.
    Group,
}

/// Iterates the fields of one message.
pub(crate) struct Fields<'a> {
    buf: &'a [u8],
    pos: usize,
    failed: bool,
}

impl<'a> Fields<'a> {
    pub(crate) fn new(buf: &'a [u8]) -> Self {
        Fields { buf, pos: 0, failed: false }
    }

    /// Offset of the next unread byte.
    pub(crate) fn position(&self) -> usize {
        self.pos
    }

    fn varint(&mut self) -> Result<u64, WireError> {
        // Tags and short lengths are one byte: the common case.
        if let Some(&b) = self.buf.get(self.pos) {
            if b < 0x80 {
                self.pos += 1;
                return Ok(u64::from(b));
            }
        }
        let start = self.pos;
        let mut v: u64 = 0;
        for i in 0..10 {
            let b = *self.buf.get(self.pos).ok_or(WireError::Truncated { at: self.pos })?;
            self.pos += 1;
            if i == 9 && b > 1 {
                return Err(WireError::VarintOverflow { at: start });
            }
            v |= u64::from(b & 0x7f) << (7 * i);
            if b < 0x80 {
                return Ok(v);
            }
        }
        Err(WireError::VarintOverflow { at: start })
    }

    fn take(&mut self, n: u64) -> Result<&'a [u8], WireError> {
        let end = usize::try_from(n)
            .ok()
            .and_then(|n| self.pos.checked_add(n))
            .filter(|&e| e <= self.buf.len())
            .ok_or(WireError::Truncated { at: self.pos })?;
        let s = &self.buf[self.pos..end];
        self.pos = end;
        Ok(s)
    }

    fn tag(&mut self) -> Result<(u32, u8), WireError> {
        let at = self.pos;
        let t = self.varint()?;
        let field = t >> 3;
        if field == 0 || field > (1 << 29) - 1 {
            return Err(WireError::BadTag { at });
        }
        Ok((field as u32, (t & 7) as u8))
    }

    fn skip_group(&mut self, field: u32) -> Result<(), WireError> {
        loop {
            let at = self.pos;
            if self.pos >= self.buf.len() {
                return Err(WireError::UnmatchedGroup { at });
            }
            let (f, wt) = self.tag()?;
            match wt {
                4 if f == field => return Ok(()),
                4 => return Err(WireError::UnmatchedGroup { at }),
                _ => {
                    self.payload(f, wt, at)?;
                }
            }
        }
    }

    fn payload(&mut self, field: u32, wt: u8, at: usize) -> Result<Value<'a>, WireError> {
        Ok(match wt {
            0 => Value::Varint(self.varint()?),
            1 => Value::Fixed64(u64::from_le_bytes(self.take(8)?.try_into().expect("8 bytes"))),
            2 => {
                let n = self.varint()?;
                Value::Bytes(self.take(n)?)
            }
            3 => {
                self.skip_group(field)?;
                Value::Group
            }
            5 => Value::Fixed32(u32::from_le_bytes(self.take(4)?.try_into().expect("4 bytes"))),
            _ => return Err(WireError::BadTag { at }),
        })
    }
}

impl<'a> Iterator for Fields<'a> {
    type Item = Result<(u32, Value<'a>), WireError>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.failed || self.pos >= self.buf.len() {
            return None;
        }
        let at = self.pos;
        let r = self.tag().and_then(|(f, wt)| Ok((f, self.payload(f, wt, at)?)));
        self.failed = r.is_err();
        Some(r)
    }
}

/// Checks that a whole message parses at the wire level.
#[cfg(test)]
pub(crate) fn validate(buf: &[u8]) -> Result<(), WireError> {
    for f in Fields::new(buf) {
        f?;
    }
    Ok(())
}

/// Writes fields in the order called, the way Go's deterministic
/// marshalling lays them out.
#[derive(Default)]
pub(crate) struct Writer {
    pub(crate) buf: Vec<u8>,
}

impl Writer {
    pub(crate) fn varint(&mut self, mut v: u64) {
        while v >= 0x80 {
            self.buf.push((v as u8) | 0x80);
            v >>= 7;
        }
        self.buf.push(v as u8);
    }

    fn tag(&mut self, field: u32, wt: u8) {
        self.varint((u64::from(field) << 3) | u64::from(wt));
    }

    pub(crate) fn uint(&mut self, field: u32, v: u64) {
        self.tag(field, 0);
        self.varint(v);
    }

    pub(crate) fn bytes(&mut self, field: u32, v: &[u8]) {
        self.tag(field, 2);
        self.varint(v.len() as u64);
        self.buf.extend_from_slice(v);
    }

    /// A nested message built by `f`.
    pub(crate) fn message(&mut self, field: u32, f: impl FnOnce(&mut Writer)) {
        let mut inner = Writer::default();
        f(&mut inner);
        self.bytes(field, &inner.buf);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_what_it_writes() {
        let mut w = Writer::default();
        w.bytes(1, b"orders");
        w.uint(5, 300);
        w.message(3, |m| m.bytes(1, b"pk"));
        let fields: Vec<_> = Fields::new(&w.buf).collect::<Result<_, _>>().unwrap();
        assert_eq!(fields[0], (1, Value::Bytes(b"orders")));
        assert_eq!(fields[1], (5, Value::Varint(300)));
        assert_eq!(fields[2], (3, Value::Bytes(&[0x0a, 0x02, b'p', b'k'])));
    }

    #[test]
    fn malformed_input_is_an_error_not_a_panic() {
        for bad in [&[0x0a, 0x05, 1][..], &[0x80][..], &[0x00][..], &[0x0f][..], &[0xff; 11][..], &[0x0b][..]]
        {
            assert!(validate(bad).is_err(), "{bad:?}");
        }
        // Fixed-width and group fields are skipped correctly.
        let mut buf = vec![0x09];
        buf.extend_from_slice(&[0; 8]);
        buf.push(0x15);
        buf.extend_from_slice(&[0; 4]);
        buf.extend_from_slice(&[0x1b, 0x08, 0x01, 0x1c]);
        assert!(validate(&buf).is_ok());
    }
}
