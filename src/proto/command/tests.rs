//! Table tests of the command parser: good lines and their values, bad lines and their errors.

use super::*;
use crate::proto::address::{Body, MailParams, ReversePath};
use CommandError::{BadRecipient, BadSender, Parameter, Syntax, Unknown};

fn address(local: &str, domain: Option<&str>) -> Address {
    Address { local: local.into(), domain: domain.map(Into::into) }
}

fn mail_from(local: &str, domain: &str) -> Command {
    Command::Mail { from: ReversePath::Mailbox(address(local, Some(domain))), params: MailParams::default() }
}

fn mail_with(params: MailParams) -> Command {
    Command::Mail { from: ReversePath::Mailbox(address("a", Some("b.example"))), params }
}

fn params(size: Option<u64>, body: Body, smtputf8: bool) -> MailParams {
    MailParams { size, body, smtputf8 }
}

fn rcpt(local: &str, domain: Option<&str>) -> Command {
    Command::Rcpt { to: address(local, domain) }
}

#[test]
fn parses_good_lines() {
    let long_local = "l".repeat(64);
    let long_domain = ["d".repeat(63).as_str(); 4].join(".");
    let at_limits = format!("RCPT TO:<{long_local}@{}>", &long_domain[..254 - 64 - 1]);
    let cases: Vec<(&str, Command)> = vec![
        ("HELO mx.example.com", Command::Helo("mx.example.com".into())),
        ("helo [192.0.2.1]", Command::Helo("[192.0.2.1]".into())),
        ("EHLO client.example", Command::Ehlo("client.example".into())),
        ("eHlO   münchen.de  ", Command::Ehlo("münchen.de".into())),
        ("EHLO not_a_valid-domain!", Command::Ehlo("not_a_valid-domain!".into())),
        ("MAIL FROM:<a@b.example>", mail_from("a", "b.example")),
        ("mail from:<a@b.example>", mail_from("a", "b.example")),
        ("MAIL FROM: <a@b.example>", mail_from("a", "b.example")),
        ("MAIL  FROM:<a@b.example>\t ", mail_from("a", "b.example")),
        ("MAIL FROM:<>", Command::Mail { from: ReversePath::Null, params: MailParams::default() }),
        (
            "MAIL FROM:<> SIZE=0",
            Command::Mail { from: ReversePath::Null, params: params(Some(0), Body::SevenBit, false) },
        ),
        ("MAIL FROM:<User.Name+tag@Sub.Example.COM>", mail_from("User.Name+tag", "Sub.Example.COM")),
        ("MAIL FROM:<!#$%&'*+-/=?^_`{|}~@x.example>", mail_from("!#$%&'*+-/=?^_`{|}~", "x.example")),
        ("MAIL FROM:<\"john doe\"@x.example>", mail_from("\"john doe\"", "x.example")),
        ("MAIL FROM:<\"a>b@c\"@x.example>", mail_from("\"a>b@c\"", "x.example")),
        ("MAIL FROM:<\"q\\\"x\\\\\"@x.example>", mail_from("\"q\\\"x\\\\\"", "x.example")),
        ("MAIL FROM:<\"\"@x.example>", mail_from("\"\"", "x.example")),
        ("MAIL FROM:<a@[192.0.2.1]>", mail_from("a", "[192.0.2.1]")),
        ("MAIL FROM:<a@[IPv6:2001:db8::1]>", mail_from("a", "[IPv6:2001:db8::1]")),
        ("MAIL FROM:<a@[ipv6:::1]>", mail_from("a", "[ipv6:::1]")),
        ("MAIL FROM:<@r1.example,@r2.example:a@b.example>", mail_from("a", "b.example")),
        ("MAIL FROM:<@r1.example:a@b.example>", mail_from("a", "b.example")),
        ("MAIL FROM:<jörg@bücher.example>", mail_from("jörg", "bücher.example")),
        ("MAIL FROM:<用户@例子.广告>", mail_from("用户", "例子.广告")),
        (
            "MAIL FROM:<postmaster>",
            Command::Mail { from: ReversePath::Mailbox(address("postmaster", None)), params: MailParams::default() },
        ),
        ("MAIL FROM:<a@b.example> SIZE=12345", mail_with(params(Some(12345), Body::SevenBit, false))),
        ("MAIL FROM:<a@b.example> size=007", mail_with(params(Some(7), Body::SevenBit, false))),
        (
            "MAIL FROM:<a@b.example> SIZE=99999999999999999999999",
            mail_with(params(Some(u64::MAX), Body::SevenBit, false)),
        ),
        ("MAIL FROM:<a@b.example> SIZE=18446744073709551615", mail_with(params(Some(u64::MAX), Body::SevenBit, false))),
        ("MAIL FROM:<a@b.example> BODY=8BITMIME", mail_with(params(None, Body::EightBitMime, false))),
        ("MAIL FROM:<a@b.example> body=8bitmime", mail_with(params(None, Body::EightBitMime, false))),
        ("MAIL FROM:<a@b.example> BODY=7bit", mail_with(params(None, Body::SevenBit, false))),
        ("MAIL FROM:<a@b.example> smtputf8", mail_with(params(None, Body::SevenBit, true))),
        ("MAIL FROM:<a@b.example> AUTH=<>", mail_with(params(None, Body::SevenBit, false))),
        ("MAIL FROM:<a@b.example> auth=alice+40client.test SIZE=5", mail_with(params(Some(5), Body::SevenBit, false))),
        (
            "MAIL FROM:<a@b.example> SIZE=10  BODY=8BITMIME SMTPUTF8 ",
            mail_with(params(Some(10), Body::EightBitMime, true)),
        ),
        ("RCPT TO:<user@example.org>", rcpt("user", Some("example.org"))),
        ("rcpt to: <user@example.org>", rcpt("user", Some("example.org"))),
        ("RCPT TO:<postmaster>", rcpt("postmaster", None)),
        ("RCPT TO:<PostMaster>", rcpt("PostMaster", None)),
        ("RCPT TO:<Postmaster@example.org>", rcpt("Postmaster", Some("example.org"))),
        ("RCPT TO:<alice>", rcpt("alice", None)),
        ("RCPT TO:<\"quoted user\">", rcpt("\"quoted user\"", None)),
        ("RCPT TO:<@hop.example:user@example.org>", rcpt("user", Some("example.org"))),
        ("RCPT TO:<u@[IPv6:::ffff:192.0.2.1]>", rcpt("u", Some("[IPv6:::ffff:192.0.2.1]"))),
        (at_limits.as_str(), rcpt(&long_local, Some(&long_domain[..254 - 64 - 1]))),
        ("DATA", Command::Data),
        ("data  ", Command::Data),
        ("BDAT 0", Command::Bdat { size: 0, last: false }),
        ("BDAT 0 LAST", Command::Bdat { size: 0, last: true }),
        ("bdat 1000 last", Command::Bdat { size: 1000, last: true }),
        ("BDAT 18446744073709551615 LAST", Command::Bdat { size: u64::MAX, last: true }),
        ("RSET", Command::Rset),
        ("NOOP", Command::Noop),
        ("noop anything at all <>", Command::Noop),
        ("QUIT", Command::Quit),
        ("Quit", Command::Quit),
        ("VRFY postmaster", Command::Vrfy),
        ("HELP", Command::Help),
        ("HELP MAIL", Command::Help),
        ("STARTTLS", Command::StartTls),
        ("starttls", Command::StartTls),
        ("AUTH PLAIN", Command::Auth("PLAIN".into())),
        ("AUTH PLAIN AGFsaWNlAHNlY3JldA==", Command::Auth("PLAIN AGFsaWNlAHNlY3JldA==".into())),
        ("auth login ", Command::Auth("login".into())),
    ];
    for (line, command) in cases {
        assert_eq!(parse(line.as_bytes()), Ok(command), "{line}");
    }
}

