//! The retry schedule of a deferred message: when to try again, when to give up, and when the
//! one delay notification is due (spec 001/002 "Retry Interval", "Delay Notification",
//! "Expiration Timeout"; DESIGN §1 `[delivery]`).
//!
//! Counting: `attempts` is the number of delivery attempts made so far, the first one
//! included. After attempt `n` fails the next one waits `retry_intervals[n - 1]`, or
//! `subsequent_retry_interval` once the list is used up, counted from the failure (`now`).
//! `max_retries` counts retries, not attempts: with `max_retries = 48` there are at most 49
//! attempts, and the 49th failure gives up.
//!
//! Expiration: a message is given up at the failure whose next retry would fall after
//! `received_at + expiration` (a retry exactly at that time is still made). It is not kept
//! waiting for a retry it will never get, and the sender hears of it at the last attempt.

use std::time::Duration;

use crate::config::Delivery;

/// What to do after a failed attempt.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Next {
    /// Try again at this Unix time (seconds).
    RetryAt(u64),
    /// Stop and bounce (NDR) the recipients still pending.
    GiveUp(GiveUp),
}

/// Why a message is given up.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum GiveUp {
    /// `max_retries` retries were made.
    #[error("the maximum number of delivery attempts was reached")]
    MaxRetries,
    /// The next retry would come after the expiration time.
    #[error("the message expired before it could be delivered")]
    Expired,
}

/// The schedule built from `[delivery]`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Schedule {
    intervals: Vec<Duration>,
    subsequent: Duration,
    max_retries: u32,
    expiration: Duration,
    delay_notification: Duration,
}

impl Schedule {
    pub fn new(delivery: &Delivery) -> Schedule {
        Schedule {
            intervals: delivery.retry_intervals.clone(),
            subsequent: delivery.subsequent_retry_interval,
            max_retries: delivery.max_retries,
            expiration: delivery.expiration,
            delay_notification: delivery.delay_notification,
        }
    }

    /// The wait after failed attempt number `attempts` (1 for the first; 0 is read as 1).
    pub fn interval(&self, attempts: u32) -> Duration {
        let index = attempts.saturating_sub(1) as usize;
        self.intervals.get(index).copied().unwrap_or(self.subsequent)
    }

    /// The Unix time after which no attempt is made.
    pub fn expires_at(&self, received_at: u64) -> u64 {
        received_at.saturating_add(self.expiration.as_secs())
    }

    /// What follows failed attempt number `attempts` of a message accepted at `received_at`,
    /// the failure happening at `now` (Unix seconds).
    pub fn next(&self, attempts: u32, received_at: u64, now: u64) -> Next {
        if attempts > self.max_retries {
            return Next::GiveUp(GiveUp::MaxRetries);
        }
        let at = now.saturating_add(self.interval(attempts).as_secs());
        if at > self.expires_at(received_at) {
            return Next::GiveUp(GiveUp::Expired);
        }
        Next::RetryAt(at)
    }

