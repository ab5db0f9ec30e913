//! fsmfs: serve an elastickv `.fsm` snapshot as the directory tree of a
//! logical backup, and pack such a tree back into a snapshot.
//!
//! Layers, outside in: [`container`] (file shapes, entry framing) →
//! [`mvcc`] (newest live version per key) → [`adapters`] (key families to
//! files) → [`tree`] (the index) → [`views`] (bytes of a file) → the
//! front ends (`extract`, `fuse`, the CLI).

pub mod adapters;
pub mod codec;
pub mod container;
pub mod dumptree;
pub mod exit;
pub mod index;
pub mod keys;
pub mod mvcc;
pub mod tree;

pub mod cli;
pub mod errpath;
pub mod extract;
pub mod fuse;
pub mod fuzz_targets;
pub mod info;
pub mod pack;
pub mod progress;
pub mod temps;
