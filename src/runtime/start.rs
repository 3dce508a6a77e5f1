//! Starting the shards, waiting for them to be ready, and stopping them on SIGTERM/SIGINT
//! (SIGHUP reloads certificates and users files: `reload.rs`).

use std::cell::{OnceCell, RefCell};
use std::net::{Ipv4Addr, Ipv6Addr, SocketAddr};
use std::rc::Rc;
use std::sync::atomic::{AtomicBool, AtomicU32, Ordering};
use std::sync::mpsc;
use std::sync::Arc;
use std::time::{Duration, Instant};

use glommio::{LocalExecutorBuilder, Placement};

use super::mesh::{self, Mesh, ShardMsg};
use super::reload::{open_security, reload_on_sighup};
use super::shard::Shard;
use crate::admin::metrics::Metrics;
use crate::config::{Config, VsState};
use crate::dns::Resolver;
use crate::inbound::{listen, VsContext, VsSecurity};
use crate::local::DropDir;
use crate::outbound::{GlobalCap, Outbound, Parts, Submit};
use crate::policy::Domains;
use crate::spool::{BodyRef, MessageMeta, RetryState, Spool};

/// io_uring registered memory per shard: small, since RLIMIT_MEMLOCK is often 8 MiB.
const IO_MEMORY: usize = 1 << 20;
/// How often a shard looks at the shutdown flag.
const SHUTDOWN_POLL: Duration = Duration::from_millis(50);
/// Where the DNS servers come from when `delivery.dns_servers` is empty.
const RESOLV_CONF: &str = "/etc/resolv.conf";
/// Time a DNS server gets to answer one query.
const DNS_TIMEOUT: Duration = Duration::from_secs(5);
/// How long a listener found on a bind address at start may take to go away.
const FOREIGN_LISTENER_WAIT: Duration = Duration::from_secs(3);
/// How long sessions get to finish after SIGTERM before the shard stops anyway.
const SHUTDOWN_GRACE: Duration = Duration::from_secs(10);

#[derive(Debug, thiserror::Error)]
pub enum RuntimeError {
    #[error("cannot create {path}: {source}")]
    Directory { path: String, source: std::io::Error },
    #[error("{0}")]
    Bind(String),
    #[error("shard {shard}: {reason}")]
    Shard { shard: usize, reason: String },
    #[error("cannot start executor for shard {shard}: {reason}")]
    Executor { shard: usize, reason: String },
    #[error("signals: {0}")]
    Signals(std::io::Error),
    #[error("{0}")]
    Security(String),
}

/// Everything a shard needs from the process.
struct Shared {
    config: Config,
    metrics: Arc<Metrics>,
    open_connections: Vec<Arc<AtomicU32>>,
    stop: Arc<AtomicBool>,
    global: Arc<GlobalCap>,
    dns_servers: Vec<SocketAddr>,
    /// Per virtual server, in configuration order.
    security: Vec<VsSecurity>,
}

