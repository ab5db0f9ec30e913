//! S3 decode side (`dynamodb-s3.md` Part B): bucket metadata, object
//! manifests and their blob / offloaded chunks become `s3/<bucket>/…`
//! bodies with `.elastickv-meta.json` sidecars.
//!
//! Bodies are never assembled in memory: finalize records, per object, the
//! ordered list of chunk payload ranges in the mapping, and reads copy from
//! there.

mod body;
pub(crate) mod keys;
pub(crate) mod pack;
pub mod records;
pub(crate) mod render;

pub(crate) use body::{BodyError, BodyTable};

use std::collections::HashMap;

use super::{AdapterError, ErrorKind, RecordError, Sink};
use crate::adapters::route::Family;
use crate::adapters::s3::keys as k;
use crate::codec::gostruct::GoObject;
use crate::container::{entry_at, Entry};
use crate::keys::segment::{b64url_nopad, encode_segment_into};
use crate::tree::{DirId, TreeBuilder, View, NAME_MAX, SIZE_UNKNOWN};

pub(crate) const META_SUFFIX: &[u8] = b".elastickv-meta.json";
pub(crate) const LEAF_DATA_SUFFIX: &[u8] = b".elastickv-leaf-data";
pub(crate) const USER_DATA_SUFFIX: &[u8] = b".user-data";

/// Decoder options that shape the S3 tree.
#[derive(Debug, Clone, Copy, Default)]
pub struct Options {
    pub include_orphans: bool,
    pub include_incomplete_uploads: bool,
    pub rename_collisions: bool,
}

struct Bucket {
    name: Vec<u8>,
    meta: Option<u64>,
    active_gen: u64,
    objects: Vec<u32>,
    /// Upload records (with `--include-incomplete-uploads`), stream order.
    uploads: Vec<u64>,
}

/// A chunk of an object body: a blob row or an offloaded chunk reference.
#[derive(Clone, Copy)]
struct Chunk {
    offset: u64,
    /// Encoded upload id: absolute range in the mapping.
    upload: (u64, u32),
    part_no: u64,
    chunk_no: u64,
    part_version: u64,
    offloaded: bool,
}

struct Object {
    generation: u64,
    key: Vec<u8>,
    manifest: Option<u64>,
    chunks: Vec<Chunk>,
}

/// (part_no, version, offloaded): how a manifest names a part.
type PartKey = (u64, u64, bool);
/// (chunk_count, chunk_sizes) a manifest declares for a part.
type Declared = (u64, Vec<u64>);

/// The manifest fields that drive assembly.
struct Manifest {
    upload_id: String,
    /// (part_no, version, offloaded) → (chunk_count, chunk_sizes)
    parts: Vec<(PartKey, Declared)>,
}

impl Manifest {
    fn declared(&self, part: PartKey) -> Option<&Declared> {
        // Repeated parts: the last declaration wins, as in a Go map.
        self.parts.iter().rev().find(|(p, _)| *p == part).map(|(_, d)| d)
    }
}

#[derive(Default)]
pub(crate) struct Collector {
    opts: Options,
    buckets: Vec<Bucket>,
    bucket_ix: HashMap<Vec<u8>, u32>,
    objects: Vec<Object>,
    /// Object identity (encoded `seg(bucket) ‖ gen ‖ seg(object)`) → index.
    object_ix: HashMap<Box<[u8]>, u32>,
    last_object: Option<u32>,
    /// Chunkblob digest → entry offset.
    chunkblobs: HashMap<[u8; 32], u64>,
    deferred: Vec<RecordError>,
}

fn malformed(e: &Entry<'_>, detail: impl Into<String>) -> RecordError {
    RecordError::new(ErrorKind::S3MalformedKey, e.offset, e.user_key, detail)
}

/// A malformed-key error naming the record at `offset` and its key.
fn at_record(data: &[u8], offset: Option<u64>, detail: String) -> RecordError {
    match offset.and_then(|o| Some((o, entry_at(data, o)?))) {
        Some((o, e)) => RecordError::new(ErrorKind::S3MalformedKey, o, e.user_key, detail),
        None => RecordError::about(ErrorKind::S3MalformedKey, detail),
    }
}

