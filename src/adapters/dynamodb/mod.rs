//! DynamoDB decode side (`dynamodb-s3.md` Part A): table schemas and items
//! become `dynamodb/<table>/_schema.json` and `items/<hash>[/<range>].json`.
//!
//! Indexing reads only what names a file — the key, and the item's key
//! attributes — and leaves the rest of the item for the renderer.

pub(crate) mod pack;
pub(crate) mod proto;
pub mod records;
pub(crate) mod render;

use std::collections::HashMap;

use super::{AdapterError, ErrorKind, RecordError, Sink};
use crate::adapters::route::Family;
use crate::codec::number::canonical_number;
use crate::container::{entry_at, Entry};
use crate::keys::segment::{b64url_nopad_decode, encode_binary_segment_into, encode_segment_into};
use crate::tree::{TreeBuilder, View, SIZE_UNKNOWN};
use proto::{Attr, Schema, ITEM_MAGIC};

const META_TABLE_PREFIX: usize = b"!ddb|meta|table|".len();
const ITEM_PREFIX: usize = b"!ddb|item|".len();

struct Table {
    /// The base64url table segment exactly as it appears in keys: the
    /// table's identity.
    enc: Box<[u8]>,
    name: Vec<u8>,
    schema: Option<(u64, Schema)>,
}

struct PendingItem {
    table: u32,
    generation: u64,
    offset: u64,
}

/// Collects DynamoDB records during the scan.
#[derive(Default)]
pub(crate) struct Collector {
    tables: Vec<Table>,
    by_enc: HashMap<Box<[u8]>, u32>,
    last: Option<u32>,
    items: Vec<PendingItem>,
    /// Records that upstream parses but never writes (stale generations,
    /// orphans): checked in finalize so `extract` fails where upstream does.
    deferred: Vec<RecordError>,
}

fn malformed(e: &Entry<'_>, detail: &str) -> RecordError {
    RecordError::new(ErrorKind::DdbMalformedKey, e.offset, e.user_key, detail)
}

impl Collector {
    fn table(&mut self, enc: &[u8]) -> u32 {
        if let Some(t) = self.last.filter(|&t| &*self.tables[t as usize].enc == enc) {
            return t;
        }
        let t = match self.by_enc.get(enc) {
            Some(&t) => t,
            None => {
                let t = self.tables.len() as u32;
                self.tables.push(Table { enc: enc.into(), name: Vec::new(), schema: None });
                self.by_enc.insert(enc.into(), t);
                t
            }
        };
        self.last = Some(t);
        t
    }

    pub(crate) fn handle(&mut self, family: Family, e: &Entry<'_>) -> Result<(), RecordError> {
        match family {
            Family::DdbTableMeta => {
                let enc = &e.user_key[META_TABLE_PREFIX..];
                if enc.is_empty() {
                    return Err(malformed(e, "empty table segment"));
                }
                let name =
                    b64url_nopad_decode(enc).ok_or_else(|| malformed(e, "table segment is not base64url"))?;
                let schema = proto::parse_schema(e.body).map_err(|err| {
                    RecordError::new(ErrorKind::DdbInvalidSchema, e.offset, e.user_key, err.to_string())
                })?;
                let t = self.table(enc);
                self.tables[t as usize].name = name;
                self.tables[t as usize].schema = Some((e.offset, schema));
            }
            Family::DdbItem => {
                let known = self.last.map_or(&[][..], |t| &self.tables[t as usize].enc[..]);
                let (enc, generation) =
                    parse_item_key(&e.user_key[ITEM_PREFIX..], known).map_err(|d| malformed(e, d))?;
                if !e.body.starts_with(ITEM_MAGIC) {
                    return Err(RecordError::new(
                        ErrorKind::DdbInvalidItem,
                        e.offset,
                        e.user_key,
                        "missing magic prefix",
                    ));
                }
                let table = self.table(enc);
                self.items.push(PendingItem { table, generation, offset: e.offset });
            }
            // Generation counters and GSI rows are derivable: upstream
            // ignores them without looking inside.
            _ => {}
        }
        Ok(())
    }

