//! Redis decode side (`redis-sqs.md` §2–§3): strings, HLLs, hashes, lists,
//! sets, zsets and streams become `redis/db_0/<type>/<key>.<ext>`, with the
//! TTL sidecars and `KEYMAP.jsonl`.
//!
//! The scan only keeps entry offsets, one flat vector per key family. At
//! finalize each family is sorted into file order (a collection's records
//! are then one contiguous run), the runs of the member, meta and delta
//! families are joined by user key, `!redis|ttl|` rows are routed with the
//! order-free rule of §3.4, and every collection becomes a fragment file
//! (`views::frag`) whose pieces are rendered from the mapping on demand.

pub(crate) mod keys;
pub(crate) mod pack;
pub mod records;
pub(crate) mod render;

use std::cmp::Ordering;
use std::collections::{HashMap, HashSet};
use std::ops::Range;

use super::{AdapterError, ErrorKind, RecordError, Sink, Warning};
use crate::adapters::frag::{FragFile, FragKind};
use crate::adapters::route::RedisFamily as F;
use crate::container::commit_ts_at;
use crate::container::Entry;
use crate::keys::segment::{b64url_nopad, encode_segment_into, is_sha_fallback_name};
use crate::tree::{DirId, TreeBuilder, TreeError, View, SIZE_UNKNOWN};
use keys::{parse_lp, user_key_at};
use render::Kind;

/// Keys per Redis type (files emitted), for `fsmfs info`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct RedisCounts {
    pub(crate) strings: u64,
    pub(crate) hll: u64,
    pub hashes: u64,
    pub(crate) lists: u64,
    pub(crate) sets: u64,
    pub(crate) zsets: u64,
    pub(crate) streams: u64,
}

/// The records of one collection type, as entry offsets.
#[derive(Default)]
struct Family {
    members: Vec<u64>,
    metas: Vec<u64>,
    deltas: Vec<u64>,
}

/// Collects Redis records during the scan.
#[derive(Default)]
pub(crate) struct Collector {
    strings: Vec<u64>,
    hlls: Vec<u64>,
    ttls: Vec<u64>,
    zset_blobs: Vec<u64>,
    hash: Family,
    list: Family,
    set: Family,
    zset: Family,
    stream: Family,
}

/// The five collection types, in upstream's finalize order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum T {
    Hash,
    List,
    Set,
    Zset,
    Stream,
}

impl T {
    const ALL: [T; 5] = [T::Hash, T::List, T::Set, T::Zset, T::Stream];

    fn dir(self) -> &'static [u8] {
        match self {
            T::Hash => b"hashes",
            T::List => b"lists",
            T::Set => b"sets",
            T::Zset => b"zsets",
            T::Stream => b"streams",
        }
    }

    /// Prefix lengths of the member, meta and delta families.
    fn prefixes(self) -> (usize, usize, usize) {
        match self {
            T::Hash => (b"!hs|fld|".len(), b"!hs|meta|".len(), b"!hs|meta|d|".len()),
            T::List => (b"!lst|itm|".len(), b"!lst|meta|".len(), b"!lst|meta|d|".len()),
            T::Set => (b"!st|mem|".len(), b"!st|meta|".len(), b"!st|meta|d|".len()),
            T::Zset => (b"!zs|mem|".len(), b"!zs|meta|".len(), b"!zs|meta|d|".len()),
            T::Stream => (b"!stream|entry|".len(), b"!stream|meta|".len(), 0),
        }
    }

    /// Lists are the one type whose keys carry the user key raw.
    fn length_prefixed(self) -> bool {
        self != T::List
    }

    fn slot(self) -> usize {
        self as usize
    }

    fn kind(self) -> Kind {
        match self {
            T::Hash => Kind::Hash,
            T::List => Kind::List,
            T::Set => Kind::Set,
            T::Zset => Kind::Zset,
            T::Stream => Kind::Stream,
        }
    }

    fn mismatch(self) -> (&'static str, &'static str) {
        match self {
            T::Hash => ("redis_hash_length_mismatch", "observed_fields"),
            T::List => ("redis_list_length_mismatch", "observed_items"),
            T::Set => ("redis_set_length_mismatch", "observed_members"),
            T::Zset => ("redis_zset_length_mismatch", "observed_members"),
            T::Stream => ("redis_stream_length_mismatch", "observed_entries"),
        }
    }
}

fn record_error(e: &Entry<'_>, kind: ErrorKind, detail: impl Into<String>) -> RecordError {
    RecordError::new(kind, e.offset, e.user_key, detail)
}

