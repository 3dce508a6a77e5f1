//! Builds notifications and parses them back: every field, the header copy, folding, and
//! injection attempts.

use super::*;

const NOW: u64 = 1_700_000_000;
const NOW_DATE: &str = "Tue, 14 Nov 2023 22:13:20 +0000";
const RECEIVED: u64 = 1_699_990_000;
const RECEIVED_DATE: &str = "Tue, 14 Nov 2023 19:26:40 +0000";
const LAST: u64 = 1_699_999_000;
const LAST_DATE: &str = "Tue, 14 Nov 2023 21:56:40 +0000";
const UNTIL: u64 = 1_700_100_000;
const UNTIL_DATE: &str = "Thu, 16 Nov 2023 02:00:00 +0000";

const ORIGINAL: &[u8] =
    b"Received: from client by mx.example\r\n\tfor <bob@example.net>\r\nSubject: Hello\r\n  there\r\n\
..X-Dot: leading dot\r\nFrom: <alice@example.com>\r\n\r\nbody line\r\n..dot line\r\n";
const ORIGINAL_HEADERS: &str = "Received: from client by mx.example\r\n\tfor <bob@example.net>\r\nSubject: Hello\r\n  \
there\r\n.X-Dot: leading dot\r\nFrom: <alice@example.com>\r\n";

fn meta(reverse_path: &str) -> MessageMeta {
    MessageMeta {
        id: "m1".into(),
        received_at: RECEIVED,
        reverse_path: reverse_path.into(),
        recipients: vec!["bob@example.net".into(), "carol@example.org".into()],
        virtual_server: "vs".into(),
        flags: 0,
    }
}

fn bob() -> RecipientStatus {
    RecipientStatus {
        address: "bob@example.net".into(),
        status: Status(5, 1, 1),
        remote_mta: Some("mx1.example.net".into()),
        diagnostic: Some("550 5.1.1 <bob@example.net>: no such user".into()),
        last_attempt: Some(LAST),
    }
}

fn carol() -> RecipientStatus {
    RecipientStatus {
        address: "carol@example.org".into(),
        status: Status(5, 4, 4),
        remote_mta: None,
        diagnostic: None,
        last_attempt: None,
    }
}

fn report<'a>(original: &'a MessageMeta, wire: &'a [u8], rcpts: &'a [RecipientStatus], kind: Kind) -> Report<'a> {
    Report { fqdn: "mx.example", id: "dsn1", original, original_wire: wire, recipients: rcpts, kind, now: NOW }
}

/// Header fields, unfolded (the CRLF of a fold removed, its white space kept).
fn fields(section: &str) -> Vec<(String, String)> {
    let mut out: Vec<(String, String)> = Vec::new();
    for line in section.split("\r\n").filter(|l| !l.is_empty()) {
        if line.starts_with([' ', '\t']) {
            out.last_mut().expect("continuation first").1.push_str(line);
        } else {
            let (name, value) = line.split_once(':').unwrap_or_else(|| panic!("not a field: {line:?}"));
            out.push((name.to_string(), value.trim_start().to_string()));
        }
    }
    out
}

/// A built notification taken apart: top header fields and (part header fields, part body).
struct Parsed {
    top: Vec<(String, String)>,
    parts: Vec<(Vec<(String, String)>, String)>,
}

/// Checks the wire invariants, un-stuffs, and splits the message on its boundary.
fn parse_back(wire: &[u8]) -> Parsed {
    assert!(!wire.ends_with(b"\r\n.\r\n"), "must not carry the end of data");
    for (i, &b) in wire.iter().enumerate() {
        match b {
            b'\r' => assert_eq!(wire.get(i + 1), Some(&b'\n'), "bare CR at {i}"),
            b'\n' => assert!(i > 0 && wire[i - 1] == b'\r', "bare LF at {i}"),
            _ => {}
        }
    }
    let text = String::from_utf8(wire.to_vec()).unwrap();
    for line in text.split("\r\n") {
        assert!(line.len() < 998, "line of {} octets", line.len());
        assert_ne!(line, ".", "unstuffed end of data");
    }
    let mut plain = Vec::new();
    unstuff_into(wire, &mut plain);
    let plain = String::from_utf8(plain).unwrap();
    let (head, body) = plain.split_once("\r\n\r\n").unwrap();
    let top = fields(head);
    let content_type = &top.iter().find(|(n, _)| n == "Content-Type").unwrap().1;
    let boundary = content_type.split("boundary=\"").nth(1).unwrap().trim_end_matches('"');
    let (_, rest) = body.split_once(&format!("--{boundary}\r\n")).unwrap();
    let (rest, epilogue) = rest.split_once(&format!("\r\n--{boundary}--\r\n")).unwrap();
    assert_eq!(epilogue, "");
    let parts = rest
        .split(&format!("\r\n--{boundary}\r\n"))
        .map(|part| {
            let (head, body) = part.split_once("\r\n\r\n").unwrap();
            (fields(head), body.to_string())
        })
        .collect();
    Parsed { top, parts }
}

