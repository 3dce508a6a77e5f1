//! Counters written by one shard each (relaxed atomics, no sharing on the hot path) and summed
//! across shards when `/metrics` is scraped, rendered in the Prometheus text format.

use std::collections::BTreeMap;
use std::fmt::Write;
use std::sync::atomic::{AtomicI64, AtomicU64, Ordering::Relaxed};
use std::sync::Arc;

use crate::outbound::stats::{unix_now, OutboundStats};
use crate::spool::SpoolStats;

/// Why a message or recipient was refused: the `reason` label of
/// `tern_messages_rejected_total`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reject {
    /// SIZE= or body above `max_message_size`.
    Size,
    /// Bare CR or LF in the body.
    BareEol,
    /// More `Received:` headers than `max_hop_count`.
    HopCount,
    /// RCPT to a non-local domain from a client that may not relay.
    Relay,
    /// RCPT beyond `max_recipients`.
    Recipients,
    /// The spool could not store the message.
    Spool,
    /// Closed because the session size limit was reached.
    SessionSize,
    /// RCPT to a local domain whose local part routes elsewhere (`%`, `!`, quoted `@`).
    AddressForm,
    /// A command other than EHLO/HELO, NOOP, RSET, QUIT, STARTTLS before TLS (`[tls].require`).
    TlsRequired,
    /// MAIL before AUTH (`anonymous = false`).
    AuthRequired,
}

/// The `result` label of `tern_auth_total`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AuthResult {
    Success,
    /// Wrong user name or password (535).
    Failure,
    /// The client sent `*` (501).
    Cancelled,
    /// Bad base64 or a malformed PLAIN message (501).
    Malformed,
    /// AUTH before STARTTLS with `require_tls_for_basic` (538).
    NoTls,
}

impl AuthResult {
    pub const ALL: [AuthResult; 5] =
        [AuthResult::Success, AuthResult::Failure, AuthResult::Cancelled, AuthResult::Malformed, AuthResult::NoTls];

    pub fn label(self) -> &'static str {
        match self {
            AuthResult::Success => "success",
            AuthResult::Failure => "failure",
            AuthResult::Cancelled => "cancelled",
            AuthResult::Malformed => "malformed",
            AuthResult::NoTls => "no_tls",
        }
    }
}

impl Reject {
    pub const ALL: [Reject; 10] = [
        Reject::Size,
        Reject::BareEol,
        Reject::HopCount,
        Reject::Relay,
        Reject::Recipients,
        Reject::Spool,
        Reject::SessionSize,
        Reject::AddressForm,
        Reject::TlsRequired,
        Reject::AuthRequired,
    ];

    pub fn label(self) -> &'static str {
        match self {
            Reject::Size => "size",
            Reject::BareEol => "bare_eol",
            Reject::HopCount => "hop_count",
            Reject::Relay => "relay",
            Reject::Recipients => "recipients",
            Reject::Spool => "spool",
            Reject::SessionSize => "session_size",
            Reject::AddressForm => "address_form",
            Reject::TlsRequired => "tls_required",
            Reject::AuthRequired => "auth_required",
        }
    }
}

/// Why a connection was refused before the greeting: the `reason` label of
/// `tern_connections_refused_total`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refuse {
    /// `[access]` refused the client's address.
    AccessList,
    /// `[access]` refused the client by a `domain:` entry (its reverse name).
    AccessDomain,
    /// `[access]` with `mode = "only"` and `domain:` entries, and the reverse lookup failed.
    AccessDns,
    /// `inbound_connections` were open already (421 4.7.0).
    ConnectionLimit,
}

impl Refuse {
    pub const ALL: [Refuse; 4] = [Refuse::AccessList, Refuse::AccessDomain, Refuse::AccessDns, Refuse::ConnectionLimit];

    pub fn label(self) -> &'static str {
        match self {
            Refuse::AccessList => "access_list",
            Refuse::AccessDomain => "access_domain",
            Refuse::AccessDns => "access_dns",
            Refuse::ConnectionLimit => "connection_limit",
        }
    }
}

