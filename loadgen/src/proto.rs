//! Pure SMTP pieces shared by the client and the sink: reply framing, EHLO capabilities and
//! command verbs (bytes in, values out).

/// The next complete reply at the start of `buf`: its code (from the last line) and the bytes
/// it spans, or `None` while a line is incomplete. A malformed code reads as 0.
pub fn split_reply(buf: &[u8]) -> Option<(u16, usize)> {
    let mut at = 0;
    loop {
        let end = at + memchr::memchr(b'\n', &buf[at..])? + 1;
        let line = &buf[at..end];
        if line.get(3) != Some(&b'-') {
            return Some((code(line), end));
        }
        at = end;
    }
}

fn code(line: &[u8]) -> u16 {
    match line.get(..3) {
        Some(d) if d.iter().all(u8::is_ascii_digit) => d.iter().fold(0, |n, b| n * 10 + u16::from(b - b'0')),
        _ => 0,
    }
}

/// What an EHLO reply offers.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Caps {
    pub pipelining: bool,
    pub starttls: bool,
    pub auth_plain: bool,
    pub auth_login: bool,
}

/// Reads the keywords of a (multi-line) EHLO reply.
pub fn parse_caps(reply: &[u8]) -> Caps {
    let mut caps = Caps::default();
    for line in reply.split(|&b| b == b'\n').skip(1) {
        let text = String::from_utf8_lossy(line.get(4..).unwrap_or_default()).trim().to_ascii_uppercase();
        let mut words = text.split_ascii_whitespace();
        match words.next() {
            Some("PIPELINING") => caps.pipelining = true,
            Some("STARTTLS") => caps.starttls = true,
            Some("AUTH") => {
                for mech in words {
                    caps.auth_plain |= mech == "PLAIN";
                    caps.auth_login |= mech == "LOGIN";
                }
            }
            _ => {}
        }
    }
    caps
}

/// A command the sink understands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verb {
    Helo,
    Ehlo,
    Mail,
    Rcpt,
    Data,
    Rset,
    Noop,
    Quit,
    StartTls,
    Auth,
    Other,
}

/// The verb of one command line (case-insensitive, with or without arguments).
pub fn verb(line: &[u8]) -> Verb {
    let word = line.split(|&b| b == b' ' || b == b'\r' || b == b'\n').next().unwrap_or_default();
    match word.to_ascii_uppercase().as_slice() {
        b"HELO" => Verb::Helo,
        b"EHLO" => Verb::Ehlo,
        b"MAIL" => Verb::Mail,
        b"RCPT" => Verb::Rcpt,
        b"DATA" => Verb::Data,
        b"RSET" => Verb::Rset,
        b"NOOP" => Verb::Noop,
        b"QUIT" => Verb::Quit,
        b"STARTTLS" => Verb::StartTls,
        b"AUTH" => Verb::Auth,
        _ => Verb::Other,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn replies_are_framed_by_their_last_line() {
        type Case = (&'static [u8], Option<(u16, usize)>);
        let cases: [Case; 5] = [
            (b"250 ok\r\n", Some((250, 8))),
            (b"250-a\r\n250 b\r\n354 go\r\n", Some((250, 14))),
            (b"250-a\r\n250 b", None),
            (b"", None),
            (b"xx\r\n", Some((0, 4))),
        ];
        for (input, want) in cases {
            assert_eq!(split_reply(input), want, "{:?}", String::from_utf8_lossy(input));
        }
    }

    #[test]
    fn ehlo_keywords_are_read() {
        let caps = parse_caps(b"250-mx.test hi\r\n250-PIPELINING\r\n250-AUTH LOGIN PLAIN\r\n250 STARTTLS\r\n");
        assert_eq!(caps, Caps { pipelining: true, starttls: true, auth_plain: true, auth_login: true });
        assert_eq!(parse_caps(b"250 mx.test\r\n"), Caps::default());
    }

    #[test]
    fn verbs_are_case_insensitive() {
        let cases: [(&[u8], Verb); 7] = [
            (b"ehlo x\r\n", Verb::Ehlo),
            (b"MAIL FROM:<a@b>\r\n", Verb::Mail),
            (b"data\r\n", Verb::Data),
            (b"StartTLS\r\n", Verb::StartTls),
            (b"QUIT\r\n", Verb::Quit),
            (b"auth plain AGEAYg==\r\n", Verb::Auth),
            (b"VRFY x\r\n", Verb::Other),
        ];
        for (line, want) in cases {
            assert_eq!(verb(line), want);
        }
    }
}
