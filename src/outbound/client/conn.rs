//! One outbound SMTP connection over a glommio `TcpStream`: greeting, EHLO (HELO fallback),
//! STARTTLS and AUTH as the [`Security`] says, transactions with or without pipelining, RSET
//! after refusals, QUIT.

use std::io;
use std::net::SocketAddr;
use std::time::Duration;

use futures_lite::{AsyncReadExt, AsyncWriteExt};
use futures_rustls::TlsConnector;
use glommio::net::TcpStream;

use super::auth::{self, Mechanism};
use super::ehlo::Capabilities;
use super::error::{ClientError, Stage};
use super::plan::{self, Delivery, Outgoing, RcptOutcome, Tally};
use super::reply::ReplyParser;
use super::security::{Credentials, Security};
use super::stream::Stream;
use crate::proto::reply::Reply;

/// Size of the fixed read buffer (replies are short; longer ones stream through the parser).
const READ_BUF: usize = 4096;
/// A body up to this size is copied after the commands so the end of data leaves in one write.
const COALESCE_BODY: usize = 8 * 1024;
/// The longest wait for the reply to QUIT.
const QUIT_TIMEOUT: Duration = Duration::from_secs(5);

/// How the client introduces itself and how long it waits.
#[derive(Debug, Clone)]
pub struct ClientConfig {
    /// The name sent with EHLO/HELO.
    pub helo_name: String,
    pub connect_timeout: Duration,
    /// Longest wait for each reply to a command (and for the banner).
    pub command_timeout: Duration,
    /// Longest wait while writing the body and for the reply to the end of data.
    pub data_timeout: Duration,
}

/// An open SMTP session with one server, ready for transactions.
#[derive(Debug)]
pub struct SmtpClient {
    stream: Stream,
    addr: SocketAddr,
    command_timeout: Duration,
    data_timeout: Duration,
    /// The timeout currently set on the socket.
    armed: Option<Duration>,
    banner: Reply,
    caps: Capabilities,
    parser: ReplyParser,
    buf: Box<[u8]>,
    start: usize,
    end: usize,
    out: Vec<u8>,
    usable: bool,
    /// The next transaction's MAIL, RCPT and DATA already went out after the last end of data.
    presented: bool,
}

impl SmtpClient {
    /// Connects, reads the greeting, says EHLO (HELO when EHLO is refused with `5xx`), then
    /// negotiates STARTTLS and AUTH as `security` says. `name` is the server's host name (or
    /// IP address), checked against its certificate when the policy verifies certificates.
    ///
    /// STARTTLS is used whenever offered; after the handshake everything read before it is
    /// discarded and EHLO is said again (RFC 3207). A handshake failure is a temporary error:
    /// the client does not fall back to a clear-text connection.
    pub async fn connect(
        addr: SocketAddr,
        name: &str,
        cfg: &ClientConfig,
        security: &Security,
    ) -> Result<SmtpClient, ClientError> {
        let stream = TcpStream::connect_timeout(addr, cfg.connect_timeout).await.map_err(|e| {
            let source = io::Error::from(e);
            if source.kind() == io::ErrorKind::TimedOut {
                ClientError::Timeout { addr, stage: Stage::Connect, after: cfg.connect_timeout }
            } else {
                ClientError::Connect { addr, source }
            }
        })?;
        stream.set_nodelay(true).map_err(|e| ClientError::Io { addr, stage: Stage::Connect, source: e.into() })?;
        let mut client = SmtpClient::new(Stream::Plain(stream), addr, cfg);
        let banner = client.read_reply(Stage::Banner).await?;
        if !plan::is_success(&banner) {
            return Err(ClientError::Banner { addr, reply: banner });
        }
        client.banner = banner;
        client.hello(&cfg.helo_name).await?;
        let mut client = client.starttls(name, cfg, security).await?;
        if let Some(credentials) = &security.auth {
            client.authenticate(credentials).await?;
        }
        Ok(client)
    }

    fn new(stream: Stream, addr: SocketAddr, cfg: &ClientConfig) -> SmtpClient {
        SmtpClient {
            stream,
            addr,
            command_timeout: cfg.command_timeout,
            data_timeout: cfg.data_timeout,
            armed: None,
            banner: Reply::plain(220, Vec::new()),
            caps: Capabilities::default(),
            parser: ReplyParser::new(),
            buf: vec![0; READ_BUF].into_boxed_slice(),
            start: 0,
            end: 0,
            out: Vec::with_capacity(1024),
            usable: true,
            presented: false,
        }
    }