/// Counters of one virtual server on one shard.
#[derive(Debug, Default)]
pub struct VsCounters {
    pub connections_current: AtomicI64,
    pub connections_total: AtomicU64,
    pub messages_received: AtomicU64,
    pub bytes_received: AtomicU64,
    pub drop_deliveries: AtomicU64,
    rejected: [AtomicU64; Reject::ALL.len()],
    refused: [AtomicU64; Refuse::ALL.len()],
    auth: [AtomicU64; AuthResult::ALL.len()],
    /// STARTTLS handshakes: `[succeeded, failed]`.
    tls_handshakes: [AtomicU64; 2],
}

impl VsCounters {
    pub fn auth(&self, result: AuthResult) {
        self.auth[result as usize].fetch_add(1, Relaxed);
    }

    pub fn tls_handshake(&self, ok: bool) {
        self.tls_handshakes[usize::from(!ok)].fetch_add(1, Relaxed);
    }

    pub fn reject(&self, reason: Reject) {
        self.rejected[reason as usize].fetch_add(1, Relaxed);
    }

    pub fn rejected(&self, reason: Reject) -> u64 {
        self.rejected[reason as usize].load(Relaxed)
    }

    pub fn refuse(&self, reason: Refuse) {
        self.refused[reason as usize].fetch_add(1, Relaxed);
    }

    pub fn refused(&self, reason: Refuse) -> u64 {
        self.refused[reason as usize].load(Relaxed)
    }
}

/// Everything one shard counts.
#[derive(Debug)]
pub struct ShardMetrics {
    /// One entry per virtual server, in configuration order.
    pub vs: Vec<VsCounters>,
    pub spool: Arc<SpoolStats>,
    pub outbound: Arc<OutboundStats>,
}

/// The registry: per-shard counters plus the virtual server names for labels.
#[derive(Debug)]
pub struct Metrics {
    pub vs_names: Vec<String>,
    pub shards: Vec<Arc<ShardMetrics>>,
}

impl Metrics {
    pub fn new(vs_names: Vec<String>, shards: usize) -> Metrics {
        let shards = (0..shards)
            .map(|_| {
                Arc::new(ShardMetrics {
                    vs: vs_names.iter().map(|_| VsCounters::default()).collect(),
                    spool: Arc::new(SpoolStats::default()),
                    outbound: Arc::new(OutboundStats::default()),
                })
            })
            .collect();
        Metrics { vs_names, shards }
    }

    fn sum_vs(&self, vs: usize, f: impl Fn(&VsCounters) -> i64) -> i64 {
        self.shards.iter().map(|s| f(&s.vs[vs])).sum()
    }

    fn sum_spool(&self, f: impl Fn(&SpoolStats) -> u64) -> u64 {
        self.shards.iter().map(|s| f(&s.spool)).sum()
    }

