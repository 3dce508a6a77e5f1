//! STARTTLS upgrade, raw bytes: advertised before TLS only, the session starts over after the
//! handshake (EHLO first, no STARTTLS offered, a second STARTTLS is 503), TLS 1.3 by default,
//! and the stored message says ESMTPS with the version and cipher.

mod common;

use common::tls::{security_toml, write_cert};
use common::{base_config, read, Tern};

#[test]
fn starttls_restarts_the_session_and_marks_the_message() {
    let files = tempfile::tempdir().unwrap();
    let (cert, key, pem) = write_cert(files.path(), "a");
    let tern = Tern::start(&base_config(&security_toml(&cert, &key, None, "", "")));
    let mut smtp = tern.connect();
    let ehlo = smtp.cmd("EHLO client.test", 250);
    assert!(ehlo.contains("250-STARTTLS"), "{ehlo}");
    assert!(!ehlo.contains("AUTH"), "no users file, no AUTH: {ehlo}");
    smtp.cmd("STARTTLS extra", 501);
    smtp.cmd("MAIL FROM:<a@client.test>", 250);
    smtp.cmd("STARTTLS", 503);
    smtp.cmd("RSET", 250);
    smtp.starttls(&[&pem]);
    let (version, cipher) = smtp.tls_session().unwrap();
    assert_eq!(version, "TLSv1_3");
    smtp.cmd("MAIL FROM:<a@client.test>", 503);
    let ehlo = smtp.cmd("EHLO client.test", 250);
    assert!(!ehlo.contains("STARTTLS"), "{ehlo}");
    smtp.cmd("STARTTLS", 503);
    let reply = smtp.send_message("a@client.test", &["bob@tern.test"], "Subject: t\r\n\r\nhello\r\n");
    assert!(reply.starts_with("250 "), "{reply}");
    smtp.cmd("QUIT", 221);
    common::wait_until(std::time::Duration::from_secs(60), || tern.drop_files().len() == 1, || "one drop file".into());
    let stored = read(&tern.drop_files()[0]);
    let want = format!("by mx.tern.test with ESMTPS (TLSv1.3 {cipher}) id");
    assert!(stored.contains(&want), "{want:?} in {stored}");
    tern.wait_metric("tern_tls_handshakes_total{virtual_server=\"main\",result=\"success\"}", 1.0);
}
