//! DynamoDB: `dynamodb/<table>/_schema.json` and `items/…/*.json` back to
//! table-meta, generation, item and GSI rows (`pack.md` §8,
//! `dynamodb-s3.md` A9). Record bytes come from
//! [`super::records`]; this module reads the tree.
//!
//! Beyond upstream (which ignores item file names and stray files), an
//! item must sit at the path the decoder would give it, and nothing but
//! `_schema.json`, `items/` and `*.json` item files may appear: anything
//! else could not have come from a decode, and the self-test would reject
//! it anyway, with a less direct message.

use std::fmt;

use base64::engine::{DecodePaddingMode, GeneralPurpose, GeneralPurposeConfig};
use base64::Engine as _;
use serde::de::{self, Deserialize, Deserializer, MapAccess, Visitor};

use std::sync::Arc;

use super::records::{ddb_item_records, ddb_schema_records, AttrValue, GsiDef, Record, TableDef};
use crate::adapters::packing::{Ctx, RESTORE_GENERATION};
use crate::codec::gostruct::GoObject;
use crate::codec::number::canonical_number;
use crate::dumptree::fsio::{Dir, Kind};
use crate::dumptree::join;
use crate::dumptree::par::{with_pipeline, Job};
use crate::dumptree::{tree_error, Why, MAX_DOCUMENT};
use crate::exit::Failure as PackError;
use crate::keys::segment::{encode_binary_segment_into, encode_segment, encode_segment_into};

/// `key_encoding_version` of the ordered key codec.
const ORDERED_KEYS: u64 = 2;

pub(crate) fn encode(root: &Dir, ctx: &mut Ctx) -> Result<(), PackError> {
    let rel = b"dynamodb".to_vec();
    for e in root.entries().map_err(|e| ctx.io(&rel, e))? {
        let e = e.map_err(|e| ctx.io(&rel, e))?;
        let path = join(&rel, &e.name);
        if e.kind != Kind::Dir {
            return Err(ctx.tree(
                &path,
                format!("is {}; only table directories belong in dynamodb/", e.kind.describe()),
            ));
        }
        let dir = root.open_dir(&e.name).map_err(|err| ctx.io(&path, err))?;
        table(&dir, &path, &e.name, ctx)?;
    }
    Ok(())
}

fn table(dir: &Dir, rel: &[u8], dir_name: &[u8], ctx: &mut Ctx) -> Result<(), PackError> {
    let schema_path = join(rel, b"_schema.json");
    let bytes = dir.read_file(b"_schema.json", MAX_DOCUMENT).map_err(|e| ctx.file(&schema_path, e))?;
    ctx.walked();
    let t = parse_schema(&bytes).map_err(|d| ctx.tree(&schema_path, d))?;
    let want = encode_segment(t.name.as_bytes());
    if want.as_bytes() != dir_name {
        return Err(ctx.tree(
            &schema_path,
            format!("table_name {:?} belongs in directory dynamodb/{want}, not here", t.name),
        ));
    }
    if t.hash_key.is_empty() {
        return Err(ctx.tree(&schema_path, "empty primary hash key"));
    }
    let mut items = false;
    for e in dir.entries().map_err(|e| ctx.io(rel, e))? {
        let e = e.map_err(|e| ctx.io(rel, e))?;
        match (e.name.as_slice(), e.kind) {
            (b"_schema.json", Kind::File) => {}
            (b"items", Kind::Dir) => items = true,
            (b"items", k) => {
                return Err(ctx.tree(&join(rel, b"items"), format!("is {}, not a directory", k.describe())))
            }
            (name, k) => {
                return Err(ctx.tree(
                    &join(rel, name),
                    format!("is {}; a table directory holds only _schema.json and items/", k.describe()),
                ))
            }
        }
    }
    for r in ddb_schema_records(&t) {
        ctx.add(&schema_path, &r.key, &r.value)?;
    }
    if items {
        let items_rel = join(rel, b"items");
        let idir = dir.open_dir(b"items").map_err(|e| ctx.io(&items_rel, e))?;
        walk_items(&idir, &items_rel, &t, ctx)?;
    }
    Ok(())
}