fn field<'a>(fields: &'a [(String, String)], name: &str) -> &'a str {
    let mut found = fields.iter().filter(|(n, _)| n == name);
    let (_, value) = found.next().unwrap_or_else(|| panic!("no {name} in {fields:?}"));
    assert!(found.next().is_none(), "two {name}");
    value
}

fn names(fields: &[(String, String)]) -> Vec<&str> {
    fields.iter().map(|(n, _)| n.as_str()).collect()
}

#[test]
fn failed_report_fields() {
    let original = meta("alice@example.com");
    let rcpts = [bob(), carol()];
    let parsed = parse_back(&build(&report(&original, ORIGINAL, &rcpts, Kind::Failed)));
    let want_top = [
        ("From", "Mail Delivery System <postmaster@mx.example>"),
        ("To", "<alice@example.com>"),
        ("Subject", "Undeliverable: Hello there"),
        ("Date", NOW_DATE),
        ("Message-ID", "<dsn1@mx.example>"),
        ("Auto-Submitted", "auto-replied"),
        ("MIME-Version", "1.0"),
        ("Content-Type", "multipart/report; report-type=delivery-status; boundary=\"=_tern-dsn-6553f100-0\""),
    ];
    let want_top: Vec<(String, String)> = want_top.iter().map(|(n, v)| (n.to_string(), v.to_string())).collect();
    assert_eq!(parsed.top, want_top);
    assert_eq!(parsed.parts.len(), 3);

    let (head, text) = &parsed.parts[0];
    assert_eq!(field(head, "Content-Type"), "text/plain; charset=utf-8");
    assert_eq!(names(head), ["Content-Type"], "ASCII text needs no transfer encoding");
    assert!(text.starts_with("This is the mail system at mx.example.\r\n\r\nYour message could not be delivered"));
    assert!(text.contains(
        "\r\n  <bob@example.net> (remote server mx1.example.net): 550 5.1.1\r\n    <bob@example.net>: no such user\r\n"
    ));
    assert!(text.ends_with("\r\n  <carol@example.org>: no route to the destination could be found (5.4.4)\r\n"));

    let (head, status) = &parsed.parts[1];
    assert_eq!(names(head), ["Content-Type"]);
    assert_eq!(field(head, "Content-Type"), "message/delivery-status");
    let want_status = format!(
        "Reporting-MTA: dns; mx.example\r\nArrival-Date: {RECEIVED_DATE}\r\n\r\n\
         Final-Recipient: rfc822; bob@example.net\r\nAction: failed\r\nStatus: 5.1.1\r\n\
         Remote-MTA: dns; mx1.example.net\r\nDiagnostic-Code: smtp; 550 5.1.1 <bob@example.net>: no such user\r\n\
         Last-Attempt-Date: {LAST_DATE}\r\n\r\n\
         Final-Recipient: rfc822; carol@example.org\r\nAction: failed\r\nStatus: 5.4.4\r\n"
    );
    assert_eq!(status, &want_status);

    let (head, headers) = &parsed.parts[2];
    assert_eq!(field(head, "Content-Type"), "text/rfc822-headers");
    assert_eq!(headers, ORIGINAL_HEADERS);
}

#[test]
fn header_copy_is_stuffed_on_the_wire() {
    let original = meta("alice@example.com");
    let rcpts = [bob()];
    let wire = build(&report(&original, ORIGINAL, &rcpts, Kind::Failed));
    let text = String::from_utf8(wire).unwrap();
    assert!(text.contains("\r\n..X-Dot: leading dot\r\n"), "{text}");
    assert!(!text.contains("body line"), "the body is not copied");
}

#[test]
fn delayed_report_fields() {
    let original = meta("alice@example.com");
    let rcpts = [RecipientStatus { status: Status(4, 4, 1), diagnostic: None, ..bob() }];
    let kind = Kind::Delayed { retry_until: UNTIL };
    let parsed = parse_back(&build(&report(&original, ORIGINAL, &rcpts, kind)));
    assert_eq!(field(&parsed.top, "Subject"), "Delayed: Hello there");
    let text = &parsed.parts[0].1;
    let want_status = format!(
        "Reporting-MTA: dns; mx.example\r\nArrival-Date: {RECEIVED_DATE}\r\n\r\n\
         Final-Recipient: rfc822; bob@example.net\r\nAction: delayed\r\nStatus: 4.4.1\r\n\
         Remote-MTA: dns; mx1.example.net\r\nLast-Attempt-Date: {LAST_DATE}\r\nWill-Retry-Until: {UNTIL_DATE}\r\n"
    );
    assert_eq!(parsed.parts[1].1, want_status);
    let unfolded = text.split_whitespace().collect::<Vec<_>>().join(" ");
    assert!(unfolded.contains(&format!("until {UNTIL_DATE}.")), "{text}");
    assert!(unfolded.contains("the destination server did not answer (4.4.1)"), "{text}");
}