#[test]
fn rejects_bad_lines() {
    let local_65 = format!("MAIL FROM:<{}@x.example>", "l".repeat(65));
    let label_long = format!("RCPT TO:<u@{}.example>", "d".repeat(64));
    let path_257 =
        format!("RCPT TO:<{}@{}>", "l".repeat(64), ["d".repeat(62).as_str(); 4].join(".").get(..190).unwrap());
    let route_long = format!("MAIL FROM:<@{}:a@b.example>", "r".repeat(60) + "." + &"r".repeat(190));
    let cases: Vec<(&str, CommandError)> = vec![
        ("", Unknown),
        ("   ", Unknown),
        (" MAIL FROM:<a@b.example>", Unknown),
        ("FOO", Unknown),
        ("MAILFROM:<a@b.example>", Unknown),
        ("STARTTLSX", Unknown),
        ("ATRNX", Unknown),
        ("HELO", Syntax("HELO/EHLO needs a domain")),
        ("EHLO   ", Syntax("HELO/EHLO needs a domain")),
        ("EHLO a.example b.example", Syntax("HELO/EHLO takes one domain")),
        ("EHLO a\u{1}b", Syntax("invalid character in domain")),
        ("EHLO a\u{3000}b", Syntax("invalid character in domain")),
        ("MAIL", Syntax("expected FROM:<path>")),
        ("MAIL TO:<a@b.example>", Syntax("expected FROM:<path>")),
        ("MAIL FROM <a@b.example>", Syntax("expected FROM:<path>")),
        ("MAIL FROM:", BadSender("angle brackets required")),
        ("MAIL FROM:a@b.example", BadSender("angle brackets required")),
        ("MAIL FROM:  <a@b.example>", BadSender("angle brackets required")),
        ("MAIL FROM:<a@b.example", BadSender("missing closing '>'")),
        ("MAIL FROM:<a@b.example>x", BadSender("text after the path")),
        ("MAIL FROM:<@b.example>", BadSender("empty local part")),
        ("MAIL FROM:<a.@b.example>", BadSender("misplaced dot in local part")),
        ("MAIL FROM:<.a@b.example>", BadSender("misplaced dot in local part")),
        ("MAIL FROM:<a..b@b.example>", BadSender("misplaced dot in local part")),
        ("MAIL FROM:<a b@b.example>", BadSender("invalid character in local part")),
        ("MAIL FROM:<a(b)@b.example>", BadSender("invalid character in local part")),
        ("MAIL FROM:<a@b@c.example>", BadSender("invalid character in domain")),
        ("MAIL FROM:<a@>", BadSender("empty domain")),
        ("MAIL FROM:<a@b.example.>", BadSender("empty domain label")),
        ("MAIL FROM:<a@-b.example>", BadSender("domain label starts or ends with a hyphen")),
        ("MAIL FROM:<a@b_c.example>", BadSender("invalid character in domain")),
        ("MAIL FROM:<a@[192.0.2.300]>", BadSender("invalid IPv4 address literal")),
        ("MAIL FROM:<a@[IPv6:2001:db8::g]>", BadSender("invalid IPv6 address literal")),
        ("MAIL FROM:<a@[2001:db8::1]>", BadSender("invalid IPv4 address literal")),
        ("MAIL FROM:<\"unterminated@b.example>", BadSender("missing closing '>'")),
        ("MAIL FROM:<\"a\"b@b.example>", BadSender("text after the quoted local part")),
        ("MAIL FROM:<\"a\tb\"@b.example>", BadSender("invalid character in quoted local part")),
        ("MAIL FROM:<\"a\\\u{e9}\"@b.example>", BadSender("invalid character in quoted local part")),
        ("MAIL FROM:<@r.example>", BadSender("empty local part")),
        ("MAIL FROM:<@r.example:>", BadSender("source route without a mailbox")),
        ("MAIL FROM:<@r.example,r2.example:a@b.example>", BadSender("invalid source route")),
        ("MAIL FROM:<@[192.0.2.1]:a@b.example>", BadSender("invalid source route")),
        ("MAIL FROM:<@r..example:a@b.example>", BadSender("invalid source route")),
        (local_65.as_str(), BadSender("local part too long")),
        (route_long.as_str(), BadSender("path too long")),
        ("MAIL FROM:<a@b.example> SIZE", Parameter("SIZE".into())),
        ("MAIL FROM:<a@b.example> SIZE=", Parameter("SIZE=".into())),
        ("MAIL FROM:<a@b.example> SIZE=-1", Parameter("SIZE=-1".into())),
        ("MAIL FROM:<a@b.example> SIZE=1k", Parameter("SIZE=1k".into())),
        ("MAIL FROM:<a@b.example> SIZE=+1", Parameter("SIZE=+1".into())),
        ("MAIL FROM:<a@b.example> SIZE=1 SIZE=2", Parameter("SIZE=2".into())),
        ("MAIL FROM:<a@b.example> BODY", Parameter("BODY".into())),
        ("MAIL FROM:<a@b.example> BODY=BINARYMIME", Parameter("BODY=BINARYMIME".into())),
        ("MAIL FROM:<a@b.example> SMTPUTF8=yes", Parameter("SMTPUTF8=yes".into())),
        ("MAIL FROM:<a@b.example> SMTPUTF8 smtputf8", Parameter("smtputf8".into())),
        ("MAIL FROM:<a@b.example> RET=HDRS", Parameter("RET=HDRS".into())),
        ("MAIL FROM:<a@b.example> AUTH", Parameter("AUTH".into())),
        ("MAIL FROM:<a@b.example> AUTH=", Parameter("AUTH=".into())),
        ("MAIL FROM:<a@b.example> AUTH=<> AUTH=<>", Parameter("AUTH=<>".into())),
        ("MAIL FROM:<a@b.example> ENVID=x", Parameter("ENVID=x".into())),
        ("RCPT", Syntax("expected TO:<path>")),
        ("RCPT FROM:<a@b.example>", Syntax("expected TO:<path>")),
        ("RCPT TO:", BadRecipient("angle brackets required")),
        ("RCPT TO:user@example.org", BadRecipient("angle brackets required")),
        ("RCPT TO:<>", BadRecipient("null path")),
        ("RCPT TO:<user@example.org", BadRecipient("missing closing '>'")),
        ("RCPT TO:<user@example..org>", BadRecipient("empty domain label")),
        ("RCPT TO:<us er@example.org>", BadRecipient("invalid character in local part")),
        ("RCPT TO:<user@example.org>junk", BadRecipient("text after the path")),
        (label_long.as_str(), BadRecipient("domain label too long")),
        (path_257.as_str(), BadRecipient("path too long")),
        ("RCPT TO:<user@example.org> NOTIFY=NEVER", Parameter("NOTIFY=NEVER".into())),
        ("RCPT TO:<user@example.org> ORCPT=rfc822;a@b", Parameter("ORCPT=rfc822;a@b".into())),
        ("RCPT TO:<user@example.org>  X Y", Parameter("X Y".into())),
        ("DATA x", Syntax("no arguments allowed")),
        ("RSET now", Syntax("no arguments allowed")),
        ("QUIT please", Syntax("no arguments allowed")),
        ("STARTTLS x", Syntax("no arguments allowed")),
        ("VRFY", Syntax("VRFY needs an argument")),
        ("AUTH", Syntax("AUTH needs a mechanism")),
        ("BDAT", Syntax("BDAT needs a size in octets")),
        ("BDAT LAST", Syntax("BDAT needs a size in octets")),
        ("BDAT -1", Syntax("BDAT needs a size in octets")),
        ("BDAT +1", Syntax("BDAT needs a size in octets")),
        ("BDAT 1k", Syntax("BDAT needs a size in octets")),
        ("BDAT 18446744073709551616", Syntax("BDAT needs a size in octets")),
        ("BDAT 10 FIRST", Syntax("expected BDAT <size> [LAST]")),
        ("BDAT 10 LAST x", Syntax("expected BDAT <size> [LAST]")),
    ];
    for (line, error) in cases {
        assert_eq!(parse(line.as_bytes()), Err(error), "{line}");
    }
}

