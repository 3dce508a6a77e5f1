//! A recording SMTP sink for outbound tests: std threads on a loopback address, with the
//! faults tests need (temporary / permanent refusals, a recipient limit, slow replies), an
//! optional STARTTLS (rustls), and a record of every connection and message so limits can be
//! checked.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use rustls::pki_types::{PrivateKeyDer, PrivatePkcs8KeyDer};
use rustls::{ServerConfig, ServerConnection, StreamOwned};

/// A server configuration with a fresh self-signed certificate for `sink.test`.
pub fn tls_config() -> Arc<ServerConfig> {
    let certified = rcgen::generate_simple_self_signed(vec!["sink.test".to_string()]).unwrap();
    let key = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(certified.key_pair.serialize_der()));
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let config = ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_no_client_auth()
        .with_single_cert(vec![certified.cert.der().clone()], key)
        .unwrap();
    Arc::new(config)
}

/// How the sink answers.
#[derive(Debug, Clone, Default)]
pub struct Behaviour {
    /// `452 4.5.3` to every RCPT after this many in one transaction.
    pub max_recipients: Option<usize>,
    /// Recipients (exact address) refused with `550 5.1.1`.
    pub unknown: Vec<String>,
    /// Answer the end of data with `451 4.3.0` for the first N messages.
    pub tempfail_first: usize,
    /// Wait this long before answering the end of data.
    pub data_delay: Duration,
    /// Do not offer PIPELINING.
    pub no_pipelining: bool,
    /// Offer STARTTLS with this configuration.
    pub tls: Option<Arc<ServerConfig>>,
    /// Offer AUTH PLAIN and accept exactly this user name and password.
    pub auth: Option<(String, String)>,
    /// Hold every greeting until this is set, so a test can let mail queue up first.
    pub greeting_gate: Option<Arc<AtomicBool>>,
}

/// One message as received.
#[derive(Debug, Clone)]
pub struct Received {
    pub connection: usize,
    pub from: String,
    pub to: Vec<String>,
    pub data: String,
    /// The message came over TLS.
    pub tls: bool,
    /// The user name the client authenticated as.
    pub user: Option<String>,
}

#[derive(Debug, Default)]
pub struct Record {
    pub messages: Vec<Received>,
    pub connections: usize,
    pub open: usize,
    pub peak_open: usize,
    /// Messages accepted per connection, by connection number.
    pub per_connection: Vec<usize>,
    /// The last command line each connection sent (for diagnostics).
    pub last_command: Vec<String>,
    pub tempfailed: usize,
}

pub struct Sink {
    pub addr: SocketAddr,
    pub record: Arc<Mutex<Record>>,
    stop: Arc<AtomicBool>,
}

impl Sink {
    /// Listens on `ip:port` (port 0 = any).
    pub fn start(ip: &str, port: u16, behaviour: Behaviour) -> Sink {
        let listener = TcpListener::bind((ip, port)).unwrap();
        listener.set_nonblocking(true).unwrap();
        let addr = listener.local_addr().unwrap();
        let record = Arc::new(Mutex::new(Record::default()));
        let stop = Arc::new(AtomicBool::new(false));
        let (rec, st) = (record.clone(), stop.clone());
        std::thread::spawn(move || accept_loop(listener, behaviour, rec, st));
        Sink { addr, record, stop }
    }

    pub fn messages(&self) -> Vec<Received> {
        self.record.lock().unwrap().messages.clone()
    }

    pub fn count(&self) -> usize {
        self.record.lock().unwrap().messages.len()
    }
}

impl Drop for Sink {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
    }
}

fn accept_loop(listener: TcpListener, behaviour: Behaviour, record: Arc<Mutex<Record>>, stop: Arc<AtomicBool>) {
    while !stop.load(Ordering::SeqCst) {
        match listener.accept() {
            Ok((stream, _)) => {
                let n = {
                    let mut r = record.lock().unwrap();
                    r.connections += 1;
                    r.open += 1;
                    r.peak_open = r.peak_open.max(r.open);
                    r.per_connection.push(0);
                    r.last_command.push(String::new());
                    r.connections - 1
                };
                let (b, rec) = (behaviour.clone(), record.clone());
                std::thread::spawn(move || {
                    // A QUIT closes the count before the 221 is sent, so a client that waits
                    // for it can never be seen with one connection too many.
                    if !matches!(serve(stream, n, &b, &rec), Ok(true)) {
                        rec.lock().unwrap().open -= 1;
                    }
                });
            }
            Err(_) => std::thread::sleep(Duration::from_millis(5)),
        }
    }
}

/// One connection's stream, in clear or encrypted after STARTTLS.
enum Conn {
    Plain(TcpStream),
    Tls(Box<StreamOwned<ServerConnection, TcpStream>>),
}

impl Read for Conn {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        match self {
            Conn::Plain(s) => s.read(buf),
            Conn::Tls(s) => s.read(buf),
        }
    }
}

impl Write for Conn {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        match self {
            Conn::Plain(s) => s.write(buf),
            Conn::Tls(s) => s.write(buf),
        }
    }

    fn flush(&mut self) -> std::io::Result<()> {
        match self {
            Conn::Plain(s) => s.flush(),
            Conn::Tls(s) => s.flush(),
        }
    }
}

/// The encrypted stream after `220` to STARTTLS; what was buffered in clear is dropped.
fn starttls(reader: BufReader<Conn>, config: &Arc<ServerConfig>) -> std::io::Result<BufReader<Conn>> {
    let Conn::Plain(tcp) = reader.into_inner() else { return Err(std::io::ErrorKind::InvalidInput.into()) };
    let conn = ServerConnection::new(config.clone()).map_err(std::io::Error::other)?;
    Ok(BufReader::new(Conn::Tls(Box::new(StreamOwned::new(conn, tcp)))))
}

