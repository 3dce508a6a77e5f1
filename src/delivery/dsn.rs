//! RFC 3464 delivery status notifications (NDRs and delay notices), built in wire form.
//!
//! The report is `multipart/report; report-type=delivery-status` (RFC 6522) with a human
//! `text/plain` part, the `message/delivery-status` part, and the original header section as
//! `text/rfc822-headers`. The output is CRLF only, dot-stuffed, without the final `.`: what
//! the spool stores and outbound sends. Sending it (MAIL FROM `<>`, RCPT the original reverse
//! path from [`notify_target`]) is the caller's job.
//!
//! Everything taken from outside (remote replies, the original headers, addresses) is made
//! safe: CR, LF and other control characters become spaces in header fields and status
//! fields, header fields are folded, and no line passes [`MAX_LINE`] octets. The top-level
//! header fields and the status fields are ASCII (other characters become `?`); the human
//! part (UTF-8) and the copied original header section keep other characters.

#[cfg(test)]
mod tests;

use time::format_description::well_known::Rfc2822;
use time::OffsetDateTime;

use crate::proto::reply::Status;
use crate::proto::stuff::{stuff_into, unstuff_into};
use crate::spool::MessageMeta;

/// The longest line written, without CRLF and before dot-stuffing (RFC 5322 allows 998).
pub const MAX_LINE: usize = 900;
/// Where header fields are folded when their words allow it.
const FOLD_AT: usize = 78;

/// Which notification this is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// Final: the recipients will not get the message (`Action: failed`, class 5).
    Failed,
    /// Still trying (`Action: delayed`, class 4) until `retry_until` (Unix seconds).
    Delayed { retry_until: u64 },
}

/// The state of one recipient, as reported.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecipientStatus {
    /// The forward path, `local@domain`.
    pub address: String,
    /// The enhanced status. Its class is written as 5 for [`Kind::Failed`] and 4 for
    /// [`Kind::Delayed`], whatever it is here (RFC 3464 §2.3.4).
    pub status: Status,
    /// The host that gave the answer, when one did.
    pub remote_mta: Option<String>,
    /// The remote SMTP reply, e.g. `550 5.1.1 <bob@example.net>: no such user`.
    pub diagnostic: Option<String>,
    /// Unix time of the last attempt for this recipient, when there was one.
    pub last_attempt: Option<u64>,
}

/// Everything a notification says.
#[derive(Debug, Clone)]
pub struct Report<'a> {
    /// This server's name: `Reporting-MTA`, `postmaster@fqdn`, the Message-ID's right side.
    pub fqdn: &'a str,
    /// A non-empty token unique to this notification (e.g. the spool id it will be stored
    /// under); the left side of its Message-ID.
    pub id: &'a str,
    pub original: &'a MessageMeta,
    /// The original message in wire form (dot-stuffed), or at least its header section.
    pub original_wire: &'a [u8],
    pub recipients: &'a [RecipientStatus],
    pub kind: Kind,
    /// Unix time the notification is made (its `Date`).
    pub now: u64,
}

/// The address a notification about `original` goes to: its reverse path, or `None` for the
/// null reverse path `<>`. Such a message never gets a notification (it goes to Badmail).
pub fn notify_target(original: &MessageMeta) -> Option<&str> {
    Some(original.reverse_path.as_str()).filter(|path| !path.is_empty())
}

