//! Per-adapter decoding: each collector receives the live records of its
//! key families during the scan and, at the end, lays its files into the
//! tree as views. Renderers that turn a view into bytes live beside them.

pub mod canonical;
pub mod dynamodb;
pub mod frag;
pub mod packing;
pub mod records;
pub mod redis;
pub mod route;
pub mod s3;
pub mod sqs;

pub use route::{Adapter, Family};

/// Each adapter's pack entry point, in one registry.
pub fn pack_encoder(a: Adapter) -> packing::Encoder {
    match a {
        Adapter::DynamoDb => dynamodb::pack::encode,
        Adapter::S3 => s3::pack::encode,
        Adapter::Redis => redis::pack::encode,
        Adapter::Sqs => sqs::pack::encode,
    }
}

use std::fmt;

use crate::container::error::show_key;
use crate::tree::{TreeBuilder, TreeError};

/// The upstream error identities a record can fail with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorKind {
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
    RedisInvalidZsetMember,
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
    pub fn message(self) -> &'static str {
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
            RedisInvalidZsetMember => "invalid !zs|mem| value",
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
    pub kind: ErrorKind,
    /// Offset of the entry in the snapshot file.
    pub offset: Option<u64>,
    pub key: Option<Vec<u8>>,
    pub detail: String,
}

impl RecordError {
    pub fn new(kind: ErrorKind, offset: u64, key: &[u8], detail: impl Into<String>) -> Self {
        RecordError { kind, offset: Some(offset), key: Some(key.to_vec()), detail: detail.into() }
    }

    /// An error about a whole group of records (a bucket, a table).
    pub fn about(kind: ErrorKind, detail: impl Into<String>) -> Self {
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
    pub event: &'static str,
    pub fields: Vec<(&'static str, String)>,
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
pub struct Side {
    /// Small files rendered while indexing.
    pub statics: Vec<Box<[u8]>>,
    pub s3: s3::BodyTable,
    /// Entry lists behind `View::EntryList` (records.jsonl).
    pub entry_lists: Vec<Box<[u64]>>,
    /// Aggregated files behind `View::Frag` (Redis collections, SQS
    /// messages, TTL sidecars).
    pub frags: crate::adapters::frag::FragTable,
}

impl Side {
    pub fn add_static(&mut self, bytes: Vec<u8>) -> u32 {
        self.statics.push(bytes.into_boxed_slice());
        (self.statics.len() - 1) as u32
    }

    pub fn heap_bytes(&self) -> usize {
        self.statics.iter().map(|s| s.len()).sum::<usize>()
            + self.statics.capacity() * std::mem::size_of::<Box<[u8]>>()
            + self.s3.heap_bytes()
            + self.entry_lists.iter().map(|l| l.len() * 8).sum::<usize>()
            + self.frags.heap_bytes()
    }
}

/// Where finalize puts its output.
pub struct Sink<'t> {
    pub tree: &'t mut TreeBuilder,
    pub side: &'t mut Side,
    pub warnings: &'t mut Vec<Warning>,
}

impl Sink<'_> {
    pub fn warn(&mut self, event: &'static str, fields: Vec<(&'static str, String)>) {
        let w = Warning { event, fields };
        log::warn!("encoder warning {w}");
        self.warnings.push(w);
    }
}
