//! The SMTP command parser: one command line (without its CRLF) to a [`Command`].

use super::address::{Address, Body, MailParams, ReversePath};
use super::path;
use super::reply::{Reply, Status};

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Command {
    Helo(String),
    Ehlo(String),
    Mail {
        from: ReversePath,
        params: MailParams,
    },
    Rcpt {
        to: Address,
    },
    Data,
    Bdat {
        size: u64,
        last: bool,
    },
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
        let (code, status) = match self {
            CommandError::Unknown => (500, Status(5, 5, 1)),
            CommandError::Syntax(_) => (501, Status(5, 5, 4)),
            CommandError::BadSender(_) => (501, Status(5, 1, 7)),
            CommandError::BadRecipient(_) => (501, Status(5, 1, 3)),
            CommandError::Parameter(_) => (555, Status(5, 5, 4)),
        };
        Reply::new(code, status, self.to_string())
    }
}

/// Parses one command line. `line` excludes the trailing CRLF (or LF).
///
/// The verb is case-insensitive and ends at the first space; further spaces before the
/// arguments and trailing spaces or tabs are tolerated.
/// Whether the line's verb may be used before STARTTLS when TLS is required (RFC 3207 §4:
/// EHLO, HELO, NOOP, QUIT, RSET and STARTTLS); decided on the verb alone, so nothing else of
/// the line is parsed in clear text.
pub fn allowed_before_tls(line: &[u8]) -> bool {
    split_verb(line).is_some_and(|(upper, len, _)| {
        matches!(&upper[..len], b"EHLO" | b"HELO" | b"NOOP" | b"QUIT" | b"RSET" | b"STARTTLS")
    })
}

/// The verb in upper case (at most 8 octets, with its length) and the arguments after it.
fn split_verb(line: &[u8]) -> Option<([u8; 8], usize, &[u8])> {
    let line = trim_end(line);
    let (verb, args) = match memchr::memchr(b' ', line) {
        Some(space) => (&line[..space], trim_start(&line[space + 1..])),
        None => (line, &[][..]),
    };
    if verb.len() > 8 {
        return None;
    }
    let mut upper = [0u8; 8];
    for (to, from) in upper.iter_mut().zip(verb) {
        *to = from.to_ascii_uppercase();
    }
    Some((upper, verb.len(), args))
}

pub fn parse(line: &[u8]) -> Result<Command, CommandError> {
    let Some((upper, len, args)) = split_verb(line) else {
        return Err(CommandError::Unknown);
    };
    match &upper[..len] {
        b"HELO" => hello(args).map(Command::Helo),
        b"EHLO" => hello(args).map(Command::Ehlo),
        b"MAIL" => mail(args),
        b"RCPT" => rcpt(args),
        b"DATA" => no_arguments(args, Command::Data),
        b"BDAT" => bdat(args),
        b"RSET" => no_arguments(args, Command::Rset),
        b"NOOP" => Ok(Command::Noop),
        b"QUIT" => no_arguments(args, Command::Quit),
        b"VRFY" => required_text(args, "VRFY needs an argument").map(|_| Command::Vrfy),
        b"HELP" => Ok(Command::Help),
        b"STARTTLS" => no_arguments(args, Command::StartTls),
        b"AUTH" => required_text(args, "AUTH needs a mechanism").map(|s| Command::Auth(s.into())),
        _ => Err(CommandError::Unknown),
    }
}

fn trim_end(mut bytes: &[u8]) -> &[u8] {
    while let [rest @ .., b' ' | b'\t'] = bytes {
        bytes = rest;
    }
    bytes
}

fn trim_start(mut bytes: &[u8]) -> &[u8] {
    while let [b' ', rest @ ..] = bytes {
        bytes = rest;
    }
    bytes
}

fn text(args: &[u8]) -> Result<&str, CommandError> {
    std::str::from_utf8(args).map_err(|_| CommandError::Syntax("line is not UTF-8"))
}

fn required_text<'a>(args: &'a [u8], missing: &'static str) -> Result<&'a str, CommandError> {
    match text(args)? {
        "" => Err(CommandError::Syntax(missing)),
        text => Ok(text),
    }
}

fn no_arguments(args: &[u8], command: Command) -> Result<Command, CommandError> {
    if args.is_empty() {
        Ok(command)
    } else {
        Err(CommandError::Syntax("no arguments allowed"))
    }
}

/// The HELO/EHLO argument: one token of printable characters (a domain or an address
/// literal; not checked further, clients send all kinds of names).
fn hello(args: &[u8]) -> Result<String, CommandError> {
    let name = required_text(args, "HELO/EHLO needs a domain")?;
    if name.contains(' ') {
        return Err(CommandError::Syntax("HELO/EHLO takes one domain"));
    }
    if name.chars().any(|c| c.is_control() || c.is_whitespace()) {
        return Err(CommandError::Syntax("invalid character in domain"));
    }
    Ok(name.to_owned())
}