fn is_json(name: &[u8]) -> bool {
    name.ends_with(b".json")
}

/// Item files are read and encoded on the worker threads; the records are
/// added here, in file order.
fn walk_items(dir: &Dir, rel: &[u8], t: &TableDef, ctx: &mut Ctx) -> Result<(), PackError> {
    let top = Arc::new(dir.try_clone().map_err(|e| ctx.io(rel, e))?);
    let display = ctx.tree_display.clone();
    with_pipeline(
        |dir, job: &Job<Vec<u8>>| encode_item(dir, job, t).map_err(|d| tree_error(&display, &job.rel, d)),
        |p| {
            let mut done = |job: &Job<Vec<u8>>, records: Vec<Record>| {
                ctx.walked();
                records.iter().try_for_each(|r| ctx.add(&job.rel, &r.key, &r.value))
            };
            let mut top_at = None;
            for e in top.entries().map_err(|e| ctx_io(&display, rel, e))? {
                let e = e.map_err(|e| ctx_io(&display, rel, e))?;
                let path = join(rel, &e.name);
                match e.kind {
                    Kind::Dir => {
                        let sub =
                            Arc::new(top.open_dir(&e.name).map_err(|err| ctx_io(&display, &path, err))?);
                        let mut sub_at = None;
                        for f in sub.entries().map_err(|err| ctx_io(&display, &path, err))? {
                            let f = f.map_err(|err| ctx_io(&display, &path, err))?;
                            let fpath = join(&path, &f.name);
                            match f.kind {
                                Kind::Dir => {
                                    return Err(tree_error(
                                        &display,
                                        &fpath,
                                        "unexpected nested directory (items layout is at most 2 levels)",
                                    ))
                                }
                                Kind::File if is_json(&f.name) => {
                                    let at = *sub_at.get_or_insert_with(|| p.add_dir(sub.clone()));
                                    let under = join(&e.name, &f.name);
                                    if p.push(at, f.name, fpath, under, 0) {
                                        p.submit(&mut done)?;
                                        (top_at, sub_at) = (None, None);
                                    }
                                }
                                k => return Err(not_an_item(&display, &fpath, k)),
                            }
                        }
                    }
                    Kind::File if is_json(&e.name) => {
                        let at = *top_at.get_or_insert_with(|| p.add_dir(top.clone()));
                        if p.push(at, e.name.clone(), path, e.name, 0) {
                            p.submit(&mut done)?;
                            top_at = None;
                        }
                    }
                    k => return Err(not_an_item(&display, &path, k)),
                }
            }
            p.finish(&mut done)
        },
    )
}

/// An I/O error while reading the tree at `rel` (see `Ctx::io`).
fn ctx_io(display: &str, rel: &[u8], e: std::io::Error) -> PackError {
    tree_error(display, rel, e)
}

fn not_an_item(display: &str, path: &[u8], k: Kind) -> PackError {
    if k == Kind::File {
        tree_error(display, path, "not an item file (item files end in .json)")
    } else {
        tree_error(display, path, format!("is {}; items/ holds only regular .json files", k.describe()))
    }
}

/// One item file → its item row and GSI rows, after checking that it sits
/// at the path the decoder gives its key.
fn encode_item(dir: &Dir, job: &Job<Vec<u8>>, t: &TableDef) -> Result<Vec<Record>, Why> {
    let bytes = dir.read_listed_file(&job.name, MAX_DOCUMENT)?;
    let attrs = parse_item(&bytes)?;
    let records = ddb_item_records(t, &attrs, RESTORE_GENERATION).map_err(|e| e.to_string())?;
    let want = item_path(t, &attrs)?;
    if want != job.extra {
        return Err(format!(
            "the item's key attributes name the file items/{}; an item must sit where the decoder puts it",
            String::from_utf8_lossy(&want)
        )
        .into());
    }
    Ok(records)
}

