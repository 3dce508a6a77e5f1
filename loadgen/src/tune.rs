//! Counter-driven tuning (pure), after the spec: "The Limit number of messages per connection
//! value should be less than the value indicated by the [Messages Sent/sec] performance
//! counter", otherwise a destination never gets a second connection and mail flows as one long
//! stream. Also the table of a `tune` sweep over several `messages_per_connection` values.

use serde::{Deserialize, Serialize};

/// Values swept by `tern-loadgen tune` (0 = unlimited).
pub const SWEEP: [u32; 6] = [5, 10, 20, 50, 100, 0];

/// Values a recommendation picks from.
const NICE: [u32; 13] = [1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000, 5000, 10000];

/// Messages Sent/sec of one destination domain.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DomainRate {
    pub domain: String,
    /// Highest value of tern's `tern_messages_sent_per_second{domain}` seen during the run.
    pub peak_per_s: f64,
    /// Messages sent to the domain during the run (`tern_messages_sent_total{domain}`).
    pub sent: u64,
}

/// The tuning section of a report.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Tuning {
    /// Peak of the overall `tern_messages_sent_per_second`.
    pub peak_per_s: f64,
    pub domains: Vec<DomainRate>,
    pub messages_per_connection: u32,
    /// One line per domain that never splits, or a line saying the value is fine.
    pub advice: Vec<String>,
    pub recommended: Option<u32>,
}

/// Whether `mpc` (0 = unlimited) lets a domain sending `rate` messages per second open a
/// second connection.
pub fn splits(mpc: u32, rate: f64) -> bool {
    mpc > 0 && f64::from(mpc) < rate
}

/// A value below `rate`: the largest round value at most half of it, so each second's mail
/// spreads over at least two connections. `None` when the rate is too low for splitting to
/// matter (under 2 messages per second).
pub fn recommend(rate: f64) -> Option<u32> {
    NICE.iter().rev().copied().find(|&n| f64::from(n) <= rate / 2.0)
}

/// Applies the rule to every domain.
pub fn advise(mpc: u32, peak_per_s: f64, domains: Vec<DomainRate>) -> Tuning {
    let mut advice = Vec::new();
    let mut lowest: Option<f64> = None;
    for d in &domains {
        if d.sent == 0 || splits(mpc, d.peak_per_s) {
            continue;
        }
        let value = if mpc == 0 { "unlimited".to_string() } else { mpc.to_string() };
        advice.push(format!(
            "{}: Messages Sent/sec peaked at {:.1}, not above messages_per_connection = {value}: splitting never opens a second connection",
            d.domain, d.peak_per_s
        ));
        lowest = Some(lowest.map_or(d.peak_per_s, |l| l.min(d.peak_per_s)));
    }
    let recommended = lowest.and_then(recommend);
    match (lowest, recommended) {
        (None, _) => advice.push(format!("messages_per_connection = {mpc} is below every domain's Messages Sent/sec")),
        (Some(_), Some(r)) => advice.push(format!("recommended: messages_per_connection = {r}")),
        (Some(rate), None) => {
            advice.push(format!("{rate:.1} messages/s is too little traffic for splitting to matter"))
        }
    }
    Tuning { peak_per_s, domains, messages_per_connection: mpc, advice, recommended }
}

/// One row of a `tune` sweep.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SweepRow {
    pub messages_per_connection: u32,
    pub delivered_per_s: f64,
    pub connections: u64,
    pub max_open_per_domain: u64,
    pub peak_sent_per_s: f64,
    pub ok: bool,
}

/// The sweep's recommendation: the fastest correct row, and the counter rule applied to it.
pub fn best(rows: &[SweepRow]) -> Option<&SweepRow> {
    rows.iter().filter(|r| r.ok).max_by(|a, b| a.delivered_per_s.total_cmp(&b.delivered_per_s))
}