/// Serves one connection; `Ok(true)` when it ended with QUIT (already uncounted).
fn serve(stream: TcpStream, conn: usize, b: &Behaviour, record: &Mutex<Record>) -> std::io::Result<bool> {
    stream.set_nonblocking(false)?;
    stream.set_read_timeout(Some(Duration::from_secs(30)))?;
    let mut reader = BufReader::new(Conn::Plain(stream));
    while b.greeting_gate.as_ref().is_some_and(|gate| !gate.load(Ordering::SeqCst)) {
        std::thread::sleep(Duration::from_millis(5));
    }
    reader.get_mut().write_all(b"220 sink.test ESMTP\r\n")?;
    let (mut from, mut to) = (String::new(), Vec::<String>::new());
    let mut tls = false;
    let mut user: Option<String> = None;
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line)? == 0 {
            return Ok(false);
        }
        record.lock().unwrap().last_command[conn] = line.trim_end().to_string();
        let upper = line.to_ascii_uppercase();
        let reply: String = if upper.starts_with("EHLO") {
            let pipelining = if b.no_pipelining { "" } else { "250-PIPELINING\r\n" };
            let starttls = if b.tls.is_some() && !tls { "250-STARTTLS\r\n" } else { "" };
            let auth = if b.auth.is_some() { "250-AUTH PLAIN\r\n" } else { "" };
            format!("250-sink.test\r\n{pipelining}{starttls}{auth}250-8BITMIME\r\n250 SIZE 100000000\r\n")
        } else if let (true, Some((name, password))) = (upper.starts_with("AUTH PLAIN "), &b.auth) {
            use base64::Engine;
            let given = base64::engine::general_purpose::STANDARD.decode(line[11..].trim()).unwrap_or_default();
            if given == format!("\0{name}\0{password}").as_bytes() {
                user = Some(name.clone());
                "235 2.7.0 authenticated\r\n".into()
            } else {
                "535 5.7.8 authentication failed\r\n".into()
            }
        } else if let (true, Some(config), false) = (upper.starts_with("STARTTLS"), &b.tls, tls) {
            reader.get_mut().write_all(b"220 2.0.0 ready\r\n")?;
            reader = starttls(reader, config)?;
            (tls, from, to) = (true, String::new(), Vec::new());
            continue;
        } else if upper.starts_with("HELO") || upper.starts_with("RSET") || upper.starts_with("NOOP") {
            from.clear();
            to.clear();
            "250 2.0.0 ok\r\n".into()
        } else if upper.starts_with("MAIL FROM:") {
            from = path(&line);
            to.clear();
            "250 2.1.0 ok\r\n".into()
        } else if upper.starts_with("RCPT TO:") {
            let rcpt = path(&line);
            if b.max_recipients.is_some_and(|max| to.len() >= max) {
                "452 4.5.3 too many recipients\r\n".into()
            } else if b.unknown.contains(&rcpt) {
                "550 5.1.1 no such user\r\n".into()
            } else {
                to.push(rcpt);
                "250 2.1.5 ok\r\n".into()
            }
        } else if upper.starts_with("DATA") {
            if to.is_empty() {
                "554 5.5.1 no valid recipients\r\n".into()
            } else {
                reader.get_mut().write_all(b"354 go ahead\r\n")?;
                let data = read_data(&mut reader)?;
                std::thread::sleep(b.data_delay);
                let mut r = record.lock().unwrap();
                if r.tempfailed < b.tempfail_first {
                    r.tempfailed += 1;
                    "451 4.3.0 try again later\r\n".into()
                } else {
                    r.per_connection[conn] += 1;
                    let (from, to) = (from.clone(), to.clone());
                    r.messages.push(Received { connection: conn, from, to, data, tls, user: user.clone() });
                    "250 2.0.0 queued\r\n".into()
                }
            }
        } else if upper.starts_with("QUIT") {
            record.lock().unwrap().open -= 1;
            let _ = reader.get_mut().write_all(b"221 2.0.0 bye\r\n");
            return Ok(true);
        } else {
            "500 5.5.1 unknown\r\n".into()
        };
        reader.get_mut().write_all(reply.as_bytes())?;
    }
}

fn path(line: &str) -> String {
    let start = line.find('<').map_or(0, |i| i + 1);
    let end = line[start..].find('>').map_or(line.len(), |i| start + i);
    line[start..end].to_string()
}

/// Reads up to `CRLF.CRLF`; returns the data without the final `.\r\n`, still dot-stuffed.
fn read_data(reader: &mut impl BufRead) -> std::io::Result<String> {
    let mut data = Vec::new();
    loop {
        let mut line = Vec::new();
        if reader.read_until(b'\n', &mut line)? == 0 {
            return Err(std::io::ErrorKind::UnexpectedEof.into());
        }
        if line == b".\r\n" {
            return Ok(String::from_utf8_lossy(&data).into_owned());
        }
        data.extend_from_slice(&line);
    }
}

/// Delivery settings that send `far.test` to the sink at `sink_addr` (DNS from `dns`), retrying
/// every second, with `delivery` (more `[delivery]` keys) added.
pub fn routed(dns: &tern::dns::Responder, sink_addr: SocketAddr, delivery: &str) -> String {
    format!(
        "[delivery]\ndns_servers = [\"{}\"]\nretry_intervals = [\"1s\"]\nsubsequent_retry_interval = \"1s\"\n\
         {delivery}\n[[domain]]\nname = \"far.test\"\nkind = \"remote\"\nallow_relay = true\nroute_to = \"[{}]:{}\"\n",
        dns.addr(),
        sink_addr.ip(),
        sink_addr.port()
    )
}
