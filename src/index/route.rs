//! Prefix dispatch of user keys to adapters (`fsm-container.md` §13): the
//! longest matching prefix wins.

/// The four adapters, in upstream's `adapters_enabled` order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Adapter {
    Redis,
    DynamoDb,
    S3,
    Sqs,
}

impl Adapter {
    pub const ALL: [Adapter; 4] = [Adapter::Redis, Adapter::DynamoDb, Adapter::S3, Adapter::Sqs];

    pub fn name(self) -> &'static str {
        match self {
            Adapter::Redis => "redis",
            Adapter::DynamoDb => "dynamodb",
            Adapter::S3 => "s3",
            Adapter::Sqs => "sqs",
        }
    }
}

/// What a key family is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Family {
    DdbTableMeta,
    DdbTableGen,
    DdbItem,
    DdbGsi,
    S3BucketMeta,
    S3UploadMeta,
    S3UploadPart,
    S3Blob,
    S3ChunkRef,
    S3ChunkBlob,
    S3ObjectManifest,
    /// Any Redis family; decoded by the Redis adapter.
    Redis,
    /// Any SQS family; decoded by the SQS adapter.
    Sqs,
    /// Deliberately dropped (transactions, routing, GC, bucket counters).
    Internal,
}

impl Family {
    pub fn adapter(self) -> Option<Adapter> {
        use Family::*;
        match self {
            DdbTableMeta | DdbTableGen | DdbItem | DdbGsi => Some(Adapter::DynamoDb),
            S3BucketMeta | S3UploadMeta | S3UploadPart | S3Blob | S3ChunkRef | S3ChunkBlob
            | S3ObjectManifest => Some(Adapter::S3),
            Redis => Some(Adapter::Redis),
            Sqs => Some(Adapter::Sqs),
            Internal => None,
        }
    }
}

/// Sorted longest-first so the first match is the longest.
const PREFIXES: &[(&[u8], Family)] = &[
    (b"!sqs|queue|tombstone|", Family::Sqs),
    (b"!ddb|meta|table|", Family::DdbTableMeta),
    (b"!s3|bucket|meta|", Family::S3BucketMeta),
    (b"!s3|upload|meta|", Family::S3UploadMeta),
    (b"!s3|upload|part|", Family::S3UploadPart),
    (b"!sqs|queue|meta|", Family::Sqs),
    (b"!s3|bucket|gen|", Family::Internal),
    (b"!sqs|queue|gen|", Family::Sqs),
    (b"!sqs|queue|seq|", Family::Sqs),
    (b"!sqs|msg|byage|", Family::Sqs),
    (b"!sqs|msg|dedup|", Family::Sqs),
    (b"!sqs|msg|group|", Family::Sqs),
    (b"!ddb|meta|gen|", Family::DdbTableGen),
    (b"!s3|chunkblob|", Family::S3ChunkBlob),
    (b"!s3|gc|upload|", Family::Internal),
    (b"!sqs|msg|data|", Family::Sqs),
    (b"!stream|entry|", Family::Redis),
    (b"!s3|obj|head|", Family::S3ObjectManifest),
    (b"!s3|chunkref|", Family::S3ChunkRef),
    (b"!sqs|msg|vis|", Family::Sqs),
    (b"!stream|meta|", Family::Redis),
    (b"!lst|meta|d|", Family::Redis),
    (b"!redis|zset|", Family::Redis),
    (b"!encryption|", Family::Internal),
    (b"!hs|meta|d|", Family::Redis),
    (b"!lst|claim|", Family::Redis),
    (b"!st|meta|d|", Family::Redis),
    (b"!zs|meta|d|", Family::Redis),
    (b"!redis|str|", Family::Redis),
    (b"!redis|hll|", Family::Redis),
    (b"!redis|ttl|", Family::Redis),
    (b"!ddb|item|", Family::DdbItem),
    (b"!lst|meta|", Family::Redis),
    (b"!ddb|gsi|", Family::DdbGsi),
    (b"!s3|blob|", Family::S3Blob),
    (b"!s3route|", Family::Internal),
    (b"!hs|meta|", Family::Redis),
    (b"!lst|itm|", Family::Redis),
    (b"!st|meta|", Family::Redis),
    (b"!zs|meta|", Family::Redis),
    (b"!hs|fld|", Family::Redis),
    (b"!st|mem|", Family::Redis),
    (b"!zs|mem|", Family::Redis),
    (b"!zs|scr|", Family::Redis),
    (b"!dist|", Family::Internal),
    (b"!txn|", Family::Internal),
];

/// The family of a user key and the length of the matched prefix, or
/// `None` for keys no adapter knows (counted as unknown, not an error).
pub fn classify(user_key: &[u8]) -> Option<(Family, usize)> {
    if user_key.first() != Some(&b'!') {
        return None;
    }
    // Only prefixes sharing the second byte can match; this keeps the
    // per-record cost to a handful of comparisons.
    let second = *user_key.get(1)?;
    PREFIXES
        .iter()
        .filter(|(p, _)| p[1] == second)
        .find(|(p, _)| user_key.starts_with(p))
        .map(|&(p, f)| (f, p.len()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table_is_longest_first() {
        for w in PREFIXES.windows(2) {
            assert!(w[0].0.len() >= w[1].0.len(), "{:?}", String::from_utf8_lossy(w[1].0));
        }
    }

    #[test]
    fn longest_prefix_wins() {
        assert_eq!(classify(b"!hs|meta|d|x"), Some((Family::Redis, 11)));
        assert_eq!(classify(b"!hs|meta|x"), Some((Family::Redis, 9)));
        assert_eq!(classify(b"!ddb|meta|table|dA"), Some((Family::DdbTableMeta, 16)));
        assert_eq!(classify(b"!ddb|meta|gen|dA"), Some((Family::DdbTableGen, 14)));
        assert_eq!(classify(b"!s3|bucket|gen|x"), Some((Family::Internal, 15)));
        assert_eq!(classify(b"!fs|inode|1"), None);
        assert_eq!(classify(b"plain"), None);
    }
}
