//! Byte-exact encodings shared by several adapters: Go's JSON layout, Go's
//! number and time formatting, protobuf wire format, base64 flavours.

pub(crate) mod gojson;
pub(crate) mod gostruct;
pub(crate) mod hlctime;
pub mod number;
pub(crate) mod ordered;
pub(crate) mod protowire;

/// Lower-case hex digits of `bytes`.
pub(crate) fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}