impl Collector {
    pub(crate) fn handle(&mut self, family: F, prefix_len: usize, e: &Entry<'_>) -> Result<(), RecordError> {
        use ErrorKind::*;
        let rest = &e.user_key[prefix_len..];
        let lp = |kind: ErrorKind| {
            parse_lp(rest).ok_or_else(|| record_error(e, kind, "user key length prefix runs past the key"))
        };
        let at = e.offset;
        match family {
            F::Str => {
                keys::parse_blob(e.body, 1).map_err(|d| record_error(e, RedisInvalidStringValue, d))?;
                self.strings.push(at);
            }
            F::Hll => {
                keys::parse_blob(e.body, 2).map_err(|d| record_error(e, RedisInvalidHllValue, d))?;
                self.hlls.push(at);
            }
            F::Ttl => {
                keys::ttl_value(e.body).map_err(|d| record_error(e, RedisInvalidTtlValue, d))?;
                self.ttls.push(at);
            }
            F::ZsetBlob => {
                keys::zset_blob(e.body).map_err(|d| record_error(e, RedisInvalidZsetLegacyBlob, d))?;
                self.zset_blobs.push(at);
            }
            F::HashMeta | F::SetMeta | F::ZsetMeta => {
                let (key_kind, meta_kind, fam) = match family {
                    F::HashMeta => (RedisInvalidHashKey, RedisInvalidHashMeta, &mut self.hash),
                    F::SetMeta => (RedisInvalidSetKey, RedisInvalidSetMeta, &mut self.set),
                    _ => (RedisInvalidZsetKey, RedisInvalidZsetMeta, &mut self.zset),
                };
                lp(key_kind)?;
                keys::count_meta(e.body).map_err(|d| record_error(e, meta_kind, d))?;
                fam.metas.push(at);
            }
            F::HashField => {
                lp(RedisInvalidHashKey)?;
                self.hash.members.push(at);
            }
            F::SetMember => {
                lp(RedisInvalidSetKey)?;
                self.set.members.push(at);
            }
            F::ZsetMember => {
                lp(RedisInvalidZsetKey)?;
                self.zset.members.push(at);
            }
            // Deltas are counted for the length check; a malformed one is
            // ignored like upstream ignores every delta.
            F::HashMetaDelta => self.hash.deltas.push(at),
            F::SetMetaDelta => self.set.deltas.push(at),
            F::ZsetMetaDelta => self.zset.deltas.push(at),
            F::ListMeta => {
                keys::list_meta(e.body).map_err(|d| record_error(e, RedisInvalidListMeta, d))?;
                self.list.metas.push(at);
            }
            F::ListMetaDelta => {
                // A list whose user key starts with `d|` has its meta here;
                // list deltas are 16 bytes, metas 24 or 32.
                if matches!(e.body.len(), 24 | 32) {
                    keys::list_meta(e.body).map_err(|d| record_error(e, RedisInvalidListMeta, d))?;
                    self.list.metas.push(at);
                } else {
                    self.list.deltas.push(at);
                }
            }
            F::ListItem => {
                if rest.len() < 8 {
                    return Err(record_error(
                        e,
                        RedisInvalidListKey,
                        "item key shorter than its sequence number",
                    ));
                }
                self.list.members.push(at);
            }
            F::StreamMeta => {
                lp(RedisInvalidStreamKey)?;
                keys::stream_meta(e.body).map_err(|d| record_error(e, RedisInvalidStreamMeta, d))?;
                self.stream.metas.push(at);
            }
            F::StreamEntry => {
                let (_, id) = lp(RedisInvalidStreamKey)?;
                if id.len() != 16 {
                    return Err(record_error(
                        e,
                        RedisInvalidStreamKey,
                        format!("entry ID is {} bytes, want 16", id.len()),
                    ));
                }
                self.stream.members.push(at);
            }
            // Claims and the score index are derivable; upstream ignores them.
            F::ListClaim | F::ZsetScore => {}
        }
        Ok(())
    }

    fn family(&self, t: T) -> &Family {
        match t {
            T::Hash => &self.hash,
            T::List => &self.list,
            T::Set => &self.set,
            T::Zset => &self.zset,
            T::Stream => &self.stream,
        }
    }

    fn family_mut(&mut self, t: T) -> &mut Family {
        match t {
            T::Hash => &mut self.hash,
            T::List => &mut self.list,
            T::Set => &mut self.set,
            T::Zset => &mut self.zset,
            T::Stream => &mut self.stream,
        }
    }

