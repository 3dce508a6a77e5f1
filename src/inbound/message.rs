//! The end of a message (after DATA or BDAT LAST): the checks that can refuse it, the spool
//! metadata, the trace header, and the reply once the spool has answered.

use std::rc::Rc;
use std::time::{SystemTime, UNIX_EPOCH};

use time::OffsetDateTime;

use super::received::{received_header, Rdns, Trace};
use super::session::Session;
use crate::admin::metrics::Reject;
use crate::proto::address::Body;
use crate::proto::headers::count_received;
use crate::proto::reply::{Reply, Status};
use crate::spool::{MessageMeta, SpoolError};

/// What the connection learned while reading the message data.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DataInfo {
    /// The data grew past `max_message_size` (and was not kept).
    pub oversize: bool,
    /// A bare CR or LF was seen.
    pub bare_eol: bool,
}

/// A message that passed the checks and is ready to be spooled.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Accepted {
    pub meta: Rc<MessageMeta>,
}

pub const FLAG_8BITMIME: u8 = 1;
pub const FLAG_SMTPUTF8: u8 = 2;

impl Session {
    /// The `Received:` header for the message about to be read, given its id.
    pub fn trace_header(&self, id: &str) -> String {
        let helo = self.helo.as_ref().map_or("unknown", |h| h.name.as_str());
        let esmtp = self.helo.as_ref().is_some_and(|h| h.esmtp);
        let single = self.tx.as_ref().filter(|tx| tx.rcpts.len() == 1).map(|tx| tx.rcpts[0].as_str());
        let trace = Trace {
            helo,
            client: self.peer,
            fqdn: &self.vs.fqdn,
            esmtp,
            tls: self.tls.as_ref(),
            auth_user: self.auth_user.as_deref(),
            id,
            single_recipient: single,
            rdns: match (&self.client_name, self.vs.reverse_dns) {
                (Some(name), true) => Rdns::check(name, helo),
                (None, true) => Rdns::Failed,
                (_, false) => Rdns::Off,
            },
        };
        received_header(&trace, OffsetDateTime::now_utc())
    }

    /// Ends the transaction: checks the message data (wire form, without the trace header)
    /// and returns what to spool, or the refusal.
    pub fn finish(&mut self, id: &str, data: &[u8], info: DataInfo) -> Result<Accepted, Reply> {
        let tx = self.tx.take().expect("a message is only read inside a transaction");
        let counters = self.vs.counters();
        if info.oversize {
            counters.reject(Reject::Size);
            let limit = self.vs.limits.max_message_size;
            return Err(Reply::new(552, Status(5, 3, 4), format!("Message exceeds fixed limit of {limit} bytes")));
        }
        if info.bare_eol {
            counters.reject(Reject::BareEol);
            return Err(Reply::new(550, Status(5, 5, 2), "Bare CR or LF in message data not allowed"));
        }
        let hops = count_received(data);
        if hops > self.vs.max_hop_count as usize {
            counters.reject(Reject::HopCount);
            return Err(Reply::new(554, Status(5, 4, 6), format!("Too many hops ({hops} Received headers)")));
        }
        let mut flags = 0;
        if tx.params.body == Body::EightBitMime {
            flags |= FLAG_8BITMIME;
        }
        if tx.params.smtputf8 {
            flags |= FLAG_SMTPUTF8;
        }
        let meta = MessageMeta {
            id: id.to_string(),
            received_at: SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs()),
            reverse_path: tx.from,
            recipients: tx.rcpts,
            virtual_server: self.vs.name.clone(),
            flags,
        };
        Ok(Accepted { meta: Rc::new(meta) })
    }

    /// The reply once the spool has stored (or failed to store) a message of `bytes` bytes.
    pub fn stored(&mut self, id: &str, bytes: u64, result: Result<(), &SpoolError>) -> Reply {
        let counters = self.vs.counters();
        match result {
            Ok(()) => {
                counters.messages_received.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                counters.bytes_received.fetch_add(bytes, std::sync::atomic::Ordering::Relaxed);
                Reply::new(250, Status(2, 0, 0), format!("Queued as {id}"))
            }
            Err(e) => {
                tracing::error!(virtual_server = %self.vs.name, "message {id} not stored: {e}");
                counters.reject(Reject::Spool);
                Reply::new(452, Status(4, 3, 1), "Insufficient system storage, try again later")
            }
        }
    }

    /// Ends the transaction without a message (the data could not be read to its end).
    pub fn abort_message(&mut self) {
        self.tx = None;
    }

    /// Adds message bytes to the session total; true once it passed `max_session_size`.
    pub fn add_session_bytes(&mut self, bytes: u64) -> bool {
        self.session_bytes += bytes;
        self.session_bytes > self.vs.limits.max_session_size
    }

    /// True when the session total has reached `max_session_size`: close after this reply.
    pub fn session_full(&self) -> bool {
        self.session_bytes >= self.vs.limits.max_session_size
    }

    /// The reply that closes a session whose size limit was reached.
    pub fn session_limit_reply(&self) -> Reply {
        self.vs.counters().reject(Reject::SessionSize);
        Reply::new(421, Status(4, 7, 0), format!("{} Session size limit reached, closing", self.vs.fqdn))
    }

    /// The size limit for one message.
    pub fn max_message_size(&self) -> u64 {
        self.vs.limits.max_message_size
    }
}
