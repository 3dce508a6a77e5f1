//! Raw SMTP transcripts against the real binary: EHLO keywords, pipelining, sequence and
//! syntax errors, long lines, garbage, bare LF, BDAT and the commands that only answer.

mod common;

use common::{base_config, read, wait_until, Tern};
use std::time::Duration;

fn tern() -> Tern {
    Tern::start(&base_config("[limits]\nmax_message_size = \"64KB\"\n"))
}

#[test]
fn ehlo_advertises_the_extensions_and_helo_does_not() {
    let tern = tern();
    let mut smtp = tern.connect();
    let ehlo = smtp.cmd("EHLO client.test", 250);
    let lines: Vec<&str> = ehlo.lines().collect();
    assert_eq!(lines[0], "250-mx.tern.test Hello [127.0.0.1]");
    assert_eq!(
        &lines[1..],
        ["250-PIPELINING", "250-SIZE 65536", "250-8BITMIME", "250-ENHANCEDSTATUSCODES", "250-CHUNKING", "250 SMTPUTF8"]
    );
    assert_eq!(smtp.cmd("HELO client.test", 250), "250 mx.tern.test Hello [127.0.0.1]");
    assert_eq!(smtp.cmd("NOOP", 250), "250 2.0.0 OK");
    assert!(smtp.cmd("VRFY bob", 252).starts_with("252 2.5.0 "));
    assert!(smtp.cmd("HELP", 214).starts_with("214 2.0.0 "));
    assert!(smtp.cmd("QUIT", 221).starts_with("221 2.0.0 "));
    assert!(smtp.is_closed());
}

#[test]
fn pipelined_commands_are_answered_in_order() {
    let tern = tern();
    let mut smtp = tern.connect();
    smtp.send(
        "EHLO a.test\r\nMAIL FROM:<a@a.test> SIZE=100 BODY=8BITMIME\r\nRCPT TO:<x@tern.test>\r\n\
         RCPT TO:<y@elsewhere.test>\r\nRCPT TO:<bad address>\r\nDATA\r\n",
    );
    assert!(smtp.read_reply().starts_with("250-mx.tern.test"));
    assert_eq!(smtp.read_reply(), "250 2.1.0 Sender OK");
    assert_eq!(smtp.read_reply(), "250 2.1.5 Recipient OK");
    assert!(smtp.read_reply().starts_with("550 5.7.1 Relaying denied"), "relay is closed by default");
    assert!(smtp.read_reply().starts_with("501 5.1.3 "));
    assert!(smtp.read_reply().starts_with("354 "));
    smtp.send("Subject: p\r\n\r\nbody\r\n.\r\nRSET\r\nMAIL FROM:<>\r\nNOOP\r\nQUIT\r\n");
    assert!(smtp.read_reply().starts_with("250 2.0.0 Queued as "));
    assert_eq!(smtp.read_reply(), "250 2.0.0 Reset OK");
    assert_eq!(smtp.read_reply(), "250 2.1.0 Sender OK");
    assert_eq!(smtp.read_reply(), "250 2.0.0 OK");
    assert!(smtp.read_reply().starts_with("221 "));
    wait_until(Duration::from_secs(60), || tern.drop_files().len() == 1, || "drop".into());
}

#[test]
fn wrong_sequence_and_syntax_errors_get_precise_replies() {
    let tern = tern();
    let mut smtp = tern.connect();
    assert!(smtp.cmd("MAIL FROM:<a@a.test>", 503).starts_with("503 5.5.1 "), "MAIL before EHLO");
    smtp.cmd("EHLO a.test", 250);
    assert!(smtp.cmd("RCPT TO:<x@tern.test>", 503).starts_with("503 5.5.1 "));
    assert!(smtp.cmd("DATA", 503).starts_with("503 5.5.1 "));
    assert!(smtp.cmd("MAIL FROM:<not an address>", 501).starts_with("501 5.1.7 "));
    assert!(smtp.cmd("MAIL FROM:<a@a.test> FOO=BAR", 555).starts_with("555 5.5.4 "));
    smtp.cmd("MAIL FROM:<a@a.test>", 250);
    assert!(smtp.cmd("MAIL FROM:<a@a.test>", 503).starts_with("503 5.5.1 "), "nested MAIL");
    assert!(smtp.cmd("DATA", 503).starts_with("503 5.5.1 "), "DATA without recipients");
    assert!(smtp.cmd("DATA extra", 501).starts_with("501 5.5.4 "));
    assert!(smtp.cmd("XYZZY", 500).starts_with("500 5.5.1 "), "unknown command");
    assert!(smtp.cmd("RCPT TO:<üser@tern.test>", 553).starts_with("553 5.6.7 "), "UTF-8 needs SMTPUTF8");
    smtp.cmd("RSET", 250);
    smtp.cmd("MAIL FROM:<ü@a.test> SMTPUTF8", 250);
    smtp.cmd("RCPT TO:<üser@tern.test>", 250);
    assert!(smtp.cmd("STARTTLS", 502).starts_with("502 5.5.1 "));
    smtp.cmd("NOOP", 250);
}

