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
        todo!("proto helper")
    }

    /// True when the local part and domain are 7-bit ASCII (no SMTPUTF8 needed).
    pub fn is_ascii(&self) -> bool {
        todo!("proto helper")
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