    /// EHLO, or HELO when EHLO is refused with `5xx`.
    async fn hello(&mut self, helo_name: &str) -> Result<(), ClientError> {
        let ehlo = self.command(format!("EHLO {helo_name}\r\n").as_bytes(), Stage::Ehlo).await?;
        if plan::is_success(&ehlo) {
            self.caps = Capabilities::from_ehlo(&ehlo);
            return Ok(());
        }
        if ehlo.code < 500 {
            return Err(ClientError::Greeting { addr: self.addr, reply: ehlo });
        }
        let helo = self.command(format!("HELO {helo_name}\r\n").as_bytes(), Stage::Helo).await?;
        if !plan::is_success(&helo) {
            return Err(ClientError::Greeting { addr: self.addr, reply: helo });
        }
        Ok(())
    }

    /// STARTTLS when offered; the encrypted session (after a new EHLO), or this one when TLS
    /// is not offered or refused and the policy does not need it.
    async fn starttls(
        mut self,
        name: &str,
        cfg: &ClientConfig,
        security: &Security,
    ) -> Result<SmtpClient, ClientError> {
        let addr = self.addr;
        let needed = security.tls_needed();
        if !self.caps.starttls {
            let Some(because) = needed else { return Ok(self) };
            self.quit().await;
            return Err(ClientError::TlsUnavailable { addr, because });
        }
        let reply = self.command(b"STARTTLS\r\n", Stage::StartTls).await?;
        if reply.code != 220 {
            return match needed {
                None => Ok(self),
                Some(_) => Err(ClientError::StartTls { addr, reply }),
            };
        }
        let SmtpClient { stream: Stream::Plain(tcp), banner, .. } = self else {
            let source = io::Error::other("STARTTLS on an encrypted connection");
            return Err(ClientError::Handshake { addr, source });
        };
        let server_name = Security::server_name(name, addr.ip());
        let connector = TlsConnector::from(security.tls.config());
        let tls =
            connector.connect(server_name, tcp).await.map_err(|source| ClientError::Handshake { addr, source })?;
        let mut client = SmtpClient::new(Stream::Tls(Box::new(tls)), addr, cfg);
        client.banner = banner;
        client.hello(&cfg.helo_name).await?;
        Ok(client)
    }

    /// AUTH PLAIN when offered, else AUTH LOGIN. Refusals and a server offering neither are
    /// errors (permanent for `5xx`: the configured credentials do not work there).
    async fn authenticate(&mut self, credentials: &Credentials) -> Result<(), ClientError> {
        let reply = match auth::choose(&self.caps) {
            Some(Mechanism::Plain) => self.command(auth::plain_command(credentials).as_bytes(), Stage::Auth).await?,
            Some(Mechanism::Login) => {
                let mut reply = self.command(b"AUTH LOGIN\r\n", Stage::Auth).await?;
                for secret in [&credentials.username, &credentials.password] {
                    if reply.code != 334 {
                        break;
                    }
                    reply = self.command(auth::login_line(secret).as_bytes(), Stage::Auth).await?;
                }
                reply
            }
            None => return Err(ClientError::AuthUnavailable { addr: self.addr }),
        };
        if !plan::is_success(&reply) {
            return Err(ClientError::AuthRefused { addr: self.addr, reply });
        }
        Ok(())
    }

    /// The server's greeting.
    pub fn banner(&self) -> &Reply {
        &self.banner
    }

    /// What the server offered in its last EHLO reply (the one after STARTTLS when TLS is
    /// on; nothing after a HELO fallback).
    pub fn capabilities(&self) -> &Capabilities {
        &self.caps
    }

    /// Whether the session runs over TLS.
    pub fn is_encrypted(&self) -> bool {
        self.stream.is_tls()
    }

    /// The server's address.
    pub fn peer(&self) -> SocketAddr {
        self.addr
    }

    /// Whether another message may be sent (false after a timeout, an I/O or protocol error, a
    /// `421`, or a refused RSET).
    pub fn is_usable(&self) -> bool {
        self.usable
    }

    /// Runs one mail transaction. `Ok` holds one outcome per recipient, even when the server
    /// refused everything; the connection is left ready for the next message (RSET after a
    /// refused transaction). `Err` means the transaction broke off (timeout, I/O, `421`, bad
    /// reply): no recipient is known delivered, though after a timeout waiting for the end of
    /// data the server may have taken the message; the connection is then not usable.
    pub async fn send(&mut self, msg: &Outgoing<'_>) -> Result<Delivery, ClientError> {
        self.send_then(msg, None).await
    }