/// The notification as a wire-form message (CRLF, dot-stuffed, without the final `.\r\n`).
/// A part with 8-bit content (a UTF-8 address, 8-bit original headers) is labelled
/// `Content-Transfer-Encoding: 8bit`; the sender then needs `BODY=8BITMIME` (`!wire.is_ascii()`).
pub fn build(report: &Report<'_>) -> Vec<u8> {
    let headers = header_section(report.original_wire);
    let text = human_part(report);
    let status = status_part(report);
    let boundary = boundary(report.now, &[text.as_bytes(), status.as_bytes(), &headers]);
    let mut plain = top_headers(report, &headers, &boundary).into_bytes();
    let mut part = |content_type: &str, body: &[u8]| {
        plain.extend_from_slice(format!("--{boundary}\r\nContent-Type: {content_type}\r\n").as_bytes());
        if !body.is_ascii() {
            plain.extend_from_slice(b"Content-Transfer-Encoding: 8bit\r\n");
        }
        plain.extend_from_slice(b"\r\n");
        plain.extend_from_slice(body);
        plain.extend_from_slice(b"\r\n");
    };
    part("text/plain; charset=utf-8", text.as_bytes());
    part("message/delivery-status", status.as_bytes());
    part("text/rfc822-headers", &headers);
    plain.extend_from_slice(format!("--{boundary}--\r\n").as_bytes());
    let mut wire = Vec::with_capacity(plain.len() + 16);
    stuff_into(&plain, true, &mut wire);
    wire
}

/// The header fields of the notification itself, ending with the empty line.
fn top_headers(report: &Report<'_>, original_headers: &[u8], boundary: &str) -> String {
    let prefix = match report.kind {
        Kind::Failed => "Undeliverable",
        Kind::Delayed { .. } => "Delayed",
    };
    let subject = original_subject(original_headers).unwrap_or_else(|| "(no subject)".into());
    let sender = field_text(&report.original.reverse_path);
    let mut out = String::new();
    out.push_str(&format!("From: Mail Delivery System <postmaster@{}>\r\n", report.fqdn));
    out.push_str(&fold("To", &format!("<{sender}>")));
    out.push_str(&fold("Subject", &format!("{prefix}: {subject}")));
    out.push_str(&format!("Date: {}\r\n", rfc5322_date(report.now)));
    out.push_str(&format!("Message-ID: <{}@{}>\r\n", id_text(report.id), report.fqdn));
    out.push_str("Auto-Submitted: auto-replied\r\nMIME-Version: 1.0\r\n");
    out.push_str(&format!(
        "Content-Type: multipart/report; report-type=delivery-status;\r\n boundary=\"{boundary}\"\r\n\r\n"
    ));
    out
}

/// The human explanation: what happened, then each recipient with its reason.
fn human_part(report: &Report<'_>) -> String {
    let mut out = format!("This is the mail system at {}.\r\n\r\n", report.fqdn);
    let intro = match report.kind {
        Kind::Failed => "Your message could not be delivered to the following recipients. \
                         The mail system has given up; no further attempts will be made."
            .to_string(),
        Kind::Delayed { retry_until } => format!(
            "Your message has not been delivered yet to the following recipients. The mail system \
             will keep trying until {}. You do not need to send the message again.",
            rfc5322_date(retry_until)
        ),
    };
    push_lines(&mut out, &wrap("", "", &intro));
    out.push_str("\r\n");
    for rcpt in report.recipients {
        let mut line = format!("<{}>", line_text(&rcpt.address));
        if let Some(host) = &rcpt.remote_mta {
            line.push_str(&format!(" (remote server {})", field_text(host)));
        }
        match &rcpt.diagnostic {
            Some(diagnostic) => line.push_str(&format!(": {}", field_text(diagnostic))),
            None => line.push_str(&format!(": {} ({})", describe(rcpt.status), status_for(report.kind, rcpt.status))),
        }
        push_lines(&mut out, &wrap("  ", "    ", &line));
    }
    out
}

/// The `message/delivery-status` body: per-message fields, then one block per recipient.
fn status_part(report: &Report<'_>) -> String {
    let mut out = format!("Reporting-MTA: dns; {}\r\n", report.fqdn);
    out.push_str(&format!("Arrival-Date: {}\r\n", rfc5322_date(report.original.received_at)));
    for rcpt in report.recipients {
        out.push_str("\r\n");
        out.push_str(&fold("Final-Recipient", &final_recipient(&rcpt.address)));
        let action = match report.kind {
            Kind::Failed => "failed",
            Kind::Delayed { .. } => "delayed",
        };
        out.push_str(&format!("Action: {action}\r\nStatus: {}\r\n", status_for(report.kind, rcpt.status)));
        if let Some(host) = &rcpt.remote_mta {
            out.push_str(&fold("Remote-MTA", &format!("dns; {}", field_text(host))));
        }
        if let Some(diagnostic) = &rcpt.diagnostic {
            out.push_str(&fold("Diagnostic-Code", &format!("smtp; {}", field_text(diagnostic))));
        }
        if let Some(at) = rcpt.last_attempt {
            out.push_str(&format!("Last-Attempt-Date: {}\r\n", rfc5322_date(at)));
        }
        if let Kind::Delayed { retry_until } = report.kind {
            out.push_str(&format!("Will-Retry-Until: {}\r\n", rfc5322_date(retry_until)));
        }
    }
    out
}

