//! Connection IO glue: reads command lines and message data into one fixed buffer, feeds the
//! session, writes replies (batched while the client pipelines), and spools messages.

use std::io;
use std::rc::Rc;

use futures_lite::{AsyncReadExt, AsyncWriteExt};
use glommio::net::TcpStream;
use memchr::memchr;

use super::auth::Credentials;
use super::message::DataInfo;
use super::rdns::{PendingName, LOOKUP_TIMEOUT};
use super::session::{Session, Step};
use super::stream::Stream;
use crate::policy::ClientName;
use crate::proto::data::{DataScanner, Feed};
use crate::proto::reply::{Reply, Status};
use crate::proto::stuff::{stuff_into, BareEol};
use crate::runtime::Shard;
use crate::spool::RetryState;

/// Size of the read buffer of one connection.
const READ_BUF: usize = 16 * 1024;
/// A message buffer larger than this is released after its message (idle connections stay small).
const KEEP_MESSAGE_BUF: usize = 256 * 1024;
/// RFC 5321 §4.5.3.1.4: a command line is at most 512 octets with its CRLF.
const MAX_LINE: usize = 512;
/// RFC 4954 §4: a SASL response is not bound by the command line limit (an AUTH PLAIN
/// response alone can be about 1,000 octets); this one still fits the read buffer.
const MAX_SASL_LINE: usize = 12 * 1024;

/// What a read brought.
enum Fill {
    Data,
    Eof,
    Timeout,
    Shutdown,
}

/// What the command reader found in the buffer.
enum Line {
    /// A complete line: the byte range without CRLF.
    Complete(usize, usize),
    /// A line longer than its limit ([`MAX_LINE`], [`MAX_SASL_LINE`]) ended (its bytes were discarded).
    TooLong,
    /// No complete line buffered.
    Partial,
}

/// A BDAT message being received chunk by chunk.
struct Chunked {
    id: String,
    header_len: usize,
    at_line_start: bool,
    bare: BareEol,
    size: u64,
    oversize: bool,
}

pub(super) struct Conn {
    stream: Stream,
    buf: Box<[u8]>,
    start: usize,
    end: usize,
    /// Inside an over-long line: bytes are dropped until its LF.
    discarding: bool,
    out: Vec<u8>,
    /// The message being received (trace header + wire-form data); reused.
    msg: Vec<u8>,
    chunked: Option<Chunked>,
    /// The client's reverse lookup, running since the connection was accepted.
    pending: Option<PendingName>,
}

/// Serves one accepted connection to its end.
pub(super) async fn serve(stream: TcpStream, mut session: Session, pending: Option<PendingName>, shard: Rc<Shard>) {
    let timeout = Some(session.context().limits.connection_timeout);
    if let Err(e) = stream.set_read_timeout(timeout).and(stream.set_write_timeout(timeout)) {
        tracing::warn!("cannot set timeouts: {e}");
    }
    let mut conn = Conn {
        stream: Stream::Plain(stream),
        buf: vec![0; READ_BUF].into_boxed_slice(),
        start: 0,
        end: 0,
        discarding: false,
        out: Vec::with_capacity(1024),
        msg: Vec::new(),
        chunked: None,
        pending,
    };
    session.greeting().encode(&mut conn.out);
    let result = match conn.commands(&mut session, &shard).await {
        Ok(()) => conn.flush().await,
        Err(e) => Err(e),
    };
    if let Err(e) = result {
        tracing::debug!("connection ended: {e}");
    }
    let _ = conn.stream.close().await;
}

