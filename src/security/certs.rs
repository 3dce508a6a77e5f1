//! The STARTTLS certificate: a rustls server configuration (ring, TLS 1.2 and 1.3) from a PEM
//! chain and key, and the self-signed pair `tern gen-cert` writes for trials.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};

/// Why a certificate or key could not be used.
#[derive(Debug, thiserror::Error)]
pub enum CertError {
    #[error("cannot read certificate chain {path}: {reason}")]
    Chain { path: PathBuf, reason: String },
    #[error("{path}: no CERTIFICATE block found")]
    EmptyChain { path: PathBuf },
    #[error("cannot read private key {path}: {reason}")]
    Key { path: PathBuf, reason: String },
    #[error("certificate {certificate} and key {key} do not go together: {reason}")]
    Mismatch { certificate: PathBuf, key: PathBuf, reason: String },
    #[error("cannot generate a certificate for {name:?}: {reason}")]
    Generate { name: String, reason: String },
}

/// Builds the server configuration from PEM files: TLS 1.2 and 1.3 only (rustls' safe
/// defaults), no client certificates.
pub fn load_server_config(certificate: &Path, key: &Path) -> Result<rustls::ServerConfig, CertError> {
    let chain: Vec<CertificateDer<'static>> = CertificateDer::pem_file_iter(certificate)
        .and_then(|iter| iter.collect())
        .map_err(|e| CertError::Chain { path: certificate.into(), reason: e.to_string() })?;
    if chain.is_empty() {
        return Err(CertError::EmptyChain { path: certificate.into() });
    }
    let private =
        PrivateKeyDer::from_pem_file(key).map_err(|e| CertError::Key { path: key.into(), reason: e.to_string() })?;
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .and_then(|b| b.with_no_client_auth().with_single_cert(chain, private))
        .map_err(|e| CertError::Mismatch { certificate: certificate.into(), key: key.into(), reason: e.to_string() })
}

/// A self-signed certificate for `name` and its key, both PEM.
pub fn generate_self_signed(name: &str) -> Result<(String, String), CertError> {
    let failed = |e: rcgen::Error| CertError::Generate { name: name.to_string(), reason: e.to_string() };
    let certified = rcgen::generate_simple_self_signed(vec![name.to_string()]).map_err(failed)?;
    Ok((certified.cert.pem(), certified.key_pair.serialize_pem()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generated_pair_loads_and_mismatches_are_refused() {
        let dir = tempfile::tempdir().unwrap();
        let (cert, key) = generate_self_signed("mx.example.test").unwrap();
        let (_, other_key) = generate_self_signed("other.example.test").unwrap();
        let write = |name: &str, text: &str| {
            let path = dir.path().join(name);
            std::fs::write(&path, text).unwrap();
            path
        };
        let (c, k, k2) = (write("c.pem", &cert), write("k.pem", &key), write("k2.pem", &other_key));
        assert!(load_server_config(&c, &k).is_ok());
        assert!(matches!(load_server_config(&c, &k2), Err(CertError::Mismatch { .. })));
        assert!(matches!(load_server_config(&k, &k), Err(CertError::EmptyChain { .. })));
        assert!(matches!(load_server_config(&c, &c), Err(CertError::Key { .. })));
        assert!(matches!(load_server_config(&dir.path().join("none"), &k), Err(CertError::Chain { .. })));
    }
}
