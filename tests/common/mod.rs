//! Test harness: starts the real `tern` binary on a random loopback address with a config
//! written to a temporary directory, talks raw SMTP to it, and scrapes `/metrics`.
#![allow(dead_code)]

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, Instant};

pub mod sink;
pub mod tls;

use tls::Io;

/// A one-shard config with `{data}`, `{ip}`, `{port}`, `{port2}`, `{admin}` placeholders,
/// plus `extra`.
pub fn base_config(extra: &str) -> String {
    config(1, extra)
}

/// Like [`base_config`] with `shards` shards. Unless `extra` has its own `[delivery]` table,
/// DNS goes to a closed port on loopback: a test never reaches the system resolver, and mail
/// for remote domains stays queued (temporary failures).
pub fn config(shards: usize, extra: &str) -> String {
    let delivery = if extra.contains("[delivery]") { "" } else { "[delivery]\ndns_servers = [\"127.0.0.1:9\"]\n" };
    format!(
        r#"
[server]
fqdn = "mx.tern.test"
default_domain = "tern.test"
data_dir = "{{data}}"
shards = {shards}

[[virtual_server]]
name = "main"
bind = ["{{ip}}:{{port}}"]

[admin]
listen = "{{ip}}:{{admin}}"
{delivery}{extra}
"#
    )
}

/// A unique 127.x.y.z address for this test process and call, so parallel tests never share
/// an address (listeners use SO_REUSEPORT).
pub fn unique_ip() -> String {
    static NEXT: AtomicU32 = AtomicU32::new(0);
    let n = NEXT.fetch_add(1, Ordering::SeqCst);
    let pid = std::process::id();
    let nanos = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().subsec_nanos();
    let mix = pid.wrapping_mul(2654435761) ^ nanos ^ n.wrapping_mul(40503);
    format!("127.{}.{}.{}", 1 + (mix >> 16) % 250, (mix >> 8) % 256, 2 + (mix % 250))
}

pub fn free_port(ip: &str) -> u16 {
    TcpListener::bind((ip, 0)).unwrap().local_addr().unwrap().port()
}

/// A running `tern serve` process.
pub struct Tern {
    pub dir: tempfile::TempDir,
    pub ip: String,
    pub port: u16,
    pub port2: u16,
    pub admin: u16,
    pub config_path: PathBuf,
    child: Option<Child>,
}

impl Tern {
    /// Starts tern with `template` (see [`base_config`]) and waits for its banner.
    pub fn start(template: &str) -> Tern {
        Tern::start_with(template, |_| {})
    }

    /// Like [`Tern::start`], letting the caller adjust the command (e.g. resource limits).
    pub fn start_with(template: &str, adjust: impl Fn(&mut Command)) -> Tern {
        let dir = tempfile::tempdir().unwrap();
        let ip = unique_ip();
        let (port, port2, admin) = (free_port(&ip), free_port(&ip), free_port(&ip));
        let config = template
            .replace("{data}", dir.path().join("data").to_str().unwrap())
            .replace("{ip}", &ip)
            .replace("{port}", &port.to_string())
            .replace("{port2}", &port2.to_string())
            .replace("{admin}", &admin.to_string());
        let config_path = dir.path().join("tern.toml");
        std::fs::write(&config_path, config).unwrap();
        let mut tern = Tern { dir, ip, port, port2, admin, config_path, child: None };
        tern.spawn(adjust);
        tern
    }

