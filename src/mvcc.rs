//! One pass over the entries that leaves, for every user key, only its
//! newest version — and drops that too when it is a tombstone or (unless
//! asked otherwise) expired at the snapshot's commit time.
//!
//! Upstream's decoder dispatches every version, so older values resurrect;
//! fsmfs follows the live store's read rule instead (`design.md` §4).
//!
//! Versions of one key are normally adjacent in the sorted stream, newest
//! first, and that case is resolved on the fly. They can be separated only
//! when another user key has this one as a prefix, or the stream is not
//! sorted; the walk notices both and then resolves all keys globally by
//! hash, so correctness never depends on the fast path.

use crate::container::{self, decode_entry, entry_at, is_store_row, ContainerError, Layout, Probe};

#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct ScanOptions {
    /// Show entries whose `expireAt` is at or before the snapshot's commit.
    pub include_expired: bool,
}

/// What the scan saw, for `fsmfs info` and the logs.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct ScanStats {
    pub entries: u64,
    /// Raw store bookkeeping rows (`_meta_*`, encryption registry) skipped.
    pub(crate) store_rows: u64,
    /// Versions hidden because a newer version of the same key exists.
    pub(crate) older_versions: u64,
    /// Keys whose newest version is a tombstone.
    pub(crate) deleted: u64,
    /// Keys whose newest version expired at the snapshot's commit time.
    pub(crate) expired: u64,
    /// Versions newer than the stream's `lastCommitTS` (an anomaly that
    /// restore tooling rejects; kept, but reported).
    pub(crate) future_versions: u64,
    pub live: u64,
    /// `_meta_applied_index`, when the stream carries it.
    pub(crate) applied_index: Option<u64>,
    /// Whether the global (hash) resolution pass had to run.
    pub(crate) global_resolution: bool,
}

/// The live entries of a snapshot, as offsets into the mapping, in stream
/// order.
pub(crate) struct Scan {
    pub(crate) layout: Layout,
    pub live: Vec<u64>,
    pub(crate) stats: ScanStats,
}

/// Walks the whole file once. `progress` receives the byte position now and
/// then so a caller can draw a bar.
pub(crate) fn scan(
    data: &[u8],
    opts: ScanOptions,
    progress: &mut dyn FnMut(u64),
) -> Result<Scan, ContainerError> {
    let probe = container::detect(data)?;
    // An engine file's footer CRC is checked on the second core while this
    // one walks the entries.
    let footer_expected = probe.header.is_some() && data.len() >= 4;
    std::thread::scope(|s| {
        let crc_job = footer_expected.then(|| s.spawn(|| container::crc32c(&data[..data.len() - 4])));
        let walked = walk(data, &probe, opts, progress);
        let crc_job = crc_job.map(|h| h.join().unwrap_or(0));
        let crc = || crc_job.unwrap_or_else(|| container::crc32c(&data[..data.len() - 4]));
        let (candidates, mut stats, unordered, end) = match walked {
            Ok(w) => w,
            Err(e) => {
                // A framing error in an engine file is reported as a CRC
                // mismatch when the footer does not match either.
                return Err(probe.settle(data, Err(e.clone()), crc).err().unwrap_or(e));
            }
        };
        let layout = probe.settle(data, end, crc)?;
        stats.global_resolution = unordered;
        let live = resolve(data, &probe, candidates, unordered, opts, &mut stats);
        Ok(Scan { layout, live, stats })
    })
}

type Walked = (Vec<u64>, ScanStats, bool, Result<container::StreamEnd, ContainerError>);

fn walk(
    data: &[u8],
    probe: &Probe,
    _opts: ScanOptions,
    progress: &mut dyn FnMut(u64),
) -> Result<Walked, ContainerError> {
    let mut stats = ScanStats::default();
    let mut candidates: Vec<u64> = Vec::new();
    let mut unordered = false;
    // The last kept candidate: its encoded key, user key and commit ts.
    let mut prev: Option<(&[u8], &[u8], u64)> = None;
    let mut entries = probe.entries(data);
    for raw in entries.by_ref() {
        stats.entries += 1;
        if stats.entries % 65536 == 0 {
            progress(raw.offset);
        }
        if is_store_row(raw.key) {
            stats.store_rows += 1;
            if raw.key == b"_meta_applied_index" && raw.value.len() == 8 {
                stats.applied_index = Some(u64::from_le_bytes(raw.value.try_into().unwrap_or([0; 8])));
            }
            continue;
        }
        let e = decode_entry(raw)?;
        if e.header.commit_ts > probe.last_commit_ts {
            stats.future_versions += 1;
        }
        if let Some((prev_key, prev_user, prev_ts)) = prev {
            if raw.key < prev_key {
                unordered = true;
            }
            if e.user_key == prev_user {
                // Adjacent versions: keep the newer one in place.
                stats.older_versions += 1;
                if e.header.commit_ts > prev_ts {
                    *candidates.last_mut().expect("prev implies a candidate") = raw.offset;
                    prev = Some((raw.key, e.user_key, e.header.commit_ts));
                }
                continue;
            }
            // A key that is a proper prefix of the previous one may have
            // versions on both sides of it (see the module comment).
            if prev_user.starts_with(e.user_key) {
                unordered = true;
            }
        }
        candidates.push(raw.offset);
        prev = Some((raw.key, e.user_key, e.header.commit_ts));
    }
    progress(entries.position());
    let end = entries.outcome().cloned().unwrap_or(Ok(container::StreamEnd::Clean));
    if let Err(e) = &end {
        return Err(e.clone());
    }
    Ok((candidates, stats, unordered, end))
}

