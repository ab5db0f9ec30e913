//! Turns a file node's view into bytes: the one place that knows how every
//! kind of file is produced. FUSE, `cat` and `extract` all read through
//! here, so they cannot disagree.

use std::fmt;

use crate::adapters::dynamodb::{proto, render as ddb};
use crate::adapters::s3::render as s3r;
use crate::adapters::{redis, sqs};
use crate::container::{entry_at, error::show_key};
use crate::index::Index;
use crate::tree::{NodeId, View, SIZE_UNKNOWN};

/// A file whose content cannot be produced. Carries the record's offset
/// and key so the log line points at the bytes.
///
/// Display stays hand-written: the offset and key parts are optional.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub struct ViewError {
    pub path: String,
    pub(crate) offset: Option<u64>,
    pub key: Option<Vec<u8>>,
    pub(crate) detail: String,
    /// The snapshot file changed under the index (`container::mapped`):
    /// not the record's fault, and the same for every file.
    pub snapshot_changed: bool,
}

impl fmt::Display for ViewError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.snapshot_changed {
            return write!(f, "{}: {}", self.path, self.detail);
        }
        write!(f, "{}: cannot render", self.path)?;
        if let Some(o) = self.offset {
            write!(f, " record at offset {o}")?;
        }
        if let Some(k) = &self.key {
            write!(f, " (key {})", show_key(k))?;
        }
        write!(f, ": {}", self.detail)
    }
}

impl Index {
    fn view_error(&self, id: NodeId, offset: Option<u64>, detail: impl Into<String>) -> ViewError {
        let key = offset.and_then(|o| entry_at(self.data(), o)).map(|e| e.user_key.to_vec());
        ViewError {
            path: String::from_utf8_lossy(&self.tree.path(id)).into_owned(),
            offset,
            key,
            detail: detail.into(),
            snapshot_changed: false,
        }
    }

    /// Runs `f`, which reads the mapping for node `id`, and keeps its
    /// result only if the snapshot file is still the indexed one after it
    /// (`container::mapped`: the kernel marks a file modified before it
    /// changes its pages, so one check afterwards covers every byte `f`
    /// read; a check before would only save work once the file changed,
    /// at one more `fstat` per read while it has not). A panic while the
    /// file changed under `f` is the change's doing; any other panic is a
    /// bug and goes on.
    fn guarded<T>(&self, id: NodeId, f: impl FnOnce() -> Result<T, ViewError>) -> Result<T, ViewError> {
        let r = std::panic::catch_unwind(std::panic::AssertUnwindSafe(f));
        self.check_source(id)?;
        r.unwrap_or_else(|panic| std::panic::resume_unwind(panic))
    }

    /// Ok while the snapshot file is the one indexed; otherwise the error
    /// every read of node `id` answers.
    pub(crate) fn check_source(&self, id: NodeId) -> Result<(), ViewError> {
        self.verify_source().map_err(|e| ViewError {
            path: String::from_utf8_lossy(&self.tree.path(id)).into_owned(),
            offset: None,
            key: None,
            detail: e.to_string(),
            snapshot_changed: true,
        })
    }

    /// Whether the content is produced by rendering (and so is worth
    /// caching) rather than copied from the mapping.
    pub fn is_generated(&self, id: NodeId) -> bool {
        match self.tree.node(id).view() {
            View::DdbSchema(_)
            | View::DdbItem(_)
            | View::S3Bucket(_)
            | View::S3Sidecar(_)
            | View::EntryList(_)
            | View::SqsQueue(_) => true,
            View::Frag(n) => self.side.frags.is_whole(n),
            _ => false,
        }
    }

    /// Whether reads are served piecewise from the mapping (bodies, and
    /// aggregated files rendered fragment by fragment) rather than by
    /// rendering the whole file.
    pub fn is_streamed(&self, id: NodeId) -> bool {
        match self.tree.node(id).view() {
            View::S3Body(_) | View::RawBody(_) | View::RedisBlob(_) => true,
            View::Frag(n) => !self.side.frags.is_whole(n),
            _ => false,
        }
    }

