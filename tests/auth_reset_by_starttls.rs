//! An AUTH done in clear text (require_tls_for_basic = false) does not survive STARTTLS
//! (RFC 3207 §4.2: the server forgets what it learnt from the client): after the handshake the
//! relay is closed again, MAIL needs AUTH again with anonymous = false, and a new AUTH is taken.

mod common;

use common::tls::{security_toml, write_cert, write_users};
use common::{base_config, Tern};

#[test]
fn starttls_forgets_the_authentication() {
    let files = tempfile::tempdir().unwrap();
    let (cert, key, pem) = write_cert(files.path(), "a");
    let users = write_users(files.path(), &[("alice", "pw1")]);
    let toml = security_toml(&cert, &key, Some(&users), "", "require_tls_for_basic = false\nanonymous = false");
    let tern = Tern::start(&base_config(&toml));
    let mut smtp = tern.connect();
    let ehlo = smtp.cmd("EHLO client.test", 250);
    assert!(ehlo.contains("AUTH PLAIN LOGIN"), "{ehlo}");
    smtp.cmd("AUTH PLAIN AGFsaWNlAHB3MQ==", 235);
    smtp.cmd("MAIL FROM:<a@client.test>", 250);
    smtp.cmd("RCPT TO:<far@remote.example>", 250);
    smtp.cmd("RSET", 250);
    smtp.starttls(&[&pem]);
    smtp.cmd("EHLO client.test", 250);
    assert!(smtp.cmd("MAIL FROM:<a@client.test>", 530).starts_with("530 5.7.0 "));
    smtp.cmd("AUTH PLAIN AGFsaWNlAHB3MQ==", 235);
    smtp.cmd("MAIL FROM:<a@client.test>", 250);
    smtp.cmd("RCPT TO:<far@remote.example>", 250);
    smtp.cmd("QUIT", 221);
}

#[test]
fn a_sasl_exchange_pending_at_starttls_is_not_resumed() {
    let files = tempfile::tempdir().unwrap();
    let (cert, key, pem) = write_cert(files.path(), "b");
    let users = write_users(files.path(), &[("alice", "pw1")]);
    let toml = security_toml(&cert, &key, Some(&users), "", "require_tls_for_basic = false");
    let tern = Tern::start(&base_config(&toml));
    let mut smtp = tern.connect();
    smtp.cmd("EHLO client.test", 250);
    // STARTTLS inside an AUTH exchange is a SASL response, never a command.
    smtp.cmd("AUTH LOGIN", 334);
    smtp.cmd("STARTTLS", 501);
    smtp.starttls(&[&pem]);
    smtp.cmd("EHLO client.test", 250);
    smtp.cmd("MAIL FROM:<a@client.test>", 250);
    smtp.cmd("RCPT TO:<far@remote.example>", 550);
}
