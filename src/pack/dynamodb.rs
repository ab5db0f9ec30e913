//! DynamoDB: `dynamodb/<table>/_schema.json` and `items/…/*.json` back to
//! table-meta, generation, item and GSI rows (`pack.md` §8,
//! `dynamodb-s3.md` A9). Record bytes come from
//! [`crate::adapters::encode`]; this module reads the tree.
//!
//! Beyond upstream (which ignores item file names and stray files), an
//! item must sit at the path the decoder would give it, and nothing but
//! `_schema.json`, `items/` and `*.json` item files may appear: anything
//! else could not have come from a decode, and the self-test would reject
//! it anyway, with a less direct message.

use base64::engine::{DecodePaddingMode, GeneralPurpose, GeneralPurposeConfig};
use base64::Engine as _;
use serde_json::Value;

use super::fsio::{Dir, Kind};
use super::{Ctx, PackError, MAX_DOCUMENT};
use crate::adapters::encode::{ddb_item_records, ddb_schema_records, AttrValue, GsiDef, TableDef};
use crate::codec::gostruct::GoObject;
use crate::codec::number::canonical_number;
use crate::keys::segment::{encode_binary_segment_into, encode_segment, encode_segment_into};

/// Generation stamped on everything `pack` writes.
const RESTORE_GENERATION: u64 = 1;
/// `key_encoding_version` of the ordered key codec.
const ORDERED_KEYS: u64 = 2;

