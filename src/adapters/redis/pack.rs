//! Redis: `redis/db_0/` back to the rows elastickv's live Redis adapter
//! keeps (`pack.md` §7). Record bytes come from
//! [`crate::adapters::redis::records`]; this module reads the tree.
//!
//! TTLs go where the live adapter keeps them: inline in string and HLL
//! values and in collection metas, plus a `!redis|ttl|` row for everything
//! but strings. Lists are renumbered from 0, collection counts are written
//! as one base meta (no delta rows), streams get their meta row back.
//!
//! Beyond upstream (which skips stray files and keys its TTL sidecars by
//! whatever stem they name), every entry must be one the decoder writes: a
//! regular `*.bin`/`*.json`/`*.jsonl` file whose stem is the canonical name
//! of its key, and a TTL line must name an existing file. Anything else
//! would fail the self-test anyway, with a less direct message.

use std::collections::HashMap;
use std::sync::Arc;

use serde_json::{Map, Value};

use crate::adapters::packing::Ctx;
use crate::adapters::records::Record;
use crate::adapters::redis::records as enc;
use crate::codec::gostruct::{field_of, kind, sanitize, GoObject};
use crate::container::error::show_key;
use crate::dumptree::fsio::{Dir, Kind};
use crate::dumptree::join;
use crate::dumptree::par::{with_pipeline, Job};
use crate::dumptree::{tree_error, Why, MAX_DOCUMENT};
use crate::exit::Failure as PackError;
use crate::keys::keymap;
use crate::keys::segment::{b64url_nopad_decode, decode_segment_bytes, encode_segment, SegmentError};

/// The one database the live keyspace can hold (keys carry no number).
const DB: &[u8] = b"db_0";
/// A stream is one file; allow more than one record's worth.
const MAX_STREAM_FILE: u64 = 16 << 30;
const KEYMAP: &[u8] = b"KEYMAP.jsonl";
/// The rename tracker's path in a tree (the self-test compares its lines
/// as a set).
pub(crate) const KEYMAP_PATH: &[u8] = b"redis/db_0/KEYMAP.jsonl";
const STRINGS_TTL: &[u8] = b"strings_ttl.jsonl";
const HLL_TTL: &[u8] = b"hll_ttl.jsonl";

/// The per-type subdirectories of `db_0/`, in upstream's processing order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Type {
    String,
    Hll,
    Hash,
    Set,
    List,
    Zset,
    Stream,
}

impl Type {
    pub(crate) const ALL: [Type; 7] =
        [Type::String, Type::Hll, Type::Hash, Type::Set, Type::List, Type::Zset, Type::Stream];

    fn dir(self) -> &'static [u8] {
        match self {
            Type::String => b"strings",
            Type::Hll => b"hll",
            Type::Hash => b"hashes",
            Type::Set => b"sets",
            Type::List => b"lists",
            Type::Zset => b"zsets",
            Type::Stream => b"streams",
        }
    }

    fn ext(self) -> &'static [u8] {
        match self {
            Type::String | Type::Hll => b".bin",
            Type::Stream => b".jsonl",
            _ => b".json",
        }
    }

    fn from_dir(name: &[u8]) -> Option<Type> {
        Type::ALL.into_iter().find(|t| t.dir() == name)
    }
}

/// What the walking thread knows about one file before a worker reads it.
struct FileJob {
    key: Vec<u8>,
    /// From the TTL sidecar (strings and HLLs; 0 = none).
    ttl: u64,
}

pub(crate) fn encode(root: &Dir, ctx: &mut Ctx) -> Result<(), PackError> {
    let rel = b"redis".to_vec();
    let mut dbs = Vec::new();
    for e in root.entries().map_err(|e| ctx.io(&rel, e))? {
        let e = e.map_err(|e| ctx.io(&rel, e))?;
        let path = join(&rel, &e.name);
        if db_number(&e.name).is_none() {
            return Err(ctx.tree(&path, "unknown entry; redis/ holds only db_<n>/ directories"));
        }
        if e.kind != Kind::Dir {
            return Err(ctx.tree(&path, format!("is {}, not a directory", e.kind.describe())));
        }
        dbs.push(String::from_utf8_lossy(&e.name).into_owned());
    }
    match dbs.as_slice() {
        [] => Ok(()),
        [only] if only.as_bytes() == DB => {
            let path = join(&rel, DB);
            let dir = root.open_dir(DB).map_err(|e| ctx.io(&path, e))?;
            database(&dir, &path, ctx)
        }
        _ => {
            dbs.sort();
            Err(ctx.tree(
                &rel,
                format!(
                    "holds {}; only db_0 can be packed (live Redis keys carry no database number)",
                    dbs.join(", ")
                ),
            ))
        }
    }
}

