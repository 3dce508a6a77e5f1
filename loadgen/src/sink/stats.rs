//! The sink's exact accounting, shared by its executor threads: open connections per listening
//! address and in total (with their maxima, updated at accept and at QUIT or close), messages
//! per connection, and the counters the live progress line reads.

use std::sync::atomic::{AtomicI64, AtomicU64, Ordering::Relaxed};

use serde::{Deserialize, Serialize};

/// Counters of one listening address (one destination domain in `bench`).
#[derive(Debug, Default)]
pub struct Listener {
    pub open: AtomicI64,
    pub max_open: AtomicI64,
    pub connections: AtomicU64,
}

/// Everything the sink counts while it runs.
#[derive(Debug, Default)]
pub struct SinkStats {
    pub listeners: Vec<Listener>,
    pub open: AtomicI64,
    pub max_open: AtomicI64,
    /// Messages answered with 250 (whether recorded or not).
    pub messages: AtomicU64,
    pub recipients: AtomicU64,
    pub bytes: AtomicU64,
    /// Messages without a loadgen Message-ID (or of another run).
    pub foreign: AtomicU64,
    pub tempfails: AtomicU64,
    pub permfails: AtomicU64,
    pub rcpt_limited: AtomicU64,
    pub disconnects: AtomicU64,
    /// Sessions that completed STARTTLS.
    pub tls_sessions: AtomicU64,
    /// AUTH commands answered 235 (any credentials pass).
    pub auths: AtomicU64,
    pub max_messages_per_connection: AtomicU64,
}

impl SinkStats {
    pub fn new(listeners: usize) -> SinkStats {
        SinkStats { listeners: (0..listeners).map(|_| Listener::default()).collect(), ..SinkStats::default() }
    }

    pub fn opened(&self, listener: usize) {
        let l = &self.listeners[listener];
        l.connections.fetch_add(1, Relaxed);
        l.max_open.fetch_max(l.open.fetch_add(1, Relaxed) + 1, Relaxed);
        self.max_open.fetch_max(self.open.fetch_add(1, Relaxed) + 1, Relaxed);
    }

    pub fn closed(&self, listener: usize) {
        self.listeners[listener].open.fetch_sub(1, Relaxed);
        self.open.fetch_sub(1, Relaxed);
    }

    /// A connection carried its `n`th message.
    pub fn carried(&self, n: u64) {
        self.max_messages_per_connection.fetch_max(n, Relaxed);
    }

    /// A copy of the counters for the report.
    pub fn summary(&self, addresses: &[String]) -> SinkSummary {
        SinkSummary {
            listeners: self
                .listeners
                .iter()
                .zip(addresses)
                .map(|(l, address)| ListenerSummary {
                    address: address.clone(),
                    connections: l.connections.load(Relaxed),
                    max_open: l.max_open.load(Relaxed).max(0) as u64,
                })
                .collect(),
            connections: self.listeners.iter().map(|l| l.connections.load(Relaxed)).sum(),
            max_open: self.max_open.load(Relaxed).max(0) as u64,
            messages: self.messages.load(Relaxed),
            recipients: self.recipients.load(Relaxed),
            bytes: self.bytes.load(Relaxed),
            foreign: self.foreign.load(Relaxed),
            tempfails: self.tempfails.load(Relaxed),
            permfails: self.permfails.load(Relaxed),
            rcpt_limited: self.rcpt_limited.load(Relaxed),
            disconnects: self.disconnects.load(Relaxed),
            tls_sessions: self.tls_sessions.load(Relaxed),
            auths: self.auths.load(Relaxed),
            max_messages_per_connection: self.max_messages_per_connection.load(Relaxed),
            messages_per_connection: Vec::new(),
        }
    }
}

/// The sink's figures in a report.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SinkSummary {
    pub listeners: Vec<ListenerSummary>,
    pub connections: u64,
    pub max_open: u64,
    pub messages: u64,
    pub recipients: u64,
    pub bytes: u64,
    pub foreign: u64,
    pub tempfails: u64,
    pub permfails: u64,
    pub rcpt_limited: u64,
    pub disconnects: u64,
    pub tls_sessions: u64,
    pub auths: u64,
    pub max_messages_per_connection: u64,
    /// Messages carried by each closed connection, as (messages, connections) pairs.
    pub messages_per_connection: Vec<(u64, u64)>,
}

/// One listening address.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ListenerSummary {
    pub address: String,
    pub connections: u64,
    pub max_open: u64,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn maxima_follow_opens_and_closes() {
        let s = SinkStats::new(2);
        s.opened(0);
        s.opened(0);
        s.closed(0);
        s.opened(1);
        s.opened(0);
        let sum = s.summary(&["a".into(), "b".into()]);
        assert_eq!((sum.listeners[0].max_open, sum.listeners[1].max_open, sum.max_open), (2, 1, 3));
        assert_eq!(sum.connections, 4);
    }
}
