//! The verifier (pure): every accepted message arrived exactly once with all its recipients,
//! and the sink's exact connection accounting stayed within the configured limits.

use std::collections::HashMap;

use serde::{Deserialize, Serialize};

/// At most this many IDs are listed per kind of problem (the counts are always complete).
pub const LIST_LIMIT: usize = 50;

/// Limits tern was configured with (0 = unlimited, as in the configuration).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Limits {
    pub connections_per_domain: u32,
    pub outbound_connections: u32,
    pub messages_per_connection: u32,
}

/// What the sink saw of the connections.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Connections {
    /// (domain, most connections open at once) per destination.
    pub max_open_per_domain: Vec<(String, u64)>,
    pub max_open_total: u64,
    pub max_messages_per_connection: u64,
}

/// The result of a check.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Verdict {
    pub accepted: u64,
    pub delivered: u64,
    pub missing_count: u64,
    /// Sequence numbers of messages with fewer recipients delivered than accepted.
    pub missing: Vec<u64>,
    pub duplicated_count: u64,
    /// Sequence numbers of messages with more recipients delivered than accepted.
    pub duplicated: Vec<u64>,
    /// Deliveries of messages the client never saw accepted (e.g. a reply lost to a timeout).
    pub unexpected_count: u64,
    pub violations: Vec<String>,
}

impl Verdict {
    pub fn ok(&self) -> bool {
        self.missing_count == 0 && self.duplicated_count == 0 && self.violations.is_empty()
    }
}

/// Compares accepted (sequence, recipients) with delivered ones.
pub fn messages(accepted: &[(u64, u32)], delivered: &[(u64, u32)]) -> Verdict {
    let mut got: HashMap<u64, u64> = HashMap::with_capacity(delivered.len());
    for &(seq, rcpts) in delivered {
        *got.entry(seq).or_default() += u64::from(rcpts);
    }
    let mut v = Verdict { accepted: accepted.len() as u64, delivered: delivered.len() as u64, ..Verdict::default() };
    let mut sorted = accepted.to_vec();
    sorted.sort_unstable();
    for (seq, want) in sorted {
        match got.remove(&seq).unwrap_or(0).cmp(&u64::from(want)) {
            std::cmp::Ordering::Less => note(&mut v.missing_count, &mut v.missing, seq),
            std::cmp::Ordering::Greater => note(&mut v.duplicated_count, &mut v.duplicated, seq),
            std::cmp::Ordering::Equal => {}
        }
    }
    v.unexpected_count = got.len() as u64;
    v
}

fn note(count: &mut u64, list: &mut Vec<u64>, seq: u64) {
    *count += 1;
    if list.len() < LIST_LIMIT {
        list.push(seq);
    }
}

/// Each limit that the connections broke, in words.
pub fn limits(limits: &Limits, seen: &Connections) -> Vec<String> {
    let mut out = Vec::new();
    let over = |limit: u32, n: u64| limit > 0 && n > u64::from(limit);
    for (domain, n) in &seen.max_open_per_domain {
        if over(limits.connections_per_domain, *n) {
            out.push(format!(
                "{domain}: {n} connections open at once, connections_per_domain = {}",
                limits.connections_per_domain
            ));
        }
    }
    if over(limits.outbound_connections, seen.max_open_total) {
        out.push(format!(
            "{} connections open at once in total, outbound_connections = {}",
            seen.max_open_total, limits.outbound_connections
        ));
    }
    if over(limits.messages_per_connection, seen.max_messages_per_connection) {
        out.push(format!(
            "a connection carried {} messages, messages_per_connection = {}",
            seen.max_messages_per_connection, limits.messages_per_connection
        ));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exactly_once_passes() {
        let v = messages(&[(1, 2), (2, 1)], &[(2, 1), (1, 1), (1, 1)]);
        assert!(v.ok(), "{v:?}");
        assert_eq!((v.accepted, v.delivered, v.unexpected_count), (2, 3, 0));
    }

    #[test]
    fn loss_duplicate_and_strangers_are_named() {
        let v = messages(&[(1, 1), (2, 1), (3, 2), (4, 1)], &[(1, 1), (1, 1), (3, 1), (4, 1), (9, 1)]);
        assert_eq!((v.missing_count, v.missing.clone()), (2, vec![2, 3]));
        assert_eq!((v.duplicated_count, v.duplicated.clone()), (1, vec![1]));
        assert_eq!(v.unexpected_count, 1);
        assert!(!v.ok());
    }

    #[test]
    fn lists_are_capped_but_counts_are_not() {
        let accepted: Vec<(u64, u32)> = (0..200).map(|s| (s, 1)).collect();
        let v = messages(&accepted, &[]);
        assert_eq!((v.missing_count, v.missing.len()), (200, LIST_LIMIT));
    }

    #[test]
    fn each_broken_limit_is_reported() {
        let l = Limits { connections_per_domain: 2, outbound_connections: 3, messages_per_connection: 10 };
        let ok = Connections {
            max_open_per_domain: vec![("a".into(), 2), ("b".into(), 1)],
            max_open_total: 3,
            max_messages_per_connection: 10,
        };
        assert!(limits(&l, &ok).is_empty());
        let bad = Connections {
            max_open_per_domain: vec![("a".into(), 3), ("b".into(), 1)],
            max_open_total: 4,
            max_messages_per_connection: 11,
        };
        let v = limits(&l, &bad);
        assert_eq!(v.len(), 3, "{v:?}");
        assert!(v[0].starts_with("a: 3 connections"), "{v:?}");
        let unlimited = Limits { connections_per_domain: 0, outbound_connections: 0, messages_per_connection: 0 };
        assert!(limits(&unlimited, &bad).is_empty());
    }
}
