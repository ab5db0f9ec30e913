//! S3: `s3/<bucket>/_bucket.json`, object bodies and their
//! `.elastickv-meta.json` sidecars back to bucket meta, generation,
//! manifest and blob rows (`pack.md` §9, `dynamodb-s3.md` B9).
//!
//! Bodies are not read here: each 1 MiB chunk becomes a sorted entry that
//! refers to a byte range of the body file, copied when the output is
//! written. Collision renames (`*.elastickv-leaf-data`, `*.user-data`,
//! SHA-fallback names) are reversed through the bucket's `KEYMAP.jsonl`;
//! a leaf-data rename no object of the payload needs any more (orphans
//! forced it) is noted for the self-test, as the next decode undoes it.
//!
//! Beyond upstream: a sidecar without its body, files directly under
//! `s3/`, `_orphans/` and `_incomplete_uploads/` (which the manifest guard
//! already says the decoder did not write) and names the decoder cannot
//! produce (a backslash) are refused instead of skipped or reported later.

use std::collections::HashMap;

use std::sync::Arc;

use super::records::{
    s3_restore_blob_key, s3_restore_bucket_records, s3_restore_chunk_sizes, s3_restore_manifest_record,
    SidecarDef, S3_RESTORE_CHUNK_SIZE,
};
use crate::adapters::canonical::is_leaf_data_of;
use crate::adapters::packing::Ctx;
use crate::adapters::s3::{LEAF_DATA_SUFFIX, META_SUFFIX};
use crate::codec::gostruct::GoObject;
use crate::codec::hlctime::parse_rfc3339_to_hlc;
use crate::dumptree::fsio::{kind_beneath, Dir, FileError, FileId, Kind, HELD_LEVELS};
use crate::dumptree::join;
use crate::dumptree::par::{with_pipeline, Job, Pipeline};
use crate::dumptree::FileRef;
use crate::dumptree::{tree_error, Why, MAX_DOCUMENT};
use crate::exit::Failure as PackError;
use crate::keys::keymap;
use crate::keys::segment::encode_segment;

const KEYMAP: &[u8] = b"KEYMAP.jsonl";
const BUCKET_JSON: &[u8] = b"_bucket.json";
const RESERVED_DIRS: [&[u8]; 2] = [b"_orphans", b"_incomplete_uploads"];

pub(crate) fn encode(root: &Dir, ctx: &mut Ctx) -> Result<(), PackError> {
    let rel = b"s3".to_vec();
    for e in root.entries().map_err(|e| ctx.io(&rel, e))? {
        let e = e.map_err(|e| ctx.io(&rel, e))?;
        let path = join(&rel, &e.name);
        if e.kind != Kind::Dir {
            return Err(
                ctx.tree(&path, format!("is {}; only bucket directories belong in s3/", e.kind.describe()))
            );
        }
        let dir = root.open_dir(&e.name).map_err(|err| ctx.io(&path, err))?;
        bucket(dir, &path, &e.name, ctx)?;
    }
    Ok(())
}

/// A bucket's rename tracker: encoded (renamed) path → original key.
type Renames = HashMap<Vec<u8>, Vec<u8>>;

