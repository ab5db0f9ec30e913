//! The entry set of a pack, sorted by full encoded key within a memory
//! budget (`pack.md` §5.3–§5.4).
//!
//! Entries arrive unsorted from the adapters: an encoded key (user key ‖
//! `u64be(^T)`) and a value that is either bytes (JSON, protobuf: small) or
//! a reference to a byte range of an input file (an S3 body chunk: never
//! loaded here). Keys and inline values go to one arena; when the arena and
//! its index reach the budget they are sorted and spilled to an unnamed
//! file as a sorted run. `finish` then merges the runs (or sorts the lone
//! in-memory batch) and hands the entries out in key order, refusing
//! duplicate keys.

use std::cmp::Ordering;
use std::collections::BinaryHeap;
use std::fs::File;
use std::io::{self, BufReader, BufWriter, Read, Seek, SeekFrom, Write};
use std::path::PathBuf;

use crate::container::{TS_SUFFIX_LEN, VALUE_HEADER_LEN};
use crate::dumptree::fsio::FileId;

/// Largest user key (`len + 8 ≤ 1 MiB + 8`).
pub(super) const MAX_USER_KEY: usize = 1 << 20;
/// Largest user value (`len + 9 ≤ 256 MiB + 9 + 34`).
use crate::container::MAX_USER_VALUE;

const KIND_INLINE: u8 = 0;
const KIND_FILE: u8 = 1;
/// dev, ino, size, offset (u64 each) and len (u32) before the path.
const FILE_REF_FIXED: usize = 36;

