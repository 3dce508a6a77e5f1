//! AUTH over TLS, raw bytes: PLAIN with an initial response and after a `334`, LOGIN in two
//! steps, `*` and bad base64 (501), unknown mechanisms (504), AUTH twice (503); the
//! authenticated name is in the Received header (ESMTPSA) and in the log.

mod common;

use common::tls::{security_toml, write_cert, write_users};
use common::{base_config, read, wait_until, Tern};
use std::time::Duration;

#[test]
fn plain_and_login_exchanges() {
    let files = tempfile::tempdir().unwrap();
    let (cert, key, pem) = write_cert(files.path(), "a");
    let users = write_users(files.path(), &[("alice", "pw1"), ("bob", "pw2")]);
    let tern = Tern::start(&base_config(&security_toml(&cert, &key, Some(&users), "", "")));

    let mut smtp = tern.connect();
    smtp.cmd("EHLO client.test", 250);
    smtp.starttls(&[&pem]);
    let ehlo = smtp.cmd("EHLO client.test", 250);
    assert!(ehlo.contains("250-AUTH PLAIN LOGIN"), "{ehlo}");
    assert_eq!(smtp.cmd("AUTH CRAM-MD5", 504), "504 5.5.4 Unrecognized authentication type");
    assert_eq!(smtp.cmd("AUTH PLAIN", 334), "334 ");
    assert_eq!(smtp.cmd("*", 501), "501 5.7.0 Authentication cancelled");
    smtp.cmd("AUTH PLAIN", 334);
    assert!(smtp.cmd("not-base64!", 501).starts_with("501 5.5.2 "));
    smtp.cmd("AUTH PLAIN", 334);
    assert_eq!(smtp.cmd("AGFsaWNlAHB3MQ==", 235), "235 2.7.0 Authentication successful");
    assert!(smtp.cmd("AUTH PLAIN AGFsaWNlAHB3MQ==", 503).starts_with("503 5.5.1 "));
    let reply = smtp.send_message("alice@client.test", &["carol@tern.test"], "Subject: t\r\n\r\nhi\r\n");
    assert!(reply.starts_with("250 "), "{reply}");
    smtp.cmd("QUIT", 221);

    let mut login = tern.connect();
    login.cmd("EHLO client.test", 250);
    login.starttls(&[&pem]);
    login.cmd("EHLO client.test", 250);
    assert_eq!(login.cmd("AUTH LOGIN", 334), "334 VXNlcm5hbWU6");
    assert_eq!(login.cmd("Ym9i", 334), "334 UGFzc3dvcmQ6");
    login.cmd("cHcy", 235);
    login.cmd("MAIL FROM:<bob@client.test>", 250);
    login.cmd("AUTH LOGIN", 503);
    login.cmd("QUIT", 221);

    wait_until(Duration::from_secs(60), || tern.drop_files().len() == 1, || "one drop file".into());
    let stored = read(&tern.drop_files()[0]);
    assert!(stored.contains("with ESMTPSA (TLSv1.3 "), "{stored}");
    assert!(stored.contains("; authenticated as alice) id "), "{stored}");
    tern.wait_metric("tern_auth_total{virtual_server=\"main\",result=\"success\"}", 2.0);
    assert_eq!(tern.metric("tern_auth_total{virtual_server=\"main\",result=\"cancelled\"}"), 1.0);
    assert_eq!(tern.metric("tern_auth_total{virtual_server=\"main\",result=\"malformed\"}"), 1.0);
    let log = tern.log();
    assert!(log.contains("user=alice") && log.contains("authenticated"), "{log}");
}
