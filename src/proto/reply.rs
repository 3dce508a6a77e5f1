//! SMTP replies with RFC 3463 enhanced status codes, and their wire encoding.

use std::borrow::Cow;

/// An enhanced status code `class.subject.detail`, e.g. `Status(5, 5, 1)` is `5.5.1`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Status(pub u8, pub u16, pub u16);

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reply {
    pub code: u16,
    /// `None` only where RFC 2034 exempts a reply (the greeting and the EHLO/HELO answer).
    pub status: Option<Status>,
    /// One entry per line; never contains CR or LF.
    pub lines: Vec<Cow<'static, str>>,
}

impl Reply {
    /// A one-line reply with an enhanced status code.
    pub fn new(code: u16, status: Status, text: impl Into<Cow<'static, str>>) -> Reply {
        let _ = (code, status, text.into());
        todo!("proto helper")
    }

    /// A reply without an enhanced status code (greeting, EHLO/HELO).
    pub fn plain(code: u16, lines: Vec<Cow<'static, str>>) -> Reply {
        let _ = (code, lines);
        todo!("proto helper")
    }

    /// Appends the wire form (`250-...` continuation lines, `250 ...` last line, CRLF each).
    pub fn encode(&self, out: &mut Vec<u8>) {
        let _ = out;
        todo!("proto helper")
    }

    pub fn is_positive(&self) -> bool {
        self.code < 400
    }
}
