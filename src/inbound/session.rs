//! The inbound session state machine: one command line in, one [`Step`] out. No IO here; the
//! connection glue (`conn.rs`) reads lines and message bytes and writes the replies.

use std::net::IpAddr;
use std::rc::Rc;

use super::auth::{Credentials, Sasl};
use super::context::VsContext;
use super::envelope::Transaction;
use crate::admin::metrics::{Refuse, Reject};
use crate::policy::{decide, ClientName, DenyReason, Verdict};
use crate::proto::command::{self, Command};
use crate::proto::reply::{Reply, Status};

/// After this many refused commands the client is disconnected.
pub const MAX_ERRORS: u32 = 20;

/// What the connection does next.
#[derive(Debug, PartialEq, Eq)]
pub enum Step {
    /// Send the reply and read the next command.
    Reply(Reply),
    /// Send the reply and close the connection.
    Close(Reply),
    /// Send the `354` reply, then read message data up to `CRLF.CRLF`.
    Data(Reply),
    /// Read the next `size` bytes as a BDAT chunk; `first` starts a new message. With
    /// `discard`, the chunk is read and thrown away and `discard` is the reply.
    Bdat { size: u64, last: bool, first: bool, discard: Option<Reply> },
    /// Only the client's reverse name can decide: look it up, hand it to
    /// [`Session::set_client_name`], and feed the same line again.
    Lookup,
    /// Send the `220` reply, drop every byte the client sent after the STARTTLS line, run the
    /// TLS handshake, then call [`Session::tls_started`] (or close when it fails).
    StartTls(Reply),
    /// Check these credentials (off the shard), then call [`Session::auth_checked`].
    Verify(Credentials),
}

/// The TLS session under a connection, for the `Received:` header.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TlsInfo {
    /// `TLSv1.2` or `TLSv1.3`.
    pub version: String,
    /// The IANA cipher suite name, e.g. `TLS13_AES_256_GCM_SHA384`.
    pub cipher: String,
}

/// The greeting state: nothing yet, or the EHLO/HELO name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Helo {
    pub name: String,
    pub esmtp: bool,
}

/// One inbound SMTP session.
pub struct Session {
    pub(super) vs: Rc<VsContext>,
    pub(super) peer: IpAddr,
    pub(super) helo: Option<Helo>,
    pub(super) tx: Option<Transaction>,
    /// Sum of message bytes received in this session (for `max_session_size`).
    pub(super) session_bytes: u64,
    /// Set once the STARTTLS handshake has completed.
    pub(super) tls: Option<TlsInfo>,
    /// The user name of a successful `AUTH`.
    pub(super) auth_user: Option<String>,
    /// A SASL exchange waiting for the client's next line.
    pub(super) sasl: Option<Sasl>,
    pub(super) auth_failures: u32,
    /// The client's reverse lookup, once it was needed and done.
    pub(super) client_name: Option<ClientName>,
    errors: u32,
}

impl Session {
    pub fn new(vs: Rc<VsContext>, peer: IpAddr) -> Session {
        Session {
            vs,
            peer,
            helo: None,
            tx: None,
            session_bytes: 0,
            tls: None,
            auth_user: None,
            sasl: None,
            auth_failures: 0,
            client_name: None,
            errors: 0,
        }
    }

    /// Whether `[access]` admits the client (before the greeting); [`Verdict::NeedName`] asks
    /// for its reverse lookup first.
    pub fn admission(&self) -> Verdict {
        decide(self.vs.access.mode, &self.vs.access.list, self.peer, self.client_name.as_ref())
    }

    /// The reply that refuses a client `[access]` does not admit, counted by reason; the
    /// connection is closed after it.
    pub fn refuse_connection(&self, reason: DenyReason) -> Reply {
        let refuse = match reason {
            DenyReason::Ip => Refuse::AccessList,
            DenyReason::Domain => Refuse::AccessDomain,
            DenyReason::Dns => Refuse::AccessDns,
        };
        self.vs.counters().refuse(refuse);
        let name = self.client_name.as_ref().and_then(ClientName::confirmed).unwrap_or("-");
        tracing::info!(virtual_server = %self.vs.name, client = %self.peer, name, reason = refuse.label(),
            "connection refused by [access]");
        Reply::new(554, Status(5, 7, 1), format!("{} Access denied for [{}]", self.vs.fqdn, self.peer))
    }

