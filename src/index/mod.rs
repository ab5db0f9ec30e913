//! Builds the tree index of a snapshot: one scan of the mapping, adapters
//! collect their records, finalize lays out the tree.

mod checksums;
pub(crate) mod manifest;
pub(crate) mod option_mtime;
mod read;

pub(crate) use checksums::{checksum_lines, checksums_size, render_checksums};
pub(crate) use read::ViewError;

use std::fs::File;
use std::path::Path;
use std::sync::OnceLock;

use crate::adapters::route::{self, Adapter};
use crate::adapters::{self, AdapterError, Collect, RecordError, Side, Sink, Warning};
use crate::container::mapped::{MappedFile, SourceChanged};
use crate::container::{entry_at, ContainerError, Layout};
use crate::mvcc::{self, ScanOptions, ScanStats};
use crate::tree::{Tree, TreeBuilder, View, SIZE_UNKNOWN};

/// Every decode option of upstream's decoder, plus fsmfs's own.
#[derive(Debug, Clone)]
pub struct DecodeOptions {
    /// Enabled adapters (upstream default: all four).
    pub adapters: Vec<Adapter>,
    pub include_expired: bool,
    pub include_orphans: bool,
    pub include_incomplete_uploads: bool,
    pub rename_collisions: bool,
    pub preserve_sqs_visibility: bool,
    pub include_sqs_side_records: bool,
    pub cluster_id: String,
    /// `--dynamodb-bundle-mode jsonl`: accepted, then refused like upstream.
    pub dynamodb_bundle_jsonl: bool,
    /// The snapshot's path; `MANIFEST.json` records its file name only, so
    /// the CLI passes the real path (symlinks resolved).
    pub source_path: String,
}

impl Default for DecodeOptions {
    fn default() -> Self {
        DecodeOptions {
            adapters: Adapter::ALL.to_vec(),
            include_expired: false,
            include_orphans: false,
            include_incomplete_uploads: false,
            rename_collisions: false,
            preserve_sqs_visibility: false,
            include_sqs_side_records: false,
            cluster_id: String::new(),
            dynamodb_bundle_jsonl: false,
            source_path: String::new(),
        }
    }
}

impl DecodeOptions {
    pub(crate) fn enabled(&self, a: Adapter) -> bool {
        self.adapters.contains(&a)
    }
}

pub use crate::adapters::Counts;