impl Conn {
    /// The command loop: returns when the session is over.
    async fn commands(&mut self, session: &mut Session, shard: &Rc<Shard>) -> io::Result<()> {
        loop {
            let line_start = self.start;
            let limit = if session.in_sasl() { MAX_SASL_LINE } else { MAX_LINE };
            let step = match self.next_line(limit) {
                Line::Complete(start, end) => session.command(&self.buf[start..end]),
                Line::TooLong => session.line_too_long(),
                Line::Partial => {
                    self.flush().await?;
                    match self.fill(Some(shard)).await? {
                        Fill::Data => continue,
                        Fill::Eof => return Ok(()),
                        Fill::Timeout => return self.close_with(timeout_reply(session)).await,
                        Fill::Shutdown => return self.close_with(shutdown_reply(session)).await,
                    }
                }
            };
            let go_on = match step {
                Step::Reply(reply) => {
                    reply.encode(&mut self.out);
                    true
                }
                Step::Close(reply) => return self.close_with(reply).await,
                Step::Lookup => {
                    // The session has the name now: the same line is read again.
                    self.resolve_client(session).await;
                    self.start = line_start;
                    true
                }
                Step::Data(reply) => {
                    reply.encode(&mut self.out);
                    self.flush().await?;
                    self.data(session, shard).await?
                }
                Step::Bdat { size, last, first, discard } => {
                    if first {
                        self.start_chunked(session, shard).await;
                    }
                    self.bdat(session, size, last, discard, shard).await?
                }
                Step::StartTls(reply) => self.starttls(session, reply).await?,
                Step::Verify(credentials) => self.check(session, credentials).await?,
            };
            if !go_on {
                return Ok(());
            }
        }
    }

    /// The next line of at most `limit` octets with its CRLF.
    fn next_line(&mut self, limit: usize) -> Line {
        let pending = &self.buf[self.start..self.end];
        let Some(i) = memchr(b'\n', pending) else {
            if pending.len() >= limit {
                self.discarding = true;
                self.start = self.end;
            }
            return Line::Partial;
        };
        let begin = self.start;
        self.start += i + 1;
        if std::mem::take(&mut self.discarding) || i + 1 > limit {
            return Line::TooLong;
        }
        let end = if i > 0 && pending[i - 1] == b'\r' { begin + i - 1 } else { begin + i };
        Line::Complete(begin, end)
    }

    /// Reads more bytes after the buffered ones. With `shard`, a shutdown ends the wait.
    async fn fill(&mut self, shard: Option<&Shard>) -> io::Result<Fill> {
        if self.start == self.end {
            self.start = 0;
            self.end = 0;
        } else if self.start > 0 {
            self.buf.copy_within(self.start..self.end, 0);
            self.end -= self.start;
            self.start = 0;
        }
        let read = self.stream.read(&mut self.buf[self.end..]);
        let result = match shard {
            Some(shard) => {
                let stop = async {
                    let _ = shard.shutdown.acquire(1).await;
                    None
                };
                futures_lite::future::or(async { Some(read.await) }, stop).await
            }
            None => Some(read.await),
        };
        match result {
            None => Ok(Fill::Shutdown),
            Some(Ok(0)) => Ok(Fill::Eof),
            Some(Ok(n)) => {
                self.end += n;
                Ok(Fill::Data)
            }
            Some(Err(e)) if e.kind() == io::ErrorKind::TimedOut => Ok(Fill::Timeout),
            Some(Err(e)) => Err(e),
        }
    }

    /// Waits for the client's reverse lookup (bounded) and gives it to the session.
    async fn resolve_client(&mut self, session: &mut Session) {
        let name = match self.pending.as_mut() {
            Some(pending) => pending.wait(LOOKUP_TIMEOUT).await,
            None => ClientName::Failed,
        };
        session.set_client_name(name);
    }

    /// The `Received:` header for message `id`, after the reverse lookup when it needs one.
    async fn trace_header(&mut self, session: &mut Session, id: &str) -> String {
        if session.trace_needs_name() {
            self.resolve_client(session).await;
        }
        session.trace_header(id)
    }

    async fn flush(&mut self) -> io::Result<()> {
        if !self.out.is_empty() {
            self.stream.write_all(&self.out).await?;
            self.stream.flush().await?;
            self.out.clear();
        }
        Ok(())
    }

