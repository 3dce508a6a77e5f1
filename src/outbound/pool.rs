//! The owner side of delivery: one ready queue and connection pool per route, opened
//! while `queued > open × messages_per_connection`, within `connections_per_domain` and the
//! global cap. Every route has exactly one owner shard (its first hop's), so these limits are
//! exact per route.
//!
//! A domain with its own `outbound_security` gets pools of its own, apart from other domains
//! that share its route (their connections do not negotiate the same way).

use std::cell::{Cell, RefCell};
use std::collections::hash_map::Entry;
use std::collections::{HashMap, VecDeque};
use std::net::SocketAddr;
use std::rc::{Rc, Weak};
use std::sync::Arc;
use std::time::Duration;

use super::cap::GlobalCap;
use super::client::{ClientConfig, ClientError, Outgoing, RcptOutcome, Security, SmtpClient};
use super::job::{Job, JobResult, Outcome};
use super::security::SecurityTable;
use super::stats::ShardStats;
use crate::delivery::route::{Hop, Route, RouteTable};
use crate::dns::{DnsError, Resolver};
use crate::proto::reply::Reply;

/// How often pools starved by the global cap look for a free slot again.
const STARVED_POLL: Duration = Duration::from_millis(50);

/// Limits a pool obeys.
#[derive(Debug, Clone, Copy)]
pub struct PoolLimits {
    pub connections_per_domain: u32,
    /// 0 = unlimited.
    pub messages_per_connection: u32,
}

/// Where results go: the message's home shard.
pub type Reporter = Rc<dyn Fn(usize, JobResult)>;

/// One destination's queue and open connections.
struct Pool {
    route: Route,
    domain: String,
    /// What its connections negotiate (STARTTLS, AUTH).
    security: Security,
    queue: RefCell<VecDeque<Job>>,
    open: Cell<u32>,
}

/// A pool's identity: its route and, for a domain with its own `outbound_security`, that entry.
type PoolKey = (Route, Option<String>);

/// All pools owned by this shard.
pub struct Pools {
    routes: RouteTable,
    resolver: Resolver,
    client: ClientConfig,
    security: SecurityTable,
    limits: PoolLimits,
    global: Arc<GlobalCap>,
    stats: Rc<ShardStats>,
    report: Reporter,
    /// Keyed by route: routes sharing a first hop may differ in their fallbacks.
    /// By route and, for a domain with its own `outbound_security`, the entry that applies.
    pools: RefCell<HashMap<PoolKey, Rc<Pool>>>,
    starved: RefCell<Vec<Weak<Pool>>>,
    /// A task polls the starved pools (one at most).
    polling: Cell<bool>,
    me: RefCell<Weak<Pools>>,
}

impl Pools {
    #[allow(clippy::too_many_arguments)]
    pub fn new(
        routes: RouteTable,
        resolver: Resolver,
        client: ClientConfig,
        security: SecurityTable,
        limits: PoolLimits,
        global: Arc<GlobalCap>,
        stats: Rc<ShardStats>,
        report: Reporter,
    ) -> Rc<Pools> {
        let pools = Rc::new(Pools {
            routes,
            resolver,
            client,
            security,
            limits,
            global,
            stats,
            report,
            pools: RefCell::default(),
            starved: RefCell::default(),
            polling: Cell::new(false),
            me: RefCell::default(),
        });
        *pools.me.borrow_mut() = Rc::downgrade(&pools);
        pools
    }

    /// The routing table (the home shard uses it to find a job's owner).
    pub fn routes(&self) -> &RouteTable {
        &self.routes
    }