#[test]
fn status_class_follows_the_kind() {
    let original = meta("alice@example.com");
    let cases: &[(Kind, Status, &str)] = &[
        (Kind::Failed, Status(4, 4, 7), "Status: 5.4.7"),
        (Kind::Failed, Status(5, 2, 2), "Status: 5.2.2"),
        (Kind::Delayed { retry_until: UNTIL }, Status(5, 4, 1), "Status: 4.4.1"),
    ];
    for &(kind, status, want) in cases {
        let rcpts = [RecipientStatus { status, ..carol() }];
        let parsed = parse_back(&build(&report(&original, ORIGINAL, &rcpts, kind)));
        assert!(parsed.parts[1].1.contains(&format!("\r\n{want}\r\n")), "{status}");
    }
}

#[test]
fn long_diagnostic_is_folded() {
    let original = meta("alice@example.com");
    let words: Vec<String> = (0..400).map(|i| format!("word{i}")).collect();
    let long_word = "x".repeat(2500);
    let diagnostic = format!("550 5.7.1 {} {long_word} end", words.join(" "));
    let rcpts = [RecipientStatus { diagnostic: Some(diagnostic.clone()), ..bob() }];
    let wire = build(&report(&original, ORIGINAL, &rcpts, Kind::Failed));
    let parsed = parse_back(&wire);
    let status = &parsed.parts[1].1;
    let raw_lines: Vec<&str> = status.split("\r\n").collect();
    let at = raw_lines.iter().position(|l| l.starts_with("Diagnostic-Code:")).unwrap();
    assert!(raw_lines[at + 1].starts_with(' '), "folded");
    assert!(raw_lines.iter().all(|l| l.len() <= MAX_LINE));
    let status = fields(status);
    let value = field(&status, "Diagnostic-Code");
    let squeeze = |s: &str| s.chars().filter(|c| !c.is_whitespace()).collect::<String>();
    assert_eq!(squeeze(value), squeeze(&format!("smtp; {diagnostic}")));
    assert!(value.starts_with(&format!("smtp; 550 5.7.1 {}", words[..20].join(" "))));
}

#[test]
fn injection_is_neutralised() {
    let original = meta("alice@example.com\r\nBcc: evil@example.net");
    let wire: &[u8] = b"Subject: hi\rBcc: evil@example.net\r\nX-Other: a\nInjected: b\r\n\r\nbody\r\n";
    let rcpts = [RecipientStatus {
        address: "bob@example.net\r\nX-Rcpt: 1".into(),
        remote_mta: Some("mx1.example.net\r\nX-Mta: 1".into()),
        diagnostic: Some("550 no\r\nBcc: evil@example.net\r\n\r\n--=_tern-dsn-6553f100-0--\r\n.\r\n".into()),
        ..bob()
    }];
    let parsed = parse_back(&build(&report(&original, wire, &rcpts, Kind::Failed)));
    assert_eq!(
        names(&parsed.top),
        ["From", "To", "Subject", "Date", "Message-ID", "Auto-Submitted", "MIME-Version", "Content-Type"]
    );
    assert_eq!(field(&parsed.top, "To"), "<alice@example.com Bcc: evil@example.net>");
    assert_eq!(field(&parsed.top, "Subject"), "Undeliverable: hi Bcc: evil@example.net");
    assert_eq!(parsed.parts.len(), 3, "the boundary in the diagnostic did not split the message");
    let status = fields(&parsed.parts[1].1);
    let status_names = names(&status);
    let want = [
        "Reporting-MTA",
        "Arrival-Date",
        "Final-Recipient",
        "Action",
        "Status",
        "Remote-MTA",
        "Diagnostic-Code",
        "Last-Attempt-Date",
    ];
    assert_eq!(status_names, want);
    assert_eq!(field(&status, "Final-Recipient"), "rfc822; bob@example.net X-Rcpt: 1");
    assert_eq!(field(&status, "Remote-MTA"), "dns; mx1.example.net X-Mta: 1");
    assert!(field(&status, "Diagnostic-Code").starts_with("smtp; 550 no Bcc: evil@example.net --=_tern"));
    assert_eq!(parsed.parts[2].1, "Subject: hi Bcc: evil@example.net\r\nX-Other: a\r\nInjected: b\r\n");
    let boundary = field(&parsed.top, "Content-Type");
    assert!(boundary.ends_with("boundary=\"=_tern-dsn-6553f100-1\""), "{boundary}");
}

