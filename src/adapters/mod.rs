//! Per-adapter decoding: each collector receives the live records of its
//! key families during the scan and, at the end, lays its files into the
//! tree as views. Renderers that turn a view into bytes live beside them.

pub(crate) mod canonical;
pub mod dynamodb;
pub(crate) mod frag;
pub(crate) mod packing;
pub(crate) mod records;
pub mod redis;
pub mod route;
pub mod s3;
pub mod sqs;

pub(crate) use route::{Adapter, Family};

/// Each adapter's pack entry point, in one registry.
pub(crate) fn pack_encoder(a: Adapter) -> packing::Encoder {
    match a {
        Adapter::DynamoDb => dynamodb::pack::encode,
        Adapter::S3 => s3::pack::encode,
        Adapter::Redis => redis::pack::encode,
        Adapter::Sqs => sqs::pack::encode,
    }
}

use std::fmt;

use crate::container::error::show_key;
use crate::container::Entry;
use crate::tree::{TreeBuilder, TreeError};

/// What the scan hands each adapter (`index::Index::build`): every live
/// record of its key families, then one `finalize` that lays its files
/// into the tree as views and fills its part of the counts.
pub(crate) trait Collect {
    fn handle(&mut self, family: Family, prefix_len: usize, e: &Entry<'_>) -> Result<(), RecordError>;
    /// Returns the errors of records that produce no file (deferred:
    /// `extract` fails on them, a mount logs them).
    fn finalize(
        self: Box<Self>,
        data: &[u8],
        sink: &mut Sink<'_>,
        counts: &mut Counts,
    ) -> Result<Vec<RecordError>, AdapterError>;
}

/// The decode options adapters act on.
#[derive(Debug, Clone, Default)]
pub(crate) struct Settings {
    pub(crate) include_orphans: bool,
    pub(crate) include_incomplete_uploads: bool,
    pub(crate) rename_collisions: bool,
    pub(crate) preserve_sqs_visibility: bool,
    pub(crate) include_sqs_side_records: bool,
}

/// Upstream finalizes DynamoDB, S3, Redis, SQS in this order (it decides
/// which error a snapshot with several is refused for).
pub(crate) const FINALIZE_ORDER: [Adapter; 4] =
    [Adapter::DynamoDb, Adapter::S3, Adapter::Redis, Adapter::Sqs];

/// Each adapter's collector, in one registry.
pub(crate) fn collector(a: Adapter, s: &Settings) -> Box<dyn Collect> {
    match a {
        Adapter::DynamoDb => Box::<dynamodb::Collector>::default(),
        Adapter::S3 => Box::new(s3::Collector::new(s3::Options {
            include_orphans: s.include_orphans,
            include_incomplete_uploads: s.include_incomplete_uploads,
            rename_collisions: s.rename_collisions,
        })),
        Adapter::Redis => Box::<redis::Collector>::default(),
        Adapter::Sqs => Box::new(sqs::Collector::new(sqs::Options {
            preserve_visibility: s.preserve_sqs_visibility,
            include_side_records: s.include_sqs_side_records,
        })),
    }
}

/// Live records per destination, as upstream counts them.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Counts {
    pub(crate) dynamodb: u64,
    pub(crate) s3: u64,
    pub redis: u64,
    pub sqs: u64,
    /// Dropped on purpose: internal prefixes and disabled adapters.
    pub internal: u64,
    /// Matching no known prefix (not an error).
    pub(crate) unknown: u64,
    pub tables: u64,
    pub(crate) buckets: u64,
    /// Redis keys per type.
    pub redis_types: redis::RedisCounts,
    /// SQS queues (with a meta row), in name order.
    pub queues: Vec<sqs::QueueCount>,
}

impl Counts {
    /// One more live record routed to `a`.
    pub(crate) fn add_record(&mut self, a: Adapter) {
        match a {
            Adapter::DynamoDb => self.dynamodb += 1,
            Adapter::S3 => self.s3 += 1,
            Adapter::Redis => self.redis += 1,
            Adapter::Sqs => self.sqs += 1,
        }
    }
}

/// The upstream error identities a record can fail with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ErrorKind {
    DdbMalformedKey,
    DdbInvalidSchema,
    DdbInvalidItem,
    S3MalformedKey,
    S3InvalidBucketMeta,
    S3InvalidManifest,
    S3InvalidChunkRef,
    S3ChunkBlobHashMismatch,
    S3MetaSuffixCollision,
    S3IncompleteBlobChunks,
    RedisInvalidStringValue,
    RedisInvalidHllValue,
    RedisInvalidTtlValue,
    RedisInvalidHashKey,
    RedisInvalidHashMeta,
    RedisInvalidListKey,
    RedisInvalidListMeta,
    RedisInvalidSetKey,
    RedisInvalidSetMeta,
    RedisInvalidZsetKey,
    RedisInvalidZsetMeta,
    RedisInvalidZsetLegacyBlob,
    RedisInvalidStreamKey,
    RedisInvalidStreamMeta,
    RedisInvalidStreamEntry,
    SqsMalformedKey,
    SqsInvalidQueueMeta,
    SqsInvalidMessage,
}