    /// Records the client's reverse lookup (asked for by [`Step::Lookup`]).
    pub fn set_client_name(&mut self, name: ClientName) {
        self.client_name = Some(name);
    }

    /// True when the trace header is about to need the reverse lookup that is not done yet.
    pub fn trace_needs_name(&self) -> bool {
        self.vs.reverse_dns && self.client_name.is_none()
    }

    pub fn greeting(&self) -> Reply {
        Reply::plain(220, vec![format!("{} ESMTP {} ready", self.vs.fqdn, self.vs.name).into()])
    }

    pub fn context(&self) -> &VsContext {
        &self.vs
    }

    /// Whether the next line is a SASL response rather than a command.
    pub fn in_sasl(&self) -> bool {
        self.sasl.is_some()
    }

    /// Handles one command line (without CRLF).
    pub fn command(&mut self, line: &[u8]) -> Step {
        if self.sasl.is_some() {
            let step = self.sasl_response(line);
            return self.count_errors(step);
        }
        if self.vs.tls_required && self.tls.is_none() && !command::allowed_before_tls(line) {
            return self.count_errors(self.needs_tls(line));
        }
        let step = match command::parse(line) {
            Ok(cmd) => self.dispatch(cmd),
            Err(e) => Step::Reply(e.reply()),
        };
        self.count_errors(step)
    }

    /// 530 to a command sent before STARTTLS when TLS is required. A BDAT's chunk is read and
    /// dropped: its octets are message data (RFC 3030), never commands.
    fn needs_tls(&self, line: &[u8]) -> Step {
        self.vs.counters().reject(Reject::TlsRequired);
        let reply = Reply::new(530, Status(5, 7, 0), "Must issue a STARTTLS command first");
        match command::parse(line) {
            Ok(Command::Bdat { size, last }) => Step::Bdat { size, last, first: false, discard: Some(reply) },
            _ => Step::Reply(reply),
        }
    }

    /// The reply for a command line longer than the 512-octet limit.
    pub fn line_too_long(&mut self) -> Step {
        self.sasl = None;
        self.count_errors(Step::Reply(Reply::new(500, Status(5, 5, 2), "Line too long")))
    }

    fn count_errors(&mut self, step: Step) -> Step {
        let failed = match &step {
            Step::Reply(r) => r.code >= 500,
            Step::Bdat { discard: Some(r), .. } => r.code >= 500,
            _ => false,
        };
        if !failed {
            return step;
        }
        self.errors += 1;
        if self.errors < MAX_ERRORS {
            return step;
        }
        let reply = Reply::new(421, Status(4, 7, 0), format!("{} Too many errors, closing", self.vs.fqdn));
        match step {
            Step::Bdat { size, last, .. } => Step::Bdat { size, last, first: false, discard: Some(reply) },
            _ => Step::Close(reply),
        }
    }

    fn dispatch(&mut self, cmd: Command) -> Step {
        if let Some(reply) = self.gate(&cmd) {
            return Step::Reply(reply);
        }
        match cmd {
            Command::Ehlo(name) => Step::Reply(self.ehlo(name, true)),
            Command::Helo(name) => Step::Reply(self.ehlo(name, false)),
            Command::Mail { from, params } => Step::Reply(self.mail(from, params)),
            Command::Rcpt { to } => self.rcpt(to),
            Command::Data => self.data(),
            Command::Bdat { size, last } => self.bdat(size, last),
            Command::Rset => {
                self.tx = None;
                Step::Reply(Reply::new(250, Status(2, 0, 0), "Reset OK"))
            }
            Command::Noop => Step::Reply(Reply::new(250, Status(2, 0, 0), "OK")),
            Command::Quit => Step::Close(Reply::new(221, Status(2, 0, 0), format!("{} closing", self.vs.fqdn))),
            Command::Vrfy => Step::Reply(Reply::new(
                252,
                Status(2, 5, 0),
                "Cannot VRFY user, but will accept message and attempt delivery",
            )),
            Command::Help => Step::Reply(Reply::new(
                214,
                Status(2, 0, 0),
                "Commands: HELO EHLO STARTTLS AUTH MAIL RCPT DATA BDAT RSET NOOP QUIT VRFY HELP",
            )),
            Command::StartTls => self.starttls(),
            Command::Auth(args) => self.auth(&args),
        }
    }

