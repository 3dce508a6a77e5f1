//! The SMTP load generator: glommio executor threads, each running many concurrent client
//! sessions (PIPELINING when offered, optional STARTTLS and AUTH), messages built from one
//! template with only the headers varying. It records which messages were accepted (for the
//! exactly-once check) and the accept latency (end of DATA to the 250).

pub mod cli;
mod session;

use std::cell::RefCell;
use std::net::SocketAddr;
use std::rc::Rc;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering::Relaxed, Ordering::SeqCst};
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use glommio::{ExecutorJoinHandle, LocalExecutorBuilder, Placement};
use hdrhistogram::Histogram;

use crate::message::{Sizes, Template};
use crate::sink::{histogram, thread_cpu_seconds, IO_MEMORY};

/// Nanoseconds since the Unix epoch (the clock in `X-Loadgen-Sent`).
pub fn unix_nanos() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_nanos() as u64)
}

/// What load to drive and where.
#[derive(Debug, Clone)]
pub struct SendConfig {
    pub target: SocketAddr,
    pub sessions: usize,
    pub threads: usize,
    /// Stop after this many messages (whichever of messages / duration comes first).
    pub messages: Option<u64>,
    pub duration: Option<Duration>,
    pub sizes: Sizes,
    pub recipients: u32,
    /// Recipient domains; message `n` goes to `domains[n % len]`.
    pub domains: Vec<String>,
    pub from: String,
    /// Messages per connection before QUIT and a new one (0 = unlimited).
    pub messages_per_session: u32,
    pub starttls: bool,
    pub auth: Option<(String, String)>,
    /// Use PIPELINING when the server offers it.
    pub pipelining: bool,
    /// Messages per second, open loop (message n is due n/rate seconds after the start).
    pub rate: Option<f64>,
    /// Run identifier carried in every Message-ID.
    pub run: u64,
}

/// Live counters of a run.
#[derive(Debug, Default)]
pub struct SendStats {
    next: AtomicU64,
    pub accepted: AtomicU64,
    pub refused: AtomicU64,
    pub errors: AtomicU64,
    /// Sum of accept latencies in microseconds (for per-second means).
    pub latency_sum_us: AtomicU64,
    stop: AtomicBool,
    abort: AtomicBool,
    finished: AtomicUsize,
}

/// What one executor thread recorded.
#[derive(Default)]
pub struct Local {
    /// (sequence number, recipients accepted) of every message answered 250.
    pub accepted: Vec<(u64, u32)>,
    pub latency: Option<Histogram<u64>>,
    pub cpu_s: f64,
    /// When the thread's last session ended.
    pub finished: Option<Instant>,
}

/// Everything a finished run recorded.
pub struct SendOutcome {
    pub accepted: Vec<(u64, u32)>,
    pub latency: Histogram<u64>,
    pub refused: u64,
    pub errors: u64,
    pub elapsed: Duration,
    pub cpu_s: f64,
}

/// A run under way.
pub struct SendRun {
    pub stats: Arc<SendStats>,
    pub started: Instant,
    threads: Vec<ExecutorJoinHandle<Local>>,
    deadline: Option<Instant>,
}

struct Ctx {
    cfg: Arc<SendConfig>,
    stats: Arc<SendStats>,
    template: Template,
    local: RefCell<Local>,
    /// When the run began: the origin of the `rate` schedule.
    origin: Instant,
}

impl Ctx {
    /// The next sequence number, or `None` when the run is over.
    fn next(&self) -> Option<u64> {
        if self.stats.stop.load(Relaxed) {
            return None;
        }
        let n = self.stats.next.fetch_add(1, Relaxed);
        if self.cfg.messages.is_some_and(|max| n >= max) {
            return None;
        }
        Some(n)
    }

    /// With a rate, waits until message `seq` is due.
    async fn pace(&self, seq: u64) {
        let Some(rate) = self.cfg.rate else { return };
        let due = self.origin + Duration::from_secs_f64(seq as f64 / rate);
        let now = Instant::now();
        if due > now {
            glommio::timer::sleep(due - now).await;
        }
    }
}

/// Starts driving load.
pub fn start(cfg: SendConfig) -> std::io::Result<SendRun> {
    let cfg = Arc::new(cfg);
    let stats = Arc::new(SendStats::default());
    let threads = cfg.threads.clamp(1, cfg.sessions.max(1));
    let mut handles = Vec::new();
    let started = Instant::now();
    for k in 0..threads {
        let sessions = cfg.sessions / threads + usize::from(k < cfg.sessions % threads);
        let (cfg, stats) = (cfg.clone(), stats.clone());
        let handle = LocalExecutorBuilder::new(Placement::Unbound)
            .name(&format!("loadgen-send-{k}"))
            .io_memory(IO_MEMORY)
            .spawn(move || run_thread(cfg, stats, sessions, started))
            .map_err(|e| std::io::Error::other(e.to_string()))?;
        handles.push(handle);
    }
    Ok(SendRun { stats, started, threads: handles, deadline: cfg.duration.map(|d| started + d) })
}

async fn run_thread(cfg: Arc<SendConfig>, stats: Arc<SendStats>, sessions: usize, origin: Instant) -> Local {
    let template = Template::new(cfg.sizes.max());
    let local = RefCell::new(Local { latency: Some(histogram()), ..Local::default() });
    let ctx = Rc::new(Ctx { cfg, stats: stats.clone(), template, local, origin });
    let tasks: Vec<_> = (0..sessions).map(|_| glommio::spawn_local(session::run(ctx.clone()))).collect();
    let all = async {
        for task in tasks {
            task.await;
        }
    };
    let abort = async {
        while !stats.abort.load(Relaxed) {
            glommio::timer::sleep(Duration::from_millis(50)).await;
        }
    };
    futures_lite::future::or(all, abort).await;
    stats.finished.fetch_add(1, SeqCst);
    let mut local = ctx.local.take();
    local.cpu_s = thread_cpu_seconds();
    local.finished = Some(Instant::now());
    local
}

impl SendRun {
    /// True when every session has finished (message count reached or stopped).
    pub fn done(&self) -> bool {
        self.stats.finished.load(SeqCst) == self.threads.len()
    }

    /// True when the configured duration has passed.
    pub fn expired(&self) -> bool {
        self.deadline.is_some_and(|d| Instant::now() >= d)
    }

    /// Asks the sessions to stop after their current message.
    pub fn stop(&self) {
        self.stats.stop.store(true, SeqCst);
    }

    /// Stops, gives sessions up to `grace` to finish their message, and collects the results;
    /// the run lasted until its last session ended.
    pub fn finish(self, grace: Duration) -> SendOutcome {
        self.stop();
        let deadline = Instant::now() + grace;
        while !self.done() && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(10));
        }
        self.stats.abort.store(true, SeqCst);
        let mut out = SendOutcome {
            accepted: Vec::new(),
            latency: histogram(),
            refused: self.stats.refused.load(Relaxed),
            errors: self.stats.errors.load(Relaxed),
            elapsed: Duration::ZERO,
            cpu_s: 0.0,
        };
        for handle in self.threads {
            let Ok(local) = handle.join() else { continue };
            let end = local.finished.unwrap_or_else(Instant::now);
            out.elapsed = out.elapsed.max(end.duration_since(self.started));
            out.accepted.extend(local.accepted);
            if let Some(h) = &local.latency {
                let _ = out.latency.add(h);
            }
            out.cpu_s += local.cpu_s;
        }
        out
    }
}
