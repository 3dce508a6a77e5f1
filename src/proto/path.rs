//! RFC 5321 path syntax: `<[@route,...:]local[@domain]>` to an [`Address`], with the
//! length limits of §4.5.3.1.

use super::address::Address;
use super::domain;

/// Longest local part, in octets (quotes included).
const MAX_LOCAL: usize = 64;
/// Longest path, in octets, from `<` to `>` inclusive.
const MAX_PATH: usize = 256;

/// Parses the path that starts `input` (which must begin with `<`). Returns the mailbox,
/// `None` for the null path `<>`, and the bytes after the closing `>`. A source route is
/// accepted and dropped (RFC 5321 §4.1.2, appendix C).
pub fn parse(input: &[u8]) -> Result<(Option<Address>, &[u8]), &'static str> {
    if input.first() != Some(&b'<') {
        return Err("angle brackets required");
    }
    let close = closing_bracket(input).ok_or("missing closing '>'")?;
    if close + 1 > MAX_PATH {
        return Err("path too long");
    }
    let inner = std::str::from_utf8(&input[1..close]).map_err(|_| "address is not UTF-8")?;
    let rest = &input[close + 1..];
    if inner.is_empty() {
        return Ok((None, rest));
    }
    let mailbox = parse_mailbox(strip_route(inner)?)?;
    Ok((Some(mailbox), rest))
}

/// Index of the `>` that closes the path, skipping over quoted strings.
fn closing_bracket(input: &[u8]) -> Option<usize> {
    let mut quoted = false;
    let mut escaped = false;
    for (i, &byte) in input.iter().enumerate().skip(1) {
        match byte {
            _ if escaped => escaped = false,
            b'\\' if quoted => escaped = true,
            b'"' => quoted = !quoted,
            b'>' if !quoted => return Some(i),
            _ => {}
        }
    }
    None
}

/// Drops `@hop1,@hop2:` in front of the mailbox, after checking every hop is `@domain`.
fn strip_route(inner: &str) -> Result<&str, &'static str> {
    if !inner.starts_with('@') {
        return Ok(inner);
    }
    let (route, mailbox) = inner.split_once(':').ok_or("empty local part")?;
    for hop in route.split(',') {
        let hop = hop.strip_prefix('@').ok_or("invalid source route")?;
        domain::check_name(hop).map_err(|_| "invalid source route")?;
    }
    if mailbox.is_empty() {
        return Err("source route without a mailbox");
    }
    Ok(mailbox)
}

/// `local@domain` or a domain-less `local`.
fn parse_mailbox(text: &str) -> Result<Address, &'static str> {
    let (local, rest) = if text.starts_with('"') {
        text.split_at(quoted_end(text)?)
    } else {
        text.split_at(text.find('@').unwrap_or(text.len()))
    };
    if local.len() > MAX_LOCAL {
        return Err("local part too long");
    }
    if local.starts_with('"') {
        check_quoted(&local[1..local.len() - 1])?;
    } else {
        check_dot_string(local)?;
    }
    let domain = match rest {
        "" => None,
        _ => {
            let domain = rest.strip_prefix('@').ok_or("text after the quoted local part")?;
            domain::check(domain)?;
            Some(domain.to_owned())
        }
    };
    Ok(Address { local: local.to_owned(), domain })
}

/// Byte index just past the closing quote of the quoted string that starts `text`.
fn quoted_end(text: &str) -> Result<usize, &'static str> {
    let bytes = text.as_bytes();
    let mut i = 1;
    while i < bytes.len() {
        match bytes[i] {
            b'\\' => i += 2,
            b'"' => return Ok(i + 1),
            _ => i += 1,
        }
    }
    Err("unterminated quoted local part")
}

/// RFC 5321 Dot-string: atoms of atext (UTF-8 allowed, RFC 6531) joined by single dots.
fn check_dot_string(local: &str) -> Result<(), &'static str> {
    for atom in local.split('.') {
        if atom.is_empty() {
            return Err(if local.is_empty() { "empty local part" } else { "misplaced dot in local part" });
        }
        if !atom.chars().all(is_atext) {
            return Err("invalid character in local part");
        }
    }
    Ok(())
}

fn is_atext(c: char) -> bool {
    c.is_ascii_alphanumeric() || "!#$%&'*+-/=?^_`{|}~".contains(c) || is_utf8_text(c)
}

fn is_utf8_text(c: char) -> bool {
    !(c.is_ascii() || c.is_control() || c.is_whitespace())
}

/// The inside of an RFC 5321 Quoted-string: qtextSMTP and backslash pairs.
fn check_quoted(inside: &str) -> Result<(), &'static str> {
    let mut chars = inside.chars();
    while let Some(c) = chars.next() {
        let valid = match c {
            '\\' => chars.next().is_some_and(|next| matches!(next, ' '..='~')),
            ' '..='~' => c != '"',
            _ => is_utf8_text(c),
        };
        if !valid {
            return Err("invalid character in quoted local part");
        }
    }
    Ok(())
}