    /// True when the delay notification (a DSN with `Action: delayed`) should be sent now: it
    /// has not been sent yet and the message has waited `delay_notification` since it was
    /// accepted. `delay_notification = 0` turns the notice off (the spec's minimum is one
    /// minute; 0 means "none" like other zero limits of `[delivery]`).
    pub fn delay_notice_due(&self, received_at: u64, now: u64, already_sent: bool) -> bool {
        let delay = self.delay_notification.as_secs();
        !already_sent && delay > 0 && now >= received_at.saturating_add(delay)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MIN: u64 = 60;
    const T0: u64 = 1_700_000_000;

    fn defaults() -> Schedule {
        Schedule::new(&Delivery::default())
    }

    fn custom(intervals: &[u64], subsequent: u64, max_retries: u32, expiration: u64) -> Schedule {
        let delivery = Delivery {
            retry_intervals: intervals.iter().map(|&m| Duration::from_secs(m * MIN)).collect(),
            subsequent_retry_interval: Duration::from_secs(subsequent * MIN),
            max_retries,
            expiration: Duration::from_secs(expiration * MIN),
            ..Delivery::default()
        };
        Schedule::new(&delivery)
    }

    #[test]
    fn spec_defaults() {
        let s = defaults();
        assert_eq!(s.intervals, [15, 30, 60].map(|m| Duration::from_secs(m * MIN)));
        assert_eq!(s.subsequent, Duration::from_secs(240 * MIN));
        assert_eq!(s.max_retries, 48);
        assert_eq!(s.expiration, Duration::from_secs(2 * 24 * 60 * MIN));
        assert_eq!(s.delay_notification, Duration::from_secs(12 * 60 * MIN));
        let cases: &[(u32, u64)] = &[(0, 15), (1, 15), (2, 30), (3, 60), (4, 240), (5, 240), (48, 240)];
        for &(attempts, minutes) in cases {
            assert_eq!(s.interval(attempts), Duration::from_secs(minutes * MIN), "attempt {attempts}");
        }
    }

    #[test]
    fn next_table() {
        let s = defaults();
        let wide = custom(&[15, 30, 60], 240, 48, 1_000_000);
        let cases: &[(&Schedule, u32, u64, Next)] = &[
            (&s, 1, T0, Next::RetryAt(T0 + 15 * MIN)),
            (&s, 2, T0 + 15 * MIN, Next::RetryAt(T0 + 45 * MIN)),
            (&s, 3, T0 + 45 * MIN, Next::RetryAt(T0 + 105 * MIN)),
            (&s, 4, T0 + 105 * MIN, Next::RetryAt(T0 + 345 * MIN)),
            // Counted from the failure, not from the planned time.
            (&s, 2, T0 + 20 * MIN, Next::RetryAt(T0 + 50 * MIN)),
            // A retry exactly at expiration is made; one a second later is not.
            (&s, 4, T0 + 2640 * MIN, Next::RetryAt(T0 + 2880 * MIN)),
            (&s, 4, T0 + 2640 * MIN + 1, Next::GiveUp(GiveUp::Expired)),
            (&s, 1, T0 + 2880 * MIN, Next::GiveUp(GiveUp::Expired)),
            (&wide, 48, T0, Next::RetryAt(T0 + 240 * MIN)),
            (&wide, 49, T0, Next::GiveUp(GiveUp::MaxRetries)),
            (&custom(&[], 10, 0, 100), 1, T0, Next::GiveUp(GiveUp::MaxRetries)),
            (&custom(&[], 10, 1, 100), 1, T0, Next::RetryAt(T0 + 10 * MIN)),
            (&custom(&[], 10, 1, 100), 2, T0, Next::GiveUp(GiveUp::MaxRetries)),
            // Whichever comes first: max_retries ...
            (&custom(&[1], 1, 2, 100), 3, T0 + 2 * MIN, Next::GiveUp(GiveUp::MaxRetries)),
            // ... or expiration.
            (&custom(&[1], 50, 10, 30), 2, T0 + MIN, Next::GiveUp(GiveUp::Expired)),
            // A clock behind received_at does not underflow.
            (&s, 1, T0 - 10, Next::RetryAt(T0 - 10 + 15 * MIN)),
        ];
        for (i, &(schedule, attempts, now, want)) in cases.iter().enumerate() {
            assert_eq!(schedule.next(attempts, T0, now), want, "case {i}");
        }
    }

    /// With the defaults, attempts run at 0, 15, 45, 105, 345, ... minutes until the next
    /// retry would pass 2 days: expiration comes before the 48 retries.
    #[test]
    fn default_run_ends_by_expiration() {
        let s = defaults();
        let mut now = T0;
        let mut attempts = 1;
        let mut times = vec![0];
        let reason = loop {
            match s.next(attempts, T0, now) {
                Next::RetryAt(at) => {
                    assert!(at > now);
                    now = at;
                    attempts += 1;
                    times.push((now - T0) / MIN);
                }
                Next::GiveUp(reason) => break reason,
            }
        };
        assert_eq!(reason, GiveUp::Expired);
        assert_eq!(&times[..5], [0, 15, 45, 105, 345]);
        assert_eq!(times.len(), 15);
        assert_eq!(*times.last().unwrap(), 2745);
        assert_eq!(reason.to_string(), "the message expired before it could be delivered");
    }

    #[test]
    fn delay_notice() {
        let s = defaults();
        let off = Schedule { delay_notification: Duration::ZERO, ..defaults() };
        let cases: &[(&Schedule, u64, bool, bool)] = &[
            (&s, T0, false, false),
            (&s, T0 + 12 * 60 * MIN - 1, false, false),
            (&s, T0 + 12 * 60 * MIN, false, true),
            (&s, T0 + 30 * 60 * MIN, false, true),
            (&s, T0 + 30 * 60 * MIN, true, false),
            (&s, T0 - 5, false, false),
            (&off, T0 + 30 * 60 * MIN, false, false),
        ];
        for (i, &(schedule, now, sent, want)) in cases.iter().enumerate() {
            assert_eq!(schedule.delay_notice_due(T0, now, sent), want, "case {i}");
        }
    }
}