#[test]
fn non_ascii_is_kept_out_of_fields() {
    let original = meta("alice@example.com");
    let wire = "Subject: Grüße\r\n\r\n".as_bytes();
    let rcpts = [RecipientStatus { diagnostic: Some("550 nö\u{7}".into()), ..bob() }];
    let parsed = parse_back(&build(&report(&original, wire, &rcpts, Kind::Failed)));
    assert_eq!(field(&parsed.top, "Subject"), "Undeliverable: Gr??e");
    assert_eq!(field(&fields(&parsed.parts[1].1), "Diagnostic-Code"), "smtp; 550 n?");
    assert_eq!(parsed.parts[2].1, "Subject: Grüße\r\n");
    assert_eq!(field(&parsed.parts[2].0, "Content-Transfer-Encoding"), "8bit");
    assert_eq!(names(&parsed.parts[0].0), ["Content-Type"]);
    let utf8 = [RecipientStatus { address: "jörg@example.net".into(), ..bob() }];
    assert_eq!(final_recipient("a+b=\\ü@x"), "utf-8; a\\x{2B}b\\x{3D}\\x{5C}\\x{FC}@x");
    let parsed = parse_back(&build(&report(&original, wire, &utf8, Kind::Failed)));
    assert_eq!(field(&parsed.parts[0].0, "Content-Transfer-Encoding"), "8bit");
    assert!(parsed.parts[0].1.contains("  <jörg@example.net> (remote server"));
    assert_eq!(field(&fields(&parsed.parts[1].1), "Final-Recipient"), "utf-8; j\\x{F6}rg@example.net");
}

#[test]
fn subject_forms() {
    let cases: &[(&str, &str)] = &[
        ("From: a\r\n\r\n", "(no subject)"),
        ("Subject:\r\n\r\n", "(no subject)"),
        ("subject: lower\r\n\r\n", "lower"),
        ("SUBJECT:   spaced   out  \r\n\r\n", "spaced out"),
        ("Subject: a\r\n\tb\r\n  c\r\nX: d\r\n\r\n", "a b c"),
        ("X-Subject: no\r\nSubject: yes\r\n\r\n", "yes"),
        ("From: a\r\n\r\nSubject: in the body\r\n", "(no subject)"),
    ];
    for (wire, want) in cases {
        let headers = header_section(wire.as_bytes());
        assert_eq!(original_subject(&headers).unwrap_or_else(|| "(no subject)".into()), *want, "{wire:?}");
    }
}

#[test]
fn header_section_forms() {
    let long = format!("X-Long: {}", "y".repeat(2000));
    let long_folded = format!("{}\r\n {}\r\n {}\r\n", &long[..900], &long[900..1800], &long[1800..]);
    let cases: &[(&[u8], &str)] = &[
        (b"A: 1\r\n\r\nbody\r\n", "A: 1\r\n"),
        (b"\r\nbody\r\n", ""),
        (b"", ""),
        (b"A: 1\nB: 2\n\nbody\n", "A: 1\r\nB: 2\r\n"),
        (b"A: 1\r\nB: 2", "A: 1\r\nB: 2\r\n"),
        (b"A: x\ry\r\n\r\nbody", "A: x y\r\n"),
        (b"..A: 1\r\nB: 2\r\n\r\n..body", ".A: 1\r\nB: 2\r\n"),
        (long.as_bytes(), &long_folded),
    ];
    for (wire, want) in cases {
        assert_eq!(String::from_utf8(header_section(wire)).unwrap(), *want, "{:?}", String::from_utf8_lossy(wire));
    }
}

#[test]
fn null_sender_gets_no_notification() {
    assert_eq!(notify_target(&meta("")), None);
    assert_eq!(notify_target(&meta("alice@example.com")), Some("alice@example.com"));
}

#[test]
fn dates_are_rfc5322() {
    assert_eq!(rfc5322_date(0), "Thu, 01 Jan 1970 00:00:00 +0000");
    assert_eq!(rfc5322_date(NOW), NOW_DATE);
    assert_eq!(rfc5322_date(u64::MAX), "Thu, 01 Jan 1970 00:00:00 +0000");
}

#[test]
fn message_id_keeps_atom_characters() {
    assert_eq!(id_text("a b<c>@d.e_f"), "abcd.e_f");
}