/// Why an index could not be built.
#[derive(Debug, thiserror::Error)]
pub enum IndexError {
    #[error("{path}: {source}")]
    Io { path: String, source: std::io::Error },
    /// The snapshot path names a directory, FIFO, device or socket.
    #[error("{path}: is {kind}, not a snapshot file")]
    NotAFile { path: String, kind: &'static str },
    #[error(transparent)]
    Container(#[from] ContainerError),
    #[error(transparent)]
    Adapter(#[from] AdapterError),
    #[error("{0}")]
    Unsupported(String),
    /// The file changed while it was being indexed.
    #[error(transparent)]
    Changed(SourceChanged),
}

impl From<RecordError> for IndexError {
    fn from(e: RecordError) -> Self {
        IndexError::Adapter(AdapterError::Record(e))
    }
}

enum Backing {
    Map(MappedFile),
    Owned(Vec<u8>),
}

/// A snapshot's tree, ready to be served.
pub struct Index {
    backing: Backing,
    pub tree: Tree,
    pub(crate) side: Side,
    pub(crate) layout: Layout,
    pub(crate) scan: ScanStats,
    pub counts: Counts,
    pub warnings: Vec<Warning>,
    /// Errors in records that produce no file (upstream still fails on
    /// them): `extract` refuses, a mount logs them.
    pub(crate) deferred: Vec<RecordError>,
    pub(crate) options: DecodeOptions,
    pub(crate) checksums: OnceLock<Result<Vec<u8>, String>>,
    pub(crate) checksums_node: u32,
    pub(crate) manifest_node: u32,
}

impl Index {
    /// Maps `path` read-only and indexes it.
    pub fn open(
        path: &Path,
        options: DecodeOptions,
        progress: &mut dyn FnMut(u64),
    ) -> Result<Index, IndexError> {
        let io = |source| IndexError::Io { path: path.display().to_string(), source };
        // Checked before opening: opening a FIFO would block, and mapping
        // a directory fails with a bare ENODEV.
        not_a_file(path, &std::fs::metadata(path).map_err(io)?)?;
        let file = File::open(path).map_err(io)?;
        not_a_file(path, &file.metadata().map_err(io)?)?;
        let (backing, watch) = match MappedFile::map(file, path).map_err(io)? {
            Some(m) => {
                let w = m.watcher().try_clone().map_err(io)?;
                (Backing::Map(m), Some(w))
            }
            None => (Backing::Owned(Vec::new()), None),
        };
        // A file that changes while it is scanned can make the adapters
        // trip over bytes they validated a moment before (their "offset
        // from the scan" expectations): such a panic is the change's
        // doing, reported as such; any other panic is a bug and goes on.
        let built = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            Self::build(backing, options, progress)
        }));
        let changed = |e: SourceChanged| {
            IndexError::Changed(SourceChanged {
                detail: e.detail.replace("since it was indexed", "while it was being indexed"),
                ..e
            })
        };
        if let Ok(Ok(index)) = &built {
            index.verify_source().map_err(changed)?;
        } else if let Some(Err(e)) = watch.map(|w| w.verify()) {
            // Whatever went wrong, the bytes were not the snapshot's.
            return Err(changed(e));
        }
        built.unwrap_or_else(|panic| std::panic::resume_unwind(panic))
    }

    /// Ok when every byte read from the mapping so far was the indexed
    /// snapshot's (`container::mapped`); always Ok for in-memory bytes.
    pub(crate) fn verify_source(&self) -> Result<(), SourceChanged> {
        match &self.backing {
            Backing::Map(m) => m.verify(),
            Backing::Owned(_) => Ok(()),
        }
    }

    /// Indexes bytes already in memory (tests, self-test of `pack`).
    pub fn from_bytes(bytes: Vec<u8>, options: DecodeOptions) -> Result<Index, IndexError> {
        Self::build(Backing::Owned(bytes), options, &mut |_| {})
    }

    pub(crate) fn data(&self) -> &[u8] {
        match &self.backing {
            Backing::Map(m) => m.bytes(),
            Backing::Owned(v) => v,
        }
    }