fn bucket(dir: Dir, rel: &[u8], dir_name: &[u8], ctx: &mut Ctx) -> Result<(), PackError> {
    let meta_path = join(rel, BUCKET_JSON);
    let bytes = dir.read_file(BUCKET_JSON, MAX_DOCUMENT).map_err(|e| match e {
        FileError::Missing => ctx.tree(
            &meta_path,
            "missing: every bucket directory needs its _bucket.json (a bucket decoded without its meta record cannot be packed)",
        ),
        e => ctx.file(&meta_path, e),
    })?;
    ctx.walked();
    let m = GoObject::parse(&bytes).map_err(|d| ctx.tree(&meta_path, d))?;
    let name = m.str("name").map_err(|d| ctx.tree(&meta_path, d))?;
    let owner = m.str("owner").map_err(|d| ctx.tree(&meta_path, d))?;
    let region = m.str("region").map_err(|d| ctx.tree(&meta_path, d))?;
    let acl = m.str("acl").map_err(|d| ctx.tree(&meta_path, d))?;
    for f in ["creation_time_iso", "versioning", "policy_json"] {
        m.str(f).map_err(|d| ctx.tree(&meta_path, d))?;
    }
    let version = m.u32("format_version").map_err(|d| ctx.tree(&meta_path, d))?;
    if version != 1 {
        return Err(ctx.tree(&meta_path, format!("unsupported format_version {version}")));
    }
    if name.is_empty() {
        return Err(ctx.tree(&meta_path, "empty bucket name"));
    }
    let want = encode_segment(name.as_bytes());
    if want.as_bytes() != dir_name {
        return Err(
            ctx.tree(&meta_path, format!("bucket name {name:?} belongs in directory s3/{want}, not here"))
        );
    }
    for r in s3_restore_bucket_records(name.as_bytes(), &owner, &region, &acl) {
        ctx.add(&meta_path, &r.key, &r.value)?;
    }
    let tracker = join(rel, KEYMAP);
    let (renames, leaf_data) = if is_tracker(&dir).map_err(|e| ctx.io(rel, e))? {
        ctx.canonical.s3_tracker(&tracker);
        let (r, l) = load_renames(&dir, &tracker, ctx)?;
        (Some(r), l)
    } else {
        (None, LeafData::default())
    };
    let b =
        Bucket { name: name.as_bytes(), rel, renames: renames.as_ref(), display: ctx.tree_display.clone() };
    let leaf_data = b.walk_all(dir, leaf_data, ctx)?;
    // A rename the payload no longer needs is one the next decode does
    // not make (`pack.md` §11.2): the self-test expects the natural name.
    let records = renames.as_ref().map_or(0, HashMap::len);
    for (original, (encoded, needed)) in leaf_data.0 {
        if !needed {
            ctx.canonical.leaf_data_unneeded(rel, &tracker, &encoded, &original, records);
        }
    }
    Ok(())
}

/// The tracker's `s3-leaf-data` records a decoder writes (`encoded` =
/// `original` + the suffix): original key → (encoded path, whether an
/// object key of the payload lies under `original/`, which is what makes
/// the decoder rename it).
#[derive(Default)]
struct LeafData(HashMap<Vec<u8>, (Vec<u8>, bool)>);

impl LeafData {
    /// Notes object key `key`: every directory prefix of it is needed.
    fn saw(&mut self, key: &[u8]) {
        if self.0.is_empty() {
            return;
        }
        for (i, _) in key.iter().enumerate().filter(|(_, &b)| b == b'/') {
            if let Some((_, needed)) = self.0.get_mut(&key[..i]) {
                *needed = true;
            }
        }
    }
}

/// `KEYMAP.jsonl` at the bucket top is the rename tracker unless it has a
/// sidecar of its own (then it is a user object named `KEYMAP.jsonl`).
fn is_tracker(dir: &Dir) -> std::io::Result<bool> {
    if dir.kind(KEYMAP)? != Some(Kind::File) {
        return Ok(false);
    }
    let sidecar = [KEYMAP, META_SUFFIX].concat();
    Ok(dir.kind(&sidecar)? != Some(Kind::File))
}

fn segments_ok(p: &[u8]) -> bool {
    !p.split(|&b| b == b'/').any(|s| s.is_empty() || s == b"." || s == b"..")
}

