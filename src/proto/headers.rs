//! Header-section helpers over a wire-form message.

/// Number of `Received:` header fields (case-insensitive name, at the start of a line, not
/// continuation lines) in the header section, which ends at the first empty line.
pub fn count_received(wire: &[u8]) -> usize {
    let _ = wire;
    todo!("proto helper")
}
