//! elastickv's DynamoDB protobuf messages, read straight from the mapping.
//!
//! Semantics follow Go's protobuf runtime where they show in the output:
//! unknown fields and fields with an unexpected wire type are skipped, the
//! last occurrence of a scalar wins, repeated occurrences of a message
//! field merge (their encodings concatenate), map entries with a repeated
//! key keep the last value, and proto3 strings must be valid UTF-8.

use std::collections::BTreeMap;

use crate::codec::protowire::{Fields, Value, WireError};

pub(crate) const SCHEMA_MAGIC: &[u8; 4] = b"\0DS\x01";
pub(crate) const ITEM_MAGIC: &[u8; 4] = b"\0DI\x01";

/// Nesting deeper than this is refused. DynamoDB itself allows 32 levels;
/// the bound keeps recursion far from the stack limit of a FUSE thread.
pub(crate) const MAX_DEPTH: usize = 1000;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub(crate) enum ProtoError {
    #[error(transparent)]
    Wire(#[from] WireError),
    #[error("string field {field} is not valid UTF-8")]
    InvalidUtf8 { field: &'static str },
    #[error("attribute nesting deeper than {max} levels", max = MAX_DEPTH)]
    TooDeep,
    #[error("missing magic prefix")]
    MissingMagic,
}

fn utf8<'a>(b: &'a [u8], field: &'static str) -> Result<&'a str, ProtoError> {
    std::str::from_utf8(b).map_err(|_| ProtoError::InvalidUtf8 { field })
}

/// The parts of `DynamoTableSchema` the dump uses.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct Schema {
    pub(crate) table_name: String,
    pub attribute_definitions: BTreeMap<String, String>,
    pub hash_key: String,
    pub range_key: String,
    pub gsis: BTreeMap<String, Gsi>,
    pub key_encoding_version: u64,
    pub migrating_from_generation: u64,
    pub generation: u64,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct Gsi {
    pub hash_key: String,
    pub range_key: String,
    pub projection_type: String,
    pub non_key_attributes: Vec<String>,
}

fn key_schema(buf: &[u8], hash: &mut String, range: &mut String) -> Result<(), ProtoError> {
    for f in Fields::new(buf) {
        match f? {
            (1, Value::Bytes(b)) => *hash = utf8(b, "hash_key")?.to_owned(),
            (2, Value::Bytes(b)) => *range = utf8(b, "range_key")?.to_owned(),
            _ => {}
        }
    }
    Ok(())
}

/// A map entry's key and (last) value bytes.
fn map_entry(buf: &[u8]) -> Result<(&[u8], &[u8]), ProtoError> {
    let (mut k, mut v): (&[u8], &[u8]) = (&[], &[]);
    for f in Fields::new(buf) {
        match f? {
            (1, Value::Bytes(b)) => k = b,
            (2, Value::Bytes(b)) => v = b,
            _ => {}
        }
    }
    Ok((k, v))
}

fn gsi(buf: &[u8], g: &mut Gsi) -> Result<(), ProtoError> {
    for f in Fields::new(buf) {
        match f? {
            (1, Value::Bytes(b)) => key_schema(b, &mut g.hash_key, &mut g.range_key)?,
            (2, Value::Bytes(b)) => {
                for pf in Fields::new(b) {
                    match pf? {
                        (1, Value::Bytes(t)) => g.projection_type = utf8(t, "projection_type")?.to_owned(),
                        (2, Value::Bytes(a)) => {
                            g.non_key_attributes.push(utf8(a, "non_key_attributes")?.to_owned())
                        }
                        _ => {}
                    }
                }
            }
            _ => {}
        }
    }
    Ok(())
}

/// Parses a schema value (magic included).
pub(crate) fn parse_schema(value: &[u8]) -> Result<Schema, ProtoError> {
    let body = value.strip_prefix(SCHEMA_MAGIC).ok_or(ProtoError::MissingMagic)?;
    let mut s = Schema::default();
    for f in Fields::new(body) {
        match f? {
            (1, Value::Bytes(b)) => s.table_name = utf8(b, "table_name")?.to_owned(),
            (2, Value::Bytes(b)) => {
                let (k, v) = map_entry(b)?;
                s.attribute_definitions.insert(
                    utf8(k, "attribute_definitions")?.to_owned(),
                    utf8(v, "attribute_definitions")?.to_owned(),
                );
            }
            (3, Value::Bytes(b)) => key_schema(b, &mut s.hash_key, &mut s.range_key)?,
            (4, Value::Bytes(b)) => {
                let (k, v) = map_entry(b)?;
                let mut g = Gsi::default();
                gsi(v, &mut g)?;
                s.gsis.insert(utf8(k, "global_secondary_indexes")?.to_owned(), g);
            }
            (5, Value::Varint(v)) => s.key_encoding_version = v,
            (6, Value::Varint(v)) => s.migrating_from_generation = v,
            (7, Value::Varint(v)) => s.generation = v,
            _ => {}
        }
    }
    Ok(s)
}

/// One attribute value, borrowed. Message-typed members keep the bytes
/// from their first occurrence on, so later occurrences merge in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Attr<'a> {
    S(&'a str),
    N(&'a str),
    B(&'a [u8]),
    Bool(bool),
    Null(bool),
    /// `ss`, `ns`, `bs`, `l` or `m`: the field number and the value's bytes
    /// from the member's first occurrence on.
    Msg(u32, &'a [u8]),
    Empty,
}

pub(crate) const F_SS: u32 = 6;
pub(crate) const F_NS: u32 = 7;
pub(crate) const F_BS: u32 = 8;
pub(crate) const F_L: u32 = 9;
pub(crate) const F_M: u32 = 10;

pub(crate) fn parse_attr(buf: &[u8]) -> Result<Attr<'_>, ProtoError> {
    let mut attr = Attr::Empty;
    let mut fields = Fields::new(buf);
    loop {
        let at = fields.position();
        let Some(f) = fields.next() else { break };
        attr = match (f?, attr) {
            ((1, Value::Bytes(b)), _) => Attr::S(utf8(b, "s")?),
            ((2, Value::Bytes(b)), _) => Attr::N(utf8(b, "n")?),
            ((3, Value::Bytes(b)), _) => Attr::B(b),
            ((4, Value::Varint(v)), _) => Attr::Bool(v != 0),
            ((5, Value::Varint(v)), _) => Attr::Null(v != 0),
            ((n @ F_SS..=F_M, Value::Bytes(_)), Attr::Msg(m, rest)) if m == n => Attr::Msg(m, rest),
            ((n @ F_SS..=F_M, Value::Bytes(_)), _) => Attr::Msg(n, &buf[at..]),
            (_, a) => a,
        };
    }
    Ok(attr)
}

/// The payloads of every occurrence of member `field` in `rest`.
pub(crate) fn member_parts(field: u32, rest: &[u8]) -> impl Iterator<Item = Result<&[u8], ProtoError>> {
    Fields::new(rest).filter_map(move |f| match f {
        Ok((n, Value::Bytes(b))) if n == field => Some(Ok(b)),
        Ok(_) => None,
        Err(e) => Some(Err(e.into())),
    })
}

/// Repeated field 1 of the set/list messages, across merged occurrences.
pub(crate) fn repeated_values(field: u32, rest: &[u8]) -> impl Iterator<Item = Result<&[u8], ProtoError>> {
    member_parts(field, rest).flat_map(|part| {
        let inner: Box<dyn Iterator<Item = Result<&[u8], ProtoError>>> = match part {
            Ok(p) => Box::new(Fields::new(p).filter_map(|f| match f {
                Ok((1, Value::Bytes(b))) => Some(Ok(b)),
                Ok(_) => None,
                Err(e) => Some(Err(e.into())),
            })),
            Err(e) => Box::new(std::iter::once(Err(e))),
        };
        inner
    })
}

/// Map entries (`name → value bytes`), last entry per name winning, sorted
/// by name as Go's JSON encoder sorts map keys.
pub(crate) fn map_entries<'a>(
    entries: impl Iterator<Item = Result<&'a [u8], ProtoError>>,
) -> Result<Vec<(&'a str, &'a [u8])>, ProtoError> {
    let mut out: Vec<(&str, &[u8])> = Vec::new();
    for e in entries {
        let (k, v) = map_entry(e?)?;
        out.push((utf8(k, "map key")?, v));
    }
    // Stable sort keeps stream order within a name; keep the last one.
    out.sort_by(|a, b| a.0.as_bytes().cmp(b.0.as_bytes()));
    let mut dedup: Vec<(&str, &[u8])> = Vec::with_capacity(out.len());
    for e in out {
        match dedup.last_mut() {
            Some(last) if last.0 == e.0 => *last = e,
            _ => dedup.push(e),
        }
    }
    Ok(dedup)
}

/// The top-level attribute entries of an item body (magic stripped).
pub(crate) fn item_entries(body: &[u8]) -> impl Iterator<Item = Result<&[u8], ProtoError>> {
    Fields::new(body).filter_map(|f| match f {
        Ok((1, Value::Bytes(b))) => Some(Ok(b)),
        Ok(_) => None,
        Err(e) => Some(Err(e.into())),
    })
}

/// Value bytes of the hash and range key attributes, when present.
pub(crate) type KeyAttrs<'a> = (Option<&'a [u8]>, Option<&'a [u8]>);

/// Finds the (last) value bytes of the named attributes without decoding
/// anything else: what indexing needs to name the item's file.
pub(crate) fn find_key_attrs<'a>(
    body: &'a [u8],
    hash: &str,
    range: &str,
) -> Result<KeyAttrs<'a>, ProtoError> {
    let (mut h, mut r) = (None, None);
    for e in item_entries(body) {
        let e = e?;
        // Deterministic writers lay an entry out as `0a len key 12 len
        // value` with one-byte lengths; read that shape directly.
        let (k, v) = match e {
            [0x0a, kl, rest @ ..]
                if *kl < 0x80
                    && rest.len() > *kl as usize + 1
                    && rest[*kl as usize] == 0x12
                    && rest[*kl as usize + 1] < 0x80
                    && rest.len() == *kl as usize + 2 + rest[*kl as usize + 1] as usize =>
            {
                (&rest[..*kl as usize], &rest[*kl as usize + 2..])
            }
            _ => map_entry(e)?,
        };
        if k.len() == hash.len() && k == hash.as_bytes() {
            h = Some(v);
        }
        if k.len() == range.len() && !range.is_empty() && k == range.as_bytes() {
            r = Some(v);
        }
    }
    Ok((h, r))
}
