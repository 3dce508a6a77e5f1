//! The report of a run: the `--json` document (schema in `docs/LOADGEN.md`), the readable table
//! and the live progress line (only on a terminal).

use std::fmt::Write;
use std::io::IsTerminal;

use hdrhistogram::Histogram;
use serde::{Deserialize, Serialize};

use crate::sink::stats::SinkSummary;
use crate::tune::{SweepRow, Tuning};
use crate::verify::Verdict;

/// Version of the JSON document; bumped on any incompatible change.
pub const SCHEMA: u32 = 1;

/// One run of `bench`, `send` or `sink`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Report {
    pub schema: u32,
    pub mode: String,
    pub scenario: Scenario,
    pub elapsed_s: f64,
    pub client: Option<Client>,
    pub delivery: Option<Delivery>,
    pub sink: Option<SinkSummary>,
    pub cpu: Cpu,
    pub tuning: Option<Tuning>,
    pub verdict: Option<Verdict>,
    pub sweep: Vec<SweepRow>,
    pub timeline: Vec<Tick>,
}

/// What was asked for.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Scenario {
    pub target: Option<String>,
    pub sessions: usize,
    pub size: String,
    pub recipients: u32,
    pub domains: Vec<String>,
    pub messages: Option<u64>,
    pub duration_s: Option<f64>,
    /// Paced messages per second (`--rate`); absent when unpaced.
    #[serde(default)]
    pub rate_per_s: Option<f64>,
    pub shards: Option<usize>,
    pub messages_per_connection: Option<u32>,
    pub connections_per_domain: Option<u32>,
    pub outbound_connections: Option<u32>,
    pub tls: bool,
}

/// The client side: messages accepted by the server under test.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Client {
    pub accepted: u64,
    pub refused: u64,
    pub errors: u64,
    pub accepted_per_s: f64,
    /// End of DATA to the 250, microseconds.
    pub accept_latency_us: Percentiles,
}

/// The sink side: messages delivered.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Delivery {
    pub delivered: u64,
    pub delivered_per_s: f64,
    /// `X-Loadgen-Sent` to arrival at the sink, microseconds.
    pub e2e_latency_us: Percentiles,
}

/// CPU seconds (user + system).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Cpu {
    pub tern_s: Option<f64>,
    pub loadgen_s: f64,
    pub send_s: Option<f64>,
    pub sink_s: Option<f64>,
}

/// Percentiles of a latency histogram, microseconds.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Percentiles {
    pub count: u64,
    pub p50: u64,
    pub p90: u64,
    pub p99: u64,
    pub p999: u64,
    pub max: u64,
}

impl Percentiles {
    pub fn of(h: &Histogram<u64>) -> Percentiles {
        if h.is_empty() {
            return Percentiles::default();
        }
        let q = |q: f64| h.value_at_quantile(q);
        Percentiles { count: h.len(), p50: q(0.5), p90: q(0.9), p99: q(0.99), p999: q(0.999), max: h.max() }
    }
}

/// One second of a run: cumulative counts and the mean accept latency in that second.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Tick {
    pub t_s: f64,
    pub accepted: u64,
    pub delivered: u64,
    pub accept_mean_us: f64,
}

fn ms(us: u64) -> String {
    format!("{:.2}", us as f64 / 1000.0)
}

fn latency_row(out: &mut String, name: &str, p: &Percentiles) {
    let _ = writeln!(
        out,
        "{name:<22} {:>9} {:>9} {:>9} {:>9} {:>9}   ({} samples)",
        ms(p.p50),
        ms(p.p90),
        ms(p.p99),
        ms(p.p999),
        ms(p.max),
        p.count
    );
}

impl Report {
    pub fn ok(&self) -> bool {
        self.verdict.as_ref().is_none_or(Verdict::ok)
    }

    pub fn json(&self) -> String {
        serde_json::to_string_pretty(self).expect("a report always serializes")
    }