/// The `Final-Recipient` value: `rfc822; addr`, or for a non-ASCII address `utf-8;` with
/// each character outside `utf-8-addr-xtext` written `\x{HEX}` (RFC 6533 §3).
fn final_recipient(address: &str) -> String {
    let address = line_text(address);
    if address.is_ascii() {
        return format!("rfc822; {address}");
    }
    let mut out = String::from("utf-8; ");
    for c in address.chars() {
        match c {
            '!'..='~' if !matches!(c, '+' | '=' | '\\') => out.push(c),
            _ => out.push_str(&format!("\\x{{{:X}}}", u32::from(c))),
        }
    }
    out
}

/// `status` with the class the kind requires (5 for failed, 4 for delayed).
fn status_for(kind: Kind, Status(_, subject, detail): Status) -> Status {
    match kind {
        Kind::Failed => Status(5, subject, detail),
        Kind::Delayed { .. } => Status(4, subject, detail),
    }
}

/// A short description of an enhanced status code (RFC 3463), for when there is no reply.
fn describe(Status(_, subject, detail): Status) -> &'static str {
    match (subject, detail) {
        (1, 1) => "the mailbox does not exist",
        (1, 2) => "the destination domain does not exist or accepts no mail",
        (2, 2) => "the mailbox is full",
        (3, 4) => "the message is too big for the destination",
        (4, 1) => "the destination server did not answer",
        (4, 4) => "no route to the destination could be found",
        (4, 6) => "the message was forwarded too many times (a routing loop)",
        (4, 7) => "the message expired before it could be delivered",
        (7, 10) => "the destination requires an encrypted connection",
        (1, _) => "the address was refused",
        (2, _) => "the mailbox refused the message",
        (3, _) => "the destination mail system refused the message",
        (4, _) => "a network or routing problem",
        (5, _) => "a protocol problem with the destination server",
        (6, _) => "the destination refused the message content",
        (7, _) => "the destination refused the message for security or policy reasons",
        _ => "the delivery failed",
    }
}

/// The original header section (up to the first empty line), un-stuffed, as CRLF lines. A
/// bare LF ends a line, a bare CR becomes a space, a line longer than [`MAX_LINE`] is folded.
fn header_section(wire: &[u8]) -> Vec<u8> {
    let mut end = 0;
    while end < wire.len() && wire[end] != b'\n' && !wire[end..].starts_with(b"\r\n") {
        end = memchr::memchr(b'\n', &wire[end..]).map_or(wire.len(), |lf| end + lf + 1);
    }
    let mut section = Vec::with_capacity(end);
    unstuff_into(&wire[..end], &mut section);
    let mut out = Vec::with_capacity(section.len() + 16);
    for line in section.split(|&b| b == b'\n') {
        let line = line.strip_suffix(b"\r").unwrap_or(line);
        if line.is_empty() {
            continue;
        }
        let line: Vec<u8> = line.iter().map(|&b| if b == b'\r' { b' ' } else { b }).collect();
        let mut chunks = line.chunks(MAX_LINE);
        out.extend_from_slice(chunks.next().unwrap_or_default());
        for chunk in chunks {
            out.extend_from_slice(b"\r\n ");
            out.extend_from_slice(chunk);
        }
        out.extend_from_slice(b"\r\n");
    }
    out
}