/// Runs the server until SIGTERM or SIGINT; returns once every shard has stopped.
pub fn run(mut config: Config) -> Result<(), RuntimeError> {
    create_dirs(&mut config)?;
    check_binds(&config)?;
    ignore_sigxfsz();
    raise_open_files_limit();
    let security = open_security(&config)?;
    reload_on_sighup(&security)?;
    let stop = Arc::new(AtomicBool::new(false));
    for signal in [signal_hook::consts::SIGTERM, signal_hook::consts::SIGINT] {
        signal_hook::flag::register(signal, stop.clone()).map_err(RuntimeError::Signals)?;
    }
    let names = config.virtual_servers.iter().map(|v| v.name.clone()).collect();
    let metrics = Arc::new(Metrics::new(names, config.server.shards));
    if let Some(addr) = config.admin.listen {
        let (bound, _thread) = crate::admin::serve(addr, metrics.clone())
            .map_err(|e| RuntimeError::Bind(format!("admin.listen: cannot bind {addr}: {e}")))?;
        tracing::info!("admin: metrics on http://{bound}/metrics");
    }
    let open_connections = config.virtual_servers.iter().map(|_| Arc::new(AtomicU32::new(0))).collect();
    let dns_servers = dns_servers(&config)?;
    let global = Arc::new(GlobalCap::new(config.delivery.outbound_connections));
    let mesh = mesh::builder(config.server.shards);
    let shared =
        Arc::new(Shared { config, metrics, open_connections, stop: stop.clone(), global, dns_servers, security });
    let (ready_tx, ready_rx) = mpsc::channel();
    let cpus = allowed_cpus();
    let mut handles = Vec::new();
    for k in 0..shared.config.server.shards {
        let (shared, ready, mesh) = (shared.clone(), ready_tx.clone(), mesh.clone());
        let placement = Placement::Fixed(cpus[k % cpus.len()]);
        let handle = LocalExecutorBuilder::new(placement)
            .name(&format!("tern-shard-{k}"))
            .io_memory(IO_MEMORY)
            .spawn(move || run_shard(k, shared, mesh, ready))
            .map_err(|e| RuntimeError::Executor { shard: k, reason: e.to_string() })?;
        handles.push(handle);
    }
    drop(ready_tx);
    let mut first_error = None;
    for _ in 0..handles.len() {
        match ready_rx.recv() {
            Ok(Ok(())) => {}
            Ok(Err(e)) => {
                first_error.get_or_insert(e);
                stop.store(true, Ordering::SeqCst);
            }
            Err(_) => break,
        }
    }
    if first_error.is_none() {
        log_ready(&shared.config);
    }
    for handle in handles {
        let _ = handle.join();
    }
    match first_error {
        Some(e) => Err(e),
        None => {
            tracing::info!("stopped");
            Ok(())
        }
    }
}

fn log_ready(config: &Config) {
    for vs in config.virtual_servers.iter().filter(|v| v.state == VsState::Started) {
        let binds: Vec<String> = vs.bind.iter().map(SocketAddr::to_string).collect();
        tracing::info!("virtual server \"{}\" listening on {}", vs.name, binds.join(", "));
    }
    tracing::info!("ready: {} shard(s)", config.server.shards);
}

/// The body of one shard's executor.
async fn run_shard(k: usize, shared: Arc<Shared>, mesh: mesh::Builder, ready: mpsc::Sender<Result<(), RuntimeError>>) {
    let shard = match open_shard(k, &shared, mesh).await {
        Ok(shard) => shard,
        Err(reason) => {
            let _ = ready.send(Err(RuntimeError::Shard { shard: k, reason }));
            return;
        }
    };
    let listeners = match bind_listeners(&shard, &shared.config) {
        Ok(listeners) => listeners,
        Err(reason) => {
            let _ = ready.send(Err(RuntimeError::Bind(reason)));
            return;
        }
    };
    let _ = ready.send(Ok(()));
    while !shared.stop.load(Ordering::SeqCst) {
        glommio::timer::sleep(SHUTDOWN_POLL).await;
    }
    drop(listeners);
    shard.begin_shutdown();
    let deadline = Instant::now() + SHUTDOWN_GRACE;
    while shard.sessions.get() > 0 && Instant::now() < deadline {
        glommio::timer::sleep(Duration::from_millis(20)).await;
    }
    if let Err(e) = shard.spool.flush().await {
        tracing::error!("shard {k}: final spool sync failed: {e}");
    }
}