/// Applies the global newest-wins rule (when needed) and the tombstone and
/// expiry rules, returning the live offsets in stream order.
fn resolve(
    data: &[u8],
    probe: &Probe,
    mut candidates: Vec<u64>,
    unordered: bool,
    opts: ScanOptions,
    stats: &mut ScanStats,
) -> Vec<u64> {
    let user = |off: u64| entry_at(data, off).expect("validated by the walk");
    if unordered {
        let mut by_hash: Vec<(u64, u32)> =
            candidates.iter().enumerate().map(|(i, &off)| (hash_key(user(off).user_key), i as u32)).collect();
        by_hash.sort_unstable();
        let mut losers = vec![false; candidates.len()];
        let mut i = 0;
        while i < by_hash.len() {
            let mut j = i + 1;
            while j < by_hash.len() && by_hash[j].0 == by_hash[i].0 {
                j += 1;
            }
            if j - i > 1 {
                mark_older(&by_hash[i..j], &candidates, &user, &mut losers);
            }
            i = j;
        }
        let mut k = 0;
        candidates.retain(|_| {
            let keep = !losers[k];
            k += 1;
            keep
        });
        stats.older_versions += losers.iter().filter(|&&l| l).count() as u64;
    }
    let mut live = Vec::with_capacity(candidates.len());
    for off in candidates {
        let h = user(off).header;
        if h.tombstone {
            stats.deleted += 1;
        } else if h.expire_at != 0 && h.expire_at <= probe.last_commit_ts && !opts.include_expired {
            stats.expired += 1;
        } else {
            live.push(off);
        }
    }
    live.shrink_to_fit();
    stats.live = live.len() as u64;
    live
}

/// Within a run of equal hashes, keeps for each distinct user key only the
/// newest version (the later one in the stream when timestamps tie).
fn mark_older<'a>(
    run: &[(u64, u32)],
    candidates: &[u64],
    user: &dyn Fn(u64) -> container::Entry<'a>,
    losers: &mut [bool],
) {
    for (a, &(_, ia)) in run.iter().enumerate() {
        let ea = user(candidates[ia as usize]);
        for &(_, ib) in &run[a + 1..] {
            if losers[ib as usize] || losers[ia as usize] {
                continue;
            }
            let eb = user(candidates[ib as usize]);
            if ea.user_key != eb.user_key {
                continue;
            }
            let a_wins = (ea.header.commit_ts, ia) > (eb.header.commit_ts, ib);
            losers[if a_wins { ib } else { ia } as usize] = true;
        }
    }
}