/// `db_<N>` with `N` canonical decimal.
fn db_number(name: &[u8]) -> Option<u32> {
    let digits = name.strip_prefix(b"db_")?;
    let canonical = !digits.is_empty()
        && digits.iter().all(u8::is_ascii_digit)
        && (digits.len() == 1 || digits[0] != b'0');
    canonical.then(|| std::str::from_utf8(digits).ok()?.parse().ok()).flatten()
}

fn database(dir: &Dir, rel: &[u8], ctx: &mut Ctx) -> Result<(), PackError> {
    let mut present = Vec::new();
    for e in dir.entries().map_err(|e| ctx.io(rel, e))? {
        let e = e.map_err(|e| ctx.io(rel, e))?;
        let path = join(rel, &e.name);
        if [KEYMAP, STRINGS_TTL, HLL_TTL].contains(&e.name.as_slice()) {
            if e.kind != Kind::File {
                return Err(ctx.tree(&path, format!("is {}, not a regular file", e.kind.describe())));
            }
        } else if let Some(t) = Type::from_dir(&e.name) {
            if e.kind != Kind::Dir {
                return Err(ctx.tree(&path, format!("is {}, not a directory", e.kind.describe())));
            }
            present.push(t);
        } else {
            return Err(ctx.tree(
                &path,
                "unknown entry; db_0/ holds KEYMAP.jsonl, strings_ttl.jsonl, hll_ttl.jsonl and the directories strings/ hll/ hashes/ sets/ lists/ zsets/ streams/",
            ));
        }
    }
    let keymap = load_keymap(dir, rel, ctx)?;
    let mut string_ttls = load_ttls(dir, rel, STRINGS_TTL, ctx)?;
    let mut hll_ttls = load_ttls(dir, rel, HLL_TTL, ctx)?;
    for t in Type::ALL.into_iter().filter(|t| present.contains(t)) {
        let ttls = match t {
            Type::String => Some(&mut string_ttls),
            Type::Hll => Some(&mut hll_ttls),
            _ => None,
        };
        walk_type(dir, rel, t, &keymap, ttls, ctx)?;
    }
    // Whatever is left in a TTL map named no file.
    for (name, ttls, t) in [(STRINGS_TTL, &string_ttls, Type::String), (HLL_TTL, &hll_ttls, Type::Hll)] {
        if let Some((stem, (_, line))) =
            ttls.iter().filter(|(_, (ms, _))| *ms != 0).min_by_key(|(_, (_, l))| *l)
        {
            return Err(ctx.tree(
                &join(rel, name),
                format!(
                    "line {line}: key {:?} has no {}/{}{} to expire",
                    String::from_utf8_lossy(stem),
                    String::from_utf8_lossy(t.dir()),
                    String::from_utf8_lossy(stem),
                    String::from_utf8_lossy(t.ext())
                ),
            ));
        }
    }
    Ok(())
}

/// `KEYMAP.jsonl`: SHA-fallback stem → original key; a repeated stem keeps
/// the last record (as upstream).
fn load_keymap(dir: &Dir, rel: &[u8], ctx: &mut Ctx) -> Result<HashMap<Vec<u8>, Vec<u8>>, PackError> {
    let path = join(rel, KEYMAP);
    let bytes = match dir.kind(KEYMAP).map_err(|e| ctx.io(&path, e))? {
        None => return Ok(HashMap::new()),
        Some(_) => dir.read_file(KEYMAP, MAX_DOCUMENT).map_err(|e| ctx.file(&path, e))?,
    };
    ctx.walked();
    let records = keymap::parse(&bytes).map_err(|e| ctx.tree(&path, e))?;
    Ok(records.into_iter().map(|r| (r.encoded.into_bytes(), r.original)).collect())
}

