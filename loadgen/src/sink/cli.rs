//! `tern-loadgen sink`: the standalone receiving server, until SIGINT/SIGTERM or `--duration`,
//! then its report (per-listener connections and concurrency, messages per connection,
//! end-to-end latency of loadgen messages).

use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, Ordering::Relaxed};
use std::sync::Arc;
use std::time::{Duration, Instant};

use clap::Args;

use super::faults::Faults;
use super::{process_cpu_seconds, Sink, SinkConfig};
use crate::drive::parse_duration;
use crate::report::{Cpu, Delivery, Percentiles, Progress, Report, Scenario, SCHEMA};
use crate::stream::server_config;

/// Arguments of `sink`.
#[derive(Args, Debug, Clone)]
pub struct SinkArgs {
    /// Address to listen on (repeat for several).
    #[arg(long, required = true)]
    pub listen: Vec<SocketAddr>,
    /// Executor threads.
    #[arg(long, default_value_t = 1)]
    pub threads: usize,
    /// Offer STARTTLS (self-signed certificate).
    #[arg(long)]
    pub tls: bool,
    #[command(flatten)]
    pub faults: FaultArgs,
    /// Stop after this long (`30s`); otherwise at SIGINT/SIGTERM.
    #[arg(long, value_parser = parse_duration)]
    pub duration: Option<Duration>,
    /// Print the report as JSON.
    #[arg(long)]
    pub json: bool,
}

/// Fault injection.
#[derive(Args, Debug, Clone, Default)]
pub struct FaultArgs {
    /// Fraction of messages answered `451 4.3.0`.
    #[arg(long, default_value_t = 0.0)]
    pub tempfail_rate: f64,
    /// Fraction of messages answered `554 5.3.0`.
    #[arg(long, default_value_t = 0.0)]
    pub permfail_rate: f64,
    /// `452 4.5.3` for every RCPT after this many in one transaction.
    #[arg(long)]
    pub max_recipients: Option<u32>,
    /// Milliseconds added before the reply to the end of data.
    #[arg(long, default_value_t = 0)]
    pub latency_ms: u64,
    /// Do not offer STARTTLS even with --tls.
    #[arg(long)]
    pub no_starttls: bool,
    /// Fraction of messages during whose DATA the connection is dropped.
    #[arg(long, default_value_t = 0.0)]
    pub disconnect_rate: f64,
    /// Test only: every Nth message gets 250 but is not recorded (a loss).
    #[arg(long, hide = true)]
    pub drop_every: Option<u64>,
    /// Test only: every Nth message is recorded twice (a duplicate).
    #[arg(long, hide = true)]
    pub duplicate_every: Option<u64>,
}

impl FaultArgs {
    pub fn faults(&self) -> Faults {
        Faults {
            tempfail_rate: self.tempfail_rate,
            permfail_rate: self.permfail_rate,
            max_recipients: self.max_recipients,
            latency: Duration::from_millis(self.latency_ms),
            no_starttls: self.no_starttls,
            disconnect_rate: self.disconnect_rate,
            drop_every: self.drop_every,
            duplicate_every: self.duplicate_every,
        }
    }
}

/// Runs the standalone sink until stopped, then prints its report.
pub fn run(args: &SinkArgs) -> std::io::Result<()> {
    let tls = if args.tls { Some(server_config("sink.loadgen.test").map_err(std::io::Error::other)?) } else { None };
    let cfg = SinkConfig {
        listen: args.listen.clone(),
        threads: args.threads,
        faults: args.faults.faults(),
        tls,
        run: None,
        name: "sink.loadgen.test".into(),
    };
    let sink = Sink::start(cfg)?;
    let stop = Arc::new(AtomicBool::new(false));
    for signal in [signal_hook::consts::SIGINT, signal_hook::consts::SIGTERM] {
        signal_hook::flag::register(signal, stop.clone())?;
    }
    eprintln!("tern-loadgen sink listening on {}", sink.addresses().join(", "));
    let started = Instant::now();
    let progress = Progress::new();
    while !stop.load(Relaxed) && args.duration.is_none_or(|d| started.elapsed() < d) {
        std::thread::sleep(Duration::from_millis(100));
        let messages = sink.stats.messages.load(Relaxed);
        progress.show(
            started.elapsed().as_secs_f64(),
            messages,
            None,
            messages as f64 / started.elapsed().as_secs_f64(),
        );
    }
    progress.done();
    let elapsed = started.elapsed().as_secs_f64();
    let out = sink.stop();
    let report = Report {
        schema: SCHEMA,
        mode: "sink".into(),
        scenario: Scenario { tls: args.tls, ..Scenario::default() },
        elapsed_s: elapsed,
        client: None,
        delivery: Some(Delivery {
            delivered: out.summary.messages,
            delivered_per_s: out.summary.messages as f64 / elapsed.max(1e-9),
            e2e_latency_us: Percentiles::of(&out.e2e),
        }),
        sink: Some(out.summary),
        cpu: Cpu { loadgen_s: process_cpu_seconds(), sink_s: Some(out.cpu_s), ..Cpu::default() },
        tuning: None,
        verdict: None,
        sweep: Vec::new(),
        timeline: Vec::new(),
    };
    if args.json {
        println!("{}", report.json());
    } else {
        print!("{}", report.table());
    }
    Ok(())
}
