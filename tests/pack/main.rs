//! `fsmfs pack`: byte-exact output per adapter (DynamoDB, S3, Redis,
//! SQS), round trips through `extract`, properties, the self-test, refused
//! and hostile trees, and an output that is published atomically or not
//! at all.
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

mod atomic;
mod bytes;
mod errors;
mod hostile;
mod property;
mod redis;
mod roundtrip;
mod selftest;
mod sqs;
