//! Byte-exact encodings shared by several adapters: Go's JSON layout, Go's
//! number and time formatting, protobuf wire format, base64 flavours.

pub mod gojson;
pub mod gostruct;
pub mod hlctime;
pub mod number;
pub mod ordered;
pub mod protowire;

/// Lower-case hex digits of `bytes`.
pub fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}
