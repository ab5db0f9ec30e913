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
    pub(crate) const ALL: [Adapter; 4] = [Adapter::Redis, Adapter::DynamoDb, Adapter::S3, Adapter::Sqs];

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
pub(crate) enum Family {
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
    Redis(RedisFamily),
    Sqs(SqsFamily),
    /// Deliberately dropped (transactions, routing, GC, bucket counters).
    Internal,
}

impl Family {
    pub(crate) fn adapter(self) -> Option<Adapter> {
        use Family::*;
        match self {
            DdbTableMeta | DdbTableGen | DdbItem | DdbGsi => Some(Adapter::DynamoDb),
            S3BucketMeta | S3UploadMeta | S3UploadPart | S3Blob | S3ChunkRef | S3ChunkBlob
            | S3ObjectManifest => Some(Adapter::S3),
            Redis(_) => Some(Adapter::Redis),
            Sqs(_) => Some(Adapter::Sqs),
            Internal => None,
        }
    }
}

/// Redis key families (`redis-sqs.md` §2.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum RedisFamily {
    Str,
    Hll,
    Ttl,
    ZsetBlob,
    HashMeta,
    HashMetaDelta,
    HashField,
    ListMeta,
    ListMetaDelta,
    ListItem,
    ListClaim,
    SetMeta,
    SetMetaDelta,
    SetMember,
    ZsetMeta,
    ZsetMetaDelta,
    ZsetMember,
    ZsetScore,
    StreamMeta,
    StreamEntry,
}

/// SQS key families (`redis-sqs.md` §4.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum SqsFamily {
    QueueMeta,
    QueueGen,
    QueueSeq,
    QueueTombstone,
    MsgData,
    MsgVis,
    MsgByAge,
    MsgDedup,
    MsgGroup,
}

/// Sorted longest-first so the first match is the longest.
const PREFIXES: &[(&[u8], Family)] = &[
    (b"!sqs|queue|tombstone|", Family::Sqs(SqsFamily::QueueTombstone)),
    (b"!ddb|meta|table|", Family::DdbTableMeta),
    (b"!s3|bucket|meta|", Family::S3BucketMeta),
    (b"!s3|upload|meta|", Family::S3UploadMeta),
    (b"!s3|upload|part|", Family::S3UploadPart),
    (b"!sqs|queue|meta|", Family::Sqs(SqsFamily::QueueMeta)),
    (b"!s3|bucket|gen|", Family::Internal),
    (b"!sqs|queue|gen|", Family::Sqs(SqsFamily::QueueGen)),
    (b"!sqs|queue|seq|", Family::Sqs(SqsFamily::QueueSeq)),
    (b"!sqs|msg|byage|", Family::Sqs(SqsFamily::MsgByAge)),
    (b"!sqs|msg|dedup|", Family::Sqs(SqsFamily::MsgDedup)),
    (b"!sqs|msg|group|", Family::Sqs(SqsFamily::MsgGroup)),
    (b"!ddb|meta|gen|", Family::DdbTableGen),
    (b"!s3|chunkblob|", Family::S3ChunkBlob),
    (b"!s3|gc|upload|", Family::Internal),
    (b"!sqs|msg|data|", Family::Sqs(SqsFamily::MsgData)),
    (b"!stream|entry|", Family::Redis(RedisFamily::StreamEntry)),
    (b"!s3|obj|head|", Family::S3ObjectManifest),
    (b"!s3|chunkref|", Family::S3ChunkRef),
    (b"!sqs|msg|vis|", Family::Sqs(SqsFamily::MsgVis)),
    (b"!stream|meta|", Family::Redis(RedisFamily::StreamMeta)),
    (b"!lst|meta|d|", Family::Redis(RedisFamily::ListMetaDelta)),
    (b"!redis|zset|", Family::Redis(RedisFamily::ZsetBlob)),
    (b"!encryption|", Family::Internal),
    (b"!hs|meta|d|", Family::Redis(RedisFamily::HashMetaDelta)),
    (b"!lst|claim|", Family::Redis(RedisFamily::ListClaim)),
    (b"!st|meta|d|", Family::Redis(RedisFamily::SetMetaDelta)),
    (b"!zs|meta|d|", Family::Redis(RedisFamily::ZsetMetaDelta)),
    (b"!redis|str|", Family::Redis(RedisFamily::Str)),
    (b"!redis|hll|", Family::Redis(RedisFamily::Hll)),
    (b"!redis|ttl|", Family::Redis(RedisFamily::Ttl)),
    (b"!ddb|item|", Family::DdbItem),
    (b"!lst|meta|", Family::Redis(RedisFamily::ListMeta)),
    (b"!ddb|gsi|", Family::DdbGsi),
    (b"!s3|blob|", Family::S3Blob),
    (b"!s3route|", Family::Internal),
    (b"!hs|meta|", Family::Redis(RedisFamily::HashMeta)),
    (b"!lst|itm|", Family::Redis(RedisFamily::ListItem)),
    (b"!st|meta|", Family::Redis(RedisFamily::SetMeta)),
    (b"!zs|meta|", Family::Redis(RedisFamily::ZsetMeta)),
    (b"!hs|fld|", Family::Redis(RedisFamily::HashField)),
    (b"!st|mem|", Family::Redis(RedisFamily::SetMember)),
    (b"!zs|mem|", Family::Redis(RedisFamily::ZsetMember)),
    (b"!zs|scr|", Family::Redis(RedisFamily::ZsetScore)),
    (b"!dist|", Family::Internal),
    (b"!txn|", Family::Internal),
];

/// The family of a user key and the length of the matched prefix, or
/// `None` for keys no adapter knows (counted as unknown, not an error).
pub(crate) fn classify(user_key: &[u8]) -> Option<(Family, usize)> {
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
        assert_eq!(classify(b"!hs|meta|d|x"), Some((Family::Redis(RedisFamily::HashMetaDelta), 11)));
        assert_eq!(classify(b"!hs|meta|x"), Some((Family::Redis(RedisFamily::HashMeta), 9)));
        assert_eq!(classify(b"!stream|meta|x"), Some((Family::Redis(RedisFamily::StreamMeta), 13)));
        assert_eq!(classify(b"!st|mem|x"), Some((Family::Redis(RedisFamily::SetMember), 8)));
        assert_eq!(classify(b"!sqs|queue|seq|x"), Some((Family::Sqs(SqsFamily::QueueSeq), 15)));
        assert_eq!(classify(b"!redis|hash|x"), None);
        assert_eq!(classify(b"!ddb|meta|table|dA"), Some((Family::DdbTableMeta, 16)));
        assert_eq!(classify(b"!ddb|meta|gen|dA"), Some((Family::DdbTableGen, 14)));
        assert_eq!(classify(b"!s3|bucket|gen|x"), Some((Family::Internal, 15)));
        assert_eq!(classify(b"!fs|inode|1"), None);
        assert_eq!(classify(b"plain"), None);
    }
}
