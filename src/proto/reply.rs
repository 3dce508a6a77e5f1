//! SMTP replies with RFC 3463 enhanced status codes, and their wire encoding.

use std::borrow::Cow;
use std::fmt;

/// An enhanced status code `class.subject.detail`, e.g. `Status(5, 5, 1)` is `5.5.1`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Status(pub u8, pub u16, pub u16);

impl fmt::Display for Status {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{}.{}", self.0, self.1, self.2)
    }
}

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
        Reply { code, status: Some(status), lines: vec![text.into()] }
    }

    /// A reply without an enhanced status code (greeting, EHLO/HELO).
    pub fn plain(code: u16, lines: Vec<Cow<'static, str>>) -> Reply {
        Reply { code, status: None, lines }
    }

    /// Appends the wire form (`250-...` continuation lines, `250 ...` last line, CRLF each).
    ///
    /// The enhanced status code, if any, starts the text of every line. A CR or LF inside a
    /// line's text is written as a space, so text taken from a client cannot inject a line.
    /// A reply without lines is the bare code (and status).
    pub fn encode(&self, out: &mut Vec<u8>) {
        if self.lines.is_empty() {
            push_number(out, self.code);
            if let Some(status) = self.status {
                out.push(b' ');
                push_status(out, status);
            }
            out.extend_from_slice(b"\r\n");
            return;
        }
        let last = self.lines.len() - 1;
        for (i, line) in self.lines.iter().enumerate() {
            push_number(out, self.code);
            out.push(if i == last { b' ' } else { b'-' });
            if let Some(status) = self.status {
                push_status(out, status);
                out.push(b' ');
            }
            push_text(out, line.as_bytes());
            out.extend_from_slice(b"\r\n");
        }
    }

    /// The wire form as a new buffer.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(64);
        self.encode(&mut out);
        out
    }

    pub fn is_positive(&self) -> bool {
        self.code < 400
    }
}

fn push_number(out: &mut Vec<u8>, n: u16) {
    if n >= 10 {
        push_number(out, n / 10);
    }
    out.push(b'0' + (n % 10) as u8);
}

fn push_status(out: &mut Vec<u8>, Status(class, subject, detail): Status) {
    push_number(out, u16::from(class));
    out.push(b'.');
    push_number(out, subject);
    out.push(b'.');
    push_number(out, detail);
}

/// Appends `text`, writing every CR and LF as a space.
fn push_text(out: &mut Vec<u8>, text: &[u8]) {
    let mut start = 0;
    for pos in memchr::memchr2_iter(b'\r', b'\n', text) {
        out.extend_from_slice(&text[start..pos]);
        out.push(b' ');
        start = pos + 1;
    }
    out.extend_from_slice(&text[start..]);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn status_displays_dotted() {
        assert_eq!(Status(5, 5, 1).to_string(), "5.5.1");
        assert_eq!(Status(2, 0, 0).to_string(), "2.0.0");
        assert_eq!(Status(4, 10, 123).to_string(), "4.10.123");
    }

    #[test]
    fn encodes_replies() {
        let cases: Vec<(Reply, &str)> = vec![
            (Reply::new(250, Status(2, 0, 0), "OK"), "250 2.0.0 OK\r\n"),
            (Reply::new(550, Status(5, 1, 1), String::from("no such user")), "550 5.1.1 no such user\r\n"),
            (Reply::plain(220, vec!["mx.example.com ESMTP tern".into()]), "220 mx.example.com ESMTP tern\r\n"),
            (
                Reply::plain(250, vec!["mx.example.com".into(), "PIPELINING".into(), "SIZE 1000".into()]),
                "250-mx.example.com\r\n250-PIPELINING\r\n250 SIZE 1000\r\n",
            ),
            (
                Reply { code: 451, status: Some(Status(4, 3, 0)), lines: vec!["first".into(), "second".into()] },
                "451-4.3.0 first\r\n451 4.3.0 second\r\n",
            ),
            (Reply::new(250, Status(2, 0, 0), "a\r\n250 injected\rx\ny"), "250 2.0.0 a  250 injected x y\r\n"),
            (Reply::plain(250, vec!["a\r\nb".into(), "c".into()]), "250-a  b\r\n250 c\r\n"),
            (Reply::plain(354, vec![]), "354\r\n"),
            (Reply { code: 221, status: Some(Status(2, 0, 0)), lines: vec![] }, "221 2.0.0\r\n"),
            (Reply::new(250, Status(2, 0, 0), ""), "250 2.0.0 \r\n"),
        ];
        for (reply, wire) in cases {
            let mut out = b"prefix".to_vec();
            reply.encode(&mut out);
            assert_eq!(String::from_utf8(out).unwrap(), format!("prefix{wire}"), "{reply:?}");
            assert_eq!(reply.to_bytes(), wire.as_bytes());
        }
    }

    #[test]
    fn positive_below_400() {
        assert!(Reply::new(354, Status(2, 0, 0), "go").is_positive());
        assert!(!Reply::new(421, Status(4, 7, 0), "bye").is_positive());
        assert!(!Reply::new(550, Status(5, 0, 0), "no").is_positive());
    }
}
