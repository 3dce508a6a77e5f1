//! Dot-stuffing (BDAT bodies to wire form) and un-stuffing (wire form to a file for people).
//!
//! A line starts after any LF, bare or not: stuffing a `.` after a bare LF costs nothing
//! for a strict receiver and keeps a lenient one (that ends lines at LF) from seeing an
//! end of data that we did not see.

use std::sync::OnceLock;

use memchr::memmem::Finder;

use super::eol::EolState;

/// The only place a dot needs attention in the middle of a buffer: right after an LF.
fn line_dot() -> &'static Finder<'static> {
    static FINDER: OnceLock<Finder<'static>> = OnceLock::new();
    FINDER.get_or_init(|| Finder::new(b"\n."))
}

/// Appends `src` to `out`, doubling a `.` that starts a line. `at_line_start` says whether the
/// byte before `src` ended a line (true at the start of a message); returns the same for the
/// end of `src`.
pub fn stuff_into(src: &[u8], at_line_start: bool, out: &mut Vec<u8>) -> bool {
    out.reserve(src.len());
    if at_line_start && src.first() == Some(&b'.') {
        out.push(b'.');
    }
    let mut start = 0;
    for at in line_dot().find_iter(src) {
        out.extend_from_slice(&src[start..=at + 1]);
        out.push(b'.');
        start = at + 2;
    }
    out.extend_from_slice(&src[start..]);
    src.last().map_or(at_line_start, |&last| last == b'\n')
}

/// Appends the content of a wire-form message (dot-stuffed, without the final `.\r\n`) to `out`,
/// removing the leading `.` of every line that starts with one.
pub fn unstuff_into(wire: &[u8], out: &mut Vec<u8>) {
    out.reserve(wire.len());
    let mut start = usize::from(wire.first() == Some(&b'.'));
    for at in line_dot().find_iter(wire) {
        out.extend_from_slice(&wire[start..=at]);
        start = at + 2;
    }
    out.extend_from_slice(&wire[start..]);
}

/// Finds bare CR / bare LF across chunks (for BDAT, whose chunks are not scanned for an end).
#[derive(Debug, Clone, Default)]
pub struct BareEol {
    state: EolState,
}

impl BareEol {
    /// Feeds the next chunk; true once any bare CR or LF has been seen.
    pub fn feed(&mut self, chunk: &[u8]) -> bool {
        self.state.feed(chunk);
        self.state.bare()
    }

    /// Call at the end of the message: true if a bare CR or LF was seen, including a final CR.
    pub fn finish(&self) -> bool {
        self.state.bare() || self.state.pending_cr()
    }
}

#[cfg(test)]
mod tests;
