//! What an adapter's pack module (`adapters/<name>/pack.rs`) works with:
//! a [`Ctx`] that names the offending path in errors, counts walked files
//! and passes records on to a [`RecordSink`] — in `pack`, the sorter, which
//! adapters never see. Plus the first-pass changes the next decode will
//! make (`canonical`), recorded for the self-test.

use std::fmt;
use std::io;

use super::canonical::Canonical;
use crate::dumptree::fsio::{Dir, FileError};
use crate::dumptree::{tree_error, FileRef};
use crate::exit::Failure;

/// Generation stamped on everything `pack` writes (`pack.md` §11.1).
pub(crate) const RESTORE_GENERATION: u64 = 1;

/// Where records go.
pub(crate) trait RecordSink {
    /// A record whose value is `value`; `rel` names the file it came from.
    fn add(&mut self, rel: &[u8], key: &[u8], value: &[u8]) -> Result<(), Failure>;
    /// A record whose value is a byte range of an input file, copied when
    /// the output is written.
    fn add_file(&mut self, rel: &[u8], key: &[u8], r: FileRef<'_>) -> Result<(), Failure>;
}

/// One adapter's pack entry point: walks its directory of the tree.
pub(crate) type Encoder = fn(&Dir, &mut Ctx) -> Result<(), Failure>;

/// What an adapter encoder works with: where records go, and error helpers
/// that name the offending path.
pub(crate) struct Ctx<'a> {
    /// The tree root as error lines show it.
    pub(crate) tree_display: String,
    sink: &'a mut dyn RecordSink,
    walked: &'a dyn Fn(u64),
    files: u64,
    /// What the next decode writes differently (for the self-test).
    pub(crate) canonical: Canonical,
}

impl<'a> Ctx<'a> {
    pub(crate) fn new(
        tree_display: String,
        sink: &'a mut dyn RecordSink,
        walked: &'a dyn Fn(u64),
    ) -> Ctx<'a> {
        Ctx { tree_display, sink, walked, files: 0, canonical: Canonical::default() }
    }

    /// A tree problem at `rel` (exit 2; exit 1 for errors of the
    /// environment, see `dumptree::is_environment`).
    pub(crate) fn tree(&self, rel: &[u8], detail: impl fmt::Display + 'static) -> Failure {
        tree_error(&self.tree_display, rel, detail)
    }

    /// An I/O error while reading the tree at `rel` (exit 2, as upstream
    /// classifies every error inside an adapter walk, unless it is one of
    /// the environment: exit 1).
    pub(crate) fn io(&self, rel: &[u8], e: io::Error) -> Failure {
        self.tree(rel, e)
    }

    pub(crate) fn file(&self, rel: &[u8], e: FileError) -> Failure {
        self.tree(rel, e)
    }

    /// One more file read (progress).
    pub(crate) fn walked(&mut self) {
        self.files += 1;
        if self.files % 256 == 0 {
            (self.walked)(self.files);
        }
    }

    pub(crate) fn add(&mut self, rel: &[u8], key: &[u8], value: &[u8]) -> Result<(), Failure> {
        self.sink.add(rel, key, value)
    }

    pub(crate) fn add_file(&mut self, rel: &[u8], key: &[u8], r: FileRef<'_>) -> Result<(), Failure> {
        self.sink.add_file(rel, key, r)
    }
}
