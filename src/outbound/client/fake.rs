//! A scripted SMTP server on a std thread for the client's end-to-end tests: it reads and
//! answers as told and records exactly what it received and when.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::thread::JoinHandle;
use std::time::Duration;

/// How long the fake waits for the client before it gives up (the test then fails on its record).
const PATIENCE: Duration = Duration::from_secs(5);

/// One step of the server's script.
pub(super) enum Act {
    /// Write these bytes.
    Say(&'static str),
    /// Read this many command lines.
    Lines(usize),
    /// Read a message body up to and including its `.\r\n` line.
    Data,
    /// Say nothing; read until the client closes.
    WaitClose,
}

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
            let (stream, _) = listener.accept().expect("accept");
            stream.set_read_timeout(Some(PATIENCE)).expect("timeout");
            let mut peer =
                Peer { stream, pending: Vec::new(), base: 0, marks: Vec::new(), says: 0, t: Transcript::default() };
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
    stream: TcpStream,
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
            };
            if !done {
                break;
            }
        }
        while self.fill() {}
        self.t.trailing = std::mem::take(&mut self.pending);
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