    /// Sends the `220`, forgets whatever the client sent after STARTTLS (RFC 3207 §5: it must
    /// not be executed), and runs the handshake; false when it failed (the connection closes).
    async fn starttls(&mut self, session: &mut Session, reply: Reply) -> io::Result<bool> {
        reply.encode(&mut self.out);
        self.flush().await?;
        self.start = self.end;
        self.discarding = false;
        let vs = session.context();
        let Some(tls) = vs.tls.as_ref() else {
            return Ok(false);
        };
        match self.stream.upgrade(tls.current()).await {
            Ok(info) => {
                vs.counters().tls_handshake(true);
                tracing::debug!(virtual_server = %vs.name, version = %info.version, cipher = %info.cipher, "TLS started");
                session.tls_started(info);
                Ok(true)
            }
            Err(e) => {
                vs.counters().tls_handshake(false);
                tracing::info!(virtual_server = %vs.name, "TLS handshake failed: {e}");
                Ok(false)
            }
        }
    }

    /// Checks credentials on the shard's blocking thread, waits the failure delay (a timer,
    /// the shard goes on), and queues the reply; false when the session ends.
    async fn check(&mut self, session: &mut Session, credentials: Credentials) -> io::Result<bool> {
        let Credentials { user, password } = credentials;
        let ok = match session.context().users.as_ref() {
            Some(users) => {
                let (users, name) = (users.current(), user.clone());
                glommio::executor().spawn_blocking(move || users.verify(&name, &password)).await
            }
            None => false,
        };
        let checked = session.auth_checked(user, ok);
        if !checked.delay.is_zero() {
            self.flush().await?;
            glommio::timer::sleep(checked.delay).await;
        }
        checked.reply.encode(&mut self.out);
        Ok(!checked.close)
    }

    async fn close_with(&mut self, reply: Reply) -> io::Result<()> {
        reply.encode(&mut self.out);
        self.flush().await
    }

    /// Reads DATA up to `CRLF.CRLF`; returns whether the session goes on.
    async fn data(&mut self, session: &mut Session, shard: &Rc<Shard>) -> io::Result<bool> {
        let id = shard.next_id();
        let header = self.trace_header(session, &id).await;
        self.msg.clear();
        self.msg.extend_from_slice(header.as_bytes());
        let header_len = self.msg.len();
        let limit = session.max_message_size();
        let mut scanner = DataScanner::new();
        let mut oversize = false;
        loop {
            let pending = &self.buf[self.start..self.end];
            let (take, done) = match scanner.feed(pending) {
                Feed::More => (pending.len(), false),
                Feed::End { consumed } => (consumed, true),
            };
            if !oversize && scanner.body_len() > limit {
                oversize = true;
                self.msg.truncate(header_len);
            } else if !oversize {
                self.msg.extend_from_slice(&pending[..take]);
            }
            self.start += take;
            if session.add_session_bytes(take as u64) {
                session.abort_message();
                self.close_with(session.session_limit_reply()).await?;
                return Ok(false);
            }
            if done {
                break;
            }
            if !self.fill_or_end(session).await? {
                return Ok(false);
            }
        }
        if !oversize {
            self.msg.truncate(self.msg.len() - 3);
        }
        let info = DataInfo { oversize, bare_eol: scanner.saw_bare_eol() };
        self.finish(session, shard, &id, header_len, info).await
    }

    /// Reads more message bytes; false (session over) at EOF or timeout.
    async fn fill_or_end(&mut self, session: &mut Session) -> io::Result<bool> {
        match self.fill(None).await? {
            Fill::Data => Ok(true),
            Fill::Eof | Fill::Shutdown => {
                session.abort_message();
                Ok(false)
            }
            Fill::Timeout => {
                session.abort_message();
                self.close_with(timeout_reply(session)).await?;
                Ok(false)
            }
        }
    }