    /// Lays the Redis tree out under `redis/db_0/`; returns the deferred
    /// errors of records that produce no file, and the per-type counts.
    pub(crate) fn finalize(
        mut self,
        data: &[u8],
        sink: &mut Sink<'_>,
    ) -> Result<(Vec<RecordError>, RedisCounts), AdapterError> {
        let mut out = Output::default();
        // The TTL rows are indexed first: every later step marks the keys
        // it owns, and §3.4 routes a TTL by all the kinds its key has.
        let mut ttl = TtlIndex::new(data, &self.ttls);
        self.emit_blobs(data, sink, &mut out, &mut ttl)?;
        let groups = self.group_collections(data, &mut ttl);
        let (index_ttl, orphans) = route_ttls(&ttl.slots, &groups, &mut out);
        let deferred = self.emit_collections(data, sink, &mut out, &groups, &index_ttl)?;
        emit_ttl_sidecars(data, sink, &mut out)?;
        emit_keymap(sink, &mut out)?;
        if orphans > 0 {
            sink.warn(
                "redis_orphan_ttl",
                vec![
                    ("count", orphans.to_string()),
                    ("hint", "!redis|ttl| rows whose key has no typed record".into()),
                ],
            );
        }
        Ok((deferred, out.counts))
    }

    /// Strings and HLLs: one file each, straight from the value. Their
    /// TTL keys are marked so a TTL row the value header already carries
    /// is not written twice.
    fn emit_blobs(
        &self,
        data: &[u8],
        sink: &mut Sink<'_>,
        out: &mut Output,
        ttl: &mut TtlIndex<'_>,
    ) -> Result<(), TreeError> {
        let mut name = Vec::new();
        for (list, bit, version) in [(&self.hlls, HLL, 2u8), (&self.strings, STR, 1u8)] {
            for &off in list.iter() {
                let e = crate::container::entry_at(data, off).expect("offset from the scan");
                let k = &e.user_key[b"!redis|str|".len()..];
                let blob = keys::parse_blob(e.body, version).expect("validated while indexing");
                if let Some(slot) = ttl.slot_mut(k) {
                    slot.kinds |= bit;
                    slot.inline_owned[usize::from(bit == HLL)] = blob.current;
                }
                let dir = if bit == STR { b"strings" as &[u8] } else { b"hll" };
                let seg = Output::name_into(k, b".bin", &mut name);
                let size = (e.body.len() - blob.payload_at) as u64;
                let d = out.sub_dir(sink, dir)?;
                sink.tree.file(d, &name, View::RedisBlob(off), size, 0)?;
                out.keymap_stream(off, k, &name[..seg]);
                if blob.ttl != 0 {
                    out.ttl_lines[usize::from(bit == HLL)].push(off);
                }
                if bit == STR {
                    out.counts.strings += 1;
                } else {
                    out.counts.hll += 1;
                }
            }
        }
        Ok(())
    }

    /// Collections: sort each family into file order and join its lists
    /// by key, so each collection is one group of contiguous runs. Marks
    /// the TTL keys each type owns (routing needs all of them first).
    fn group_collections<'d>(&mut self, data: &'d [u8], ttl: &mut TtlIndex<'_>) -> Vec<Vec<Group<'d>>> {
        let mut groups: Vec<Vec<Group<'_>>> = Vec::with_capacity(5);
        for t in T::ALL {
            let mut blobs = if t == T::Zset { std::mem::take(&mut self.zset_blobs) } else { Vec::new() };
            let fam = self.family_mut(t);
            sort_family(data, t, fam);
            blobs.sort_by(|&a, &b| cmp_group(t, zset_blob_key(data, a), zset_blob_key(data, b)));
            let gs = merge_groups(data, t, fam, &blobs);
            for (gi, g) in gs.iter().enumerate().filter(|(_, g)| g.has_state()) {
                if let Some(slot) = ttl.slot_mut(g.key) {
                    let bit = match t {
                        T::Zset if g.blob.is_some() => ZSET_BLOB,
                        _ => t_bit(t),
                    };
                    slot.kinds |= bit;
                    slot.target[t.slot()] = gi as u32;
                }
            }
            groups.push(gs);
        }
        groups
    }