#[test]
fn length_limits_are_inclusive() {
    let domain_255 = ["d".repeat(63).as_str(); 4].join(".");
    let path_256 = format!("<{}@{}>", "l".repeat(64), &domain_255[..189]);
    assert_eq!(path_256.len(), 256);
    assert!(parse(format!("RCPT TO:{path_256}").as_bytes()).is_ok());
    assert_eq!(parse(format!("RCPT TO:<u@{domain_255}>").as_bytes()), Err(BadRecipient("path too long")));
    assert_eq!(parse(format!("MAIL FROM:<u@{domain_255}>").as_bytes()), Err(BadSender("path too long")));
}

#[test]
fn rejects_bytes_that_are_not_utf8() {
    let cases: &[(&[u8], CommandError)] = &[
        (b"EHLO caf\xe9.example", Syntax("line is not UTF-8")),
        (b"MAIL FROM:<caf\xe9@b.example>", BadSender("address is not UTF-8")),
        (b"MAIL FROM:<a@b.example> SIZE=\xff", Syntax("line is not UTF-8")),
        (b"RCPT TO:<a@caf\xe9.example>", BadRecipient("address is not UTF-8")),
        (b"RCPT TO:<a@b.example> \xff", Syntax("line is not UTF-8")),
        (b"VRFY \xff", Syntax("line is not UTF-8")),
        (b"AUTH \xff", Syntax("line is not UTF-8")),
        (b"BDAT \xff", Syntax("line is not UTF-8")),
        (b"DATA \xff", Syntax("no arguments allowed")),
        (b"\xffHELO x", Unknown),
    ];
    for (line, error) in cases {
        assert_eq!(parse(line).as_ref(), Err(error), "{line:?}");
    }
    assert_eq!(parse(b"NOOP \xff\xfe"), Ok(Command::Noop));
    assert_eq!(parse(b"HELP \xff"), Ok(Command::Help));
}

