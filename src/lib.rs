//! fsmfs: serve an elastickv `.fsm` snapshot as the directory tree of a
//! logical backup, and pack such a tree back into a snapshot.
//!
//! Layers, outside in: `container` (file shapes, entry framing) →
//! `mvcc` (newest live version per key) → `adapters` (key families to
//! files) → `tree` (the index) → `views` (bytes of a file) → the
//! front ends (`extract`, `fuse`, the CLI).
//!
//! Visibility: an item is `pub` only when something outside the library
//! uses it (the binary, `tests/`, `examples/`, `fuzz/`); everything else is
//! `pub(crate)` or private. `unreachable_pub` keeps `pub` items inside
//! crate-private modules from creeping back.

#![warn(unreachable_pub)]

pub mod adapters;
pub mod codec;
pub mod container;
pub(crate) mod dumptree;
pub(crate) mod exit;
pub mod index;
pub mod keys;
pub(crate) mod mvcc;
pub(crate) mod tree;

pub mod cli;
pub mod diff;
pub(crate) mod errpath;
pub mod extract;
pub mod fuse;
pub mod fuzz_targets;
pub mod info;
pub mod pack;
pub(crate) mod progress;
pub(crate) mod temps;
