//! Fault injection for the sink (pure): which reply a message gets, drawn from configured rates
//! with a caller-supplied random number, plus the test-only record faults `drop_every` (answer
//! 250 but forget the message) and `duplicate_every` (record it twice).

use std::time::Duration;

/// Configured faults; rates are fractions in 0..=1.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Faults {
    pub tempfail_rate: f64,
    pub permfail_rate: f64,
    /// `452 4.5.3` for every RCPT after this many in one transaction.
    pub max_recipients: Option<u32>,
    /// Added before the reply to the end of data.
    pub latency: Duration,
    /// Do not offer STARTTLS even when the sink has a certificate.
    pub no_starttls: bool,
    /// Fraction of messages during whose DATA the connection is closed.
    pub disconnect_rate: f64,
    /// Every Nth message accepted is not recorded (test of the verifier).
    pub drop_every: Option<u64>,
    /// Every Nth message accepted is recorded twice (test of the verifier).
    pub duplicate_every: Option<u64>,
}

/// What happens to one message at the end of its data.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    Accept { records: u8 },
    TempFail,
    PermFail,
}

impl Faults {
    /// True when the connection should be dropped during this message's DATA (`r` in 0..1).
    pub fn disconnect(&self, r: f64) -> bool {
        r < self.disconnect_rate
    }

    /// The outcome of the `n`th message (1-based, counted over the whole sink), `r` in 0..1.
    pub fn outcome(&self, n: u64, r: f64) -> Outcome {
        if r < self.tempfail_rate {
            return Outcome::TempFail;
        }
        if r < self.tempfail_rate + self.permfail_rate {
            return Outcome::PermFail;
        }
        let every = |k: Option<u64>| k.is_some_and(|k| k > 0 && n.is_multiple_of(k));
        let records = if every(self.drop_every) {
            0
        } else if every(self.duplicate_every) {
            2
        } else {
            1
        };
        Outcome::Accept { records }
    }

    /// True when RCPT number `n` (1-based) in a transaction is over the limit.
    pub fn over_recipients(&self, n: u32) -> bool {
        self.max_recipients.is_some_and(|max| n > max)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn outcomes_follow_rates_and_counts() {
        let f = Faults {
            tempfail_rate: 0.1,
            permfail_rate: 0.2,
            drop_every: Some(3),
            duplicate_every: Some(2),
            ..Faults::default()
        };
        let cases = [
            (1, 0.05, Outcome::TempFail),
            (1, 0.25, Outcome::PermFail),
            (1, 0.5, Outcome::Accept { records: 1 }),
            (2, 0.5, Outcome::Accept { records: 2 }),
            (3, 0.5, Outcome::Accept { records: 0 }),
            (6, 0.5, Outcome::Accept { records: 0 }),
        ];
        for (n, r, want) in cases {
            assert_eq!(f.outcome(n, r), want, "message {n}, r {r}");
        }
        assert_eq!(Faults::default().outcome(5, 0.0), Outcome::Accept { records: 1 });
    }

    #[test]
    fn recipient_limit_and_disconnects() {
        let f = Faults { max_recipients: Some(2), disconnect_rate: 0.5, ..Faults::default() };
        assert!(!f.over_recipients(2) && f.over_recipients(3));
        assert!(f.disconnect(0.4) && !f.disconnect(0.6));
        assert!(!Faults::default().over_recipients(1000));
    }
}
