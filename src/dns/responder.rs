//! An authoritative DNS responder on std threads (UDP and TCP, one address) for tests and loadgen.

use std::collections::HashMap;
use std::io::{self, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream, UdpSocket};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use hickory_proto::op::Message;

use super::mx::normalize;
use super::wire;
use super::Zone;

/// How often the threads look at the stop flag.
const POLL: Duration = Duration::from_millis(50);
/// A TCP client silent this long is dropped.
const TCP_IDLE: Duration = Duration::from_secs(2);
/// UDP reply size without EDNS (RFC 1035).
const CLASSIC_UDP_LIMIT: usize = 512;
/// Tries to find a port free for both UDP and TCP when the caller lets the system choose.
const BIND_TRIES: usize = 16;

/// A running responder; it stops (and its threads exit) when dropped.
pub struct Responder {
    addr: SocketAddr,
    shared: Arc<Shared>,
    threads: Vec<JoinHandle<()>>,
}

struct Shared {
    zone: Mutex<Zone>,
    queries: Mutex<HashMap<String, usize>>,
    stop: AtomicBool,
}

impl Responder {
    /// Starts answering from `zone` on 127.0.0.1 on a port free for both UDP and TCP.
    pub fn start(zone: Zone) -> io::Result<Responder> {
        Responder::start_on(SocketAddr::from(([127, 0, 0, 1], 0)), zone)
    }

    /// Starts answering from `zone` on `addr` (UDP and TCP); port 0 picks a free port.
    pub fn start_on(addr: SocketAddr, zone: Zone) -> io::Result<Responder> {
        let (udp, tcp) = bind_pair(addr)?;
        let addr = udp.local_addr()?;
        udp.set_read_timeout(Some(POLL))?;
        tcp.set_nonblocking(true)?;
        let shared = Arc::new(Shared {
            zone: Mutex::new(zone),
            queries: Mutex::new(HashMap::new()),
            stop: AtomicBool::new(false),
        });
        let udp_shared = Arc::clone(&shared);
        let tcp_shared = Arc::clone(&shared);
        let threads = vec![
            std::thread::Builder::new().name("tern-dns-udp".into()).spawn(move || serve_udp(&udp, &udp_shared))?,
            std::thread::Builder::new().name("tern-dns-tcp".into()).spawn(move || serve_tcp(&tcp, &tcp_shared))?,
        ];
        Ok(Responder { addr, shared, threads })
    }

    /// The address it answers on (UDP and TCP).
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// How many questions for `name` (any type, UDP or TCP) arrived; case-insensitive.
    pub fn queries(&self, name: &str) -> usize {
        lock(&self.shared.queries).get(&normalize(name)).copied().unwrap_or(0)
    }

    /// Changes the zone while running.
    pub fn update(&self, change: impl FnOnce(&mut Zone)) {
        change(&mut lock(&self.shared.zone));
    }
}

impl Drop for Responder {
    fn drop(&mut self) {
        self.shared.stop.store(true, Ordering::Relaxed);
        for thread in self.threads.drain(..) {
            let _ = thread.join();
        }
    }
}

/// A poisoned lock only means a panic elsewhere; the maps stay usable.
fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

fn bind_pair(addr: SocketAddr) -> io::Result<(UdpSocket, TcpListener)> {
    let tries = if addr.port() == 0 { BIND_TRIES } else { 1 };
    let mut last = io::Error::new(io::ErrorKind::AddrInUse, "no port free for both UDP and TCP");
    for _ in 0..tries {
        let udp = UdpSocket::bind(addr)?;
        match TcpListener::bind(udp.local_addr()?) {
            Ok(tcp) => return Ok((udp, tcp)),
            Err(e) => last = e,
        }
    }
    Err(last)
}

