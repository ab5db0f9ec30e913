//! Proptest settings shared by the property tests.

use proptest::test_runner::{Config, FileFailurePersistence};

/// `cases` runs; failing cases are kept in `<module>.proptest-regressions`
/// beside the module's source file and replayed first on every run.
/// Proptest's default (`SourceParallel`) would instead walk up to the
/// nearest `main.rs` — the area's — and use
/// `tests/proptest-regressions/<module>.txt`, one file for both
/// `decode/property.rs` and `pack/property.rs`.
pub fn config(cases: u32) -> Config {
    Config {
        cases,
        failure_persistence: Some(Box::new(FileFailurePersistence::WithSource("proptest-regressions"))),
        ..Config::default()
    }
}
