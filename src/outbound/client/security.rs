//! What a connection must negotiate before mail: the STARTTLS policy (with its rustls client
//! configuration, built once) and the credentials for `AUTH`.

use std::fmt;
use std::sync::Arc;

use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::crypto::{verify_tls12_signature, verify_tls13_signature, WebPkiSupportedAlgorithms};
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::{DigitallySignedStruct, RootCertStore, SignatureScheme};

/// How the server's certificate is checked.
#[derive(Debug, Clone)]
pub enum Verify {
    /// Any certificate is accepted (its handshake signature is still checked). This is the
    /// common MTA practice for MX delivery, where certificates are often self-signed or name
    /// another host: the session is encrypted against eavesdroppers, not authenticated.
    None,
    /// The chain must lead to one of these roots and name the server.
    Roots(Arc<RootCertStore>),
}

/// Whether and how STARTTLS is used.
#[derive(Clone)]
pub struct TlsPolicy {
    /// A server that does not offer STARTTLS gets no mail (a permanent failure).
    pub required: bool,
    config: Arc<rustls::ClientConfig>,
}

impl TlsPolicy {
    /// TLS 1.2 and 1.3 with the ring provider, verifying as `verify` says.
    pub fn new(required: bool, verify: Verify) -> TlsPolicy {
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let builder = rustls::ClientConfig::builder_with_provider(provider.clone())
            .with_safe_default_protocol_versions()
            .expect("the ring provider supports TLS 1.2 and 1.3");
        let config = match verify {
            Verify::None => {
                let verifier = AnyCertificate { algorithms: provider.signature_verification_algorithms };
                builder.dangerous().with_custom_certificate_verifier(Arc::new(verifier)).with_no_client_auth()
            }
            Verify::Roots(roots) => builder.with_root_certificates(roots).with_no_client_auth(),
        };
        TlsPolicy { required, config: Arc::new(config) }
    }

    /// The rustls configuration for the handshake.
    pub fn config(&self) -> Arc<rustls::ClientConfig> {
        self.config.clone()
    }
}

impl fmt::Debug for TlsPolicy {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TlsPolicy").field("required", &self.required).finish_non_exhaustive()
    }
}

/// A user name and password for `AUTH PLAIN` / `AUTH LOGIN`.
#[derive(Clone, PartialEq, Eq)]
pub struct Credentials {
    pub username: String,
    pub password: String,
}

impl fmt::Debug for Credentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Credentials").field("username", &self.username).finish_non_exhaustive()
    }
}

/// Everything a connection negotiates after its first EHLO.
///
/// STARTTLS is tried whenever the server offers it. It is needed (a server without it is a
/// permanent failure) when `tls.required`, and also when credentials are set and
/// `allow_plaintext_auth` is not: credentials never travel in clear text otherwise.
#[derive(Debug, Clone)]
pub struct Security {
    pub tls: TlsPolicy,
    /// `None`: anonymous (no `AUTH`).
    pub auth: Option<Credentials>,
    /// Lets `AUTH` run over a connection without TLS.
    pub allow_plaintext_auth: bool,
}

impl Security {
    /// Opportunistic TLS without certificate checks, anonymous.
    pub fn opportunistic() -> Security {
        Security { tls: TlsPolicy::new(false, Verify::None), auth: None, allow_plaintext_auth: false }
    }

    /// Why the session may not go on without TLS, if it may not.
    pub(super) fn tls_needed(&self) -> Option<&'static str> {
        if self.tls.required {
            Some("TLS is required for this destination")
        } else if self.auth.is_some() && !self.allow_plaintext_auth {
            Some("credentials are only sent over TLS")
        } else {
            None
        }
    }

    /// The name the certificate is checked against: `name` when it is a valid DNS name or IP
    /// address, else the address dialled.
    pub(super) fn server_name(name: &str, addr: std::net::IpAddr) -> ServerName<'static> {
        ServerName::try_from(name.to_string()).unwrap_or_else(|_| ServerName::IpAddress(addr.into()))
    }
}

/// [`Verify::None`]: accepts the certificate, checks the handshake signatures made with it.
#[derive(Debug)]
struct AnyCertificate {
    algorithms: WebPkiSupportedAlgorithms,
}

impl ServerCertVerifier for AnyCertificate {
    fn verify_server_cert(
        &self,
        _end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp_response: &[u8],
        _now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        Ok(ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        verify_tls12_signature(message, cert, dss, &self.algorithms)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        verify_tls13_signature(message, cert, dss, &self.algorithms)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.algorithms.supported_schemes()
    }
}