    /// [`SmtpClient::send`], and when the body goes out, `next`'s MAIL, RCPT and DATA go in the
    /// same write (RFC 2920 §3.1: a group may start after the end of data), so each message
    /// costs one round trip. `next` is then what the following `send` on this connection must
    /// carry; it is presented only when the server pipelines, this transaction left nobody
    /// for another one (no "too many recipients"), and nothing in `next` is refused locally.
    /// A connection that stops after a presented envelope (an error) is closed without QUIT:
    /// the server never got that message's body, so it is not delivered.
    pub async fn send_then(
        &mut self,
        msg: &Outgoing<'_>,
        next: Option<&Outgoing<'_>>,
    ) -> Result<Delivery, ClientError> {
        if !self.usable {
            return Err(ClientError::NotUsable { addr: self.addr });
        }
        let mut tally = Tally::new(msg.recipients.len());
        if let Some(refusal) = plan::local_refusal(msg, &self.caps) {
            tally.fail_undecided(&RcptOutcome::Permanent(refusal));
            return Ok(tally.finish(None));
        }
        let mut send_to = Vec::with_capacity(msg.recipients.len());
        for (i, rcpt) in msg.recipients.iter().enumerate() {
            match plan::local_rcpt_refusal(rcpt) {
                Some(refusal) => tally.set(i, RcptOutcome::Permanent(refusal)),
                None => send_to.push(i),
            }
        }
        if send_to.is_empty() {
            return Ok(tally.finish(None));
        }
        let next = next.filter(|n| self.caps.pipelining && presentable(n, &self.caps));
        let result = if self.caps.pipelining {
            self.pipelined(msg, &send_to, &mut tally, next).await
        } else {
            self.one_by_one(msg, &send_to, &mut tally).await
        };
        match result {
            Ok(data_reply) => Ok(tally.finish(data_reply)),
            Err(e) => {
                self.usable = false;
                Err(e)
            }
        }
    }

    /// RFC 2920: MAIL, every RCPT and DATA in one write (unless they went out after the previous
    /// end of data), then the replies in order.
    async fn pipelined(
        &mut self,
        msg: &Outgoing<'_>,
        send_to: &[usize],
        tally: &mut Tally,
        next: Option<&Outgoing<'_>>,
    ) -> Result<Option<Reply>, ClientError> {
        if !std::mem::take(&mut self.presented) {
            self.out.clear();
            envelope(&mut self.out, msg, send_to.iter().map(|&i| msg.recipients[i]), &self.caps);
            self.flush(Stage::Mail).await?;
        }
        let mail = self.read_reply(Stage::Mail).await?;
        for &i in send_to {
            let reply = self.read_reply(Stage::Rcpt).await?;
            if plan::is_success(&mail) {
                tally.rcpt(i, &reply);
            }
        }
        let data = self.read_reply(Stage::Data).await?;
        if !plan::is_success(&mail) {
            tally.fail_undecided(&plan::failure(&mail));
        }
        let next = next.filter(|_| !tally.any_not_tried());
        self.data(msg, tally, data, next).await
    }

    /// Without pipelining: each command waits for its reply; the first "too many recipients"
    /// stops the RCPTs (the rest are not tried).
    async fn one_by_one(
        &mut self,
        msg: &Outgoing<'_>,
        send_to: &[usize],
        tally: &mut Tally,
    ) -> Result<Option<Reply>, ClientError> {
        self.out.clear();
        plan::mail_command(&mut self.out, msg, &self.caps);
        self.flush(Stage::Mail).await?;
        let mail = self.read_reply(Stage::Mail).await?;
        if !plan::is_success(&mail) {
            tally.fail_undecided(&plan::failure(&mail));
            self.rset().await?;
            return Ok(None);
        }
        for &i in send_to {
            plan::rcpt_command(&mut self.out, msg.recipients[i]);
            self.flush(Stage::Rcpt).await?;
            let reply = self.read_reply(Stage::Rcpt).await?;
            if tally.rcpt(i, &reply) {
                break;
            }
        }
        if tally.accepted() == 0 {
            self.rset().await?;
            return Ok(None);
        }
        let data = self.command(b"DATA\r\n", Stage::Data).await?;
        self.data(msg, tally, data, None).await
    }

    /// Acts on the reply to DATA: sends the body when it is `354` and someone is accepted.
    async fn data(
        &mut self,
        msg: &Outgoing<'_>,
        tally: &mut Tally,
        data: Reply,
        next: Option<&Outgoing<'_>>,
    ) -> Result<Option<Reply>, ClientError> {
        if data.code != 354 {
            tally.settle_accepted(&plan::failure(&data));
            self.rset().await?;
            return Ok(None);
        }
        if tally.accepted() == 0 {
            // RFC 2920 §3.1: DATA was accepted although no recipient was; end an empty message.
            self.command(b".\r\n", Stage::DataEnd).await?;
            self.rset().await?;
            return Ok(None);
        }
        self.write_body(msg.body, next).await?;
        let end = self.read_reply(Stage::DataEnd).await?;
        tally.end_of_data(&end);
        Ok(Some(end))
    }