/// `args` without a case-insensitive `keyword` (and one optional space after it).
fn after_keyword<'a>(args: &'a [u8], keyword: &[u8]) -> Option<&'a [u8]> {
    let head = args.get(..keyword.len())?;
    if !head.eq_ignore_ascii_case(keyword) {
        return None;
    }
    let rest = &args[keyword.len()..];
    Some(rest.strip_prefix(b" ").unwrap_or(rest))
}

/// The text after a path: empty, or parameters after at least one space.
fn parameters(rest: &[u8]) -> Option<&[u8]> {
    match rest {
        [] => Some(rest),
        [b' ', ..] => Some(trim_start(rest)),
        _ => None,
    }
}

fn mail(args: &[u8]) -> Result<Command, CommandError> {
    let path = after_keyword(args, b"FROM:").ok_or(CommandError::Syntax("expected FROM:<path>"))?;
    let (from, rest) = path::parse(path).map_err(CommandError::BadSender)?;
    let params = parameters(rest).ok_or(CommandError::BadSender("text after the path"))?;
    let params = mail_params(text(params)?)?;
    let from = from.map_or(ReversePath::Null, ReversePath::Mailbox);
    Ok(Command::Mail { from, params })
}

fn rcpt(args: &[u8]) -> Result<Command, CommandError> {
    let path = after_keyword(args, b"TO:").ok_or(CommandError::Syntax("expected TO:<path>"))?;
    let (to, rest) = path::parse(path).map_err(CommandError::BadRecipient)?;
    let to = to.ok_or(CommandError::BadRecipient("null path"))?;
    match parameters(rest).ok_or(CommandError::BadRecipient("text after the path"))? {
        [] => Ok(Command::Rcpt { to }),
        params => Err(CommandError::Parameter(text(params)?.to_owned())),
    }
}

/// SIZE=digits (saturating), BODY=7BIT|8BITMIME, SMTPUTF8; each at most once.
fn mail_params(text: &str) -> Result<MailParams, CommandError> {
    let mut params = MailParams::default();
    let mut seen = [false; 4];
    for token in text.split(' ').filter(|token| !token.is_empty()) {
        let bad = || CommandError::Parameter(token.to_owned());
        let (key, value) = match token.split_once('=') {
            Some((key, value)) => (key, Some(value)),
            None => (token, None),
        };
        let slot = if key.eq_ignore_ascii_case("SIZE") {
            params.size = Some(value.and_then(size).ok_or_else(bad)?);
            0
        } else if key.eq_ignore_ascii_case("BODY") {
            params.body = value.and_then(body).ok_or_else(bad)?;
            1
        } else if key.eq_ignore_ascii_case("SMTPUTF8") && value.is_none() {
            params.smtputf8 = true;
            2
        } else if key.eq_ignore_ascii_case("AUTH") && value.is_some_and(auth_value) {
            // RFC 4954 §5: the original submitter; accepted and not trusted, as if `<>`.
            3
        } else {
            return Err(bad());
        };
        if std::mem::replace(&mut seen[slot], true) {
            return Err(bad());
        }
    }
    Ok(params)
}

/// `<>` or an xtext mailbox (RFC 3461 §4: printable ASCII but `=`, with `+XX` escapes).
fn auth_value(value: &str) -> bool {
    !value.is_empty() && value.bytes().all(|b| (b'!'..=b'~').contains(&b) && b != b'=')
}

/// Decimal digits; a value beyond `u64` saturates (it is over any limit anyway).
fn size(value: &str) -> Option<u64> {
    if value.is_empty() || !value.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    Some(value.parse().unwrap_or(u64::MAX))
}

fn body(value: &str) -> Option<Body> {
    if value.eq_ignore_ascii_case("7BIT") {
        Some(Body::SevenBit)
    } else if value.eq_ignore_ascii_case("8BITMIME") {
        Some(Body::EightBitMime)
    } else {
        None
    }
}

/// `BDAT <size> [LAST]`.
fn bdat(args: &[u8]) -> Result<Command, CommandError> {
    let text = text(args)?;
    let mut words = text.split(' ').filter(|word| !word.is_empty());
    let size = words
        .next()
        .filter(|word| word.bytes().all(|b| b.is_ascii_digit()))
        .and_then(|word| word.parse().ok())
        .ok_or(CommandError::Syntax("BDAT needs a size in octets"))?;
    let last = match words.next() {
        None => false,
        Some(word) if word.eq_ignore_ascii_case("LAST") => true,
        Some(_) => return Err(CommandError::Syntax("expected BDAT <size> [LAST]")),
    };
    if words.next().is_some() {
        return Err(CommandError::Syntax("expected BDAT <size> [LAST]"));
    }
    Ok(Command::Bdat { size, last })
}

#[cfg(test)]
mod tests;
