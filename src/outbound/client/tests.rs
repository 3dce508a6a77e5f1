//! Table tests of the pure client core: reply parser, EHLO capabilities, transaction rules.

use super::ehlo::Capabilities;
use super::plan::{self, Outgoing, RcptOutcome, Tally};
use super::reply::{parse_status, reply_text, ReplyError, ReplyParser, MAX_LINE, MAX_LINES};
use crate::proto::reply::{Reply, Status};

/// Feeds `input` in one piece; returns every reply and the error that stopped the parse, if any.
fn parse_all(input: &[u8]) -> (Vec<Reply>, Option<ReplyError>) {
    let mut parser = ReplyParser::new();
    let mut replies = Vec::new();
    let mut rest = input;
    while !rest.is_empty() {
        match parser.feed(rest) {
            Ok((used, reply)) => {
                assert!(used > 0 && used <= rest.len(), "progress");
                rest = &rest[used..];
                replies.extend(reply);
            }
            Err(e) => return (replies, Some(e)),
        }
    }
    (replies, None)
}

fn reply(code: u16, status: Option<Status>, lines: &[&str]) -> Reply {
    Reply { code, status, lines: lines.iter().map(|l| l.to_string().into()).collect() }
}

#[test]
fn parses_replies() {
    let cases: Vec<(&str, Vec<Reply>)> = vec![
        ("220 mx.example.org ESMTP\r\n", vec![reply(220, None, &["mx.example.org ESMTP"])]),
        ("250 2.1.0 Sender OK\r\n", vec![reply(250, Some(Status(2, 1, 0)), &["Sender OK"])]),
        ("550 5.1.1 <a@b>: no such user\r\n", vec![reply(550, Some(Status(5, 1, 1)), &["<a@b>: no such user"])]),
        (
            "250-mx.example.org\r\n250-PIPELINING\r\n250 SIZE 1000\r\n",
            vec![reply(250, None, &["mx.example.org", "PIPELINING", "SIZE 1000"])],
        ),
        ("451-4.3.0 first\r\n451 4.3.0 second\r\n", vec![reply(451, Some(Status(4, 3, 0)), &["first", "second"])]),
        ("451-4.3.0 first\r\n451 plain\r\n", vec![reply(451, Some(Status(4, 3, 0)), &["first", "plain"])]),
        ("354\r\n", vec![reply(354, None, &[""])]),
        ("250 \r\n", vec![reply(250, None, &[""])]),
        ("250 2.0.0\r\n", vec![reply(250, Some(Status(2, 0, 0)), &[""])]),
        ("250 ok\n", vec![reply(250, None, &["ok"])]),
        ("550 2.1.1 class mismatch\r\n", vec![reply(550, None, &["2.1.1 class mismatch"])]),
        ("550 5.1234.1 too long\r\n", vec![reply(550, None, &["5.1234.1 too long"])]),
        ("550 5.1.1.1 extra\r\n", vec![reply(550, None, &["5.1.1.1 extra"])]),
        ("550 5.1.1x\r\n", vec![reply(550, None, &["5.1.1x"])]),
        ("250 caf\u{e9}\r\n", vec![reply(250, None, &["caf\u{e9}"])]),
        (
            "250 2.1.5 a\r\n452 4.5.3 too many\r\n354 go\r\n",
            vec![
                reply(250, Some(Status(2, 1, 5)), &["a"]),
                reply(452, Some(Status(4, 5, 3)), &["too many"]),
                reply(354, None, &["go"]),
            ],
        ),
    ];
    for (wire, expected) in cases {
        let (replies, error) = parse_all(wire.as_bytes());
        assert_eq!(error, None, "{wire:?}");
        assert_eq!(replies, expected, "{wire:?}");
    }
}

#[test]
fn non_utf8_text_is_replaced() {
    let (replies, error) = parse_all(b"250 ok \xff\r\n");
    assert_eq!(error, None);
    assert_eq!(replies, vec![reply(250, None, &["ok \u{fffd}"])]);
}