    /// The refusal of MAIL from a client that must authenticate first (`anonymous = false`).
    /// (Commands before a required STARTTLS are refused earlier: `needs_tls`.)
    fn gate(&self, cmd: &Command) -> Option<Reply> {
        if matches!(cmd, Command::Mail { .. }) && !self.vs.auth.anonymous && self.auth_user.is_none() {
            self.vs.counters().reject(Reject::AuthRequired);
            return Some(Reply::new(530, Status(5, 7, 0), "Authentication required"));
        }
        None
    }

    fn starttls(&mut self) -> Step {
        if self.tls.is_some() {
            return Step::Reply(bad_sequence("TLS already active"));
        }
        if self.vs.tls.is_none() {
            return Step::Reply(Reply::new(502, Status(5, 5, 1), "STARTTLS not available"));
        }
        if self.helo.is_none() {
            return Step::Reply(bad_sequence("Send EHLO first"));
        }
        if self.tx.is_some() {
            return Step::Reply(bad_sequence("STARTTLS not permitted during a mail transaction"));
        }
        Step::StartTls(Reply::new(220, Status(2, 0, 0), "Ready to start TLS"))
    }

    /// The handshake has completed: the session starts over (RFC 3207 §4.2), EHLO first.
    pub fn tls_started(&mut self, info: TlsInfo) {
        self.tls = Some(info);
        self.helo = None;
        self.tx = None;
        self.auth_user = None;
        self.sasl = None;
    }

    fn ehlo(&mut self, name: String, esmtp: bool) -> Reply {
        self.tx = None;
        self.helo = Some(Helo { name, esmtp });
        let first = format!("{} Hello [{}]", self.vs.fqdn, self.peer);
        if !esmtp {
            return Reply::plain(250, vec![first.into()]);
        }
        let size = format!("SIZE {}", self.vs.limits.max_message_size);
        let mut lines = vec![first.into(), "PIPELINING".into(), size.into(), "8BITMIME".into()];
        if self.vs.tls.is_some() && self.tls.is_none() {
            lines.push("STARTTLS".into());
        }
        let clear_ok = !self.vs.auth.require_tls_for_basic && !self.vs.tls_required;
        if self.vs.auth_offered() && (self.tls.is_some() || clear_ok) {
            lines.push("AUTH PLAIN LOGIN".into());
        }
        lines.extend(["ENHANCEDSTATUSCODES".into(), "CHUNKING".into(), "SMTPUTF8".into()]);
        Reply::plain(250, lines)
    }

    fn data(&mut self) -> Step {
        match self.tx.as_mut() {
            Some(tx) if !tx.rcpts.is_empty() && !tx.bdat_started => {
                Step::Data(Reply::new(354, Status(2, 0, 0), "Start mail input; end with <CRLF>.<CRLF>"))
            }
            Some(tx) if tx.bdat_started => Step::Reply(bad_sequence("DATA not allowed after BDAT")),
            Some(_) => Step::Reply(bad_sequence("No valid recipients")),
            None => Step::Reply(bad_sequence("Need MAIL command")),
        }
    }

    fn bdat(&mut self, size: u64, last: bool) -> Step {
        let (first, discard) = match self.tx.as_mut() {
            Some(tx) if !tx.rcpts.is_empty() => (!std::mem::replace(&mut tx.bdat_started, true), None),
            Some(_) => (false, Some(bad_sequence("No valid recipients"))),
            None => (false, Some(bad_sequence("Need MAIL command"))),
        };
        Step::Bdat { size, last, first, discard }
    }
}

/// `503 5.5.1`: a command out of sequence.
pub(super) fn bad_sequence(text: &'static str) -> Reply {
    Reply::new(503, Status(5, 5, 1), text)
}
