//! One snapshot row as every adapter's record builders return it.

use std::collections::BTreeMap;

/// One snapshot row: user key (no MVCC suffix) and value body (no MVCC
/// header).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Record {
    pub key: Vec<u8>,
    pub value: Vec<u8>,
}

impl Record {
    pub(crate) fn new(key: Vec<u8>, value: Vec<u8>) -> Self {
        Record { key, value }
    }
}

/// Later duplicates replace earlier ones and iteration is in key byte
/// order — the shape of a Go map after deterministic marshalling.
pub(crate) fn last_wins<V>(entries: &[(String, V)]) -> BTreeMap<&str, &V> {
    entries.iter().map(|(k, v)| (k.as_str(), v)).collect()
}
