//! Commands pipelined after STARTTLS in the same packet are never executed (RFC 3207 §5): the
//! server answers only the STARTTLS, the handshake succeeds, and the pipelined MAIL (one the
//! server would count as a size refusal) left no trace.

mod common;

use common::tls::{security_toml, write_cert};
use common::{base_config, Tern};

#[test]
fn bytes_after_starttls_are_discarded() {
    let files = tempfile::tempdir().unwrap();
    let (cert, key, pem) = write_cert(files.path(), "a");
    let tern = Tern::start(&base_config(&security_toml(&cert, &key, None, "", "")));
    let mut smtp = tern.connect();
    smtp.cmd("EHLO client.test", 250);
    smtp.send("STARTTLS\r\nMAIL FROM:<a@client.test> SIZE=999999999999\r\nRCPT TO:<bob@tern.test>\r\n");
    smtp.expect(220);
    smtp.upgrade(&[&pem]).expect("the handshake is not disturbed by the pipelined bytes");
    let ehlo = smtp.cmd("EHLO client.test", 250);
    assert!(ehlo.starts_with("250-mx.tern.test Hello"), "the first reply after TLS is the EHLO's: {ehlo}");
    smtp.cmd("MAIL FROM:<a@client.test>", 250);
    smtp.cmd("RCPT TO:<bob@tern.test>", 250);
    smtp.cmd("QUIT", 221);
    let size = "tern_messages_rejected_total{virtual_server=\"main\",reason=\"size\"}";
    assert_eq!(tern.metric(size), 0.0, "the pipelined MAIL was not executed");
}