/// Loads and checks the tracker (`pack.md` §9.3): strict lines, no
/// duplicate `encoded`, kinds and suffixes consistent, every target an
/// existing regular file. Also returns its leaf-data records.
fn load_renames(dir: &Dir, path: &[u8], ctx: &mut Ctx) -> Result<(Renames, LeafData), PackError> {
    let bytes = dir.read_file(KEYMAP, MAX_DOCUMENT).map_err(|e| ctx.file(path, e))?;
    ctx.walked();
    let bad = |d: String| ctx.tree(path, d);
    let mut out = Renames::new();
    let mut leaf_data = LeafData::default();
    for r in keymap::parse(&bytes).map_err(bad)? {
        let at = |d: String| bad(format!("line {}: {d}", r.line));
        let enc = r.encoded.as_bytes();
        if out.contains_key(enc) {
            return Err(at(format!("duplicate encoded path {:?}", r.encoded)));
        }
        if !matches!(r.kind.as_str(), "s3-leaf-data" | "meta-suffix-rename" | "sha-fallback") {
            return Err(at(format!("unknown kind {:?}", r.kind)));
        }
        if enc.contains(&b'\\') || !segments_ok(enc) {
            return Err(at(format!("encoded path {:?} is not a clean relative path", r.encoded)));
        }
        let last = enc.rsplit(|&b| b == b'/').next().unwrap_or(enc);
        let first = enc.split(|&b| b == b'/').next().unwrap_or(enc);
        if last.ends_with(META_SUFFIX)
            || enc == BUCKET_JSON
            || enc == KEYMAP
            || RESERVED_DIRS.contains(&first)
        {
            return Err(at(format!("encoded path {:?} names a file the walk skips", r.encoded)));
        }
        let orig = &r.original;
        if orig.is_empty() {
            return Err(at(format!("empty original key for {:?}", r.encoded)));
        }
        if orig.contains(&0) || orig.contains(&b'\\') || !segments_ok(orig) {
            return Err(at(format!(
                "original key {:?} is not a valid object path",
                String::from_utf8_lossy(orig)
            )));
        }
        let ofirst = orig.split(|&b| b == b'/').next().unwrap_or(orig);
        if RESERVED_DIRS.contains(&ofirst) {
            return Err(at(format!(
                "original key {:?} is under a reserved directory",
                String::from_utf8_lossy(orig)
            )));
        }
        if r.kind == "s3-leaf-data" && !enc.ends_with(LEAF_DATA_SUFFIX) {
            return Err(at(format!(
                "s3-leaf-data record {:?} lacks the .elastickv-leaf-data suffix",
                r.encoded
            )));
        }
        if r.kind == "meta-suffix-rename" && !orig.ends_with(META_SUFFIX) {
            return Err(at(
                "meta-suffix-rename record whose original does not end in .elastickv-meta.json".into()
            ));
        }
        if r.kind == "s3-leaf-data" && is_leaf_data_of(enc, orig) {
            leaf_data.0.insert(orig.clone(), (enc.to_vec(), false));
        }
        out.insert(enc.to_vec(), r.original);
    }
    let mut targets: Vec<&Vec<u8>> = out.keys().collect();
    targets.sort();
    for enc in targets {
        match kind_beneath(dir, enc).map_err(|e| ctx.io(path, e))? {
            Some(Kind::File) => {}
            Some(k) => {
                return Err(bad(format!(
                    "record {:?} points at {}, not a regular file",
                    String::from_utf8_lossy(enc),
                    k.describe()
                )))
            }
            None => {
                return Err(bad(format!(
                    "record {:?} points at no file in the bucket",
                    String::from_utf8_lossy(enc)
                )))
            }
        }
    }
    Ok((out, leaf_data))
}

struct Bucket<'a> {
    name: &'a [u8],
    /// `s3/<dir>`.
    rel: &'a [u8],
    renames: Option<&'a Renames>,
    display: String,
}

/// A file of the bucket to look at on a worker thread.
enum Item {
    /// An object body at this bucket-relative path.
    Body(Vec<u8>),
    /// A sidecar: only check that its body exists (`top`: at the bucket top).
    Sidecar { body: Vec<u8>, top: bool },
}

/// What a worker found for a file: for a body, its sidecar and identity.
type Found = Option<(SidecarDef, FileId)>;