fn is_dot_or_empty(b: &[u8]) -> bool {
    b.is_empty() || b == b"." || b == b".."
}

impl Collector {
    pub(crate) fn new(opts: Options) -> Self {
        Collector { opts, ..Default::default() }
    }

    fn bucket(&mut self, name: &[u8]) -> u32 {
        if let Some(&b) = self.bucket_ix.get(name) {
            return b;
        }
        let b = self.buckets.len() as u32;
        self.buckets.push(Bucket {
            name: name.to_vec(),
            meta: None,
            active_gen: 0,
            objects: Vec::new(),
            uploads: Vec::new(),
        });
        self.bucket_ix.insert(name.to_vec(), b);
        b
    }

    fn object(&mut self, rest: &[u8], key: &k::ObjectKey) -> u32 {
        let ident = &rest[..key.ident_end];
        if let Some(o) = self.last_object.filter(|&o| {
            let ob = &self.objects[o as usize];
            ob.generation == key.generation && self.object_ix.get(ident) == Some(&o)
        }) {
            return o;
        }
        let o = match self.object_ix.get(ident) {
            Some(&o) => o,
            None => {
                let bucket = self.bucket(&k::unescape(&rest[key.bucket.0..key.bucket.1]));
                let o = self.objects.len() as u32;
                self.objects.push(Object {
                    generation: key.generation,
                    key: k::unescape(&rest[key.object.0..key.object.1]),
                    manifest: None,
                    chunks: Vec::new(),
                });
                self.buckets[bucket as usize].objects.push(o);
                self.object_ix.insert(ident.into(), o);
                o
            }
        };
        self.last_object = Some(o);
        o
    }

    pub(crate) fn handle(
        &mut self,
        family: Family,
        prefix_len: usize,
        e: &Entry<'_>,
    ) -> Result<(), RecordError> {
        let rest = &e.user_key[prefix_len..];
        // Absolute offset of `rest` in the mapping: entry offset + keyLen
        // field + prefix.
        let rest_at = e.offset + 8 + prefix_len as u64;
        match family {
            Family::S3BucketMeta => {
                let end = k::parse_bucket_meta(rest).ok_or_else(|| malformed(e, "bucket meta key"))?;
                let meta = GoObject::parse(e.body)
                    .and_then(|m| m.u64("generation"))
                    .map_err(|d| RecordError::new(ErrorKind::S3InvalidBucketMeta, e.offset, e.user_key, d))?;
                let b = self.bucket(&k::unescape(&rest[..end]));
                self.buckets[b as usize].meta = Some(e.offset);
                self.buckets[b as usize].active_gen = meta;
            }
            Family::S3ObjectManifest => {
                let key = k::parse_manifest(rest).ok_or_else(|| malformed(e, "manifest key"))?;
                parse_manifest(e.body)
                    .map_err(|d| RecordError::new(ErrorKind::S3InvalidManifest, e.offset, e.user_key, d))?;
                let o = self.object(rest, &key);
                self.objects[o as usize].manifest = Some(e.offset);
            }
            Family::S3Blob | Family::S3ChunkRef => {
                let key = k::parse_chunk(rest).ok_or_else(|| {
                    malformed(e, if family == Family::S3Blob { "blob key" } else { "chunkref key" })
                })?;
                let offloaded = family == Family::S3ChunkRef;
                if offloaded {
                    k::parse_chunkref_value(e.body).ok_or_else(|| {
                        RecordError::new(
                            ErrorKind::S3InvalidChunkRef,
                            e.offset,
                            e.user_key,
                            "undecodable chunk reference",
                        )
                    })?;
                } else {
                    // Upstream refuses these while spilling, even for chunks
                    // that would later be ignored.
                    let bucket = &rest[key.object.bucket.0..key.object.bucket.1];
                    let object = &rest[key.object.object.0..key.object.object.1];
                    if is_dot_or_empty(bucket) || is_dot_or_empty(object) {
                        return Err(malformed(e, "bucket or object key is empty or a dot segment"));
                    }
                }
                let o = self.object(rest, &key.object);
                self.objects[o as usize].chunks.push(Chunk {
                    offset: e.offset,
                    upload: (rest_at + key.upload.0 as u64, (key.upload.1 - key.upload.0) as u32),
                    part_no: key.part_no,
                    chunk_no: key.chunk_no,
                    part_version: key.part_version,
                    offloaded,
                });
            }
            Family::S3ChunkBlob => {
                let digest = k::parse_chunkblob(rest).ok_or_else(|| malformed(e, "chunkblob key"))?;
                // The payload hash is checked lazily (on read, and by
                // `extract` for every blob) so indexing never reads bodies.
                self.chunkblobs.insert(digest, e.offset);
            }
            Family::S3UploadMeta | Family::S3UploadPart => {
                if !self.opts.include_incomplete_uploads {
                    return Ok(());
                }
                let bucket = if family == Family::S3UploadPart {
                    let key = k::parse_upload_part(rest).ok_or_else(|| malformed(e, "upload-family key"))?;
                    k::unescape(&rest[key.bucket.0..key.bucket.1])
                } else {
                    k::upload_meta_bucket(rest).ok_or_else(|| malformed(e, "upload-family key"))?.to_vec()
                };
                if is_dot_or_empty(&bucket) {
                    return Err(malformed(e, "bucket name in upload-family key is empty or a dot segment"));
                }
                let b = self.bucket(&bucket);
                self.buckets[b as usize].uploads.push(e.offset);
            }
            _ => {}
        }
        Ok(())
    }