    fn frag_error(&self, id: NodeId, e: crate::adapters::frag::FragError) -> ViewError {
        self.view_error(id, e.offset, e.detail)
    }

    /// A Redis string or HLL value without its TTL header.
    fn redis_blob(&self, id: NodeId, off: u64) -> Result<&[u8], ViewError> {
        let e =
            entry_at(self.data(), off).ok_or_else(|| self.view_error(id, Some(off), "entry unreadable"))?;
        redis::blob_payload(e.user_key, e.body)
            .ok_or_else(|| self.view_error(id, Some(off), "malformed TTL header"))
    }

    /// Renders a whole generated (or small static) file.
    pub(crate) fn render(&self, id: NodeId) -> Result<Vec<u8>, ViewError> {
        self.guarded(id, || self.render_unguarded(id))
    }

    fn render_unguarded(&self, id: NodeId) -> Result<Vec<u8>, ViewError> {
        let data = self.data();
        let entry =
            |off: u64| entry_at(data, off).ok_or_else(|| self.view_error(id, Some(off), "entry unreadable"));
        let mut out = Vec::new();
        match self.tree.node(id).view() {
            View::Dir { .. } => return Err(self.view_error(id, None, "is a directory")),
            View::Static(i) => out.extend_from_slice(&self.side.statics[i as usize]),
            View::Checksums => {
                out = super::render_checksums(self).map_err(|d| self.view_error(id, None, d))?
            }
            View::DdbSchema(off) => {
                let e = entry(off)?;
                let schema = proto::parse_schema(e.body)
                    .map_err(|err| self.view_error(id, Some(off), err.to_string()))?;
                ddb::schema_json(&schema, &mut out);
            }
            View::DdbItem(off) => {
                let e = entry(off)?;
                ddb::item_json(e.body, &mut out)
                    .map_err(|err| self.view_error(id, Some(off), err.to_string()))?;
            }
            View::S3Bucket(off) => {
                let e = entry(off)?;
                s3r::bucket_json(e.user_key, e.body, &mut out)
                    .map_err(|d| self.view_error(id, Some(off), d))?;
            }
            View::S3Sidecar(off) => {
                let e = entry(off)?;
                s3r::sidecar_json(e.body, &mut out).map_err(|d| self.view_error(id, Some(off), d))?;
            }
            View::EntryList(i) => {
                for &off in self.side.entry_lists[i as usize].iter() {
                    s3r::upload_record(data, off, &mut out);
                }
            }
            View::RedisBlob(off) => out.extend_from_slice(self.redis_blob(id, off)?),
            View::Frag(n) => self.side.frags.render(data, n, &mut out).map_err(|e| self.frag_error(id, e))?,
            View::SqsQueue(off) => {
                let e = entry(off)?;
                sqs::render::queue_json(e.user_key, e.body, &mut out)
                    .map_err(|d| self.view_error(id, Some(off), d))?;
            }
            View::S3Body(_) | View::RawBody(_) => {
                let size = self.size_unguarded(id)?;
                out = vec![0u8; size as usize];
                let n = self.read_unguarded(id, 0, &mut out)?;
                out.truncate(n);
            }
        }
        Ok(out)
    }

    /// The exact byte size of a file (generated files are rendered once to
    /// learn it; the size is then cached in the node).
    pub fn size(&self, id: NodeId) -> Result<u64, ViewError> {
        self.guarded(id, || self.size_unguarded(id))
    }

    fn size_unguarded(&self, id: NodeId) -> Result<u64, ViewError> {
        let node = self.tree.node(id);
        if let View::Dir { .. } = node.view() {
            return Ok(0);
        }
        let s = node.stored_size();
        if s != SIZE_UNKNOWN {
            return Ok(s);
        }
        let n = match node.view() {
            View::Frag(n) => self.side.frags.size(self.data(), n).map_err(|e| self.frag_error(id, e))?,
            _ => self.render_unguarded(id)?.len() as u64,
        };
        node.store_size(n);
        Ok(n)
    }

