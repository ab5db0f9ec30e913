//! Key grammars and the file-name codec: how adapter keys are laid out and
//! how key bytes become path segments.

pub(crate) mod keymap;
pub mod segment;