#[test]
fn parses_split_at_every_position() {
    let wire = b"250-mx.example.org greets you\r\n250-PIPELINING\r\n250 2.0.0 SIZE 1000\r\n554 5.7.1 no\r\n";
    let expected = vec![
        reply(250, None, &["mx.example.org greets you", "PIPELINING", "2.0.0 SIZE 1000"]),
        reply(554, Some(Status(5, 7, 1)), &["no"]),
    ];
    for cut in 0..=wire.len() {
        let mut parser = ReplyParser::new();
        let mut replies = Vec::new();
        for piece in [&wire[..cut], &wire[cut..]] {
            let mut rest = piece;
            while !rest.is_empty() {
                let (used, reply) = parser.feed(rest).expect("valid");
                rest = &rest[used..];
                replies.extend(reply);
            }
        }
        assert_eq!(replies, expected, "cut at {cut}");
    }
    let mut parser = ReplyParser::new();
    let mut replies = Vec::new();
    for byte in wire.chunks(1) {
        let (used, reply) = parser.feed(byte).expect("valid");
        assert_eq!(used, 1);
        replies.extend(reply);
    }
    assert_eq!(replies, expected, "byte by byte");
}

#[test]
fn feed_stops_after_each_reply() {
    let mut parser = ReplyParser::new();
    let wire = b"250 a\r\n251 b\r\n25";
    assert_eq!(parser.feed(wire).unwrap(), (7, Some(reply(250, None, &["a"]))));
    assert_eq!(parser.feed(&wire[7..]).unwrap(), (7, Some(reply(251, None, &["b"]))));
    assert_eq!(parser.feed(&wire[14..]).unwrap(), (2, None));
    assert_eq!(parser.feed(b"2 c\r\n").unwrap(), (5, Some(reply(252, None, &["c"]))));
}

#[test]
fn rejects_garbage() {
    let malformed = |s: &str| Some(ReplyError::Malformed(s.to_owned()));
    let cases: Vec<(&[u8], Option<ReplyError>)> = vec![
        (b"hello\r\n", malformed("hello")),
        (b"\r\n", malformed("")),
        (b"25\r\n", malformed("25")),
        (b"2500 ok\r\n", malformed("2500 ok")),
        (b"250x ok\r\n", malformed("250x ok")),
        (b"150 ok\r\n", malformed("150 ok")),
        (b"650 ok\r\n", malformed("650 ok")),
        (b"2a0 ok\r\n", malformed("2a0 ok")),
        (b"\x00\x01\x02\n", malformed("\u{0}\u{1}\u{2}")),
        (b"250-a\r\n550 b\r\n", Some(ReplyError::MixedCodes("550 b".into()))),
        (b"250-a\r\nxyz\r\n", malformed("xyz")),
    ];
    for (wire, expected) in cases {
        let (replies, error) = parse_all(wire);
        assert_eq!(replies, vec![], "{wire:?}");
        assert_eq!(error, expected, "{wire:?}");
    }
    let (_, error) = parse_all(format!("x{}\r\n", "y".repeat(200)).as_bytes());
    assert_eq!(error, Some(ReplyError::Malformed(format!("x{}", "y".repeat(79)))), "quotes 80 bytes");
}

#[test]
fn bounds_line_length_and_count() {
    let at_limit = format!("250 {}\r\n", "x".repeat(MAX_LINE - 4));
    assert_eq!(parse_all(at_limit.as_bytes()).0.len(), 1);
    let over = format!("250 {}\r\n", "x".repeat(MAX_LINE - 3));
    assert_eq!(parse_all(over.as_bytes()).1, Some(ReplyError::LineTooLong));

    // Without any line end the parser fails once the limit is passed, holding no more than it.
    let mut parser = ReplyParser::new();
    let chunk = [b'x'; 1000];
    let mut fed = 0;
    let error = loop {
        match parser.feed(&chunk) {
            Ok((used, None)) => fed += used,
            Ok((_, Some(r))) => panic!("unexpected reply {r:?}"),
            Err(e) => break e,
        }
    };
    assert_eq!(error, ReplyError::LineTooLong);
    assert!(fed <= MAX_LINE + 1, "{fed}");

    let many = |n: usize| "250-x\r\n".repeat(n - 1) + "250 x\r\n";
    assert_eq!(parse_all(many(MAX_LINES).as_bytes()).0[0].lines.len(), MAX_LINES);
    assert_eq!(parse_all(many(MAX_LINES + 1).as_bytes()).1, Some(ReplyError::TooLong));
    let wide = format!("250-{}\r\n", "y".repeat(4000)).repeat(9) + "250 end\r\n";
    assert_eq!(parse_all(wide.as_bytes()).1, Some(ReplyError::TooLong));
}

