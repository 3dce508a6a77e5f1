//! The byte stream under both the client and the sink: plain glommio TCP, or TLS over it after
//! STARTTLS (rustls with the ring provider), plus the TLS configurations the load generator
//! needs (a fresh self-signed certificate for the sink; a client that accepts any certificate,
//! since a load generator measures and does not authenticate).

use std::io;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use futures_lite::{AsyncRead, AsyncWrite};
use glommio::net::TcpStream;
use rustls::pki_types::{PrivateKeyDer, PrivatePkcs8KeyDer, ServerName};
use rustls::{ClientConfig, ServerConfig};
use tern::outbound::client::{TlsPolicy, Verify};

/// A glommio TCP stream, encrypted or not.
pub enum Stream {
    Plain(TcpStream),
    Client(Box<futures_rustls::client::TlsStream<TcpStream>>),
    Server(Box<futures_rustls::server::TlsStream<TcpStream>>),
    /// Only while an upgrade is under way.
    Gone,
}

fn gone() -> io::Error {
    io::Error::new(io::ErrorKind::NotConnected, "stream given up during a TLS upgrade")
}

impl Stream {
    /// Replaces a plain stream with TLS as the client.
    pub async fn connect_tls(&mut self, config: Arc<ClientConfig>) -> io::Result<()> {
        let Stream::Plain(tcp) = std::mem::replace(self, Stream::Gone) else { return Err(gone()) };
        let name = ServerName::try_from("loadgen.test").expect("a valid name");
        let tls = futures_rustls::TlsConnector::from(config).connect(name, tcp).await?;
        *self = Stream::Client(Box::new(tls));
        Ok(())
    }

    /// Replaces a plain stream with TLS as the server.
    pub async fn accept_tls(&mut self, config: Arc<ServerConfig>) -> io::Result<()> {
        let Stream::Plain(tcp) = std::mem::replace(self, Stream::Gone) else { return Err(gone()) };
        let tls = futures_rustls::TlsAcceptor::from(config).accept(tcp).await?;
        *self = Stream::Server(Box::new(tls));
        Ok(())
    }
}

macro_rules! each {
    ($self:ident, $s:ident => $e:expr) => {
        match $self.get_mut() {
            Stream::Plain($s) => $e,
            Stream::Client($s) => {
                let $s = $s.as_mut();
                $e
            }
            Stream::Server($s) => {
                let $s = $s.as_mut();
                $e
            }
            Stream::Gone => Poll::Ready(Err(gone())),
        }
    };
}

impl AsyncRead for Stream {
    fn poll_read(self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &mut [u8]) -> Poll<io::Result<usize>> {
        each!(self, s => Pin::new(s).poll_read(cx, buf))
    }
}

impl AsyncWrite for Stream {
    fn poll_write(self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &[u8]) -> Poll<io::Result<usize>> {
        each!(self, s => Pin::new(s).poll_write(cx, buf))
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        each!(self, s => Pin::new(s).poll_flush(cx))
    }

    fn poll_close(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        each!(self, s => Pin::new(s).poll_close(cx))
    }
}

fn provider() -> Arc<rustls::crypto::CryptoProvider> {
    Arc::new(rustls::crypto::ring::default_provider())
}

/// A server configuration with a fresh self-signed certificate for `name`.
pub fn server_config(name: &str) -> Result<Arc<ServerConfig>, String> {
    let certified = rcgen::generate_simple_self_signed(vec![name.to_string()]).map_err(|e| e.to_string())?;
    let key = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(certified.key_pair.serialize_der()));
    let config = ServerConfig::builder_with_provider(provider())
        .with_safe_default_protocol_versions()
        .map_err(|e| e.to_string())?
        .with_no_client_auth()
        .with_single_cert(vec![certified.cert.der().clone()], key)
        .map_err(|e| e.to_string())?;
    Ok(Arc::new(config))
}

/// A client configuration that accepts any certificate (handshake signatures are still
/// checked): tern's own outbound `Verify::None` policy.
pub fn client_config() -> Arc<ClientConfig> {
    TlsPolicy::new(false, Verify::None).config()
}