impl Shared {
    /// The encoded reply to one query, or None for bytes that are not a DNS query.
    fn reply(&self, bytes: &[u8], udp: bool) -> Option<Vec<u8>> {
        let query = Message::from_vec(bytes).ok()?;
        for question in &query.queries {
            *lock(&self.queries).entry(wire::name_text(&question.name)).or_default() += 1;
        }
        let reply = lock(&self.zone).answer(&query, udp);
        let encoded = reply.to_vec().ok()?;
        let limit = query.edns.as_ref().map_or(CLASSIC_UDP_LIMIT, |e| usize::from(e.max_payload()));
        if udp && encoded.len() > limit.max(CLASSIC_UDP_LIMIT) {
            return reply.truncate().to_vec().ok();
        }
        Some(encoded)
    }
}

fn serve_udp(socket: &UdpSocket, shared: &Shared) {
    let mut buf = [0u8; 4096];
    while !shared.stop.load(Ordering::Relaxed) {
        let Ok((n, peer)) = socket.recv_from(&mut buf) else { continue };
        if let Some(reply) = shared.reply(&buf[..n], true) {
            let _ = socket.send_to(&reply, peer);
        }
    }
}

fn serve_tcp(listener: &TcpListener, shared: &Shared) {
    while !shared.stop.load(Ordering::Relaxed) {
        match listener.accept() {
            Ok((stream, _)) => {
                let _ = serve_connection(stream, shared);
            }
            Err(_) => std::thread::sleep(Duration::from_millis(10)),
        }
    }
}

/// Answers length-prefixed queries until the client closes, idles out or the responder stops.
fn serve_connection(mut stream: TcpStream, shared: &Shared) -> io::Result<()> {
    stream.set_nonblocking(false)?;
    stream.set_read_timeout(Some(POLL))?;
    loop {
        let mut len = [0u8; 2];
        if !read_full(&mut stream, &mut len, shared)? {
            return Ok(());
        }
        let mut query = vec![0u8; usize::from(u16::from_be_bytes(len))];
        if !read_full(&mut stream, &mut query, shared)? {
            return Ok(());
        }
        let Some(reply) = shared.reply(&query, false) else { return Ok(()) };
        let len = u16::try_from(reply.len()).map_err(|_| io::Error::other("reply too long"))?;
        stream.write_all(&len.to_be_bytes())?;
        stream.write_all(&reply)?;
    }
}

