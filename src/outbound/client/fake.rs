//! A scripted SMTP server on a std thread for the client's end-to-end tests: it reads and
//! answers as told (STARTTLS included, with a rustls server) and records exactly what it
//! received, when, and from which line on it was encrypted.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::Duration;

use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};
use rustls::{RootCertStore, ServerConfig, ServerConnection, StreamOwned};

/// How long the fake waits for the client before it gives up (the test then fails on its record).
const PATIENCE: Duration = Duration::from_secs(5);

/// One step of the server's script.
#[derive(Clone)]
pub(super) enum Act {
    /// Write these bytes.
    Say(&'static str),
    /// Read this many command lines.
    Lines(usize),
    /// Read a message body up to and including its `.\r\n` line.
    Data,
    /// Say nothing; read until the client closes.
    WaitClose,
    /// Do the server side of a TLS handshake; everything after it is encrypted.
    Tls(Arc<ServerConfig>),
}

/// A self-signed certificate for `mx.test` and `127.0.0.1`: the server's configuration and a
/// root store that trusts it.
pub(super) fn tls_pair() -> (Arc<ServerConfig>, Arc<RootCertStore>) {
    let names = vec!["mx.test".to_string(), "127.0.0.1".to_string()];
    let certified = rcgen::generate_simple_self_signed(names).expect("certificate");
    let cert: CertificateDer<'static> = certified.cert.der().clone();
    let key = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(certified.key_pair.serialize_der()));
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let config = ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .expect("versions")
        .with_no_client_auth()
        .with_single_cert(vec![cert.clone()], key)
        .expect("server config");
    let mut roots = RootCertStore::empty();
    roots.add(cert).expect("root");
    (Arc::new(config), Arc::new(roots))
}

/// The fake's side of the connection, encrypted or not.
trait Io: Read + Write + Send {}
impl<T: Read + Write + Send> Io for T {}

/// When a line's last byte arrived.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Arrival {
    /// How many `Say` steps had been written.
    pub says: usize,
    /// Which `read` call brought it (0 = the first).
    pub read: usize,
}

/// Everything the server received.
#[derive(Debug, Default)]
pub(super) struct Transcript {
    /// Command lines without their CRLF.
    pub lines: Vec<(String, Arrival)>,
    /// Message bodies, each with its final `.\r\n`.
    pub data: Vec<Vec<u8>>,
    /// Bytes received after the script ended, until the client closed.
    pub trailing: Vec<u8>,
    /// How many lines had arrived when the TLS handshake completed (`None`: never).
    pub tls_from: Option<usize>,
}

impl Transcript {
    pub fn commands(&self) -> Vec<&str> {
        self.lines.iter().map(|(line, _)| line.as_str()).collect()
    }
}

pub(super) struct Fake {
    pub addr: SocketAddr,
    thread: JoinHandle<Transcript>,
}

impl Fake {
    /// Listens on 127.0.0.1 and serves one connection with `script`.
    pub fn start(script: Vec<Act>) -> Fake {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
        let addr = listener.local_addr().expect("addr");
        let thread = std::thread::spawn(move || {
            let (tcp, _) = listener.accept().expect("accept");
            tcp.set_read_timeout(Some(PATIENCE)).expect("timeout");
            let stream = Box::new(tcp.try_clone().expect("clone"));
            let t = Transcript::default();
            let mut peer = Peer { tcp, stream, pending: Vec::new(), base: 0, marks: Vec::new(), says: 0, t };
            peer.play(script);
            peer.t
        });
        Fake { addr, thread }
    }

    /// Waits for the connection to end and returns what was received.
    pub fn finish(self) -> Transcript {
        self.thread.join().expect("fake server")
    }
}

struct Peer {
    tcp: TcpStream,
    stream: Box<dyn Io>,
    pending: Vec<u8>,
    /// Stream offset of `pending[0]`.
    base: usize,
    /// Per read call: the stream offset it ended at and the `Say` count then.
    marks: Vec<(usize, usize)>,
    says: usize,
    t: Transcript,
}

impl Peer {
    fn play(&mut self, script: Vec<Act>) {
        for act in script {
            let done = match act {
                Act::Say(text) => {
                    self.says += 1;
                    self.stream.write_all(text.as_bytes()).is_ok()
                }
                Act::Lines(n) => (0..n).all(|_| self.line()),
                Act::Data => self.data(),
                Act::WaitClose => false,
                Act::Tls(config) => self.tls(config),
            };
            if !done {
                break;
            }
        }
        while self.fill() {}
        self.t.trailing = std::mem::take(&mut self.pending);
    }

    /// Replaces the stream with a TLS one once the handshake is done; false when it failed.
    fn tls(&mut self, config: Arc<ServerConfig>) -> bool {
        assert!(self.pending.is_empty(), "the client sent bytes before the handshake");
        let (Ok(mut conn), Ok(mut tcp)) = (ServerConnection::new(config), self.tcp.try_clone()) else { return false };
        while conn.is_handshaking() {
            if conn.complete_io(&mut tcp).is_err() {
                return false;
            }
        }
        self.stream = Box::new(StreamOwned::new(conn, tcp));
        self.t.tls_from = Some(self.t.lines.len());
        true
    }

    fn line(&mut self) -> bool {
        loop {
            if let Some(lf) = self.pending.iter().position(|&b| b == b'\n') {
                let arrival = self.arrival(self.base + lf);
                let raw: Vec<u8> = self.pending.drain(..=lf).collect();
                self.base += lf + 1;
                let text = String::from_utf8_lossy(&raw).trim_end_matches(['\r', '\n']).to_owned();
                self.t.lines.push((text, arrival));
                return true;
            }
            if !self.fill() {
                return false;
            }
        }
    }

    fn data(&mut self) -> bool {
        loop {
            let end = if self.pending.starts_with(b".\r\n") {
                Some(3)
            } else {
                self.pending.windows(5).position(|w| w == b"\r\n.\r\n").map(|i| i + 5)
            };
            if let Some(end) = end {
                self.t.data.push(self.pending.drain(..end).collect());
                self.base += end;
                return true;
            }
            if !self.fill() {
                return false;
            }
        }
    }

    fn arrival(&self, offset: usize) -> Arrival {
        let read = self.marks.iter().position(|&(end, _)| end > offset).expect("byte was read");
        Arrival { says: self.marks[read].1, read }
    }

    fn fill(&mut self) -> bool {
        let mut chunk = [0u8; 64 * 1024];
        match self.stream.read(&mut chunk) {
            Ok(0) | Err(_) => false,
            Ok(n) => {
                self.pending.extend_from_slice(&chunk[..n]);
                self.marks.push((self.base + self.pending.len(), self.says));
                true
            }
        }
    }
}