    fn build(
        backing: Backing,
        options: DecodeOptions,
        progress: &mut dyn FnMut(u64),
    ) -> Result<Index, IndexError> {
        let data: &[u8] = match &backing {
            Backing::Map(m) => m.bytes(),
            Backing::Owned(v) => v,
        };
        if options.dynamodb_bundle_jsonl && options.enabled(Adapter::DynamoDb) {
            return Err(IndexError::Unsupported(
                "dynamodb_layout=jsonl is not implemented upstream (use per-item)".into(),
            ));
        }
        let started = std::time::Instant::now();
        let phase = |name: &str| log::debug!("index: {name} done at {:?}", started.elapsed());
        let scan = mvcc::scan(data, ScanOptions { include_expired: options.include_expired }, progress)?;
        phase("scan");
        if !scan.layout.has_store_stream {
            // Legal (the node restores it as an empty store), but an empty
            // tree is more likely a surprise than what the user expected.
            log::warn!(
                "the file holds no store stream: an empty snapshot (only MANIFEST.json and CHECKSUMS)"
            );
        }
        let mut counts = Counts::default();
        let settings = adapters::Settings {
            include_orphans: options.include_orphans,
            include_incomplete_uploads: options.include_incomplete_uploads,
            rename_collisions: options.rename_collisions,
            preserve_sqs_visibility: options.preserve_sqs_visibility,
            include_sqs_side_records: options.include_sqs_side_records,
        };
        // One collector per enabled adapter, in upstream's finalize order.
        let mut collectors: Vec<(Adapter, Box<dyn Collect>)> = adapters::FINALIZE_ORDER
            .into_iter()
            .filter(|&a| options.enabled(a))
            .map(|a| (a, adapters::collector(a, &settings)))
            .collect();
        for &off in &scan.live {
            let e = entry_at(data, off).expect("offset from the scan");
            let Some((family, prefix_len)) = route::classify(e.user_key) else {
                counts.unknown += 1;
                continue;
            };
            let Some((adapter, c)) =
                family.adapter().and_then(|a| collectors.iter_mut().find(|(x, _)| *x == a))
            else {
                counts.internal += 1;
                continue;
            };
            counts.add_record(*adapter);
            c.handle(family, prefix_len, &e)?;
        }
        phase("route");

        let mut tree = TreeBuilder::new();
        let mut side = Side::default();
        let mut warnings = Vec::new();
        let mut sink = Sink { tree: &mut tree, side: &mut side, warnings: &mut warnings };
        let mut deferred = Vec::new();
        for (_, c) in collectors {
            deferred.extend(c.finalize(data, &mut sink, &mut counts)?);
        }
        phase("finalize");
        let manifest = manifest::render(&options, scan.layout.last_commit_ts);
        let manifest_len = manifest.len() as u64;
        let idx = side.add_static(manifest);
        tree.file(TreeBuilder::ROOT, b"MANIFEST.json", View::Static(idx), manifest_len, 0)
            .map_err(AdapterError::from)?;
        tree.file(TreeBuilder::ROOT, b"CHECKSUMS", View::Checksums, SIZE_UNKNOWN, 0)
            .map_err(AdapterError::from)?;
        let (tree, replaced) = tree.finish().map_err(AdapterError::from)?;
        for p in &replaced {
            log::warn!("two records produce {p}; kept the one a later snapshot entry wrote");
        }
        phase("tree");
        let checksums_node = tree.resolve(b"CHECKSUMS").expect("just added");
        let manifest_node = tree.resolve(b"MANIFEST.json").expect("just added");
        let mut index = Index {
            layout: scan.layout,
            scan: scan.stats,
            backing: Backing::Owned(Vec::new()),
            tree,
            side,
            counts,
            warnings,
            deferred,
            options,
            checksums: OnceLock::new(),
            checksums_node,
            manifest_node,
        };
        index.backing = backing;
        let size = crate::index::checksums_size(&index);
        index.tree.node(checksums_node).store_size(size);
        phase("checksums size");
        Ok(index)
    }

    /// Heap bytes held by the index (tree, names, side tables).
    pub(crate) fn heap_bytes(&self) -> usize {
        self.tree.heap_bytes() + self.side.heap_bytes()
    }

    /// The file name's raft index (`design.md` §4): 16 hex digits as the
    /// engine names files, otherwise decimal like upstream.
    pub(crate) fn snapshot_index(&self) -> u64 {
        manifest::snapshot_index_from_path(&self.options.source_path)
    }
}

/// Refuses anything but a regular file, naming what the path is.
fn not_a_file(path: &Path, meta: &std::fs::Metadata) -> Result<(), IndexError> {
    use std::os::unix::fs::FileTypeExt;
    let t = meta.file_type();
    let kind = if t.is_file() {
        return Ok(());
    } else if t.is_dir() {
        "a directory"
    } else if t.is_fifo() {
        "a FIFO"
    } else if t.is_char_device() {
        "a character device"
    } else if t.is_block_device() {
        "a block device"
    } else if t.is_socket() {
        "a socket"
    } else {
        "a special file"
    };
    Err(IndexError::NotAFile { path: path.display().to_string(), kind })
}