    /// Lays the tables out under `dynamodb/`.
    /// Returns the deferred errors of records that produce no file.
    pub(crate) fn finalize(
        mut self,
        data: &[u8],
        sink: &mut Sink<'_>,
    ) -> Result<Vec<RecordError>, AdapterError> {
        self.items.sort_by_key(|i| i.table); // stable: stream order within a table
        let mut order: Vec<u32> = (0..self.tables.len() as u32).collect();
        order.sort_by(|&a, &b| self.tables[a as usize].enc.cmp(&self.tables[b as usize].enc));
        let mut starts = vec![0usize; self.tables.len() + 1];
        for i in &self.items {
            starts[i.table as usize + 1] += 1;
        }
        for t in 0..self.tables.len() {
            starts[t + 1] += starts[t];
        }
        let mut seg = Vec::new();
        for t in order {
            let table = &self.tables[t as usize];
            let items = &self.items[starts[t as usize]..starts[t as usize + 1]];
            let Some((schema_off, schema)) = &table.schema else {
                sink.warn(
                    "ddb_orphan_items",
                    vec![
                        ("encoded_table", String::from_utf8_lossy(&table.enc).into_owned()),
                        ("buffered_items", items.len().to_string()),
                    ],
                );
                self.deferred.extend(items.iter().filter_map(|i| check_item(data, i.offset)));
                continue;
            };
            seg.clear();
            encode_segment_into(&table.name, &mut seg);
            let ddb = sink.tree.dir(TreeBuilder::ROOT, b"dynamodb")?;
            let table_dir = sink.tree.dir(ddb, &seg)?;
            let items_dir = sink.tree.dir(table_dir, b"items")?;
            sink.tree.file(table_dir, b"_schema.json", View::DdbSchema(*schema_off), SIZE_UNKNOWN, 0)?;

            let active = schema.generation;
            let source = schema.migrating_from_generation;
            let emitted = |g: u64| g == active || (source != 0 && g == source);
            let stale: Vec<&PendingItem> = items.iter().filter(|i| !emitted(i.generation)).collect();
            if !stale.is_empty() {
                sink.warn(
                    "ddb_stale_generation_items",
                    vec![
                        ("table", String::from_utf8_lossy(&table.name).into_owned()),
                        ("active_generation", active.to_string()),
                        ("migration_source_generation", source.to_string()),
                        ("stale_count", stale.len().to_string()),
                        (
                            "hint",
                            "stale-gen rows excluded; restore would otherwise emit them under the new schema"
                                .into(),
                        ),
                    ],
                );
                self.deferred.extend(stale.iter().filter_map(|i| check_item(data, i.offset)));
            }
            let place = ItemPlace { schema, items_dir };
            let mut bufs = SegBufs::default();
            for item in items.iter().filter(|i| emitted(i.generation)) {
                // Active beats migration source; within a generation the
                // later entry wins, as upstream's overwrite order has it.
                let rank = (u64::from(item.generation == active) << 63) | item.offset;
                place.place(data, item.offset, rank, sink, &mut bufs)?;
            }
        }
        Ok(self.deferred)
    }

    pub(crate) fn table_count(&self) -> usize {
        self.tables.iter().filter(|t| t.schema.is_some()).count()
    }
}

