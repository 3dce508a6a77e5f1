//! Connection-level failures of the SMTP client, with the stage they happened in.

use std::fmt;
use std::io;
use std::net::SocketAddr;
use std::time::Duration;

use super::reply::{reply_text, ReplyError};
use crate::proto::reply::Reply;

/// The step of the conversation an error happened in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stage {
    Connect,
    /// Waiting for the `220` greeting.
    Banner,
    Ehlo,
    Helo,
    /// The `STARTTLS` command and the TLS handshake.
    StartTls,
    /// The `AUTH` exchange.
    Auth,
    Mail,
    Rcpt,
    /// The `DATA` command and its `354`.
    Data,
    /// Writing the message body.
    Body,
    /// Waiting for the reply to the end of data.
    DataEnd,
    Rset,
    Quit,
}

impl fmt::Display for Stage {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Stage::Connect => "connect",
            Stage::Banner => "banner",
            Stage::Ehlo => "EHLO",
            Stage::Helo => "HELO",
            Stage::StartTls => "STARTTLS",
            Stage::Auth => "AUTH",
            Stage::Mail => "MAIL",
            Stage::Rcpt => "RCPT",
            Stage::Data => "DATA",
            Stage::Body => "message body",
            Stage::DataEnd => "end of data",
            Stage::Rset => "RSET",
            Stage::Quit => "QUIT",
        })
    }
}

/// Why a connection (or the transaction on it) failed as a whole. Permanent: a `5xx` banner,
/// HELO, STARTTLS or AUTH refusal, a server without the STARTTLS the policy needs, a server
/// without a usable AUTH mechanism. Everything else is worth a retry later or elsewhere.
#[derive(Debug, thiserror::Error)]
pub enum ClientError {
    /// The TCP connection could not be made (refused, unreachable, ...).
    #[error("cannot connect to {addr}: {source}")]
    Connect { addr: SocketAddr, source: io::Error },
    /// The server did not answer (or take our bytes) within the stage's timeout.
    #[error("{addr}: timed out after {after:?} in {stage}")]
    Timeout { addr: SocketAddr, stage: Stage, after: Duration },
    /// Reading or writing failed.
    #[error("{addr}: I/O error in {stage}: {source}")]
    Io { addr: SocketAddr, stage: Stage, source: io::Error },
    /// The server closed the connection without a reply.
    #[error("{addr} closed the connection in {stage}")]
    Closed { addr: SocketAddr, stage: Stage },
    /// The server sent something that is not an SMTP reply.
    #[error("{addr}: bad reply in {stage}: {source}")]
    Protocol { addr: SocketAddr, stage: Stage, source: ReplyError },
    /// The server answered `421`: it is closing the connection.
    #[error("{addr} is closing the connection in {stage}: {}", reply_text(.reply))]
    Closing { addr: SocketAddr, stage: Stage, reply: Reply },
    /// The greeting was not `2xx`.
    #[error("{addr} refused the session: {}", reply_text(.reply))]
    Banner { addr: SocketAddr, reply: Reply },
    /// EHLO was refused with `4xx`, or EHLO and then HELO with `5xx`.
    #[error("{addr} refused EHLO/HELO: {}", reply_text(.reply))]
    Greeting { addr: SocketAddr, reply: Reply },
    /// The server does not offer STARTTLS (or it was refused before) and the policy needs TLS.
    #[error("{addr} does not offer STARTTLS and {because}")]
    TlsUnavailable { addr: SocketAddr, because: &'static str },
    /// The server answered STARTTLS with something else than `220` while TLS is needed.
    #[error("{addr} refused STARTTLS: {}", reply_text(.reply))]
    StartTls { addr: SocketAddr, reply: Reply },
    /// The TLS handshake failed (bad certificate, no common parameters, broken connection).
    #[error("{addr}: TLS handshake failed: {source}")]
    Handshake { addr: SocketAddr, source: io::Error },
    /// Credentials are configured but the server offers neither AUTH PLAIN nor AUTH LOGIN.
    #[error("{addr} offers no AUTH PLAIN or LOGIN for the configured credentials")]
    AuthUnavailable { addr: SocketAddr },
    /// The server refused the credentials (`535` is permanent: they are wrong).
    #[error("{addr} refused authentication: {}", reply_text(.reply))]
    AuthRefused { addr: SocketAddr, reply: Reply },
    /// `send` was called after the connection failed or the server closed it.
    #[error("{addr}: the connection cannot carry another message")]
    NotUsable { addr: SocketAddr },
}

impl ClientError {
    /// Whether retrying this server later is pointless.
    pub fn is_permanent(&self) -> bool {
        match self {
            ClientError::Banner { reply, .. }
            | ClientError::Greeting { reply, .. }
            | ClientError::StartTls { reply, .. }
            | ClientError::AuthRefused { reply, .. } => reply.code >= 500,
            ClientError::TlsUnavailable { .. } | ClientError::AuthUnavailable { .. } => true,
            _ => false,
        }
    }

