//! A SASL response after `334` is not bound by the 512-octet command line limit (RFC 4954 §4):
//! a PLAIN response of 544 octets (a 400-byte password) authenticates, while a 64 KiB line is
//! still refused with memory bounded.

mod common;

use base64::Engine;
use common::tls::{security_toml, write_cert, write_users};
use common::{base_config, Tern};

#[test]
fn a_plain_response_longer_than_512_octets_is_read() {
    let files = tempfile::tempdir().unwrap();
    let (cert, key, pem) = write_cert(files.path(), "a");
    let password = "p".repeat(400);
    let users = write_users(files.path(), &[("alice", &password)]);
    let tern = Tern::start(&base_config(&security_toml(&cert, &key, Some(&users), "", "")));
    let mut smtp = tern.connect();
    smtp.cmd("EHLO client.test", 250);
    smtp.starttls(&[&pem]);
    smtp.cmd("EHLO client.test", 250);
    // Absurd lines stay bounded: refused, session goes on.
    smtp.cmd("AUTH PLAIN", 334);
    smtp.send(format!("{}\r\n", "A".repeat(64 * 1024)));
    let huge = smtp.read_reply();
    assert!(huge.starts_with("5"), "{huge}");
    // A genuine PLAIN response of 544 octets (password of 400 bytes).
    let response = base64::engine::general_purpose::STANDARD.encode(format!("\0alice\0{password}"));
    assert!(response.len() > 512 && response.len() < 1024);
    smtp.cmd("AUTH PLAIN", 334);
    smtp.send(format!("{response}\r\n"));
    let reply = smtp.read_reply();
    assert!(reply.starts_with("235 "), "a {}-octet PLAIN response was refused: {reply}", response.len());
}
