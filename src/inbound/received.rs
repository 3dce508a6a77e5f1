//! The `Received:` trace header tern prepends to every accepted message (RFC 5321 §4.4), with
//! the RFC 3848 protocol (`ESMTP`, `ESMTPS`, `ESMTPA`, `ESMTPSA`) and a comment naming the TLS
//! version, cipher and authenticated user.

use std::net::IpAddr;

use super::session::TlsInfo;

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
}

/// Formats the header, folded over three lines, ending in CRLF.
pub fn received_header(trace: &Trace<'_>, now: OffsetDateTime) -> String {
    let client = match trace.client {
        IpAddr::V4(ip) => format!("[{ip}]"),
        IpAddr::V6(ip) => format!("[IPv6:{ip}]"),
    };
    let date = now.format(&Rfc2822).unwrap_or_else(|_| now.unix_timestamp().to_string());
    let for_clause = match trace.single_recipient {
        Some(rcpt) => format!("\r\n\tfor <{rcpt}>"),
        None => String::new(),
    };
    format!(
        "Received: from {} ({})\r\n\tby {} with {}{} id {}{}; {}\r\n",
        trace.helo,
        client,
        trace.fqdn,
        protocol(trace),
        comment(trace),
        trace.id,
        for_clause,
        date
    )
}

/// RFC 3848: `SMTP`, `ESMTP`, plus `S` with TLS and `A` with AUTH.
fn protocol(trace: &Trace<'_>) -> String {
    let mut protocol = String::from(if trace.esmtp { "ESMTP" } else { "SMTP" });
    if trace.esmtp && trace.tls.is_some() {
        protocol.push('S');
    }
    if trace.esmtp && trace.auth_user.is_some() {
        protocol.push('A');
    }
    protocol
}

/// ` (TLSv1.3 TLS13_AES_256_GCM_SHA384; authenticated as alice)`, or nothing.
fn comment(trace: &Trace<'_>) -> String {
    let mut parts = Vec::new();
    if let Some(tls) = trace.tls {
        parts.push(format!("{} {}", tls.version, tls.cipher));
    }
    if let Some(user) = trace.auth_user {
        parts.push(format!("authenticated as {}", comment_text(user)));
    }
    if parts.is_empty() {
        String::new()
    } else {
        format!(" ({})", parts.join("; "))
    }
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
            };
            let header = received_header(&trace, datetime!(2026-11-23 08:15:00 UTC));
            assert!(header.contains(want), "{header:?} lacks {want:?}");
        }
    }
}