impl Bucket<'_> {
    /// Sidecars are read and bodies checked on the worker threads; the
    /// records are added here, in file order.
    /// Returns `leaf_data` with what the objects need marked.
    fn walk_all(&self, dir: Dir, mut leaf_data: LeafData, ctx: &mut Ctx) -> Result<LeafData, PackError> {
        let display = self.display.as_str();
        with_pipeline(
            |dir, job: &Job<Item>| {
                match &job.extra {
                    Item::Sidecar { body, top } => check_sidecar(dir, body, *top).map(|()| None),
                    Item::Body(_) => read_object(dir, &job.name).map(Some),
                }
                .map_err(|(sidecar, d)| {
                    let rel = if sidecar { [&job.rel[..], META_SUFFIX].concat() } else { job.rel.clone() };
                    tree_error(display, &rel, d)
                })
            },
            |p| {
                let mut done = |job: &Job<Item>, found: Found| {
                    let (Item::Body(child), Some((side, id))) = (&job.extra, found) else { return Ok(()) };
                    ctx.walked();
                    let key = self.key(child);
                    leaf_data.saw(key);
                    self.add_object(key, &job.rel, side, id, ctx)
                };
                self.walk(Arc::new(dir), &[], 0, p, &mut done)?;
                p.finish(&mut done)
            },
        )?;
        Ok(leaf_data)
    }

    /// The object key of the body at bucket-relative path `child`.
    fn key<'k>(&'k self, child: &'k [u8]) -> &'k [u8] {
        self.renames.and_then(|r| r.get(child)).map_or(child, Vec::as_slice)
    }

    fn err(&self, rel: &[u8], detail: impl std::fmt::Display + 'static) -> PackError {
        tree_error(&self.display, rel, detail)
    }

    /// Walks one directory of the bucket; `sub` is its path below the
    /// bucket (empty at the top), `depth` its level. Files go to the
    /// pipeline, then subdirectories are walked (descriptors stay bounded:
    /// `fsio` module docs). Returns the handle of `dir` (reopened, below
    /// `HELD_LEVELS`).
    fn walk(
        &self,
        dir: Arc<Dir>,
        sub: &[u8],
        depth: usize,
        p: &mut Pipeline<Item, Found>,
        done: &mut impl FnMut(&Job<Item>, Found) -> Result<(), PackError>,
    ) -> Result<Arc<Dir>, PackError> {
        let here = join(self.rel, sub);
        let top = sub.is_empty();
        let mut at = None;
        let mut subdirs = Vec::new();
        for e in dir.entries().map_err(|e| self.err(&here, e))? {
            let e = e.map_err(|e| self.err(&here, e))?;
            let child = join(sub, &e.name);
            let path = join(self.rel, &child);
            if e.name.contains(&b'\\') {
                return Err(self
                    .err(&path, "contains a backslash, which the decoder never writes into an object path"));
            }
            let item = match e.kind {
                Kind::Dir if top && RESERVED_DIRS.contains(&e.name.as_slice()) => {
                    return Err(self.err(
                        &path,
                        "is reserved for the decoder's --include-orphans/--include-incomplete-uploads output, which pack cannot rebuild (and MANIFEST.json says the tree has none); a user object under it cannot be restored either",
                    ));
                }
                Kind::Dir => {
                    subdirs.push(e.name);
                    continue;
                }
                Kind::File if top && e.name == BUCKET_JSON => continue,
                Kind::File if top && e.name == KEYMAP && self.renames.is_some() => continue,
                Kind::File => match e.name.strip_suffix(META_SUFFIX) {
                    Some(body) => Item::Sidecar { body: body.to_vec(), top },
                    None => Item::Body(child),
                },
                k => {
                    return Err(self.err(
                        &path,
                        format!("is {}; a bucket holds only regular files and directories", k.describe()),
                    ))
                }
            };
            let i = *at.get_or_insert_with(|| p.add_dir(dir.clone()));
            if p.push(i, e.name, path, item, 0) {
                p.submit(done)?;
                at = None;
            }
        }
        let reopen = depth >= HELD_LEVELS && !subdirs.is_empty();
        let id = if reopen { Some(dir.identity().map_err(|e| self.err(&here, e))?) } else { None };
        let mut dir = dir;
        for name in subdirs {
            let child = join(sub, &name);
            let d = dir.open_dir(&name).map_err(|err| self.err(&join(self.rel, &child), err))?;
            let Some(id) = id else {
                self.walk(Arc::new(d), &child, depth + 1, p, done)?;
                continue;
            };
            drop(dir);
            let back = self.walk(Arc::new(d), &child, depth + 1, p, done)?;
            dir = Arc::new(back.open_parent(id).map_err(|e| self.err(&here, e))?);
        }
        Ok(dir)
    }

    fn add_object(
        &self,
        key: &[u8],
        path: &[u8],
        side: SidecarDef,
        id: FileId,
        ctx: &mut Ctx,
    ) -> Result<(), PackError> {
        let sizes = s3_restore_chunk_sizes(id.size);
        for (chunk, &len) in (0u64..).zip(&sizes) {
            let r = FileRef { path, id, offset: chunk * S3_RESTORE_CHUNK_SIZE as u64, len: len as u32 };
            ctx.add_file(path, &s3_restore_blob_key(self.name, key, chunk), r)?;
        }
        let m = s3_restore_manifest_record(self.name, key, &side, &sizes);
        ctx.add(&[path, META_SUFFIX].concat(), &m.key, &m.value)
    }
}