/// A TTL sidecar: stem → (expire_at_ms, line of the last record naming it).
type TtlMap = HashMap<Vec<u8>, (u64, usize)>;

fn load_ttls(dir: &Dir, rel: &[u8], name: &[u8], ctx: &mut Ctx) -> Result<TtlMap, PackError> {
    let path = join(rel, name);
    let bytes = match dir.kind(name).map_err(|e| ctx.io(&path, e))? {
        None => return Ok(HashMap::new()),
        Some(_) => dir.read_file(name, MAX_DOCUMENT).map_err(|e| ctx.file(&path, e))?,
    };
    ctx.walked();
    parse_ttls(&bytes).map_err(|e| ctx.tree(&path, e))
}

/// `{"key": stem, "expire_at_ms": n}` values, whitespace-separated; a later
/// record for the same stem wins.
pub(crate) fn parse_ttls(bytes: &[u8]) -> Result<TtlMap, String> {
    let mut out = HashMap::new();
    for item in values(&sanitize(bytes)) {
        let (line, v) = item?;
        let at = |e: String| format!("line {line}: {e}");
        let o = GoObject::from_value(v).map_err(at)?;
        let key = o.str("key").map_err(at)?;
        let ms = o.u64("expire_at_ms").map_err(at)?;
        out.insert(key.into_bytes(), (ms, line));
    }
    Ok(out)
}

/// The JSON values of a stream file (TTL sidecars, stream `.jsonl`), each
/// with the line it starts on, parsed one at a time. `clean` has been
/// through [`sanitize`] (invalid UTF-8 reads as U+FFFD, as in Go).
fn values(clean: &[u8]) -> impl Iterator<Item = Result<(usize, Value), String>> + '_ {
    let mut it = serde_json::Deserializer::from_slice(clean).into_iter::<Value>();
    let (mut line, mut counted, mut failed) = (1usize, 0usize, false);
    std::iter::from_fn(move || {
        if failed {
            return None;
        }
        let from = it.byte_offset();
        let start = from + clean[from..].iter().take_while(|b| b.is_ascii_whitespace()).count();
        line += clean[counted..start].iter().filter(|&&b| b == b'\n').count();
        counted = start;
        match it.next()? {
            Ok(v) => Some(Ok((line, v))),
            Err(e) => {
                failed = true;
                Some(Err(format!("line {}: {e}", e.line())))
            }
        }
    })
}

/// One type directory: every file's records, read and encoded on the
/// worker threads, added here in directory order.
fn walk_type(
    db: &Dir,
    db_rel: &[u8],
    t: Type,
    keymap: &HashMap<Vec<u8>, Vec<u8>>,
    mut ttls: Option<&mut TtlMap>,
    ctx: &mut Ctx,
) -> Result<(), PackError> {
    let rel = join(db_rel, t.dir());
    let dir = Arc::new(db.open_dir(t.dir()).map_err(|e| ctx.io(&rel, e))?);
    let display = ctx.tree_display.clone();
    let err = |path: &[u8], d: Why| tree_error(&display, path, d);
    with_pipeline(
        |d, job: &Job<FileJob>| encode_file(d, job, t).map_err(|m| err(&job.rel, m)),
        |p| {
            let mut done = |job: &Job<FileJob>, records: Vec<Record>| {
                ctx.walked();
                records.iter().try_for_each(|r| ctx.add(&job.rel, &r.key, &r.value))
            };
            let mut at = None;
            for e in dir.entries().map_err(|e| err(&rel, e.into()))? {
                let e = e.map_err(|e| err(&rel, e.into()))?;
                let path = join(&rel, &e.name);
                let what = || {
                    format!(
                        "{}/ holds only regular *{} files",
                        String::from_utf8_lossy(t.dir()),
                        String::from_utf8_lossy(t.ext())
                    )
                };
                if e.kind != Kind::File {
                    return Err(err(&path, format!("is {}; {}", e.kind.describe(), what()).into()));
                }
                let Some(stem) = e.name.strip_suffix(t.ext()) else {
                    return Err(err(&path, format!("unexpected file; {}", what()).into()));
                };
                let key = stem_key(stem, keymap).map_err(|d| err(&path, d.into()))?;
                let ttl = ttls.as_mut().and_then(|m| m.remove(stem)).map_or(0, |(ms, _)| ms);
                let i = *at.get_or_insert_with(|| p.add_dir(dir.clone()));
                if p.push(i, e.name, path, FileJob { key, ttl }, 0) {
                    p.submit(&mut done)?;
                    at = None;
                }
            }
            p.finish(&mut done)
        },
    )
}