    /// Queues a job for its destination and opens connections as the limits allow.
    pub fn enqueue(&self, job: Job) {
        let route = match crate::delivery::route::route(&job.domain, &self.routes) {
            Ok(route) => route,
            Err(e) => {
                let failure = Outcome::Permanent { status: "5.1.2".into(), diagnostic: e.to_string(), remote: None };
                let outcomes = job.recipients.iter().map(|&(i, _)| (i, failure.clone())).collect();
                (self.report)(job.home, JobResult { id: job.id, outcomes });
                return;
            }
        };
        let (security, entry) = self.security.lookup(&job.domain);
        let pool = match self.pools.borrow_mut().entry((route, entry)) {
            Entry::Occupied(found) => found.get().clone(),
            Entry::Vacant(slot) => {
                let (route, domain, security) = (slot.key().0.clone(), job.domain.clone(), security.clone());
                slot.insert(Rc::new(Pool { route, domain, security, queue: RefCell::default(), open: Cell::new(0) }))
                    .clone()
            }
        };
        pool.queue.borrow_mut().push_back(job);
        self.grow(&pool);
    }

    /// Opens connections while the queue needs them and the limits allow.
    fn grow(&self, pool: &Rc<Pool>) {
        let mpc = self.limits.messages_per_connection;
        loop {
            let queued = pool.queue.borrow().len() as u32;
            let open = pool.open.get();
            let wanted = if mpc == 0 { open == 0 } else { queued > open.saturating_mul(mpc) };
            if queued == 0 || !wanted || open >= self.limits.connections_per_domain {
                return;
            }
            if !self.global.try_acquire() {
                self.starve(pool);
                return;
            }
            pool.open.set(open + 1);
            self.stats.connection_opened(&pool.domain);
            let me = self.me.borrow().upgrade().expect("pools outlive their connections");
            glommio::spawn_local(me.connection(pool.clone())).detach();
        }
    }

    /// Remembers a pool that wants a connection while the global cap is full, and polls.
    fn starve(&self, pool: &Rc<Pool>) {
        let mut starved = self.starved.borrow_mut();
        if !starved.iter().any(|w| w.ptr_eq(&Rc::downgrade(pool))) {
            starved.push(Rc::downgrade(pool));
        }
        if self.polling.replace(true) {
            return;
        }
        let me = self.me.borrow().clone();
        glommio::spawn_local(async move {
            loop {
                glommio::timer::sleep(STARVED_POLL).await;
                let Some(pools) = me.upgrade() else { return };
                if !pools.retry_starved() {
                    pools.polling.set(false);
                    return;
                }
            }
        })
        .detach();
    }

    /// Gives starved pools another chance; false when none is left.
    fn retry_starved(&self) -> bool {
        let starved: Vec<Rc<Pool>> = self.starved.borrow_mut().drain(..).filter_map(|w| w.upgrade()).collect();
        for pool in &starved {
            self.grow(pool);
        }
        !self.starved.borrow().is_empty()
    }

    /// One connection: connect along the route, send up to `messages_per_connection` jobs
    /// from the queue, QUIT.
    async fn connection(self: Rc<Self>, pool: Rc<Pool>) {
        let key = pool.route.key();
        tracing::debug!(destination = %key, open = pool.open.get(), "connecting");
        match self.connect(&pool.route, &pool.security).await {
            Ok((client, remote)) => {
                let encrypted = client.is_encrypted();
                let sent = self.send_jobs(&pool, client, &remote).await;
                tracing::debug!(destination = %key, %remote, encrypted, sent, "connection closed");
            }
            Err(failure) => {
                tracing::info!(destination = %key, ?failure, "no connection");
                self.fail_share(&pool, failure);
            }
        }
        pool.open.set(pool.open.get() - 1);
        self.global.release();
        self.stats.connection_closed(&pool.domain);
        self.grow(&pool);
        self.retry_starved();
    }

