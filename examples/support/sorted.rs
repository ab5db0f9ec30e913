//! The sorted-stream writer the benchmark snapshot generators share: rows
//! go straight to an `EKVPBBL1` stream at one commit timestamp, and the
//! generator's promise to emit them in key order is checked as they come.

use std::io::Write;

use fsmfs::container::writer::{encode_key, StreamWriter};

pub struct Sorted<W: Write> {
    pub w: StreamWriter<W>,
    ts: u64,
    last: Vec<u8>,
    pub rows: u64,
}

impl<W: Write> Sorted<W> {
    pub fn new(out: W, ts: u64) -> Self {
        Sorted { w: StreamWriter::new(out, ts).expect("write"), ts, last: Vec::new(), rows: 0 }
    }

    pub fn put(&mut self, user_key: &[u8], body: &[u8]) {
        let k = encode_key(user_key, self.ts);
        assert!(k > self.last, "generator emitted keys out of order");
        self.w.entry(&k, &[&[0u8; 9][..], body]).expect("write");
        self.last = k;
        self.rows += 1;
    }
}
