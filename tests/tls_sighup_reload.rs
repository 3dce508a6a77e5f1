//! SIGHUP reloads the certificate from disk: a new handshake sees the new certificate while a
//! session opened before goes on; a broken file is logged and the last good one kept.

mod common;

use common::tls::{der, security_toml, write_cert};
use common::{base_config, wait_until, Tern};
use std::time::Duration;

#[test]
fn new_certificate_for_new_handshakes_old_sessions_go_on() {
    let files = tempfile::tempdir().unwrap();
    let (cert, key, old_pem) = write_cert(files.path(), "live");
    let tern = Tern::start(&base_config(&security_toml(&cert, &key, None, "", "")));
    let mut before = tern.connect();
    before.cmd("EHLO client.test", 250);
    before.starttls(&[&old_pem]);
    assert_eq!(before.peer_certificate().unwrap(), der(&old_pem));

    let (new_cert, new_key, new_pem) = write_cert(files.path(), "next");
    std::fs::rename(&new_cert, &cert).unwrap();
    std::fs::rename(&new_key, &key).unwrap();
    tern.signal(libc::SIGHUP);
    wait_until(Duration::from_secs(60), || tern.log().contains("reloaded"), || tern.log());

    let mut after = tern.connect();
    after.cmd("EHLO client.test", 250);
    after.starttls(&[&old_pem, &new_pem]);
    assert_eq!(after.peer_certificate().unwrap(), der(&new_pem), "the new certificate is served");

    before.cmd("EHLO client.test", 250);
    let reply = before.send_message("a@client.test", &["bob@tern.test"], "Subject: t\r\n\r\nhi\r\n");
    assert!(reply.starts_with("250 "), "the old session goes on: {reply}");

    std::fs::write(&cert, "not a certificate").unwrap();
    tern.signal(libc::SIGHUP);
    wait_until(Duration::from_secs(60), || tern.log().contains("reload failed"), || tern.log());
    let mut last = tern.connect();
    last.cmd("EHLO client.test", 250);
    last.starttls(&[&new_pem]);
    assert_eq!(last.peer_certificate().unwrap(), der(&new_pem), "the last good certificate is kept");
}
