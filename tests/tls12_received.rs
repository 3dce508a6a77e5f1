//! TLS 1.2 is negotiated when the client offers only TLS 1.2, and the Received header names it
//! (`ESMTPS (TLSv1.2 <IANA suite>)`).

mod common;

use common::tls::{security_toml, write_cert, CERT_NAME};
use common::{base_config, read, wait_until, Tern};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, ServerName};
use std::io::{BufRead, BufReader, Write};
use std::net::TcpStream;
use std::sync::Arc;
use std::time::Duration;

fn tls12_client(pem: &str) -> Arc<rustls::ClientConfig> {
    let mut roots = rustls::RootCertStore::empty();
    roots.add(CertificateDer::from_pem_slice(pem.as_bytes()).unwrap()).unwrap();
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let config = rustls::ClientConfig::builder_with_provider(provider)
        .with_protocol_versions(&[&rustls::version::TLS12])
        .unwrap()
        .with_root_certificates(roots)
        .with_no_client_auth();
    Arc::new(config)
}

fn line(r: &mut impl BufRead) -> String {
    let mut l = String::new();
    loop {
        l.clear();
        r.read_line(&mut l).unwrap();
        if l.as_bytes().get(3) != Some(&b'-') {
            return l;
        }
    }
}

#[test]
fn tls12_is_negotiated_and_named_in_received() {
    let files = tempfile::tempdir().unwrap();
    let (cert, key, pem) = write_cert(files.path(), "a");
    let tern = Tern::start(&base_config(&security_toml(&cert, &key, None, "", "")));
    let mut tcp = TcpStream::connect(tern.addr()).unwrap();
    tcp.set_read_timeout(Some(Duration::from_secs(20))).unwrap();
    let mut r = BufReader::new(tcp.try_clone().unwrap());
    assert!(line(&mut r).starts_with("220 "));
    tcp.write_all(b"EHLO client.test\r\n").unwrap();
    assert!(line(&mut r).starts_with("250 "));
    tcp.write_all(b"STARTTLS\r\n").unwrap();
    assert!(line(&mut r).starts_with("220 "));
    let conn = rustls::ClientConnection::new(tls12_client(&pem), ServerName::try_from(CERT_NAME).unwrap()).unwrap();
    let mut tls = rustls::StreamOwned::new(conn, tcp);
    tls.write_all(b"EHLO client.test\r\n").unwrap();
    assert_eq!(tls.conn.protocol_version(), Some(rustls::ProtocolVersion::TLSv1_2));
    let suite = tls.conn.negotiated_cipher_suite().unwrap().suite().as_str().unwrap().to_string();
    let mut r = BufReader::new(tls);
    assert!(line(&mut r).starts_with("250 "));
    let tls = r.get_mut();
    tls.write_all(b"MAIL FROM:<a@client.test>\r\nRCPT TO:<bob@tern.test>\r\nDATA\r\n").unwrap();
    for _ in 0..3 {
        let _ = line(&mut r);
    }
    r.get_mut().write_all(b"Subject: t\r\n\r\nhi\r\n.\r\nQUIT\r\n").unwrap();
    assert!(line(&mut r).starts_with("250 "));
    wait_until(Duration::from_secs(60), || tern.drop_files().len() == 1, || "one drop file".into());
    let stored = read(&tern.drop_files()[0]);
    let want = format!("with ESMTPS (TLSv1.2 {suite}) id");
    assert!(stored.contains(&want), "{want:?} in {stored}");
}
