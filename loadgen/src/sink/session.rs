//! One sink connection: answers ESMTP with PIPELINING (replies flushed once per read), finds
//! the end of data with `memchr::memmem` without per-line work, applies the configured faults
//! and records each accepted message's Message-ID and end-to-end latency.

use std::cell::RefCell;
use std::io;
use std::rc::Rc;
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::sync::Arc;

use glommio::net::TcpStream;
use memchr::memmem::Finder;

use super::{Local, SinkConfig};
use crate::conn::Conn;
use crate::message::read_tag;
use crate::proto::{verb, Verb};
use crate::sink::faults::Outcome;
use crate::sink::stats::SinkStats;
use crate::stream::Stream;

/// Longest command line accepted.
const MAX_LINE: usize = 4096;
/// Header bytes kept to find the Message-ID.
const MAX_HEAD: usize = 16 * 1024;

/// What every session of one executor shares.
pub struct Ctx {
    pub cfg: Arc<SinkConfig>,
    pub stats: Arc<SinkStats>,
    /// Messages that reached their end of data, over the whole sink (for `*_every` faults).
    pub ended: Arc<AtomicU64>,
    pub local: Rc<RefCell<Local>>,
    pub end: Finder<'static>,
}

struct Session<'a> {
    ctx: &'a Ctx,
    conn: Conn,
    out: Vec<u8>,
    rcpts: u32,
    carried: u64,
    /// The connection's close is counted (at QUIT, before the 221, or when it ends).
    accounted: bool,
}

/// Serves one accepted connection on listener `listener` until QUIT or close.
pub async fn serve(tcp: TcpStream, listener: usize, ctx: Rc<Ctx>) {
    let _ = tcp.set_nodelay(true);
    ctx.stats.opened(listener);
    let mut s = Session {
        ctx: &ctx,
        conn: Conn::new(Stream::Plain(tcp)),
        out: Vec::new(),
        rcpts: 0,
        carried: 0,
        accounted: false,
    };
    let _ = s.run(listener).await;
    s.account(listener);
}