    /// Starts a new BDAT message (its first chunk was accepted).
    async fn start_chunked(&mut self, session: &mut Session, shard: &Shard) {
        let id = shard.next_id();
        let header = self.trace_header(session, &id).await;
        self.msg.clear();
        self.msg.extend_from_slice(header.as_bytes());
        let header_len = self.msg.len();
        let chunked =
            Chunked { id, header_len, at_line_start: true, bare: BareEol::default(), size: 0, oversize: false };
        self.chunked = Some(chunked);
    }

    /// Reads one BDAT chunk of `size` bytes; returns whether the session goes on.
    async fn bdat(
        &mut self,
        session: &mut Session,
        size: u64,
        last: bool,
        discard: Option<Reply>,
        shard: &Rc<Shard>,
    ) -> io::Result<bool> {
        let limit = session.max_message_size();
        let mut remaining = size;
        while remaining > 0 {
            if self.start == self.end && !self.fill_or_end(session).await? {
                self.chunked = None;
                return Ok(false);
            }
            let n = remaining.min((self.end - self.start) as u64) as usize;
            let chunk = &self.buf[self.start..self.start + n];
            if let (None, Some(c)) = (&discard, self.chunked.as_mut()) {
                c.size += n as u64;
                if c.size > limit {
                    c.oversize = true;
                    self.msg.truncate(c.header_len);
                } else {
                    c.bare.feed(chunk);
                    c.at_line_start = stuff_into(chunk, c.at_line_start, &mut self.msg);
                }
            }
            self.start += n;
            remaining -= n as u64;
            if session.add_session_bytes(n as u64) {
                session.abort_message();
                self.chunked = None;
                self.close_with(session.session_limit_reply()).await?;
                return Ok(false);
            }
        }
        if let Some(reply) = discard {
            let closing = reply.code == 421;
            reply.encode(&mut self.out);
            return Ok(!closing);
        }
        let chunked = self.chunked.as_ref().expect("created above");
        if !last && !chunked.oversize {
            Reply::new(250, Status(2, 0, 0), format!("{size} octets received")).encode(&mut self.out);
            return Ok(true);
        }
        let chunked = self.chunked.take().expect("created above");
        if !chunked.oversize && self.msg.len() > chunked.header_len && !self.msg.ends_with(b"\r\n") {
            self.msg.extend_from_slice(b"\r\n");
        }
        let info = DataInfo { oversize: chunked.oversize, bare_eol: chunked.bare.finish() };
        self.finish(session, shard, &chunked.id, chunked.header_len, info).await
    }

    /// Checks and spools the message in `self.msg`, then queues the reply.
    async fn finish(
        &mut self,
        session: &mut Session,
        shard: &Rc<Shard>,
        id: &str,
        header_len: usize,
        info: DataInfo,
    ) -> io::Result<bool> {
        let reply = match session.finish(id, &self.msg[header_len..], info) {
            Err(reply) => reply,
            Ok(accepted) => {
                let stored = shard.spool.store(&accepted.meta, &[&self.msg]).await;
                let bytes = (self.msg.len() - header_len) as u64;
                let reply = session.stored(id, bytes, stored.as_ref().map(|_| ()));
                if let Ok(body) = stored {
                    shard.route_stored(&accepted.meta, body, Some(&self.msg), &[], RetryState::default());
                }
                reply
            }
        };
        reply.encode(&mut self.out);
        if self.msg.capacity() > KEEP_MESSAGE_BUF {
            self.msg = Vec::new();
        }
        if session.session_full() {
            self.close_with(session.session_limit_reply()).await?;
            return Ok(false);
        }
        Ok(true)
    }
}

fn timeout_reply(session: &Session) -> Reply {
    Reply::new(421, Status(4, 4, 2), format!("{} Timeout exceeded, closing", session.context().fqdn))
}

fn shutdown_reply(session: &Session) -> Reply {
    Reply::new(421, Status(4, 3, 2), format!("{} Service shutting down", session.context().fqdn))
}
