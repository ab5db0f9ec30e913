//! Writes the fuzz seed corpus (`fsmfs::fuzz_targets::seeds`) as
//! `DIR/<target>/<seed name>`, one directory per `cargo fuzz` target.
//! Existing files are kept, so a corpus directory can also hold what
//! earlier runs found.
//!
//! Run: `scripts/fuzz` (or `cargo run --example fuzz_seeds -- fuzz/corpus`).

use std::path::{Path, PathBuf};

fn main() {
    let Some(dir) = std::env::args_os().nth(1).map(PathBuf::from) else {
        eprintln!("usage: fuzz_seeds DIR");
        std::process::exit(1);
    };
    let repo = Path::new(env!("CARGO_MANIFEST_DIR"));
    let scratch = tempfile::tempdir().expect("a scratch directory");
    let seeds = fsmfs::fuzz_targets::seeds::collect(repo, scratch.path()).unwrap_or_else(|e| {
        eprintln!("fuzz_seeds: {e}");
        std::process::exit(1);
    });
    for s in &seeds {
        let target = dir.join(s.target);
        std::fs::create_dir_all(&target)
            .and_then(|_| std::fs::write(target.join(&s.name), &s.bytes))
            .unwrap_or_else(|e| {
                eprintln!("fuzz_seeds: {}: {e}", target.display());
                std::process::exit(1);
            });
    }
    eprintln!("fuzz_seeds: {} seeds under {}", seeds.len(), dir.display());
}