/// A file stem back to its key: percent-decoded, or looked up in
/// `KEYMAP.jsonl` for a SHA-fallback name; the stem must be the name the
/// decoder gives that key.
pub(crate) fn stem_key(stem: &[u8], keymap: &HashMap<Vec<u8>, Vec<u8>>) -> Result<Vec<u8>, String> {
    let key = match decode_segment_bytes(stem) {
        Ok(k) => k,
        Err(SegmentError::ShaFallbackNeedsKeymap) => keymap
            .get(stem)
            .cloned()
            .ok_or("a SHA-fallback name without a record in KEYMAP.jsonl (the key cannot be recovered)")?,
        Err(e) => return Err(format!("the file name is not an encoded key: {e}")),
    };
    let canonical = encode_segment(&key);
    if canonical.as_bytes() != stem {
        return Err(format!(
            "names key {}, which the decoder calls {canonical:?}; rename the file",
            show_key(&key)
        ));
    }
    Ok(key)
}

fn encode_file(d: &Dir, job: &Job<FileJob>, t: Type) -> Result<Vec<Record>, Why> {
    let limit = if t == Type::Stream { MAX_STREAM_FILE } else { MAX_DOCUMENT };
    let bytes = d.read_listed_file(&job.name, limit)?;
    Ok(records(t, &job.extra.key, &bytes, job.extra.ttl)?)
}

/// The records of one file of type `t` for user key `key`; `ttl` is the
/// sidecar's expiry for strings and HLLs (0: none).
pub(crate) fn records(t: Type, key: &[u8], bytes: &[u8], ttl: u64) -> Result<Vec<Record>, String> {
    let ttl = (ttl != 0).then_some(ttl);
    let out = match t {
        Type::String => vec![Record { key: enc::string_key(key), value: enc::string_value(bytes, ttl) }],
        Type::Hll => {
            // A sketch without TTL stays raw (the live adapter's legacy form).
            let value = if ttl.is_some() { enc::hll_value(bytes, ttl) } else { bytes.to_vec() };
            let mut out = vec![Record { key: enc::hll_key(key), value }];
            push_ttl_row(&mut out, key, ttl);
            out
        }
        Type::Hash => hash(key, bytes)?,
        Type::Set => set(key, bytes)?,
        Type::List => list(key, bytes)?,
        Type::Zset => zset(key, bytes)?,
        Type::Stream => stream(key, bytes)?,
    };
    refuse_duplicates(t, &out)?;
    Ok(out)
}

fn push_ttl_row(out: &mut Vec<Record>, key: &[u8], ttl: Option<u64>) {
    if let Some(ms) = ttl {
        out.push(Record { key: enc::ttl_key(key), value: enc::ttl_value(ms) });
    }
}

/// Two fields, members, items or entries of one key with the same record
/// key would collide in the payload: name the element.
fn refuse_duplicates(t: Type, out: &[Record]) -> Result<(), String> {
    if out.len() < 3 {
        return Ok(());
    }
    let mut keys: Vec<&[u8]> = out.iter().map(|r| r.key.as_slice()).collect();
    keys.sort_unstable();
    match keys.windows(2).find(|w| w[0] == w[1]) {
        None => Ok(()),
        Some(w) => {
            let what = match t {
                Type::Hash => "a field",
                Type::Set | Type::Zset => "a member",
                Type::Stream => "an entry id",
                _ => "an element",
            };
            Err(format!("{what} appears twice (record key {})", show_key(w[0])))
        }
    }
}