/// `_schema.json` (`dynamodb-s3.md` A5) → the restore schema: generation 1,
/// ordered keys. Refuses what upstream refuses (bad version, duplicate
/// attribute-definition or index names).
pub(crate) fn parse_schema(bytes: &[u8]) -> Result<TableDef, String> {
    let s = GoObject::parse(bytes)?;
    let version = s.u32("format_version")?;
    let name = s.str("table_name")?;
    let pk = s.object("primary_key")?;
    let key_name = |o: &GoObject, f: &str| -> Result<String, String> {
        let a = o.object(f)?;
        a.str("type")?;
        a.str("name")
    };
    let hash_key = key_name(&pk, "hash_key")?;
    let range_key = key_name(&pk, "range_key")?;
    let mut defs = Vec::new();
    for d in s.objects("attribute_definitions")? {
        defs.push((d.str("name")?, d.str("type")?));
    }
    let mut gsis = Vec::new();
    for g in s.objects("global_secondary_indexes")? {
        let ks = g.object("key_schema")?;
        let p = g.object("projection")?;
        gsis.push(GsiDef {
            name: g.str("name")?,
            hash: key_name(&ks, "hash_key")?,
            range: key_name(&ks, "range_key")?,
            projection_type: p.str("type")?,
            non_key_attributes: p.strings("non_key_attributes")?,
        });
    }
    if version != 1 {
        return Err(format!("unsupported format_version {version}"));
    }
    for (i, (n, _)) in defs.iter().enumerate() {
        if defs[..i].iter().any(|(m, _)| m == n) {
            return Err(format!("duplicate attribute definition {n:?}"));
        }
    }
    for (i, g) in gsis.iter().enumerate() {
        if gsis[..i].iter().any(|h| h.name == g.name) {
            return Err(format!("duplicate GSI name {:?}", g.name));
        }
    }
    if name.is_empty() {
        return Err("empty table_name".into());
    }
    Ok(TableDef {
        name,
        attribute_definitions: defs,
        hash_key,
        range_key,
        gsis,
        key_encoding_version: ORDERED_KEYS,
        generation: RESTORE_GENERATION,
        migrating_from_generation: 0,
    })
}

/// Go's `base64.StdEncoding.DecodeString`: padding required, `\r`/`\n`
/// skipped, non-zero trailing bits accepted.
fn b64std(s: &str) -> Result<Vec<u8>, String> {
    const ENGINE: GeneralPurpose = GeneralPurpose::new(
        &base64::alphabet::STANDARD,
        GeneralPurposeConfig::new()
            .with_decode_allow_trailing_bits(true)
            .with_decode_padding_mode(DecodePaddingMode::RequireCanonical),
    );
    let clean: Vec<u8> = s.bytes().filter(|&b| b != b'\r' && b != b'\n').collect();
    ENGINE.decode(clean).map_err(|e| format!("binary value is not valid base64: {e}"))
}

/// An item file: one JSON object `{name: {TYPE: value}}`, read straight
/// into attribute values (no intermediate JSON tree: a tree of a million
/// items spends its time here). Repeated names keep both entries; the
/// encoders keep the last, as Go's map does.
pub(crate) fn parse_item(bytes: &[u8]) -> Result<Vec<(String, AttrValue)>, String> {
    let mut de = serde_json::Deserializer::from_slice(bytes);
    let item = Item::deserialize(&mut de).map_err(|e| e.to_string())?;
    de.end().map_err(|e| e.to_string())?;
    Ok(item.0)
}

struct Item(Vec<(String, AttrValue)>);

impl<'de> Deserialize<'de> for Item {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Item;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("an item file holding one JSON object")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut m: A) -> Result<Item, A::Error> {
                let mut out = Vec::new();
                while let Some(name) = m.next_key::<String>()? {
                    let Attr(v) =
                        m.next_value().map_err(|e| de::Error::custom(format!("attribute {name:?}: {e}")))?;
                    out.push((name, v));
                }
                Ok(Item(out))
            }
        }
        d.deserialize_map(V)
    }
}

/// One `{TYPE: value}` attribute object.
struct Attr(AttrValue);