#[test]
fn parses_status_codes() {
    assert_eq!(parse_status(b"5.1.1 no"), Some(Status(5, 1, 1)));
    assert_eq!(parse_status(b"4.10.123"), Some(Status(4, 10, 123)));
    assert_eq!(parse_status(b"2.0.0"), Some(Status(2, 0, 0)));
    for bad in [&b"1.0.0"[..], b"6.0.0", b"55.1.1", b"5.1", b"5..1", b"5.1.1.", b"5.1.1000", b"x", b""] {
        assert_eq!(parse_status(bad), None, "{bad:?}");
    }
}

#[test]
fn formats_reply_text() {
    assert_eq!(reply_text(&reply(550, Some(Status(5, 1, 1)), &["no such", "user"])), "550 5.1.1 no such user");
    assert_eq!(reply_text(&reply(421, None, &["bye"])), "421 bye");
}

fn ehlo(lines: &[&str]) -> Capabilities {
    Capabilities::from_ehlo(&reply(250, None, lines))
}

#[test]
fn parses_ehlo_capabilities() {
    let full = ehlo(&[
        "mx.example.org hello",
        "PIPELINING",
        "SIZE 10485760",
        "8BITMIME",
        "SMTPUTF8",
        "STARTTLS",
        "AUTH PLAIN login",
        "AUTH=CRAM-MD5 PLAIN",
        "CHUNKING",
        "ENHANCEDSTATUSCODES",
        "X-UNKNOWN thing",
    ]);
    let expected = Capabilities {
        pipelining: true,
        size: Some(10_485_760),
        eight_bit_mime: true,
        smtputf8: true,
        starttls: true,
        auth: vec!["PLAIN".into(), "LOGIN".into(), "CRAM-MD5".into()],
        chunking: true,
        enhanced_status_codes: true,
    };
    assert_eq!(full, expected);
    assert!(full.offers_auth("login") && !full.offers_auth("XOAUTH2"));

    assert_eq!(ehlo(&["mx.example.org"]), Capabilities::default());
    assert_eq!(ehlo(&["PIPELINING", "size"]), Capabilities { size: Some(0), ..Capabilities::default() });
    assert_eq!(
        ehlo(&["mx", "pipelining", "Size 0"]),
        Capabilities { pipelining: true, size: Some(0), ..Default::default() }
    );
    assert_eq!(ehlo(&["mx", "SIZE lots", "", "   "]), Capabilities::default());
    assert_eq!(ehlo(&["mx", "PIPELININGX", "8BITMIMES"]), Capabilities::default());
}

fn caps(size: Option<u64>, eight_bit_mime: bool, smtputf8: bool) -> Capabilities {
    Capabilities { size, eight_bit_mime, smtputf8, ..Capabilities::default() }
}

fn message<'a>(rp: &'a str, rcpts: &'a [&'a str], eight_bit: bool, smtputf8: bool) -> Outgoing<'a> {
    Outgoing { reverse_path: rp, recipients: rcpts, body: b"Subject: x\r\n\r\nhi\r\n", eight_bit, smtputf8 }
}

