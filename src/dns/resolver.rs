//! The shard's stub resolver: MX delivery targets, host addresses and PTR names, cached per shard.

use std::cell::{Cell, RefCell};
use std::io;
use std::net::{IpAddr, SocketAddr};
use std::path::Path;
use std::rc::Rc;
use std::time::{Duration, Instant};

use hickory_proto::rr::{Name, RData, RecordType};

use super::cache::Cache;
use super::mx::{self, MxPlan};
use super::wire::{self, Answer, Outcome};
use super::{transport, DnsError, Target};

/// Tries per server before a lookup is a temporary failure.
const ATTEMPTS: usize = 2;

/// A per-shard resolver (`!Send`): cheap to clone, clones share the cache.
///
/// Each query goes to one server at a time with a fresh random id, over UDP, then TCP if the
/// reply is truncated. A server that times out or fails moves the query to the next one;
/// every server gets two tries. The server that last answered is asked first.
#[derive(Clone)]
pub struct Resolver {
    inner: Rc<Inner>,
}

struct Inner {
    servers: Vec<SocketAddr>,
    timeout: Duration,
    preferred: Cell<usize>,
    cache: RefCell<Cache>,
    rng: RefCell<fastrand::Rng>,
}

impl Resolver {
    /// A resolver asking `servers` (recursive resolvers), waiting `timeout` per query attempt.
    pub fn new(servers: Vec<SocketAddr>, timeout: Duration) -> Resolver {
        let inner = Inner {
            servers,
            timeout,
            preferred: Cell::new(0),
            cache: RefCell::new(Cache::default()),
            rng: RefCell::new(fastrand::Rng::new()),
        };
        Resolver { inner: Rc::new(inner) }
    }

    /// The hosts to deliver mail for `domain` to, in delivery order, with their addresses.
    ///
    /// MX hosts come by preference (random within one preference); a host without addresses
    /// is skipped, and when none has one the failure is temporary. Without MX records the
    /// domain's own addresses are the one target (preference 0); A records are never used
    /// when MX records exist.
    pub async fn mx_targets(&self, domain: &str) -> Result<Vec<Target>, DnsError> {
        let name = wire::parse_name(domain)?;
        let text = wire::name_text(&name);
        match self.lookup(&name, RecordType::MX).await? {
            Answer::NxDomain => Err(DnsError::NoSuchDomain(text)),
            Answer::NoData => {
                let addrs = self.addresses(&name).await?;
                if addrs.is_empty() {
                    return Err(DnsError::NoAddress(text));
                }
                Ok(vec![Target { host: text, preference: 0, addrs }])
            }
            Answer::Records(records) => self.mx_hosts(&text, &records).await,
        }
    }

    /// The IPv4 then IPv6 addresses of `host` (e.g. a smart host).
    pub async fn host_addrs(&self, host: &str) -> Result<Vec<IpAddr>, DnsError> {
        let name = wire::parse_name(host)?;
        let addrs = self.addresses(&name).await?;
        if addrs.is_empty() {
            return Err(DnsError::NoAddress(wire::name_text(&name)));
        }
        Ok(addrs)
    }

    /// The PTR names of `ip`, lower-case without the trailing dot; empty when there is none.
    pub async fn ptr(&self, ip: IpAddr) -> Result<Vec<String>, DnsError> {
        let mut name = Name::from(ip);
        name.set_fqdn(true);
        match self.lookup(&name, RecordType::PTR).await? {
            Answer::Records(records) => Ok(records
                .iter()
                .filter_map(|r| match r {
                    RData::PTR(ptr) => Some(wire::name_text(&ptr.0)),
                    _ => None,
                })
                .collect()),
            Answer::NoData | Answer::NxDomain => Ok(Vec::new()),
        }
    }

    async fn mx_hosts(&self, domain: &str, records: &[RData]) -> Result<Vec<Target>, DnsError> {
        let pairs: Vec<(u16, String)> = records
            .iter()
            .filter_map(|r| match r {
                RData::MX(mx) => Some((mx.preference, mx.exchange.to_ascii())),
                _ => None,
            })
            .collect();
        let plan = mx::order(&pairs, &mut self.inner.rng.borrow_mut());
        let hosts = match plan {
            MxPlan::Null => return Err(DnsError::NullMx(domain.to_string())),
            MxPlan::Hosts(hosts) => hosts,
        };
        let mut targets = Vec::with_capacity(hosts.len());
        let mut last_problem = String::from("no MX host");
        for host in hosts {
            let found = match wire::parse_name(&host.host) {
                Ok(name) => self.addresses(&name).await,
                Err(e) => Err(e),
            };
            match found {
                Ok(addrs) if !addrs.is_empty() => {
                    targets.push(Target { host: host.host, preference: host.preference, addrs })
                }
                Ok(_) => last_problem = format!("{} has no address", host.host),
                Err(e) => last_problem = e.to_string(),
            }
        }
        if targets.is_empty() {
            return Err(DnsError::Temporary(format!("no MX host of {domain} has an address ({last_problem})")));
        }
        Ok(targets)
    }

