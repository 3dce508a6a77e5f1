//! The server's EHLO extensions, parsed into [`Capabilities`].

use crate::proto::reply::Reply;

/// What the server offered in its EHLO reply (all off after a HELO fallback).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Capabilities {
    /// RFC 2920 command pipelining.
    pub pipelining: bool,
    /// RFC 1870 `SIZE`: `Some(0)` when offered without a fixed limit, `Some(n)` with one.
    pub size: Option<u64>,
    /// RFC 6152 `8BITMIME`.
    pub eight_bit_mime: bool,
    /// RFC 6531 `SMTPUTF8`.
    pub smtputf8: bool,
    /// RFC 3207 `STARTTLS`.
    pub starttls: bool,
    /// RFC 4954 `AUTH` mechanisms, upper case, in the server's order.
    pub auth: Vec<String>,
    /// RFC 3030 `CHUNKING` (BDAT).
    pub chunking: bool,
    /// RFC 2034 `ENHANCEDSTATUSCODES`.
    pub enhanced_status_codes: bool,
}

impl Capabilities {
    /// Reads the extension lines of a positive EHLO reply (its first line is the greeting).
    ///
    /// Keywords are case-insensitive; unknown ones are ignored, as is a `SIZE` with a bad value.
    /// Both `AUTH PLAIN` and the old `AUTH=PLAIN` form add mechanisms.
    pub fn from_ehlo(reply: &Reply) -> Capabilities {
        let mut caps = Capabilities::default();
        for line in reply.lines.iter().skip(1) {
            caps.add_line(line);
        }
        caps
    }

    fn add_line(&mut self, line: &str) {
        let mut words = line.split_ascii_whitespace();
        let Some(keyword) = words.next() else { return };
        let keyword = keyword.to_ascii_uppercase();
        match keyword.as_str() {
            "PIPELINING" => self.pipelining = true,
            "SIZE" => match words.next().map(str::parse::<u64>) {
                None => self.size = Some(0),
                Some(Ok(limit)) => self.size = Some(limit),
                Some(Err(_)) => {}
            },
            "8BITMIME" => self.eight_bit_mime = true,
            "SMTPUTF8" => self.smtputf8 = true,
            "STARTTLS" => self.starttls = true,
            "CHUNKING" => self.chunking = true,
            "ENHANCEDSTATUSCODES" => self.enhanced_status_codes = true,
            "AUTH" => self.add_auth(words),
            _ => {
                if let Some(first) = keyword.strip_prefix("AUTH=") {
                    self.add_auth(std::iter::once(first).chain(words));
                }
            }
        }
    }

    fn add_auth<'a>(&mut self, mechanisms: impl Iterator<Item = &'a str>) {
        for mechanism in mechanisms {
            let mechanism = mechanism.to_ascii_uppercase();
            if !mechanism.is_empty() && !self.auth.contains(&mechanism) {
                self.auth.push(mechanism);
            }
        }
    }

    /// Whether the server offers the SASL `mechanism` (case-insensitive).
    pub fn offers_auth(&self, mechanism: &str) -> bool {
        self.auth.iter().any(|m| m.eq_ignore_ascii_case(mechanism))
    }
}
