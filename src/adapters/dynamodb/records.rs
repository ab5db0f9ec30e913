//! Snapshot record builders for DynamoDB: given tables and items, the
//! exact user keys and value bodies elastickv writes (the live adapter's
//! shapes for fixtures, the upstream restore encoder's for `pack`). Keys
//! carry no MVCC suffix and values no MVCC header; records are returned
//! unsorted (the snapshot writer sorts by encoded key and rejects
//! duplicates).
//!
//! Byte-level contracts: `dynamodb-s3.md` A1–A2, A9 and `pack.md` §6.5, §8.

use std::collections::BTreeMap;

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;

pub use crate::adapters::records::Record;
use crate::codec::number::ordered_number_bytes;
use crate::codec::ordered::push_segment;
use crate::codec::protowire::Writer;

/// Why an item could not be turned into records.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EncodeError {
    /// The item lacks the table's hash or range key attribute.
    #[error("item is missing key attribute {attribute:?}")]
    MissingKeyAttribute { attribute: String },
    /// A primary-key or index-key attribute is not `S`, `N` or `B`.
    #[error("key attribute {attribute:?} is not S, N or B")]
    UnsupportedKeyType { attribute: String },
    /// An `N` key attribute whose text the ordered encoding refuses.
    #[error("key attribute {attribute:?}: number {text:?} cannot be key-encoded: {reason}")]
    BadNumber { attribute: String, text: String, reason: String },
}

// ===========================================================================
// DynamoDB
// ===========================================================================

const DDB_TABLE_META_PREFIX: &[u8] = b"!ddb|meta|table|";
const DDB_TABLE_GEN_PREFIX: &[u8] = b"!ddb|meta|gen|";
const DDB_ITEM_PREFIX: &[u8] = b"!ddb|item|";
const DDB_GSI_PREFIX: &[u8] = b"!ddb|gsi|";
const DDB_SCHEMA_MAGIC: [u8; 4] = [0x00, b'D', b'S', 0x01];
const DDB_ITEM_MAGIC: [u8; 4] = [0x00, b'D', b'I', 0x01];
/// `key_encoding_version` from which item keys use the ordered codec.
const DDB_ORDERED_KEY_ENCODING: u64 = 2;

/// A DynamoDB attribute value; one variant per `DynamoAttributeValue` oneof
/// member, plus `Empty` (no member set) for fixtures.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AttrValue {
    S(String),
    N(String),
    B(Vec<u8>),
    Bool(bool),
    Null(bool),
    Ss(Vec<String>),
    Ns(Vec<String>),
    Bs(Vec<Vec<u8>>),
    L(Vec<AttrValue>),
    /// Entries in any order; a repeated name keeps its last value (Go map
    /// semantics).
    M(Vec<(String, AttrValue)>),
    Empty,
}

/// A key attribute as `_schema.json` shows it: name plus its type from
/// `attribute_definitions` (`"S"`, `"N"`, `"B"`, or empty when undefined).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[cfg(test)]
pub(crate) struct KeyAttr {
    pub name: String,
    pub(crate) ty: String,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct GsiDef {
    pub name: String,
    pub hash: String,
    /// Empty for a hash-only index.
    pub range: String,
    pub projection_type: String,
    pub non_key_attributes: Vec<String>,
}

/// A table schema. Repeated attribute-definition or GSI names keep their
/// last entry (they become proto maps).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TableDef {
    pub name: String,
    pub attribute_definitions: Vec<(String, String)>,
    pub hash_key: String,
    /// Empty for a hash-only table.
    pub range_key: String,
    pub gsis: Vec<GsiDef>,
    pub key_encoding_version: u64,
    pub generation: u64,
    pub migrating_from_generation: u64,
}

impl TableDef {
    /// The `_schema.json` view of one key attribute: its type comes from
    /// `attribute_definitions`; an empty name gives an empty `KeyAttr`.
    #[cfg(test)]
    pub(crate) fn key_attr(&self, name: &str) -> KeyAttr {
        if name.is_empty() {
            return KeyAttr::default();
        }
        let ty = crate::adapters::records::last_wins(&self.attribute_definitions)
            .get(name)
            .map(|t| t.to_string())
            .unwrap_or_default();
        KeyAttr { name: name.to_owned(), ty }
    }

    /// Item keys of `generation` use the legacy base64 form when the table
    /// predates ordered keys, and for the source generation of an in-flight
    /// legacy→ordered migration (upstream reads it through a schema copy
    /// with `key_encoding_version = 0`).
    fn legacy_keys_for(&self, generation: u64) -> bool {
        self.key_encoding_version < DDB_ORDERED_KEY_ENCODING
            || (self.migrating_from_generation != 0 && generation == self.migrating_from_generation)
    }
}

/// Base64url without padding: the table/index name codec inside DynamoDB
/// keys (never contains `|`).
fn b64u(raw: &[u8]) -> String {
    URL_SAFE_NO_PAD.encode(raw)
}

/// `!ddb|meta|table|<b64u(table)>`.
pub(crate) fn ddb_table_meta_key(table: &[u8]) -> Vec<u8> {
    [DDB_TABLE_META_PREFIX, b64u(table).as_bytes()].concat()
}