    /// Writes every collection file, type by type in upstream's order, and
    /// logs the types' warnings after all of them; returns the errors of
    /// records that produce no file.
    fn emit_collections<'d>(
        &mut self,
        data: &'d [u8],
        sink: &mut Sink<'_>,
        out: &mut Output,
        groups: &[Vec<Group<'d>>],
        index_ttl: &[Vec<Option<u64>>],
    ) -> Result<Vec<RecordError>, TreeError> {
        let mut deferred = Vec::new();
        let mut warnings: Vec<Warning> = Vec::new();
        for t in T::ALL {
            // The members move into the fragment table: the files render
            // from there on demand.
            let arena = sink.side.frags.add_arena(std::mem::take(&mut self.family_mut(t).members));
            let planned = TypeFiles {
                data,
                t,
                fam: self.family(t),
                fam_members: &sink.side.frags.arenas[arena as usize],
                arena,
            };
            let (mut files, mut type_warnings) =
                planned.plan(&groups[t.slot()], &index_ttl[t.slot()], &mut deferred);
            // Upstream writes (and warns) in user-key order.
            files.sort_by(|a, b| a.0.cmp(b.0));
            type_warnings.sort_by(|a, b| a.0.cmp(b.0));
            warnings.extend(type_warnings.into_iter().map(|(_, w)| w));
            let ext: &[u8] = if t == T::Stream { b".jsonl" } else { b".json" };
            for (key, f) in files {
                let (name, seg) = out.name(key, ext);
                out.keymap_collection(key, &name[..seg]);
                let n = sink.side.frags.add(f);
                let d = out.sub_dir(sink, t.dir())?;
                sink.tree.file(d, &name, View::Frag(n), SIZE_UNKNOWN, 0)?;
                *out.count(t) += 1;
            }
        }
        for w in warnings {
            sink.warn(w.event, w.fields);
        }
        Ok(deferred)
    }
}

/// `!redis|ttl|` rows by user key, and what each key turned out to be.
struct TtlIndex<'d> {
    slots: Vec<TtlSlot>,
    by_key: HashMap<&'d [u8], u32>,
}

impl<'d> TtlIndex<'d> {
    fn new(data: &'d [u8], ttls: &[u64]) -> Self {
        let mut slots: Vec<TtlSlot> = Vec::with_capacity(ttls.len());
        let mut by_key: HashMap<&[u8], u32> = HashMap::with_capacity(ttls.len());
        for &off in ttls {
            by_key.insert(&user_key_at(data, off)[b"!redis|ttl|".len()..], slots.len() as u32);
            slots.push(TtlSlot { offset: off, ..Default::default() });
        }
        TtlIndex { slots, by_key }
    }

    fn slot_mut(&mut self, key: &[u8]) -> Option<&mut TtlSlot> {
        let i = *self.by_key.get(key)?;
        Some(&mut self.slots[i as usize])
    }
}

/// Routes each TTL row: to the string/HLL sidecar, to the collection
/// that owned the key when the row was read, to the set/zset/stream that
/// claims it later, or nowhere (an orphan). Returns the row of each
/// collection group, per type, and the number of orphans.
fn route_ttls(
    slots: &[TtlSlot],
    groups: &[Vec<Group<'_>>],
    out: &mut Output,
) -> (Vec<Vec<Option<u64>>>, u64) {
    let mut index_ttl: Vec<Vec<Option<u64>>> = groups.iter().map(|g| vec![None; g.len()]).collect();
    let mut orphans = 0u64;
    for s in slots {
        let target = |t: T| Some((t, s.target[t.slot()] as usize));
        let to = if s.kinds & STR != 0 {
            if !s.inline_owned[0] {
                out.ttl_lines[0].push(s.offset);
            }
            None
        } else if s.kinds & HLL != 0 {
            if !s.inline_owned[1] {
                out.ttl_lines[1].push(s.offset);
            }
            None
        } else if s.kinds & t_bit(T::List) != 0 {
            target(T::List)
        } else if s.kinds & t_bit(T::Hash) != 0 {
            target(T::Hash)
        } else if s.kinds & ZSET_BLOB != 0 {
            target(T::Zset)
        } else if s.kinds & t_bit(T::Stream) != 0 {
            target(T::Stream)
        } else if s.kinds & t_bit(T::Set) != 0 {
            target(T::Set)
        } else if s.kinds & t_bit(T::Zset) != 0 {
            target(T::Zset)
        } else {
            orphans += 1;
            None
        };
        if let Some((t, g)) = to {
            index_ttl[t.slot()][g] = Some(s.offset);
        }
    }
    (index_ttl, orphans)
}

/// Things paired with the user key they are sorted by.
type Keyed<'d, X> = Vec<(&'d [u8], X)>;

/// One collection type's records, as the fragment table now holds them.
struct TypeFiles<'a, 'd> {
    data: &'d [u8],
    t: T,
    fam: &'a Family,
    /// The type's members, in file order (the fragment arena).
    fam_members: &'a [u64],
    arena: u32,
}