    /// Writes the body from the caller's slice, then the end of data, then `next`'s envelope.
    async fn write_body(&mut self, body: &[u8], next: Option<&Outgoing<'_>>) -> Result<(), ClientError> {
        let end: &[u8] = if body.is_empty() || body.ends_with(b"\r\n") { b".\r\n" } else { b"\r\n.\r\n" };
        self.arm(self.data_timeout, Stage::Body)?;
        self.out.clear();
        if body.len() <= COALESCE_BODY {
            self.out.extend_from_slice(body);
        } else {
            let result = self.stream.write_all(body).await;
            result.map_err(|e| self.io_error(Stage::Body, e))?;
        }
        self.out.extend_from_slice(end);
        if let Some(next) = next {
            envelope(&mut self.out, next, next.recipients.iter().copied(), &self.caps);
            self.presented = true;
        }
        self.flush(Stage::Body).await
    }

    /// RSET after a refused transaction; a refused RSET leaves the connection unusable.
    async fn rset(&mut self) -> Result<(), ClientError> {
        let reply = self.command(b"RSET\r\n", Stage::Rset).await?;
        if !plan::is_success(&reply) {
            self.usable = false;
        }
        Ok(())
    }

    /// Sends QUIT (best effort, short timeout) and closes the connection.
    pub async fn quit(mut self) {
        if self.usable && !self.presented {
            let wait = self.command_timeout.min(QUIT_TIMEOUT);
            self.command_timeout = wait;
            let _ = self.command(b"QUIT\r\n", Stage::Quit).await;
        }
        let _ = self.stream.close().await;
    }

    async fn command(&mut self, line: &[u8], stage: Stage) -> Result<Reply, ClientError> {
        self.out.clear();
        self.out.extend_from_slice(line);
        self.flush(stage).await?;
        self.read_reply(stage).await
    }

    async fn flush(&mut self, stage: Stage) -> Result<(), ClientError> {
        if stage != Stage::Body {
            self.arm(self.command_timeout, stage)?;
        }
        let result = match self.stream.write_all(&self.out).await {
            Ok(()) => self.stream.flush().await,
            Err(e) => Err(e),
        };
        self.out.clear();
        result.map_err(|e| self.io_error(stage, e))
    }

    /// Reads the next reply. A `421` (outside the banner) is an error: the server is leaving.
    async fn read_reply(&mut self, stage: Stage) -> Result<Reply, ClientError> {
        let timeout = if stage == Stage::DataEnd { self.data_timeout } else { self.command_timeout };
        self.arm(timeout, stage)?;
        loop {
            if self.start < self.end {
                let fed = self.parser.feed(&self.buf[self.start..self.end]);
                let (used, reply) = fed.map_err(|source| ClientError::Protocol { addr: self.addr, stage, source })?;
                self.start += used;
                if let Some(reply) = reply {
                    if reply.code == 421 && stage != Stage::Banner {
                        self.usable = false;
                        return Err(ClientError::Closing { addr: self.addr, stage, reply });
                    }
                    return Ok(reply);
                }
            }
            self.start = 0;
            self.end = 0;
            match self.stream.read(&mut self.buf).await {
                Ok(0) => return Err(ClientError::Closed { addr: self.addr, stage }),
                Ok(n) => self.end = n,
                Err(e) => return Err(self.io_error(stage, e)),
            }
        }
    }

    /// Sets the socket's read and write timeouts to `timeout` (when they differ).
    fn arm(&mut self, timeout: Duration, stage: Stage) -> Result<(), ClientError> {
        if self.armed != Some(timeout) {
            let tcp = self.stream.tcp();
            let set = tcp.set_read_timeout(Some(timeout)).and(tcp.set_write_timeout(Some(timeout)));
            set.map_err(|e| ClientError::Io { addr: self.addr, stage, source: e.into() })?;
            self.armed = Some(timeout);
        }
        Ok(())
    }

    fn io_error(&self, stage: Stage, e: io::Error) -> ClientError {
        match e.kind() {
            io::ErrorKind::TimedOut => {
                ClientError::Timeout { addr: self.addr, stage, after: self.armed.unwrap_or_default() }
            }
            _ => ClientError::Io { addr: self.addr, stage, source: e },
        }
    }
}

/// MAIL, the RCPTs and DATA of one transaction, for one pipelined write.
fn envelope<'a>(out: &mut Vec<u8>, msg: &Outgoing<'_>, rcpts: impl Iterator<Item = &'a str>, caps: &Capabilities) {
    plan::mail_command(out, msg, caps);
    for rcpt in rcpts {
        plan::rcpt_command(out, rcpt);
    }
    out.extend_from_slice(b"DATA\r\n");
}

/// Whether `msg`'s envelope may go out ahead: it has recipients and nothing in it is refused locally.
fn presentable(msg: &Outgoing<'_>, caps: &Capabilities) -> bool {
    !msg.recipients.is_empty()
        && plan::local_refusal(msg, caps).is_none()
        && msg.recipients.iter().all(|r| plan::local_rcpt_refusal(r).is_none())
}
