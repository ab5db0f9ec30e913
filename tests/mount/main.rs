//! `fsmfs mount` on real FUSE mounts: the mounted tree equals `extract`'s,
//! standard tools work on it, the mount's life cycle and options, a
//! snapshot that changes underneath, Redis and SQS trees, and `pack`
//! reading straight from a mount.
//!
//! Needs /dev/fuse (and fusermount3 when not root). Without it the tests
//! print a note and pass, except under `CI=true`, where they fail.
//!
//! One test binary per area (`decode`, `mount`, `pack`); each module was
//! a test binary of its own. All tests share this process and run on
//! parallel threads, so none may change process-wide state (working
//! directory, environment, umask, signal dispositions, rlimits) except
//! the one every mount test wants: `common::fuse::become_subreaper` makes
//! this process the reaper of the daemons `fsmfs mount` leaves behind.
//! That is why the FUSE tests all live in this binary.

#[path = "../common"]
mod common {
    pub mod fuse;
    pub mod pack;
    pub mod redis_sqs;
    pub mod snap;
}

mod basics;
mod changing;
mod lifecycle;
mod pack_from_mount;
mod redis_sqs;
mod rsync;