impl<'d> TypeFiles<'_, 'd> {
    /// The file of each group that has one (unsorted), and the warnings
    /// about the groups; a stream without meta gets no file, only a
    /// warning and its entries' errors in `deferred`.
    fn plan(
        &self,
        groups: &[Group<'d>],
        index_ttl: &[Option<u64>],
        deferred: &mut Vec<RecordError>,
    ) -> (Keyed<'d, FragFile>, Keyed<'d, Warning>) {
        let (data, t) = (self.data, self.t);
        let mut type_warnings: Keyed<'d, Warning> = Vec::new();
        let mut files: Keyed<'d, FragFile> = Vec::new();
        for (gi, g) in groups.iter().enumerate() {
            if !g.has_state() {
                continue;
            }
            let members = &self.fam_members[g.members.clone()];
            let metas = &self.fam.metas[g.metas.clone()];
            let meta = last_meta(data, t, metas);
            if t == T::Stream && metas.is_empty() {
                type_warnings.push((g.key, stream_without_meta(g.key, members.len())));
                deferred.extend(members.iter().filter_map(|&off| check_stream_entry(data, off)));
                continue;
            }
            // An inline TTL field owns the TTL; else the routed row.
            let ttl_row = index_ttl[gi].filter(|_| meta.inline_ttl.is_none());
            let ttl = match meta.inline_ttl {
                Some(ms) => (ms != 0).then_some(ms),
                None => ttl_row.map(|off| keys::ttl_value(entry_body(data, off)).expect("validated")),
            };
            let legacy = t == T::Zset && members.is_empty() && g.blob.is_some();
            let observed = if legacy {
                let body = entry_body(data, g.blob.expect("checked"));
                render::zset_legacy_members(body).map_or(0, |m| m.len())
            } else {
                members.len()
            };
            let deltas = &self.fam.deltas[g.deltas.clone()];
            if let Some(w) = length_mismatch(data, t, g.key, meta.len, deltas, observed) {
                type_warnings.push((g.key, w));
            }
            let kind = if legacy { Kind::ZsetLegacy } else { t.kind() };
            let mut f = FragFile::new(FragKind::Redis(kind), self.arena, g.members.start, members.len());
            f.ttl = ttl;
            f.aux = match (legacy, t) {
                (true, _) => g.blob.expect("checked"),
                (false, T::Stream) => meta.offset,
                _ => crate::adapters::frag::NO_ENTRY,
            };
            f.commit_ts = members
                .iter()
                .chain(metas)
                .chain(ttl_row.as_ref())
                .chain(g.blob.as_ref().filter(|_| legacy))
                .map(|&o| commit_ts_at(data, o))
                .max()
                .unwrap_or(0);
            files.push((g.key, f));
        }
        (files, type_warnings)
    }
}

/// Stream entries without a meta row: live reads see no stream, so
/// upstream writes no file and says so.
fn stream_without_meta(key: &[u8], entries: usize) -> Warning {
    warning(
        "redis_stream_orphan_entries_without_meta",
        vec![
            ("user_key_len", key.len().to_string()),
            ("observed_entries", entries.to_string()),
            ("hint", "entries without a !stream|meta| row; live reads see no stream, so no file".into()),
        ],
    )
}

/// The warning upstream logs when a collection's meta length plus its
/// deltas differs from the rows present (the file is written anyway).
fn length_mismatch(
    data: &[u8],
    t: T,
    key: &[u8],
    base: Option<i64>,
    deltas: &[u64],
    observed: usize,
) -> Option<Warning> {
    let declared = declared_len(data, t, base, deltas)?;
    if declared == observed as i64 {
        return None;
    }
    let (event, observed_name) = t.mismatch();
    Some(warning(
        event,
        vec![
            ("user_key_len", key.len().to_string()),
            ("declared_len", declared.to_string()),
            (observed_name, observed.to_string()),
            ("hint", "the meta length plus deltas does not match the rows present".into()),
        ],
    ))
}

