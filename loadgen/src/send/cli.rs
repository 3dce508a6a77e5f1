//! `tern-loadgen send`: the client load against any SMTP server, with its report.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use clap::Args;

use super::{start, SendConfig, SendOutcome};
use crate::drive::{drive, parse_duration};
use crate::message::Sizes;
use crate::report::{Client, Cpu, Percentiles, Report, Scenario, SCHEMA};
use crate::sink::process_cpu_seconds;

/// The load itself (shared by `send`, `bench` and `tune`).
#[derive(Args, Debug, Clone)]
pub struct LoadArgs {
    /// Concurrent client sessions.
    #[arg(long, default_value_t = 50)]
    pub sessions: usize,
    /// Message size: `4KB`, a range `1KB-64KB`, or weights `4KB:90,100KB:10`.
    #[arg(long, default_value = "4KB")]
    pub size: Sizes,
    /// Recipients per message.
    #[arg(long, default_value_t = 1)]
    pub recipients: u32,
    /// Stop after this many messages.
    #[arg(long)]
    pub messages: Option<u64>,
    /// Stop after this long (`10s`, `2m`); 10 s when neither this nor --messages is given.
    #[arg(long, value_parser = parse_duration)]
    pub duration: Option<Duration>,
    /// Open-loop pacing: message n starts n/RATE seconds after the run began, however fast
    /// the server answers (unpaced when absent). Pipelining then never runs ahead of the
    /// schedule.
    #[arg(long, value_parser = parse_rate)]
    pub rate: Option<f64>,
    /// Client executor threads.
    #[arg(long, default_value_t = 1)]
    pub threads: usize,
    /// Print the report as JSON (schema in docs/LOADGEN.md).
    #[arg(long)]
    pub json: bool,
    /// Write throughput and latency over time as SVG.
    #[arg(long)]
    pub plot: Option<PathBuf>,
}

impl LoadArgs {
    pub fn config(&self, target: SocketAddr, domains: Vec<String>, run: u64) -> SendConfig {
        let duration = self.duration.or(if self.messages.is_none() { Some(Duration::from_secs(10)) } else { None });
        SendConfig {
            target,
            sessions: self.sessions.max(1),
            threads: self.threads,
            messages: self.messages,
            duration,
            sizes: self.size.clone(),
            recipients: self.recipients.max(1),
            domains,
            from: "loadgen@sender.test".into(),
            messages_per_session: 0,
            starttls: false,
            auth: None,
            pipelining: true,
            rate: self.rate,
            run,
        }
    }

    pub fn scenario(&self, cfg: &SendConfig, size: &str) -> Scenario {
        Scenario {
            sessions: cfg.sessions,
            size: size.to_string(),
            recipients: cfg.recipients,
            domains: cfg.domains.clone(),
            messages: cfg.messages,
            duration_s: cfg.duration.map(|d| d.as_secs_f64()),
            rate_per_s: cfg.rate,
            ..Scenario::default()
        }
    }

    /// Prints the report (table or JSON) and writes the plot.
    pub fn output(&self, report: &Report) -> std::io::Result<()> {
        if self.json {
            println!("{}", report.json());
        } else {
            print!("{}", report.table());
        }
        if let Some(path) = &self.plot {
            std::fs::write(path, crate::plot::svg(&report.timeline))?;
        }
        Ok(())
    }
}

/// `--rate`: messages per second, positive and finite.
fn parse_rate(s: &str) -> Result<f64, String> {
    match s.parse::<f64>() {
        Ok(r) if r.is_finite() && r > 0.0 => Ok(r),
        _ => Err(format!("`{s}` is not a positive number of messages per second")),
    }
}

/// Arguments of `send`.
#[derive(Args, Debug, Clone)]
pub struct SendArgs {
    /// The SMTP server, `HOST:PORT`.
    #[arg(long)]
    pub target: SocketAddr,
    #[command(flatten)]
    pub load: LoadArgs,
    /// Recipient domains (messages rotate over them).
    #[arg(long = "domain", default_values = ["remote.example"])]
    pub domains: Vec<String>,
    /// Envelope sender.
    #[arg(long, default_value = "loadgen@sender.test")]
    pub from: String,
    /// Messages per connection before a new one (0 = unlimited).
    #[arg(long, default_value_t = 0)]
    pub messages_per_connection: u32,
    /// Require STARTTLS (the session fails when it is not offered).
    #[arg(long)]
    pub starttls: bool,
    /// AUTH PLAIN with `USER:PASSWORD`.
    #[arg(long)]
    pub auth: Option<String>,
    /// Never pipeline, even when offered.
    #[arg(long)]
    pub no_pipelining: bool,
}

/// The client figures of a finished run.
pub fn client(out: &SendOutcome) -> Client {
    Client {
        accepted: out.accepted.len() as u64,
        refused: out.refused,
        errors: out.errors,
        accepted_per_s: out.accepted.len() as f64 / out.elapsed.as_secs_f64().max(1e-9),
        accept_latency_us: Percentiles::of(&out.latency),
    }
}

/// Runs `send`; the exit code is non-zero when nothing was accepted.
pub fn run(args: &SendArgs) -> std::io::Result<bool> {
    let mut cfg = args.load.config(args.target, args.domains.clone(), fastrand::u64(..));
    cfg.from = args.from.clone();
    cfg.messages_per_session = args.messages_per_connection;
    cfg.starttls = args.starttls;
    cfg.pipelining = !args.no_pipelining;
    cfg.auth = match &args.auth {
        Some(a) => Some(
            a.split_once(':')
                .map(|(u, p)| (u.to_string(), p.to_string()))
                .ok_or_else(|| std::io::Error::new(std::io::ErrorKind::InvalidInput, "--auth takes USER:PASSWORD"))?,
        ),
        None => None,
    };
    let mut scenario = args.load.scenario(&cfg, &cfg.sizes.to_string());
    scenario.target = Some(args.target.to_string());
    scenario.tls = args.starttls;
    scenario.messages_per_connection = Some(args.messages_per_connection);
    let run = start(cfg)?;
    let timeline = drive(&run, || None);
    let out = run.finish(Duration::from_secs(30));
    let report = Report {
        schema: SCHEMA,
        mode: "send".into(),
        scenario,
        elapsed_s: out.elapsed.as_secs_f64(),
        client: Some(client(&out)),
        delivery: None,
        sink: None,
        cpu: Cpu { loadgen_s: process_cpu_seconds(), send_s: Some(out.cpu_s), ..Cpu::default() },
        tuning: None,
        verdict: None,
        sweep: Vec::new(),
        timeline,
    };
    args.load.output(&report)?;
    Ok(report.client.as_ref().is_some_and(|c| c.accepted > 0))
}
