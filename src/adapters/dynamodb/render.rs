//! `_schema.json` and item files, byte for byte as upstream's
//! `json.MarshalIndent` writes them (HTML escaping on, no final newline).

use base64::Engine;

use super::proto::{self, Attr, ProtoError, Schema, F_BS, F_L, F_M, F_NS, F_SS, ITEM_MAGIC};
use crate::codec::gojson::JsonWriter;

/// Renders an item value (magic included) as its JSON file.
pub(crate) fn item_json(value: &[u8], out: &mut Vec<u8>) -> Result<(), ProtoError> {
    let body = value.strip_prefix(ITEM_MAGIC).ok_or(ProtoError::MissingMagic)?;
    let mut w = JsonWriter::pretty(out, true);
    attr_map(&mut w, proto::item_entries(body), 0)
}

fn attr_map<'a>(
    w: &mut JsonWriter<'_>,
    entries: impl Iterator<Item = Result<&'a [u8], ProtoError>>,
    depth: usize,
) -> Result<(), ProtoError> {
    let entries = proto::map_entries(entries)?;
    w.begin_object();
    for (name, value) in entries {
        w.key(name.as_bytes());
        attr(w, value, depth + 1)?;
    }
    w.end_object();
    Ok(())
}

fn b64(bytes: &[u8]) -> String {
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

fn attr(w: &mut JsonWriter<'_>, value: &[u8], depth: usize) -> Result<(), ProtoError> {
    if depth > proto::MAX_DEPTH {
        return Err(ProtoError::TooDeep);
    }
    w.begin_object();
    match proto::parse_attr(value)? {
        Attr::S(s) => {
            w.key(b"S");
            w.string(s.as_bytes());
        }
        Attr::N(n) => {
            w.key(b"N");
            w.string(n.as_bytes());
        }
        Attr::B(b) => {
            w.key(b"B");
            w.string(b64(b).as_bytes());
        }
        Attr::Bool(v) => {
            w.key(b"BOOL");
            w.bool(v);
        }
        Attr::Null(v) => {
            w.key(b"NULL");
            w.bool(v);
        }
        Attr::Empty => {
            w.key(b"NULL");
            w.bool(true);
        }
        Attr::Msg(field, rest) => match field {
            F_SS | F_NS => {
                w.key(if field == F_SS { b"SS" } else { b"NS" });
                w.begin_array();
                for v in proto::repeated_values(field, rest) {
                    let v = v?;
                    std::str::from_utf8(v).map_err(|_| ProtoError::InvalidUtf8 {
                        field: if field == F_SS { "ss" } else { "ns" },
                    })?;
                    w.string(v);
                }
                w.end_array();
            }
            F_BS => {
                w.key(b"BS");
                w.begin_array();
                for v in proto::repeated_values(field, rest) {
                    w.string(b64(v?).as_bytes());
                }
                w.end_array();
            }
            F_L => {
                w.key(b"L");
                w.begin_array();
                for v in proto::repeated_values(field, rest) {
                    attr(w, v?, depth + 1)?;
                }
                w.end_array();
            }
            _ => {
                debug_assert_eq!(field, F_M);
                w.key(b"M");
                attr_map(w, proto::repeated_values(field, rest), depth + 1)?;
            }
        },
    }
    w.end_object();
    Ok(())
}

/// `{"name": …, "type": …}` with empty members omitted. Upstream looks the
/// hash key's type up even for an empty name, but leaves an absent range
/// key as `{}`.
fn key_attr(w: &mut JsonWriter<'_>, name: &str, schema: &Schema, is_range: bool) {
    w.begin_object();
    if !(is_range && name.is_empty()) {
        if !name.is_empty() {
            w.key(b"name");
            w.string(name.as_bytes());
        }
        if let Some(t) = schema.attribute_definitions.get(name).filter(|t| !t.is_empty()) {
            w.key(b"type");
            w.string(t.as_bytes());
        }
    }
    w.end_object();
}

fn key_schema(w: &mut JsonWriter<'_>, hash: &str, range: &str, schema: &Schema) {
    w.begin_object();
    w.key(b"hash_key");
    key_attr(w, hash, schema, false);
    w.key(b"range_key");
    key_attr(w, range, schema, true);
    w.end_object();
}

/// Renders `_schema.json` from a parsed schema (A5).
pub(crate) fn schema_json(schema: &Schema, out: &mut Vec<u8>) {
    let mut w = JsonWriter::pretty(out, true);
    w.begin_object();
    w.key(b"format_version");
    w.u64(1);
    w.key(b"table_name");
    w.string(schema.table_name.as_bytes());
    w.key(b"primary_key");
    key_schema(&mut w, &schema.hash_key, &schema.range_key, schema);
    w.key(b"attribute_definitions");
    w.begin_array();
    for (name, ty) in &schema.attribute_definitions {
        w.begin_object();
        w.key(b"name");
        w.string(name.as_bytes());
        w.key(b"type");
        w.string(ty.as_bytes());
        w.end_object();
    }
    w.end_array();
    if !schema.gsis.is_empty() {
        w.key(b"global_secondary_indexes");
        w.begin_array();
        for (name, g) in &schema.gsis {
            w.begin_object();
            w.key(b"name");
            w.string(name.as_bytes());
            w.key(b"key_schema");
            key_schema(&mut w, &g.hash_key, &g.range_key, schema);
            w.key(b"projection");
            w.begin_object();
            w.key(b"type");
            w.string(g.projection_type.as_bytes());
            if !g.non_key_attributes.is_empty() {
                w.key(b"non_key_attributes");
                w.begin_array();
                for a in &g.non_key_attributes {
                    w.string(a.as_bytes());
                }
                w.end_array();
            }
            w.end_object();
            w.end_object();
        }
        w.end_array();
    }
    w.end_object();
}
