//! What travels between shards: a delivery job (some recipients of one message for one
//! destination) to the destination's owner shard, and its result back to the message's shard.

use std::sync::Arc;

/// Recipients of one message that share a destination.
#[derive(Debug, Clone)]
pub struct Job {
    /// The shard whose spool holds the message (results go back there).
    pub home: usize,
    pub id: String,
    /// `MAIL FROM` as it will be sent (masquerade applied); empty for `<>`.
    pub reverse_path: String,
    /// (index in the message's recipients, address).
    pub recipients: Vec<(u16, String)>,
    /// Wire form (dot-stuffed, CRLF), without the final `.\r\n`.
    pub body: Arc<[u8]>,
    /// Spool flags (8BITMIME, SMTPUTF8).
    pub flags: u8,
    /// The recipient domain (counters, routing).
    pub domain: String,
}

/// What happened to one recipient.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    Delivered,
    /// Try again later. `status` is the enhanced code (`4.4.1`), `diagnostic` the remote's text.
    Temporary {
        status: String,
        diagnostic: String,
        remote: Option<String>,
    },
    /// Give up: NDR. `status` like `5.1.1`.
    Permanent {
        status: String,
        diagnostic: String,
        remote: Option<String>,
    },
}

/// The outcome of a job, per recipient index.
#[derive(Debug, Clone)]
pub struct JobResult {
    pub id: String,
    pub outcomes: Vec<(u16, Outcome)>,
}
