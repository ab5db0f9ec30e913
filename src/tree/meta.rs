//! File metadata as upstream's decoder writes it: modes (data files 0600,
//! `MANIFEST.json`/`CHECKSUMS` 0644, directories 0755) and mtimes from HLC
//! timestamps. `extract` writes them and the mount shows them, so both
//! take them from here.

use std::time::{Duration, SystemTime};

use super::{NodeId, Tree};

pub(crate) const DIR_MODE: u32 = 0o755;
pub(crate) const DATA_MODE: u32 = 0o600;
pub(crate) const TOP_MODE: u32 = 0o644;

/// Mode of a file as upstream writes it.
pub(crate) fn file_mode(tree: &Tree, id: NodeId) -> u32 {
    if tree.parent(id) == Tree::ROOT && matches!(tree.name(id), b"MANIFEST.json" | b"CHECKSUMS") {
        TOP_MODE
    } else {
        DATA_MODE
    }
}

pub(crate) fn system_time(ts: u64) -> SystemTime {
    let (s, n) = crate::codec::hlctime::hlc_to_unix(ts);
    SystemTime::UNIX_EPOCH + Duration::new(s as u64, n)
}
