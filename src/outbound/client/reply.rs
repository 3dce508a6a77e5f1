//! Incremental, bounded parser of server replies: bytes in, complete [`Reply`] values out.

use std::borrow::Cow;

use memchr::memchr;

use crate::proto::reply::{Reply, Status};

/// Longest reply line accepted, without its line end (RFC 5321 §4.5.3.1.5 says 512 with CRLF).
pub const MAX_LINE: usize = 4096;
/// Most lines in one reply.
pub const MAX_LINES: usize = 100;
/// Most text bytes kept for one reply, all lines together.
pub const MAX_REPLY_BYTES: usize = 32 * 1024;
/// How much of a bad line an error quotes.
const QUOTE: usize = 80;

/// Why the server's bytes are not a reply. The connection cannot be trusted afterwards.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ReplyError {
    /// A line went on past [`MAX_LINE`] bytes without a line end.
    #[error("reply line longer than {MAX_LINE} bytes")]
    LineTooLong,
    /// A reply went on past [`MAX_LINES`] lines or [`MAX_REPLY_BYTES`] bytes.
    #[error("reply longer than {MAX_LINES} lines or {MAX_REPLY_BYTES} bytes")]
    TooLong,
    /// A line does not start with a reply code (`2yz`..`5yz`) followed by `-`, a space or its end.
    #[error("malformed reply line {0:?}")]
    Malformed(String),
    /// A continuation line carries another code than the first line.
    #[error("reply code changed inside a multi-line reply: {0:?}")]
    MixedCodes(String),
}

/// The lines of a reply whose last line has not arrived yet, already without their status.
#[derive(Debug)]
struct Pending {
    code: u16,
    /// The enhanced status code of the first line, when it has one of the reply's class.
    status: Option<Status>,
    lines: Vec<Cow<'static, str>>,
    bytes: usize,
}

/// Assembles replies from bytes as they arrive, in any split.
#[derive(Debug, Default)]
pub struct ReplyParser {
    /// The current line so far (without its line end).
    line: Vec<u8>,
    pending: Option<Pending>,
}

impl ReplyParser {
    pub fn new() -> ReplyParser {
        ReplyParser::default()
    }

    /// Consumes `input` up to the end of the first reply it completes.
    ///
    /// Returns how many bytes were consumed and the reply, if one completed; the caller feeds the
    /// rest of `input` again for the next reply. Without a complete reply everything is consumed
    /// and kept (bounded). After an error the parser must not be used again.
    pub fn feed(&mut self, input: &[u8]) -> Result<(usize, Option<Reply>), ReplyError> {
        let mut used = 0;
        while used < input.len() {
            let rest = &input[used..];
            let Some(lf) = memchr(b'\n', rest) else {
                self.take_partial(rest)?;
                return Ok((input.len(), None));
            };
            self.take_partial(&rest[..lf])?;
            used += lf + 1;
            let mut line = std::mem::take(&mut self.line);
            if line.last() == Some(&b'\r') {
                line.pop();
            }
            let reply = self.end_line(&line);
            line.clear();
            self.line = line;
            if let Some(reply) = reply? {
                return Ok((used, Some(reply)));
            }
        }
        Ok((used, None))
    }

    fn take_partial(&mut self, bytes: &[u8]) -> Result<(), ReplyError> {
        // One more byte than the limit is allowed for the CR of the line end.
        if self.line.len() + bytes.len() > MAX_LINE + 1 {
            return Err(ReplyError::LineTooLong);
        }
        self.line.extend_from_slice(bytes);
        Ok(())
    }

    /// Adds one complete line; returns the reply when it was the last line.
    fn end_line(&mut self, line: &[u8]) -> Result<Option<Reply>, ReplyError> {
        if line.len() > MAX_LINE {
            return Err(ReplyError::LineTooLong);
        }
        let (code, last) = line_code(line).ok_or_else(|| ReplyError::Malformed(quote(line)))?;
        let text = line.get(4..).unwrap_or_default();
        let pending = self.pending.get_or_insert_with(|| Pending {
            code,
            status: parse_status(text).filter(|s| u16::from(s.0) == code / 100),
            lines: Vec::new(),
            bytes: 0,
        });
        if pending.code != code {
            return Err(ReplyError::MixedCodes(quote(line)));
        }
        pending.bytes += line.len();
        if pending.lines.len() == MAX_LINES || pending.bytes > MAX_REPLY_BYTES {
            return Err(ReplyError::TooLong);
        }
        let text = match pending.status {
            Some(status) => strip_status(text, status),
            None => text,
        };
        pending.lines.push(Cow::Owned(String::from_utf8_lossy(text).into_owned()));
        if !last {
            return Ok(None);
        }
        let Pending { code, status, lines, .. } = self.pending.take().expect("pending reply");
        Ok(Some(Reply { code, status, lines }))
    }
}

/// The code of a reply line and whether it is the last line of its reply.
fn line_code(line: &[u8]) -> Option<(u16, bool)> {
    let [a, b, c, rest @ ..] = line else { return None };
    if !(b'2'..=b'5').contains(a) || !b.is_ascii_digit() || !c.is_ascii_digit() {
        return None;
    }
    let code = u16::from(a - b'0') * 100 + u16::from(b - b'0') * 10 + u16::from(c - b'0');
    match rest.first() {
        None | Some(b' ') => Some((code, true)),
        Some(b'-') => Some((code, false)),
        Some(_) => None,
    }
}

/// An RFC 3463 status `class.subject.detail` at the start of `text`, ended by a space or the end.
pub fn parse_status(text: &[u8]) -> Option<Status> {
    let end = memchr(b' ', text).unwrap_or(text.len());
    let mut parts = text[..end].split(|&b| b == b'.');
    let class = number(parts.next()?, 1)?;
    let subject = number(parts.next()?, 3)?;
    let detail = number(parts.next()?, 3)?;
    if parts.next().is_some() || !(2..=5).contains(&class) {
        return None;
    }
    Some(Status(class as u8, subject, detail))
}

fn number(digits: &[u8], max_len: usize) -> Option<u16> {
    if digits.is_empty() || digits.len() > max_len || !digits.iter().all(u8::is_ascii_digit) {
        return None;
    }
    Some(digits.iter().fold(0, |n, d| n * 10 + u16::from(d - b'0')))
}

/// `text` without a leading `status` and the space after it (lines without it stay whole).
fn strip_status(text: &[u8], status: Status) -> &[u8] {
    match parse_status(text) {
        Some(found) if found == status => {
            let end = memchr(b' ', text).map_or(text.len(), |i| i + 1);
            &text[end..]
        }
        _ => text,
    }
}

fn quote(line: &[u8]) -> String {
    String::from_utf8_lossy(&line[..line.len().min(QUOTE)]).into_owned()
}

/// The reply on one line for logs and NDR diagnostics: `550 5.1.1 first line second line`.
pub fn reply_text(reply: &Reply) -> String {
    let mut text = reply.code.to_string();
    if let Some(status) = reply.status {
        text.push(' ');
        text.push_str(&status.to_string());
    }
    for line in &reply.lines {
        text.push(' ');
        text.push_str(line);
    }
    text
}