/// Opens the spool shard (replaying it), the Drop directory, and resumes recovered mail.
async fn open_shard(k: usize, shared: &Shared, mesh: mesh::Builder) -> Result<Rc<Shard>, String> {
    let config = &shared.config;
    let metrics = shared.metrics.shards[k].clone();
    // Every shard joins the mesh first, so no shard waits for one that failed later. Messages
    // from shards that started sooner wait in `early` until this shard's engine exists.
    let engine: Rc<OnceCell<Rc<Outbound>>> = Rc::default();
    let early: Rc<RefCell<Vec<ShardMsg>>> = Rc::default();
    let handler = {
        let (engine, early) = (engine.clone(), early.clone());
        Rc::new(move |msg: ShardMsg| match engine.get() {
            Some(engine) => engine.handle(msg),
            None => early.borrow_mut().push(msg),
        })
    };
    let mesh = Mesh::join(mesh, handler).await?;
    let (spool, recovered) = Spool::open(&config.server.spool_dir, k, config.server.shards, metrics.spool.clone())
        .await
        .map_err(|e| format!("spool: {e}"))?;
    if !recovered.is_empty() {
        tracing::info!("shard {k}: recovered {} queued message(s)", recovered.len());
    }
    let drop_dir = DropDir::open(&config.server.drop_dir)
        .await
        .map_err(|e| format!("drop directory {}: {e}", config.server.drop_dir.display()))?;
    let contexts = config
        .virtual_servers
        .iter()
        .enumerate()
        .map(|(i, vs)| {
            let open = shared.open_connections[i].clone();
            Rc::new(VsContext::new(config, i, vs, &shared.security[i], open, metrics.clone()))
        })
        .collect();
    let site = Domains::new(config, &config.server.default_domain);
    let resolver = Resolver::new(shared.dns_servers.clone(), DNS_TIMEOUT);
    let shard = Rc::new(Shard::new(k, spool, drop_dir, contexts, site, metrics.clone(), resolver.clone()));
    let submit: Submit = {
        let weak = Rc::downgrade(&shard);
        Rc::new(move |meta: &Rc<MessageMeta>, body: BodyRef, wire: &[u8]| {
            if let Some(shard) = weak.upgrade() {
                shard.route_stored(meta, body, Some(wire), &[], RetryState::default());
            }
        })
    };
    let parts = Parts {
        config,
        shard: k,
        spool: shard.spool.clone(),
        resolver,
        global: shared.global.clone(),
        stats: metrics.outbound.clone(),
        submit,
        ids: {
            let weak = Rc::downgrade(&shard);
            Rc::new(move || weak.upgrade().map_or_else(String::new, |s| s.next_id()))
        },
    };
    let outbound = Outbound::new(parts, mesh)?;
    let _ = engine.set(outbound.clone());
    for msg in early.take() {
        outbound.handle(msg);
    }
    let _ = shard.outbound.set(outbound);
    shard.resume(recovered).await;
    Ok(shard)
}

/// Binds this shard's listener for every address of every started virtual server.
fn bind_listeners(shard: &Rc<Shard>, config: &Config) -> Result<Vec<glommio::Task<()>>, String> {
    let mut tasks = Vec::new();
    for (i, vs) in config.virtual_servers.iter().enumerate() {
        if vs.state != VsState::Started {
            continue;
        }
        for addr in &vs.bind {
            let listener =
                super::listener(*addr).map_err(|e| format!("virtual_server[{i}].bind: cannot bind {addr}: {e}"))?;
            let ctx = shard.virtual_servers[i].clone();
            tasks.push(glommio::spawn_local(listen(listener, ctx, shard.clone())));
        }
    }
    Ok(tasks)
}

/// Creates the data directories and makes their paths absolute (glommio opens them with
/// io_uring, which does not resolve relative paths here).
/// `delivery.dns_servers`, or the name servers of `/etc/resolv.conf`.
fn dns_servers(config: &Config) -> Result<Vec<SocketAddr>, RuntimeError> {
    if !config.delivery.dns_servers.is_empty() {
        return Ok(config.delivery.dns_servers.clone());
    }
    crate::dns::servers_from_resolv_conf(std::path::Path::new(RESOLV_CONF))
        .map_err(|e| RuntimeError::Bind(format!("delivery.dns_servers is empty and {RESOLV_CONF} is unusable: {e}")))
}

