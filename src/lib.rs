//! fsmfs: serve an elastickv `.fsm` snapshot as the directory tree of a
//! logical backup, and pack such a tree back into a snapshot.

pub mod container;
pub mod mvcc;
