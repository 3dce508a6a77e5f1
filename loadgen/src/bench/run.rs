//! One bench run, start to finish: addresses, responder, sinks, tern, load, drain, verdict.

use std::collections::BTreeMap;
use std::net::{Ipv4Addr, SocketAddr, TcpListener};
use std::path::{Path, PathBuf};
use std::sync::atomic::Ordering::Relaxed;
use std::time::{Duration, Instant};

use tern::dns::{Responder, Zone};

use super::tern::{config_text, Setup, Tern};
use super::BenchArgs;
use crate::drive::drive;
use crate::report::{Cpu, Delivery, Percentiles, Report, SCHEMA};
use crate::scrape;
use crate::send::cli::client;
use crate::sink::{process_cpu_seconds, Sink, SinkConfig};
use crate::stream::server_config;
use crate::tune::{advise, DomainRate};
use crate::verify::{self, Connections};

/// The highest Messages Sent/sec seen, overall and per domain.
#[derive(Default)]
struct Peaks {
    overall: f64,
    domains: BTreeMap<String, f64>,
}

impl Peaks {
    fn scrape(&mut self, admin: SocketAddr) -> Option<String> {
        let text = scrape::fetch(admin).ok()?;
        let name = "tern_messages_sent_per_second";
        self.overall = self.overall.max(scrape::value(&text, name).unwrap_or(0.0));
        for (domain, rate) in scrape::by_domain(&text, name) {
            let peak = self.domains.entry(domain).or_default();
            *peak = peak.max(rate);
        }
        Some(text)
    }
}

/// A random 127.a.b.0/24 for this run, so runs (and tests) in parallel never share addresses.
fn subnet() -> [u8; 3] {
    [127, fastrand::u8(1..=250), fastrand::u8(..)]
}

fn ip(net: [u8; 3], host: u8) -> Ipv4Addr {
    Ipv4Addr::new(net[0], net[1], net[2], host)
}

fn free_port(ip: Ipv4Addr) -> Result<u16, String> {
    Ok(TcpListener::bind((ip, 0)).and_then(|l| l.local_addr()).map_err(|e| format!("{ip}: {e}"))?.port())
}

fn tern_binary(args: &BenchArgs) -> Result<PathBuf, String> {
    let path = match &args.tern {
        Some(p) => p.clone(),
        None => std::env::current_exe().map_err(|e| e.to_string())?.with_file_name("tern"),
    };
    if path.is_file() {
        Ok(path)
    } else {
        Err(format!(
            "no tern binary at {} (build it with `cargo build --release --bin tern`, or pass --tern)",
            path.display()
        ))
    }
}

/// MX and A records sending each domain's mail to its sink address.
fn zone(domains: &[String], listen: &[SocketAddr]) -> Zone {
    let mut zone = Zone::new();
    for (domain, addr) in domains.iter().zip(listen) {
        let mx = format!("mx.{domain}");
        zone.mx(domain, 10, &mx);
        if let SocketAddr::V4(v4) = addr {
            zone.a(&mx, *v4.ip());
        }
    }
    zone
}

/// A self-signed certificate for tern's inbound STARTTLS (`--tls`).
fn write_certificate(cert: &Path, key: &Path) -> Result<(), String> {
    let (cert_pem, key_pem) =
        tern::security::generate_self_signed("tern.bench.test").map_err(|e| format!("certificate: {e}"))?;
    std::fs::write(cert, cert_pem).and_then(|()| std::fs::write(key, key_pem)).map_err(|e| e.to_string())
}

/// Runs one self-contained benchmark and returns its verified report.
pub fn bench(args: &BenchArgs) -> Result<Report, String> {
    let binary = tern_binary(args)?;
    let dir = tempfile::Builder::new().prefix("tern-bench.").tempdir().map_err(|e| e.to_string())?;
    let net = subnet();
    let domains: Vec<String> = (1..=args.domains.max(1)).map(|i| format!("d{i}.bench.test")).collect();
    let sink_port = free_port(ip(net, 10))?;
    let listen: Vec<SocketAddr> =
        (0..domains.len()).map(|i| SocketAddr::from((ip(net, 10 + i as u8), sink_port))).collect();
    let responder = Responder::start(zone(&domains, &listen)).map_err(|e| format!("DNS responder: {e}"))?;
    let run_id = fastrand::u64(..);
    let tls = if args.tls { Some(server_config("sink.bench.test")?) } else { None };
    let sink_cfg = SinkConfig {
        listen,
        threads: args.sink_threads,
        faults: args.faults.faults(),
        tls,
        run: Some(run_id),
        name: "sink.bench.test".into(),
    };
    let sink = Sink::start(sink_cfg).map_err(|e| format!("sink: {e}"))?;
    let tern_ip = ip(net, 2);
    let tern_addr = SocketAddr::from((tern_ip, free_port(tern_ip)?));
    let admin = SocketAddr::from((tern_ip, free_port(tern_ip)?));
    let config = dir.path().join("tern.toml");
    let (cert, key) = (dir.path().join("cert.pem"), dir.path().join("key.pem"));
    if args.tls {
        write_certificate(&cert, &key)?;
    }
    let setup = Setup {
        data_dir: &dir.path().join("data"),
        shards: args.shards.max(1),
        listen: tern_addr,
        admin,
        dns: responder.addr(),
        remote_port: sink_port,
        limits: args.tern_limits(),
        recipients: args.load.recipients,
        tls: args.tls.then_some((cert.as_path(), key.as_path())),
    };
    std::fs::write(&config, config_text(&setup)).map_err(|e| e.to_string())?;
    let tern = Tern::start(&binary, &config, tern_addr, dir.path().join("tern.log"))?;
    let result = measure(args, &tern, &sink, tern_addr, admin, domains, run_id);
    let tern_cpu = tern.cpu_seconds();
    let sink_out = sink.stop();
    tern.stop();
    if args.keep {
        eprintln!("kept {}", dir.keep().display());
    }
    let (mut report, accepted, problems) = result?;
    report.cpu.tern_s = tern_cpu;
    report.cpu.sink_s = Some(sink_out.cpu_s);
    report.cpu.loadgen_s = process_cpu_seconds();
    let seen = Connections {
        max_open_per_domain: report
            .scenario
            .domains
            .iter()
            .cloned()
            .zip(sink_out.summary.listeners.iter().map(|l| l.max_open))
            .collect(),
        max_open_total: sink_out.summary.max_open,
        max_messages_per_connection: sink_out.summary.max_messages_per_connection,
    };
    let mut verdict = verify::messages(&accepted, &sink_out.deliveries);
    verdict.violations = problems;
    verdict.violations.extend(verify::limits(&args.limits(), &seen));
    if let Some(d) = report.delivery.as_mut() {
        d.delivered = sink_out.summary.messages;
        d.delivered_per_s = d.delivered as f64 / report.elapsed_s.max(1e-9);
        d.e2e_latency_us = Percentiles::of(&sink_out.e2e);
    }
    report.sink = Some(sink_out.summary);
    report.verdict = Some(verdict);
    Ok(report)
}

