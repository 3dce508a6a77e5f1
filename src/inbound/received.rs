//! The `Received:` trace header tern prepends to every accepted message (RFC 5321 §4.4).

use std::net::IpAddr;

use time::format_description::well_known::Rfc2822;
use time::OffsetDateTime;

/// What the trace header records about one message.
pub struct Trace<'a> {
    /// The EHLO/HELO argument.
    pub helo: &'a str,
    pub client: IpAddr,
    pub fqdn: &'a str,
    /// `ESMTP`, `SMTP` (and later `ESMTPS`, `ESMTPA`, `ESMTPSA`).
    pub protocol: &'a str,
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
        "Received: from {} ({})\r\n\tby {} with {} id {}{}; {}\r\n",
        trace.helo, client, trace.fqdn, trace.protocol, trace.id, for_clause, date
    )
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
            protocol: "ESMTP",
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
        trace.protocol = "SMTP";
        assert_eq!(
            received_header(&trace, now),
            "Received: from client.example ([IPv6:::1])\r\n\tby mx.tern.test with SMTP id ABC; \
             Mon, 23 Nov 2026 08:15:00 +0000\r\n"
        );
    }
}