impl Session<'_> {
    /// Counts the connection as closed, with the messages it carried; once.
    fn account(&mut self, listener: usize) {
        if !std::mem::replace(&mut self.accounted, true) {
            self.ctx.stats.closed(listener);
            *self.ctx.local.borrow_mut().per_connection.entry(self.carried).or_default() += 1;
        }
    }

    async fn run(&mut self, listener: usize) -> io::Result<()> {
        let banner = format!("220 {} ESMTP tern-loadgen sink\r\n", self.ctx.cfg.name);
        self.conn.send(banner.as_bytes()).await?;
        loop {
            while let Some(len) = self.conn.line_len() {
                let line = self.conn.pending()[..len].to_vec();
                match verb(&line) {
                    Verb::Data if self.rcpts > 0 => {
                        // Keep the command's CRLF: data then starts with CRLF, so one search
                        // for CRLF.CRLF also finds an empty body.
                        self.conn.consume(len - 2);
                        self.reply(b"354 End data with <CR><LF>.<CR><LF>\r\n");
                        self.flush().await?;
                        self.data().await?;
                    }
                    Verb::Quit => {
                        self.account(listener);
                        self.reply(b"221 2.0.0 Bye\r\n");
                        return self.flush().await;
                    }
                    Verb::StartTls if self.offers_tls() => {
                        self.conn.consume(len);
                        self.reply(b"220 2.0.0 Ready to start TLS\r\n");
                        self.flush().await?;
                        self.conn.clear();
                        let tls = self.ctx.cfg.tls.clone().expect("offered only with a certificate");
                        self.conn.stream.accept_tls(tls).await?;
                        self.ctx.stats.tls_sessions.fetch_add(1, Relaxed);
                        self.rcpts = 0;
                    }
                    other => {
                        self.conn.consume(len);
                        self.command(other);
                    }
                }
            }
            if self.conn.pending().len() > MAX_LINE {
                self.reply(b"500 5.5.2 Line too long\r\n");
                return self.flush().await;
            }
            self.flush().await?;
            self.conn.fill().await?;
        }
    }

    fn offers_tls(&self) -> bool {
        self.ctx.cfg.tls.is_some() && !self.ctx.cfg.faults.no_starttls
    }

    fn command(&mut self, verb: Verb) {
        match verb {
            Verb::Ehlo => {
                let tls = if self.offers_tls() { "250-STARTTLS\r\n" } else { "" };
                let text = format!(
                    "250-{}\r\n250-PIPELINING\r\n250-8BITMIME\r\n250-SIZE 0\r\n250-AUTH PLAIN\r\n{tls}250 ENHANCEDSTATUSCODES\r\n",
                    self.ctx.cfg.name
                );
                self.reply(text.as_bytes());
            }
            Verb::Helo => self.reply(b"250 sink\r\n"),
            Verb::Mail => {
                self.rcpts = 0;
                self.reply(b"250 2.1.0 Ok\r\n");
            }
            Verb::Rcpt if self.ctx.cfg.faults.over_recipients(self.rcpts + 1) => {
                self.ctx.stats.rcpt_limited.fetch_add(1, Relaxed);
                self.reply(b"452 4.5.3 Too many recipients\r\n");
            }
            Verb::Rcpt => {
                self.rcpts += 1;
                self.reply(b"250 2.1.5 Ok\r\n");
            }
            Verb::Data => self.reply(b"554 5.5.1 No valid recipients\r\n"),
            Verb::Rset => {
                self.rcpts = 0;
                self.reply(b"250 2.0.0 Ok\r\n");
            }
            Verb::Noop => self.reply(b"250 2.0.0 Ok\r\n"),
            Verb::Auth => {
                self.ctx.stats.auths.fetch_add(1, Relaxed);
                self.reply(b"235 2.7.0 Authentication successful\r\n");
            }
            Verb::StartTls | Verb::Quit | Verb::Other => self.reply(b"502 5.5.1 Command not implemented\r\n"),
        }
    }

    fn reply(&mut self, text: &[u8]) {
        self.out.extend_from_slice(text);
    }

    async fn flush(&mut self) -> io::Result<()> {
        if !self.out.is_empty() {
            self.conn.send(&self.out).await?;
            self.out.clear();
        }
        Ok(())
    }

    /// Reads one message (pending bytes start with the DATA line's CRLF) and queues its reply
    /// (sent with the replies to pipelined commands that follow it).
    async fn data(&mut self) -> io::Result<()> {
        let ctx = self.ctx;
        if ctx.cfg.faults.disconnect(fastrand::f64()) {
            ctx.stats.disconnects.fetch_add(1, Relaxed);
            return Err(io::ErrorKind::ConnectionAborted.into());
        }
        let mut head = Vec::new();
        let mut bytes = 0u64;
        loop {
            let pending = self.conn.pending();
            let found = ctx.end.find(pending);
            let take = found.map_or(pending.len().saturating_sub(4), |i| i + 2);
            if head.len() < MAX_HEAD && !head.windows(4).any(|w| w == b"\r\n\r\n") {
                head.extend_from_slice(&pending[..take.min(MAX_HEAD)]);
            }
            bytes += take as u64;
            if let Some(i) = found {
                self.conn.consume(i + 5);
                break;
            }
            self.conn.consume(take);
            self.conn.fill().await?;
        }
        self.end_of_data(&head, bytes.saturating_sub(2)).await
    }

    async fn end_of_data(&mut self, head: &[u8], bytes: u64) -> io::Result<()> {
        let ctx = self.ctx;
        let n = ctx.ended.fetch_add(1, Relaxed) + 1;
        let outcome = ctx.cfg.faults.outcome(n, fastrand::f64());
        if !ctx.cfg.faults.latency.is_zero() {
            glommio::timer::sleep(ctx.cfg.faults.latency).await;
        }
        let rcpts = std::mem::take(&mut self.rcpts);
        match outcome {
            Outcome::TempFail => {
                ctx.stats.tempfails.fetch_add(1, Relaxed);
                self.reply(b"451 4.3.0 Injected temporary failure\r\n");
            }
            Outcome::PermFail => {
                ctx.stats.permfails.fetch_add(1, Relaxed);
                self.reply(b"554 5.3.0 Injected permanent failure\r\n");
            }
            Outcome::Accept { records } => {
                self.carried += 1;
                ctx.stats.carried(self.carried);
                ctx.stats.messages.fetch_add(1, Relaxed);
                ctx.stats.recipients.fetch_add(u64::from(rcpts), Relaxed);
                ctx.stats.bytes.fetch_add(bytes, Relaxed);
                self.record(head, rcpts, records);
                self.reply(b"250 2.0.0 Ok: queued\r\n");
            }
        }
        Ok(())
    }

    fn record(&self, head: &[u8], rcpts: u32, records: u8) {
        let ctx = self.ctx;
        match read_tag(head).filter(|t| ctx.cfg.run.is_none_or(|run| run == t.run)) {
            Some(tag) => {
                let mut local = ctx.local.borrow_mut();
                for _ in 0..records {
                    local.deliveries.push((tag.seq, rcpts));
                }
                if let Some(sent) = tag.sent_nanos {
                    let micros = crate::send::unix_nanos().saturating_sub(sent) / 1000;
                    let _ = local.e2e.record(micros.max(1));
                }
            }
            None => {
                ctx.stats.foreign.fetch_add(1, Relaxed);
            }
        }
    }
}