    /// Sends jobs until the per-connection limit or an empty queue; returns how many. The job
    /// after the current one is taken from the queue before the current body goes out, so its
    /// envelope can travel with that body; it goes back to the front of the queue when the
    /// connection stops first.
    async fn send_jobs(&self, pool: &Rc<Pool>, mut client: SmtpClient, remote: &str) -> u32 {
        let mpc = self.limits.messages_per_connection;
        let mut sent = 0;
        let mut current = pool.queue.borrow_mut().pop_front();
        while let Some(job) = current.take() {
            sent += 1;
            let following = if mpc == 0 || sent < mpc { pool.queue.borrow_mut().pop_front() } else { None };
            let remainder = self.send_one(&mut client, job, following.as_ref(), remote).await;
            if remainder.is_some() || !client.is_usable() {
                let mut queue = pool.queue.borrow_mut();
                for job in [following, remainder].into_iter().flatten() {
                    queue.push_front(job);
                }
                break;
            }
            current = following;
        }
        client.quit().await;
        sent
    }

    /// Sends one job (and `next`'s envelope with its body when the client can); returns the
    /// recipients left for another connection (452) as a new job.
    async fn send_one(&self, client: &mut SmtpClient, job: Job, next: Option<&Job>, remote: &str) -> Option<Job> {
        let addrs: Vec<&str> = job.recipients.iter().map(|(_, a)| a.as_str()).collect();
        let next_addrs: Vec<&str> =
            next.map_or_else(Vec::new, |n| n.recipients.iter().map(|(_, a)| a.as_str()).collect());
        let message = outgoing(&job, &addrs);
        let following = next.map(|n| outgoing(n, &next_addrs));
        let mut outcomes = Vec::with_capacity(job.recipients.len());
        let mut rest = Vec::new();
        match client.send_then(&message, following.as_ref()).await {
            Ok(delivery) => {
                for (&(i, ref addr), outcome) in job.recipients.iter().zip(delivery.recipients) {
                    match rcpt_outcome(outcome, remote) {
                        Some(outcome) => outcomes.push((i, outcome)),
                        None => rest.push((i, addr.clone())),
                    }
                }
            }
            Err(e) => outcomes.extend(job.recipients.iter().map(|&(i, _)| (i, client_failure(&e, remote)))),
        }
        if outcomes.is_empty() && !rest.is_empty() {
            // The remote took none of them (452 to every RCPT): another connection now would
            // only loop, so they wait for the retry schedule like any temporary failure.
            let refused =
                temporary("4.5.3", "the remote took no recipient of this message (452)", Some(remote.to_string()));
            outcomes.extend(rest.drain(..).map(|(i, _)| (i, refused.clone())));
        }
        let delivered = outcomes.iter().filter(|(_, o)| *o == Outcome::Delivered).count();
        if delivered > 0 {
            self.stats.sent(&job.domain, job.body.len() as u64);
        }
        let remainder = (!rest.is_empty()).then(|| Job { recipients: rest, ..job.clone() });
        (self.report)(job.home, JobResult { id: job.id, outcomes });
        remainder
    }

    /// A connection that could not be made takes its share of the queue down with it (as
    /// temporary or permanent failures), so a dead destination is not hammered.
    fn fail_share(&self, pool: &Rc<Pool>, failure: Outcome) {
        let share = match self.limits.messages_per_connection {
            0 => usize::MAX,
            n => n as usize,
        };
        let last = pool.open.get() == 1;
        let jobs: Vec<Job> = {
            let mut queue = pool.queue.borrow_mut();
            let n =
                if last || matches!(failure, Outcome::Permanent { .. }) { queue.len() } else { share.min(queue.len()) };
            queue.drain(..n).collect()
        };
        for job in jobs {
            let outcomes = job.recipients.iter().map(|&(i, _)| (i, failure.clone())).collect();
            (self.report)(job.home, JobResult { id: job.id, outcomes });
        }
    }