/// `!ddb|meta|gen|<b64u(table)>`.
pub(crate) fn ddb_table_gen_key(table: &[u8]) -> Vec<u8> {
    [DDB_TABLE_GEN_PREFIX, b64u(table).as_bytes()].concat()
}

/// `!ddb|item|<b64u(table)>|<generation>|<pk_bytes>`; `pk_bytes` is taken
/// as given (ordered segments, legacy text, or something malformed).
pub fn ddb_item_key(table: &[u8], generation: u64, pk_bytes: &[u8]) -> Vec<u8> {
    let mut key = DDB_ITEM_PREFIX.to_vec();
    key.extend_from_slice(b64u(table).as_bytes());
    key.push(b'|');
    key.extend_from_slice(generation.to_string().as_bytes());
    key.push(b'|');
    key.extend_from_slice(pk_bytes);
    key
}

/// `!ddb|gsi|<b64u(table)>|<generation>|<b64u(index)>|<gsi_bytes>`.
pub(crate) fn ddb_gsi_key(table: &[u8], generation: u64, index: &[u8], gsi_bytes: &[u8]) -> Vec<u8> {
    let mut key = DDB_GSI_PREFIX.to_vec();
    key.extend_from_slice(b64u(table).as_bytes());
    key.push(b'|');
    key.extend_from_slice(generation.to_string().as_bytes());
    key.push(b'|');
    key.extend_from_slice(b64u(index).as_bytes());
    key.push(b'|');
    key.extend_from_slice(gsi_bytes);
    key
}

/// The ordered (v2) key segment of one key attribute value (A1.1):
/// `seg(raw)` with `raw` = string bytes, binary bytes, or the A1.2 numeric
/// encoding. `attribute` only names the attribute in errors.
pub(crate) fn ddb_key_segment(attribute: &str, value: &AttrValue) -> Result<Vec<u8>, EncodeError> {
    let raw = match value {
        AttrValue::S(s) => s.as_bytes().to_vec(),
        AttrValue::B(b) => b.clone(),
        AttrValue::N(n) => ordered_number_bytes(n).map_err(|e| EncodeError::BadNumber {
            attribute: attribute.to_owned(),
            text: n.clone(),
            reason: e.to_string(),
        })?,
        _ => return Err(EncodeError::UnsupportedKeyType { attribute: attribute.to_owned() }),
    };
    let mut seg = Vec::with_capacity(raw.len() + 2);
    push_segment(&mut seg, &raw);
    Ok(seg)
}

/// The legacy `keyString` of a key attribute: number text verbatim (not
/// canonicalised, not validated), raw bytes for `B`.
fn legacy_key_string(attribute: &str, value: &AttrValue) -> Result<Vec<u8>, EncodeError> {
    match value {
        AttrValue::S(s) | AttrValue::N(s) => Ok(s.as_bytes().to_vec()),
        AttrValue::B(b) => Ok(b.clone()),
        _ => Err(EncodeError::UnsupportedKeyType { attribute: attribute.to_owned() }),
    }
}

/// Hash and range parts of a key (range empty when the schema has none).
type KeyParts = (Vec<u8>, Vec<u8>);

/// Hash and range parts of a key under one key schema, in the chosen codec:
/// ordered segments, or legacy key strings (not yet base64'd).
fn key_part(attribute: &str, value: &AttrValue, legacy: bool) -> Result<Vec<u8>, EncodeError> {
    if legacy {
        legacy_key_string(attribute, value)
    } else {
        ddb_key_segment(attribute, value)
    }
}

/// The table's primary key parts; a missing attribute is an error.
fn primary_key_parts(
    t: &TableDef,
    attrs: &BTreeMap<&str, &AttrValue>,
    legacy: bool,
) -> Result<KeyParts, EncodeError> {
    let lookup = |name: &str| {
        attrs
            .get(name)
            .copied()
            .ok_or_else(|| EncodeError::MissingKeyAttribute { attribute: name.to_owned() })
    };
    let hash = key_part(&t.hash_key, lookup(&t.hash_key)?, legacy)?;
    let range = if t.range_key.is_empty() {
        Vec::new()
    } else {
        key_part(&t.range_key, lookup(&t.range_key)?, legacy)?
    };
    Ok((hash, range))
}

/// An index's key parts, or `None` when the item is not in the (sparse)
/// index: index hash attribute absent, or a defined index range attribute
/// absent. A present attribute of the wrong type is an error.
fn index_key_parts(
    g: &GsiDef,
    attrs: &BTreeMap<&str, &AttrValue>,
    legacy: bool,
) -> Result<Option<KeyParts>, EncodeError> {
    let Some(hash_value) = attrs.get(g.hash.as_str()) else { return Ok(None) };
    let hash = key_part(&g.hash, hash_value, legacy)?;
    if g.range.is_empty() {
        return Ok(Some((hash, Vec::new())));
    }
    let Some(range_value) = attrs.get(g.range.as_str()) else { return Ok(None) };
    Ok(Some((hash, key_part(&g.range, range_value, legacy)?)))
}

/// Joins legacy key strings as `b64u(a)|b64u(b)|…`.
fn legacy_join(parts: &[&[u8]]) -> Vec<u8> {
    parts.iter().map(|p| b64u(p)).collect::<Vec<_>>().join("|").into_bytes()
}