/// TTL sidecars, in the order upstream appends their lines. Their keys
/// are noted for `KEYMAP.jsonl`, which is why this runs before it.
fn emit_ttl_sidecars(data: &[u8], sink: &mut Sink<'_>, out: &mut Output) -> Result<(), TreeError> {
    for (i, name) in [(0usize, &b"strings_ttl.jsonl"[..]), (1, b"hll_ttl.jsonl")] {
        let mut lines = std::mem::take(&mut out.ttl_lines[i]);
        if lines.is_empty() {
            continue;
        }
        lines.sort_unstable();
        for &off in &lines {
            if keys::user_key_at(data, off).starts_with(b"!redis|ttl|") {
                let k = &user_key_at(data, off)[b"!redis|ttl|".len()..];
                let (seg, _) = out.name(k, b"");
                out.keymap_stream(off, k, &seg);
            }
        }
        let commit_ts = lines.iter().map(|&o| commit_ts_at(data, o)).max().unwrap_or(0);
        let len = lines.len();
        let arena = sink.side.frags.add_arena(lines);
        let kind = if i == 0 { Kind::StringsTtl } else { Kind::HllTtl };
        let mut f = FragFile::new(FragKind::Redis(kind), arena, 0, len);
        f.commit_ts = commit_ts;
        let n = sink.side.frags.add(f);
        let db = out.db_dir(sink)?;
        sink.tree.file(db, name, View::Frag(n), SIZE_UNKNOWN, 0)?;
    }
    Ok(())
}

/// `KEYMAP.jsonl`, last: it lists the fallback names of every file above.
fn emit_keymap(sink: &mut Sink<'_>, out: &mut Output) -> Result<(), TreeError> {
    let keymap = out.keymap();
    if !keymap.is_empty() {
        let len = keymap.len() as u64;
        let idx = sink.side.add_static(keymap);
        let db = out.db_dir(sink)?;
        sink.tree.file(db, b"KEYMAP.jsonl", View::Static(idx), len, 0)?;
    }
    Ok(())
}

/// The bytes a `strings/` or `hll/` file shows: the value without its
/// TTL header. `None` if the header is malformed (checked while indexing).
pub(crate) fn blob_payload<'a>(user_key: &[u8], body: &'a [u8]) -> Option<&'a [u8]> {
    let version = if user_key.starts_with(b"!redis|hll|") { 2 } else { 1 };
    keys::parse_blob(body, version).ok().map(|b| &body[b.payload_at..])
}

const STR: u16 = 1 << 8;
const HLL: u16 = 1 << 9;
const ZSET_BLOB: u16 = 1 << 10;

fn t_bit(t: T) -> u16 {
    1 << t.slot()
}

/// What one `!redis|ttl|` key turned out to be.
#[derive(Default)]
struct TtlSlot {
    offset: u64,
    kinds: u16,
    /// [string, HLL]: the value's header owns the TTL.
    inline_owned: [bool; 2],
    /// The group of each collection type with this key.
    target: [u32; 5],
}

fn warning(event: &'static str, fields: Vec<(&'static str, String)>) -> Warning {
    Warning { event, fields }
}

fn entry_body(data: &[u8], off: u64) -> &[u8] {
    crate::container::entry_at(data, off).expect("offset from the scan").body
}

/// The user key a record of list `l` (0 members, 1 metas, 2 deltas,
/// 3 zset blobs) belongs to.
fn group_key(data: &[u8], t: T, l: usize, off: u64) -> &[u8] {
    let uk = user_key_at(data, off);
    let (member, meta, delta) = t.prefixes();
    match (l, t) {
        (0, T::List) => &uk[member..uk.len() - 8],
        (1, T::List) => &uk[meta..],
        (3, _) => zset_blob_key(data, off),
        (l, _) => {
            let prefix = [member, meta, delta][l];
            parse_lp(&uk[prefix..]).map_or(&[][..], |(k, _)| k)
        }
    }
}

fn zset_blob_key(data: &[u8], off: u64) -> &[u8] {
    &user_key_at(data, off)[b"!redis|zset|".len()..]
}

/// The order collections are joined in: the byte order of the key as the
/// family encodes it (length first for length-prefixed keys).
fn cmp_group(t: T, a: &[u8], b: &[u8]) -> Ordering {
    if t.length_prefixed() {
        a.len().cmp(&b.len()).then_with(|| a.cmp(b))
    } else {
        a.cmp(b)
    }
}