    pub(crate) fn bucket_count(&self) -> usize {
        self.buckets.len()
    }

    /// Lays every bucket out under `s3/`; returns the deferred errors of
    /// records that produce no file.
    pub(crate) fn finalize(
        mut self,
        data: &[u8],
        sink: &mut Sink<'_>,
    ) -> Result<Vec<RecordError>, AdapterError> {
        let mut order: Vec<u32> = (0..self.buckets.len() as u32).collect();
        order.sort_by(|&a, &b| self.buckets[a as usize].name.cmp(&self.buckets[b as usize].name));
        self.verify_unreferenced_chunkblobs(data);
        for b in order {
            self.flush_bucket(data, b, sink)?;
        }
        Ok(self.deferred)
    }

    fn flush_bucket(&self, data: &[u8], b: u32, sink: &mut Sink<'_>) -> Result<(), AdapterError> {
        let bucket = &self.buckets[b as usize];
        if is_dot_or_empty(&bucket.name) {
            let detail = format!("bucket name {} is empty or a dot segment", show_name(&bucket.name));
            return Err(at_record(data, bucket.meta, detail).into());
        }
        let mut seg = Vec::new();
        encode_segment_into(&bucket.name, &mut seg);
        let s3 = sink.tree.dir(TreeBuilder::ROOT, b"s3")?;
        let dir = sink.tree.dir(s3, &seg)?;
        if let Some(off) = bucket.meta {
            sink.tree.file(dir, b"_bucket.json", View::S3Bucket(off), SIZE_UNKNOWN, 0)?;
        }
        let bucket_name = String::from_utf8_lossy(&bucket.name).into_owned();

        // Split active and stale; without bucket meta every generation is
        // active, and the highest generation of a key takes its path.
        let mut active: Vec<u32> = Vec::new();
        let mut stale: Vec<u32> = Vec::new();
        for &o in &bucket.objects {
            let ob = &self.objects[o as usize];
            if bucket.active_gen != 0 && ob.generation != bucket.active_gen {
                stale.push(o);
            } else {
                active.push(o);
            }
        }
        active.sort_by(|&a, &b| {
            let (x, y) = (&self.objects[a as usize], &self.objects[b as usize]);
            x.key.cmp(&y.key).then(x.generation.cmp(&y.generation))
        });
        let mut shadowed = 0usize;
        let mut placed: Vec<u32> = Vec::with_capacity(active.len());
        for (i, &o) in active.iter().enumerate() {
            let next_same = active
                .get(i + 1)
                .is_some_and(|&n| self.objects[n as usize].key == self.objects[o as usize].key);
            if next_same {
                shadowed += 1;
            } else {
                placed.push(o);
            }
        }
        if shadowed > 0 {
            sink.warn(
                "s3_shadowed_generation_objects",
                vec![
                    ("bucket", bucket_name.clone()),
                    ("shadowed_count", shadowed.to_string()),
                    ("hint", "no bucket meta: the highest generation of each key was kept".into()),
                ],
            );
        }

        let mut dir_prefixes: std::collections::HashSet<&[u8]> = std::collections::HashSet::new();
        let keys: std::collections::HashSet<&[u8]> =
            active.iter().map(|&o| self.objects[o as usize].key.as_slice()).collect();
        for &o in &active {
            let key = &self.objects[o as usize].key;
            for (i, &c) in key.iter().enumerate() {
                if c == b'/' {
                    dir_prefixes.insert(&key[..i]);
                }
            }
        }

        let mut keymap: Vec<(Vec<u8>, &'static str, &[u8])> = Vec::new();
        for &o in &placed {
            let ob = &self.objects[o as usize];
            let Some(manifest_off) = ob.manifest else {
                self.flush_orphan(data, &bucket_name, dir, ob, sink)?;
                continue;
            };
            let (name, kind) = self.object_file_name(&bucket_name, ob, &dir_prefixes, &keys)?;
            safe_relative_path(&name).map_err(|d| at_record(data, Some(manifest_off), d))?;
            let body = self.assemble(data, ob, manifest_off, sink)?;
            let (parent, leaf) = split_parent(&name);
            let parent_dir = if parent.is_empty() { dir } else { sink.tree.dir_path(dir, parent)? };
            let mut sidecar = leaf.to_vec();
            sidecar.extend_from_slice(META_SUFFIX);
            sink.tree.file(parent_dir, leaf, View::S3Body(body.0), body.1, 0)?;
            sink.tree.file(parent_dir, &sidecar, View::S3Sidecar(manifest_off), SIZE_UNKNOWN, 0)?;
            if let Some(kind) = kind {
                keymap.push((name, kind, &ob.key));
            }
        }

        if !stale.is_empty() {
            if self.opts.include_orphans {
                for &o in &stale {
                    self.flush_orphan(data, &bucket_name, dir, &self.objects[o as usize], sink)?;
                }
            }
            sink.warn(
                "s3_stale_generation_objects",
                vec![
                    ("bucket", bucket_name.clone()),
                    ("active_generation", bucket.active_gen.to_string()),
                    ("stale_count", stale.len().to_string()),
                    (
                        "hint",
                        "stale-gen objects excluded; restore would otherwise emit them under the new bucket"
                            .into(),
                    ),
                ],
            );
        }

        if !keymap.is_empty() {
            // Upstream writes in map order; fsmfs sorts by encoded name so
            // the file is the same on every mount (design.md §4).
            keymap.sort_by(|a, b| a.0.cmp(&b.0));
            let mut out = Vec::new();
            for (encoded, kind, original) in &keymap {
                render::keymap_line(&mut out, encoded, &b64url_nopad(original), kind);
            }
            let len = out.len() as u64;
            let idx = sink.side.add_static(out);
            sink.tree.file(dir, b"KEYMAP.jsonl", View::Static(idx), len, 0)?;
        }

        if !bucket.uploads.is_empty() {
            let list: Box<[u64]> = bucket.uploads.clone().into_boxed_slice();
            let size: u64 = list.iter().map(|&off| render::upload_record_len(data, off) as u64).sum();
            sink.side.entry_lists.push(list);
            let idx = (sink.side.entry_lists.len() - 1) as u32;
            let up = sink.tree.dir(dir, b"_incomplete_uploads")?;
            sink.tree.file(up, b"records.jsonl", View::EntryList(idx), size, 0)?;
        }
        Ok(())
    }

    /// B5.4: the body's path relative to the bucket and the KEYMAP kind
    /// when it was renamed.
    fn object_file_name(
        &self,
        bucket: &str,
        ob: &Object,
        dir_prefixes: &std::collections::HashSet<&[u8]>,
        keys: &std::collections::HashSet<&[u8]>,
    ) -> Result<(Vec<u8>, Option<&'static str>), RecordError> {
        let collision = |detail: String| RecordError::about(ErrorKind::S3MetaSuffixCollision, detail);
        let show = |b: &[u8]| String::from_utf8_lossy(b).into_owned();
        if ob.key.ends_with(META_SUFFIX) {
            if !self.opts.rename_collisions {
                return Err(collision(format!(
                    "bucket {bucket:?} object {:?} (use --rename-collisions to store it as {:?})",
                    show(&ob.key),
                    show(&[&ob.key[..], USER_DATA_SUFFIX].concat())
                )));
            }
            let target = [&ob.key[..], USER_DATA_SUFFIX].concat();
            if keys.contains(target.as_slice()) {
                return Err(collision(format!(
                    "bucket {bucket:?} object {:?} rename target {:?} is also a real object key",
                    show(&ob.key),
                    show(&target)
                )));
            }
            return Ok((target, Some("meta-suffix-rename")));
        }
        if dir_prefixes.contains(ob.key.as_slice()) {
            let target = [&ob.key[..], LEAF_DATA_SUFFIX].concat();
            if keys.contains(target.as_slice()) {
                return Err(collision(format!(
                    "bucket {bucket:?} object {:?} leaf-data rename target {:?} is also a real object key",
                    show(&ob.key),
                    show(&target)
                )));
            }
            return Ok((target, Some("s3-leaf-data")));
        }
        Ok((ob.key.clone(), None))
    }

    /// B5.3 + B5.6: selects, orders and checks the chunks of a body and
    /// records them in the body table. Returns (object index, size).
    fn assemble(
        &self,
        data: &[u8],
        ob: &Object,
        manifest_off: u64,
        sink: &mut Sink<'_>,
    ) -> Result<(u32, u64), RecordError> {
        let me = entry_at(data, manifest_off).expect("offset from the scan");
        let manifest = parse_manifest(me.body).expect("validated while indexing");
        let upload_of = |c: &Chunk| &data[c.upload.0 as usize..c.upload.0 as usize + c.upload.1 as usize];
        // (sort key, payload offset, payload length, chunkblob digest)
        let mut kept: Vec<(Chunk, u64, u64, Option<[u8; 32]>)> = Vec::new();
        for c in &ob.chunks {
            let upload_matches = k::unescaped_eq(upload_of(c), manifest.upload_id.as_bytes());
            let ce = entry_at(data, c.offset).expect("offset from the scan");
            let payload_at = |e: &Entry<'_>| e.body.as_ptr() as u64 - data.as_ptr() as u64;
            let (at, len, digest) = if c.offloaded {
                // Offloaded chunks must match the upload id exactly, be
                // declared, and have their payload in the snapshot.
                if !upload_matches {
                    continue;
                }
                let Some(declared) = manifest.declared((c.part_no, c.part_version, true)) else { continue };
                let r = k::parse_chunkref_value(ce.body).expect("validated while indexing");
                let Some(&blob_off) = self.chunkblobs.get(&r.sha256) else { continue };
                let be = entry_at(data, blob_off).expect("offset from the scan");
                let bad = |what: &str| {
                    RecordError::new(
                        ErrorKind::S3InvalidChunkRef,
                        c.offset,
                        ce.user_key,
                        format!(
                            "partNo={} chunkNo={} version={}: {what}",
                            c.part_no, c.chunk_no, c.part_version
                        ),
                    )
                };
                if be.body.len() as u64 != r.size {
                    return Err(bad(&format!("declared size={} actual size={}", r.size, be.body.len())));
                }
                if declared.1.get(c.chunk_no as usize) != Some(&r.size) {
                    return Err(bad(&format!("ref size={} does not match manifest chunk size", r.size)));
                }
                (payload_at(&be), r.size, Some(r.sha256))
            } else {
                (payload_at(&ce), ce.body.len() as u64, None)
            };
            if !manifest.upload_id.is_empty() && !upload_matches {
                continue;
            }
            match manifest.declared((c.part_no, c.part_version, c.offloaded)) {
                Some((count, _)) if *count > 0 => {}
                _ => continue,
            }
            kept.push((*c, at, len, digest));
        }
        kept.sort_by(|(a, ..), (b, ..)| {
            (a.part_no, a.part_version, a.offloaded, a.chunk_no)
                .cmp(&(b.part_no, b.part_version, b.offloaded, b.chunk_no))
                .then_with(|| upload_of(a).cmp(upload_of(b)))
        });
        // Completeness per declared part (last declaration of a part wins).
        let mut seen_parts: Vec<(u64, u64, bool)> = Vec::new();
        for (part, _) in manifest.parts.iter().rev() {
            if seen_parts.contains(part) {
                continue;
            }
            seen_parts.push(*part);
            let (count, _) = manifest.declared(*part).expect("present");
            if *count == 0 {
                continue;
            }
            let mut nos: Vec<u64> = kept
                .iter()
                .filter(|(c, ..)| (c.part_no, c.part_version, c.offloaded) == *part)
                .map(|(c, ..)| c.chunk_no)
                .collect();
            nos.dedup();
            let complete = nos.len() as u64 == *count && nos.iter().enumerate().all(|(i, &n)| n == i as u64);
            if !complete {
                let missing = (0..*count).find(|n| !nos.contains(n));
                return Err(RecordError::new(
                    ErrorKind::S3IncompleteBlobChunks,
                    manifest_off,
                    me.user_key,
                    format!(
                        "partNo={} partVersion={} offloaded={} declared chunks={}, observed unique={}{}",
                        part.0,
                        part.1,
                        part.2,
                        count,
                        nos.len(),
                        missing.map(|m| format!(", missing chunkNo={m}")).unwrap_or_default()
                    ),
                ));
            }
        }
        let pieces = kept.iter().map(|&(_, at, len, digest)| (at, len, digest));
        Ok(sink.side.s3.add_object(manifest_off, pieces))
    }

    /// B6.2: warning always; chunk files only with `--include-orphans`.
    fn flush_orphan(
        &self,
        data: &[u8],
        bucket: &str,
        dir: DirId,
        ob: &Object,
        sink: &mut Sink<'_>,
    ) -> Result<(), AdapterError> {
        let blobs: Vec<&Chunk> = ob.chunks.iter().filter(|c| !c.offloaded).collect();
        sink.warn(
            "s3_orphan_chunks",
            vec![
                ("bucket", bucket.to_string()),
                ("object", String::from_utf8_lossy(&ob.key).into_owned()),
                ("chunks", blobs.len().to_string()),
                ("hint", "blob chunks present but no !s3|obj|head record matched".into()),
            ],
        );
        if !self.opts.include_orphans || blobs.is_empty() {
            return Ok(());
        }
        if is_dot_or_empty(&ob.key) {
            let detail = format!("orphan object key {} is a dot segment", show_name(&ob.key));
            return Err(at_record(data, blobs.first().map(|c| c.offset), detail).into());
        }
        let mut seg = Vec::new();
        encode_segment_into(&ob.key, &mut seg);
        let orphans = sink.tree.dir(dir, b"_orphans")?;
        let odir = sink.tree.dir(orphans, &seg)?;
        let gdir = sink.tree.dir(odir, format!("gen-{}", ob.generation).as_bytes())?;
        for c in blobs {
            let e = entry_at(data, c.offset).expect("offset from the scan");
            let mut name = Vec::new();
            let upload = k::unescape(&data[c.upload.0 as usize..c.upload.0 as usize + c.upload.1 as usize]);
            encode_segment_into(&upload, &mut name);
            name.extend_from_slice(
                format!("_{:016x}_{:016x}_{:016x}.bin", c.part_no, c.chunk_no, c.part_version).as_bytes(),
            );
            sink.tree.file(gdir, &name, View::RawBody(c.offset), e.body.len() as u64, 0)?;
        }
        Ok(())
    }

    /// Upstream hashes every chunkblob while reading; fsmfs checks the
    /// referenced ones when they are read, and records a deferred error
    /// for the others so `extract` fails exactly where upstream does.
    fn verify_unreferenced_chunkblobs(&mut self, data: &[u8]) {
        let mut referenced: std::collections::HashSet<[u8; 32]> = std::collections::HashSet::new();
        for ob in &self.objects {
            for c in ob.chunks.iter().filter(|c| c.offloaded) {
                if let Some(e) = entry_at(data, c.offset) {
                    if let Some(r) = k::parse_chunkref_value(e.body) {
                        referenced.insert(r.sha256);
                    }
                }
            }
        }
        let mut unref: Vec<(&[u8; 32], &u64)> =
            self.chunkblobs.iter().filter(|(d, _)| !referenced.contains(*d)).collect();
        unref.sort();
        for (digest, &off) in unref {
            if let Some(e) = entry_at(data, off) {
                if let Some(err) = body::check_digest(e.body, digest) {
                    self.deferred.push(RecordError::new(
                        ErrorKind::S3ChunkBlobHashMismatch,
                        off,
                        e.user_key,
                        err,
                    ));
                }
            }
        }
    }
}

/// B3.2: the manifest fields assembly needs, with upstream's validation.
fn parse_manifest(body: &[u8]) -> Result<Manifest, String> {
    let m = GoObject::parse(body)?;
    // Every field is decoded (type errors fail the record) even when only
    // a few are used.
    for f in ["etag", "content_type", "content_encoding", "cache_control", "content_disposition"] {
        m.str(f)?;
    }
    m.i64("size_bytes")?;
    m.u64("last_modified_hlc")?;
    m.str_map("user_metadata")?;
    let mut parts = Vec::new();
    for p in m.objects("parts")? {
        let part_no = p.u64("part_no")?;
        p.str("etag")?;
        p.i64("size_bytes")?;
        let count = p.u64("chunk_count")?;
        let sizes = p.u64_list("chunk_sizes")?.unwrap_or_default();
        let part_version = p.u64("part_version")?;
        let chunk_ref_version = p.u64("chunk_ref_version")?;
        let offloaded = p.bool("offloaded")?;
        if offloaded && sizes.len() as u64 != count {
            return Err(format!(
                "offloaded part {part_no} declares {count} chunks but has {} chunk sizes",
                sizes.len()
            ));
        }
        let v = if offloaded { chunk_ref_version } else { part_version };
        parts.push(((part_no, v, offloaded), (count, sizes)));
    }
    Ok(Manifest { upload_id: m.str("upload_id")?, parts })
}

/// B5.5 `safeJoinUnderRoot`: the raw object path must have no empty, `.`
/// or `..` segment, no NUL and no backslash; and each segment (the leaf
/// with its sidecar suffix) must fit `NAME_MAX`, where upstream's write
/// fails with ENAMETOOLONG.
fn safe_relative_path(name: &[u8]) -> Result<(), String> {
    let show = || show_name(name);
    if name.is_empty() {
        return Err("empty object name".into());
    }
    if name.contains(&0) {
        return Err(format!("object name contains NUL: {}", show()));
    }
    if name.contains(&b'\\') {
        return Err(format!("object name contains backslash: {}", show()));
    }
    let mut segments = name.split(|&b| b == b'/').peekable();
    while let Some(seg) = segments.next() {
        match seg {
            b"" => return Err(format!("object name has empty path segment: {}", show())),
            b"." | b".." => return Err(format!("object name has dot segment: {}", show())),
            _ => {}
        }
        if seg.len() > NAME_MAX {
            return Err(format!(
                "object name has a path segment of {} bytes, which exceeds NAME_MAX ({NAME_MAX}): {}",
                seg.len(),
                show()
            ));
        }
        let sidecar = seg.len() + META_SUFFIX.len();
        if segments.peek().is_none() && sidecar > NAME_MAX {
            return Err(format!(
                "object name's metadata sidecar name would be {sidecar} bytes, which exceeds NAME_MAX ({NAME_MAX}): {}",
                show()
            ));
        }
    }
    Ok(())
}

/// A name for an error line: quoted and escaped, and cut to its head and
/// tail with the byte count when long, so the line stays readable.
fn show_name(name: &[u8]) -> String {
    const HEAD: usize = 32;
    const TAIL: usize = 16;
    let esc = |b: &[u8]| {
        let q = format!("{:?}", String::from_utf8_lossy(b));
        q[1..q.len() - 1].to_string()
    };
    if name.len() <= HEAD + TAIL + 16 {
        return format!("\"{}\"", esc(name));
    }
    format!("\"{}…{}\" ({} bytes)", esc(&name[..HEAD]), esc(&name[name.len() - TAIL..]), name.len())
}

fn split_parent(path: &[u8]) -> (&[u8], &[u8]) {
    match path.iter().rposition(|&b| b == b'/') {
        Some(i) => (&path[..i], &path[i + 1..]),
        None => (&[], path),
    }
}

impl super::Collect for Collector {
    fn handle(&mut self, family: Family, prefix_len: usize, e: &Entry<'_>) -> Result<(), RecordError> {
        Collector::handle(self, family, prefix_len, e)
    }

