//! `[tls].require = true`: before STARTTLS only EHLO/HELO, NOOP, RSET, QUIT and STARTTLS are
//! served, everything else gets `530 5.7.0` (counted as `tls_required`); after the handshake
//! mail flows.

mod common;

use common::tls::{security_toml, write_cert};
use common::{base_config, Tern};

#[test]
fn everything_but_the_greeting_commands_waits_for_tls() {
    let files = tempfile::tempdir().unwrap();
    let (cert, key, pem) = write_cert(files.path(), "a");
    let tern = Tern::start(&base_config(&security_toml(&cert, &key, None, "require = true", "")));
    let mut smtp = tern.connect();
    smtp.cmd("HELO client.test", 250);
    smtp.cmd("EHLO client.test", 250);
    smtp.cmd("NOOP", 250);
    smtp.cmd("RSET", 250);
    for line in ["MAIL FROM:<a@client.test>", "RCPT TO:<bob@tern.test>", "DATA", "VRFY bob", "HELP", "AUTH PLAIN"] {
        let reply = smtp.cmd(line, 530);
        assert!(reply.starts_with("530 5.7.0 "), "{line}: {reply}");
    }
    smtp.starttls(&[&pem]);
    smtp.cmd("EHLO client.test", 250);
    let reply = smtp.send_message("a@client.test", &["bob@tern.test"], "Subject: t\r\n\r\nhi\r\n");
    assert!(reply.starts_with("250 "), "{reply}");
    smtp.cmd("QUIT", 221);
    tern.wait_metric("tern_messages_rejected_total{virtual_server=\"main\",reason=\"tls_required\"}", 6.0);
    let mut plain = tern.connect();
    plain.cmd("QUIT", 221);
}

/// The verb alone decides: unknown verbs and malformed arguments get 530 too, so nothing of
/// the parser's address rules is exposed in clear text (RFC 3207 §4).
#[test]
fn commands_that_do_not_parse_also_get_530() {
    let files = tempfile::tempdir().unwrap();
    let (cert, key, _pem) = write_cert(files.path(), "a");
    let tern = Tern::start(&base_config(&security_toml(&cert, &key, None, "require = true", "")));
    let mut smtp = tern.connect();
    smtp.cmd("EHLO client.test", 250);
    for line in ["EXPN staff", "ETRN tern.test", "MAIL FROM:<a@client.test> FOO=1", "RCPT TO:<a@b@c>", "BDAT x"] {
        smtp.send(format!("{line}\r\n"));
        let reply = smtp.read_reply();
        assert!(reply.starts_with("530 5.7.0 "), "{line}: {reply}");
    }
}

/// A BDAT refused for TLS still has its chunk read and dropped: those octets are message data
/// (RFC 3030), here the 6 octets `QUIT\r\n`, never a command.
#[test]
fn a_refused_bdat_chunk_is_never_executed() {
    let files = tempfile::tempdir().unwrap();
    let (cert, key, _pem) = write_cert(files.path(), "a");
    let tern = Tern::start(&base_config(&security_toml(&cert, &key, None, "require = true", "")));
    let mut smtp = tern.connect();
    smtp.cmd("EHLO client.test", 250);
    smtp.send("BDAT 6 LAST\r\nQUIT\r\n");
    let reply = smtp.read_reply();
    assert!(reply.starts_with("530 5.7.0 "), "{reply}");
    smtp.cmd("NOOP", 250);
}