pub(super) fn encode(root: &Dir, ctx: &mut Ctx) -> Result<(), PackError> {
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

pub(super) fn join(a: &[u8], b: &[u8]) -> Vec<u8> {
    let mut p = Vec::with_capacity(a.len() + 1 + b.len());
    p.extend_from_slice(a);
    if !a.is_empty() {
        p.push(b'/');
    }
    p.extend_from_slice(b);
    p
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

fn walk_items(dir: &Dir, rel: &[u8], t: &TableDef, ctx: &mut Ctx) -> Result<(), PackError> {
    for e in dir.entries().map_err(|e| ctx.io(rel, e))? {
        let e = e.map_err(|e| ctx.io(rel, e))?;
        let path = join(rel, &e.name);
        match e.kind {
            Kind::Dir => {
                let sub = dir.open_dir(&e.name).map_err(|err| ctx.io(&path, err))?;
                for f in sub.entries().map_err(|err| ctx.io(&path, err))? {
                    let f = f.map_err(|err| ctx.io(&path, err))?;
                    let fpath = join(&path, &f.name);
                    match f.kind {
                        Kind::Dir => {
                            return Err(ctx.tree(
                                &fpath,
                                "unexpected nested directory (items layout is at most 2 levels)",
                            ))
                        }
                        Kind::File if is_json(&f.name) => {
                            item(&sub, &f.name, &join(&e.name, &f.name), &fpath, t, ctx)?
                        }
                        k => return Err(not_an_item(ctx, &fpath, k)),
                    }
                }
            }
            Kind::File if is_json(&e.name) => item(dir, &e.name, &e.name, &path, t, ctx)?,
            k => return Err(not_an_item(ctx, &path, k)),
        }
    }
    Ok(())
}

fn not_an_item(ctx: &Ctx, path: &[u8], k: Kind) -> PackError {
    if k == Kind::File {
        ctx.tree(path, "not an item file (item files end in .json)")
    } else {
        ctx.tree(path, format!("is {}; items/ holds only regular .json files", k.describe()))
    }
}

fn item(
    dir: &Dir,
    name: &[u8],
    under_items: &[u8],
    path: &[u8],
    t: &TableDef,
    ctx: &mut Ctx,
) -> Result<(), PackError> {
    let bytes = dir.read_listed_file(name, MAX_DOCUMENT).map_err(|e| ctx.file(path, e))?;
    ctx.walked();
    let attrs = parse_item(&bytes).map_err(|d| ctx.tree(path, d))?;
    let records =
        ddb_item_records(t, &attrs, RESTORE_GENERATION).map_err(|e| ctx.tree(path, e.to_string()))?;
    let want = item_path(t, &attrs).map_err(|d| ctx.tree(path, d))?;
    if want != under_items {
        return Err(ctx.tree(
            path,
            format!(
                "the item's key attributes name the file items/{}; an item must sit where the decoder puts it",
                String::from_utf8_lossy(&want)
            ),
        ));
    }
    for r in records {
        ctx.add(path, &r.key, &r.value)?;
    }
    Ok(())
}

/// `_schema.json` (`dynamodb-s3.md` A5) → the restore schema: generation 1,
/// ordered keys. Refuses what upstream refuses (bad version, duplicate
/// attribute-definition or index names).
fn parse_schema(bytes: &[u8]) -> Result<TableDef, String> {
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

/// An item file: one JSON object `{name: {TYPE: value}}`.
fn parse_item(bytes: &[u8]) -> Result<Vec<(String, AttrValue)>, String> {
    let v: Value = serde_json::from_slice(bytes).map_err(|e| e.to_string())?;
    let Value::Object(m) = v else {
        return Err("an item file must hold one JSON object".into());
    };
    m.iter().map(|(k, v)| Ok((k.clone(), attr(v).map_err(|e| format!("attribute {k:?}: {e}"))?))).collect()
}

fn attr(v: &Value) -> Result<AttrValue, String> {
    let Value::Object(m) = v else {
        return Err("not an object".into());
    };
    if m.len() != 1 {
        return Err(format!("attribute object must have exactly one type key, got {}", m.len()));
    }
    let (ty, val) = m.iter().next().expect("one entry");
    let string = |what: &str| match val {
        Value::String(s) => Ok(s.clone()),
        _ => Err(format!("{what} value is not a string")),
    };
    let boolean = |what: &str| match val {
        Value::Bool(b) => Ok(*b),
        _ => Err(format!("{what} value is not a boolean")),
    };
    let array = |what: &str| match val {
        Value::Array(a) => Ok(a),
        _ => Err(format!("{what} value is not an array")),
    };
    let strings = |what: &str| -> Result<Vec<String>, String> {
        array(what)?
            .iter()
            .map(|e| e.as_str().map(str::to_owned).ok_or_else(|| "set element is not a string".to_string()))
            .collect()
    };
    Ok(match ty.as_str() {
        "S" => AttrValue::S(string("S")?),
        "N" => AttrValue::N(string("N")?),
        "B" => AttrValue::B(b64std(&string("B")?)?),
        "BOOL" => AttrValue::Bool(boolean("BOOL")?),
        "NULL" => AttrValue::Null(boolean("NULL")?),
        "SS" => AttrValue::Ss(strings("SS")?),
        "NS" => AttrValue::Ns(strings("NS")?),
        "BS" => AttrValue::Bs(
            array("BS")?
                .iter()
                .map(|e| {
                    e.as_str()
                        .ok_or_else(|| "binary value is not a base64 string".to_string())
                        .and_then(b64std)
                })
                .collect::<Result<_, _>>()?,
        ),
        "L" => AttrValue::L(array("L")?.iter().map(attr).collect::<Result<_, _>>()?),
        "M" => match val {
            Value::Object(entries) => AttrValue::M(
                entries
                    .iter()
                    .map(|(k, v)| Ok((k.clone(), attr(v).map_err(|e| format!("M[{k:?}]: {e}"))?)))
                    .collect::<Result<_, String>>()?,
            ),
            _ => return Err("M value is not an object".into()),
        },
        other => return Err(format!("unknown attribute type {other:?}")),
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
fn item_path(t: &TableDef, attrs: &[(String, AttrValue)]) -> Result<Vec<u8>, String> {
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
            (br#"{"a":{"M":{"x":5}}}"#, "M[\"x\"]"),
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
