//! Dot-stuffing (BDAT bodies to wire form) and un-stuffing (wire form to a file for people).

/// Appends `src` to `out`, doubling a `.` that starts a line. `at_line_start` says whether the
/// byte before `src` ended a line (true at the start of a message); returns the same for the
/// end of `src`.
pub fn stuff_into(src: &[u8], at_line_start: bool, out: &mut Vec<u8>) -> bool {
    let _ = (src, at_line_start, out);
    todo!("proto helper")
}

/// Appends the content of a wire-form message (dot-stuffed, without the final `.\r\n`) to `out`,
/// removing the leading `.` of every line that starts with one.
pub fn unstuff_into(wire: &[u8], out: &mut Vec<u8>) {
    let _ = (wire, out);
    todo!("proto helper")
}

/// Finds bare CR / bare LF across chunks (for BDAT, whose chunks are not scanned for an end).
#[derive(Debug, Clone, Default)]
pub struct BareEol {}

impl BareEol {
    /// Feeds the next chunk; true once any bare CR or LF has been seen.
    pub fn feed(&mut self, chunk: &[u8]) -> bool {
        let _ = chunk;
        todo!("proto helper")
    }

    /// Call at the end of the message: true if a bare CR or LF was seen, including a final CR.
    pub fn finish(&self) -> bool {
        todo!("proto helper")
    }
}
