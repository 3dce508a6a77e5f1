//! TLS for the test clients: certificate and users files for tern, and the raw client's
//! STARTTLS upgrade (rustls, ring) trusting given certificates.

use std::io::{BufReader, Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, ServerName};
use rustls::{ClientConfig, ClientConnection, RootCertStore, StreamOwned};

use super::Smtp;

/// The name tern's test certificates are made for (the harness's `server.fqdn`).
pub const CERT_NAME: &str = "mx.tern.test";

/// The raw client's byte stream.
pub enum Io {
    Plain(TcpStream),
    Tls(Box<StreamOwned<ClientConnection, TcpStream>>),
}

impl Read for Io {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        match self {
            Io::Plain(s) => s.read(buf),
            Io::Tls(s) => s.read(buf),
        }
    }
}

impl Write for Io {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        match self {
            Io::Plain(s) => s.write(buf),
            Io::Tls(s) => s.write(buf),
        }
    }

    fn flush(&mut self) -> std::io::Result<()> {
        match self {
            Io::Plain(s) => s.flush(),
            Io::Tls(s) => s.flush(),
        }
    }
}

/// Certificate and key files for [`CERT_NAME`] in `dir` (named `{stem}-cert.pem`,
/// `{stem}-key.pem`); returns their paths and the certificate PEM.
pub fn write_cert(dir: &Path, stem: &str) -> (PathBuf, PathBuf, String) {
    let (cert, key) = tern::security::generate_self_signed(CERT_NAME).unwrap();
    let (c, k) = (dir.join(format!("{stem}-cert.pem")), dir.join(format!("{stem}-key.pem")));
    std::fs::write(&c, &cert).unwrap();
    std::fs::write(&k, key).unwrap();
    (c, k, cert)
}

/// A users file with these names and passwords.
pub fn write_users(dir: &Path, users: &[(&str, &str)]) -> PathBuf {
    let path = dir.join("users.toml");
    for (name, password) in users {
        let hash = tern::security::hash_password(password.as_bytes()).unwrap();
        tern::security::users::append_user(&path, name, &hash).unwrap();
    }
    path
}

/// `[tls]` and `[auth]` tables for these files (TOML strings).
pub fn security_toml(cert: &Path, key: &Path, users: Option<&Path>, extra_tls: &str, extra_auth: &str) -> String {
    let users = users.map_or(String::new(), |u| format!("users = {:?}\n", u.display().to_string()));
    format!(
        "[tls]\ncertificate = {:?}\nkey = {:?}\n{extra_tls}\n[auth]\n{users}{extra_auth}\n",
        cert.display().to_string(),
        key.display().to_string()
    )
}

/// A client configuration trusting exactly these PEM certificates.
pub fn client_config(trusted: &[&str]) -> Arc<ClientConfig> {
    let mut roots = RootCertStore::empty();
    for pem in trusted {
        roots.add(CertificateDer::from_pem_slice(pem.as_bytes()).unwrap()).unwrap();
    }
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let config = ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_root_certificates(roots)
        .with_no_client_auth();
    Arc::new(config)
}

impl Smtp {
    /// `STARTTLS`, `220`, then the handshake trusting `trusted`.
    pub fn starttls(&mut self, trusted: &[&str]) {
        self.cmd("STARTTLS", 220);
        self.upgrade(trusted).unwrap();
    }

    /// Runs the client handshake now (after the server's `220`). Nothing may be buffered: the
    /// server must not have said anything after its `220`.
    pub fn upgrade(&mut self, trusted: &[&str]) -> std::io::Result<()> {
        assert!(self.reader.buffer().is_empty(), "bytes after 220: {:?}", self.reader.buffer());
        let placeholder = BufReader::new(Io::Plain(self.tcp().try_clone().unwrap()));
        let Io::Plain(tcp) = std::mem::replace(&mut self.reader, placeholder).into_inner() else {
            panic!("already TLS")
        };
        let name = ServerName::try_from(CERT_NAME).unwrap();
        let mut conn = ClientConnection::new(client_config(trusted), name).unwrap();
        let mut tcp = tcp;
        while conn.is_handshaking() {
            conn.complete_io(&mut tcp)?;
        }
        self.reader = BufReader::new(Io::Tls(Box::new(StreamOwned::new(conn, tcp))));
        Ok(())
    }

    /// The certificate the server presented (DER), once TLS is up.
    pub fn peer_certificate(&self) -> Option<Vec<u8>> {
        match self.reader.get_ref() {
            Io::Tls(s) => s.conn.peer_certificates().map(|c| c[0].to_vec()),
            Io::Plain(_) => None,
        }
    }

    /// `(version, cipher)` of the TLS session, once TLS is up.
    pub fn tls_session(&self) -> Option<(String, String)> {
        match self.reader.get_ref() {
            Io::Tls(s) => Some((
                format!("{:?}", s.conn.protocol_version()?),
                format!("{:?}", s.conn.negotiated_cipher_suite()?.suite()),
            )),
            Io::Plain(_) => None,
        }
    }

    fn tcp(&self) -> &TcpStream {
        match self.reader.get_ref() {
            Io::Plain(s) => s,
            Io::Tls(s) => &s.sock,
        }
    }
}

/// The DER form of a PEM certificate.
pub fn der(pem: &str) -> Vec<u8> {
    CertificateDer::from_pem_slice(pem.as_bytes()).unwrap().to_vec()
}
