//! The shard's DNS answer cache: (name, type) → answer until its TTL runs out.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use hickory_proto::rr::RecordType;

use super::wire::Answer;

/// Entries kept before expired ones are swept (and, if still full, one is evicted).
const CAPACITY: usize = 50_000;

/// Answers by lower-case name and record type; time is passed in so tests need no clock.
#[derive(Debug, Default)]
pub(crate) struct Cache {
    entries: HashMap<(String, RecordType), (Answer, Instant)>,
}

impl Cache {
    /// The cached answer if it has not expired at `now`.
    pub(crate) fn get(&mut self, name: &str, rtype: RecordType, now: Instant) -> Option<Answer> {
        let key = (name.to_string(), rtype);
        match self.entries.get(&key) {
            Some((answer, expires)) if *expires > now => Some(answer.clone()),
            Some(_) => {
                self.entries.remove(&key);
                None
            }
            None => None,
        }
    }

    /// Stores `answer` for `ttl` seconds from `now`; a TTL of 0 is not stored.
    pub(crate) fn insert(&mut self, name: &str, rtype: RecordType, answer: Answer, ttl: u32, now: Instant) {
        if ttl == 0 {
            return;
        }
        if self.entries.len() >= CAPACITY {
            self.entries.retain(|_, (_, expires)| *expires > now);
        }
        if self.entries.len() >= CAPACITY {
            let victim = self.entries.keys().next().cloned();
            if let Some(victim) = victim {
                self.entries.remove(&victim);
            }
        }
        let expires = now + Duration::from_secs(u64::from(ttl));
        self.entries.insert((name.to_string(), rtype), (answer, expires));
    }

    /// Number of entries, expired ones included until they are swept.
    #[cfg(test)]
    pub(crate) fn len(&self) -> usize {
        self.entries.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hit_until_expiry() {
        let mut cache = Cache::default();
        let t0 = Instant::now();
        cache.insert("example.com", RecordType::MX, Answer::NoData, 60, t0);
        assert_eq!(cache.get("example.com", RecordType::MX, t0), Some(Answer::NoData));
        assert_eq!(cache.get("example.com", RecordType::MX, t0 + Duration::from_secs(59)), Some(Answer::NoData));
        assert_eq!(cache.get("example.com", RecordType::A, t0), None, "types are separate");
        assert_eq!(cache.get("example.com", RecordType::MX, t0 + Duration::from_secs(60)), None);
        assert_eq!(cache.len(), 0, "expired entry removed on read");
    }

    #[test]
    fn zero_ttl_is_not_stored() {
        let mut cache = Cache::default();
        let t0 = Instant::now();
        cache.insert("example.com", RecordType::A, Answer::NxDomain, 0, t0);
        assert_eq!(cache.get("example.com", RecordType::A, t0), None);
        assert_eq!(cache.len(), 0);
    }

    #[test]
    fn bounded_size() {
        let mut cache = Cache::default();
        let t0 = Instant::now();
        for i in 0..CAPACITY {
            cache.insert(&format!("h{i}.example"), RecordType::A, Answer::NoData, 1, t0);
        }
        let later = t0 + Duration::from_secs(2);
        cache.insert("new.example", RecordType::A, Answer::NoData, 60, later);
        assert_eq!(cache.len(), 1, "expired entries swept when full");
        for i in 0..CAPACITY {
            cache.insert(&format!("k{i}.example"), RecordType::A, Answer::NoData, 60, later);
        }
        assert_eq!(cache.len(), CAPACITY);
    }
}
