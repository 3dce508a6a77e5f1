//! The client's reverse lookup (PTR, then forward confirmation of each name): started as its
//! own task when the connection is accepted, awaited only where a decision needs it, bounded
//! by a time-out. Answers are cached by the shard's resolver.

use std::net::IpAddr;
use std::time::Duration;

use glommio::Task;

use crate::dns::Resolver;
use crate::policy::{confirm, ClientName};

/// Longest wait for the whole lookup once something needs it; then it counts as failed.
pub const LOOKUP_TIMEOUT: Duration = Duration::from_secs(5);
/// PTR names checked at most (a client could publish hundreds).
const MAX_NAMES: usize = 8;

/// A reverse lookup running on this shard.
pub struct PendingName {
    task: Option<Task<ClientName>>,
}

impl PendingName {
    /// Starts the lookup of `ip` now; it runs while the session goes on.
    pub fn start(resolver: &Resolver, ip: IpAddr) -> PendingName {
        let resolver = resolver.clone();
        PendingName { task: Some(glommio::spawn_local(async move { client_name(&resolver, ip).await })) }
    }

    /// The result, waiting at most `limit`; a lookup already waited for (or timed out) is
    /// [`ClientName::Failed`] (callers keep the first result).
    pub async fn wait(&mut self, limit: Duration) -> ClientName {
        let Some(task) = self.task.take() else {
            return ClientName::Failed;
        };
        let timer = async {
            glommio::timer::sleep(limit).await;
            ClientName::Failed
        };
        futures_lite::future::or(task, timer).await
    }
}

/// PTR names of `ip`, each kept when its A/AAAA records contain `ip`. An IPv4-mapped IPv6
/// client (on a `[::]` listener) is looked up under in-addr.arpa.
async fn client_name(resolver: &Resolver, ip: IpAddr) -> ClientName {
    let ip = ip.to_canonical();
    let mut names = match resolver.ptr(ip).await {
        Ok(names) => names,
        Err(e) => {
            tracing::debug!(client = %ip, "reverse lookup failed: {e}");
            return ClientName::Failed;
        }
    };
    names.truncate(MAX_NAMES);
    let mut forward = Vec::with_capacity(names.len());
    for name in &names {
        forward.push(match resolver.host_addrs(name).await {
            Ok(addrs) => Some(addrs),
            Err(e) if e.is_permanent() => Some(Vec::new()),
            Err(_) => None,
        });
    }
    confirm(ip, names, &forward)
}
