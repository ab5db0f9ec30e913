//! The read side: decoding snapshots of every layout and adapter into the
//! dump tree (golden copies, properties, malformed data), `extract` and
//! its interruptions, the error lines of `ls`, `cat` and `info`, and a
//! short deterministic run of every fuzz target (`fuzz_smoke`); the
//! generated man pages and completions and `scripts/install` (`cli_docs`).
//!
//! One test binary per area (`decode`, `mount`, `pack`); each module was
//! a test binary of its own. All tests share this process and run on
//! parallel threads, so none may change process-wide state (working
//! directory, environment, umask, signal dispositions, rlimits): such code
//! runs in a child process (`Command::pre_exec`, or the fsmfs binary).

#[path = "../common"]
mod common {
    pub mod pack;
    pub mod prop_config;
    pub mod redis_sqs;
    pub mod snap;
}

mod cli_docs;
mod cli_user_errors;
mod demo;
mod diff;
mod errors;
mod errors_redis_sqs;
mod extract_interrupt;
mod fuzz_smoke;
mod golden;
mod layouts;
mod property;
mod redis;
mod sqs;
