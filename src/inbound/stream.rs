//! The server side's byte stream: plain TCP, upgraded in place to TLS by STARTTLS.

use std::io;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use futures_lite::{AsyncRead, AsyncWrite};
use futures_rustls::server::TlsStream;
use futures_rustls::TlsAcceptor;
use glommio::net::TcpStream;
use rustls::ProtocolVersion;

use super::session::TlsInfo;

/// A glommio TCP stream, encrypted or not.
pub(super) enum Stream {
    Plain(TcpStream),
    Tls(Box<TlsStream<TcpStream>>),
    /// During the handshake (which owns the TCP stream), and after a failed one.
    Gone,
}

impl Stream {
    /// Runs the server handshake over the plain stream and becomes the TLS stream.
    ///
    /// TLS writes a flight as several records (glommio has no vectored write), so Nagle's
    /// algorithm would hold the later ones for the client's delayed ACK (about 40 ms per round
    /// trip, measured: 23 handshakes/s): a TLS connection sends without delay.
    pub async fn upgrade(&mut self, config: Arc<rustls::ServerConfig>) -> io::Result<TlsInfo> {
        let Stream::Plain(tcp) = std::mem::replace(self, Stream::Gone) else {
            return Err(io::Error::new(io::ErrorKind::InvalidInput, "STARTTLS on a stream that is not plain"));
        };
        tcp.set_nodelay(true)?;
        let tls = TlsAcceptor::from(config).accept(tcp).await?;
        let session = tls.get_ref().1;
        let version = match session.protocol_version() {
            Some(ProtocolVersion::TLSv1_3) => "TLSv1.3".to_string(),
            Some(ProtocolVersion::TLSv1_2) => "TLSv1.2".to_string(),
            other => format!("{other:?}"),
        };
        let cipher = session.negotiated_cipher_suite().map_or_else(String::new, |s| {
            let suite = s.suite();
            suite.as_str().map_or_else(|| format!("{suite:?}"), str::to_string)
        });
        *self = Stream::Tls(Box::new(tls));
        Ok(TlsInfo { version, cipher })
    }
}

fn gone() -> io::Error {
    io::Error::new(io::ErrorKind::NotConnected, "the TLS handshake failed")
}

impl AsyncRead for Stream {
    fn poll_read(self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &mut [u8]) -> Poll<io::Result<usize>> {
        match self.get_mut() {
            Stream::Plain(tcp) => Pin::new(tcp).poll_read(cx, buf),
            Stream::Tls(tls) => Pin::new(tls.as_mut()).poll_read(cx, buf),
            Stream::Gone => Poll::Ready(Err(gone())),
        }
    }
}

impl AsyncWrite for Stream {
    fn poll_write(self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &[u8]) -> Poll<io::Result<usize>> {
        match self.get_mut() {
            Stream::Plain(tcp) => Pin::new(tcp).poll_write(cx, buf),
            Stream::Tls(tls) => Pin::new(tls.as_mut()).poll_write(cx, buf),
            Stream::Gone => Poll::Ready(Err(gone())),
        }
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        match self.get_mut() {
            Stream::Plain(tcp) => Pin::new(tcp).poll_flush(cx),
            Stream::Tls(tls) => Pin::new(tls.as_mut()).poll_flush(cx),
            Stream::Gone => Poll::Ready(Err(gone())),
        }
    }

    fn poll_close(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        match self.get_mut() {
            Stream::Plain(tcp) => Pin::new(tcp).poll_close(cx),
            Stream::Tls(tls) => Pin::new(tls.as_mut()).poll_close(cx),
            Stream::Gone => Poll::Ready(Ok(())),
        }
    }
}