/// The sweep's closing advice for `domains` destination domains: the fastest correct value,
/// checked against the spec's rule with the per-domain Messages Sent/sec it reached.
pub fn sweep_advice(rows: &[SweepRow], domains: usize) -> String {
    let Some(b) = best(rows) else {
        return "no run was correct: no recommendation".to_string();
    };
    let per_domain = b.peak_sent_per_s / domains.max(1) as f64;
    let value = match b.messages_per_connection {
        0 => "unlimited".to_string(),
        n => n.to_string(),
    };
    if splits(b.messages_per_connection, per_domain) {
        return format!(
            "recommended: messages_per_connection = {value} (fastest at {:.0} msg/s, and below the per-domain \
             Messages Sent/sec of {per_domain:.1}, so a long queue is split over several connections)",
            b.delivered_per_s
        );
    }
    let rule = recommend(per_domain).map_or("no value (too little traffic per domain)".to_string(), |r| r.to_string());
    format!(
        "fastest: messages_per_connection = {value} ({:.0} msg/s), but it is not below the per-domain Messages \
         Sent/sec of {per_domain:.1}: each domain's mail flows over one connection; the counter rule suggests {rule} \
         if the remote servers accept parallel connections",
        b.delivered_per_s
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rate(domain: &str, peak: f64) -> DomainRate {
        DomainRate { domain: domain.into(), peak_per_s: peak, sent: 100 }
    }

    #[test]
    fn the_spec_example_never_splits() {
        // "If the counter indicates a value of 30, and you set your maximum connections to 50,
        // no simultaneous connection would be opened."
        assert!(!splits(50, 30.0));
        assert!(!splits(30, 30.0));
        assert!(splits(20, 30.0));
        assert!(!splits(0, 1e6), "unlimited never splits");
    }

    #[test]
    fn recommendations_are_round_and_at_most_half_the_rate() {
        let cases =
            [(30.0, Some(10)), (40.0, Some(20)), (1000.0, Some(500)), (4.0, Some(2)), (3.9, Some(1)), (1.9, None)];
        for (r, want) in cases {
            assert_eq!(recommend(r), want, "rate {r}");
        }
    }

    #[test]
    fn advice_names_the_domains_that_never_split() {
        let t = advise(50, 130.0, vec![rate("a.test", 30.0), rate("b.test", 100.0)]);
        assert_eq!(t.recommended, Some(10));
        assert_eq!(t.advice.len(), 2, "{:?}", t.advice);
        assert!(t.advice[0].starts_with("a.test: Messages Sent/sec peaked at 30.0"), "{:?}", t.advice);
        let fine = advise(20, 130.0, vec![rate("b.test", 100.0)]);
        assert_eq!(fine.recommended, None);
        assert!(fine.advice[0].contains("below every domain"), "{:?}", fine.advice);
        let unlimited = advise(0, 100.0, vec![rate("b.test", 100.0)]);
        assert_eq!(unlimited.recommended, Some(50));
    }

    #[test]
    fn the_sweep_picks_the_fastest_correct_row() {
        let row = |mpc, r, ok| SweepRow {
            messages_per_connection: mpc,
            delivered_per_s: r,
            connections: 1,
            max_open_per_domain: 1,
            peak_sent_per_s: r,
            ok,
        };
        let rows = [row(5, 100.0, true), row(10, 300.0, false), row(20, 200.0, true)];
        assert_eq!(best(&rows).map(|r| r.messages_per_connection), Some(20));
    }

    #[test]
    fn sweep_advice_checks_the_fastest_value_against_the_counter_rule() {
        let row = |mpc, rate, peak| SweepRow {
            messages_per_connection: mpc,
            delivered_per_s: rate,
            connections: 1,
            max_open_per_domain: 1,
            peak_sent_per_s: peak,
            ok: true,
        };
        // 4 domains at 3000/s each: 20 is below the per-domain rate.
        let split = sweep_advice(&[row(5, 100.0, 12000.0), row(20, 200.0, 12000.0)], 4);
        assert!(split.starts_with("recommended: messages_per_connection = 20 "), "{split}");
        // Fastest is unlimited: the rule's value is offered instead.
        let stream = sweep_advice(&[row(20, 100.0, 120.0), row(0, 200.0, 120.0)], 4);
        assert!(stream.starts_with("fastest: messages_per_connection = unlimited"), "{stream}");
        assert!(stream.contains("suggests 10 "), "{stream}");
        assert!(sweep_advice(&[], 4).starts_with("no run was correct"));
    }
}