#[test]
fn errors_map_to_replies() {
    let cases = [
        (Unknown, "500 5.5.1 command unrecognized\r\n"),
        (Syntax("no arguments allowed"), "501 5.5.4 syntax error: no arguments allowed\r\n"),
        (BadSender("empty domain"), "501 5.1.7 bad sender address syntax: empty domain\r\n"),
        (BadRecipient("null path"), "501 5.1.3 bad destination address syntax: null path\r\n"),
        (Parameter("RET=HDRS".into()), "555 5.5.4 parameter not supported: RET=HDRS\r\n"),
    ];
    for (error, wire) in cases {
        assert_eq!(String::from_utf8(error.reply().to_bytes()).unwrap(), wire);
    }
}

#[test]
fn reply_text_from_a_client_cannot_inject_lines() {
    let error = parse(b"MAIL FROM:<a@b.example> X=\r250 ok").unwrap_err();
    assert_eq!(error, Parameter("X=\r250".into()));
    assert_eq!(error.reply().to_bytes(), b"555 5.5.4 parameter not supported: X= 250\r\n");
}

#[test]
fn smtputf8_is_left_to_the_caller() {
    let Ok(Command::Mail { from: ReversePath::Mailbox(from), params }) =
        parse("MAIL FROM:<jörg@example.com>".as_bytes())
    else {
        panic!("not parsed");
    };
    assert!(!from.is_ascii());
    assert!(!params.smtputf8);
}

#[test]
fn only_the_greeting_verbs_are_allowed_before_tls() {
    for line in ["EHLO a", "helo a", "NOOP", "QUIT", "rset", "STARTTLS", "Quit extra"] {
        assert!(allowed_before_tls(line.as_bytes()), "{line}");
    }
    for line in ["MAIL FROM:<a@b>", "BDAT 6 LAST", "AUTH PLAIN", "EXPN x", "", "EHLOX a", "STARTTLSX"] {
        assert!(!allowed_before_tls(line.as_bytes()), "{line}");
    }
}
