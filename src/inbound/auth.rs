//! Inbound `AUTH PLAIN` and `AUTH LOGIN` (RFC 4954, 4616): the SASL exchange as pure steps.
//! The password check itself runs in the connection glue (off the shard); its result comes
//! back through [`Session::auth_checked`].

use std::time::Duration;

use base64::engine::general_purpose::STANDARD;
use base64::Engine;

use super::session::{bad_sequence, Session, Step};
use crate::admin::metrics::AuthResult;
use crate::proto::reply::{Reply, Status};

/// After this many wrong credentials the client is disconnected (`421 4.7.0`).
pub const MAX_AUTH_FAILURES: u32 = 3;
/// The delay before the reply to the first wrong credentials; it doubles with each failure.
pub const FIRST_FAILURE_DELAY: Duration = Duration::from_secs(1);

/// A SASL exchange waiting for the client's next line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Sasl {
    /// `AUTH PLAIN` without an initial response: the `334` was sent.
    Plain,
    /// `AUTH LOGIN`: waiting for the user name.
    LoginUser,
    /// `AUTH LOGIN`: waiting for the password of this user.
    LoginPassword(String),
}

/// Credentials to check against the users file.
#[derive(Clone, PartialEq, Eq)]
pub struct Credentials {
    pub user: String,
    pub password: Vec<u8>,
}

impl std::fmt::Debug for Credentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Credentials").field("user", &self.user).finish_non_exhaustive()
    }
}

/// What to answer after a password check.
#[derive(Debug, PartialEq, Eq)]
pub struct Checked {
    /// Wait this long before the reply (a failure slows the next guess down).
    pub delay: Duration,
    pub reply: Reply,
    /// Close the connection after the reply.
    pub close: bool,
}

/// What a SASL line held.
#[derive(Debug, PartialEq, Eq)]
enum Response {
    Cancel,
    Bytes(Vec<u8>),
}

/// Decodes one client response: `*` cancels, `=` is empty (RFC 4954 §4).
fn response(line: &[u8]) -> Result<Response, Reply> {
    match line {
        b"*" => Ok(Response::Cancel),
        b"=" => Ok(Response::Bytes(Vec::new())),
        _ => STANDARD.decode(line).map(Response::Bytes).map_err(|_| malformed("Invalid base64 data")),
    }
}

/// `[authzid] NUL authcid NUL passwd` → credentials; an authzid other than the authcid is
/// refused like wrong credentials (tern does not act on behalf of other users).
fn plain(bytes: &[u8]) -> Result<Credentials, Reply> {
    let mut parts = bytes.split(|&b| b == 0);
    let (Some(authz), Some(authc), Some(password), None) = (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err(malformed("Malformed PLAIN response"));
    };
    let user = std::str::from_utf8(authc).map_err(|_| malformed("User name is not UTF-8"))?;
    let password = if authz.is_empty() || authz == authc { password.to_vec() } else { Vec::new() };
    Ok(Credentials { user: user.to_string(), password })
}

fn malformed(text: &'static str) -> Reply {
    Reply::new(501, Status(5, 5, 2), text)
}

fn challenge(text: &'static str) -> Reply {
    Reply::plain(334, vec![text.into()])
}

impl Session {
    /// `AUTH mechanism [initial-response]`.
    pub(super) fn auth(&mut self, args: &str) -> Step {
        if let Some(reply) = self.auth_refusal() {
            return Step::Reply(reply);
        }
        let (mechanism, initial) = match args.split_once(' ') {
            Some((m, rest)) => (m, Some(rest.trim())),
            None => (args, None),
        };
        match (mechanism.to_ascii_uppercase().as_str(), initial) {
            ("PLAIN", None) => self.await_response(Sasl::Plain, challenge("")),
            ("PLAIN", Some(initial)) => self.sasl_line(Sasl::Plain, initial.as_bytes()),
            ("LOGIN", None) => self.await_response(Sasl::LoginUser, challenge("VXNlcm5hbWU6")),
            ("LOGIN", Some(initial)) => self.sasl_line(Sasl::LoginUser, initial.as_bytes()),
            _ => Step::Reply(Reply::new(504, Status(5, 5, 4), "Unrecognized authentication type")),
        }
    }