    /// A and AAAA of `name`, asked together; empty when it exists without addresses.
    async fn addresses(&self, name: &Name) -> Result<Vec<IpAddr>, DnsError> {
        let (v4, v6) =
            futures_lite::future::zip(self.lookup(name, RecordType::A), self.lookup(name, RecordType::AAAA)).await;
        let mut addrs = Vec::new();
        let mut temporary = None;
        let mut nxdomain = false;
        for answer in [v4, v6] {
            match answer {
                Ok(Answer::Records(records)) => addrs.extend(records.iter().filter_map(|r| match r {
                    RData::A(a) => Some(IpAddr::V4(a.0)),
                    RData::AAAA(aaaa) => Some(IpAddr::V6(aaaa.0)),
                    _ => None,
                })),
                Ok(Answer::NoData) => {}
                Ok(Answer::NxDomain) => nxdomain = true,
                Err(e) => temporary = Some(e),
            }
        }
        match temporary {
            _ if !addrs.is_empty() => Ok(addrs),
            Some(e) => Err(e),
            None if nxdomain => Err(DnsError::NoSuchDomain(wire::name_text(name))),
            None => Ok(addrs),
        }
    }

    /// One question, from the cache or the servers; the only error is `Temporary`.
    async fn lookup(&self, name: &Name, rtype: RecordType) -> Result<Answer, DnsError> {
        let key = wire::name_text(name);
        if let Some(answer) = self.inner.cache.borrow_mut().get(&key, rtype, Instant::now()) {
            return Ok(answer);
        }
        let (answer, ttl) = self.ask_servers(name, rtype).await.map_err(DnsError::Temporary)?;
        self.inner.cache.borrow_mut().insert(&key, rtype, answer.clone(), ttl, Instant::now());
        Ok(answer)
    }

    async fn ask_servers(&self, name: &Name, rtype: RecordType) -> Result<(Answer, u32), String> {
        let servers = &self.inner.servers;
        if servers.is_empty() {
            return Err("no DNS servers configured".to_string());
        }
        let start = self.inner.preferred.get();
        let mut last_problem = String::new();
        for attempt in 0..ATTEMPTS * servers.len() {
            let index = (start + attempt) % servers.len();
            let server = servers[index];
            match transport::exchange(server, name, rtype, self.inner.timeout).await {
                Ok(reply) => match wire::classify(&reply, rtype) {
                    Outcome::Final(answer, ttl) => {
                        self.inner.preferred.set(index);
                        return Ok((answer, ttl));
                    }
                    Outcome::Failed(reason) => last_problem = format!("{server}: {reason}"),
                    Outcome::Truncated => last_problem = format!("{server}: truncated reply over tcp"),
                },
                Err(reason) => last_problem = reason,
            }
        }
        Err(format!("{} {rtype}: {last_problem}", wire::name_text(name)))
    }
}

/// The `nameserver` addresses of a resolv.conf file, on port 53.
///
/// Comments (`#`, `;`) and other options are ignored, as are addresses that do not parse
/// (e.g. IPv6 with a `%zone`). A file without a usable nameserver means 127.0.0.1, as in the
/// C library.
pub fn servers_from_resolv_conf(path: impl AsRef<Path>) -> io::Result<Vec<SocketAddr>> {
    let text = std::fs::read_to_string(path)?;
    let mut servers: Vec<SocketAddr> = text
        .lines()
        .filter_map(|line| {
            let mut words = line.split_whitespace();
            match (words.next(), words.next()) {
                (Some("nameserver"), Some(addr)) => addr.parse::<IpAddr>().ok(),
                _ => None,
            }
        })
        .map(|ip| SocketAddr::new(ip, 53))
        .collect();
    if servers.is_empty() {
        servers.push(SocketAddr::new(IpAddr::from([127, 0, 0, 1]), 53));
    }
    Ok(servers)
}
