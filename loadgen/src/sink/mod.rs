//! The recording sink: glommio executor threads serving SMTP on one or more addresses (one per
//! destination domain in `bench`), counting exactly what arrives; [`Sink::stop`] gathers the
//! delivered Message-IDs, end-to-end latencies and per-connection figures.

pub mod cli;
pub mod faults;
mod session;
pub mod stats;

use std::cell::RefCell;
use std::collections::BTreeMap;
use std::io;
use std::net::SocketAddr;
use std::rc::Rc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{mpsc, Arc};
use std::time::Duration;

use glommio::{ExecutorJoinHandle, LocalExecutorBuilder, Placement};
use hdrhistogram::Histogram;
use memchr::memmem::Finder;
use rustls::ServerConfig;

use faults::Faults;
use stats::{SinkStats, SinkSummary};

/// io_uring registered memory per executor (RLIMIT_MEMLOCK is often 8 MiB).
pub const IO_MEMORY: usize = 1 << 20;

/// How the sink runs.
#[derive(Clone)]
pub struct SinkConfig {
    pub listen: Vec<SocketAddr>,
    pub threads: usize,
    pub faults: Faults,
    /// Offer STARTTLS with this configuration (unless `faults.no_starttls`).
    pub tls: Option<Arc<ServerConfig>>,
    /// Record only messages of this run (others count as foreign).
    pub run: Option<u64>,
    pub name: String,
}

/// What one executor thread recorded.
pub struct Local {
    /// (sequence number, recipients) per recorded delivery.
    pub deliveries: Vec<(u64, u32)>,
    /// End-to-end latency in microseconds.
    pub e2e: Histogram<u64>,
    /// Closed connections by the number of messages they carried.
    pub per_connection: BTreeMap<u64, u64>,
    pub cpu_s: f64,
}

/// Everything the sink recorded, after it stopped.
pub struct SinkOutcome {
    pub summary: SinkSummary,
    pub deliveries: Vec<(u64, u32)>,
    pub e2e: Histogram<u64>,
    pub cpu_s: f64,
}

/// A running sink.
pub struct Sink {
    pub stats: Arc<SinkStats>,
    addresses: Vec<String>,
    stop: Arc<AtomicBool>,
    threads: Vec<ExecutorJoinHandle<Local>>,
}

pub fn histogram() -> Histogram<u64> {
    Histogram::new_with_bounds(1, 3_600_000_000, 3).expect("valid histogram bounds")
}

impl Sink {
    /// Binds every address (refusing one already in use) and starts serving.
    pub fn start(cfg: SinkConfig) -> io::Result<Sink> {
        let mut listen = Vec::new();
        for addr in &cfg.listen {
            // Bound once without SO_REUSEPORT: an address in use is an error, not shared.
            listen.push(std::net::TcpListener::bind(addr)?.local_addr()?);
        }
        let cfg = Arc::new(SinkConfig { listen, ..cfg });
        let stats = Arc::new(SinkStats::new(cfg.listen.len()));
        let stop = Arc::new(AtomicBool::new(false));
        let ended = Arc::new(AtomicU64::new(0));
        let (ready_tx, ready_rx) = mpsc::channel();
        let mut threads = Vec::new();
        for k in 0..cfg.threads.max(1) {
            let (cfg, stats, stop, ended, ready) =
                (cfg.clone(), stats.clone(), stop.clone(), ended.clone(), ready_tx.clone());
            let handle = LocalExecutorBuilder::new(Placement::Unbound)
                .name(&format!("loadgen-sink-{k}"))
                .io_memory(IO_MEMORY)
                .spawn(move || run(cfg, stats, stop, ended, ready))
                .map_err(|e| io::Error::other(e.to_string()))?;
            threads.push(handle);
        }
        drop(ready_tx);
        let addresses = cfg.listen.iter().map(ToString::to_string).collect();
        let sink = Sink { stats, addresses, stop, threads };
        for _ in 0..sink.threads.len() {
            if let Ok(Err(e)) = ready_rx.recv() {
                sink.stop();
                return Err(e);
            }
        }
        Ok(sink)
    }