/// `<enc>|<generation>|<pk bytes>` → (enc, generation). `known` is a
/// table segment already checked to be base64url (items of one table are
/// adjacent, so this saves decoding it per item).
fn parse_item_key<'a>(rest: &'a [u8], known: &[u8]) -> Result<(&'a [u8], u64), &'static str> {
    let bar = rest.iter().position(|&b| b == b'|').ok_or("missing table separator")?;
    if bar == 0 {
        return Err("empty table segment");
    }
    let enc = &rest[..bar];
    if enc != known && b64url_nopad_decode(enc).is_none() {
        return Err("table segment is not base64url");
    }
    let rest = &rest[bar + 1..];
    let bar = rest.iter().position(|&b| b == b'|').ok_or("missing generation separator")?;
    let gen_text = &rest[..bar];
    if gen_text.is_empty() || !gen_text.iter().all(u8::is_ascii_digit) {
        return Err("generation is not a decimal number");
    }
    let generation = std::str::from_utf8(gen_text)
        .ok()
        .and_then(|s| s.parse::<u64>().ok())
        .ok_or("generation overflows u64")?;
    if rest.len() == bar + 1 {
        return Err("missing primary-key payload");
    }
    Ok((enc, generation))
}

/// Renders an item that will not be shown, to surface the error upstream
/// would have raised when it parsed it.
fn check_item(data: &[u8], offset: u64) -> Option<RecordError> {
    let e = entry_at(data, offset)?;
    let mut scratch = Vec::new();
    render::item_json(e.body, &mut scratch)
        .err()
        .map(|err| RecordError::new(ErrorKind::DdbInvalidItem, offset, e.user_key, err.to_string()))
}

/// Appends the file-name segment of a key attribute.
fn key_segment(value: &[u8], out: &mut Vec<u8>) -> Result<(), String> {
    match proto::parse_attr(value).map_err(|e| e.to_string())? {
        Attr::S(s) => encode_segment_into(s.as_bytes(), out),
        Attr::N(n) => encode_segment_into(canonical_number(n).as_bytes(), out),
        Attr::B(b) => encode_binary_segment_into(b, out),
        other => return Err(format!("primary key has unsupported attribute kind {}", attr_kind(&other))),
    }
    Ok(())
}

fn attr_kind(a: &Attr<'_>) -> &'static str {
    match a {
        Attr::S(_) => "S",
        Attr::N(_) => "N",
        Attr::B(_) => "B",
        Attr::Bool(_) => "BOOL",
        Attr::Null(_) => "NULL",
        Attr::Msg(proto::F_SS, _) => "SS",
        Attr::Msg(proto::F_NS, _) => "NS",
        Attr::Msg(proto::F_BS, _) => "BS",
        Attr::Msg(proto::F_L, _) => "L",
        Attr::Msg(_, _) => "M",
        Attr::Empty => "empty",
    }
}

/// Reusable buffers for the hash and range file-name segments.
#[derive(Default)]
struct SegBufs {
    hash: Vec<u8>,
    range: Vec<u8>,
}

/// Where an item goes: `items/<hash>.json` or `items/<hash>/<range>.json`.
struct ItemPlace<'s> {
    schema: &'s Schema,
    items_dir: u32,
}

impl ItemPlace<'_> {
    fn place(
        &self,
        data: &[u8],
        offset: u64,
        rank: u64,
        sink: &mut Sink<'_>,
        bufs: &mut SegBufs,
    ) -> Result<(), AdapterError> {
        let schema = self.schema;
        let (hash_seg, range_seg) = (&mut bufs.hash, &mut bufs.range);
        hash_seg.clear();
        range_seg.clear();
        let e = entry_at(data, offset).expect("offset from the scan");
        let invalid = |d: String| RecordError::new(ErrorKind::DdbInvalidItem, offset, e.user_key, d);
        let body = &e.body[ITEM_MAGIC.len()..];
        let (hash, range) = proto::find_key_attrs(body, &schema.hash_key, &schema.range_key)
            .map_err(|err| invalid(err.to_string()))?;
        let hash =
            hash.ok_or_else(|| invalid(format!("item missing hash-key attribute {:?}", schema.hash_key)))?;
        key_segment(hash, hash_seg).map_err(invalid)?;
        if hash_seg == b"." || hash_seg == b".." {
            return Err(invalid("hash-key segment is a dot path (would escape items dir)".into()).into());
        }
        let view = View::DdbItem(offset);
        if schema.range_key.is_empty() {
            hash_seg.extend_from_slice(b".json");
            sink.tree.file(self.items_dir, hash_seg, view, SIZE_UNKNOWN, rank)?;
            return Ok(());
        }
        let range = range
            .ok_or_else(|| invalid(format!("item missing range-key attribute {:?}", schema.range_key)))?;
        key_segment(range, range_seg).map_err(invalid)?;
        if range_seg == b"." || range_seg == b".." {
            return Err(invalid("range-key segment is a dot path (would escape items dir)".into()).into());
        }
        range_seg.extend_from_slice(b".json");
        // An empty hash segment joins to the items directory itself upstream.
        let dir =
            if hash_seg.is_empty() { self.items_dir } else { sink.tree.dir(self.items_dir, hash_seg)? };
        sink.tree.file(dir, range_seg, view, SIZE_UNKNOWN, rank)?;
        Ok(())
    }
}

impl super::Collect for Collector {
    fn handle(&mut self, family: Family, _prefix_len: usize, e: &Entry<'_>) -> Result<(), RecordError> {
        Collector::handle(self, family, e)
    }

    fn finalize(
        self: Box<Self>,
        data: &[u8],
        sink: &mut Sink<'_>,
        counts: &mut super::Counts,
    ) -> Result<Vec<RecordError>, AdapterError> {
        counts.tables = self.table_count() as u64;
        Collector::finalize(*self, data, sink)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse_item_key_fresh(rest: &[u8]) -> Result<(&[u8], u64), &'static str> {
        parse_item_key(rest, b"")
    }

    #[test]
    fn item_keys_parse_like_upstream() {
        assert_eq!(parse_item_key_fresh(b"b3JkZXJz|3|c#7\0\x01"), Ok((&b"b3JkZXJz"[..], 3)));
        assert_eq!(parse_item_key_fresh(b"dA|007|x"), Ok((&b"dA"[..], 7)));
        assert!(parse_item_key_fresh(b"|3|x").is_err());
        assert!(parse_item_key_fresh(b"dA|3|").is_err());
        assert!(parse_item_key_fresh(b"dA|-3|x").is_err());
        assert!(parse_item_key_fresh(b"dA||x").is_err());
        assert!(parse_item_key_fresh(b"dA|99999999999999999999|x").is_err());
        assert!(parse_item_key_fresh(b"d=|3|x").is_err());
        assert!(parse_item_key_fresh(b"dA").is_err());
    }
}
