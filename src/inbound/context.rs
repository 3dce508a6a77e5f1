//! What a session needs to know about its virtual server, resolved once at start-up.

use std::sync::atomic::AtomicU32;
use std::sync::Arc;

use crate::admin::metrics::{ShardMetrics, VsCounters};
use crate::config::{Access, Auth, Config, Limits, Relay, VirtualServer};
use crate::policy::Domains;
use crate::security::{TlsConfig, UsersFile};

/// The certificate and users file of one virtual server, loaded once for all shards and
/// reloaded in place on SIGHUP.
#[derive(Debug, Clone, Default)]
pub struct VsSecurity {
    pub tls: Option<Arc<TlsConfig>>,
    pub users: Option<Arc<UsersFile>>,
}

/// One virtual server as seen by the sessions of one shard.
#[derive(Debug)]
pub struct VsContext {
    /// Position in the configuration (metrics label index).
    pub index: usize,
    pub name: String,
    pub fqdn: String,
    pub default_domain: String,
    pub limits: Limits,
    pub relay: Relay,
    pub access: Access,
    /// `delivery.reverse_dns_lookup`: the trace header says whether the EHLO name is verified.
    pub reverse_dns: bool,
    pub domains: Domains,
    pub max_hop_count: u32,
    /// STARTTLS is offered when set.
    pub tls: Option<Arc<TlsConfig>>,
    /// `[tls].require`.
    pub tls_required: bool,
    /// AUTH PLAIN and LOGIN check against this file (set only with `basic = true`).
    pub users: Option<Arc<UsersFile>>,
    pub auth: Auth,
    /// Open connections of this virtual server across all shards (for `inbound_connections`).
    pub open_connections: Arc<AtomicU32>,
    metrics: Arc<ShardMetrics>,
}

impl VsContext {
    pub fn new(
        config: &Config,
        index: usize,
        vs: &VirtualServer,
        security: &VsSecurity,
        open_connections: Arc<AtomicU32>,
        metrics: Arc<ShardMetrics>,
    ) -> VsContext {
        VsContext {
            index,
            name: vs.name.clone(),
            fqdn: config.server.fqdn.clone(),
            default_domain: vs.default_domain.clone(),
            limits: vs.limits.clone(),
            relay: vs.relay.clone(),
            access: vs.access.clone(),
            reverse_dns: config.delivery.reverse_dns_lookup,
            domains: Domains::new(config, &vs.default_domain),
            max_hop_count: config.delivery.max_hop_count,
            tls: security.tls.clone(),
            tls_required: vs.tls.require,
            users: security.users.clone().filter(|_| vs.auth.basic),
            auth: vs.auth.clone(),
            open_connections,
            metrics,
        }
    }

    /// True when a session may need the client's reverse lookup: `domain:` entries in
    /// `[access]` or `[relay]`, or `reverse_dns_lookup`. It is started when the connection is
    /// accepted.
    pub fn wants_client_name(&self) -> bool {
        self.reverse_dns || !self.access.list.domains.is_empty() || !self.relay.list.domains.is_empty()
    }

    /// True when AUTH PLAIN and LOGIN exist here (`basic = true` and a users file); whether
    /// they are offered before TLS is `auth.require_tls_for_basic`.
    pub fn auth_offered(&self) -> bool {
        self.users.is_some()
    }

    /// This virtual server's counters on this shard.
    pub fn counters(&self) -> &VsCounters {
        &self.metrics.vs[self.index]
    }
}
