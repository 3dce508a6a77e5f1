//! `tern-loadgen bench` and `tune`: a self-contained run — a temporary directory with a tern
//! configuration, one sink address per destination domain, a DNS responder answering MX and A
//! for those domains, the tern binary, the client load, `/metrics` scraped every second — then
//! the verified report. `tune` repeats the run over several `messages_per_connection` values.

mod run;
pub mod tern;

use std::path::PathBuf;
use std::time::Duration;

use clap::Args;

use crate::drive::parse_duration;
use crate::send::cli::LoadArgs;
use crate::sink::cli::FaultArgs;
use crate::tune::{sweep_advice, SweepRow, SWEEP};
use crate::verify::Limits;

pub use run::bench;

/// Arguments of `bench` (and `tune`).
#[derive(Args, Debug, Clone)]
pub struct BenchArgs {
    #[command(flatten)]
    pub load: LoadArgs,
    /// Destination domains (d1.bench.test ...), one sink address each.
    #[arg(long, default_value_t = 4)]
    pub domains: usize,
    /// tern's shards (executors).
    #[arg(long, default_value_t = 1)]
    pub shards: usize,
    /// tern's `delivery.messages_per_connection` (0 = unlimited).
    #[arg(long, default_value_t = 20)]
    pub messages_per_connection: u32,
    /// tern's `delivery.connections_per_domain`.
    #[arg(long, default_value_t = 100)]
    pub connections_per_domain: u32,
    /// tern's `delivery.outbound_connections`.
    #[arg(long, default_value_t = 500)]
    pub outbound_connections: u32,
    /// TLS both ways: the client uses STARTTLS, which tern requires (`[tls].require`, a
    /// generated certificate), and the sinks offer it, which tern requires too
    /// (`outbound_security.tls = true`).
    #[arg(long)]
    pub tls: bool,
    /// The tern binary (default: `tern` next to this program).
    #[arg(long)]
    pub tern: Option<PathBuf>,
    /// Sink executor threads.
    #[arg(long, default_value_t = 1)]
    pub sink_threads: usize,
    /// How long to wait for tern's queue to empty after the load.
    #[arg(long, value_parser = parse_duration, default_value = "60s")]
    pub drain_timeout: Duration,
    /// Keep the temporary directory (tern's config, data and log).
    #[arg(long)]
    pub keep: bool,
    #[command(flatten)]
    pub faults: FaultArgs,
    /// Test only: configure tern with this messages_per_connection while checking the other.
    #[arg(long, hide = true)]
    pub tern_messages_per_connection: Option<u32>,
    /// Test only: configure tern with this connections_per_domain while checking the other.
    #[arg(long, hide = true)]
    pub tern_connections_per_domain: Option<u32>,
}

impl BenchArgs {
    /// The limits the verifier checks.
    pub fn limits(&self) -> Limits {
        Limits {
            connections_per_domain: self.connections_per_domain,
            outbound_connections: self.outbound_connections,
            messages_per_connection: self.messages_per_connection,
        }
    }

    /// The limits written into tern's configuration.
    pub fn tern_limits(&self) -> Limits {
        Limits {
            connections_per_domain: self.tern_connections_per_domain.unwrap_or(self.connections_per_domain),
            messages_per_connection: self.tern_messages_per_connection.unwrap_or(self.messages_per_connection),
            ..self.limits()
        }
    }
}

/// Runs `bench`: prints the report; the result is false when anything was lost, duplicated or
/// a limit was broken.
pub fn run(args: &BenchArgs) -> Result<bool, String> {
    let report = bench(args)?;
    args.load.output(&report).map_err(|e| e.to_string())?;
    Ok(report.ok())
}

/// Runs `tune`: the same scenario once per value of [`SWEEP`], a table and a recommendation.
pub fn tune(args: &BenchArgs) -> Result<bool, String> {
    let mut rows = Vec::new();
    let mut all_ok = true;
    for mpc in SWEEP {
        let report = bench(&BenchArgs { messages_per_connection: mpc, ..args.clone() })?;
        let sink = report.sink.as_ref();
        all_ok &= report.ok();
        rows.push(SweepRow {
            messages_per_connection: mpc,
            delivered_per_s: report.delivery.as_ref().map_or(0.0, |d| d.delivered_per_s),
            connections: sink.map_or(0, |s| s.connections),
            max_open_per_domain: sink.and_then(|s| s.listeners.iter().map(|l| l.max_open).max()).unwrap_or(0),
            peak_sent_per_s: report.tuning.as_ref().map_or(0.0, |t| t.peak_per_s),
            ok: report.ok(),
        });
        if !args.load.json {
            eprintln!("messages_per_connection = {mpc}: done");
        }
    }
    if args.load.json {
        println!("{}", serde_json::to_string_pretty(&rows).map_err(|e| e.to_string())?);
        return Ok(all_ok);
    }
    println!(
        "{:>24} {:>14} {:>12} {:>22} {:>18} {:>4}",
        "messages_per_connection", "delivered/s", "connections", "max open per domain", "peak Sent/sec", "ok"
    );
    for r in &rows {
        let mpc = if r.messages_per_connection == 0 {
            "unlimited".to_string()
        } else {
            r.messages_per_connection.to_string()
        };
        println!(
            "{mpc:>24} {:>14.0} {:>12} {:>22} {:>18.1} {:>4}",
            r.delivered_per_s,
            r.connections,
            r.max_open_per_domain,
            r.peak_sent_per_s,
            if r.ok { "yes" } else { "NO" }
        );
    }
    println!("{}", sweep_advice(&rows, args.domains));
    Ok(all_ok)
}