/// Sorts members into file order (by key, then field / member / sequence /
/// stream ID), and metas and deltas by key (stable: stream order within a
/// key). Input is in stream order, which is nearly sorted already.
fn sort_family(data: &[u8], t: T, fam: &mut Family) {
    if t.length_prefixed() {
        // LP(k)‖suffix: byte order groups by key and orders the suffix.
        fam.members.sort_by(|&a, &b| user_key_at(data, a).cmp(user_key_at(data, b)));
    } else {
        fam.members.sort_by(|&a, &b| {
            let (x, y) = (user_key_at(data, a), user_key_at(data, b));
            let (kx, sx) = x[b"!lst|itm|".len()..].split_at(x.len() - b"!lst|itm|".len() - 8);
            let (ky, sy) = y[b"!lst|itm|".len()..].split_at(y.len() - b"!lst|itm|".len() - 8);
            kx.cmp(ky).then_with(|| sx.cmp(sy))
        });
    }
    let (_, _, delta) = t.prefixes();
    fam.deltas.retain(|&off| {
        let uk = user_key_at(data, off);
        let is_list = t == T::List;
        crate::container::entry_at(data, off).and_then(|e| keys::delta(e.body, is_list)).is_some()
            && parse_lp(&uk[delta..]).is_some()
    });
    fam.metas.sort_by(|&a, &b| cmp_group(t, group_key(data, t, 1, a), group_key(data, t, 1, b)));
    fam.deltas.sort_by(|&a, &b| cmp_group(t, group_key(data, t, 2, a), group_key(data, t, 2, b)));
}

/// One collection: its user key and its runs in each sorted list.
struct Group<'d> {
    key: &'d [u8],
    members: Range<usize>,
    metas: Range<usize>,
    deltas: Range<usize>,
    /// The legacy zset blob for this key.
    blob: Option<u64>,
}

impl Group<'_> {
    /// Upstream keeps a state for a key once a member, meta or blob row
    /// arrives; deltas alone create none.
    fn has_state(&self) -> bool {
        !self.members.is_empty() || !self.metas.is_empty() || self.blob.is_some()
    }
}

fn merge_groups<'d>(data: &'d [u8], t: T, fam: &Family, blobs: &[u64]) -> Vec<Group<'d>> {
    let lists: [&[u64]; 4] = [&fam.members, &fam.metas, &fam.deltas, blobs];
    let mut at = [0usize; 4];
    let mut out = Vec::new();
    loop {
        let mut min: Option<&'d [u8]> = None;
        for l in 0..4 {
            if let Some(&off) = lists[l].get(at[l]) {
                let k = group_key(data, t, l, off);
                if min.is_none_or(|m| cmp_group(t, k, m) == Ordering::Less) {
                    min = Some(k);
                }
            }
        }
        let Some(key) = min else { break };
        let mut runs: [Range<usize>; 4] = Default::default();
        for l in 0..4 {
            let start = at[l];
            while lists[l].get(at[l]).is_some_and(|&off| group_key(data, t, l, off) == key) {
                at[l] += 1;
            }
            runs[l] = start..at[l];
        }
        let [members, metas, deltas, blob] = runs;
        // One blob per key (its key is the whole user key); keep the last.
        let blob = blob.last().map(|i| blobs[i]);
        out.push(Group { key, members, metas, deltas, blob });
    }
    out
}

/// The meta fields upstream keeps: the last meta's length and the last
/// inline TTL field (whose presence makes the TTL meta-owned).
struct MetaInfo {
    len: Option<i64>,
    inline_ttl: Option<u64>,
    /// The last meta entry (streams render their `_meta` line from it).
    offset: u64,
}

fn last_meta(data: &[u8], t: T, metas: &[u64]) -> MetaInfo {
    let mut m = MetaInfo { len: None, inline_ttl: None, offset: crate::adapters::frag::NO_ENTRY };
    for &off in metas {
        let body = crate::container::entry_at(data, off).expect("offset from the scan").body;
        let meta = match t {
            T::List => keys::list_meta(body),
            T::Stream => keys::stream_meta(body).map(|s| s.meta),
            _ => keys::count_meta(body),
        }
        .expect("validated while indexing");
        m.len = Some(meta.len);
        if meta.inline_ttl.is_some() {
            m.inline_ttl = meta.inline_ttl;
        }
        m.offset = off;
    }
    m
}

/// The length a collection should have: base meta plus every delta.
/// `None` when nothing declares one (no meta, no delta).
fn declared_len(data: &[u8], t: T, base: Option<i64>, deltas: &[u64]) -> Option<i64> {
    if base.is_none() && deltas.is_empty() {
        return None;
    }
    let sum = deltas.iter().fold(0i64, |acc, &off| {
        acc.wrapping_add(keys::delta(entry_body(data, off), t == T::List).expect("filtered"))
    });
    Some(base.unwrap_or(0).wrapping_add(sum))
}

fn check_stream_entry(data: &[u8], off: u64) -> Option<RecordError> {
    let e = crate::container::entry_at(data, off)?;
    keys::stream_fields(e.body)
        .err()
        .map(|d| RecordError::new(ErrorKind::RedisInvalidStreamEntry, off, e.user_key, d))
}