/// A fast, non-cryptographic 64-bit hash (multiply–rotate over 8-byte
/// words); collisions are settled by comparing the keys themselves.
fn hash_key(key: &[u8]) -> u64 {
    const K: u64 = 0x9E37_79B9_7F4A_7C15;
    let mut h = key.len() as u64;
    let mut chunks = key.chunks_exact(8);
    for c in &mut chunks {
        let w = u64::from_le_bytes(c.try_into().expect("8 bytes"));
        h = (h.rotate_left(5) ^ w).wrapping_mul(K);
    }
    let mut tail = [0u8; 8];
    tail[..chunks.remainder().len()].copy_from_slice(chunks.remainder());
    h = (h.rotate_left(5) ^ u64::from_le_bytes(tail)).wrapping_mul(K);
    h ^ (h >> 29)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::container::writer::{encode_key, encode_value, StreamWriter};

    const T: u64 = 1_000_000;

    struct E {
        key: &'static [u8],
        ts: u64,
        tomb: bool,
        expire: u64,
        body: &'static [u8],
    }

    fn e(key: &'static [u8], ts: u64, body: &'static [u8]) -> E {
        E { key, ts, tomb: false, expire: 0, body }
    }

    fn build(mut es: Vec<E>, sort: bool) -> Vec<u8> {
        if sort {
            es.sort_by_key(|x| encode_key(x.key, x.ts));
        }
        let mut w = StreamWriter::new(Vec::new(), T).unwrap();
        for x in &es {
            w.entry(&encode_key(x.key, x.ts), &[&encode_value(x.tomb, x.expire, x.body)]).unwrap();
        }
        w.finish()
    }

    type KeyBody = (Vec<u8>, Vec<u8>);

    fn live(data: &[u8], opts: ScanOptions) -> (Vec<KeyBody>, ScanStats) {
        let s = scan(data, opts, &mut |_| {}).unwrap();
        let v = s
            .live
            .iter()
            .map(|&o| {
                let e = entry_at(data, o).unwrap();
                (e.user_key.to_vec(), e.body.to_vec())
            })
            .collect();
        (v, s.stats)
    }

    #[test]
    fn newest_version_wins_and_tombstones_hide() {
        let data = build(
            vec![
                e(b"a", 10, b"old"),
                e(b"a", 30, b"new"),
                e(b"a", 20, b"mid"),
                E { key: b"b", ts: 50, tomb: true, expire: 0, body: b"" },
                e(b"b", 40, b"resurrected?"),
                e(b"c", 5, b"only"),
            ],
            true,
        );
        let (v, st) = live(&data, ScanOptions::default());
        assert_eq!(v, vec![(b"a".to_vec(), b"new".to_vec()), (b"c".to_vec(), b"only".to_vec())]);
        assert_eq!((st.older_versions, st.deleted, st.live, st.global_resolution), (3, 1, 2, false));
    }

    #[test]
    fn versions_split_by_an_extending_key_are_resolved() {
        // "k" ‖ ^ts sorts around "k\xfe…" because ^ts starts with 0xff.
        let data = build(
            vec![e(b"k", 10, b"old"), e(b"k", 30, b"new"), e(b"k\xff\xff\xff\xff\xff\xff\xff\xf0", 7, b"x")],
            true,
        );
        // Check the fixture really interleaves.
        let s = scan(&data, ScanOptions::default(), &mut |_| {}).unwrap();
        let (v, st) = live(&data, ScanOptions::default());
        assert!(st.global_resolution);
        assert_eq!(s.live.len(), 2);
        assert!(v.contains(&(b"k".to_vec(), b"new".to_vec())));
        assert!(!v.iter().any(|(_, b)| b == b"old"));
    }

    #[test]
    fn unsorted_streams_still_resolve() {
        let data =
            build(vec![e(b"z", 1, b"z1"), e(b"a", 1, b"a1"), e(b"z", 9, b"z9"), e(b"a", 0, b"a0")], false);
        let (mut v, st) = live(&data, ScanOptions::default());
        v.sort();
        assert_eq!(v, vec![(b"a".to_vec(), b"a1".to_vec()), (b"z".to_vec(), b"z9".to_vec())]);
        assert_eq!(st.older_versions, 2);
    }

    #[test]
    fn expiry_is_judged_at_the_snapshot_commit_ts() {
        let data = build(
            vec![
                E { key: b"gone", ts: 1, tomb: false, expire: T, body: b"" },
                E { key: b"kept", ts: 1, tomb: false, expire: T + 1, body: b"" },
            ],
            true,
        );
        let (v, st) = live(&data, ScanOptions::default());
        assert_eq!(v.len(), 1);
        assert_eq!(v[0].0, b"kept");
        assert_eq!(st.expired, 1);
        let (v, _) = live(&data, ScanOptions { include_expired: true });
        assert_eq!(v.len(), 2);
    }

    #[test]
    fn store_rows_are_skipped_and_counted() {
        let mut w = StreamWriter::new(Vec::new(), T).unwrap();
        w.live(b"!x", 1, b"v").unwrap();
        w.entry(b"_meta_applied_index", &[&42u64.to_le_bytes()]).unwrap();
        w.entry(b"_meta_last_commit_ts", &[&T.to_le_bytes()]).unwrap();
        let data = w.finish();
        let (v, st) = live(&data, ScanOptions::default());
        assert_eq!(v.len(), 1);
        assert_eq!((st.store_rows, st.applied_index), (2, Some(42)));
    }

    #[test]
    fn future_versions_are_counted() {
        let data = build(vec![e(b"a", T + 5, b"v")], true);
        let (_, st) = live(&data, ScanOptions::default());
        assert_eq!(st.future_versions, 1);
    }
}