impl ErrorKind {
    /// Upstream's sentinel message, so operators can match the two tools.
    pub(crate) fn message(self) -> &'static str {
        use ErrorKind::*;
        match self {
            DdbMalformedKey => "malformed DynamoDB key",
            DdbInvalidSchema => "invalid !ddb|meta|table value",
            DdbInvalidItem => "invalid !ddb|item value",
            S3MalformedKey => "malformed S3 key",
            S3InvalidBucketMeta => "invalid S3 bucket metadata",
            S3InvalidManifest => "invalid S3 object manifest",
            S3InvalidChunkRef => "invalid S3 chunk reference",
            S3ChunkBlobHashMismatch => "S3 chunk blob does not match its digest",
            S3MetaSuffixCollision => "S3 object key collides with the metadata sidecar suffix",
            S3IncompleteBlobChunks => "S3 object body has missing chunks",
            RedisInvalidStringValue => "invalid !redis|str| value",
            RedisInvalidHllValue => "invalid !redis|hll| value",
            RedisInvalidTtlValue => "invalid !redis|ttl| value",
            RedisInvalidHashKey => "malformed !hs| key",
            RedisInvalidHashMeta => "invalid !hs|meta| value",
            RedisInvalidListKey => "malformed !lst| key",
            RedisInvalidListMeta => "invalid !lst|meta| value",
            RedisInvalidSetKey => "malformed !st| key",
            RedisInvalidSetMeta => "invalid !st|meta| value",
            RedisInvalidZsetKey => "malformed !zs| key",
            RedisInvalidZsetMeta => "invalid !zs|meta| value",
            RedisInvalidZsetLegacyBlob => "invalid !redis|zset| value",
            RedisInvalidStreamKey => "malformed !stream| key",
            RedisInvalidStreamMeta => "invalid !stream|meta| value",
            RedisInvalidStreamEntry => "invalid !stream|entry| value",
            SqsMalformedKey => "malformed SQS key",
            SqsInvalidQueueMeta => "invalid !sqs|queue|meta value",
            SqsInvalidMessage => "invalid !sqs|msg|data value",
        }
    }
}

/// A record that cannot be decoded, with where it is. Display stays
/// hand-written: offset, key and detail are each optional.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub struct RecordError {
    pub(crate) kind: ErrorKind,
    /// Offset of the entry in the snapshot file.
    pub(crate) offset: Option<u64>,
    pub(crate) key: Option<Vec<u8>>,
    pub(crate) detail: String,
}

impl RecordError {
    pub(crate) fn new(kind: ErrorKind, offset: u64, key: &[u8], detail: impl Into<String>) -> Self {
        RecordError { kind, offset: Some(offset), key: Some(key.to_vec()), detail: detail.into() }
    }

    /// An error about a whole group of records (a bucket, a table).
    pub(crate) fn about(kind: ErrorKind, detail: impl Into<String>) -> Self {
        RecordError { kind, offset: None, key: None, detail: detail.into() }
    }
}

impl fmt::Display for RecordError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.kind.message())?;
        if let Some(o) = self.offset {
            write!(f, " at offset {o}")?;
        }
        if let Some(k) = &self.key {
            write!(f, " (key {})", show_key(k))?;
        }
        if !self.detail.is_empty() {
            write!(f, ": {}", self.detail)?;
        }
        Ok(())
    }
}

/// Anything that stops an index from being built past the container layer.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AdapterError {
    #[error(transparent)]
    Record(#[from] RecordError),
    #[error(transparent)]
    Tree(#[from] TreeError),
}

/// A non-fatal finding, logged like upstream's `encoder warning` lines.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Warning {
    pub(crate) event: &'static str,
    pub(crate) fields: Vec<(&'static str, String)>,
}

impl fmt::Display for Warning {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "event={}", self.event)?;
        for (k, v) in &self.fields {
            write!(f, " {k}={v}")?;
        }
        Ok(())
    }
}

/// Side tables that views index into, filled during finalize.
#[derive(Default)]
pub(crate) struct Side {
    /// Small files rendered while indexing.
    pub(crate) statics: Vec<Box<[u8]>>,
    pub(crate) s3: s3::BodyTable,
    /// Entry lists behind `View::EntryList` (records.jsonl).
    pub(crate) entry_lists: Vec<Box<[u64]>>,
    /// Aggregated files behind `View::Frag` (Redis collections, SQS
    /// messages, TTL sidecars).
    pub(crate) frags: crate::adapters::frag::FragTable,
}

impl Side {
    pub(crate) fn add_static(&mut self, bytes: Vec<u8>) -> u32 {
        self.statics.push(bytes.into_boxed_slice());
        (self.statics.len() - 1) as u32
    }

    pub(crate) fn heap_bytes(&self) -> usize {
        self.statics.iter().map(|s| s.len()).sum::<usize>()
            + self.statics.capacity() * std::mem::size_of::<Box<[u8]>>()
            + self.s3.heap_bytes()
            + self.entry_lists.iter().map(|l| l.len() * 8).sum::<usize>()
            + self.frags.heap_bytes()
    }
}

/// Where finalize puts its output.
pub(crate) struct Sink<'t> {
    pub tree: &'t mut TreeBuilder,
    pub(crate) side: &'t mut Side,
    pub warnings: &'t mut Vec<Warning>,
}

impl Sink<'_> {
    pub(crate) fn warn(&mut self, event: &'static str, fields: Vec<(&'static str, String)>) {
        let w = Warning { event, fields };
        log::warn!("encoder warning {w}");
        self.warnings.push(w);
    }
}