fn create_dirs(config: &mut Config) -> Result<(), RuntimeError> {
    let s = &mut config.server;
    for dir in
        [&mut s.data_dir, &mut s.spool_dir, &mut s.drop_dir, &mut s.pickup_dir, &mut s.badmail_dir, &mut s.log_dir]
    {
        let failed = |source| RuntimeError::Directory { path: dir.display().to_string(), source };
        std::fs::create_dir_all(&*dir).map_err(failed)?;
        *dir = std::path::absolute(&*dir).map_err(failed)?;
    }
    Ok(())
}

/// Listeners use SO_REUSEPORT (one per shard), which would silently share a port with another
/// process of the same user: refuse to start when something already accepts connections on a
/// bind address. (A bind probe cannot tell: the earlier run's connections in TIME_WAIT would
/// make it fail after every restart.) A process killed with SIGKILL leaves its listeners open
/// until the kernel has torn down its io_uring, so a listener must persist for
/// [`FOREIGN_LISTENER_WAIT`] to count.
fn check_binds(config: &Config) -> Result<(), RuntimeError> {
    for (i, vs) in config.virtual_servers.iter().enumerate() {
        if vs.state != VsState::Started {
            continue;
        }
        for addr in &vs.bind {
            if someone_listens(*addr) {
                return Err(RuntimeError::Bind(format!(
                    "virtual_server[{i}].bind: {addr} is already in use by another process"
                )));
            }
        }
    }
    Ok(())
}

fn someone_listens(mut addr: SocketAddr) -> bool {
    if addr.ip().is_unspecified() {
        addr.set_ip(if addr.is_ipv4() { Ipv4Addr::LOCALHOST.into() } else { Ipv6Addr::LOCALHOST.into() });
    }
    let deadline = Instant::now() + FOREIGN_LISTENER_WAIT;
    while std::net::TcpStream::connect_timeout(&addr, Duration::from_millis(500)).is_ok() {
        if Instant::now() > deadline {
            return true;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    false
}

/// The CPUs this process may run on (its affinity mask), in order.
fn allowed_cpus() -> Vec<usize> {
    // SAFETY: `set` is a plain bitmask owned by this frame; sched_getaffinity fills it.
    let mut set: libc::cpu_set_t = unsafe { std::mem::zeroed() };
    let ok = unsafe { libc::sched_getaffinity(0, std::mem::size_of::<libc::cpu_set_t>(), &mut set) } == 0;
    let cpus: Vec<usize> = if ok {
        (0..libc::CPU_SETSIZE as usize).filter(|&c| unsafe { libc::CPU_ISSET(c, &set) }).collect()
    } else {
        Vec::new()
    };
    if cpus.is_empty() {
        vec![0]
    } else {
        cpus
    }
}

/// A file size limit (RLIMIT_FSIZE) must make a spool write fail with EFBIG, not kill the
/// process with SIGXFSZ.
/// Each connection is a descriptor: the soft RLIMIT_NOFILE (often 1024) is raised to the hard
/// limit so a busy relay is not capped by a default nobody chose.
fn raise_open_files_limit() {
    let mut lim = libc::rlimit { rlim_cur: 0, rlim_max: 0 };
    // SAFETY: getrlimit/setrlimit write and read only the struct passed to them.
    let raised = unsafe {
        libc::getrlimit(libc::RLIMIT_NOFILE, &mut lim) == 0 && lim.rlim_cur < lim.rlim_max && {
            let soft = lim.rlim_cur;
            lim.rlim_cur = lim.rlim_max;
            let ok = libc::setrlimit(libc::RLIMIT_NOFILE, &lim) == 0;
            if !ok {
                lim.rlim_cur = soft;
            }
            ok
        }
    };
    let verb = if raised { "raised to" } else { "is" };
    tracing::info!("open files limit {verb} {}", lim.rlim_cur);
}

fn ignore_sigxfsz() {
    // SAFETY: installing SIG_IGN for SIGXFSZ has no handler code and no shared state.
    unsafe {
        libc::signal(libc::SIGXFSZ, libc::SIG_IGN);
    }
}