    /// The Prometheus text exposition of every counter, summed over shards.
    pub fn render(&self) -> String {
        let mut out = String::with_capacity(4096);
        let per_vs: [Family<VsCounters, i64>; 5] = [
            ("tern_connections_inbound_current", "gauge", "Open inbound SMTP connections.", |c| {
                c.connections_current.load(Relaxed)
            }),
            ("tern_connections_inbound_total", "counter", "Inbound SMTP connections accepted.", |c| {
                c.connections_total.load(Relaxed) as i64
            }),
            ("tern_messages_received_total", "counter", "Messages accepted (250 after DATA/BDAT).", |c| {
                c.messages_received.load(Relaxed) as i64
            }),
            ("tern_bytes_received_total", "counter", "Message bytes accepted.", |c| {
                c.bytes_received.load(Relaxed) as i64
            }),
            ("tern_drop_deliveries_total", "counter", "Messages written to the Drop directory.", |c| {
                c.drop_deliveries.load(Relaxed) as i64
            }),
        ];
        for (name, kind, help, get) in per_vs {
            header(&mut out, name, kind, help);
            for (i, vs) in self.vs_names.iter().enumerate() {
                let _ = writeln!(out, "{name}{{virtual_server=\"{}\"}} {}", escape(vs), self.sum_vs(i, get));
            }
        }
        let name = "tern_messages_rejected_total";
        header(&mut out, name, "counter", "Messages or recipients refused, by reason.");
        for (i, vs) in self.vs_names.iter().enumerate() {
            for reason in Reject::ALL {
                let n = self.sum_vs(i, |c| c.rejected(reason) as i64);
                let _ = writeln!(out, "{name}{{virtual_server=\"{}\",reason=\"{}\"}} {n}", escape(vs), reason.label());
            }
        }
        let name = "tern_connections_refused_total";
        header(&mut out, name, "counter", "Connections refused before the greeting, by reason.");
        for (i, vs) in self.vs_names.iter().enumerate() {
            for reason in Refuse::ALL {
                let n = self.sum_vs(i, |c| c.refused(reason) as i64);
                let _ = writeln!(out, "{name}{{virtual_server=\"{}\",reason=\"{}\"}} {n}", escape(vs), reason.label());
            }
        }
        self.render_security(&mut out);
        let spool: [Family<SpoolStats, u64>; 3] = [
            ("tern_queue_messages", "gauge", "Messages accepted and not yet final.", |s| s.queued.load(Relaxed)),
            ("tern_spool_fsyncs_total", "counter", "fdatasync calls on spool segments.", |s| s.fsyncs.load(Relaxed)),
            ("tern_spool_bytes_written_total", "counter", "Bytes appended to spool segments.", |s| {
                s.bytes_written.load(Relaxed)
            }),
        ];
        let domains = self.domain_totals();
        for (name, kind, help, get) in spool {
            header(&mut out, name, kind, help);
            let _ = writeln!(out, "{name} {}", self.sum_spool(get));
            if name == "tern_queue_messages" {
                domain_samples(&mut out, name, &domains, |d| d.queued.to_string());
            }
        }
        self.render_outbound(&mut out, &domains);
        out
    }

    /// `tern_tls_handshakes_total` and `tern_auth_total` per virtual server and result.
    fn render_security(&self, out: &mut String) {
        let name = "tern_tls_handshakes_total";
        header(out, name, "counter", "Inbound STARTTLS handshakes, by result.");
        for (i, vs) in self.vs_names.iter().enumerate() {
            for (j, result) in ["success", "failure"].into_iter().enumerate() {
                let n = self.sum_vs(i, |c| c.tls_handshakes[j].load(Relaxed) as i64);
                let _ = writeln!(out, "{name}{{virtual_server=\"{}\",result=\"{result}\"}} {n}", escape(vs));
            }
        }
        let name = "tern_auth_total";
        header(out, name, "counter", "Inbound AUTH attempts, by result.");
        for (i, vs) in self.vs_names.iter().enumerate() {
            for result in AuthResult::ALL {
                let n = self.sum_vs(i, |c| c.auth[result as usize].load(Relaxed) as i64);
                let _ = writeln!(out, "{name}{{virtual_server=\"{}\",result=\"{}\"}} {n}", escape(vs), result.label());
            }
        }
    }

    /// Per-domain outbound counters summed over the shards that count them.
    fn domain_totals(&self) -> BTreeMap<String, DomainTotals> {
        let mut domains: BTreeMap<String, DomainTotals> = BTreeMap::new();
        let now = unix_now();
        for shard in &self.shards {
            for (domain, c) in shard.outbound.domains() {
                let d = domains.entry(domain).or_default();
                d.sent += c.sent.load(Relaxed);
                d.connections += c.connections.load(Relaxed);
                d.queued += c.queued.load(Relaxed);
                d.rate += c.rate(now);
            }
        }
        domains
    }

