//! A client that answers `220 Ready to start TLS` with something other than a TLS handshake is
//! disconnected and counted as a failed handshake; the server goes on serving.

mod common;

use common::tls::{security_toml, write_cert};
use common::{base_config, Tern};

#[test]
fn a_broken_handshake_closes_the_connection() {
    let files = tempfile::tempdir().unwrap();
    let (cert, key, pem) = write_cert(files.path(), "a");
    let tern = Tern::start(&base_config(&security_toml(&cert, &key, None, "", "")));
    let mut smtp = tern.connect();
    smtp.cmd("EHLO client.test", 250);
    smtp.cmd("STARTTLS", 220);
    smtp.send("EHLO this is not TLS\r\n");
    // The server may send a TLS alert (a few bytes) before it closes.
    assert!((0..64).any(|_| smtp.is_closed()), "the connection is closed");
    tern.wait_metric("tern_tls_handshakes_total{virtual_server=\"main\",result=\"failure\"}", 1.0);
    let mut next = tern.connect();
    next.cmd("EHLO client.test", 250);
    next.starttls(&[&pem]);
    next.cmd("EHLO client.test", 250);
}