/// The report without the sink's side, the client's accepted messages, and problems seen.
type Measured = (Report, Vec<(u64, u32)>, Vec<String>);

/// Drives the load, waits for tern's queue to empty, and fills the report (verdict pending).
fn measure(
    args: &BenchArgs,
    tern: &Tern,
    sink: &Sink,
    target: SocketAddr,
    admin: SocketAddr,
    domains: Vec<String>,
    run_id: u64,
) -> Result<Measured, String> {
    let mut cfg = args.load.config(target, domains, run_id);
    cfg.starttls = args.tls;
    let mut scenario = args.load.scenario(&cfg, &cfg.sizes.to_string());
    scenario.target = Some(target.to_string());
    scenario.shards = Some(args.shards.max(1));
    scenario.messages_per_connection = Some(args.messages_per_connection);
    scenario.connections_per_domain = Some(args.connections_per_domain);
    scenario.outbound_connections = Some(args.outbound_connections);
    scenario.tls = args.tls;
    let started = Instant::now();
    let run = crate::send::start(cfg).map_err(|e| e.to_string())?;
    let mut peaks = Peaks::default();
    let mut timeline = drive(&run, || {
        peaks.scrape(admin);
        Some(sink.stats.messages.load(Relaxed))
    });
    let out = run.finish(Duration::from_secs(30));
    let (last, problems) = drain(args, tern, admin, &mut peaks);
    let elapsed = started.elapsed().as_secs_f64();
    timeline.push(crate::report::Tick {
        t_s: elapsed,
        accepted: out.accepted.len() as u64,
        delivered: sink.stats.messages.load(Relaxed),
        accept_mean_us: 0.0,
    });
    let sent = scrape::by_domain(&last, "tern_messages_sent_total");
    let rates = scenario
        .domains
        .iter()
        .map(|d| DomainRate {
            domain: d.clone(),
            peak_per_s: peaks.domains.get(d).copied().unwrap_or(0.0),
            sent: sent.get(d).copied().unwrap_or(0.0) as u64,
        })
        .collect();
    let tuning = advise(args.messages_per_connection, peaks.overall, rates);
    let client = client(&out);
    let report = Report {
        schema: SCHEMA,
        mode: "bench".into(),
        scenario,
        elapsed_s: elapsed,
        client: Some(client),
        delivery: Some(Delivery { delivered: 0, delivered_per_s: 0.0, e2e_latency_us: Percentiles::default() }),
        sink: None,
        cpu: Cpu { send_s: Some(out.cpu_s), ..Cpu::default() },
        tuning: Some(tuning),
        verdict: None,
        sweep: Vec::new(),
        timeline,
    };
    Ok((report, out.accepted, problems))
}

/// Waits until tern's queue is empty (scraping the peaks once a second); returns the last
/// `/metrics` text and a problem when the queue did not empty within the drain timeout.
fn drain(args: &BenchArgs, tern: &Tern, admin: SocketAddr, peaks: &mut Peaks) -> (String, Vec<String>) {
    let mut problems = Vec::new();
    let drain_deadline = Instant::now() + args.drain_timeout;
    let mut next_scrape = Instant::now();
    let last = loop {
        let text = if Instant::now() >= next_scrape {
            next_scrape += Duration::from_secs(1);
            peaks.scrape(admin)
        } else {
            scrape::fetch(admin).ok()
        };
        let queued = text.as_deref().and_then(|t| scrape::value(t, "tern_queue_messages"));
        if queued == Some(0.0) {
            break text.unwrap_or_default();
        }
        if Instant::now() > drain_deadline {
            let n = queued.map_or("an unknown number of".to_string(), |q| q.to_string());
            problems.push(format!(
                "tern's queue still held {n} messages after {:?} (its log: {}, kept with --keep)",
                args.drain_timeout,
                tern.log.display()
            ));
            break text.unwrap_or_default();
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    (last, problems)
}