    /// The enhanced status code the failure is reported with: the server's own for a refused
    /// STARTTLS or AUTH, `5.7.10` (encryption needed) when TLS is missing, else a generic one.
    pub fn status(&self) -> String {
        let permanent = self.is_permanent();
        let generic = match self {
            ClientError::TlsUnavailable { .. } => "5.7.10",
            ClientError::AuthUnavailable { .. } => "5.7.0",
            ClientError::StartTls { .. } | ClientError::Handshake { .. } | ClientError::AuthRefused { .. } => {
                if permanent {
                    "5.7.0"
                } else {
                    "4.7.0"
                }
            }
            _ if permanent => "5.4.0",
            _ => "4.4.1",
        };
        match self {
            ClientError::StartTls { reply, .. } | ClientError::AuthRefused { reply, .. } => {
                reply.status.map_or_else(|| generic.to_string(), |s| s.to_string())
            }
            _ => generic.to_string(),
        }
    }

    /// The server's reply, when the error is one.
    pub fn reply(&self) -> Option<&Reply> {
        match self {
            ClientError::Closing { reply, .. } | ClientError::Banner { reply, .. } => Some(reply),
            ClientError::Greeting { reply, .. }
            | ClientError::StartTls { reply, .. }
            | ClientError::AuthRefused { reply, .. } => Some(reply),
            _ => None,
        }
    }

    /// The remote address the error is about.
    pub fn addr(&self) -> SocketAddr {
        match self {
            ClientError::Connect { addr, .. }
            | ClientError::Timeout { addr, .. }
            | ClientError::Io { addr, .. }
            | ClientError::Closed { addr, .. }
            | ClientError::Protocol { addr, .. }
            | ClientError::Closing { addr, .. }
            | ClientError::Banner { addr, .. }
            | ClientError::Greeting { addr, .. }
            | ClientError::TlsUnavailable { addr, .. }
            | ClientError::StartTls { addr, .. }
            | ClientError::Handshake { addr, .. }
            | ClientError::AuthUnavailable { addr }
            | ClientError::AuthRefused { addr, .. }
            | ClientError::NotUsable { addr } => *addr,
        }
    }

    /// The stage of the conversation, where one applies.
    pub fn stage(&self) -> Option<Stage> {
        match self {
            ClientError::Connect { .. } => Some(Stage::Connect),
            ClientError::Timeout { stage, .. }
            | ClientError::Io { stage, .. }
            | ClientError::Closed { stage, .. }
            | ClientError::Protocol { stage, .. }
            | ClientError::Closing { stage, .. } => Some(*stage),
            ClientError::Banner { .. } => Some(Stage::Banner),
            ClientError::TlsUnavailable { .. } | ClientError::StartTls { .. } | ClientError::Handshake { .. } => {
                Some(Stage::StartTls)
            }
            ClientError::AuthUnavailable { .. } | ClientError::AuthRefused { .. } => Some(Stage::Auth),
            ClientError::Greeting { .. } | ClientError::NotUsable { .. } => None,
        }
    }
}