    fn spawn(&mut self, adjust: impl Fn(&mut Command)) {
        let log = std::fs::OpenOptions::new().create(true).append(true).open(self.log_path()).unwrap();
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_tern"));
        cmd.args(["serve", "--config"]).arg(&self.config_path).stdin(Stdio::null()).stdout(Stdio::null()).stderr(log);
        adjust(&mut cmd);
        self.child = Some(cmd.spawn().unwrap());
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            // A killed tern's listener lingers (and resets connections) until the kernel has
            // torn down its io_uring: only a banner counts.
            if let Ok(stream) = TcpStream::connect(self.addr()) {
                let mut banner = String::new();
                if BufReader::new(stream).read_line(&mut banner).is_ok() && !banner.is_empty() {
                    assert!(banner.starts_with("220 "), "banner {banner:?}:\n{}", self.log());
                    return;
                }
            }
            if let Some(status) = self.child.as_mut().unwrap().try_wait().unwrap() {
                panic!("tern exited at start ({status}):\n{}", self.log());
            }
            assert!(Instant::now() < deadline, "tern did not start:\n{}", self.log());
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    pub fn addr(&self) -> SocketAddr {
        format!("{}:{}", self.ip, self.port).parse().unwrap()
    }

    pub fn log_path(&self) -> PathBuf {
        self.dir.path().join("tern.log")
    }

    pub fn log(&self) -> String {
        std::fs::read_to_string(self.log_path()).unwrap_or_default()
    }

    pub fn data(&self) -> PathBuf {
        self.dir.path().join("data")
    }

    pub fn drop_dir(&self) -> PathBuf {
        self.data().join("drop")
    }

    pub fn connect(&self) -> Smtp {
        Smtp::connect(self.addr())
    }

    /// Kills the process with SIGKILL and waits for it.
    pub fn kill9(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// Sends SIGTERM and waits up to `limit`; returns the exit code.
    pub fn terminate(&mut self, limit: Duration) -> Option<i32> {
        let mut child = self.child.take().unwrap();
        // SAFETY: sending a signal to our own child process.
        unsafe { libc::kill(child.id() as i32, libc::SIGTERM) };
        let deadline = Instant::now() + limit;
        loop {
            if let Some(status) = child.try_wait().unwrap() {
                return status.code();
            }
            if Instant::now() > deadline {
                let _ = child.kill();
                let _ = child.wait();
                panic!("tern did not stop within {limit:?}:\n{}", self.log());
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// Sends `signal` (e.g. `libc::SIGHUP`) to the running process.
    pub fn signal(&self, signal: i32) {
        let child = self.child.as_ref().expect("tern is running");
        // SAFETY: sending a signal to our own child process.
        unsafe { libc::kill(child.id() as i32, signal) };
    }

    /// Starts the same configuration again (after `kill9` or `terminate`).
    pub fn restart(&mut self) {
        assert!(self.child.is_none(), "stop tern first");
        self.spawn(|_| {});
    }

    /// The raw `/metrics` text.
    pub fn metrics(&self) -> String {
        http_get(&format!("{}:{}", self.ip, self.admin), "/metrics")
    }

    /// The value of one sample, e.g. `tern_queue_messages` or
    /// `tern_messages_received_total{virtual_server="main"}`.
    pub fn metric(&self, sample: &str) -> f64 {
        let text = self.metrics();
        text.lines()
            .find_map(|l| l.strip_prefix(sample).and_then(|rest| rest.strip_prefix(' ')))
            .unwrap_or_else(|| panic!("no sample {sample} in:\n{text}"))
            .trim()
            .parse()
            .unwrap()
    }

    /// Waits until `sample` equals `value` (counters are updated asynchronously).
    pub fn wait_metric(&self, sample: &str, value: f64) {
        wait_until(
            Duration::from_secs(60),
            || self.metric(sample) == value,
            || format!("{sample} = {} (want {value})", self.metric(sample)),
        );
    }

    /// Files in the Drop directory named `*.eml`, sorted.
    pub fn drop_files(&self) -> Vec<PathBuf> {
        let mut files: Vec<PathBuf> = std::fs::read_dir(self.drop_dir())
            .map(|rd| rd.filter_map(|e| e.ok()).map(|e| e.path()).collect())
            .unwrap_or_default();
        files.retain(|p| p.extension().is_some_and(|e| e == "eml"));
        files.sort();
        files
    }
}

impl Drop for Tern {
    fn drop(&mut self) {
        self.kill9();
    }
}

pub fn wait_until(limit: Duration, mut ok: impl FnMut() -> bool, why: impl Fn() -> String) {
    let deadline = Instant::now() + limit;
    while !ok() {
        assert!(Instant::now() < deadline, "timed out: {}", why());
        std::thread::sleep(Duration::from_millis(20));
    }
}

pub fn http_get(addr: &str, path: &str) -> String {
    let mut stream = TcpStream::connect(addr).unwrap();
    write!(stream, "GET {path} HTTP/1.0\r\nHost: {addr}\r\n\r\n").unwrap();
    let mut text = String::new();
    stream.read_to_string(&mut text).unwrap();
    let (head, body) = text.split_once("\r\n\r\n").unwrap();
    assert!(head.starts_with("HTTP/1.") && head.contains(" 200 "), "{head}");
    body.to_string()
}

/// A raw SMTP client over a blocking socket (upgraded to TLS by [`Smtp::starttls`]).
pub struct Smtp {
    reader: BufReader<Io>,
}

impl Smtp {
    /// Connects and returns without reading the banner.
    pub fn connect_raw(addr: SocketAddr) -> Smtp {
        Smtp::from_stream(TcpStream::connect(addr).unwrap())
    }

    /// Connects from the loopback address `source` (any 127.0.0.0/8 address, or `::1`) and
    /// returns without reading the banner.
    pub fn connect_raw_from(addr: SocketAddr, source: &str) -> Smtp {
        let source: std::net::IpAddr = source.parse().unwrap();
        let domain = if source.is_ipv4() { socket2::Domain::IPV4 } else { socket2::Domain::IPV6 };
        let socket = socket2::Socket::new(domain, socket2::Type::STREAM, None).unwrap();
        socket.bind(&SocketAddr::new(source, 0).into()).unwrap();
        socket.connect(&addr.into()).unwrap();
        Smtp::from_stream(socket.into())
    }

    /// Like [`Smtp::connect_raw_from`], checking the 220 banner.
    pub fn connect_from(addr: SocketAddr, source: &str) -> Smtp {
        let mut smtp = Smtp::connect_raw_from(addr, source);
        let banner = smtp.read_reply();
        assert!(banner.starts_with("220 "), "{banner}");
        smtp
    }

    /// Reads everything up to EOF: what the server sent before it closed the connection.
    pub fn read_to_close(&mut self) -> String {
        let mut rest = String::new();
        let _ = self.reader.read_to_string(&mut rest);
        rest
    }

    /// Connects and checks the 220 banner.
    pub fn connect(addr: SocketAddr) -> Smtp {
        let mut smtp = Smtp::connect_raw(addr);
        let banner = smtp.read_reply();
        assert!(banner.starts_with("220 "), "{banner}");
        smtp
    }

    pub fn from_stream(stream: TcpStream) -> Smtp {
        stream.set_read_timeout(Some(Duration::from_secs(20))).unwrap();
        Smtp { reader: BufReader::new(Io::Plain(stream)) }
    }

    pub fn send(&mut self, bytes: impl AsRef<[u8]>) {
        let io = self.reader.get_mut();
        io.write_all(bytes.as_ref()).unwrap();
        io.flush().unwrap();
    }

    /// Reads one (possibly multi-line) reply; lines joined with `\n`, CRLF removed.
    pub fn read_reply(&mut self) -> String {
        let mut lines = Vec::new();
        loop {
            let mut line = String::new();
            let n = self.reader.read_line(&mut line).unwrap();
            assert!(n > 0, "connection closed after {lines:?}");
            assert!(line.ends_with("\r\n"), "reply line without CRLF: {line:?}");
            let line = line.trim_end_matches("\r\n").to_string();
            let last = line.as_bytes().get(3) != Some(&b'-');
            lines.push(line);
            if last {
                return lines.join("\n");
            }
        }
    }

    /// Sends `line` + CRLF and asserts the reply code; returns the reply.
    pub fn cmd(&mut self, line: &str, code: u16) -> String {
        self.send(format!("{line}\r\n"));
        self.expect(code)
    }

    /// Reads a reply and asserts its code.
    pub fn expect(&mut self, code: u16) -> String {
        let reply = self.read_reply();
        assert!(reply.starts_with(&code.to_string()), "expected {code}, got {reply:?}");
        reply
    }

    /// True when the server has closed the connection (reads EOF).
    pub fn is_closed(&mut self) -> bool {
        let mut buf = [0u8; 1];
        matches!(self.reader.read(&mut buf), Ok(0) | Err(_))
    }

    /// EHLO, MAIL, RCPT..., DATA, body (already dot-stuffed, ending in CRLF), `.`; returns the
    /// final reply.
    pub fn send_message(&mut self, from: &str, to: &[&str], body: &str) -> String {
        self.cmd(&format!("MAIL FROM:<{from}>"), 250);
        for rcpt in to {
            self.cmd(&format!("RCPT TO:<{rcpt}>"), 250);
        }
        self.cmd("DATA", 354);
        self.send(format!("{body}.\r\n"));
        self.read_reply()
    }
}

/// Reads a file to a string.
pub fn read(path: &Path) -> String {
    String::from_utf8(std::fs::read(path).unwrap()).unwrap()
}
