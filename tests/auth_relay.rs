//! Relay by authentication: with `[relay] allow_authenticated` (the default) a client that
//! is not on the relay list may relay once it has authenticated, and not before; with
//! `allow_authenticated = false` authentication does not open the relay.

mod common;

use common::tls::{security_toml, write_cert, write_users};
use common::{base_config, Tern};

/// Starts tern with a certificate, one user (`alice` / `pw1`) and `relay` appended.
fn start(files: &tempfile::TempDir, relay: &str) -> (Tern, String) {
    let (cert, key, pem) = write_cert(files.path(), "r");
    let users = write_users(files.path(), &[("alice", "pw1")]);
    let tern = Tern::start(&base_config(&format!("{}{relay}", security_toml(&cert, &key, Some(&users), "", ""))));
    (tern, pem)
}

#[test]
fn authenticated_clients_may_relay() {
    let files = tempfile::tempdir().unwrap();
    let (tern, pem) = start(&files, "");
    let mut smtp = tern.connect();
    smtp.cmd("EHLO client.test", 250);
    smtp.cmd("MAIL FROM:<a@client.test>", 250);
    assert!(smtp.cmd("RCPT TO:<bob@remote.example>", 550).starts_with("550 5.7.1 "));
    smtp.cmd("RSET", 250);
    smtp.starttls(&[&pem]);
    smtp.cmd("EHLO client.test", 250);
    smtp.cmd("MAIL FROM:<a@client.test>", 250);
    smtp.cmd("RCPT TO:<bob@remote.example>", 550);
    smtp.cmd("RSET", 250);
    smtp.cmd("AUTH PLAIN AGFsaWNlAHB3MQ==", 235);
    smtp.cmd("MAIL FROM:<a@client.test>", 250);
    smtp.cmd("RCPT TO:<bob@remote.example>", 250);
    smtp.cmd("DATA", 354);
    smtp.cmd("Subject: relayed\r\n\r\nhello\r\n.", 250);
    smtp.cmd("QUIT", 221);
    tern.wait_metric("tern_queue_messages", 1.0);
    assert_eq!(tern.metric("tern_messages_rejected_total{virtual_server=\"main\",reason=\"relay\"}"), 2.0);
}

#[test]
fn authentication_does_not_open_the_relay_when_not_allowed() {
    let files = tempfile::tempdir().unwrap();
    let (tern, pem) = start(&files, "\n[relay]\nallow_authenticated = false\n");
    let mut smtp = tern.connect();
    smtp.cmd("EHLO client.test", 250);
    smtp.starttls(&[&pem]);
    smtp.cmd("EHLO client.test", 250);
    smtp.cmd("AUTH PLAIN AGFsaWNlAHB3MQ==", 235);
    smtp.cmd("MAIL FROM:<a@client.test>", 250);
    assert!(smtp.cmd("RCPT TO:<bob@remote.example>", 550).starts_with("550 5.7.1 "));
    smtp.cmd("RCPT TO:<postmaster@tern.test>", 250);
    smtp.cmd("QUIT", 221);
    tern.wait_metric("tern_messages_rejected_total{virtual_server=\"main\",reason=\"relay\"}", 1.0);
}