impl<'de> Deserialize<'de> for Attr {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Attr;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("an attribute object {TYPE: value}")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut m: A) -> Result<Attr, A::Error> {
                let mut got: Option<(String, AttrValue)> = None;
                let mut keys = 0;
                while let Some(ty) = m.next_key::<String>()? {
                    // A repeated type key replaces the value (Go map); a
                    // second type is an error once all keys are seen.
                    if got.as_ref().is_none_or(|(t, _)| *t != ty) {
                        keys += 1;
                    }
                    let v = typed(&ty, &mut m)?;
                    got = Some((ty, v));
                }
                match got {
                    Some((_, v)) if keys == 1 => Ok(Attr(v)),
                    _ => Err(de::Error::custom(format!(
                        "attribute object must have exactly one type key, got {keys}"
                    ))),
                }
            }
        }
        d.deserialize_map(V)
    }
}

fn typed<'de, A: MapAccess<'de>>(ty: &str, m: &mut A) -> Result<AttrValue, A::Error> {
    let err = |e: String| de::Error::custom(e);
    let string = |m: &mut A, what: &str| -> Result<String, A::Error> {
        m.next_value::<String>().map_err(|_| err(format!("{what} value is not a string")))
    };
    let boolean = |m: &mut A, what: &str| -> Result<bool, A::Error> {
        m.next_value::<bool>().map_err(|_| err(format!("{what} value is not a boolean")))
    };
    let strings = |m: &mut A, what: &str| -> Result<Vec<String>, A::Error> {
        let v: Vec<serde_json::Value> =
            m.next_value().map_err(|_| err(format!("{what} value is not an array")))?;
        v.into_iter()
            .map(|e| match e {
                serde_json::Value::String(s) => Ok(s),
                _ => Err(err("set element is not a string".into())),
            })
            .collect()
    };
    Ok(match ty {
        "S" => AttrValue::S(string(m, "S")?),
        "N" => AttrValue::N(string(m, "N")?),
        "B" => AttrValue::B(b64std(&string(m, "B")?).map_err(err)?),
        "BOOL" => AttrValue::Bool(boolean(m, "BOOL")?),
        "NULL" => AttrValue::Null(boolean(m, "NULL")?),
        "SS" => AttrValue::Ss(strings(m, "SS")?),
        "NS" => AttrValue::Ns(strings(m, "NS")?),
        "BS" => AttrValue::Bs(
            strings(m, "BS")
                .map_err(|_| err("binary value is not a base64 string".into()))?
                .iter()
                .map(|s| b64std(s).map_err(err))
                .collect::<Result<_, _>>()?,
        ),
        "L" => AttrValue::L(m.next_value::<Vec<Attr>>()?.into_iter().map(|a| a.0).collect()),
        "M" => AttrValue::M(m.next_value::<Item>()?.0),
        other => return Err(err(format!("unknown attribute type {other:?}"))),
    })
}

/// The file-name segment the decoder gives a key attribute value.
fn name_segment(v: &AttrValue, out: &mut Vec<u8>) {
    match v {
        AttrValue::S(s) => encode_segment_into(s.as_bytes(), out),
        AttrValue::N(n) => encode_segment_into(canonical_number(n).as_bytes(), out),
        AttrValue::B(b) => encode_binary_segment_into(b, out),
        _ => {}
    }
}