    /// Outbound totals, each followed by its per-domain samples where it has them.
    fn render_outbound(&self, out: &mut String, domains: &BTreeMap<String, DomainTotals>) {
        let totals: [Family<OutboundStats, i64>; 5] = [
            ("tern_connections_outbound_current", "gauge", "Open outbound SMTP connections.", |s| {
                s.connections.load(Relaxed)
            }),
            ("tern_messages_deferred_total", "counter", "Delivery attempts that ended in a retry.", |s| {
                s.deferred.load(Relaxed) as i64
            }),
            ("tern_ndr_total", "counter", "Non-delivery reports sent.", |s| s.ndr.load(Relaxed) as i64),
            ("tern_badmail_total", "counter", "Messages filed in the Badmail directory.", |s| {
                s.badmail.load(Relaxed) as i64
            }),
            ("tern_bytes_sent_total", "counter", "Message bytes delivered to remote servers.", |s| {
                s.bytes_sent.load(Relaxed) as i64
            }),
        ];
        for (name, kind, help, get) in totals {
            header(out, name, kind, help);
            let _ = writeln!(out, "{name} {}", self.shards.iter().map(|s| get(&s.outbound)).sum::<i64>());
            if name == "tern_connections_outbound_current" {
                domain_samples(out, name, domains, |d| d.connections.to_string());
            }
        }
        let name = "tern_messages_sent_total";
        header(out, name, "counter", "Messages delivered to remote servers, by destination domain.");
        domain_samples(out, name, domains, |d| d.sent.to_string());
        let name = "tern_messages_sent_per_second";
        header(out, name, "gauge", "Messages Sent/sec over the last 10 seconds, in total and by domain.");
        let _ = writeln!(out, "{name} {:.1}", domains.values().map(|d| d.rate).sum::<f64>());
        domain_samples(out, name, domains, |d| format!("{:.1}", d.rate));
    }
}

/// Outbound counters of one domain, summed over shards.
#[derive(Debug, Default)]
struct DomainTotals {
    sent: u64,
    connections: i64,
    queued: i64,
    rate: f64,
}

fn domain_samples(
    out: &mut String,
    name: &str,
    domains: &BTreeMap<String, DomainTotals>,
    value: impl Fn(&DomainTotals) -> String,
) {
    for (domain, d) in domains {
        let _ = writeln!(out, "{name}{{domain=\"{}\"}} {}", escape(domain), value(d));
    }
}

/// A metric family: name, type, help, and how to read it from one shard's counters.
type Family<C, V> = (&'static str, &'static str, &'static str, fn(&C) -> V);

fn header(out: &mut String, name: &str, kind: &str, help: &str) {
    let _ = writeln!(out, "# HELP {name} {help}\n# TYPE {name} {kind}");
}

/// Escapes a label value (backslash, quote, newline) per the exposition format.
fn escape(value: &str) -> String {
    value.replace('\\', "\\\\").replace('"', "\\\"").replace('\n', "\\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counters_are_summed_over_shards_with_labels() {
        let m = Metrics::new(vec!["a".into(), "b \"x\"".into()], 2);
        m.shards[0].vs[0].messages_received.fetch_add(3, Relaxed);
        m.shards[1].vs[0].messages_received.fetch_add(4, Relaxed);
        m.shards[1].vs[1].reject(Reject::Relay);
        m.shards[0].vs[0].refuse(Refuse::AccessDomain);
        m.shards[1].vs[0].refuse(Refuse::AccessDomain);
        m.shards[0].vs[0].auth(AuthResult::Failure);
        m.shards[1].vs[0].auth(AuthResult::Failure);
        m.shards[1].vs[0].tls_handshake(false);
        m.shards[0].vs[1].connections_current.fetch_add(1, Relaxed);
        m.shards[0].spool.queued.fetch_add(5, Relaxed);
        m.shards[1].spool.queued.fetch_add(2, Relaxed);
        let text = m.render();
        assert!(text.contains("tern_messages_received_total{virtual_server=\"a\"} 7\n"), "{text}");
        assert!(text.contains("tern_messages_rejected_total{virtual_server=\"b \\\"x\\\"\",reason=\"relay\"} 1\n"));
        assert!(text.contains("tern_connections_inbound_current{virtual_server=\"b \\\"x\\\"\"} 1\n"));
        assert!(text.contains("tern_queue_messages 7\n"));
        assert!(text.contains("tern_connections_refused_total{virtual_server=\"a\",reason=\"access_domain\"} 2\n"));
        assert!(text.contains("tern_connections_refused_total{virtual_server=\"a\",reason=\"connection_limit\"} 0\n"));
        assert!(text.contains("tern_auth_total{virtual_server=\"a\",result=\"failure\"} 2\n"), "{text}");
        assert!(text.contains("tern_tls_handshakes_total{virtual_server=\"a\",result=\"failure\"} 1\n"));
        assert!(text.contains("tern_tls_handshakes_total{virtual_server=\"a\",result=\"success\"} 0\n"));
        assert!(text.contains("# TYPE tern_queue_messages gauge\n"));
    }
}
