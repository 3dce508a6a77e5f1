//! Table tests of STARTTLS and AUTH in the pure session: gates, advertisement, the reset after
//! the handshake, the SASL exchanges and the failure delays.

use std::sync::Arc;
use std::time::Duration;

use super::session::TlsInfo;
use super::session_tests::{run, session_with};
use super::VsSecurity;
use crate::security::{generate_self_signed, open_tls, open_users};

/// Certificate and users file (alice / pw) in a temporary directory.
fn security() -> (tempfile::TempDir, VsSecurity) {
    let dir = tempfile::tempdir().unwrap();
    let (cert, key) = generate_self_signed("mx.test").unwrap();
    let (c, k, u) = (dir.path().join("c.pem"), dir.path().join("k.pem"), dir.path().join("users.toml"));
    std::fs::write(&c, cert).unwrap();
    std::fs::write(&k, key).unwrap();
    let users = format!("[[user]]\nname = \"alice\"\nhash = \"{}\"\n", crate::security::hash_password(b"pw").unwrap());
    std::fs::write(&u, users).unwrap();
    let security =
        VsSecurity { tls: Some(Arc::new(open_tls(&c, &k).unwrap())), users: Some(Arc::new(open_users(&u).unwrap())) };
    (dir, security)
}

fn tls13() -> TlsInfo {
    TlsInfo { version: "TLSv1.3".into(), cipher: "TLS13_AES_128_GCM_SHA256".into() }
}

fn ehlo_lines(s: &mut super::Session) -> String {
    match s.command(b"EHLO c.test") {
        super::Step::Reply(r) => r.lines.join("|"),
        other => panic!("{other:?}"),
    }
}

#[test]
fn tls_required_then_session_restarts_after_handshake() {
    let (dir, sec) = security();
    let (c, k) = (dir.path().join("c.pem"), dir.path().join("k.pem"));
    let tls = format!("[tls]\nrequire = true\ncertificate = {c:?}\nkey = {k:?}\n");
    let mut s = session_with(&tls, &sec);
    let ehlo = ehlo_lines(&mut s);
    assert!(ehlo.contains("|STARTTLS|") && !ehlo.contains("AUTH"), "{ehlo}");
    run(
        &mut s,
        &[
            ("MAIL FROM:<a@b.test>", "530 5.7.0"),
            ("VRFY x", "530 5.7.0"),
            ("AUTH PLAIN AGFsaWNlAHB3", "530 5.7.0"),
            ("NOOP", "250"),
            ("RSET", "250"),
            ("STARTTLS now", "501 5.5.4"),
            ("STARTTLS", "starttls 220 2.0.0"),
        ],
    );
    s.tls_started(tls13());
    run(&mut s, &[("MAIL FROM:<a@b.test>", "503 5.5.1")]);
    let ehlo = ehlo_lines(&mut s);
    assert!(!ehlo.contains("STARTTLS") && ehlo.contains("|AUTH PLAIN LOGIN|"), "{ehlo}");
    run(&mut s, &[("STARTTLS", "503 5.5.1"), ("MAIL FROM:<a@b.test>", "250 2.1.0"), ("STARTTLS", "503 5.5.1")]);
}

#[test]
fn starttls_needs_a_certificate_and_ehlo() {
    let mut s = session_with("", &VsSecurity::default());
    assert!(!ehlo_lines(&mut s).contains("STARTTLS"));
    run(&mut s, &[("STARTTLS", "502 5.5.1"), ("AUTH PLAIN", "502 5.5.1")]);
    let (_dir, sec) = security();
    let mut s = session_with("", &sec);
    run(&mut s, &[("STARTTLS", "503 5.5.1"), ("EHLO c", "250"), ("MAIL FROM:<>", "250"), ("STARTTLS", "503 5.5.1")]);
}

#[test]
fn auth_before_tls_is_refused_then_plain_and_login_exchanges() {
    let (_dir, sec) = security();
    let mut s = session_with("", &sec);
    run(
        &mut s,
        &[("AUTH PLAIN AGFsaWNlAHB3", "503 5.5.1"), ("EHLO c", "250"), ("AUTH PLAIN AGFsaWNlAHB3", "538 5.7.11")],
    );
    s.tls_started(tls13());
    run(
        &mut s,
        &[
            ("AUTH PLAIN AGFsaWNlAHB3", "503 5.5.1"),
            ("EHLO c", "250"),
            ("AUTH CRAM-MD5", "504 5.5.4"),
            ("AUTH PLAIN AGFsaWNlAHB3", "verify alice pw"),
            ("AUTH PLAIN", "334 "),
            ("*", "501 5.7.0"),
            ("AUTH PLAIN", "334 "),
            ("%%%", "501 5.5.2"),
            ("AUTH PLAIN YWxpY2U=", "501 5.5.2"),
            ("AUTH plain", "334 "),
            ("AGFsaWNlAHB3", "verify alice pw"),
            ("AUTH LOGIN", "334 VXNlcm5hbWU6"),
            ("YWxpY2U=", "334 UGFzc3dvcmQ6"),
            ("cHc=", "verify alice pw"),
            ("AUTH LOGIN YWxpY2U=", "334 UGFzc3dvcmQ6"),
            ("*", "501 5.7.0"),
            ("MAIL FROM:<a@b.test>", "250"),
            ("AUTH PLAIN AGFsaWNlAHB3", "503 5.5.1"),
        ],
    );
    let checked = s.auth_checked("alice".into(), true);
    assert_eq!((checked.reply.code, checked.close), (235, false));
    run(&mut s, &[("RSET", "250"), ("AUTH PLAIN AGFsaWNlAHB3", "503 5.5.1")]);
    let mut s = session_with("[auth]\nrequire_tls_for_basic = false\n", &sec);
    assert!(ehlo_lines(&mut s).contains("|AUTH PLAIN LOGIN|"));
    run(&mut s, &[("AUTH PLAIN AGFsaWNlAHB3", "verify alice pw")]);
}

#[test]
fn failures_grow_the_delay_then_close() {
    let (_dir, sec) = security();
    let mut s = session_with("", &sec);
    let got: Vec<(Duration, u16, bool)> = (0..3)
        .map(|_| {
            let c = s.auth_checked("alice".into(), false);
            (c.delay, c.reply.code, c.close)
        })
        .collect();
    let secs = Duration::from_secs;
    assert_eq!(got, [(secs(1), 535, false), (secs(2), 535, false), (secs(4), 421, true)]);
}

#[test]
fn anonymous_off_needs_auth_for_mail() {
    let (dir, sec) = security();
    let users = dir.path().join("users.toml").display().to_string();
    let auth = format!("[auth]\nanonymous = false\nrequire_tls_for_basic = false\nusers = \"{users}\"\n");
    let mut s = session_with(&auth, &sec);
    run(&mut s, &[("EHLO c", "250"), ("MAIL FROM:<a@b.test>", "530 5.7.0")]);
    s.tls_started(tls13());
    run(&mut s, &[("EHLO c", "250"), ("AUTH PLAIN AGFsaWNlAHB3", "verify alice pw")]);
    s.auth_checked("alice".into(), true);
    run(&mut s, &[("MAIL FROM:<a@b.test>", "250 2.1.0")]);
}