/// Where the decoder puts an item, relative to `items/` (`dynamodb-s3.md`
/// A6.1): `<hash>.json`, `<hash>/<range>.json`, or `<range>.json` when the
/// hash segment is empty. Key attributes must already be known to exist
/// with a key type.
pub(crate) fn item_path(t: &TableDef, attrs: &[(String, AttrValue)]) -> Result<Vec<u8>, String> {
    let find = |name: &str| attrs.iter().rev().find(|(n, _)| n == name).map(|(_, v)| v);
    let dot = |s: &[u8]| s == b"." || s == b"..";
    let mut hash = Vec::new();
    if let Some(v) = find(&t.hash_key) {
        name_segment(v, &mut hash);
    }
    if dot(&hash) {
        return Err("the hash key encodes to a dot path segment, which the decoder cannot write".into());
    }
    if t.range_key.is_empty() {
        hash.extend_from_slice(b".json");
        return Ok(hash);
    }
    let mut range = Vec::new();
    if let Some(v) = find(&t.range_key) {
        name_segment(v, &mut range);
    }
    if dot(&range) {
        return Err("the range key encodes to a dot path segment, which the decoder cannot write".into());
    }
    range.extend_from_slice(b".json");
    Ok(if hash.is_empty() { range } else { join(&hash, &range) })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn schema_shapes() {
        let t = parse_schema(br#"{"format_version":1,"table_name":"Orders","primary_key":{"hash_key":{"name":"pk","type":"S"},"range_key":{"name":"sk","type":"N"}},"attribute_definitions":[{"name":"pk","type":"S"},{"name":"sk","type":"N"}],"global_secondary_indexes":[{"name":"g","key_schema":{"hash_key":{"name":"s"},"range_key":{}},"projection":{"type":"INCLUDE","non_key_attributes":["a"]}}]}"#).unwrap();
        assert_eq!((t.hash_key.as_str(), t.range_key.as_str()), ("pk", "sk"));
        assert_eq!(t.gsis[0].non_key_attributes, vec!["a".to_string()]);
        assert_eq!((t.generation, t.key_encoding_version), (1, 2));
        for (bad, why) in [
            (&br#"{"format_version":2,"table_name":"t"}"#[..], "format_version 2"),
            (br#"{"format_version":1,"table_name":""}"#, "empty table_name"),
            (br#"{"format_version":1,"table_name":"t","attribute_definitions":[{"name":"a","type":"S"},{"name":"a","type":"N"}]}"#, "duplicate attribute"),
            (br#"{"format_version":1,"table_name":"t","global_secondary_indexes":[{"name":"g"},{"name":"g"}]}"#, "duplicate GSI"),
            (br#"{"format_version":1,"table_name":7}"#, "cannot unmarshal"),
            (br#"{"format_version":1,"table_name":"t"} x"#, "trailing"),
        ] {
            let e = parse_schema(bad).unwrap_err();
            assert!(e.contains(why), "{e} / {why}");
        }
    }

    #[test]
    fn item_values() {
        let a = parse_item(br#"{"b":{"B":"AAH+"},"bs":{"BS":["","AA=="]},"n":{"NULL":false},"m":{"M":{"x":{"L":[{"N":"1"}]}}},"ss":{"SS":[]}}"#).unwrap();
        assert_eq!(a[0], ("b".into(), AttrValue::B(vec![0, 1, 0xfe])));
        assert_eq!(a[1], ("bs".into(), AttrValue::Bs(vec![vec![], vec![0]])));
        assert_eq!(a[2], ("n".into(), AttrValue::Null(false)));
        for (bad, why) in [
            (&br#"{"a":{"S":1}}"#[..], "S value is not a string"),
            (br#"{"a":{"S":"x","N":"1"}}"#, "exactly one type key, got 2"),
            (br#"{"a":{"Q":"x"}}"#, "unknown attribute type"),
            (br#"{"a":{"B":"AAH"}}"#, "base64"),
            (br#"{"a":{"SS":["a",1]}}"#, "set element"),
            (br#"{"a":{"M":{"x":5}}}"#, "attribute \"a\": attribute \"x\": invalid type"),
            (br#"{"a":{"NULL":null}}"#, "boolean"),
            (br#"[1]"#, "one JSON object"),
            (br#"{"a":{"S":"x"}} {}"#, "trailing"),
        ] {
            let e = parse_item(bad).unwrap_err();
            assert!(e.contains(why), "{e} / {why}");
        }
    }

    #[test]
    fn item_paths() {
        let mut t = TableDef { hash_key: "h".into(), ..Default::default() };
        let s = |v: &str| AttrValue::S(v.into());
        assert_eq!(item_path(&t, &[("h".into(), s("a/b"))]).unwrap(), b"a%2Fb.json");
        assert_eq!(item_path(&t, &[("h".into(), AttrValue::B(vec![0, 1]))]).unwrap(), b"b64.AAE.json");
        assert!(item_path(&t, &[("h".into(), s(".."))]).is_err());
        t.range_key = "r".into();
        let attrs = vec![("h".into(), s("x")), ("r".into(), AttrValue::N("1.50".into()))];
        assert_eq!(item_path(&t, &attrs).unwrap(), b"x/3%2F2.json");
        let attrs = vec![("h".into(), s("")), ("r".into(), s("r"))];
        assert_eq!(item_path(&t, &attrs).unwrap(), b"r.json");
    }
}
