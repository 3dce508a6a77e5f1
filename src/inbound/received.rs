//! The `Received:` trace header tern prepends to every accepted message (RFC 5321 §4.4), with
//! the RFC 3848 protocol (`ESMTP`, `ESMTPS`, `ESMTPA`, `ESMTPSA`), a comment naming the TLS
//! version, cipher and authenticated user, and the outcome of the reverse DNS check of the
//! EHLO name when it is on.

use std::io::{self, Write};
use std::net::IpAddr;

use super::session::TlsInfo;
use crate::policy::ClientName;

use time::format_description::well_known::Rfc2822;
use time::OffsetDateTime;

/// What the trace header records about one message.
pub struct Trace<'a> {
    /// The EHLO/HELO argument.
    pub helo: &'a str,
    pub client: IpAddr,
    pub fqdn: &'a str,
    /// EHLO (ESMTP) rather than HELO (SMTP).
    pub esmtp: bool,
    pub tls: Option<&'a TlsInfo>,
    /// The name of a successful AUTH.
    pub auth_user: Option<&'a str>,
    pub id: &'a str,
    /// Set when the message has exactly one recipient.
    pub single_recipient: Option<&'a str>,
    pub rdns: Rdns<'a>,
}

/// The reverse DNS check of the EHLO name (`delivery.reverse_dns_lookup`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Rdns<'a> {
    /// Not checked: `from helo ([ip])`.
    Off,
    /// The EHLO name is a forward-confirmed PTR name of the client: `from helo (name [ip])`.
    Verified(&'a str),
    /// It is not: `from helo (name [ip] unverified)`, with the confirmed PTR name if there is one.
    Unverified(Option<&'a str>),
    /// No PTR name, or DNS failed or timed out: `from helo ([ip] RDNS failed)`.
    Failed,
}

impl<'a> Rdns<'a> {
    /// Compares the EHLO name with the client's reverse lookup.
    pub fn check(name: &'a ClientName, helo: &str) -> Rdns<'a> {
        match name {
            ClientName::Answered { ptr, .. } if ptr.is_empty() => Rdns::Failed,
            ClientName::Answered { confirmed, .. } => {
                match confirmed.iter().find(|n| n.eq_ignore_ascii_case(helo.trim_end_matches('.'))) {
                    Some(name) => Rdns::Verified(name),
                    None => Rdns::Unverified(confirmed.first().map(String::as_str)),
                }
            }
            ClientName::Failed => Rdns::Failed,
        }
    }
}

/// Formats the header, folded over three lines, ending in CRLF. Written into one buffer.
pub fn received_header(trace: &Trace<'_>, now: OffsetDateTime) -> String {
    let mut out = Vec::with_capacity(256);
    write_header(&mut out, trace, now).expect("writing to a Vec cannot fail");
    String::from_utf8(out).expect("every part is UTF-8")
}

fn write_header(out: &mut Vec<u8>, trace: &Trace<'_>, now: OffsetDateTime) -> io::Result<()> {
    write!(out, "Received: from {} (", trace.helo)?;
    match trace.rdns {
        Rdns::Off | Rdns::Unverified(None) | Rdns::Failed => {}
        Rdns::Verified(name) | Rdns::Unverified(Some(name)) => write!(out, "{name} ")?,
    }
    match trace.client {
        IpAddr::V4(ip) => write!(out, "[{ip}]")?,
        IpAddr::V6(ip) => write!(out, "[IPv6:{ip}]")?,
    }
    match trace.rdns {
        Rdns::Off | Rdns::Verified(_) => {}
        Rdns::Unverified(_) => out.extend_from_slice(b" unverified"),
        Rdns::Failed => out.extend_from_slice(b" RDNS failed"),
    }
    write!(out, ")\r\n\tby {} with ", trace.fqdn)?;
    write_protocol(out, trace);
    write_comment(out, trace)?;
    write!(out, " id {}", trace.id)?;
    if let Some(rcpt) = trace.single_recipient {
        write!(out, "\r\n\tfor <{rcpt}>")?;
    }
    out.extend_from_slice(b"; ");
    if now.format_into(out, &Rfc2822).is_err() {
        write!(out, "{}", now.unix_timestamp())?;
    }
    out.extend_from_slice(b"\r\n");
    Ok(())
}

/// RFC 3848: `SMTP`, `ESMTP`, plus `S` with TLS and `A` with AUTH.
fn write_protocol(out: &mut Vec<u8>, trace: &Trace<'_>) {
    out.extend_from_slice(if trace.esmtp { b"ESMTP" } else { b"SMTP" });
    if trace.esmtp && trace.tls.is_some() {
        out.push(b'S');
    }
    if trace.esmtp && trace.auth_user.is_some() {
        out.push(b'A');
    }
}

/// ` (TLSv1.3 TLS13_AES_256_GCM_SHA384; authenticated as alice)`, or nothing.
fn write_comment(out: &mut Vec<u8>, trace: &Trace<'_>) -> io::Result<()> {
    if trace.tls.is_none() && trace.auth_user.is_none() {
        return Ok(());
    }
    out.extend_from_slice(b" (");
    if let Some(tls) = trace.tls {
        write!(out, "{} {}", tls.version, tls.cipher)?;
        if trace.auth_user.is_some() {
            out.extend_from_slice(b"; ");
        }
    }
    if let Some(user) = trace.auth_user {
        write!(out, "authenticated as {}", comment_text(user))?;
    }
    out.push(b')');
    Ok(())
}

/// Text that is safe inside a header comment: `(`, `)` and `\` quoted, controls dropped.
fn comment_text(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars().filter(|c| !c.is_control()) {
        if matches!(c, '(' | ')' | '\\') {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    #[test]
    fn header_forms() {
        let now = datetime!(2026-11-23 08:15:00 UTC);
        let mut trace = Trace {
            helo: "client.example",
            client: "127.0.0.9".parse().unwrap(),
            fqdn: "mx.tern.test",
            esmtp: true,
            tls: None,
            auth_user: None,
            id: "ABC",
            single_recipient: Some("bob@example.com"),
            rdns: Rdns::Off,
        };
        assert_eq!(
            received_header(&trace, now),
            "Received: from client.example ([127.0.0.9])\r\n\tby mx.tern.test with ESMTP id ABC\r\n\
             \tfor <bob@example.com>; Mon, 23 Nov 2026 08:15:00 +0000\r\n"
        );
        trace.single_recipient = None;
        trace.client = "::1".parse().unwrap();
        trace.esmtp = false;
        assert_eq!(
            received_header(&trace, now),
            "Received: from client.example ([IPv6:::1])\r\n\tby mx.tern.test with SMTP id ABC; \
             Mon, 23 Nov 2026 08:15:00 +0000\r\n"
        );
    }

    #[test]
    fn reverse_dns_outcomes() {
        let now = datetime!(2026-11-23 08:15:00 UTC);
        let answered = |ptr: &[&str], confirmed: &[&str]| ClientName::Answered {
            ptr: ptr.iter().map(|s| s.to_string()).collect(),
            confirmed: confirmed.iter().map(|s| s.to_string()).collect(),
        };
        let good = answered(&["other.example", "client.example"], &["other.example", "client.example"]);
        let elsewhere = answered(&["other.example"], &["other.example"]);
        let unconfirmed = answered(&["client.example"], &[]);
        let none = answered(&[], &[]);
        let cases: &[(&ClientName, &str, Rdns, &str)] = &[
            (&good, "Client.Example", Rdns::Verified("client.example"), "(client.example [127.0.0.9])"),
            (&good, "client.example.", Rdns::Verified("client.example"), "(client.example [127.0.0.9])"),
            (
                &elsewhere,
                "client.example",
                Rdns::Unverified(Some("other.example")),
                "(other.example [127.0.0.9] unverified)",
            ),
            (&unconfirmed, "client.example", Rdns::Unverified(None), "([127.0.0.9] unverified)"),
            (&none, "client.example", Rdns::Failed, "([127.0.0.9] RDNS failed)"),
            (&ClientName::Failed, "client.example", Rdns::Failed, "([127.0.0.9] RDNS failed)"),
        ];
        for (name, helo, want, clause) in cases {
            let rdns = Rdns::check(name, helo);
            assert_eq!(rdns, *want, "{name:?} {helo}");
            let trace = Trace {
                helo,
                client: "127.0.0.9".parse().unwrap(),
                fqdn: "mx.tern.test",
                esmtp: true,
                tls: None,
                auth_user: None,
                id: "ABC",
                single_recipient: None,
                rdns,
            };
            let header = received_header(&trace, now);
            assert!(header.starts_with(&format!("Received: from {helo} {clause}\r\n\tby ")), "{header}");
        }
    }

    #[test]
    fn protocols_and_comments() {
        let tls = TlsInfo { version: "TLSv1.3".into(), cipher: "TLS13_AES_128_GCM_SHA256".into() };
        let cases: &[(bool, bool, Option<&str>, &str)] = &[
            (true, false, None, "with ESMTP id"),
            (true, true, None, "with ESMTPS (TLSv1.3 TLS13_AES_128_GCM_SHA256) id"),
            (true, false, Some("bob"), "with ESMTPA (authenticated as bob) id"),
            (true, true, Some("a(b)"), "with ESMTPSA (TLSv1.3 TLS13_AES_128_GCM_SHA256; authenticated as a\\(b\\)) id"),
            (false, false, None, "with SMTP id"),
        ];
        for (esmtp, with_tls, user, want) in cases {
            let trace = Trace {
                helo: "c",
                client: "127.0.0.9".parse().unwrap(),
                fqdn: "mx",
                esmtp: *esmtp,
                tls: with_tls.then_some(&tls),
                auth_user: *user,
                id: "ABC",
                single_recipient: None,
                rdns: Rdns::Off,
            };
            let header = received_header(&trace, datetime!(2026-11-23 08:15:00 UTC));
            assert!(header.contains(want), "{header:?} lacks {want:?}");
        }
    }
}
