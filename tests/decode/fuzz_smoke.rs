//! A short, deterministic run of the fuzz targets (`docs/fuzzing.md`):
//! every seed, then a fixed set of mutations of each (a seeded PRNG:
//! byte flips, interesting values, length fields, inserts, deletions,
//! truncations, splices), through every target of
//! `fsmfs::fuzz_targets`, together with the crashes coverage-guided runs
//! found (`tests/data/fuzz_regressions/<target>/`, none so far).

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use fsmfs::fuzz_targets::{seeds, Seed, Target, TARGETS};

fn repo() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// Built once per test binary (packing the golden trees takes a moment).
fn all_seeds() -> &'static [Seed] {
    static SEEDS: OnceLock<Vec<Seed>> = OnceLock::new();
    SEEDS.get_or_init(|| {
        let scratch = tempfile::tempdir().unwrap();
        seeds::collect(repo(), scratch.path()).unwrap()
    })
}

/// xorshift64*: fixed seeds make every run the same.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
}

const INTERESTING: [u64; 10] = [0, 1, 7, 8, 0x7f, 0x80, 0xff, 0xffff, 0x7fff_ffff, u64::MAX];

/// One to four stacked edits of `input`; `donor` supplies spliced bytes.
fn mutate(rng: &mut Rng, input: &[u8], donor: &[u8]) -> Vec<u8> {
    let mut b = input.to_vec();
    for _ in 0..1 + rng.below(4) {
        let at = rng.below(b.len() + 1);
        let last = b.len().saturating_sub(1);
        match rng.below(9) {
            0 if !b.is_empty() => b[at.min(last)] ^= 1 << rng.below(8),
            1 if !b.is_empty() => b[at.min(last)] = INTERESTING[rng.below(INTERESTING.len())] as u8,
            // Length prefixes and timestamps are 8-byte integers.
            2 if b.len() >= 8 => {
                let at = at.min(b.len() - 8);
                let v = INTERESTING[rng.below(INTERESTING.len())].wrapping_add(rng.below(3) as u64);
                let bytes = if rng.below(2) == 0 { v.to_le_bytes() } else { v.to_be_bytes() };
                b[at..at + 8].copy_from_slice(&bytes);
            }
            3 => b.insert(at, rng.next() as u8),
            4 if !b.is_empty() => {
                let at = at.min(b.len() - 1);
                let n = 1 + rng.below((b.len() - at).min(64));
                b.drain(at..at + n);
            }
            5 => b.truncate(at),
            6 if !donor.is_empty() => {
                let from = rng.below(donor.len());
                let n = 1 + rng.below((donor.len() - from).min(256));
                b.splice(at..at, donor[from..from + n].iter().copied());
            }
            7 if !b.is_empty() => {
                let from = rng.below(b.len());
                let n = 1 + rng.below((b.len() - from).min(64));
                let chunk = b[from..from + n].to_vec();
                b.splice(at..at, chunk);
            }
            _ => {
                let c =
                    [b'{', b'}', b'[', b']', b'"', b',', b':', b'\\', b'0', b'-', b'e', b'\n', 0xc3, 0x80];
                b.insert(at, c[rng.below(c.len())]);
            }
        }
    }
    b
}

/// Runs one input; on a panic, keeps the input where it can be replayed.
fn run(name: &str, target: Target, what: &str, input: &[u8]) {
    if catch_unwind(AssertUnwindSafe(|| target(input))).is_err() {
        let dir = repo().join("target/fuzz-smoke-failures").join(name);
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join(what.replace('/', "_"));
        std::fs::write(&path, input).unwrap();
        panic!("{name}: {what} panicked; input saved to {}", path.display());
    }
}

/// Mutations per seed: a budget of bytes processed, so the 270 KB demo
/// snapshot gets a few runs and a 300-byte item file a few hundred.
fn mutations(target: &str, len: usize) -> usize {
    let budget: usize = if matches!(target, "index" | "container") { 2_000_000 } else { 1_000_000 };
    (budget / len.max(200)).clamp(4, 1_000)
}

/// Inputs the coverage-guided runs found crashing, kept (minimized) in
/// `tests/data/fuzz_regressions/<target>/`: replayed and mutated like
/// seeds.
fn regressions(target: &'static str) -> Vec<Seed> {
    let dir = repo().join("tests/data/fuzz_regressions").join(target);
    let Ok(entries) = std::fs::read_dir(&dir) else { return Vec::new() };
    let mut files: Vec<PathBuf> = entries.map(|e| e.unwrap().path()).collect();
    files.sort();
    files
        .into_iter()
        .map(|f| Seed {
            target,
            name: format!("regression.{}", f.file_name().unwrap().to_string_lossy()),
            bytes: std::fs::read(&f).unwrap(),
        })
        .collect()
}

fn smoke(name: &'static str) {
    let target = TARGETS.iter().find(|(n, _)| *n == name).expect("a target").1;
    let mut seeds: Vec<Seed> = all_seeds().iter().filter(|s| s.target == name).cloned().collect();
    seeds.extend(regressions(name));
    assert!(!seeds.is_empty(), "{name}: no seeds");
    let mut rng = Rng(0x9E37_79B9_7F4A_7C15 ^ name.len() as u64);
    let mut runs = 0;
    let started = std::time::Instant::now();
    for (i, seed) in seeds.iter().enumerate() {
        let t0 = std::time::Instant::now();
        run(name, target, &seed.name, &seed.bytes);
        let donor = &seeds[(i + 1) % seeds.len()].bytes;
        for m in 0..mutations(name, seed.bytes.len()) {
            let input = mutate(&mut rng, &seed.bytes, donor);
            run(name, target, &format!("{}.mut{m}", seed.name), &input);
            runs += 1;
        }
        if std::env::var_os("FUZZ_SMOKE_TIMES").is_some() {
            eprintln!("{name}: {} ({} bytes): {:?}", seed.name, seed.bytes.len(), t0.elapsed());
        }
    }
    eprintln!("{name}: {} seeds, {runs} mutations in {:?}", seeds.len(), started.elapsed());
}

#[test]
fn container_survives_seeds_and_mutations() {
    smoke("container");
}

#[test]
fn index_survives_seeds_and_mutations() {
    smoke("index");
}

#[test]
fn pack_manifest_survives_seeds_and_mutations() {
    smoke("pack_manifest");
}

#[test]
fn pack_dynamodb_survives_seeds_and_mutations() {
    smoke("pack_dynamodb");
}

#[test]
fn pack_s3_survives_seeds_and_mutations() {
    smoke("pack_s3");
}

#[test]
fn pack_redis_survives_seeds_and_mutations() {
    smoke("pack_redis");
}

#[test]
fn pack_sqs_survives_seeds_and_mutations() {
    smoke("pack_sqs");
}

/// Every target has its seeds: a seed source that silently vanished (a
/// renamed golden tree, a pack that stopped accepting them) would leave a
/// target fuzzing nothing.
#[test]
fn every_target_has_seeds_of_every_kind() {
    let seeds = all_seeds();
    for (name, _) in TARGETS {
        assert!(seeds.iter().any(|s| s.target == *name), "{name}: no seeds");
    }
    let snapshots =
        |suffix: &str| seeds.iter().filter(|s| s.target == "index" && s.name.ends_with(suffix)).count();
    assert!(snapshots(".unsorted.fsm") >= 10, "packed golden trees with versions");
    for shape in [".engine1.fsm", ".engine1-nofooter.fsm", ".engine2.fsm", ".legacy.fsm"] {
        assert!(snapshots(shape) >= 4, "{shape}: one per adapter");
    }
}
