//! Aggregated files — a Redis hash's JSON built from many field rows, a
//! stream's JSONL, an SQS queue's `messages.jsonl`, the TTL sidecars — as
//! *fragment lists*: the file is a head, one fragment per contributing
//! entry, and a tail. The index keeps only the entries' offsets, already in
//! file order; fragment lengths are computed on the first size or read and
//! cached as cumulative offsets, so a read at any offset renders only the
//! fragments it overlaps and reading a whole file in pieces stays linear.

use std::sync::OnceLock;

use crate::adapters::{redis, sqs};

/// Which renderer produces a file's pieces.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum FragKind {
    Redis(redis::render::Kind),
    Sqs(sqs::render::Kind),
}

/// One piece of a fragment file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Piece {
    Head,
    /// The fragment of entry `offset`; `first` for the first one.
    Item {
        offset: u64,
        first: bool,
    },
    /// `empty`: the file has no fragments.
    Tail {
        empty: bool,
    },
}

/// A piece that cannot be rendered: the entry (when known) and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct FragError {
    pub(crate) offset: Option<u64>,
    pub(crate) detail: String,
}

impl FragError {
    pub(crate) fn at(offset: u64, detail: impl Into<String>) -> Self {
        FragError { offset: Some(offset), detail: detail.into() }
    }
}

/// A file assembled from entries.
pub(crate) struct FragFile {
    pub(crate) kind: FragKind,
    /// Where the fragments' entry offsets are: `arenas[arena][start..start + len]`.
    pub(crate) arena: u32,
    pub(crate) start: usize,
    pub(crate) len: usize,
    /// The entry the head or tail is rendered from (a collection's meta,
    /// a legacy blob), or [`NO_ENTRY`].
    pub(crate) aux: u64,
    /// `expire_at_ms` of a Redis collection (`None` renders `null`).
    pub(crate) ttl: Option<u64>,
    /// Newest commit timestamp of the contributing records (the mtime).
    pub(crate) commit_ts: u64,
    cum: OnceLock<Box<[u64]>>,
}

/// `aux` when there is none.
pub(crate) const NO_ENTRY: u64 = u64::MAX;

impl FragFile {
    pub(crate) fn new(kind: FragKind, arena: u32, start: usize, len: usize) -> Self {
        FragFile { kind, arena, start, len, aux: NO_ENTRY, ttl: None, commit_ts: 0, cum: OnceLock::new() }
    }
}

/// Every fragment file of an index and the offset arenas they point into.
#[derive(Default)]
pub(crate) struct FragTable {
    pub(crate) arenas: Vec<Box<[u64]>>,
    pub files: Vec<FragFile>,
}

impl FragTable {
    /// Adds an arena of entry offsets; returns its number.
    pub(crate) fn add_arena(&mut self, offsets: Vec<u64>) -> u32 {
        self.arenas.push(offsets.into_boxed_slice());
        (self.arenas.len() - 1) as u32
    }

    pub(crate) fn add(&mut self, file: FragFile) -> u32 {
        self.files.push(file);
        (self.files.len() - 1) as u32
    }

    /// A file rendered as one piece (a zset from a legacy blob): readers
    /// should render it whole and cache it, not re-render per range.
    pub(crate) fn is_whole(&self, n: u32) -> bool {
        self.files[n as usize].kind == FragKind::Redis(redis::render::Kind::ZsetLegacy)
    }

    pub(crate) fn items(&self, f: &FragFile) -> &[u64] {
        &self.arenas[f.arena as usize][f.start..f.start + f.len]
    }

    fn piece(&self, data: &[u8], f: &FragFile, i: usize, out: &mut Vec<u8>) -> Result<(), FragError> {
        let items = self.items(f);
        let piece = match i {
            0 => Piece::Head,
            i if i <= items.len() => Piece::Item { offset: items[i - 1], first: i == 1 },
            _ => Piece::Tail { empty: items.is_empty() },
        };
        match f.kind {
            FragKind::Redis(k) => redis::render::piece(data, k, f, piece, out),
            FragKind::Sqs(k) => sqs::render::piece(data, k, piece, out),
        }
    }

    /// Cumulative piece offsets (`len + 3` values: 0, after the head, after
    /// each fragment, after the tail), computed once.
    fn cum<'f>(&self, data: &[u8], f: &'f FragFile) -> Result<&'f [u64], FragError> {
        if let Some(c) = f.cum.get() {
            return Ok(c);
        }
        let mut cum = Vec::with_capacity(f.len + 3);
        cum.push(0u64);
        let mut scratch = Vec::new();
        let mut total = 0u64;
        for i in 0..f.len + 2 {
            scratch.clear();
            self.piece(data, f, i, &mut scratch)?;
            total += scratch.len() as u64;
            cum.push(total);
        }
        Ok(f.cum.get_or_init(|| cum.into_boxed_slice()))
    }

    /// The exact size of file `n`.
    pub(crate) fn size(&self, data: &[u8], n: u32) -> Result<u64, FragError> {
        let f = &self.files[n as usize];
        Ok(*self.cum(data, f)?.last().expect("never empty"))
    }

    /// Reads from `offset` into `buf`, rendering only the pieces that
    /// overlap the range.
    pub(crate) fn read(&self, data: &[u8], n: u32, offset: u64, buf: &mut [u8]) -> Result<usize, FragError> {
        let f = &self.files[n as usize];
        let cum = self.cum(data, f)?;
        let total = *cum.last().expect("never empty");
        if offset >= total || buf.is_empty() {
            return Ok(0);
        }
        // The piece holding `offset`: cum[i] <= offset < cum[i + 1].
        let mut i = cum.partition_point(|&c| c <= offset) - 1;
        let mut done = 0usize;
        let mut scratch = Vec::new();
        while done < buf.len() && i < f.len + 2 {
            scratch.clear();
            self.piece(data, f, i, &mut scratch)?;
            let skip = (offset + done as u64).saturating_sub(cum[i]) as usize;
            let take = scratch.len().saturating_sub(skip).min(buf.len() - done);
            if take > 0 {
                buf[done..done + take].copy_from_slice(&scratch[skip..skip + take]);
            }
            done += take;
            i += 1;
        }
        Ok(done)
    }

    /// The whole file.
    pub(crate) fn render(&self, data: &[u8], n: u32, out: &mut Vec<u8>) -> Result<(), FragError> {
        let f = &self.files[n as usize];
        for i in 0..f.len + 2 {
            self.piece(data, f, i, out)?;
        }
        Ok(())
    }

    pub(crate) fn heap_bytes(&self) -> usize {
        self.arenas.iter().map(|a| a.len() * 8).sum::<usize>()
            + self.files.capacity() * std::mem::size_of::<FragFile>()
            + self.files.iter().filter_map(|f| f.cum.get()).map(|c| c.len() * 8).sum::<usize>()
    }
}
