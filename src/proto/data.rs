//! The DATA scanner: finds the one true end of data (`CRLF.CRLF`) across reads with
//! `memchr::memmem`, and notices bare CR / bare LF, without per-line work.

use std::sync::OnceLock;

use memchr::memmem::Finder;

use super::eol::EolState;

/// The end of data, including the CRLF that ends the last line of the message.
const END: &[u8; 5] = b"\r\n.\r\n";

fn end_finder() -> &'static Finder<'static> {
    static FINDER: OnceLock<Finder<'static>> = OnceLock::new();
    FINDER.get_or_init(|| Finder::new(END))
}

/// Incremental scanner over the bytes that follow a `354` reply.
///
/// The message is stored in wire form: the caller appends `chunk[..consumed]` of every
/// chunk (or all of it while [`Feed::More`]) and, at the end, drops the final `.\r\n`; the
/// body length is then [`DataScanner::body_len`]. An empty message is the single line `.\r\n`.
#[derive(Debug, Clone)]
pub struct DataScanner {
    /// Length of the longest suffix of the bytes so far that is a prefix of [`END`]. It
    /// starts at 2: the message begins just after a CRLF (that of the DATA command).
    partial: usize,
    /// Bytes fed and found to belong to the message, the final `.\r\n` included.
    consumed: u64,
    ended: bool,
    eol: EolState,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Feed {
    /// The whole chunk is message data; the end has not been seen.
    More,
    /// The end of data is inside this chunk: `consumed` bytes (up to and including the final
    /// `.\r\n`) belong to the message, the rest is the next pipelined command.
    End { consumed: usize },
}

impl DataScanner {
    pub fn new() -> DataScanner {
        DataScanner { partial: 2, consumed: 0, ended: false, eol: EolState::default() }
    }

    /// Scans the next chunk. After [`Feed::End`] the scanner is finished: later chunks are
    /// not message data and give `End { consumed: 0 }`.
    pub fn feed(&mut self, chunk: &[u8]) -> Feed {
        if self.ended {
            return Feed::End { consumed: 0 };
        }
        match self.find_end(chunk) {
            Some(consumed) => {
                self.eol.feed(&chunk[..consumed]);
                self.consumed += consumed as u64;
                self.ended = true;
                Feed::End { consumed }
            }
            None => {
                self.eol.feed(chunk);
                self.consumed += chunk.len() as u64;
                self.partial = self.next_partial(chunk);
                Feed::More
            }
        }
    }

    /// Bytes of message (wire form, without the final `.\r\n`) seen so far. Before the end is
    /// found this counts every byte fed, including a `.` or `.\r` that may turn out to start
    /// the final line.
    pub fn body_len(&self) -> u64 {
        if self.ended {
            self.consumed - 3
        } else {
            self.consumed
        }
    }

    /// True when the message so far has a CR not followed by LF, or an LF not preceded by CR.
    /// A CR that is the last byte fed so far is judged when the next chunk arrives.
    pub fn saw_bare_eol(&self) -> bool {
        self.eol.bare()
    }

    /// Where the end of data finishes in `chunk` (an index just past its LF), if it does.
    fn find_end(&self, chunk: &[u8]) -> Option<usize> {
        let partial = self.partial;
        if partial > 0 {
            // An end that starts in earlier bytes: join the known prefix with the chunk's head.
            let head = chunk.len().min(END.len() - 1);
            let mut window = [0u8; 2 * END.len()];
            window[..partial].copy_from_slice(&END[..partial]);
            window[partial..partial + head].copy_from_slice(&chunk[..head]);
            let window = &window[..partial + head];
            if let Some(start) = (0..partial).find(|&start| window[start..].starts_with(END)) {
                return Some(start + END.len() - partial);
            }
        }
        end_finder().find(chunk).map(|at| at + END.len())
    }

    /// The value of `partial` after `chunk` (which holds no end of data) has been fed.
    fn next_partial(&self, chunk: &[u8]) -> usize {
        if chunk.len() >= END.len() - 1 {
            return suffix_in_end(chunk);
        }
        let mut window = [0u8; 2 * END.len()];
        window[..self.partial].copy_from_slice(&END[..self.partial]);
        window[self.partial..self.partial + chunk.len()].copy_from_slice(chunk);
        suffix_in_end(&window[..self.partial + chunk.len()])
    }
}

/// Length of the longest suffix of `bytes` that is a proper prefix of [`END`].
fn suffix_in_end(bytes: &[u8]) -> usize {
    let longest = bytes.len().min(END.len() - 1);
    (1..=longest).rev().find(|&len| bytes.ends_with(&END[..len])).unwrap_or(0)
}

impl Default for DataScanner {
    fn default() -> Self {
        DataScanner::new()
    }
}

#[cfg(test)]
mod tests;
