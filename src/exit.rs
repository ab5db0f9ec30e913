//! Exit codes and the one failure type every command ends with: a code
//! and one line for stderr (`docs/cli.md`, "Exit codes").

/// Success.
pub(crate) const EXIT_OK: u8 = 0;
/// Bad usage, or the environment (missing file, busy target, I/O).
pub(crate) const EXIT_USAGE: u8 = 1;
/// The snapshot (or a tree to pack) is malformed.
pub(crate) const EXIT_DATA: u8 = 2;
/// `diff`: the two snapshots differ (1 and 2 already mean failures).
pub(crate) const EXIT_DIFFERENT: u8 = 3;

/// A failed command: its exit code and the one line that says why.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct Failure {
    pub code: u8,
    pub message: String,
}

impl Failure {
    /// Usage or environment (exit 1).
    pub(crate) fn usage(message: impl Into<String>) -> Self {
        Failure { code: EXIT_USAGE, message: message.into() }
    }

    /// An outcome told by the exit code alone, with nothing on stderr.
    pub(crate) fn silent(code: u8) -> Self {
        Failure { code, message: String::new() }
    }

    /// Malformed data (exit 2).
    pub(crate) fn data(message: impl Into<String>) -> Self {
        Failure { code: EXIT_DATA, message: message.into() }
    }
}