    /// Reads file bytes at `offset` into `buf`; returns how many were read.
    /// Bodies are copied straight from the mapping; generated files are
    /// rendered (callers that read them in pieces should cache).
    pub fn read(&self, id: NodeId, offset: u64, buf: &mut [u8]) -> Result<usize, ViewError> {
        self.guarded(id, || self.read_unguarded(id, offset, buf))
    }

    fn read_unguarded(&self, id: NodeId, offset: u64, buf: &mut [u8]) -> Result<usize, ViewError> {
        let data = self.data();
        match self.tree.node(id).view() {
            View::S3Body(obj) => self.side.s3.read(data, obj, offset, buf).map_err(|e| {
                let manifest = self.side.s3.manifest_offset(obj);
                match e {
                    crate::adapters::s3::BodyError::DigestMismatch { at } => self.view_error(
                        id,
                        Some(manifest),
                        format!("chunk payload at offset {at} does not match its SHA-256 digest"),
                    ),
                }
            }),
            View::RawBody(off) => {
                let e =
                    entry_at(data, off).ok_or_else(|| self.view_error(id, Some(off), "entry unreadable"))?;
                Ok(copy_at(e.body, offset, buf))
            }
            View::Static(i) => Ok(copy_at(&self.side.statics[i as usize], offset, buf)),
            View::RedisBlob(off) => Ok(copy_at(self.redis_blob(id, off)?, offset, buf)),
            View::Frag(n) => self.side.frags.read(data, n, offset, buf).map_err(|e| self.frag_error(id, e)),
            _ => {
                let bytes = self.render_unguarded(id)?;
                Ok(copy_at(&bytes, offset, buf))
            }
        }
    }

    /// Whether [`Index::mtime_ts`] reads the node's record from the mapping
    /// (directories and aggregates take theirs from the index).
    pub(crate) fn mtime_from_mapping(&self, id: NodeId) -> bool {
        matches!(
            self.tree.node(id).view(),
            View::DdbSchema(_)
                | View::DdbItem(_)
                | View::S3Bucket(_)
                | View::S3Sidecar(_)
                | View::RawBody(_)
                | View::RedisBlob(_)
                | View::SqsQueue(_)
                | View::S3Body(_)
        )
    }

    /// Commit timestamp (HLC) of the record that produced a node; the
    /// snapshot's own for directories and generated aggregates, moved for
    /// `MANIFEST.json` and `CHECKSUMS` by the options that change their
    /// bytes (`option_mtime`).
    pub(crate) fn mtime_ts(&self, id: NodeId) -> u64 {
        let last = self.layout.last_commit_ts;
        if id == self.manifest_node {
            return super::option_mtime::shifted(
                last,
                super::option_mtime::manifest_shift_secs(&self.options),
            );
        }
        if id == self.checksums_node {
            return super::option_mtime::shifted(
                last,
                super::option_mtime::checksums_shift_secs(&self.options),
            );
        }
        let data = self.data();
        let of = |off: u64| entry_at(data, off).map(|e| e.header.commit_ts);
        let ts = match self.tree.node(id).view() {
            View::DdbSchema(o)
            | View::DdbItem(o)
            | View::S3Bucket(o)
            | View::S3Sidecar(o)
            | View::RawBody(o)
            | View::RedisBlob(o)
            | View::SqsQueue(o) => of(o),
            View::S3Body(obj) => of(self.side.s3.manifest_offset(obj)),
            View::Frag(n) => Some(self.side.frags.files[n as usize].commit_ts).filter(|&t| t != 0),
            _ => None,
        };
        ts.unwrap_or(last)
    }
}

/// Copies `src[offset..]` into `buf`, returning the count.
pub(crate) fn copy_at(src: &[u8], offset: u64, buf: &mut [u8]) -> usize {
    let Ok(start) = usize::try_from(offset) else { return 0 };
    if start >= src.len() {
        return 0;
    }
    let n = (src.len() - start).min(buf.len());
    buf[..n].copy_from_slice(&src[start..start + n]);
    n
}