fn put_string(w: &mut Writer, field: u32, s: &str) {
    // proto3 scalars at their default value are not written.
    if !s.is_empty() {
        w.bytes(field, s.as_bytes());
    }
}

fn put_uint(w: &mut Writer, field: u32, v: u64) {
    if v != 0 {
        w.uint(field, v);
    }
}

fn put_key_schema(w: &mut Writer, hash: &str, range: &str) {
    put_string(w, 1, hash);
    put_string(w, 2, range);
}

/// `\0DS\1` ‖ `DynamoTableSchema` as Go's deterministic marshalling lays it
/// out: maps sorted by key, every map entry with both key and value, the
/// primary key and each index's key schema/projection always present.
pub(crate) fn ddb_schema_value(t: &TableDef) -> Vec<u8> {
    let mut w = Writer::default();
    w.buf.extend_from_slice(&DDB_SCHEMA_MAGIC);
    put_string(&mut w, 1, &t.name);
    for (name, ty) in crate::adapters::records::last_wins(&t.attribute_definitions) {
        w.message(2, |e| {
            e.bytes(1, name.as_bytes());
            e.bytes(2, ty.as_bytes());
        });
    }
    w.message(3, |k| put_key_schema(k, &t.hash_key, &t.range_key));
    let gsis: BTreeMap<&str, &GsiDef> = t.gsis.iter().map(|g| (g.name.as_str(), g)).collect();
    for (name, g) in gsis {
        w.message(4, |e| {
            e.bytes(1, name.as_bytes());
            e.message(2, |v| {
                v.message(1, |k| put_key_schema(k, &g.hash, &g.range));
                v.message(2, |p| {
                    put_string(p, 1, &g.projection_type);
                    for a in &g.non_key_attributes {
                        p.bytes(2, a.as_bytes());
                    }
                });
            });
        });
    }
    put_uint(&mut w, 5, t.key_encoding_version);
    put_uint(&mut w, 6, t.migrating_from_generation);
    put_uint(&mut w, 7, t.generation);
    w.buf
}

/// The schema row and the generation-counter row (ASCII decimal of
/// `t.generation`).
pub fn ddb_schema_records(t: &TableDef) -> Vec<Record> {
    vec![
        Record::new(ddb_table_meta_key(t.name.as_bytes()), ddb_schema_value(t)),
        Record::new(ddb_table_gen_key(t.name.as_bytes()), t.generation.to_string().into_bytes()),
    ]
}