/// A collection document: one JSON object with `format_version` 1.
fn collection(bytes: &[u8]) -> Result<(GoObject, Option<u64>), String> {
    let o = GoObject::parse(bytes)?;
    let version = o.u32("format_version")?;
    if version != 1 {
        return Err(format!("unsupported format_version {version}"));
    }
    let ms = o.u64("expire_at_ms")?;
    Ok((o, (ms != 0).then_some(ms)))
}

/// An array element read into a struct: an object, or `null` (all zero).
fn element<'a>(v: &'a Value, field: &str, i: usize) -> Result<&'a Map<String, Value>, String> {
    static EMPTY: std::sync::OnceLock<Map<String, Value>> = std::sync::OnceLock::new();
    match v {
        Value::Object(m) => Ok(m),
        Value::Null => Ok(EMPTY.get_or_init(Map::new)),
        other => Err(format!("{field}[{i}]: cannot unmarshal {} into an object", kind(other))),
    }
}

/// A binary-safe value (`pack.md` §6.3): a JSON string, or
/// `{"base64": <base64url, no padding>}`.
fn binary(v: Option<&Value>) -> Result<Vec<u8>, String> {
    match v {
        Some(Value::String(s)) => Ok(s.as_bytes().to_vec()),
        Some(Value::Object(m)) => match field_of(m, "base64") {
            Some(Value::String(s)) => {
                b64url_nopad_decode(s.as_bytes()).ok_or_else(|| format!("bad base64url {s:?}"))
            }
            None | Some(Value::Null) => Err("an object without \"base64\" is not a binary value".into()),
            Some(other) => Err(format!("\"base64\" is {}, not a string", kind(other))),
        },
        None => Err("missing".into()),
        Some(other) => Err(format!("{} is neither a string nor a {{\"base64\": …}} object", kind(other))),
    }
}

/// A `{name, value}` pair of a hash field or stream entry field.
fn pair(v: &Value, field: &str, i: usize) -> Result<(Vec<u8>, Vec<u8>), String> {
    let m = element(v, field, i)?;
    let name = binary(field_of(m, "name")).map_err(|e| format!("{field}[{i}].name: {e}"))?;
    let value = binary(field_of(m, "value")).map_err(|e| format!("{field}[{i}].value: {e}"))?;
    Ok((name, value))
}

fn hash(key: &[u8], bytes: &[u8]) -> Result<Vec<Record>, String> {
    let (o, ttl) = collection(bytes)?;
    let fields = o.array("fields")?;
    let mut out = Vec::with_capacity(fields.len() + 2);
    out.push(Record { key: enc::hash_meta_key(key), value: enc::count_meta_value(fields.len() as u64, ttl) });
    for (i, f) in fields.iter().enumerate() {
        let (name, value) = pair(f, "fields", i)?;
        out.push(Record { key: enc::hash_field_key(key, &name), value });
    }
    push_ttl_row(&mut out, key, ttl);
    Ok(out)
}

fn set(key: &[u8], bytes: &[u8]) -> Result<Vec<Record>, String> {
    let (o, ttl) = collection(bytes)?;
    let members = o.array("members")?;
    let mut out = Vec::with_capacity(members.len() + 2);
    out.push(Record { key: enc::set_meta_key(key), value: enc::count_meta_value(members.len() as u64, ttl) });
    for (i, m) in members.iter().enumerate() {
        let member = binary(Some(m)).map_err(|e| format!("members[{i}]: {e}"))?;
        out.push(Record { key: enc::set_member_key(key, &member), value: Vec::new() });
    }
    push_ttl_row(&mut out, key, ttl);
    Ok(out)
}

/// Items at sequence numbers 0..n (the originals are not in the dump).
fn list(key: &[u8], bytes: &[u8]) -> Result<Vec<Record>, String> {
    let (o, ttl) = collection(bytes)?;
    let items = o.array("items")?;
    let n = items.len() as u64;
    let mut out = Vec::with_capacity(items.len() + 2);
    out.push(Record { key: enc::list_meta_key(key), value: enc::list_meta_value(0, n as i64, n, ttl) });
    for (i, item) in items.iter().enumerate() {
        let value = binary(Some(item)).map_err(|e| format!("items[{i}]: {e}"))?;
        out.push(Record { key: enc::list_item_key(key, i as i64), value });
    }
    push_ttl_row(&mut out, key, ttl);
    Ok(out)
}