    /// The readable final table.
    pub fn table(&self) -> String {
        let mut out = String::new();
        let s = &self.scenario;
        let _ = writeln!(
            out,
            "tern-loadgen {} — {:.1} s, {} sessions, size {}, {} recipient(s), {} domain(s)",
            self.mode,
            self.elapsed_s,
            s.sessions,
            s.size,
            s.recipients,
            s.domains.len()
        );
        if let Some(rate) = s.rate_per_s {
            let _ = writeln!(out, "paced at {rate:.0} msg/s (open loop)");
        }
        if let Some(c) = &self.client {
            let _ = writeln!(
                out,
                "accepted   {:>10} msg  {:>10.0} msg/s   refused {}  connection errors {}",
                c.accepted, c.accepted_per_s, c.refused, c.errors
            );
        }
        if let Some(d) = &self.delivery {
            let _ = writeln!(out, "delivered  {:>10} msg  {:>10.0} msg/s", d.delivered, d.delivered_per_s);
        }
        let _ =
            writeln!(out, "{:<22} {:>9} {:>9} {:>9} {:>9} {:>9}", "latency (ms)", "p50", "p90", "p99", "p99.9", "max");
        if let Some(c) = &self.client {
            latency_row(&mut out, "accept (DATA → 250)", &c.accept_latency_us);
        }
        if let Some(d) = &self.delivery {
            latency_row(&mut out, "end to end", &d.e2e_latency_us);
        }
        self.sink_lines(&mut out);
        let c = &self.cpu;
        let tern = c.tern_s.map_or(String::new(), |t| format!("tern {t:.2} s, "));
        let _ = writeln!(
            out,
            "cpu        {tern}loadgen {:.2} s (send {:.2} s, sink {:.2} s)",
            c.loadgen_s,
            c.send_s.unwrap_or(0.0),
            c.sink_s.unwrap_or(0.0)
        );
        if let Some(t) = &self.tuning {
            let _ = writeln!(out, "Messages Sent/sec (peak) {:.1} overall", t.peak_per_s);
            for d in &t.domains {
                let _ = writeln!(out, "  {:<24} {:>8.1}/s  sent {}", d.domain, d.peak_per_s, d.sent);
            }
            for line in &t.advice {
                let _ = writeln!(out, "tuning: {line}");
            }
        }
        self.verdict_lines(&mut out);
        out
    }

    fn sink_lines(&self, out: &mut String) {
        let Some(k) = &self.sink else { return };
        let _ = writeln!(
            out,
            "sink       {} connections, at most {} open at once, at most {} messages on one connection",
            k.connections, k.max_open, k.max_messages_per_connection
        );
        for l in &k.listeners {
            let _ = writeln!(out, "  {:<24} {} connections, at most {} open", l.address, l.connections, l.max_open);
        }
        let faults = [
            ("tempfail", k.tempfails),
            ("permfail", k.permfails),
            ("452", k.rcpt_limited),
            ("disconnect", k.disconnects),
            ("foreign", k.foreign),
        ];
        let faults: Vec<String> =
            faults.iter().filter(|(_, n)| *n > 0).map(|(name, n)| format!("{name} {n}")).collect();
        if !faults.is_empty() {
            let _ = writeln!(out, "  faults: {}", faults.join(", "));
        }
    }

    fn verdict_lines(&self, out: &mut String) {
        let Some(v) = &self.verdict else { return };
        if v.ok() {
            let _ =
                writeln!(out, "verified: all {} accepted messages arrived exactly once; no limit broken", v.accepted);
        }
        if v.missing_count > 0 {
            let _ = writeln!(out, "LOST: {} message(s), e.g. sequence numbers {:?}", v.missing_count, v.missing);
        }
        if v.duplicated_count > 0 {
            let _ = writeln!(
                out,
                "DUPLICATED: {} message(s), e.g. sequence numbers {:?}",
                v.duplicated_count, v.duplicated
            );
        }
        if v.unexpected_count > 0 {
            let _ = writeln!(out, "note: {} delivered message(s) whose 250 the client never saw", v.unexpected_count);
        }
        for line in &v.violations {
            let _ = writeln!(out, "LIMIT BROKEN: {line}");
        }
    }
}

/// A live progress line, redrawn in place; silent unless stdout is a terminal.
pub struct Progress {
    live: bool,
}

impl Progress {
    pub fn new() -> Progress {
        Progress { live: std::io::stdout().is_terminal() }
    }

    pub fn show(&self, t: f64, accepted: u64, delivered: Option<u64>, rate: f64) {
        if self.live {
            let delivered = delivered.map_or(String::new(), |d| format!("  delivered {d:>9}"));
            print!("\r{t:>6.1} s  accepted {accepted:>9}{delivered}  {rate:>8.0} msg/s   ");
            let _ = std::io::Write::flush(&mut std::io::stdout());
        }
    }

    pub fn done(&self) {
        if self.live {
            println!();
        }
    }
}

impl Default for Progress {
    fn default() -> Progress {
        Progress::new()
    }
}