/// Where a value's bytes are.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Value<'a> {
    Inline(&'a [u8]),
    File(FileRef<'a>),
}

use crate::dumptree::FileRef;

impl<'a> FileRef<'a> {
    fn encode(&self, out: &mut Vec<u8>) {
        for v in [self.id.dev, self.id.ino, self.id.size, self.offset] {
            out.extend_from_slice(&v.to_le_bytes());
        }
        out.extend_from_slice(&self.len.to_le_bytes());
        out.extend_from_slice(self.path);
    }

    fn decode(b: &'a [u8]) -> FileRef<'a> {
        let u = |i: usize| u64::from_le_bytes(b[i * 8..i * 8 + 8].try_into().expect("8 bytes"));
        FileRef {
            id: FileId { dev: u(0), ino: u(1), size: u(2) },
            offset: u(3),
            len: u32::from_le_bytes(b[32..36].try_into().expect("4 bytes")),
            path: &b[FILE_REF_FIXED..],
        }
    }
}

/// Why an entry was refused or the merge failed.
#[derive(Debug)]
pub(super) enum SortError<E> {
    KeyTooLarge(usize),
    ValueTooLarge(usize),
    /// Two entries with the same encoded key (the user key is given).
    Duplicate(Vec<u8>),
    /// Spilling or reading back a run.
    Spill(io::Error),
    /// The consumer's own error.
    Emit(E),
}

#[derive(Clone, Copy)]
struct Item {
    off: usize,
    key_len: u32,
    payload_len: u32,
    kind: u8,
}

/// Accumulates entries; see the module docs.
pub(super) struct Sorter {
    commit_ts: u64,
    arena: Vec<u8>,
    items: Vec<Item>,
    arena_budget: usize,
    items_budget: usize,
    runs: Vec<File>,
    spill_dir: PathBuf,
    read_buf: usize,
    entries: u64,
    stream_len: u64,
}

impl Sorter {
    /// `budget` bounds the bytes held for sorting (arena and index);
    /// beyond it sorted runs go to unnamed files in `spill_dir`.
    pub(super) fn new(commit_ts: u64, budget: usize, spill_dir: PathBuf) -> Sorter {
        let budget = budget.max(1 << 16);
        Sorter {
            commit_ts,
            arena: Vec::new(),
            items: Vec::new(),
            // Growth doubles; keeping each part at or under half its share
            // leaves room for the copy during the last doubling.
            arena_budget: budget / 2,
            items_budget: (budget / 4 / std::mem::size_of::<Item>()).max(16),
            runs: Vec::new(),
            spill_dir,
            read_buf: 1 << 20,
            entries: 0,
            stream_len: crate::container::STREAM_HEADER_LEN as u64,
        }
    }

    /// Entries added so far.
    pub(super) fn entries(&self) -> u64 {
        self.entries
    }

    /// Size of the `EKVPBBL1` stream the entries make.
    pub(super) fn stream_len(&self) -> u64 {
        self.stream_len
    }

    /// Runs spilled so far.
    #[cfg(test)]
    pub(super) fn runs(&self) -> usize {
        self.runs.len()
    }

    fn check_sizes<E>(user_key: usize, value: usize) -> Result<(), SortError<E>> {
        if user_key > MAX_USER_KEY {
            return Err(SortError::KeyTooLarge(user_key));
        }
        if value > MAX_USER_VALUE {
            return Err(SortError::ValueTooLarge(value));
        }
        Ok(())
    }

    /// Adds an entry whose value bytes are given.
    pub(super) fn add<E>(&mut self, user_key: &[u8], value: &[u8]) -> Result<(), SortError<E>> {
        Self::check_sizes(user_key.len(), value.len())?;
        self.push(user_key, KIND_INLINE, value.len(), value.len(), |a| a.extend_from_slice(value))
    }

    /// Adds an entry whose value is `len` bytes of an input file.
    pub(super) fn add_file<E>(&mut self, user_key: &[u8], r: FileRef<'_>) -> Result<(), SortError<E>> {
        Self::check_sizes(user_key.len(), r.len as usize)?;
        self.push(user_key, KIND_FILE, FILE_REF_FIXED + r.path.len(), r.len as usize, |a| r.encode(a))
    }

    fn push<E>(
        &mut self,
        user_key: &[u8],
        kind: u8,
        payload_len: usize,
        value_len: usize,
        write: impl FnOnce(&mut Vec<u8>),
    ) -> Result<(), SortError<E>> {
        let need = user_key.len() + TS_SUFFIX_LEN + payload_len;
        if !self.room(need) {
            self.spill().map_err(SortError::Spill)?;
            if !self.room(need) {
                // A single entry larger than the budget: hold it alone.
                self.arena.reserve_exact(need);
            }
        }
        let off = self.arena.len();
        self.arena.extend_from_slice(user_key);
        self.arena.extend_from_slice(&(!self.commit_ts).to_be_bytes());
        write(&mut self.arena);
        debug_assert_eq!(self.arena.len(), off + need);
        self.items.push(Item {
            off,
            key_len: (user_key.len() + TS_SUFFIX_LEN) as u32,
            payload_len: payload_len as u32,
            kind,
        });
        self.entries += 1;
        self.stream_len += 16 + (user_key.len() + TS_SUFFIX_LEN + VALUE_HEADER_LEN + value_len) as u64;
        Ok(())
    }

    /// Makes room for `need` more arena bytes and one more item, within the
    /// budget; false when a spill is needed first.
    fn room(&mut self, need: usize) -> bool {
        if self.items.len() == self.items.capacity() {
            if self.items.len() >= self.items_budget {
                return false;
            }
            let want = (self.items.capacity() * 2).max(1024).min(self.items_budget);
            self.items.reserve_exact(want - self.items.len());
        }
        let len = self.arena.len();
        if len + need <= self.arena.capacity() {
            return true;
        }
        let want = (self.arena.capacity() * 2).max(len + need).max(1 << 20).min(self.arena_budget);
        if want < len + need {
            return false;
        }
        self.arena.reserve_exact(want - len);
        true
    }

    fn key(&self, it: &Item) -> &[u8] {
        &self.arena[it.off..it.off + it.key_len as usize]
    }

    fn payload(&self, it: &Item) -> &[u8] {
        let start = it.off + it.key_len as usize;
        &self.arena[start..start + it.payload_len as usize]
    }

    fn sort_batch(&mut self) {
        let arena = &self.arena;
        self.items.sort_unstable_by(|a, b| {
            arena[a.off..a.off + a.key_len as usize].cmp(&arena[b.off..b.off + b.key_len as usize])
        });
    }

    /// Sorts the batch in memory and writes it out as a run.
    fn spill(&mut self) -> io::Result<()> {
        if self.items.is_empty() {
            return Ok(());
        }
        self.sort_batch();
        let file = super::output::unnamed_file(&self.spill_dir)?;
        let mut w = BufWriter::with_capacity(1 << 20, file);
        for it in &self.items {
            w.write_all(&it.key_len.to_le_bytes())?;
            w.write_all(&[it.kind])?;
            w.write_all(&it.payload_len.to_le_bytes())?;
            w.write_all(self.key(it))?;
            w.write_all(self.payload(it))?;
        }
        let mut file = w.into_inner().map_err(|e| e.into_error())?;
        file.seek(SeekFrom::Start(0))?;
        self.runs.push(file);
        self.items.clear();
        self.arena.clear();
        log::debug!("pack: spilled sorted run {}", self.runs.len());
        Ok(())
    }

    /// Hands every entry to `emit` in ascending order of encoded key, as
    /// (encoded key, value). Two equal keys end it with `Duplicate`.
    pub(super) fn finish<E>(
        mut self,
        mut emit: impl FnMut(&[u8], Value<'_>) -> Result<(), E>,
    ) -> Result<(), SortError<E>> {
        let mut prev: Vec<u8> = Vec::new();
        let mut first = true;
        let mut check = |key: &[u8]| -> Result<(), SortError<E>> {
            if !first && prev == key {
                return Err(SortError::Duplicate(key[..key.len() - TS_SUFFIX_LEN].to_vec()));
            }
            first = false;
            prev.clear();
            prev.extend_from_slice(key);
            Ok(())
        };
        if self.runs.is_empty() {
            self.sort_batch();
            for it in &self.items {
                let key = self.key(it);
                check(key)?;
                emit(key, decode_value(it.kind, self.payload(it))).map_err(SortError::Emit)?;
            }
            return Ok(());
        }
        self.spill().map_err(SortError::Spill)?;
        // Free the batch memory before merging.
        self.arena = Vec::new();
        self.items = Vec::new();
        let per_run = (self.read_buf / self.runs.len()).clamp(64 << 10, 1 << 20);
        let mut readers: Vec<RunReader> = Vec::with_capacity(self.runs.len());
        let mut heap = BinaryHeap::with_capacity(self.runs.len());
        for (i, f) in std::mem::take(&mut self.runs).into_iter().enumerate() {
            let mut r = RunReader { r: BufReader::with_capacity(per_run, f), kind: 0, payload: Vec::new() };
            let mut key = Vec::new();
            if r.next(&mut key).map_err(SortError::Spill)? {
                heap.push(Head { key, run: i });
            }
            readers.push(r);
        }
        while let Some(Head { mut key, run }) = heap.pop() {
            check(&key)?;
            let r = &mut readers[run];
            emit(&key, decode_value(r.kind, &r.payload)).map_err(SortError::Emit)?;
            if r.next(&mut key).map_err(SortError::Spill)? {
                heap.push(Head { key, run });
            }
        }
        Ok(())
    }
}

fn decode_value(kind: u8, payload: &[u8]) -> Value<'_> {
    if kind == KIND_FILE {
        Value::File(FileRef::decode(payload))
    } else {
        Value::Inline(payload)
    }
}

struct RunReader {
    r: BufReader<File>,
    kind: u8,
    payload: Vec<u8>,
}

impl RunReader {
    /// Reads the next record into `key` and `self`; false at the end.
    fn next(&mut self, key: &mut Vec<u8>) -> io::Result<bool> {
        let mut head = [0u8; 9];
        match self.r.read_exact(&mut head[..1]) {
            Ok(()) => {}
            Err(e) if e.kind() == io::ErrorKind::UnexpectedEof => return Ok(false),
            Err(e) => return Err(e),
        }
        self.r.read_exact(&mut head[1..])?;
        let key_len = u32::from_le_bytes(head[0..4].try_into().expect("4")) as usize;
        self.kind = head[4];
        let payload_len = u32::from_le_bytes(head[5..9].try_into().expect("4")) as usize;
        key.resize(key_len, 0);
        self.r.read_exact(key)?;
        self.payload.resize(payload_len, 0);
        self.r.read_exact(&mut self.payload)?;
        Ok(true)
    }
}

/// A run's current key in the merge heap (a min-heap on key, then run).
struct Head {
    key: Vec<u8>,
    run: usize,
}

impl Ord for Head {
    fn cmp(&self, other: &Self) -> Ordering {
        other.key.cmp(&self.key).then(other.run.cmp(&self.run))
    }
}

impl PartialOrd for Head {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl PartialEq for Head {
    fn eq(&self, other: &Self) -> bool {
        self.cmp(other) == Ordering::Equal
    }
}

impl Eq for Head {}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::container::writer::encode_key;

    type Got = Vec<(Vec<u8>, Vec<u8>)>;

    fn drain(s: Sorter) -> Result<Got, SortError<()>> {
        let mut out = Vec::new();
        s.finish(|k, v| {
            let v = match v {
                Value::Inline(b) => b.to_vec(),
                Value::File(f) => [b"file:", f.path, &f.offset.to_be_bytes()].concat(),
            };
            out.push((k.to_vec(), v));
            Ok::<(), ()>(())
        })?;
        Ok(out)
    }

    fn sample(n: u32) -> Vec<(Vec<u8>, Vec<u8>)> {
        // A permutation with keys that are prefixes of others.
        (0..n)
            .map(|i| {
                let k = format!("k{}", (i * 7919) % n).into_bytes();
                let v = vec![b'v'; (i % 50) as usize];
                (k, v)
            })
            .collect()
    }

    fn expected(ts: u64, rows: &[(Vec<u8>, Vec<u8>)]) -> Got {
        let mut want: Got = rows.iter().map(|(k, v)| (encode_key(k, ts), v.clone())).collect();
        want.sort();
        want
    }

    #[test]
    fn in_memory_and_spilled_agree() {
        let ts = 0x018F_D118_9400_0003;
        let rows = sample(5000);
        for budget in [1 << 30, 1 << 16] {
            let tmp = tempfile::tempdir().unwrap();
            let mut s = Sorter::new(ts, budget, tmp.path().to_path_buf());
            for (k, v) in &rows {
                s.add::<()>(k, v).unwrap();
            }
            assert_eq!(s.entries(), 5000);
            let spilled = s.runs();
            assert_eq!(spilled > 0, budget < 1 << 20, "budget {budget}");
            let got = drain(s).map_err(|_| "drain").unwrap();
            assert_eq!(got, expected(ts, &rows));
            // Spill files are unnamed: nothing is left in the directory.
            assert_eq!(std::fs::read_dir(tmp.path()).unwrap().count(), 0);
        }
    }

    #[test]
    fn full_key_order_with_prefix_keys() {
        // §5.3: with T = 0x018FD11894000003 the suffix starts FE, so "ab"
        // sorts before "a".
        let ts = 0x018F_D118_9400_0003;
        let tmp = tempfile::tempdir().unwrap();
        let mut s = Sorter::new(ts, 1 << 30, tmp.path().to_path_buf());
        s.add::<()>(b"a", b"1").unwrap();
        s.add::<()>(b"ab", b"2").unwrap();
        let got = drain(s).map_err(|_| "drain").unwrap();
        assert_eq!(got[0].1, b"2");
        assert_eq!(got[1].1, b"1");
    }

    #[test]
    fn duplicates_and_caps() {
        for budget in [1 << 30, 1 << 16] {
            let tmp = tempfile::tempdir().unwrap();
            let mut s = Sorter::new(1, budget, tmp.path().to_path_buf());
            for (k, v) in sample(3000) {
                s.add::<()>(&k, &v).unwrap();
            }
            s.add::<()>(b"k17", b"again").unwrap();
            match drain(s) {
                Err(SortError::Duplicate(k)) => assert_eq!(k, b"k17"),
                other => panic!("{:?}", other.map(|_| ())),
            }
        }
        let tmp = tempfile::tempdir().unwrap();
        let mut s = Sorter::new(1, 1 << 20, tmp.path().to_path_buf());
        assert!(s.add::<()>(&vec![0; MAX_USER_KEY], b"").is_ok());
        assert!(matches!(s.add::<()>(&vec![0; MAX_USER_KEY + 1], b""), Err(SortError::KeyTooLarge(_))));
        assert!(matches!(
            s.add_file::<()>(
                b"k",
                FileRef {
                    path: b"p",
                    id: FileId { dev: 0, ino: 0, size: 0 },
                    offset: 0,
                    len: (MAX_USER_VALUE + 1) as u32
                }
            ),
            Err(SortError::ValueTooLarge(_))
        ));
    }

    #[test]
    fn file_refs_round_trip_through_runs() {
        let tmp = tempfile::tempdir().unwrap();
        let mut s = Sorter::new(9, 1 << 16, tmp.path().to_path_buf());
        let id = FileId { dev: 1, ino: 2, size: 3 };
        for i in 0..4000u64 {
            let key = format!("blob{i:05}");
            s.add_file::<()>(key.as_bytes(), FileRef { path: b"s3/b/obj", id, offset: i << 20, len: 7 })
                .unwrap();
        }
        let len = s.stream_len();
        assert_eq!(len, 16 + 4000 * (16 + 9 + 8 + 9 + 7));
        assert!(s.runs() > 0);
        let mut n = 0u64;
        s.finish(|k, v| {
            let Value::File(f) = v else { panic!("inline") };
            assert_eq!(f.id, id);
            assert_eq!(f.offset, n << 20);
            assert_eq!(f.path, b"s3/b/obj");
            assert!(k.starts_with(format!("blob{n:05}").as_bytes()));
            n += 1;
            Ok::<(), ()>(())
        })
        .map_err(|_| "finish")
        .unwrap();
        assert_eq!(n, 4000);
    }
}