fn zset(key: &[u8], bytes: &[u8]) -> Result<Vec<Record>, String> {
    let (o, ttl) = collection(bytes)?;
    let members = o.array("members")?;
    let mut out = Vec::with_capacity(2 * members.len() + 2);
    out.push(Record {
        key: enc::zset_meta_key(key),
        value: enc::count_meta_value(members.len() as u64, ttl),
    });
    for (i, m) in members.iter().enumerate() {
        let m = element(m, "members", i)?;
        let member = binary(field_of(m, "member")).map_err(|e| format!("members[{i}].member: {e}"))?;
        let score = score(field_of(m, "score")).map_err(|e| format!("members[{i}].score: {e}"))?;
        out.push(Record { key: enc::zset_member_key(key, &member), value: enc::zset_score_value(score) });
        out.push(Record { key: enc::zset_score_key(key, score, &member), value: Vec::new() });
    }
    push_ttl_row(&mut out, key, ttl);
    Ok(out)
}

/// A zset score: a JSON number (nearest float64, `-0` kept), `"+inf"` or
/// `"-inf"`; `null` reads as 0 as in Go.
fn score(v: Option<&Value>) -> Result<f64, String> {
    match v {
        None => Err("missing".into()),
        Some(Value::Null) => Ok(0.0),
        Some(Value::String(s)) if s == "+inf" => Ok(f64::INFINITY),
        Some(Value::String(s)) if s == "-inf" => Ok(f64::NEG_INFINITY),
        Some(Value::Number(n)) => {
            n.as_f64().filter(|f| !f.is_nan()).ok_or_else(|| format!("{n} is not a float64"))
        }
        Some(other) => Err(format!("{} is not a number, \"+inf\" or \"-inf\"", kind(other))),
    }
}

/// A stream file: entry lines and exactly one `_meta` line (anywhere).
fn stream(key: &[u8], bytes: &[u8]) -> Result<Vec<Record>, String> {
    let mut out = Vec::new();
    let mut meta: Option<(usize, GoObject)> = None;
    let (mut count, mut max_id) = (0i64, None::<(u64, u64)>);
    for item in values(&sanitize(bytes)) {
        let (line, v) = item?;
        let at = |e: String| format!("line {line}: {e}");
        let o = GoObject::from_value(v).map_err(at)?;
        if o.bool("_meta").map_err(at)? {
            if let Some((first, _)) = &meta {
                return Err(at(format!("a second _meta line (the first is line {first})")));
            }
            meta = Some((line, o));
            continue;
        }
        let id = o.str("id").map_err(at)?;
        let (ms, seq) = stream_id(&id).map_err(at)?;
        let mut fields: Vec<Vec<u8>> = Vec::new();
        for (i, f) in o.array("fields").map_err(at)?.iter().enumerate() {
            let (name, value) = pair(f, "fields", i).map_err(at)?;
            for (what, b) in [("name", &name), ("value", &value)] {
                if std::str::from_utf8(b).is_err() {
                    return Err(at(format!(
                        "fields[{i}].{what} is not valid UTF-8 (stream fields are protobuf strings)"
                    )));
                }
            }
            fields.push(name);
            fields.push(value);
        }
        let refs: Vec<&[u8]> = fields.iter().map(Vec::as_slice).collect();
        out.push(Record {
            key: enc::stream_entry_key(key, ms, seq),
            value: enc::stream_entry_value(&id, &refs),
        });
        count += 1;
        max_id = max_id.max(Some((ms, seq)));
    }
    let Some((line, meta)) = meta else {
        return Err("no _meta line (the decoder writes one per stream)".into());
    };
    let at = |e: String| format!("line {line}: {e}");
    let length = meta.i64("length").map_err(at)?;
    let last = (meta.u64("last_ms").map_err(at)?, meta.u64("last_seq").map_err(at)?);
    let ms = meta.u64("expire_at_ms").map_err(at)?;
    let ttl = (ms != 0).then_some(ms);
    if length != count {
        return Err(at(format!("_meta length {length} but the file holds {count} entries")));
    }
    if let Some(max) = max_id.filter(|&m| m > last) {
        return Err(at(format!(
            "_meta last id {}-{} is behind the entry {}-{} (a new XADD could overwrite it)",
            last.0, last.1, max.0, max.1
        )));
    }
    out.push(Record {
        key: enc::stream_meta_key(key),
        value: enc::stream_meta_value(length as u64, last.0, last.1, ttl, None),
    });
    push_ttl_row(&mut out, key, ttl);
    Ok(out)
}