/// One unit of work for the item encoder below.
enum Step<'a> {
    /// Remember where a length-delimited field's content starts.
    Open,
    /// Finish the innermost open field: its length, then its tag.
    Close(u32),
    /// A bytes/string field.
    Bytes(u32, &'a [u8]),
    /// The oneof member inside a `DynamoAttributeValue`.
    Value(&'a AttrValue),
    /// The entries of a `map<string, DynamoAttributeValue>` field.
    Map(u32, &'a [(String, AttrValue)]),
}

/// Appends `v` as a varint, reversed (the buffer is built back to front).
fn push_varint_rev(buf: &mut Vec<u8>, v: u64) {
    let mut w = Writer::default();
    w.varint(v);
    buf.extend(w.buf.iter().rev());
}

/// Closes a length-delimited field whose content began at `start`.
fn close_field_rev(buf: &mut Vec<u8>, field: u32, start: usize) {
    let len = buf.len().saturating_sub(start);
    push_varint_rev(buf, len as u64);
    push_varint_rev(buf, (u64::from(field) << 3) | 2);
}

fn bytes_field_rev(buf: &mut Vec<u8>, field: u32, data: &[u8]) {
    let start = buf.len();
    buf.extend(data.iter().rev());
    close_field_rev(buf, field, start);
}

fn uint_field_rev(buf: &mut Vec<u8>, field: u32, v: u64) {
    push_varint_rev(buf, v);
    push_varint_rev(buf, u64::from(field) << 3);
}

/// A set message (`repeated values = 1`) under `field`.
fn set_field_rev<'a>(buf: &mut Vec<u8>, field: u32, values: impl DoubleEndedIterator<Item = &'a [u8]>) {
    let start = buf.len();
    for v in values.rev() {
        bytes_field_rev(buf, 1, v);
    }
    close_field_rev(buf, field, start);
}

/// The body of a `DynamoItem` in Go's deterministic layout: map entries
/// sorted by name, each with key and value even when empty, and a set oneof
/// member always written (`s = ""` → `0a 00`, `bool_value = false` →
/// `20 00`). Written back to front from an explicit work stack so that
/// nesting depth is bounded by memory rather than the call stack; lengths
/// are then known when each field is closed.
fn item_body(item: &[(String, AttrValue)]) -> Vec<u8> {
    let mut buf = Vec::new();
    let mut starts = Vec::new();
    let mut stack = vec![Step::Map(1, item)];
    while let Some(step) = stack.pop() {
        match step {
            Step::Open => starts.push(buf.len()),
            Step::Close(field) => {
                let start = starts.pop().unwrap_or(0);
                close_field_rev(&mut buf, field, start);
            }
            Step::Bytes(field, data) => bytes_field_rev(&mut buf, field, data),
            // Pushed in forward order, so the last entry/element runs first:
            // exactly what back-to-front writing needs.
            Step::Map(field, entries) => {
                for (name, v) in crate::adapters::records::last_wins(entries) {
                    stack.extend([
                        Step::Close(field),
                        Step::Bytes(1, name.as_bytes()),
                        Step::Close(2),
                        Step::Value(v),
                        Step::Open,
                        Step::Open,
                    ]);
                }
            }
            Step::Value(v) => match v {
                AttrValue::S(s) => bytes_field_rev(&mut buf, 1, s.as_bytes()),
                AttrValue::N(n) => bytes_field_rev(&mut buf, 2, n.as_bytes()),
                AttrValue::B(b) => bytes_field_rev(&mut buf, 3, b),
                AttrValue::Bool(b) => uint_field_rev(&mut buf, 4, u64::from(*b)),
                AttrValue::Null(b) => uint_field_rev(&mut buf, 5, u64::from(*b)),
                AttrValue::Ss(vs) => set_field_rev(&mut buf, 6, vs.iter().map(|s| s.as_bytes())),
                AttrValue::Ns(vs) => set_field_rev(&mut buf, 7, vs.iter().map(|s| s.as_bytes())),
                AttrValue::Bs(vs) => set_field_rev(&mut buf, 8, vs.iter().map(|b| b.as_slice())),
                AttrValue::L(vs) => {
                    stack.push(Step::Close(9));
                    for v in vs {
                        stack.extend([Step::Close(1), Step::Value(v), Step::Open]);
                    }
                    stack.push(Step::Open);
                }
                AttrValue::M(entries) => stack.extend([Step::Close(10), Step::Map(1, entries), Step::Open]),
                AttrValue::Empty => {}
            },
        }
    }
    buf.reverse();
    buf
}

/// `\0DI\1` ‖ `DynamoItem` (deterministic marshalling, see `item_body`).
pub fn ddb_item_value(item: &[(String, AttrValue)]) -> Vec<u8> {
    [&DDB_ITEM_MAGIC[..], &item_body(item)].concat()
}

/// The `!ddb|item|` row of `item` under `generation`, then one `!ddb|gsi|`
/// row per index (in index-name order) the item belongs to, each pointing
/// back at the item key. Key codec: ordered when `key_encoding_version ≥ 2`,
/// legacy otherwise and for the migration-source generation.
pub fn ddb_item_records(
    t: &TableDef,
    item: &[(String, AttrValue)],
    generation: u64,
) -> Result<Vec<Record>, EncodeError> {
    let attrs = crate::adapters::records::last_wins(item);
    let legacy = t.legacy_keys_for(generation);
    let table = t.name.as_bytes();
    let (pk_hash, pk_range) = primary_key_parts(t, &attrs, legacy)?;
    let pk_bytes =
        if legacy { legacy_join(&[&pk_hash, &pk_range]) } else { [&pk_hash[..], &pk_range].concat() };
    let item_key = ddb_item_key(table, generation, &pk_bytes);

    let mut rows = Vec::with_capacity(1 + t.gsis.len());
    let gsis: BTreeMap<&str, &GsiDef> = t.gsis.iter().map(|g| (g.name.as_str(), g)).collect();
    for (name, g) in gsis {
        let Some((ix_hash, ix_range)) = index_key_parts(g, &attrs, legacy)? else { continue };
        let gsi_bytes = if legacy {
            legacy_join(&[&ix_hash, &ix_range, &pk_hash, &pk_range])
        } else {
            [&ix_hash[..], &ix_range, &pk_hash, &pk_range].concat()
        };
        rows.push(Record::new(ddb_gsi_key(table, generation, name.as_bytes(), &gsi_bytes), item_key.clone()));
    }
    rows.insert(0, Record::new(item_key, ddb_item_value(item)));
    Ok(rows)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hex(s: &str) -> Vec<u8> {
        let digits: String = s.split_whitespace().collect();
        (0..digits.len()).step_by(2).map(|i| u8::from_str_radix(&digits[i..i + 2], 16).unwrap()).collect()
    }

    fn s(v: &str) -> AttrValue {
        AttrValue::S(v.to_owned())
    }

    fn n(v: &str) -> AttrValue {
        AttrValue::N(v.to_owned())
    }

    fn attrs(list: Vec<(&str, AttrValue)>) -> Vec<(String, AttrValue)> {
        list.into_iter().map(|(k, v)| (k.to_owned(), v)).collect()
    }

    // --- A8 ---------------------------------------------------------------

    fn orders() -> TableDef {
        TableDef {
            name: "orders".into(),
            // Deliberately unsorted: the map must come out sorted.
            attribute_definitions: vec![
                ("ts".into(), "N".into()),
                ("customer".into(), "S".into()),
                ("status".into(), "S".into()),
            ],
            hash_key: "customer".into(),
            range_key: "ts".into(),
            gsis: vec![GsiDef {
                name: "by_status".into(),
                hash: "status".into(),
                projection_type: "ALL".into(),
                ..Default::default()
            }],
            key_encoding_version: 2,
            generation: 3,
            migrating_from_generation: 0,
        }
    }

    fn a8_item() -> Vec<(String, AttrValue)> {
        attrs(vec![
            ("ts", n("1.50")),
            ("tags", AttrValue::Ss(vec!["b".into(), "a".into()])),
            ("customer", s("c#7")),
            (
                "extra",
                AttrValue::M(attrs(vec![
                    ("z", AttrValue::Bool(true)),
                    ("a", AttrValue::L(vec![n("1"), AttrValue::Empty])),
                ])),
            ),
            ("status", s("open")),
            ("blob", AttrValue::B(vec![0x00, 0x01, 0xfe])),
        ])
    }

    #[test]
    fn a8_schema_row() {
        let rows = ddb_schema_records(&orders());
        assert_eq!(rows.len(), 2);
        assert_eq!(rows[0].key, b"!ddb|meta|table|b3JkZXJz");
        assert_eq!(
            rows[0].value,
            hex("00 44 53 01 0a 06 6f 72 64 65 72 73 12 0d 0a 08
                 63 75 73 74 6f 6d 65 72 12 01 53 12 0b 0a 06 73
                 74 61 74 75 73 12 01 53 12 07 0a 02 74 73 12 01
                 4e 1a 0e 0a 08 63 75 73 74 6f 6d 65 72 12 02 74
                 73 22 1e 0a 09 62 79 5f 73 74 61 74 75 73 12 11
                 0a 08 0a 06 73 74 61 74 75 73 12 05 0a 03 41 4c
                 4c 28 02 38 03")
        );
        assert_eq!(rows[1], Record::new(b"!ddb|meta|gen|b3JkZXJz".to_vec(), b"3".to_vec()));
    }

    #[test]
    fn a8_item_and_gsi_rows() {
        let rows = ddb_item_records(&orders(), &a8_item(), 3).unwrap();
        assert_eq!(rows.len(), 2);
        let item_key = hex("21 64 64 62 7c 69 74 65 6d 7c 62 33 4a 6b 5a 58
                            4a 7a 7c 33 7c 63 23 37 00 01 02 02 01 01 00 ff
                            31 35 00 01");
        assert_eq!(rows[0].key, item_key);
        assert_eq!(
            rows[0].value,
            hex("00 44 49 01 0a 0d 0a 04 62 6c 6f 62 12 05 1a 03
                 00 01 fe 0a 11 0a 08 63 75 73 74 6f 6d 65 72 12
                 05 0a 03 63 23 37 0a 24 0a 05 65 78 74 72 61 12
                 1b 52 19 0a 0e 0a 01 61 12 09 4a 07 0a 03 12 01
                 31 0a 00 0a 07 0a 01 7a 12 02 20 01 0a 10 0a 06
                 73 74 61 74 75 73 12 06 0a 04 6f 70 65 6e 0a 10
                 0a 04 74 61 67 73 12 08 32 06 0a 01 62 0a 01 61
                 0a 0c 0a 02 74 73 12 06 12 04 31 2e 35 30")
        );
        assert_eq!(rows[0].value, ddb_item_value(&a8_item()));
        let gsi_key =
            b"!ddb|gsi|b3JkZXJz|3|Ynlfc3RhdHVz|open\x00\x01c#7\x00\x01\x02\x02\x01\x01\x00\xff15\x00\x01";
        assert_eq!(rows[1], Record::new(gsi_key.to_vec(), item_key));
        // The stale generation-2 row of the example: same layout, gen 2.
        let stale = ddb_item_records(&orders(), &a8_item(), 2).unwrap();
        assert!(stale[0].key.starts_with(b"!ddb|item|b3JkZXJz|2|c#7\x00\x01"));
    }

    #[test]
    fn a1_2_numeric_segment_example() {
        assert_eq!(ddb_key_segment("ts", &n("1.50")).unwrap(), hex("02 02 01 01 00 FF 31 35 00 01"));
    }

    #[test]
    fn key_attr_view() {
        let t = orders();
        assert_eq!(t.key_attr("ts"), KeyAttr { name: "ts".into(), ty: "N".into() });
        assert_eq!(t.key_attr("nope"), KeyAttr { name: "nope".into(), ty: String::new() });
        assert_eq!(t.key_attr(""), KeyAttr::default());
    }

    #[test]
    fn hash_only_table() {
        let t = TableDef {
            name: "sessions".into(),
            attribute_definitions: vec![("id".into(), "S".into())],
            hash_key: "id".into(),
            key_encoding_version: 2,
            generation: 1,
            ..Default::default()
        };
        let rows = ddb_item_records(&t, &attrs(vec![("id", s("sess-abc"))]), 1).unwrap();
        assert_eq!(rows.len(), 1);
        assert_eq!(rows[0].key, b"!ddb|item|c2Vzc2lvbnM|1|sess-abc\x00\x01");
        let bin = ddb_item_records(&t, &attrs(vec![("id", AttrValue::B(vec![0, 1, 2, 3]))]), 1).unwrap();
        assert_eq!(bin[0].key, b"!ddb|item|c2Vzc2lvbnM|1|\x00\xff\x01\x02\x03\x00\x01");
    }

    // --- pack.md §8 -------------------------------------------------------

    fn pack_orders() -> TableDef {
        TableDef {
            name: "Orders".into(),
            attribute_definitions: vec![("sk".into(), "N".into()), ("pk".into(), "S".into())],
            hash_key: "pk".into(),
            range_key: "sk".into(),
            key_encoding_version: 2,
            generation: 1,
            ..Default::default()
        }
    }

    #[test]
    fn pack_schema_example() {
        assert_eq!(
            ddb_schema_value(&pack_orders()),
            hex("00 44 53 01 0a 06 4f 72 64 65 72 73 12 07 0a 02 70 6b 12 01 53
                 12 07 0a 02 73 6b 12 01 4e 1a 08 0a 02 70 6b 12 02 73 6b 28 02 38 01")
        );
        assert_eq!(ddb_schema_records(&pack_orders())[1].value, b"1");
    }

    #[test]
    fn pack_item_example() {
        let rows =
            ddb_item_records(&pack_orders(), &attrs(vec![("sk", n("7")), ("pk", s("u1"))]), 1).unwrap();
        assert_eq!(rows.len(), 1);
        let mut key = b"!ddb|item|T3JkZXJz|1|".to_vec();
        key.extend(hex("75 31 00 01 02 02 01 01 00 FF 37 00 01"));
        assert_eq!(rows[0].key, key);
        assert_eq!(
            rows[0].value,
            hex("00 44 49 01 0a 0a 0a 02 70 6b 12 04 0a 02 75 31 0a 09 0a 02 73 6b 12 03 12 01 37")
        );
    }

    #[test]
    fn pack_numkey_table() {
        for (text, seg) in [
            ("0", "01 00 01"),
            ("-0.0", "01 00 01"),
            ("1", "02 02 01 01 00 FF 31 00 01"),
            ("120", "02 02 01 03 00 FF 31 32 00 01"),
            ("1.2e2", "02 02 01 03 00 FF 31 32 00 01"),
            ("0.5", "02 01 00 FF 35 00 01"),
            ("-1", "00 FF FD FE FE FF CE 00 01"),
            ("-0.001", "00 FF FF 01 02 FF CE 00 01"),
        ] {
            assert_eq!(ddb_key_segment("k", &n(text)).unwrap(), hex(seg), "{text}");
        }
    }

    // --- deterministic protobuf details (A2) ------------------------------

    #[test]
    fn set_members_and_map_entries_always_written() {
        let item = attrs(vec![
            ("", s("")),
            ("b", AttrValue::Bool(false)),
            ("e", AttrValue::Empty),
            ("l", AttrValue::L(vec![])),
            ("m", AttrValue::M(vec![])),
            ("nl", AttrValue::Null(false)),
            ("bs", AttrValue::Bs(vec![vec![], vec![7]])),
            ("ns", AttrValue::Ns(vec![])),
        ]);
        let got = ddb_item_value(&item);
        let expect = [
            "00 44 49 01",
            "0a 06 0a 00 12 02 0a 00",                      // "" -> {s: ""}
            "0a 07 0a 01 62 12 02 20 00",                   // b -> {bool_value: false}
            "0a 0d 0a 02 62 73 12 07 42 05 0a 00 0a 01 07", // bs
            "0a 05 0a 01 65 12 00",                         // e -> empty oneof
            "0a 07 0a 01 6c 12 02 4a 00",                   // l -> empty list
            "0a 07 0a 01 6d 12 02 52 00",                   // m -> empty map
            "0a 08 0a 02 6e 6c 12 02 28 00",                // nl -> {null_value: false}
            "0a 08 0a 02 6e 73 12 02 3a 00",                // ns -> empty set
        ]
        .join(" ");
        assert_eq!(got, hex(&expect));
    }

    #[test]
    fn duplicate_names_keep_the_last() {
        let item = attrs(vec![("a", s("x")), ("a", s("y"))]);
        assert_eq!(ddb_item_value(&item), ddb_item_value(&attrs(vec![("a", s("y"))])));
        let mut t = pack_orders();
        t.attribute_definitions.push(("pk".into(), "B".into()));
        assert_eq!(t.key_attr("pk").ty, "B");
        let v = ddb_schema_value(&t);
        assert!(v.windows(9).any(|w| w == hex("12 07 0a 02 70 6b 12 01 42")));
        assert!(!v.windows(9).any(|w| w == hex("12 07 0a 02 70 6b 12 01 53")));
    }

    #[test]
    fn schema_with_gsi_range_and_projection_and_migration() {
        let t = TableDef {
            name: "t".into(),
            hash_key: "h".into(),
            gsis: vec![
                GsiDef {
                    name: "z".into(),
                    hash: "a".into(),
                    range: "b".into(),
                    projection_type: "INCLUDE".into(),
                    non_key_attributes: vec!["y".into(), "x".into()],
                },
                GsiDef { name: "g".into(), ..Default::default() },
            ],
            key_encoding_version: 2,
            generation: 300,
            migrating_from_generation: 5,
            ..Default::default()
        };
        let expect = [
            "00 44 53 01 0a 01 74",
            "1a 03 0a 01 68",
            "22 09 0a 01 67 12 04 0a 00 12 00",
            "22 1e 0a 01 7a 12 19 0a 06 0a 01 61 12 01 62 12 0f 0a 07 49 4e 43 4c 55 44 45 12 01 79 12 01 78",
            "28 02 30 05 38 ac 02",
        ]
        .join(" ");
        assert_eq!(ddb_schema_value(&t), hex(&expect));
    }

    // --- GSI rows and errors ----------------------------------------------

    #[test]
    fn sparse_indexes_and_order() {
        let mut t = pack_orders();
        t.gsis = vec![
            GsiDef { name: "b_idx".into(), hash: "g".into(), range: "r".into(), ..Default::default() },
            GsiDef { name: "a_idx".into(), hash: "g".into(), ..Default::default() },
        ];
        let base = vec![("pk", s("u1")), ("sk", n("7"))];
        // No index attribute: only the item row.
        assert_eq!(ddb_item_records(&t, &attrs(base.clone()), 1).unwrap().len(), 1);
        // Hash only: a_idx yes, b_idx needs its range attribute too.
        let mut with_g = base.clone();
        with_g.push(("g", AttrValue::B(vec![0])));
        let rows = ddb_item_records(&t, &attrs(with_g.clone()), 1).unwrap();
        assert_eq!(rows.len(), 2);
        let mut want = b"!ddb|gsi|T3JkZXJz|1|YV9pZHg|".to_vec();
        want.extend(hex("00 ff 00 01 75 31 00 01 02 02 01 01 00 FF 37 00 01"));
        assert_eq!(rows[1].key, want);
        assert_eq!(rows[1].value, rows[0].key);
        with_g.push(("r", n("-1")));
        let rows = ddb_item_records(&t, &attrs(with_g), 1).unwrap();
        assert_eq!(rows.len(), 3);
        assert!(rows[1].key.starts_with(b"!ddb|gsi|T3JkZXJz|1|YV9pZHg|"));
        let mut want = b"!ddb|gsi|T3JkZXJz|1|Yl9pZHg|".to_vec();
        want.extend(hex("00 ff 00 01 00 FF FD FE FE FF CE 00 01 75 31 00 01 02 02 01 01 00 FF 37 00 01"));
        assert_eq!(rows[2].key, want);
    }

    #[test]
    fn key_errors() {
        let t = pack_orders();
        let err = |item: Vec<(&str, AttrValue)>| ddb_item_records(&t, &attrs(item), 1).unwrap_err();
        assert_eq!(err(vec![("sk", n("1"))]), EncodeError::MissingKeyAttribute { attribute: "pk".into() });
        assert_eq!(err(vec![("pk", s("a"))]), EncodeError::MissingKeyAttribute { attribute: "sk".into() });
        assert_eq!(
            err(vec![("pk", AttrValue::Bool(true)), ("sk", n("1"))]),
            EncodeError::UnsupportedKeyType { attribute: "pk".into() }
        );
        assert_eq!(
            err(vec![("pk", s("a")), ("sk", AttrValue::Empty)]),
            EncodeError::UnsupportedKeyType { attribute: "sk".into() }
        );
        for bad in ["", " ", "+", "1e", "1ex", "1.2.3", ".", "abc", "1e99999999999999999999"] {
            match err(vec![("pk", s("a")), ("sk", n(bad))]) {
                EncodeError::BadNumber { attribute, text, .. } => {
                    assert_eq!((attribute.as_str(), text.as_str()), ("sk", bad));
                }
                other => panic!("{bad:?}: {other:?}"),
            }
        }
        // A present index key of the wrong type is an error, not a skip.
        let mut t = pack_orders();
        t.gsis = vec![GsiDef { name: "i".into(), hash: "g".into(), ..Default::default() }];
        let item = attrs(vec![("pk", s("a")), ("sk", n("1")), ("g", AttrValue::Ss(vec![]))]);
        assert_eq!(
            ddb_item_records(&t, &item, 1).unwrap_err(),
            EncodeError::UnsupportedKeyType { attribute: "g".into() }
        );
        assert!(!EncodeError::MissingKeyAttribute { attribute: "x".into() }.to_string().is_empty());
    }

    #[test]
    fn legacy_keys() {
        let mut t = pack_orders();
        t.key_encoding_version = 1;
        t.gsis = vec![GsiDef { name: "i".into(), hash: "g".into(), ..Default::default() }];
        // Legacy N keys keep the stored text, even unparsable.
        let item = attrs(vec![("pk", s("u1")), ("sk", n("1.50")), ("g", AttrValue::B(vec![0xff]))]);
        let rows = ddb_item_records(&t, &item, 1).unwrap();
        assert_eq!(rows[0].key, b"!ddb|item|T3JkZXJz|1|dTE|MS41MA");
        assert_eq!(rows[1].key, b"!ddb|gsi|T3JkZXJz|1|aQ|_w||dTE|MS41MA");
        assert_eq!(rows[1].value, rows[0].key);
        let odd = attrs(vec![("pk", s("u1")), ("sk", n("x"))]);
        assert!(ddb_item_records(&t, &odd, 1).is_ok());
        // Hash-only legacy keys end with an empty range segment.
        t.range_key.clear();
        let rows = ddb_item_records(&t, &attrs(vec![("pk", s("u1"))]), 1).unwrap();
        assert_eq!(rows[0].key, b"!ddb|item|T3JkZXJz|1|dTE|");
        // Version 0 is legacy too; the migration source generation of an
        // ordered table is legacy, its active generation is not.
        t.key_encoding_version = 0;
        assert!(ddb_item_records(&t, &attrs(vec![("pk", s("u1"))]), 1).unwrap()[0].key.ends_with(b"|dTE|"));
        t.key_encoding_version = 2;
        t.generation = 2;
        t.migrating_from_generation = 1;
        assert!(ddb_item_records(&t, &attrs(vec![("pk", s("u1"))]), 1).unwrap()[0].key.ends_with(b"|1|dTE|"));
        assert!(ddb_item_records(&t, &attrs(vec![("pk", s("u1"))]), 2).unwrap()[0]
            .key
            .ends_with(b"|2|u1\x00\x01"));
    }

    /// Straightforward recursive encoder on the shared `Writer`, as a
    /// reference for the iterative one.
    fn reference_value(w: &mut Writer, v: &AttrValue) {
        match v {
            AttrValue::S(s) => w.bytes(1, s.as_bytes()),
            AttrValue::N(n) => w.bytes(2, n.as_bytes()),
            AttrValue::B(b) => w.bytes(3, b),
            AttrValue::Bool(b) => w.uint(4, u64::from(*b)),
            AttrValue::Null(b) => w.uint(5, u64::from(*b)),
            AttrValue::Ss(vs) => w.message(6, |m| vs.iter().for_each(|s| m.bytes(1, s.as_bytes()))),
            AttrValue::Ns(vs) => w.message(7, |m| vs.iter().for_each(|s| m.bytes(1, s.as_bytes()))),
            AttrValue::Bs(vs) => w.message(8, |m| vs.iter().for_each(|b| m.bytes(1, b))),
            AttrValue::L(vs) => {
                w.message(9, |m| vs.iter().for_each(|v| m.message(1, |e| reference_value(e, v))))
            }
            AttrValue::M(entries) => w.message(10, |m| reference_map(m, entries)),
            AttrValue::Empty => {}
        }
    }

    fn reference_map(w: &mut Writer, entries: &[(String, AttrValue)]) {
        for (name, v) in crate::adapters::records::last_wins(entries) {
            w.message(1, |e| {
                e.bytes(1, name.as_bytes());
                e.message(2, |x| reference_value(x, v));
            });
        }
    }

    /// Deterministic pseudo-random attribute values, with long strings so
    /// that multi-byte length varints occur.
    fn random_value(seed: &mut u64, depth: u32) -> AttrValue {
        let mut next = |m: u64| {
            *seed = seed.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1_442_695_040_888_963_407);
            (*seed >> 33) % m
        };
        let text = |len: u64| "é<x".repeat(len as usize);
        let kind = if depth == 0 { next(8) } else { next(11) };
        match kind {
            0 => AttrValue::S(text(next(60))),
            1 => AttrValue::N(next(1000).to_string()),
            2 => AttrValue::B(vec![0; next(200) as usize]),
            3 => AttrValue::Bool(next(2) == 0),
            4 => AttrValue::Null(next(2) == 0),
            5 => AttrValue::Ss((0..next(4)).map(|i| text(i * 20)).collect()),
            6 => AttrValue::Bs((0..next(4)).map(|i| vec![1; i as usize * 70]).collect()),
            7 => AttrValue::Empty,
            8 | 9 => {
                let len = next(4);
                AttrValue::L((0..len).map(|_| random_value(seed, depth - 1)).collect())
            }
            _ => {
                let len = next(4);
                AttrValue::M(
                    (0..len).map(|i| (format!("k{}", (i * 7) % 3), random_value(seed, depth - 1))).collect(),
                )
            }
        }
    }

    #[test]
    fn iterative_item_encoder_matches_recursive_reference() {
        let mut seed = 7;
        for round in 0..400 {
            let item: Vec<(String, AttrValue)> =
                (0..4).map(|i| (format!("a{}", (i * 5) % 3), random_value(&mut seed, 4))).collect();
            let mut w = Writer::default();
            reference_map(&mut w, &item);
            assert_eq!(item_body(&item), w.buf, "round {round}");
        }
        let mut w = Writer::default();
        reference_map(&mut w, &a8_item());
        assert_eq!(item_body(&a8_item()), w.buf);
    }

    #[test]
    fn deep_nesting_does_not_overflow() {
        let depth = 100_000;
        let mut v = AttrValue::S("x".into());
        for _ in 0..depth {
            v = AttrValue::L(vec![AttrValue::M(vec![("k".into(), v)])]);
        }
        let item = vec![("a".to_owned(), v)];
        let out = ddb_item_value(&item);
        assert!(out.len() > 4 * depth);
        assert!(crate::codec::protowire::validate(&out[4..]).is_ok());
        // Dismantle iteratively: the model's own drop glue is recursive.
        let mut cur = item.into_iter().next().map(|(_, v)| v);
        while let Some(v) = cur.take() {
            cur = match v {
                AttrValue::L(mut vs) => vs.pop(),
                AttrValue::M(mut es) => es.pop().map(|(_, v)| v),
                _ => None,
            };
        }
    }

    #[test]
    fn values_are_protobuf_after_the_magic_and_extremes_do_not_panic() {
        assert!(crate::codec::protowire::validate(&ddb_schema_value(&orders())[4..]).is_ok());
        assert!(crate::codec::protowire::validate(&ddb_item_value(&a8_item())[4..]).is_ok());
        let t = TableDef { generation: u64::MAX, ..Default::default() };
        assert_eq!(ddb_schema_records(&t)[1].value, b"18446744073709551615");
        assert!(ddb_item_records(&t, &[], 0).is_err());
    }
}