    /// The bound addresses, in configuration order.
    pub fn addresses(&self) -> &[String] {
        &self.addresses
    }

    /// Stops serving and returns what was recorded.
    pub fn stop(self) -> SinkOutcome {
        self.stop.store(true, Ordering::SeqCst);
        let mut summary = self.stats.summary(&self.addresses);
        let mut out = SinkOutcome { summary: summary.clone(), deliveries: Vec::new(), e2e: histogram(), cpu_s: 0.0 };
        let mut per_connection: BTreeMap<u64, u64> = BTreeMap::new();
        for handle in self.threads {
            let Ok(local) = handle.join() else { continue };
            out.deliveries.extend(local.deliveries);
            let _ = out.e2e.add(&local.e2e);
            out.cpu_s += local.cpu_s;
            for (n, c) in local.per_connection {
                *per_connection.entry(n).or_default() += c;
            }
        }
        summary.messages_per_connection = per_connection.into_iter().collect();
        out.summary = summary;
        out
    }
}

async fn run(
    cfg: Arc<SinkConfig>,
    stats: Arc<SinkStats>,
    stop: Arc<AtomicBool>,
    ended: Arc<AtomicU64>,
    ready: mpsc::Sender<io::Result<()>>,
) -> Local {
    let local = Rc::new(RefCell::new(Local {
        deliveries: Vec::new(),
        e2e: histogram(),
        per_connection: BTreeMap::new(),
        cpu_s: 0.0,
    }));
    let ctx =
        Rc::new(session::Ctx { cfg: cfg.clone(), stats, ended, local: local.clone(), end: Finder::new(b"\r\n.\r\n") });
    let mut tasks = Vec::new();
    for (index, addr) in cfg.listen.iter().enumerate() {
        match tern::runtime::listener(*addr) {
            Ok(listener) => tasks.push(glommio::spawn_local(accept(listener, index, ctx.clone()))),
            Err(e) => {
                let _ = ready.send(Err(io::Error::other(format!("{addr}: {e}"))));
                return take(&local);
            }
        }
    }
    let _ = ready.send(Ok(()));
    while !stop.load(Ordering::SeqCst) {
        glommio::timer::sleep(Duration::from_millis(20)).await;
    }
    drop(tasks);
    let mut out = take(&local);
    out.cpu_s = thread_cpu_seconds();
    out
}

fn take(local: &Rc<RefCell<Local>>) -> Local {
    let mut l = local.borrow_mut();
    Local {
        deliveries: std::mem::take(&mut l.deliveries),
        e2e: std::mem::replace(&mut l.e2e, histogram()),
        per_connection: std::mem::take(&mut l.per_connection),
        cpu_s: l.cpu_s,
    }
}

async fn accept(listener: glommio::net::TcpListener, index: usize, ctx: Rc<session::Ctx>) {
    loop {
        match listener.accept().await {
            Ok(tcp) => {
                glommio::spawn_local(session::serve(tcp, index, ctx.clone())).detach();
            }
            Err(_) => glommio::timer::sleep(Duration::from_millis(10)).await,
        }
    }
}

/// CPU seconds (user + system) used by the calling thread so far.
pub fn thread_cpu_seconds() -> f64 {
    rusage_seconds(libc::RUSAGE_THREAD)
}

/// CPU seconds (user + system) used by this whole process so far.
pub fn process_cpu_seconds() -> f64 {
    rusage_seconds(libc::RUSAGE_SELF)
}

fn rusage_seconds(who: libc::c_int) -> f64 {
    // SAFETY: getrusage only writes the struct we pass.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    if unsafe { libc::getrusage(who, &mut usage) } != 0 {
        return 0.0;
    }
    let secs = |t: libc::timeval| t.tv_sec as f64 + t.tv_usec as f64 / 1e6;
    secs(usage.ru_utime) + secs(usage.ru_stime)
}