/// `<ms>-<seq>`, both plain unsigned decimal.
fn stream_id(id: &str) -> Result<(u64, u64), String> {
    let num = |s: &str| {
        (!s.is_empty() && s.bytes().all(|b| b.is_ascii_digit())).then(|| s.parse::<u64>().ok()).flatten()
    };
    let (ms, seq) = id.split_once('-').ok_or_else(|| format!("stream id {id:?} has no '-'"))?;
    match (num(ms), num(seq)) {
        (Some(ms), Some(seq)) => Ok((ms, seq)),
        _ => Err(format!("stream id {id:?} is not <ms>-<seq> in unsigned 64-bit decimal")),
    }
}

/// Self-test: whether a decoded Redis file that differs in bytes from the
/// input holds the same data. A tree decoded from a live node is not
/// always in the form pack writes back (`pack.md` §11.2: sidecar lines in
/// another order or repeated per version, `expire_at_ms: 0` for "none");
/// such a file matches when both parse to the same records, which is what
/// the payload must preserve. (`KEYMAP.jsonl` is compared as a set of
/// distinct lines by the self-test itself.)
pub(crate) fn same_data(rel: &[u8], input: &[u8], decoded: &[u8]) -> bool {
    let Some(rest) = rel.strip_prefix(b"redis/db_0/") else {
        return false;
    };
    if rest == STRINGS_TTL || rest == HLL_TTL {
        let live = |b: &[u8]| {
            parse_ttls(b).map(|m| {
                let mut v: Vec<(Vec<u8>, u64)> =
                    m.into_iter().filter(|(_, (ms, _))| *ms != 0).map(|(k, (ms, _))| (k, ms)).collect();
                v.sort();
                v
            })
        };
        return matches!((live(input), live(decoded)), (Ok(a), Ok(b)) if a == b);
    }
    let Some(slash) = rest.iter().position(|&b| b == b'/') else {
        return false;
    };
    let (dir, name) = (&rest[..slash], &rest[slash + 1..]);
    match Type::from_dir(dir) {
        Some(t) if !matches!(t, Type::String | Type::Hll) && name.ends_with(t.ext()) => {
            let rows = |b: &[u8]| {
                records(t, b"k", b, 0).map(|mut v| {
                    v.sort_by(|a, b| a.key.cmp(&b.key));
                    v
                })
            };
            matches!((rows(input), rows(decoded)), (Ok(a), Ok(b)) if a == b)
        }
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn same_data_tolerates_form_not_content() {
        let h = |ttl: &str, f: &str| {
            format!(r#"{{"format_version":1,"fields":[{f}],"expire_at_ms":{ttl}}}"#).into_bytes()
        };
        let (a, b) = (r#"{"name":"a","value":"1"}"#, r#"{"name":"b","value":"2"}"#);
        let rel = b"redis/db_0/hashes/k.json";
        assert!(same_data(rel, &h("0", a), &h("null", a)));
        assert!(same_data(rel, &h("null", &format!("{b},{a}")), &h("null", &format!("{a},{b}"))));
        assert!(!same_data(rel, &h("null", a), &h("null", b)));
        assert!(!same_data(rel, &h("5", a), &h("null", a)));
        assert!(!same_data(rel, b"{", &h("null", a)));
        // Strings and HLLs are bytes; other adapters are never tolerated.
        assert!(!same_data(b"redis/db_0/strings/k.bin", b"a", b"b"));
        assert!(!same_data(b"sqs/q/messages.jsonl", &h("0", a), &h("null", a)));
        let ttl = b"redis/db_0/strings_ttl.jsonl";
        let x = b"{\"key\":\"x\",\"expire_at_ms\":5}\n";
        let y = b"{\"key\":\"y\",\"expire_at_ms\":6}\n";
        assert!(same_data(ttl, &[&x[..], y, x].concat(), &[&y[..], x].concat()));
        assert!(!same_data(ttl, &[&x[..], y].concat(), x));
        // The tracker is the self-test's to compare, as a set of distinct lines.
        assert!(!same_data(KEYMAP_PATH, b"a\nb\n", b"b\na\n"));
    }

    #[test]
    fn database_names() {
        assert_eq!(db_number(b"db_0"), Some(0));
        assert_eq!(db_number(b"db_12"), Some(12));
        for bad in [&b"db_"[..], b"db_01", b"db_-1", b"db_x", b"db0", b"db_99999999999"] {
            assert_eq!(db_number(bad), None, "{}", String::from_utf8_lossy(bad));
        }
    }

    #[test]
    fn stream_ids_are_plain_decimal() {
        assert_eq!(stream_id("1-0"), Ok((1, 0)));
        assert_eq!(stream_id("18446744073709551615-7"), Ok((u64::MAX, 7)));
        for bad in ["1", "-1", "1-", "+1-0", "1-+0", "1-2-3", "a-1", "18446744073709551616-0", " 1-0"] {
            assert!(stream_id(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn scores_follow_go() {
        let s = |j: &str| score(Some(&serde_json::from_str(j).unwrap()));
        assert_eq!(s("1.5").unwrap(), 1.5);
        assert_eq!(s("-0").unwrap().to_bits(), (-0.0f64).to_bits());
        assert_eq!(s("\"+inf\"").unwrap(), f64::INFINITY);
        assert_eq!(s("\"-inf\"").unwrap(), f64::NEG_INFINITY);
        assert_eq!(s("null").unwrap(), 0.0);
        // Correctly rounded, as Go's ParseFloat.
        assert_eq!(s("0.30000000000000004").unwrap(), 0.1 + 0.2);
        assert_eq!(s("9007199254740993").unwrap(), 9007199254740992.0);
        // serde_json's default float parser is one ULP off on these
        // (hence its `float_roundtrip` feature).
        for t in ["1.2096359918611457e-123", "1.5430217413693497e-80"] {
            assert_eq!(s(t).unwrap().to_bits(), t.parse::<f64>().unwrap().to_bits(), "{t}");
        }
        assert!(s("\"inf\"").is_err() && s("\"NaN\"").is_err() && s("true").is_err());
        assert!(score(None).is_err());
    }

    #[test]
    fn binary_values() {
        let b = |j: &str| binary(Some(&serde_json::from_str(j).unwrap()));
        assert_eq!(b("\"x\"").unwrap(), b"x");
        assert_eq!(b(r#"{"base64":"_wA"}"#).unwrap(), [0xff, 0]);
        assert_eq!(b(r#"{"Base64":"_wA","extra":1}"#).unwrap(), [0xff, 0]);
        assert!(b(r#"{"base64":"_wA="}"#).is_err());
        assert!(b(r#"{"wrong":"x"}"#).is_err());
        assert!(b(r#"{"base64":null}"#).is_err());
        assert!(b("null").is_err() && b("1").is_err() && b("[\"x\"]").is_err());
        assert!(binary(None).is_err());
    }

    #[test]
    fn ttl_sidecars_keep_the_last_record_per_stem() {
        let m = parse_ttls(b"{\"key\":\"a\",\"expire_at_ms\":5}\n{\"key\":\"b\",\"expire_at_ms\":6} {\"key\":\"a\",\"expire_at_ms\":7}\n").unwrap();
        assert_eq!(m[&b"a"[..]], (7, 2));
        assert_eq!(m[&b"b"[..]], (6, 2));
        assert!(parse_ttls(b"{\"key\":\"a\",\"expire_at_ms\":-1}").unwrap_err().starts_with("line 1:"));
        assert!(parse_ttls(b"\n\n[1]").unwrap_err().starts_with("line 3:"));
        assert!(parse_ttls(b"{\"key\":\"a\"}\n{oops").unwrap_err().starts_with("line 2:"));
        assert!(parse_ttls(b"").unwrap().is_empty());
    }
}
