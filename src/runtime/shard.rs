//! One shard: its spool, Drop directory, listeners and sessions, all on one executor.

use std::cell::{Cell, OnceCell};
use std::rc::Rc;
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use glommio::sync::Semaphore;

use crate::admin::metrics::ShardMetrics;
use crate::dns::Resolver;
use crate::inbound::VsContext;
use crate::local::{render, DropDir};
use crate::outbound::Outbound;
use crate::policy::{DomainClass, Domains};
use crate::spool::{BodyRef, MessageMeta, Recovered, RetryState, Spool};

/// First and longest wait between attempts to write a Drop file that failed.
const DROP_RETRY_FIRST: Duration = Duration::from_secs(1);
const DROP_RETRY_MAX: Duration = Duration::from_secs(60);

/// Per-shard state shared by the tasks of one executor.
pub struct Shard {
    pub id: usize,
    pub spool: Spool,
    pub drop: DropDir,
    /// Closed when the server shuts down: sessions waiting for a command give up.
    pub shutdown: Semaphore,
    stopping: Cell<bool>,
    /// Open sessions on this shard.
    pub sessions: Cell<usize>,
    /// Every virtual server, started or not (recovered messages name theirs).
    pub virtual_servers: Vec<Rc<VsContext>>,
    /// Local domains of the site, for messages whose virtual server no longer exists.
    pub site_domains: Domains,
    pub metrics: Arc<ShardMetrics>,
    /// The shard's resolver (one cache for delivery and for clients' reverse lookups).
    pub resolver: Resolver,
    /// The delivery engine, set right after the shard is built.
    pub outbound: OnceCell<Rc<Outbound>>,
    next_seq: Cell<u64>,
}

impl Shard {
    pub fn new(
        id: usize,
        spool: Spool,
        drop: DropDir,
        virtual_servers: Vec<Rc<VsContext>>,
        site_domains: Domains,
        metrics: Arc<ShardMetrics>,
        resolver: Resolver,
    ) -> Shard {
        Shard {
            id,
            spool,
            drop,
            shutdown: Semaphore::new(0),
            stopping: Cell::new(false),
            sessions: Cell::new(0),
            virtual_servers,
            site_domains,
            metrics,
            resolver,
            outbound: OnceCell::new(),
            next_seq: Cell::new(0),
        }
    }

    /// A message id unique across shards and restarts: microseconds since the epoch, the
    /// shard, and a per-shard sequence (20 upper-case hex digits).
    pub fn next_id(&self) -> String {
        let seq = self.next_seq.get();
        self.next_seq.set(seq + 1);
        let micros = SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_micros());
        format!("{:013X}{:02X}{:05X}", micros & 0x1F_FFFF_FFFF_FFFF, self.id & 0xFF, seq & 0xF_FFFF)
    }

    pub fn is_shutting_down(&self) -> bool {
        self.stopping.get()
    }

    /// Wakes every session waiting for a command so it can say goodbye.
    pub fn begin_shutdown(&self) {
        self.stopping.set(true);
        self.shutdown.close();
    }

    /// Writes the Drop file for the local recipients of a just-stored message in the
    /// background, then marks them final in the spool. Failures are retried with backoff;
    /// the message stays in the spool until the file is written.
    pub fn deliver_local(self: &Rc<Self>, meta: &MessageMeta, local: Vec<u16>, wire: &[u8]) {
        let content = render(meta, &local, wire);
        let id = meta.id.clone();
        let vs_index = self.virtual_servers.iter().position(|v| v.name == meta.virtual_server);
        let shard = self.clone();
        glommio::spawn_local(async move {
            let mut wait = DROP_RETRY_FIRST;
            loop {
                match shard.drop.write(&id, content.clone()).await {
                    Ok(()) => break,
                    Err(e) if shard.is_shutting_down() => {
                        tracing::warn!("drop: {id} not written ({e}); retried at next start");
                        return;
                    }
                    Err(e) => {
                        tracing::warn!(
                            "drop: {id} not written to {}: {e}; retry in {wait:?}",
                            shard.drop.path().display()
                        );
                        glommio::timer::sleep(wait).await;
                        wait = (wait * 2).min(DROP_RETRY_MAX);
                    }
                }
            }
            if let Some(i) = vs_index {
                shard.metrics.vs[i].drop_deliveries.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            }
            tracing::info!(message = %id, recipients = local.len(), "delivered to drop directory");
            if let Err(e) = shard.spool.complete(&id, &local).await {
                tracing::error!("spool: cannot record delivery of {id}: {e}; delivered again at next start");
            }
        })
        .detach();
    }

    /// Resumes recovered messages: local recipients not yet final are delivered to the Drop
    /// directory again; remote ones go back to the delivery engine with their retry state.
    pub async fn resume(self: &Rc<Self>, recovered: Vec<Recovered>) {
        for msg in recovered {
            let (local, _) = self.split(&msg.meta, &msg.done);
            let wire = match local.is_empty() {
                true => None,
                false => match self.spool.read_body(&msg.body).await {
                    Ok(wire) => Some(wire),
                    Err(e) => {
                        tracing::error!("spool: cannot read {}: {e}", msg.meta.id);
                        continue;
                    }
                },
            };
            self.route_stored(&msg.meta, msg.body, wire.as_deref(), &msg.done, msg.retry);
        }
    }

    /// Sends the recipients of a stored message that are not in `done` on their way: local
    /// ones to the Drop directory (needs `wire`), remote ones to the delivery engine.
    pub fn route_stored(
        self: &Rc<Self>,
        meta: &Rc<MessageMeta>,
        body: BodyRef,
        wire: Option<&[u8]>,
        done: &[u16],
        retry: RetryState,
    ) {
        let (local, remote) = self.split(meta, done);
        if let (false, Some(wire)) = (local.is_empty(), wire) {
            self.deliver_local(meta, local, wire);
        }
        if !remote.is_empty() {
            let outbound = self.outbound.get().expect("the engine starts before mail is routed");
            outbound.home.start(meta.clone(), body, wire.map(Arc::from), remote, retry);
        }
    }

    /// Pending recipients split into (local, remote) by the domains of the message's server.
    fn split(&self, meta: &MessageMeta, done: &[u16]) -> (Vec<u16>, Vec<u16>) {
        let domains = self
            .virtual_servers
            .iter()
            .find(|v| v.name == meta.virtual_server)
            .map_or(&self.site_domains, |v| &v.domains);
        (0..meta.recipients.len() as u16)
            .filter(|i| !done.contains(i))
            .partition(|&i| is_local(domains, &meta.recipients[i as usize]))
    }
}

fn is_local(domains: &Domains, addr: &str) -> bool {
    addr.rsplit_once('@').is_some_and(|(_, domain)| domains.classify(domain) == DomainClass::Local)
}