    fn finalize(
        self: Box<Self>,
        data: &[u8],
        sink: &mut Sink<'_>,
        counts: &mut super::Counts,
    ) -> Result<Vec<RecordError>, AdapterError> {
        counts.buckets = self.bucket_count() as u64;
        Collector::finalize(*self, data, sink)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn path_safety_matches_upstream() {
        for bad in [&b""[..], b"/a", b"a/", b"a//b", b"./a", b"a/../b", b"..", b"a\\b", b"a\0b"] {
            assert!(safe_relative_path(bad).is_err(), "{bad:?}");
        }
        for ok in [&b"a"[..], b"a/b/c", b"...", b"a/.b", b" /x"] {
            assert!(safe_relative_path(ok).is_ok(), "{ok:?}");
        }
    }

    #[test]
    fn long_names_are_checked_and_cut() {
        let dir = |n: usize| [&b"d/"[..], &vec![b'k'; n], b"/x"].concat();
        assert!(safe_relative_path(&dir(255)).is_ok());
        let err = safe_relative_path(&dir(256)).unwrap_err();
        assert!(err.contains("a path segment of 256 bytes"), "{err}");
        assert!(safe_relative_path(&[b'k'; 235]).is_ok(), "leaf + sidecar suffix = 255");
        let err = safe_relative_path(&[b'k'; 236]).unwrap_err();
        assert!(err.contains("sidecar name would be 256 bytes"), "{err}");
        assert!(err.len() < 200, "cut: {err}");
        assert!(err.ends_with("kkkkkkkkkkkkkkkk\" (236 bytes)"), "{err}");
        assert_eq!(show_name(b"a\0b"), "\"a\\0b\"");
        assert_eq!(show_name(&[b'x'; 64]), format!("\"{}\"", "x".repeat(64)));
    }

    #[test]
    fn manifest_validation() {
        assert!(parse_manifest(br#"{"upload_id":"u","parts":[{"part_no":1,"chunk_count":2,"chunk_sizes":[1],"offloaded":true}]}"#).is_err());
        let m =
            parse_manifest(br#"{"upload_id":"u","parts":[{"part_no":1,"chunk_count":2,"part_version":5}]}"#)
                .unwrap();
        assert_eq!(m.parts[0].0, (1, 5, false));
        assert!(parse_manifest(br#"{"size_bytes":"1"}"#).is_err());
        assert!(parse_manifest(b"not json").is_err());
    }
}
