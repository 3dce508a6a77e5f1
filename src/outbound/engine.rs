//! One shard's delivery engine: its home side (messages in its spool) and its owner side
//! (pools of the destinations it owns), wired to the other shards through the mesh.

use std::rc::Rc;
use std::sync::Arc;
use std::time::Duration;

use super::cap::GlobalCap;
use super::client::ClientConfig;
use super::home::{Dispatch, Home};
use super::job::{Job, JobResult};
use super::notify::{Notifier, Submit};
use super::pool::{PoolLimits, Pools, Reporter};
use super::security::SecurityTable;
use super::stats::{OutboundStats, ShardStats};
use crate::config::Config;
use crate::delivery::retry::Schedule;
use crate::delivery::route::RouteTable;
use crate::dns::Resolver;
use crate::policy::Domains;
use crate::runtime::mesh::{Mesh, ShardMsg};
use crate::spool::Spool;

/// Timeouts of the SMTP client.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(30);
const COMMAND_TIMEOUT: Duration = Duration::from_secs(300);
const DATA_TIMEOUT: Duration = Duration::from_secs(600);

pub struct Outbound {
    pub home: Rc<Home>,
    pub pools: Rc<Pools>,
    pub stats: Rc<ShardStats>,
}

/// Everything the engine takes from the process and the shard.
pub struct Parts<'a> {
    pub config: &'a Config,
    pub shard: usize,
    pub spool: Spool,
    pub resolver: Resolver,
    pub global: Arc<GlobalCap>,
    pub stats: Arc<OutboundStats>,
    pub submit: Submit,
    /// Fresh message ids of this shard (for DSNs).
    pub ids: Rc<dyn Fn() -> String>,
}

impl Outbound {
    /// Builds the engine of one shard (the mesh already joined).
    pub fn new(parts: Parts<'_>, mesh: Rc<Mesh>) -> Result<Rc<Outbound>, String> {
        let config = parts.config;
        let d = &config.delivery;
        let shards = config.server.shards;
        let me = parts.shard;
        let stats = Rc::new(ShardStats::new(parts.stats));
        let outbound: Rc<std::cell::OnceCell<Rc<Outbound>>> = Rc::default();
        let report: Reporter = {
            let (mesh, outbound) = (mesh.clone(), outbound.clone());
            Rc::new(move |home: usize, result: JobResult| match (home == me, outbound.get()) {
                (false, _) => mesh.send(home, ShardMsg::Result(result)),
                (true, Some(o)) => o.home.result(result),
                (true, None) => tracing::error!("delivery result for {} before the engine started", result.id),
            })
        };
        let dispatch: Dispatch = {
            let (mesh, outbound) = (mesh.clone(), outbound.clone());
            Rc::new(move |owner: usize, job: Job| match (owner == me, outbound.get()) {
                (false, _) => mesh.send(owner, ShardMsg::Deliver(job)),
                (true, Some(o)) => o.pools.enqueue(job),
                (true, None) => tracing::error!("delivery job for {} before the engine started", job.id),
            })
        };
        let client = ClientConfig {
            helo_name: config.server.fqdn.clone(),
            connect_timeout: CONNECT_TIMEOUT,
            command_timeout: COMMAND_TIMEOUT.min(config_idle(config)),
            data_timeout: DATA_TIMEOUT,
        };
        let limits = PoolLimits {
            connections_per_domain: d.connections_per_domain,
            messages_per_connection: d.messages_per_connection,
        };
        let routes = RouteTable::new(config).map_err(|e| format!("routing: {e}"))?;
        let security = SecurityTable::new(config);
        let pools =
            Pools::new(routes.clone(), parts.resolver, client, security, limits, parts.global, stats.clone(), report);
        let masquerade = (!d.masquerade_domain.is_empty())
            .then(|| (Domains::new(config, &config.server.default_domain), d.masquerade_domain.clone()));
        let notifier = Notifier {
            spool: parts.spool.clone(),
            fqdn: config.server.fqdn.clone(),
            masquerade,
            ndr_copy_to: (!d.ndr_copy_to.is_empty()).then(|| d.ndr_copy_to.clone()),
            max_hop_count: d.max_hop_count,
            badmail_dir: config.server.badmail_dir.clone(),
            stats: stats.clone(),
            submit: parts.submit,
            ids: parts.ids,
        };
        let home = Home::new(me, shards, parts.spool, routes, Schedule::new(d), notifier, dispatch);
        let engine = Rc::new(Outbound { home, pools, stats });
        let _ = outbound.set(engine.clone());
        Ok(engine)
    }

    /// A message from another shard.
    pub fn handle(&self, msg: ShardMsg) {
        match msg {
            ShardMsg::Deliver(job) => self.pools.enqueue(job),
            ShardMsg::Result(result) => self.home.result(result),
        }
    }
}

/// The idle limit of a connection (the first virtual server's `connection_timeout`).
fn config_idle(config: &Config) -> Duration {
    config.virtual_servers.first().map_or(COMMAND_TIMEOUT, |v| v.limits.connection_timeout)
}