#[test]
fn an_overlong_command_line_is_refused_with_bounded_memory_and_the_session_goes_on() {
    let tern = tern();
    let mut smtp = tern.connect();
    smtp.cmd("EHLO a.test", 250);
    let long = format!("MAIL FROM:<{}@a.test>", "x".repeat(100_000));
    assert_eq!(smtp.cmd(&long, 500), "500 5.5.2 Line too long");
    let exactly_512 = format!("NOOP {}", "y".repeat(512 - 7));
    assert_eq!(smtp.cmd(&exactly_512, 250), "250 2.0.0 OK");
    let just_over = format!("NOOP {}", "y".repeat(512 - 6));
    assert_eq!(smtp.cmd(&just_over, 500), "500 5.5.2 Line too long");
    smtp.cmd("NOOP", 250);
}

#[test]
fn a_client_sending_only_garbage_is_disconnected() {
    let tern = tern();
    let mut smtp = tern.connect();
    for _ in 0..19 {
        smtp.cmd("GARBAGE", 500);
    }
    assert!(smtp.cmd("GARBAGE", 421).starts_with("421 4.7.0 "));
    assert!(smtp.is_closed());
}

#[test]
fn bare_lf_never_ends_data_nor_is_stored() {
    let tern = tern();
    let mut smtp = tern.connect();
    smtp.cmd("EHLO a.test", 250);
    smtp.cmd("MAIL FROM:<a@a.test>", 250);
    smtp.cmd("RCPT TO:<x@tern.test>", 250);
    smtp.cmd("DATA", 354);
    smtp.send("Subject: smuggle\r\n\r\nline\n.\nMAIL FROM:<evil@a.test>\n\r\n.\r\n");
    assert_eq!(smtp.read_reply(), "550 5.5.2 Bare CR or LF in message data not allowed");
    smtp.cmd("NOOP", 250);
    smtp.cmd("MAIL FROM:<a@a.test>", 250);
    smtp.cmd("RCPT TO:<x@tern.test>", 250);
    smtp.cmd("DATA", 354);
    smtp.send("Subject: cr\r\n\r\nbare\rcr\r\n.\r\n");
    assert_eq!(smtp.read_reply(), "550 5.5.2 Bare CR or LF in message data not allowed");
    assert_eq!(tern.metric("tern_messages_rejected_total{virtual_server=\"main\",reason=\"bare_eol\"}"), 2.0);
    assert_eq!(tern.metric("tern_messages_received_total{virtual_server=\"main\"}"), 0.0);
    assert!(tern.drop_files().is_empty());
}

#[test]
fn bdat_chunks_are_stuffed_and_stored_and_bdat_0_last_ends_a_message() {
    let tern = tern();
    let mut smtp = tern.connect();
    smtp.cmd("EHLO a.test", 250);
    smtp.cmd("MAIL FROM:<a@a.test>", 250);
    smtp.cmd("RCPT TO:<x@tern.test>", 250);
    let part1 = "Subject: chunks\r\n\r\n.dot first\r\n";
    let part2 = "second\r\n";
    smtp.send(format!("BDAT {}\r\n{part1}BDAT {}\r\n{part2}BDAT 0 LAST\r\n", part1.len(), part2.len()));
    assert_eq!(smtp.read_reply(), format!("250 2.0.0 {} octets received", part1.len()));
    assert_eq!(smtp.read_reply(), format!("250 2.0.0 {} octets received", part2.len()));
    assert!(smtp.read_reply().starts_with("250 2.0.0 Queued as "));
    // A single-chunk message without a final CRLF.
    smtp.cmd("MAIL FROM:<a@a.test>", 250);
    smtp.cmd("RCPT TO:<y@tern.test>", 250);
    smtp.send("BDAT 12 LAST\r\nSubject: z\r\n");
    assert!(smtp.read_reply().starts_with("250 2.0.0 Queued as "));
    smtp.send("BDAT 3 LAST\r\nabc");
    assert!(smtp.expect(503).starts_with("503 5.5.1 "), "no transaction: the chunk is read and dropped");
    smtp.cmd("NOOP", 250);
    wait_until(Duration::from_secs(60), || tern.drop_files().len() == 2, || "drop".into());
    let contents: Vec<String> = tern.drop_files().iter().map(|p| read(p)).collect();
    let first = contents.iter().find(|c| c.contains("X-Receiver: x@tern.test")).unwrap();
    assert!(first.ends_with("\r\nSubject: chunks\r\n\r\n.dot first\r\nsecond\r\n"), "{first}");
    let second = contents.iter().find(|c| c.contains("X-Receiver: y@tern.test")).unwrap();
    assert!(second.ends_with("\r\nSubject: z\r\n"), "{second}");
}

#[test]
fn bdat_without_transaction_discards_the_chunk() {
    let tern = tern();
    let mut smtp = tern.connect();
    smtp.cmd("EHLO a.test", 250);
    smtp.send("BDAT 10\r\nNOOP\r\nNOOPNOOP\r\n");
    assert!(smtp.read_reply().starts_with("503 5.5.1 "));
    assert_eq!(smtp.read_reply(), "250 2.0.0 OK", "the 10 chunk bytes were skipped, the last NOOP runs");
}
