//! The mtimes of `MANIFEST.json` and `CHECKSUMS` (`design.md` §5).
//!
//! rsync's quick check skips a file whose size and mtime did not change.
//! Both files are rendered from the snapshot *and* from decode options, so
//! two mounts of one snapshot with different options can give a file new
//! bytes of the same size (`--cluster-id ek-a` then `ek-b`, one boolean of
//! `exclusions` flipped, a changed MANIFEST.json hashed into CHECKSUMS). An
//! incremental rsync would then keep the stale copy and `sha256sum -c`
//! would fail. So each file's mtime is the snapshot's commit time moved by
//! a whole number of seconds (archive filesystems and rsync may drop
//! sub-second parts) that is a function of exactly the options that change
//! its bytes: zero for upstream's defaults, distinct for every combination
//! of flags, and different for different cluster ids but for a 1 in 8191
//! hash coincidence.

use sha2::{Digest, Sha256};

use crate::adapters::route::Adapter;
use crate::index::DecodeOptions;

/// Bits 0..=10 hold the flags; the cluster id's tag sits above them.
const FLAG_BITS: u32 = 11;
/// Cluster-id tags are 1..=CLUSTER_TAGS (0 means no id): the largest shift
/// stays below 2^24 s (~194 days).
const CLUSTER_TAGS: u64 = (1 << 13) - 1;

/// Flags (bits 0..=9) and cluster id of the options `MANIFEST.json` records.
fn manifest_code(o: &DecodeOptions) -> u64 {
    let mut code = 0u64;
    for (bit, a) in Adapter::ALL.into_iter().enumerate() {
        if !o.enabled(a) {
            code |= 1 << bit;
        }
    }
    for (bit, on) in [
        (4, o.include_incomplete_uploads),
        (5, o.include_orphans),
        (6, o.preserve_sqs_visibility),
        (7, o.include_sqs_side_records),
        (8, o.rename_collisions),
        (9, o.dynamodb_bundle_jsonl),
    ] {
        if on {
            code |= 1 << bit;
        }
    }
    code | cluster_tag(&o.cluster_id) << FLAG_BITS
}

fn cluster_tag(id: &str) -> u64 {
    if id.is_empty() {
        return 0;
    }
    let digest = Sha256::digest(id.as_bytes());
    let head = u64::from_be_bytes(digest[..8].try_into().expect("8 bytes"));
    1 + head % CLUSTER_TAGS
}

/// Seconds `MANIFEST.json`'s mtime moves: every option it records.
pub(crate) fn manifest_shift_secs(o: &DecodeOptions) -> u64 {
    manifest_code(o)
}

/// Seconds `CHECKSUMS`' mtime moves: it lists MANIFEST.json's digest, so
/// every option that file records, plus those that change other files'
/// bytes without being recorded (`--include-expired`).
pub(crate) fn checksums_shift_secs(o: &DecodeOptions) -> u64 {
    manifest_code(o) | u64::from(o.include_expired) << 10
}

/// The HLC timestamp `ts` moved by `secs` whole seconds: back in time (a
/// generated file is never newer than its snapshot), or forward when the
/// commit time is too close to the epoch to move back. Either way a
/// non-zero shift never lands on `ts`, and two different shifts never
/// land on the same time.
pub(crate) fn shifted(ts: u64, secs: u64) -> u64 {
    let by = secs.saturating_mul(1000) << 16;
    if ts >= by {
        ts - by
    } else {
        ts.saturating_add(by)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::codec::hlctime::hlc_to_unix;

    /// 2026-11-20T08:00:00.250Z, logical 3.
    const TS: u64 = (1_795_161_600_250 << 16) | 3;

    fn with(f: impl FnOnce(&mut DecodeOptions)) -> DecodeOptions {
        let mut o = DecodeOptions::default();
        f(&mut o);
        o
    }

    #[test]
    fn default_options_keep_the_commit_time() {
        let o = DecodeOptions::default();
        assert_eq!(shifted(TS, manifest_shift_secs(&o)), TS);
        assert_eq!(shifted(TS, checksums_shift_secs(&o)), TS);
        // The source path is not an option: it never moves an mtime.
        let p = with(|o| o.source_path = "/elsewhere/demo.fsm".into());
        assert_eq!(manifest_shift_secs(&p), 0);
    }

    #[test]
    fn shifts_are_whole_seconds_and_keep_the_millisecond_part() {
        let o = with(|o| o.cluster_id = "ek-prod".into());
        let secs = manifest_shift_secs(&o);
        assert!(secs > 0);
        let (s0, n0) = hlc_to_unix(TS);
        let (s1, n1) = hlc_to_unix(shifted(TS, secs));
        assert_eq!(n1, n0);
        assert_eq!(s0 - s1, secs as i64, "moved back by exactly the shift");
    }

    #[test]
    fn every_flag_combination_has_its_own_mtime() {
        let mut seen = std::collections::HashMap::new();
        for mask in 0u32..1 << 11 {
            let o = with(|o| {
                o.adapters = Adapter::ALL
                    .into_iter()
                    .enumerate()
                    .filter(|(i, _)| mask & 1 << i == 0)
                    .map(|(_, a)| a)
                    .collect();
                o.include_incomplete_uploads = mask & 1 << 4 != 0;
                o.include_orphans = mask & 1 << 5 != 0;
                o.preserve_sqs_visibility = mask & 1 << 6 != 0;
                o.include_sqs_side_records = mask & 1 << 7 != 0;
                o.rename_collisions = mask & 1 << 8 != 0;
                o.dynamodb_bundle_jsonl = mask & 1 << 9 != 0;
                o.include_expired = mask & 1 << 10 != 0;
            });
            let t = shifted(TS, checksums_shift_secs(&o));
            assert_eq!(t == TS, mask == 0, "only the defaults keep the commit time (mask {mask:b})");
            if let Some(prev) = seen.insert(t, mask) {
                panic!("masks {prev:b} and {mask:b} share an mtime");
            }
        }
    }

    #[test]
    fn include_expired_moves_checksums_only() {
        let o = with(|o| o.include_expired = true);
        assert_eq!(manifest_shift_secs(&o), 0, "MANIFEST.json does not record it");
        assert_ne!(checksums_shift_secs(&o), 0);
    }

    #[test]
    fn cluster_ids_of_one_length_get_different_mtimes() {
        let ids = ["ek-a", "ek-b", "ek-c", "prod", "test", "0001", "0002"];
        let mut shifts: Vec<u64> =
            ids.iter().map(|id| manifest_shift_secs(&with(|o| o.cluster_id = (*id).into()))).collect();
        assert!(shifts.iter().all(|&s| s != 0 && s < 1 << 24));
        shifts.sort();
        shifts.dedup();
        assert_eq!(shifts.len(), ids.len());
        // A cluster id and a flag combine: neither hides the other.
        let both = with(|o| {
            o.cluster_id = "ek-a".into();
            o.include_orphans = true;
        });
        assert_ne!(manifest_shift_secs(&both), manifest_shift_secs(&with(|o| o.cluster_id = "ek-a".into())));
    }

    #[test]
    fn near_the_epoch_the_shift_goes_forward() {
        assert_eq!(shifted(0, 0), 0);
        assert_eq!(shifted(0, 5), 5000 << 16);
        assert_eq!(shifted(2000 << 16, 5), 7000 << 16);
        assert_eq!(shifted(9000 << 16, 5), 4000 << 16);
        // Back and forward from one time never meet for different shifts.
        let t = 3000 << 16;
        assert_ne!(shifted(t, 2), shifted(t, 4));
    }
}
