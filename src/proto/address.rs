//! RFC 5321 paths: mailboxes, the null reverse-path, MAIL parameters.

/// A mailbox `local@domain`. `domain` is `None` only for a bare `postmaster` (RFC 5321 §4.5.1)
/// or another domain-less local part, which the session stamps with its default domain.
/// Case is kept as received.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Address {
    pub local: String,
    pub domain: Option<String>,
}

impl Address {
    /// `local@domain`, or just `local` without a domain. A quoted local part keeps its quotes.
    pub fn to_text(&self) -> String {
        match &self.domain {
            Some(domain) => format!("{}@{}", self.local, domain),
            None => self.local.clone(),
        }
    }

    /// True when the local part and domain are 7-bit ASCII (no SMTPUTF8 needed).
    pub fn is_ascii(&self) -> bool {
        self.local.is_ascii() && self.domain.as_deref().is_none_or(str::is_ascii)
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ReversePath {
    /// `MAIL FROM:<>`
    Null,
    Mailbox(Address),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Body {
    #[default]
    SevenBit,
    EightBitMime,
}

/// Parameters of MAIL FROM this server supports (SIZE, BODY, SMTPUTF8).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct MailParams {
    pub size: Option<u64>,
    pub body: Body,
    pub smtputf8: bool,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn address(local: &str, domain: Option<&str>) -> Address {
        Address { local: local.into(), domain: domain.map(Into::into) }
    }

    #[test]
    fn text_and_ascii() {
        let cases = [
            (address("user", Some("example.com")), "user@example.com", true),
            (address("Post.Master", None), "Post.Master", true),
            (address("\"a b\"", Some("[192.0.2.1]")), "\"a b\"@[192.0.2.1]", true),
            (address("jörg", Some("example.com")), "jörg@example.com", false),
            (address("user", Some("münchen.de")), "user@münchen.de", false),
            (address("用户", None), "用户", false),
        ];
        for (address, text, ascii) in cases {
            assert_eq!(address.to_text(), text);
            assert_eq!(address.is_ascii(), ascii, "{text}");
        }
    }
}