#[test]
fn mail_command_adds_offered_parameters() {
    let cases = [
        (message("a@b", &[], false, false), caps(None, true, true), "MAIL FROM:<a@b>\r\n"),
        (message("", &[], false, false), caps(Some(0), false, false), "MAIL FROM:<> SIZE=18\r\n"),
        (message("a@b", &[], true, false), caps(None, false, false), "MAIL FROM:<a@b>\r\n"),
        (message("a@b", &[], true, false), caps(Some(100), true, false), "MAIL FROM:<a@b> SIZE=18 BODY=8BITMIME\r\n"),
        (
            message("\u{e9}@b", &[], true, true),
            caps(None, true, true),
            "MAIL FROM:<\u{e9}@b> BODY=8BITMIME SMTPUTF8\r\n",
        ),
    ];
    for (msg, caps, expected) in cases {
        let mut out = Vec::new();
        plan::mail_command(&mut out, &msg, &caps);
        assert_eq!(String::from_utf8(out).unwrap(), expected);
    }
}

#[test]
fn refuses_locally_what_cannot_be_sent() {
    let utf8 = plan::local_refusal(&message("a@b", &[], false, true), &caps(None, true, false)).unwrap();
    assert_eq!((utf8.code, utf8.status), (553, Some(Status(5, 6, 7))));
    assert_eq!(plan::local_refusal(&message("a@b", &[], false, true), &caps(None, false, true)), None);
    let rp = plan::local_refusal(&message("a@b\r\nRSET", &[], false, false), &caps(None, false, false)).unwrap();
    assert_eq!(rp.status, Some(Status(5, 1, 7)));
    assert_eq!(plan::local_rcpt_refusal("x@y\nDATA").unwrap().status, Some(Status(5, 1, 3)));
    assert_eq!(plan::local_rcpt_refusal("x@y"), None);
}

#[test]
fn classifies_too_many_recipients() {
    let cases = [
        (reply(452, None, &["too many"]), true),
        (reply(452, Some(Status(4, 5, 3)), &["too many"]), true),
        (reply(552, Some(Status(5, 5, 3)), &["too many"]), true),
        (reply(451, Some(Status(4, 5, 3)), &["odd"]), false),
        (reply(452, Some(Status(4, 3, 1)), &["disk full"]), false),
        (reply(552, None, &["old"]), false),
        (reply(550, Some(Status(5, 1, 1)), &["unknown"]), false),
    ];
    for (r, expected) in cases {
        assert_eq!(plan::too_many_recipients(&r), expected, "{r:?}");
    }
}

#[test]
fn tally_combines_replies() {
    let ok = reply(250, None, &["ok"]);
    let unknown = reply(550, Some(Status(5, 1, 1)), &["unknown"]);
    let busy = reply(451, Some(Status(4, 3, 0)), &["busy"]);
    let mut tally = Tally::new(5);
    assert!(!tally.rcpt(0, &ok));
    assert!(!tally.rcpt(1, &unknown));
    assert!(!tally.rcpt(2, &busy));
    assert!(tally.rcpt(3, &reply(452, Some(Status(4, 5, 3)), &["too many"])));
    assert_eq!(tally.accepted(), 1);
    tally.end_of_data(&reply(250, None, &["queued as X"]));
    let delivery = tally.finish(None);
    assert_eq!(
        delivery.recipients,
        vec![
            RcptOutcome::Delivered,
            RcptOutcome::Permanent(unknown.clone()),
            RcptOutcome::Temporary(busy.clone()),
            RcptOutcome::NotTried,
            RcptOutcome::NotTried,
        ]
    );

    let mut tally = Tally::new(3);
    tally.set(0, RcptOutcome::Permanent(unknown.clone()));
    tally.rcpt(1, &ok);
    tally.fail_undecided(&plan::failure(&busy));
    assert_eq!(
        tally.finish(None).recipients,
        vec![RcptOutcome::Permanent(unknown), RcptOutcome::Temporary(busy.clone()), RcptOutcome::Temporary(busy)]
    );

    let mut tally = Tally::new(2);
    tally.rcpt(0, &ok);
    tally.settle_accepted(&plan::failure(&reply(354, None, &["odd"])));
    let odd = RcptOutcome::Temporary(reply(354, None, &["odd"]));
    assert_eq!(tally.finish(None).recipients, vec![odd, RcptOutcome::NotTried]);
}