/// The unfolded, cleaned value of the first `Subject:` field of a header section.
fn original_subject(headers: &[u8]) -> Option<String> {
    let text = String::from_utf8_lossy(headers);
    let mut lines = text.split("\r\n");
    let first = lines.by_ref().find(|line| line.get(..8).is_some_and(|name| name.eq_ignore_ascii_case("subject:")))?;
    let mut value = first[8..].to_string();
    for more in lines.take_while(|line| line.starts_with([' ', '\t'])) {
        value.push_str(more);
    }
    let value = field_text(&value);
    (!value.is_empty()).then_some(value)
}

/// Text for a header or status field: control characters (CR and LF among them) become
/// spaces, other non-ASCII characters `?`, runs of spaces one space; trimmed.
fn field_text(text: &str) -> String {
    let ascii: String = text.chars().map(|c| if c.is_ascii() { c } else { '?' }).collect();
    line_text(&ascii)
}

/// The characters of `id` allowed in the left side of a Message-ID (RFC 5322 `dot-atom-text`).
fn id_text(id: &str) -> String {
    id.chars().filter(|c| c.is_ascii_alphanumeric() || "!#$%&'*+-/=?^_`{|}~.".contains(*c)).collect()
}

/// Text for one line of the human part: control characters become spaces, runs of spaces one
/// space; trimmed.
fn line_text(text: &str) -> String {
    let spaced: String = text.chars().map(|c| if c.is_control() { ' ' } else { c }).collect();
    spaced.split(' ').filter(|word| !word.is_empty()).collect::<Vec<_>>().join(" ")
}

/// `Name: value` folded at spaces near [`FOLD_AT`] columns, with its CRLF.
fn fold(name: &str, value: &str) -> String {
    let mut out = String::new();
    push_lines(&mut out, &wrap("", " ", &format!("{name}: {value}")));
    out
}

/// The words of `text` as lines of at most [`FOLD_AT`] columns where the words allow it: the
/// first line starts with `first`, the others with `indent`. A word longer than
/// [`MAX_LINE`] - 100 bytes is cut, so that no line is longer than [`MAX_LINE`].
fn wrap(first: &str, indent: &str, text: &str) -> Vec<String> {
    let mut lines = Vec::new();
    let mut line = first.to_string();
    let mut word_on_line = false;
    for word in text.split(' ').filter(|word| !word.is_empty()).flat_map(cut) {
        if word_on_line && line.len() + 1 + word.len() > FOLD_AT {
            lines.push(std::mem::replace(&mut line, indent.to_string()));
            word_on_line = false;
        }
        if word_on_line {
            line.push(' ');
        }
        line.push_str(word);
        word_on_line = true;
    }
    lines.push(line);
    lines
}

/// `word` in pieces of at most [`MAX_LINE`] - 100 bytes, cut at character boundaries.
fn cut(word: &str) -> Vec<&str> {
    let max = MAX_LINE - 100;
    let mut pieces = Vec::new();
    let mut rest = word;
    while rest.len() > max {
        let at = (1..=max).rev().find(|&i| rest.is_char_boundary(i)).unwrap_or(rest.len());
        let (piece, tail) = rest.split_at(at);
        pieces.push(piece);
        rest = tail;
    }
    pieces.push(rest);
    pieces
}

fn push_lines(out: &mut String, lines: &[String]) {
    for line in lines {
        out.push_str(line);
        out.push_str("\r\n");
    }
}

/// A MIME boundary that occurs in none of `parts`.
fn boundary(now: u64, parts: &[&[u8]]) -> String {
    (0u32..)
        .map(|n| format!("=_tern-dsn-{now:x}-{n}"))
        .find(|b| parts.iter().all(|part| memchr::memmem::find(part, b.as_bytes()).is_none()))
        .unwrap_or_default()
}

/// An RFC 5322 date in UTC (`Tue, 14 Nov 2023 22:13:20 +0000`).
fn rfc5322_date(unix: u64) -> String {
    i64::try_from(unix)
        .ok()
        .and_then(|secs| OffsetDateTime::from_unix_timestamp(secs).ok())
        .and_then(|time| time.format(&Rfc2822).ok())
        .unwrap_or_else(|| "Thu, 01 Jan 1970 00:00:00 +0000".to_string())
}