    /// Why `AUTH` may not start now, if it may not.
    fn auth_refusal(&self) -> Option<Reply> {
        if !self.vs.auth_offered() {
            return Some(Reply::new(502, Status(5, 5, 1), "AUTH not available"));
        }
        if self.auth_user.is_some() {
            return Some(bad_sequence("Already authenticated"));
        }
        if self.helo.is_none() {
            return Some(bad_sequence("Send EHLO first"));
        }
        if self.tx.is_some() {
            return Some(bad_sequence("AUTH not permitted during a mail transaction"));
        }
        if self.tls.is_none() && self.vs.auth.require_tls_for_basic {
            self.vs.counters().auth(AuthResult::NoTls);
            return Some(Reply::new(
                538,
                Status(5, 7, 11),
                "Encryption required for requested authentication mechanism",
            ));
        }
        None
    }

    fn await_response(&mut self, sasl: Sasl, reply: Reply) -> Step {
        self.sasl = Some(sasl);
        Step::Reply(reply)
    }

    /// The client's line during a SASL exchange.
    pub(super) fn sasl_response(&mut self, line: &[u8]) -> Step {
        let sasl = self.sasl.take().expect("only called inside an exchange");
        self.sasl_line(sasl, line)
    }

    fn sasl_line(&mut self, sasl: Sasl, line: &[u8]) -> Step {
        let bytes = match response(line) {
            Ok(Response::Bytes(bytes)) => bytes,
            Ok(Response::Cancel) => {
                self.vs.counters().auth(AuthResult::Cancelled);
                return Step::Reply(Reply::new(501, Status(5, 7, 0), "Authentication cancelled"));
            }
            Err(reply) => {
                self.vs.counters().auth(AuthResult::Malformed);
                return Step::Reply(reply);
            }
        };
        let credentials = match sasl {
            Sasl::Plain => plain(&bytes),
            Sasl::LoginUser => match String::from_utf8(bytes) {
                Ok(user) => return self.await_response(Sasl::LoginPassword(user), challenge("UGFzc3dvcmQ6")),
                Err(_) => Err(malformed("User name is not UTF-8")),
            },
            Sasl::LoginPassword(user) => Ok(Credentials { user, password: bytes }),
        };
        match credentials {
            Ok(credentials) => Step::Verify(credentials),
            Err(reply) => {
                self.vs.counters().auth(AuthResult::Malformed);
                Step::Reply(reply)
            }
        }
    }

    /// The outcome of a password check. Failures are limited by [`MAX_AUTH_FAILURES`], not
    /// by the session's error count.
    pub fn auth_checked(&mut self, user: String, ok: bool) -> Checked {
        let counters = self.vs.counters();
        if ok {
            counters.auth(AuthResult::Success);
            tracing::info!(virtual_server = %self.vs.name, peer = %self.peer, %user, "authenticated");
            self.auth_user = Some(user);
            let reply = Reply::new(235, Status(2, 7, 0), "Authentication successful");
            return Checked { delay: Duration::ZERO, reply, close: false };
        }
        counters.auth(AuthResult::Failure);
        self.auth_failures += 1;
        // The name is the client's, unchecked: quoted and escaped, so it cannot forge log lines.
        tracing::info!(virtual_server = %self.vs.name, peer = %self.peer, ?user, failures = self.auth_failures,
            "authentication failed");
        let delay = FIRST_FAILURE_DELAY * (1 << (self.auth_failures - 1).min(4));
        if self.auth_failures >= MAX_AUTH_FAILURES {
            let text = format!("{} Too many authentication failures, closing", self.vs.fqdn);
            return Checked { delay, reply: Reply::new(421, Status(4, 7, 0), text), close: true };
        }
        let reply = Reply::new(535, Status(5, 7, 8), "Authentication credentials invalid");
        Checked { delay, reply, close: false }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn responses() {
        assert_eq!(response(b"*"), Ok(Response::Cancel));
        assert_eq!(response(b"="), Ok(Response::Bytes(Vec::new())));
        assert_eq!(response(b"YWxpY2U="), Ok(Response::Bytes(b"alice".to_vec())));
        assert_eq!(response(b"YWxpY2U").unwrap_err().code, 501);
        assert_eq!(response(b"not base64!").unwrap_err().lines[0], "Invalid base64 data");
    }

    #[test]
    fn plain_forms() {
        let ok = |user: &str, pw: &[u8]| Ok(Credentials { user: user.into(), password: pw.to_vec() });
        assert_eq!(plain(b"\0alice\0pw"), ok("alice", b"pw"));
        assert_eq!(plain(b"alice\0alice\0pw"), ok("alice", b"pw"));
        assert_eq!(plain(b"bob\0alice\0pw"), ok("alice", b""), "another authzid never passes");
        assert_eq!(plain(b"alice\0pw").unwrap_err().code, 501);
        assert_eq!(plain(b"\0a\0b\0c").unwrap_err().code, 501);
        assert_eq!(plain(b"\0\xff\0pw").unwrap_err().code, 501);
    }
}
