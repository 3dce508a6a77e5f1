//! Outbound counters: totals as relaxed atomics written by one shard each; per-domain counters
//! live in a per-shard registry whose lock is taken only when a new domain first appears and
//! when `/metrics` is scraped, never per message.

use std::cell::RefCell;
use std::collections::HashMap;
use std::sync::atomic::{AtomicI64, AtomicU64, Ordering::Relaxed};
use std::sync::{Arc, Mutex};
use std::time::{SystemTime, UNIX_EPOCH};

/// Counters of one destination domain on one shard.
#[derive(Debug, Default)]
pub struct DomainCounters {
    pub sent: AtomicU64,
    pub connections: AtomicI64,
    pub queued: AtomicI64,
    /// Messages sent per second over the last [`WINDOW`] seconds: one slot per second.
    window: [AtomicU64; WINDOW],
    stamps: [AtomicU64; WINDOW],
}

/// Width of the sliding window of `tern_messages_sent_per_second`, in seconds.
pub const WINDOW: usize = 10;

impl DomainCounters {
    fn record_sent(&self, now: u64) {
        self.sent.fetch_add(1, Relaxed);
        let slot = (now as usize) % WINDOW;
        if self.stamps[slot].swap(now, Relaxed) != now {
            self.window[slot].store(0, Relaxed);
        }
        self.window[slot].fetch_add(1, Relaxed);
    }

    /// Messages per second over the last full window (the current second excluded).
    pub fn rate(&self, now: u64) -> f64 {
        let total: u64 = (1..=WINDOW as u64)
            .filter_map(|back| now.checked_sub(back))
            .filter(|&second| self.stamps[(second as usize) % WINDOW].load(Relaxed) == second)
            .map(|second| self.window[(second as usize) % WINDOW].load(Relaxed))
            .sum();
        total as f64 / WINDOW as f64
    }
}

/// Everything outbound on one shard.
#[derive(Debug, Default)]
pub struct OutboundStats {
    pub connections: AtomicI64,
    pub deferred: AtomicU64,
    pub ndr: AtomicU64,
    pub badmail: AtomicU64,
    pub bytes_sent: AtomicU64,
    domains: Mutex<Vec<(String, Arc<DomainCounters>)>>,
}

pub fn unix_now() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs())
}

impl OutboundStats {
    /// A snapshot of the per-domain counters (for rendering).
    pub fn domains(&self) -> Vec<(String, Arc<DomainCounters>)> {
        self.domains.lock().expect("metrics registry").clone()
    }
}

/// One shard's handle: the shared counters plus its own map of per-domain counters.
pub struct ShardStats {
    pub shared: Arc<OutboundStats>,
    local: RefCell<HashMap<String, Arc<DomainCounters>>>,
}

impl ShardStats {
    pub fn new(shared: Arc<OutboundStats>) -> ShardStats {
        ShardStats { shared, local: RefCell::default() }
    }

    /// The counters of `domain` on this shard (registered on first use).
    pub fn domain(&self, domain: &str) -> Arc<DomainCounters> {
        if let Some(c) = self.local.borrow().get(domain) {
            return c.clone();
        }
        let c = Arc::new(DomainCounters::default());
        self.shared.domains.lock().expect("metrics registry").push((domain.to_string(), c.clone()));
        self.local.borrow_mut().insert(domain.to_string(), c.clone());
        c
    }

    pub fn sent(&self, domain: &str, bytes: u64) {
        self.domain(domain).record_sent(unix_now());
        self.shared.bytes_sent.fetch_add(bytes, Relaxed);
    }

    pub fn connection_opened(&self, domain: &str) {
        self.shared.connections.fetch_add(1, Relaxed);
        self.domain(domain).connections.fetch_add(1, Relaxed);
    }

    pub fn connection_closed(&self, domain: &str) {
        self.shared.connections.fetch_sub(1, Relaxed);
        self.domain(domain).connections.fetch_sub(1, Relaxed);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_rate_covers_the_last_full_window() {
        let c = DomainCounters::default();
        for second in 100..110u64 {
            for _ in 0..(second - 99) {
                c.record_sent(second);
            }
        }
        assert_eq!(c.sent.load(Relaxed), 55);
        assert_eq!(c.rate(110), 5.5, "seconds 100..=109 hold 1..=10 messages");
        assert_eq!(c.rate(115), (6 + 7 + 8 + 9 + 10) as f64 / 10.0, "older seconds drop out");
        assert_eq!(c.rate(200), 0.0);
    }
}
