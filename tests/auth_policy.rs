//! AUTH policy: before TLS (with `require_tls_for_basic`, the default) AUTH is not advertised
//! and refused with `538 5.7.11`; with `anonymous = false` MAIL needs AUTH first (`530 5.7.0`).

mod common;

use common::tls::{security_toml, write_cert, write_users};
use common::{base_config, Tern};

#[test]
fn auth_needs_tls_and_mail_needs_auth() {
    let files = tempfile::tempdir().unwrap();
    let (cert, key, pem) = write_cert(files.path(), "a");
    let users = write_users(files.path(), &[("alice", "pw1")]);
    let tern = Tern::start(&base_config(&security_toml(&cert, &key, Some(&users), "", "anonymous = false")));
    let mut smtp = tern.connect();
    let ehlo = smtp.cmd("EHLO client.test", 250);
    assert!(!ehlo.contains("AUTH"), "no AUTH before TLS: {ehlo}");
    let reply = smtp.cmd("AUTH PLAIN AGFsaWNlAHB3MQ==", 538);
    assert!(reply.starts_with("538 5.7.11 "), "{reply}");
    assert!(smtp.cmd("MAIL FROM:<a@client.test>", 530).starts_with("530 5.7.0 "));
    smtp.starttls(&[&pem]);
    smtp.cmd("EHLO client.test", 250);
    smtp.cmd("MAIL FROM:<a@client.test>", 530);
    smtp.cmd("AUTH PLAIN AGFsaWNlAHB3MQ==", 235);
    smtp.cmd("MAIL FROM:<a@client.test>", 250);
    smtp.cmd("QUIT", 221);
    tern.wait_metric("tern_auth_total{virtual_server=\"main\",result=\"no_tls\"}", 1.0);
    assert_eq!(tern.metric("tern_messages_rejected_total{virtual_server=\"main\",reason=\"auth_required\"}"), 2.0);
}
