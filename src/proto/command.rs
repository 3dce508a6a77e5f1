//! The SMTP command parser: one command line (without its CRLF) to a [`Command`].

use super::address::{Address, MailParams, ReversePath};
use super::reply::Reply;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Command {
    Helo(String),
    Ehlo(String),
    Mail { from: ReversePath, params: MailParams },
    Rcpt { to: Address },
    Data,
    Bdat { size: u64, last: bool },
    Rset,
    Noop,
    Quit,
    /// The argument is ignored: the answer is always 252.
    Vrfy,
    Help,
    StartTls,
    /// The raw arguments after `AUTH ` (mechanism and optional initial response).
    Auth(String),
}

/// Why a line is not a command this server can run. Each maps to one reply.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CommandError {
    /// 500 5.5.1: not a verb we know.
    #[error("command unrecognized")]
    Unknown,
    /// 501 5.5.4: the verb is known, its arguments are malformed.
    #[error("syntax error: {0}")]
    Syntax(&'static str),
    /// 501 5.1.7: bad sender address syntax.
    #[error("bad sender address syntax: {0}")]
    BadSender(&'static str),
    /// 501 5.1.3: bad destination address syntax.
    #[error("bad destination address syntax: {0}")]
    BadRecipient(&'static str),
    /// 555 5.5.4: a MAIL/RCPT parameter we do not support or with a bad value.
    #[error("parameter not supported: {0}")]
    Parameter(String),
}

impl CommandError {
    /// The reply a server sends for this error.
    pub fn reply(&self) -> Reply {
        todo!("proto helper")
    }
}

/// Parses one command line. `line` excludes the trailing CRLF (or LF).
pub fn parse(line: &[u8]) -> Result<Command, CommandError> {
    let _ = line;
    todo!("proto helper")
}