    /// Resolves the route's hops in order and connects to the first address that answers and
    /// negotiates what `security` asks. The failure is that of the last attempt; a permanent DNS
    /// answer (NXDOMAIN, null MX) stays permanent only when every hop got one, so another hop
    /// that was merely down keeps the mail in the queue.
    async fn connect(&self, route: &Route, security: &Security) -> Result<(SmtpClient, String), Outcome> {
        let mut last = temporary("4.4.1", "no route to the destination", None);
        let mut all_permanent = true;
        for hop in &route.hops {
            let targets = match self.addresses(hop).await {
                Ok(targets) => targets,
                Err(e) => {
                    all_permanent &= e.is_permanent();
                    last = if all_permanent {
                        Outcome::Permanent {
                            status: e.enhanced_status().to_string(),
                            diagnostic: e.to_string(),
                            remote: None,
                        }
                    } else {
                        temporary(e.enhanced_status(), &e.to_string(), None)
                    };
                    continue;
                }
            };
            all_permanent = false;
            for (name, addr) in targets {
                match SmtpClient::connect(addr, &name, &self.client, security).await {
                    Ok(client) => return Ok((client, name)),
                    Err(e) => last = client_failure(&e, &name),
                }
            }
        }
        Err(last)
    }

    /// The addresses of a hop, in the order to try them, each with a name for diagnostics.
    async fn addresses(&self, hop: &Hop) -> Result<Vec<(String, SocketAddr)>, DnsError> {
        match hop {
            Hop::Addr(addr) => Ok(vec![(addr.ip().to_string(), *addr)]),
            Hop::Host { name, port } => {
                let ips = self.resolver.host_addrs(name).await?;
                Ok(ips.into_iter().map(|ip| (name.clone(), SocketAddr::new(ip, *port))).collect())
            }
            Hop::Mx { domain, port } => {
                let targets = self.resolver.mx_targets(domain).await?;
                Ok(targets
                    .into_iter()
                    .flat_map(|t| t.addrs.into_iter().map(move |ip| (t.host.clone(), SocketAddr::new(ip, *port))))
                    .collect())
            }
        }
    }
}

/// What the client sends for `job`, to `addrs` (its recipients' addresses).
fn outgoing<'a>(job: &'a Job, addrs: &'a [&'a str]) -> Outgoing<'a> {
    Outgoing {
        reverse_path: &job.reverse_path,
        recipients: addrs,
        body: &job.body,
        eight_bit: job.flags & 1 != 0,
        smtputf8: job.flags & 2 != 0,
    }
}

fn temporary(status: &str, diagnostic: &str, remote: Option<String>) -> Outcome {
    Outcome::Temporary { status: status.to_string(), diagnostic: diagnostic.to_string(), remote }
}

fn reply_parts(reply: &Reply, default: &str) -> (String, String) {
    let status = reply.status.map_or_else(|| default.to_string(), |s| s.to_string());
    let text: Vec<&str> = reply.lines.iter().map(|l| l.as_ref()).collect();
    (status, format!("{} {}", reply.code, text.join(" ")))
}

/// The outcome of one recipient; `None` when the remote asked for it on another transaction.
fn rcpt_outcome(outcome: RcptOutcome, remote: &str) -> Option<Outcome> {
    let remote = || Some(remote.to_string());
    Some(match outcome {
        RcptOutcome::Delivered => Outcome::Delivered,
        RcptOutcome::Temporary(reply) => {
            let (status, diagnostic) = reply_parts(&reply, "4.0.0");
            Outcome::Temporary { status, diagnostic, remote: remote() }
        }
        RcptOutcome::Permanent(reply) => {
            let (status, diagnostic) = reply_parts(&reply, "5.0.0");
            Outcome::Permanent { status, diagnostic, remote: remote() }
        }
        RcptOutcome::NotTried => return None,
    })
}

fn client_failure(e: &ClientError, remote: &str) -> Outcome {
    let (status, diagnostic, remote) = (e.status(), e.to_string(), Some(remote.to_string()));
    if e.is_permanent() {
        Outcome::Permanent { status, diagnostic, remote }
    } else {
        Outcome::Temporary { status, diagnostic, remote }
    }
}