/// Fills `buf`; false on a clean close before any byte, on idling out, or when stopping.
fn read_full(stream: &mut TcpStream, buf: &mut [u8], shared: &Shared) -> io::Result<bool> {
    let deadline = Instant::now() + TCP_IDLE;
    let mut filled = 0;
    while filled < buf.len() {
        if shared.stop.load(Ordering::Relaxed) || Instant::now() > deadline {
            return Ok(false);
        }
        match stream.read(&mut buf[filled..]) {
            Ok(0) if filled == 0 => return Ok(false),
            Ok(0) => return Err(io::ErrorKind::UnexpectedEof.into()),
            Ok(n) => filled += n,
            Err(e) if matches!(e.kind(), io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut) => {}
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(true)
}

#[cfg(test)]
mod tests {
    use super::*;
    use hickory_proto::op::{MessageType, OpCode, Query, ResponseCode};
    use hickory_proto::rr::{RData, RecordType};
    use std::net::Ipv4Addr;

    fn ask_udp(server: SocketAddr, query: &[u8]) -> Message {
        let socket = UdpSocket::bind("127.0.0.1:0").unwrap();
        socket.set_read_timeout(Some(Duration::from_secs(2))).unwrap();
        socket.send_to(query, server).unwrap();
        let mut buf = [0u8; 4096];
        let n = socket.recv(&mut buf).unwrap();
        Message::from_vec(&buf[..n]).unwrap()
    }

    fn ask_tcp(server: SocketAddr, query: &[u8]) -> Message {
        let mut stream = TcpStream::connect(server).unwrap();
        stream.set_read_timeout(Some(Duration::from_secs(2))).unwrap();
        stream.write_all(&u16::try_from(query.len()).unwrap().to_be_bytes()).unwrap();
        stream.write_all(query).unwrap();
        let mut len = [0u8; 2];
        stream.read_exact(&mut len).unwrap();
        let mut buf = vec![0u8; usize::from(u16::from_be_bytes(len))];
        stream.read_exact(&mut buf).unwrap();
        Message::from_vec(&buf).unwrap()
    }

    fn query(name: &str, rtype: RecordType) -> Vec<u8> {
        wire::encode_query(9, &wire::parse_name(name).unwrap(), rtype).unwrap()
    }

    fn query_without_edns(name: &str, rtype: RecordType) -> Vec<u8> {
        let mut msg = Message::new(9, MessageType::Query, OpCode::Query);
        msg.add_query(Query::query(wire::parse_name(name).unwrap(), rtype));
        msg.to_vec().unwrap()
    }

    #[test]
    fn large_udp_answers_are_truncated_unless_edns_allows_them() {
        let mut zone = Zone::new();
        for i in 0..40 {
            zone.a("many.example", Ipv4Addr::new(192, 0, 2, i));
        }
        let responder = Responder::start(zone).unwrap();
        let small = ask_udp(responder.addr(), &query_without_edns("many.example", RecordType::A));
        assert!(small.metadata.truncation);
        assert!(small.answers.is_empty());
        let edns = ask_udp(responder.addr(), &query("many.example", RecordType::A));
        assert!(!edns.metadata.truncation);
        assert_eq!(edns.answers.len(), 40);
        let tcp = ask_tcp(responder.addr(), &query_without_edns("many.example", RecordType::A));
        assert_eq!(tcp.answers.len(), 40);
        assert_eq!(responder.queries("many.example"), 3);
    }

    #[test]
    fn names_are_case_insensitive_and_counted() {
        let mut zone = Zone::new();
        zone.a("MX.Example.com.", Ipv4Addr::LOCALHOST);
        let responder = Responder::start(zone).unwrap();
        let reply = ask_udp(responder.addr(), &query("mx.EXAMPLE.com", RecordType::A));
        assert_eq!(reply.metadata.id, 9);
        assert!(reply.metadata.authoritative);
        assert_eq!(reply.answers.len(), 1);
        assert_eq!(reply.answers[0].data, RData::A(Ipv4Addr::LOCALHOST.into()));
        assert_eq!(responder.queries("Mx.example.com."), 1);
        assert_eq!(responder.queries("other.example"), 0);
    }

    #[test]
    fn negative_answers_carry_an_soa_with_the_zone_ttl() {
        let mut zone = Zone::new();
        zone.ttl(42).exists("bare.example");
        let responder = Responder::start(zone).unwrap();
        for (name, code) in [("bare.example", ResponseCode::NoError), ("unknown.example", ResponseCode::NXDomain)] {
            let reply = ask_udp(responder.addr(), &query(name, RecordType::MX));
            assert_eq!(reply.metadata.response_code, code);
            assert!(reply.answers.is_empty());
            assert!(matches!(&reply.authorities[0].data, RData::SOA(soa) if soa.minimum == 42));
            assert_eq!(reply.authorities[0].ttl, 42);
        }
    }

    #[test]
    fn truncate_udp_only_affects_udp() {
        let mut zone = Zone::new();
        zone.a("tc.example", Ipv4Addr::LOCALHOST).truncate_udp("tc.example");
        let responder = Responder::start(zone).unwrap();
        let udp = ask_udp(responder.addr(), &query("tc.example", RecordType::A));
        assert!(udp.metadata.truncation && udp.answers.is_empty());
        let tcp = ask_tcp(responder.addr(), &query("tc.example", RecordType::A));
        assert!(!tcp.metadata.truncation);
        assert_eq!(tcp.answers.len(), 1);
    }

    /// An idle TCP client would keep a connection thread for TCP_IDLE (2 s); dropping the
    /// responder must not wait for it.
    #[test]
    fn drop_stops_the_threads_promptly() {
        let responder = Responder::start(Zone::new()).unwrap();
        let idle_client = TcpStream::connect(responder.addr()).unwrap();
        std::thread::sleep(Duration::from_millis(100));
        let started = Instant::now();
        drop(responder);
        assert!(started.elapsed() < Duration::from_millis(1500), "took {:?}", started.elapsed());
        drop(idle_client);
    }
}
