//! A real client (lettre, rustls) trusting only the generated certificate delivers over
//! STARTTLS with AUTH PLAIN, then with AUTH LOGIN; wrong credentials are refused; the stored
//! messages say ESMTPSA with the user.

mod common;

use common::tls::{security_toml, write_cert, write_users, CERT_NAME};
use common::{base_config, read, wait_until, Tern};
use lettre::message::Mailbox;
use lettre::transport::smtp::authentication::{Credentials, Mechanism};
use lettre::transport::smtp::client::{Certificate, CertificateStore, Tls, TlsParameters};
use lettre::transport::smtp::extension::ClientId;
use lettre::{Message, SmtpTransport, Transport};
use std::time::Duration;

fn transport(tern: &Tern, pem: &str, user: &str, password: &str, mechanism: Mechanism) -> SmtpTransport {
    let tls = TlsParameters::builder(CERT_NAME.to_string())
        .certificate_store(CertificateStore::None)
        .add_root_certificate(Certificate::from_pem(pem.as_bytes()).unwrap())
        .build_rustls()
        .unwrap();
    SmtpTransport::builder_dangerous(tern.ip.as_str())
        .port(tern.port)
        .hello_name(ClientId::Domain("client.test".into()))
        .tls(Tls::Required(tls))
        .credentials(Credentials::new(user.into(), password.into()))
        .authentication(vec![mechanism])
        .timeout(Some(Duration::from_secs(20)))
        .build()
}

fn message(subject: &str) -> Message {
    let from: Mailbox = "Alice <alice@client.test>".parse().unwrap();
    Message::builder()
        .from(from)
        .to("bob@tern.test".parse().unwrap())
        .subject(subject)
        .body("hello over TLS\r\n".to_string())
        .unwrap()
}

#[test]
fn lettre_delivers_over_starttls_with_auth() {
    let files = tempfile::tempdir().unwrap();
    let (cert, key, pem) = write_cert(files.path(), "a");
    let users = write_users(files.path(), &[("alice", "correct horse")]);
    let tern = Tern::start(&base_config(&security_toml(&cert, &key, Some(&users), "require = true", "")));
    transport(&tern, &pem, "alice", "correct horse", Mechanism::Plain).send(&message("plain")).unwrap();
    transport(&tern, &pem, "alice", "correct horse", Mechanism::Login).send(&message("login")).unwrap();
    let wrong = transport(&tern, &pem, "alice", "wrong", Mechanism::Plain).send(&message("wrong"));
    let error = wrong.unwrap_err();
    assert!(error.to_string().contains("535"), "{error}");
    wait_until(Duration::from_secs(60), || tern.drop_files().len() == 2, || "two drop files".into());
    for file in tern.drop_files() {
        let stored = read(&file);
        assert!(stored.contains("with ESMTPSA (TLSv1.3 "), "{stored}");
        assert!(stored.contains("authenticated as alice)"), "{stored}");
        assert!(stored.contains("hello over TLS"), "{stored}");
    }
    tern.wait_metric("tern_tls_handshakes_total{virtual_server=\"main\",result=\"success\"}", 3.0);
    assert_eq!(tern.metric("tern_auth_total{virtual_server=\"main\",result=\"success\"}"), 2.0);
    assert_eq!(tern.metric("tern_auth_total{virtual_server=\"main\",result=\"failure\"}"), 1.0);
}
