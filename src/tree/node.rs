use std::sync::atomic::{AtomicU64, Ordering};

/// Position of a node in the tree array; the inode number is this plus one.
pub(crate) type NodeId = u32;

/// Marks a file size that has not been computed yet (generated files are
/// sized on first `getattr` and the result cached).
pub(crate) const SIZE_UNKNOWN: u64 = u64::MAX;

/// How a node's content is produced. Offsets point at entries in the
/// snapshot mapping; indices point into the side tables of the index.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum View {
    Dir {
        first: NodeId,
        count: u32,
    },
    /// Bytes rendered while indexing (MANIFEST.json, KEYMAP.jsonl, …).
    Static(u32),
    /// `CHECKSUMS`, hashed on first read.
    Checksums,
    DdbSchema(u64),
    DdbItem(u64),
    S3Bucket(u64),
    /// Sidecar of the object whose manifest entry is at this offset.
    S3Sidecar(u64),
    /// Body of S3 object number N of the index's object table.
    S3Body(u32),
    /// One raw blob chunk (orphan output).
    RawBody(u64),
    /// A JSONL file listing entries (incomplete uploads): index of a list.
    EntryList(u32),
    /// A Redis string or HLL value (entry offset) minus its TTL header.
    RedisBlob(u64),
    /// An aggregated file (Redis collection, SQS messages, TTL sidecar)
    /// served fragment by fragment: index into the fragment table.
    Frag(u32),
    /// `_queue.json` of the SQS queue whose meta entry is at this offset.
    SqsQueue(u64),
}

const TAG_DIR: u8 = 0;
const TAG_STATIC: u8 = 1;
const TAG_CHECKSUMS: u8 = 2;
const TAG_DDB_SCHEMA: u8 = 3;
const TAG_DDB_ITEM: u8 = 4;
const TAG_S3_BUCKET: u8 = 5;
const TAG_S3_SIDECAR: u8 = 6;
const TAG_S3_BODY: u8 = 7;
const TAG_RAW_BODY: u8 = 8;
const TAG_ENTRY_LIST: u8 = 9;
const TAG_REDIS_BLOB: u8 = 10;
const TAG_FRAG: u8 = 11;
const TAG_SQS_QUEUE: u8 = 12;

impl View {
    pub(crate) fn pack(self) -> (u8, u64) {
        match self {
            View::Dir { first, count } => (TAG_DIR, (u64::from(first) << 32) | u64::from(count)),
            View::Static(i) => (TAG_STATIC, u64::from(i)),
            View::Checksums => (TAG_CHECKSUMS, 0),
            View::DdbSchema(o) => (TAG_DDB_SCHEMA, o),
            View::DdbItem(o) => (TAG_DDB_ITEM, o),
            View::S3Bucket(o) => (TAG_S3_BUCKET, o),
            View::S3Sidecar(o) => (TAG_S3_SIDECAR, o),
            View::S3Body(i) => (TAG_S3_BODY, u64::from(i)),
            View::RawBody(o) => (TAG_RAW_BODY, o),
            View::EntryList(i) => (TAG_ENTRY_LIST, u64::from(i)),
            View::RedisBlob(o) => (TAG_REDIS_BLOB, o),
            View::Frag(i) => (TAG_FRAG, u64::from(i)),
            View::SqsQueue(o) => (TAG_SQS_QUEUE, o),
        }
    }

    fn unpack(tag: u8, p: u64) -> View {
        match tag {
            TAG_DIR => View::Dir { first: (p >> 32) as u32, count: p as u32 },
            TAG_STATIC => View::Static(p as u32),
            TAG_CHECKSUMS => View::Checksums,
            TAG_DDB_SCHEMA => View::DdbSchema(p),
            TAG_DDB_ITEM => View::DdbItem(p),
            TAG_S3_BUCKET => View::S3Bucket(p),
            TAG_S3_SIDECAR => View::S3Sidecar(p),
            TAG_S3_BODY => View::S3Body(p as u32),
            TAG_RAW_BODY => View::RawBody(p),
            TAG_ENTRY_LIST => View::EntryList(p as u32),
            TAG_REDIS_BLOB => View::RedisBlob(p),
            TAG_FRAG => View::Frag(p as u32),
            _ => View::SqsQueue(p),
        }
    }
}

/// One directory or file: 32 bytes, names in a shared arena.
pub(crate) struct Node {
    /// `offset << 16 | len` into the names arena.
    name: u64,
    payload: u64,
    /// Files: size in bytes or [`SIZE_UNKNOWN`]; directories: subdir count.
    size: AtomicU64,
    pub(crate) parent: NodeId,
    tag: u8,
}

impl Node {
    pub(crate) fn new(name_off: usize, name_len: usize, parent: NodeId, view: View, size: u64) -> Node {
        let (tag, payload) = view.pack();
        Node {
            name: ((name_off as u64) << 16) | name_len as u64,
            payload,
            size: AtomicU64::new(size),
            parent,
            tag,
        }
    }

    pub(crate) fn name_range(&self) -> (usize, usize) {
        ((self.name >> 16) as usize, (self.name & 0xFFFF) as usize)
    }

    pub(crate) fn view(&self) -> View {
        View::unpack(self.tag, self.payload)
    }

    pub(crate) fn set_view(&mut self, view: View) {
        let (tag, payload) = view.pack();
        self.tag = tag;
        self.payload = payload;
    }

    /// The cached size, or [`SIZE_UNKNOWN`].
    pub(crate) fn stored_size(&self) -> u64 {
        self.size.load(Ordering::Relaxed)
    }

    /// Caches a computed size. Racing threads compute the same value.
    pub(crate) fn store_size(&self, size: u64) {
        self.size.store(size, Ordering::Relaxed);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn node_is_32_bytes_and_views_round_trip() {
        assert_eq!(std::mem::size_of::<Node>(), 32);
        for v in [
            View::Dir { first: 7, count: u32::MAX },
            View::Static(3),
            View::Checksums,
            View::DdbSchema(1 << 40),
            View::DdbItem(5),
            View::S3Bucket(6),
            View::S3Sidecar(7),
            View::S3Body(8),
            View::RawBody(9),
            View::EntryList(10),
            View::RedisBlob(11),
            View::Frag(12),
            View::SqsQueue(1 << 50),
        ] {
            let (t, p) = v.pack();
            assert_eq!(View::unpack(t, p), v);
        }
    }
}
