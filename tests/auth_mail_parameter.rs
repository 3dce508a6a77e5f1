//! MAIL FROM's `AUTH=` parameter (RFC 4954 §5, sent by Exim and sendmail once authenticated)
//! is accepted, `<>` or xtext, and not trusted.

mod common;

use common::tls::{security_toml, write_cert, write_users};
use common::{base_config, Tern};

#[test]
fn mail_from_with_an_auth_parameter_is_accepted_after_auth() {
    let files = tempfile::tempdir().unwrap();
    let (cert, key, pem) = write_cert(files.path(), "a");
    let users = write_users(files.path(), &[("alice", "pw1")]);
    let tern = Tern::start(&base_config(&security_toml(&cert, &key, Some(&users), "", "")));
    let mut smtp = tern.connect();
    smtp.cmd("EHLO client.test", 250);
    smtp.starttls(&[&pem]);
    let ehlo = smtp.cmd("EHLO client.test", 250);
    assert!(ehlo.contains("AUTH PLAIN LOGIN"), "{ehlo}");
    smtp.cmd("AUTH PLAIN AGFsaWNlAHB3MQ==", 235);
    smtp.send("MAIL FROM:<alice@client.test> AUTH=<>\r\n");
    let reply = smtp.read_reply();
    assert!(reply.starts_with("250 "), "MAIL with AUTH=<>: {reply}");
    smtp.cmd("RSET", 250);
    smtp.send("MAIL FROM:<alice@client.test> AUTH=alice+40client.test\r\n");
    let reply = smtp.read_reply();
    assert!(reply.starts_with("250 "), "MAIL with AUTH=xtext: {reply}");
}
