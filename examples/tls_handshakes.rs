//! Load for `scripts/bench-tls.sh`: STARTTLS handshakes per second, or messages per second
//! with and without STARTTLS, against a tern on loopback. Blocking threads, rustls (ring).
//!
//! `cargo run --release --example tls_handshakes -- --addr 127.0.0.62:25972 --ca cert.pem
//!  --name bench.tern.test --mode handshakes --threads 4 --seconds 5`

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use clap::{Parser, ValueEnum};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, ServerName};
use rustls::{ClientConfig, ClientConnection, RootCertStore, StreamOwned};

#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
enum Mode {
    /// Connect, EHLO, STARTTLS, handshake, EHLO, QUIT; repeat.
    Handshakes,
    /// One connection per thread, STARTTLS once, then messages back to back.
    Tls,
    /// Like `tls` without STARTTLS.
    Plain,
}

#[derive(Parser)]
struct Args {
    #[arg(long)]
    addr: SocketAddr,
    /// The certificate to trust (tern's, PEM).
    #[arg(long)]
    ca: PathBuf,
    /// The name on the certificate.
    #[arg(long)]
    name: String,
    #[arg(long, value_enum)]
    mode: Mode,
    #[arg(long, default_value_t = 4)]
    threads: usize,
    #[arg(long, default_value_t = 5)]
    seconds: u64,
    /// Message body size in bytes.
    #[arg(long, default_value_t = 4096)]
    size: usize,
    #[arg(long, default_value = "rcpt@remote.example")]
    to: String,
}

enum Io {
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

/// What every thread shares.
struct Setup {
    args: Args,
    config: Arc<ClientConfig>,
    name: ServerName<'static>,
    message: Vec<u8>,
}

struct Client {
    reader: BufReader<Io>,
}

impl Client {
    fn connect(addr: SocketAddr) -> std::io::Result<Client> {
        let tcp = TcpStream::connect(addr)?;
        tcp.set_nodelay(true)?;
        let mut client = Client { reader: BufReader::new(Io::Plain(tcp)) };
        client.expect(b"220")?;
        Ok(client)
    }

    fn cmd(&mut self, line: &[u8], code: &[u8]) -> std::io::Result<()> {
        self.reader.get_mut().write_all(line)?;
        self.reader.get_mut().flush()?;
        self.expect(code)
    }

    fn expect(&mut self, code: &[u8]) -> std::io::Result<()> {
        let mut line = Vec::new();
        loop {
            line.clear();
            self.reader.read_until(b'\n', &mut line)?;
            if !line.starts_with(code) {
                let text = String::from_utf8_lossy(&line).into_owned();
                return Err(std::io::Error::other(format!("expected {:?}, got {text:?}", code)));
            }
            if line.get(3) != Some(&b'-') {
                return Ok(());
            }
        }
    }

    /// EHLO, STARTTLS, the handshake, EHLO again.
    fn starttls(self, setup: &Setup) -> std::io::Result<Client> {
        let mut client = self;
        client.cmd(b"EHLO bench.client\r\n", b"250")?;
        client.cmd(b"STARTTLS\r\n", b"220")?;
        let Io::Plain(mut tcp) = client.reader.into_inner() else {
            return Err(std::io::Error::other("already TLS"));
        };
        let mut conn =
            ClientConnection::new(setup.config.clone(), setup.name.clone()).map_err(std::io::Error::other)?;
        while conn.is_handshaking() {
            conn.complete_io(&mut tcp)?;
        }
        let mut client = Client { reader: BufReader::new(Io::Tls(Box::new(StreamOwned::new(conn, tcp)))) };
        client.cmd(b"EHLO bench.client\r\n", b"250")?;
        Ok(client)
    }

    fn send(&mut self, setup: &Setup) -> std::io::Result<()> {
        self.cmd(b"MAIL FROM:<bench@sender.test>\r\n", b"250")?;
        self.cmd(format!("RCPT TO:<{}>\r\n", setup.args.to).as_bytes(), b"250")?;
        self.cmd(b"DATA\r\n", b"354")?;
        self.cmd(&setup.message, b"250")
    }
}

/// One thread's loop until `stop`; counts handshakes or messages.
fn work(setup: &Setup, stop: &AtomicBool, done: &AtomicU64) -> std::io::Result<()> {
    let addr = setup.args.addr;
    match setup.args.mode {
        Mode::Handshakes => {
            while !stop.load(Ordering::Relaxed) {
                let mut client = Client::connect(addr)?.starttls(setup)?;
                client.cmd(b"QUIT\r\n", b"221")?;
                done.fetch_add(1, Ordering::Relaxed);
            }
        }
        Mode::Tls | Mode::Plain => {
            let mut client = Client::connect(addr)?;
            if setup.args.mode == Mode::Tls {
                client = client.starttls(setup)?;
            } else {
                client.cmd(b"EHLO bench.client\r\n", b"250")?;
            }
            while !stop.load(Ordering::Relaxed) {
                client.send(setup)?;
                done.fetch_add(1, Ordering::Relaxed);
            }
            client.cmd(b"QUIT\r\n", b"221")?;
        }
    }
    Ok(())
}

fn message(size: usize) -> Vec<u8> {
    let mut body = b"Subject: bench\r\n\r\n".to_vec();
    while body.len() < size {
        body.extend_from_slice(b"0123456789abcdefghijklmnopqrstuvwxyz0123456789abcdefghijklmnopqrstuvwxyz\r\n");
    }
    body.extend_from_slice(b".\r\n");
    body
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args = Args::parse();
    let mut roots = RootCertStore::empty();
    for cert in CertificateDer::pem_file_iter(&args.ca)? {
        roots.add(cert?)?;
    }
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let config = ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()?
        .with_root_certificates(roots)
        .with_no_client_auth();
    let name = ServerName::try_from(args.name.clone())?;
    let setup = Arc::new(Setup { message: message(args.size), config: Arc::new(config), name, args });
    let stop = Arc::new(AtomicBool::new(false));
    let done = Arc::new(AtomicU64::new(0));
    let start = Instant::now();
    let threads: Vec<_> = (0..setup.args.threads)
        .map(|_| {
            let (setup, stop, done) = (setup.clone(), stop.clone(), done.clone());
            std::thread::spawn(move || work(&setup, &stop, &done))
        })
        .collect();
    std::thread::sleep(Duration::from_secs(setup.args.seconds));
    stop.store(true, Ordering::Relaxed);
    for thread in threads {
        thread.join().map_err(|_| "a thread panicked")??;
    }
    let elapsed = start.elapsed().as_secs_f64();
    let n = done.load(Ordering::Relaxed);
    let unit = if setup.args.mode == Mode::Handshakes { "handshakes" } else { "messages" };
    println!("{n} {unit} in {elapsed:.2} s: {:.0} {unit}/s", n as f64 / elapsed);
    Ok(())
}
