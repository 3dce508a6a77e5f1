//! The DATA scanner: finds the one true end of data (`CRLF.CRLF`) across reads with
//! `memchr::memmem`, and notices bare CR / bare LF, without per-line work.

/// Incremental scanner over the bytes that follow a `354` reply.
///
/// The message is stored in wire form: the caller appends `chunk[..consumed]` of every
/// chunk (or all of it while [`Feed::More`]) and, at the end, drops the final `.\r\n`; the
/// body length is then [`DataScanner::body_len`]. An empty message is the single line `.\r\n`.
#[derive(Debug, Clone)]
pub struct DataScanner {}

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
        todo!("proto helper")
    }

    pub fn feed(&mut self, chunk: &[u8]) -> Feed {
        let _ = chunk;
        todo!("proto helper")
    }

    /// Bytes of message (wire form, without the final `.\r\n`) seen so far.
    pub fn body_len(&self) -> u64 {
        todo!("proto helper")
    }

    /// True when the message so far has a CR not followed by LF, or an LF not preceded by CR.
    pub fn saw_bare_eol(&self) -> bool {
        todo!("proto helper")
    }
}

impl Default for DataScanner {
    fn default() -> Self {
        DataScanner::new()
    }
}