/// A sidecar is read with its body; here only check that it has one.
/// (The job's path is the sidecar's own, so errors are `(false, why)`.)
fn check_sidecar(dir: &Dir, body: &[u8], top: bool) -> Result<(), (bool, Why)> {
    let fail = |d: &str| Err((false, Why::from(d)));
    if top && body == BUCKET_JSON {
        return fail("an object named _bucket.json collides with the bucket descriptor and cannot be packed");
    }
    if body.ends_with(META_SUFFIX) {
        return fail(
            "sidecar of a sidecar: an object key ending in .elastickv-meta.json must be decoded with --rename-collisions",
        );
    }
    match dir.kind(body) {
        Ok(Some(Kind::File)) => Ok(()),
        Ok(Some(k)) if k != Kind::Dir => Ok(()), // the body itself is refused when walked
        Ok(_) => fail("sidecar without an object body next to it"),
        Err(e) => Err((false, e.into())),
    }
}

/// Reads and checks an object's sidecar and stats its body (not read here:
/// its chunks are copied when the output is written). `Err((true, why))`
/// names the sidecar, `Err((false, why))` the body.
fn read_object(dir: &Dir, name: &[u8]) -> Result<(SidecarDef, FileId), (bool, Why)> {
    let side_name = [name, META_SUFFIX].concat();
    let bytes = dir.read_file(&side_name, MAX_DOCUMENT).map_err(|e| match e {
        FileError::Missing => (false, "object body without its .elastickv-meta.json sidecar".into()),
        e => (true, e.into()),
    })?;
    let side = parse_sidecar(&bytes).map_err(|d| (true, d.into()))?;
    let id = dir.stat_file(name).map_err(|e| (false, e.into()))?;
    if u64::try_from(side.size_bytes).ok() != Some(id.size) {
        return Err((
            true,
            format!("size_bytes {} but the body has {} bytes", side.size_bytes, id.size).into(),
        ));
    }
    Ok((side, id))
}

/// An object sidecar (`dynamodb-s3.md` B5.2) → the fields the manifest
/// copies.
pub(crate) fn parse_sidecar(bytes: &[u8]) -> Result<SidecarDef, String> {
    let s = GoObject::parse(bytes)?;
    let side = SidecarDef {
        etag: s.str("etag")?,
        size_bytes: s.i64("size_bytes")?,
        last_modified_hlc: parse_rfc3339_to_hlc(&s.str("last_modified")?),
        content_type: s.str("content_type")?,
        content_encoding: s.str("content_encoding")?,
        cache_control: s.str("cache_control")?,
        content_disposition: s.str("content_disposition")?,
        user_metadata: s.str_map("user_metadata")?,
    };
    let version = s.u32("format_version")?;
    if version != 1 {
        return Err(format!("unsupported format_version {version}"));
    }
    Ok(side)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sidecars() {
        let s = parse_sidecar(br#"{"format_version":1,"etag":"e","size_bytes":3,"last_modified":"2024-04-29T14:13:20.123Z","user_metadata":{"b":"2","a":"1"}}"#).unwrap();
        assert_eq!(s.size_bytes, 3);
        assert_eq!(s.last_modified_hlc, 1714400000123 << 16);
        assert_eq!(s.user_metadata, Some(vec![("a".into(), "1".into()), ("b".into(), "2".into())]));
        let s = parse_sidecar(br#"{"format_version":1,"last_modified":"garbage"}"#).unwrap();
        assert_eq!((s.size_bytes, s.last_modified_hlc, s.user_metadata), (0, 0, None));
        assert!(parse_sidecar(br#"{"format_version":2}"#).unwrap_err().contains("format_version 2"));
        assert!(parse_sidecar(br#"{"format_version":1,"size_bytes":"3"}"#).is_err());
        assert!(parse_sidecar(br#"{"format_version":1,"user_metadata":{"a":1}}"#).is_err());
    }
}
