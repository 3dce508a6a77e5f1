//! Bare CR / bare LF detection with `memchr2`, carrying one bit (a final CR) across chunks.

use memchr::memchr2;

#[derive(Debug, Clone, Copy, Default)]
pub struct EolState {
    /// A bare CR or LF has been seen; scanning stops.
    bare: bool,
    /// The last byte seen was a CR; the next chunk must start with LF.
    pending_cr: bool,
}

impl EolState {
    /// Scans the next bytes of the stream. Visits only CR and LF positions.
    pub fn feed(&mut self, chunk: &[u8]) {
        let Some(&first) = chunk.first() else {
            return;
        };
        if self.bare {
            return;
        }
        let mut from = 0;
        if self.pending_cr {
            self.pending_cr = false;
            if first != b'\n' {
                self.bare = true;
                return;
            }
            from = 1;
        }
        while let Some(offset) = memchr2(b'\r', b'\n', &chunk[from..]) {
            let at = from + offset;
            if chunk[at] == b'\n' {
                self.bare = true;
                return;
            }
            match chunk.get(at + 1) {
                Some(b'\n') => from = at + 2,
                Some(_) => {
                    self.bare = true;
                    return;
                }
                None => {
                    self.pending_cr = true;
                    return;
                }
            }
        }
    }

    /// A bare CR or LF was seen (a CR at the very end is not counted yet).
    pub fn bare(&self) -> bool {
        self.bare
    }

    /// The stream so far ends with a CR.
    pub fn pending_cr(&self) -> bool {
        self.pending_cr
    }
}