/// Finalize's running state: directories, KEYMAP, sidecar lines, counts.
#[derive(Default)]
struct Output {
    db: Option<DirId>,
    subdirs: Vec<(&'static [u8], DirId)>,
    /// SHA-fallback names written while streaming (offset order) and at
    /// finalize (collection order).
    keymap_stream: Vec<(u64, Vec<u8>, Vec<u8>)>,
    keymap_final: Vec<(Vec<u8>, Vec<u8>)>,
    /// Entries that produce a `strings_ttl.jsonl` / `hll_ttl.jsonl` line.
    ttl_lines: [Vec<u64>; 2],
    counts: RedisCounts,
}

impl Output {
    fn db_dir(&mut self, sink: &mut Sink<'_>) -> Result<DirId, TreeError> {
        if let Some(d) = self.db {
            return Ok(d);
        }
        let redis = sink.tree.dir(TreeBuilder::ROOT, b"redis")?;
        let d = sink.tree.dir(redis, b"db_0")?;
        self.db = Some(d);
        Ok(d)
    }

    fn sub_dir(&mut self, sink: &mut Sink<'_>, name: &'static [u8]) -> Result<DirId, TreeError> {
        if let Some(&(_, d)) = self.subdirs.iter().find(|(n, _)| *n == name) {
            return Ok(d);
        }
        let db = self.db_dir(sink)?;
        let d = sink.tree.dir(db, name)?;
        self.subdirs.push((name, d));
        Ok(d)
    }

    /// `EncodeSegment(key) ‖ ext`, and the segment's length.
    fn name(&self, key: &[u8], ext: &[u8]) -> (Vec<u8>, usize) {
        let mut name = Vec::with_capacity(key.len() + ext.len());
        let seg = Self::name_into(key, ext, &mut name);
        (name, seg)
    }

    /// [`Self::name`] into a reused buffer.
    fn name_into(key: &[u8], ext: &[u8], name: &mut Vec<u8>) -> usize {
        name.clear();
        encode_segment_into(key, name);
        let seg = name.len();
        name.extend_from_slice(ext);
        seg
    }

    fn is_fallback(seg: &[u8]) -> bool {
        std::str::from_utf8(seg).is_ok_and(is_sha_fallback_name)
    }

    /// Notes a name written while streaming (at snapshot offset `off`).
    fn keymap_stream(&mut self, off: u64, key: &[u8], seg: &[u8]) {
        if Self::is_fallback(seg) {
            self.keymap_stream.push((off, seg.to_vec(), key.to_vec()));
        }
    }

    /// Notes a collection file's name (written at finalize).
    fn keymap_collection(&mut self, key: &[u8], seg: &[u8]) {
        if Self::is_fallback(seg) {
            self.keymap_final.push((seg.to_vec(), key.to_vec()));
        }
    }

    /// `KEYMAP.jsonl`: one line per fallback name, in upstream's write
    /// order (streaming phase by snapshot position, then collections),
    /// without upstream's repeated lines.
    fn keymap(&mut self) -> Vec<u8> {
        self.keymap_stream.sort_by_key(|e| e.0);
        let mut seen: HashSet<Vec<u8>> = HashSet::new();
        let mut out = Vec::new();
        let lines = self
            .keymap_stream
            .iter()
            .map(|(_, s, k)| (s, k))
            .chain(self.keymap_final.iter().map(|(s, k)| (s, k)));
        for (seg, key) in lines {
            if seen.insert(seg.clone()) {
                super::s3::render::keymap_line(&mut out, seg, &b64url_nopad(key), "sha-fallback");
            }
        }
        out
    }

    fn count(&mut self, t: T) -> &mut u64 {
        match t {
            T::Hash => &mut self.counts.hashes,
            T::List => &mut self.counts.lists,
            T::Set => &mut self.counts.sets,
            T::Zset => &mut self.counts.zsets,
            T::Stream => &mut self.counts.streams,
        }
    }
}
impl super::Collect for Collector {
    fn handle(
        &mut self,
        family: crate::adapters::route::Family,
        prefix_len: usize,
        e: &Entry<'_>,
    ) -> Result<(), RecordError> {
        match family {
            crate::adapters::route::Family::Redis(f) => Collector::handle(self, f, prefix_len, e),
            _ => unreachable!("the registry routes only Redis families here"),
        }
    }

    fn finalize(
        self: Box<Self>,
        data: &[u8],
        sink: &mut Sink<'_>,
        counts: &mut super::Counts,
    ) -> Result<Vec<RecordError>, AdapterError> {
        let (deferred, types) = Collector::finalize(*self, data, sink)?;
        counts.redis_types = types;
        Ok(deferred)
    }
}
