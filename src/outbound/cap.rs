//! The global outbound connection cap (`delivery.outbound_connections`): one padded atomic
//! shared by all shards, taken with compare-exchange once per connection, never exceeded.

use std::sync::atomic::{AtomicU32, Ordering};

/// Cache-line aligned so shards touching it do not share a line with anything else.
#[derive(Debug)]
#[repr(align(128))]
pub struct GlobalCap {
    open: AtomicU32,
    limit: u32,
}

impl GlobalCap {
    /// `limit` 0 means unlimited.
    pub fn new(limit: u32) -> GlobalCap {
        GlobalCap { open: AtomicU32::new(0), limit }
    }

    /// Takes one connection slot if one is free.
    pub fn try_acquire(&self) -> bool {
        let mut open = self.open.load(Ordering::Relaxed);
        loop {
            if self.limit != 0 && open >= self.limit {
                return false;
            }
            match self.open.compare_exchange_weak(open, open + 1, Ordering::AcqRel, Ordering::Relaxed) {
                Ok(_) => return true,
                Err(now) => open = now,
            }
        }
    }

    pub fn release(&self) {
        self.open.fetch_sub(1, Ordering::AcqRel);
    }

    pub fn open(&self) -> u32 {
        self.open.load(Ordering::Relaxed)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;

    #[test]
    fn never_exceeds_the_limit_across_threads() {
        let cap = Arc::new(GlobalCap::new(5));
        let peak = Arc::new(AtomicU32::new(0));
        let threads: Vec<_> = (0..4)
            .map(|_| {
                let (cap, peak) = (cap.clone(), peak.clone());
                std::thread::spawn(move || {
                    for _ in 0..20_000 {
                        if cap.try_acquire() {
                            peak.fetch_max(cap.open(), Ordering::Relaxed);
                            cap.release();
                        }
                    }
                })
            })
            .collect();
        for t in threads {
            t.join().unwrap();
        }
        assert!(peak.load(Ordering::Relaxed) <= 5);
        assert_eq!(cap.open(), 0);
        let unlimited = GlobalCap::new(0);
        assert!((0..1000).all(|_| unlimited.try_acquire()));
    }
}
