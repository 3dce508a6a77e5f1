//! Where mail for a recipient domain goes: a route domain, connectors, the smart host, or
//! the domain's MX.
//!
//! The order (DESIGN §3, spec 001 "Smart Host" and remote domains, spec 004 connectors):
//! 1. a `[[domain]] kind = "remote"` entry with a `route_to` matching the domain: the exact
//!    name first, then the longest `*.` wildcard (`*.partner.example` matches
//!    `a.partner.example` and `x.a.partner.example`, never `partner.example`). Only entries
//!    that have a `route_to` take part: an exact entry without one does not hide a wildcard
//!    that has one. The route is that one hop;
//! 2. the `[[connector]]`s with an address space matching the domain. A space matches when it
//!    is the domain itself, a `*.` wildcard as above, or `*` (every domain, address literals
//!    included); specificity plays no part. They are tried by cost, lowest first (a
//!    connector's cost for the domain is that of its cheapest matching space; equal costs
//!    keep the file order), each with its smart hosts in order, or the direct hop for
//!    `use_dns`; the site smart host, when set, is the last fallback;
//! 3. `delivery.smart_host` when set: every remaining domain, address literals included
//!    (a smart host is usually there because direct port 25 is closed). With
//!    `attempt_direct_before_smart_host` the direct hop is tried first and the smart host is
//!    the fallback;
//! 4. otherwise direct: the MX of the domain, or the address of an address literal.
//!
//! A hop appears once in a route (the first time). Ports: MX and address-literal hops use
//! `delivery.remote_port`; a smart host or route domain without `:port` uses [`RELAY_PORT`]
//! (25). `remote_port` is a knob for the remote side of direct delivery (tests point it at
//! local sinks); a relay names its own port when it is not the SMTP port.

use std::collections::HashMap;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};

use crate::config::{Config, ConnectorTarget, DomainKind};

/// The port of a smart host or route domain given without `:port`.
pub const RELAY_PORT: u16 = 25;

/// One destination to try.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Hop {
    /// Look up the MX records of `domain` (A/AAAA when there are none) and connect on `port`.
    Mx { domain: String, port: u16 },
    /// Resolve the A/AAAA records of `name` (no MX lookup) and connect on `port`.
    Host { name: String, port: u16 },
    /// Connect to this address: no DNS.
    Addr(SocketAddr),
}

impl Hop {
    /// A stable, lower-case key for this destination (`mx:example.com`,
    /// `host:relay.example:25`, `addr:192.0.2.1:25`, `addr:[2001:db8::1]:2525`).
    pub fn key(&self) -> String {
        match self {
            Hop::Mx { domain, .. } => format!("mx:{domain}"),
            Hop::Host { name, port } => format!("host:{name}:{port}"),
            Hop::Addr(addr) => format!("addr:{addr}"),
        }
    }
}

/// Where mail for one domain goes: the hops to try, in order (never empty).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Route {
    pub hops: Vec<Hop>,
}

impl Route {
    /// The destination key that picks the owner shard: the first hop's key. Routes that share
    /// a first hop (a relay used by several connectors) share an owner shard; the pools there
    /// are per route, since their later hops may differ.
    pub fn key(&self) -> String {
        self.hops[0].key()
    }

    /// A route of `hops` in order, each hop kept once (the first time).
    fn of(hops: impl IntoIterator<Item = Hop>) -> Route {
        let mut route = Route { hops: Vec::new() };
        for hop in hops {
            if !route.hops.contains(&hop) {
                route.hops.push(hop);
            }
        }
        route
    }
}

/// Why a route cannot be made.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RouteError {
    /// A smart host or `route_to` that is not `host`, `host:port`, `[IP]` or `[IP]:port`
    /// (only a `Config` not made by `config::parse` can hold one).
    #[error("{key} = {value:?}: expected \"host\", \"host:port\", \"[IP]\" or \"[IP]:port\"")]
    Relay { key: String, value: String },
    /// A recipient domain in brackets that is neither `[IPv4]` nor `[IPv6:...]`. Permanent:
    /// the recipient is bounced (5.1.2).
    #[error("{0:?} is not an address literal ([IPv4] or [IPv6:...])")]
    Literal(String),
}

/// The routing part of the configuration, built once.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RouteTable {
    /// Exact remote domain names with a `route_to`.
    exact: HashMap<String, Hop>,
    /// `*.` wildcards with a `route_to`, keyed by the suffix with its leading dot.
    wildcards: HashMap<String, Hop>,
    /// `[[connector]]`s in file order.
    connectors: Vec<ConnectorRoute>,
    smart_host: Option<Hop>,
    direct_first: bool,
    remote_port: u16,
}

/// One connector as routing sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
struct ConnectorRoute {
    /// `(lower-case domain, cost)`: a name, a `*.` wildcard or `*`.
    spaces: Vec<(String, u8)>,
    /// The smart hosts in order; `None` for `use_dns` (direct delivery).
    relays: Option<Vec<Hop>>,
}

impl ConnectorRoute {
    /// The cost of the cheapest address space matching a lower-case `domain`, if any.
    fn cost_for(&self, domain: &str) -> Option<u8> {
        self.spaces.iter().filter(|(space, _)| space_matches(space, domain)).map(|&(_, cost)| cost).min()
    }
}

impl RouteTable {
    /// The table for `config`; it fails only for a relay string `config::parse` would refuse.
    pub fn new(config: &Config) -> Result<RouteTable, RouteError> {
        let mut table = RouteTable {
            exact: HashMap::new(),
            wildcards: HashMap::new(),
            connectors: connector_routes(config)?,
            smart_host: None,
            direct_first: config.delivery.attempt_direct_before_smart_host,
            remote_port: config.delivery.remote_port,
        };
        for (i, domain) in config.domains.iter().enumerate() {
            let Some(route_to) = domain.route_to.as_deref().filter(|_| domain.kind == DomainKind::Remote) else {
                continue;
            };
            let hop = relay_hop(route_to, &format!("domain[{i}].route_to"))?;
            let name = domain.name.to_ascii_lowercase();
            match name.strip_prefix('*') {
                Some(suffix) => table.wildcards.insert(suffix.to_string(), hop),
                None => table.exact.insert(name, hop),
            };
        }
        let smart_host = &config.delivery.smart_host;
        if !smart_host.is_empty() {
            table.smart_host = Some(relay_hop(smart_host, "delivery.smart_host")?);
        }
        Ok(table)
    }

    /// The route domain hop for a lower-case `domain`: exact, then the longest wildcard.
    fn route_domain(&self, domain: &str) -> Option<&Hop> {
        if let Some(hop) = self.exact.get(domain) {
            return Some(hop);
        }
        domain.match_indices('.').find_map(|(at, _)| self.wildcards.get(&domain[at..]))
    }

    /// The connector hops for a lower-case `domain`, cheapest connector first; `direct` stands
    /// for a `use_dns` connector. Empty when no connector matches.
    fn connector_hops(&self, domain: &str, direct: &Hop) -> Vec<Hop> {
        let mut matching: Vec<(u8, &ConnectorRoute)> =
            self.connectors.iter().filter_map(|c| c.cost_for(domain).map(|cost| (cost, c))).collect();
        matching.sort_by_key(|&(cost, _)| cost);
        matching.into_iter().flat_map(|(_, c)| c.relays.clone().unwrap_or_else(|| vec![direct.clone()])).collect()
    }

    /// Direct delivery to a lower-case `domain`: its address literal or its MX.
    fn direct(&self, domain: &str) -> Result<Hop, RouteError> {
        if domain.starts_with('[') {
            let ip = literal_ip(domain).ok_or_else(|| RouteError::Literal(domain.to_string()))?;
            return Ok(Hop::Addr(SocketAddr::new(ip, self.remote_port)));
        }
        Ok(Hop::Mx { domain: domain.to_string(), port: self.remote_port })
    }
}

/// The route for mail to `domain` (a recipient domain, any case, or an address literal).
pub fn route(domain: &str, table: &RouteTable) -> Result<Route, RouteError> {
    let domain = domain.to_ascii_lowercase();
    if let Some(hop) = table.route_domain(&domain) {
        return Ok(Route::of([hop.clone()]));
    }
    let direct = table.direct(&domain)?;
    let connectors = table.connector_hops(&domain, &direct);
    if !connectors.is_empty() {
        return Ok(Route::of(connectors.into_iter().chain(table.smart_host.clone())));
    }
    Ok(match &table.smart_host {
        Some(smart) if table.direct_first => Route::of([direct, smart.clone()]),
        Some(smart) => Route::of([smart.clone()]),
        None => Route::of([direct]),
    })
}

/// The connectors of `config` in file order, their smart hosts as hops.
fn connector_routes(config: &Config) -> Result<Vec<ConnectorRoute>, RouteError> {
    let mut routes = Vec::with_capacity(config.connectors.len());
    for (i, connector) in config.connectors.iter().enumerate() {
        let relays = match &connector.target {
            ConnectorTarget::SmartHosts(hosts) => Some(
                hosts
                    .iter()
                    .enumerate()
                    .map(|(j, host)| relay_hop(host, &format!("connector[{i}].smart_hosts[{j}]")))
                    .collect::<Result<Vec<Hop>, RouteError>>()?,
            ),
            ConnectorTarget::Dns => None,
        };
        let spaces = connector.address_spaces.iter().map(|(d, cost)| (d.to_ascii_lowercase(), *cost)).collect();
        routes.push(ConnectorRoute { spaces, relays });
    }
    Ok(routes)
}

/// True when the address space `space` (`name`, `*.suffix` or `*`) covers a lower-case
/// `domain`: `*.partner.example` covers `a.partner.example`, not `partner.example`.
fn space_matches(space: &str, domain: &str) -> bool {
    match space.strip_prefix('*') {
        Some("") => true,
        Some(suffix) => domain.ends_with(suffix),
        None => space == domain,
    }
}

/// The address of `[192.0.2.1]` or `[IPv6:2001:db8::1]` (tag in any case).
fn literal_ip(literal: &str) -> Option<IpAddr> {
    let inner = literal.strip_prefix('[')?.strip_suffix(']')?;
    match inner.get(..5).filter(|tag| tag.eq_ignore_ascii_case("ipv6:")) {
        Some(_) => inner[5..].parse::<Ipv6Addr>().ok().map(IpAddr::V6),
        None => inner.parse::<Ipv4Addr>().ok().map(IpAddr::V4),
    }
}

/// A smart host or route domain (`host`, `host:port`, `[IP]`, `[IP]:port`) as a hop; `key`
/// names the setting in the error.
fn relay_hop(text: &str, key: &str) -> Result<Hop, RouteError> {
    let bad = || RouteError::Relay { key: key.to_string(), value: text.to_string() };
    let text = text.to_ascii_lowercase();
    let (ip, host, port) = match text.strip_prefix('[') {
        Some(rest) => {
            let (ip, after) = rest.split_once(']').ok_or_else(bad)?;
            (Some(ip.parse::<IpAddr>().map_err(|_| bad())?), "", after)
        }
        None => text.find(':').map_or((None, text.as_str(), ""), |i| (None, &text[..i], &text[i..])),
    };
    let port = match port {
        "" => RELAY_PORT,
        _ => port.strip_prefix(':').and_then(|p| p.parse::<u16>().ok()).filter(|&p| p != 0).ok_or_else(bad)?,
    };
    match ip {
        Some(ip) => Ok(Hop::Addr(SocketAddr::new(ip, port))),
        None if host.is_empty() => Err(bad()),
        None => Ok(Hop::Host { name: host.to_string(), port }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::{parse, Connector, Domain};

    fn addr(text: &str) -> Hop {
        Hop::Addr(text.parse().unwrap())
    }

    fn host(name: &str, port: u16) -> Hop {
        Hop::Host { name: name.into(), port }
    }

    fn mx(domain: &str) -> Hop {
        Hop::Mx { domain: domain.into(), port: 2525 }
    }

    fn remote(name: &str, route_to: Option<&str>) -> Domain {
        Domain {
            name: name.into(),
            kind: DomainKind::Remote,
            allow_relay: false,
            route_to: route_to.map(String::from),
            outbound_security: None,
        }
    }

    /// A table with route domains, `remote_port = 2525`, and the given smart host settings.
    fn table(smart_host: &str, direct_first: bool) -> RouteTable {
        let mut config = parse("[server]\nfqdn = \"mx.example\"\n").unwrap();
        config.delivery.remote_port = 2525;
        config.delivery.smart_host = smart_host.into();
        config.delivery.attempt_direct_before_smart_host = direct_first;
        config.domains = vec![
            remote("partner.example", Some("exact.relay")),
            remote("*.partner.example", Some("[192.0.2.7]")),
            remote("*.deep.partner.example", Some("[192.0.2.8]:2526")),
            remote("*.v6.example", Some("[2001:db8::1]:2525")),
            remote("plain.v6.example", None),
            remote("norelay.example", None),
            Domain {
                name: "alias.example".into(),
                kind: DomainKind::Alias,
                allow_relay: false,
                route_to: None,
                outbound_security: None,
            },
        ];
        RouteTable::new(&config).unwrap()
    }

    #[test]
    fn routing_table() {
        let direct = table("", false);
        let smart = table("Smart.Relay.Example", false);
        let smart_first = table("[192.0.2.9]:587", true);
        let cases: &[(&RouteTable, &str, Hop, Option<Hop>)] = &[
            (&direct, "partner.example", host("exact.relay", 25), None),
            (&direct, "PARTNER.Example", host("exact.relay", 25), None),
            (&direct, "a.partner.example", addr("192.0.2.7:25"), None),
            (&direct, "x.a.partner.example", addr("192.0.2.7:25"), None),
            (&direct, "deep.partner.example", addr("192.0.2.7:25"), None),
            (&direct, "a.deep.partner.example", addr("192.0.2.8:2526"), None),
            (&direct, "X.Y.Deep.Partner.Example", addr("192.0.2.8:2526"), None),
            (&direct, "otherpartner.example", mx("otherpartner.example"), None),
            (&direct, "a.v6.example", addr("[2001:db8::1]:2525"), None),
            (&direct, "plain.v6.example", addr("[2001:db8::1]:2525"), None),
            (&direct, "norelay.example", mx("norelay.example"), None),
            (&direct, "Example.COM", mx("example.com"), None),
            (&direct, "[192.0.2.1]", addr("192.0.2.1:2525"), None),
            (&direct, "[IPv6:2001:db8::1]", addr("[2001:db8::1]:2525"), None),
            (&direct, "[ipv6:2001:DB8::2]", addr("[2001:db8::2]:2525"), None),
            (&smart, "example.com", host("smart.relay.example", 25), None),
            (&smart, "[192.0.2.1]", host("smart.relay.example", 25), None),
            (&smart, "a.partner.example", addr("192.0.2.7:25"), None),
            (&smart, "partner.example", host("exact.relay", 25), None),
            (&smart_first, "example.com", mx("example.com"), Some(addr("192.0.2.9:587"))),
            (&smart_first, "[192.0.2.1]", addr("192.0.2.1:2525"), Some(addr("192.0.2.9:587"))),
            (&smart_first, "a.partner.example", addr("192.0.2.7:25"), None),
        ];
        for (table, domain, primary, fallback) in cases {
            let want = Route { hops: [primary.clone()].into_iter().chain(fallback.clone()).collect() };
            assert_eq!(route(domain, table), Ok(want), "{domain}");
        }
    }

    /// Connectors for `partner.example` and friends, a `route_to`, and `extra` `[delivery]` lines.
    fn connector_table(extra: &str) -> RouteTable {
        let text = format!(
            r#"
            [server]
            fqdn = "mx.example"
            [delivery]
            remote_port = 2525
            {extra}
            [[domain]]
            name = "routed.partner.example"
            kind = "remote"
            route_to = "[192.0.2.7]"
            [[connector]]
            name = "cheap"
            address_spaces = [{{ domain = "*.Partner.Example", cost = 10 }}]
            smart_hosts = ["[192.0.2.10]", "Relay10.example:2526"]
            [[connector]]
            name = "dear"
            address_spaces = [{{ domain = "*.partner.example", cost = 20 }}, {{ domain = "partner.example", cost = 5 }}]
            smart_hosts = ["[192.0.2.20]"]
            [[connector]]
            name = "tie"
            address_spaces = [{{ domain = "*.partner.example", cost = 10 }}]
            use_dns = true
            [[connector]]
            name = "exact"
            address_spaces = [{{ domain = "exact.example" }}, {{ domain = "*", cost = 60 }}]
            smart_hosts = ["[192.0.2.10]", "[192.0.2.99]"]
            [[connector]]
            name = "all"
            address_spaces = [{{ domain = "*", cost = 50 }}]
            smart_hosts = ["[192.0.2.50]"]
            "#
        );
        RouteTable::new(&parse(&text).unwrap()).unwrap()
    }

    /// The hops named by `names`: `mx` is the MX of `domain`, `r10` the host relay10.example,
    /// a number n the address 192.0.2.n on port 25.
    fn hops(names: &str, domain: &str) -> Vec<Hop> {
        let one = |name: &str| match name {
            "mx" => mx(&domain.to_ascii_lowercase()),
            "r10" => host("relay10.example", 2526),
            n => addr(&format!("192.0.2.{n}:25")),
        };
        names.split(' ').map(one).collect()
    }

    #[test]
    fn connector_routing_table() {
        let plain = connector_table("");
        let smart = connector_table("smart_host = \"[192.0.2.98]\"\nattempt_direct_before_smart_host = true");
        let cases: &[(&RouteTable, &str, &str)] = &[
            // Cost order; equal costs keep the file order; use_dns is the MX; `*` matches too;
            // a hop is kept once (192.0.2.10 of "exact" at cost 60).
            (&plain, "a.partner.example", "10 r10 mx 20 50 99"),
            (&plain, "X.Y.PARTNER.example", "10 r10 mx 20 50 99"),
            // A wildcard never matches its own parent: the exact space of "dear" does.
            (&plain, "partner.example", "20 50 10 99"),
            // route_to wins over connectors.
            (&plain, "routed.partner.example", "7"),
            // The cheapest matching space of a connector counts.
            (&plain, "exact.example", "10 99 50"),
            (&plain, "other.example", "50 10 99"),
            (&plain, "[192.0.2.1]", "50 10 99"),
            // The site smart host is the last fallback; direct-first does not apply.
            (&smart, "partner.example", "20 50 10 99 98"),
            (&smart, "a.partner.example", "10 r10 mx 20 50 99 98"),
            (&smart, "routed.partner.example", "7"),
        ];
        for (table, domain, names) in cases {
            assert_eq!(route(domain, table), Ok(Route { hops: hops(names, domain) }), "{domain}");
        }
        assert_eq!(route("a.partner.example", &plain).unwrap().key(), "addr:192.0.2.10:25");
    }

    #[test]
    fn connectors_without_a_catch_all() {
        let mut config = parse("[server]\nfqdn = \"mx.example\"\n[delivery]\nremote_port = 2525\n").unwrap();
        config.delivery.smart_host = "smart.example".into();
        config.connectors = vec![
            Connector {
                name: "dns".into(),
                address_spaces: vec![("*.dns.example".into(), 3)],
                target: ConnectorTarget::Dns,
                allow_relay: false,
            },
            Connector {
                name: "relay".into(),
                address_spaces: vec![("*.dns.example".into(), 2)],
                target: ConnectorTarget::SmartHosts(vec!["[192.0.2.9]:587".into()]),
                allow_relay: false,
            },
        ];
        let table = RouteTable::new(&config).unwrap();
        let smart = host("smart.example", 25);
        let cases: &[(&str, Vec<Hop>)] = &[
            ("a.dns.example", vec![addr("192.0.2.9:587"), mx("a.dns.example"), smart.clone()]),
            ("dns.example", vec![smart.clone()]),
            ("elsewhere.example", vec![smart.clone()]),
        ];
        for (domain, hops) in cases {
            assert_eq!(route(domain, &table), Ok(Route { hops: hops.clone() }), "{domain}");
        }
        config.connectors[1].target = ConnectorTarget::SmartHosts(vec!["ok.example".into(), "a:b".into()]);
        let want = RouteError::Relay { key: "connector[1].smart_hosts[1]".into(), value: "a:b".into() };
        assert_eq!(RouteTable::new(&config), Err(want));
    }

    #[test]
    fn address_spaces_match() {
        let cases: &[(&str, &str, bool)] = &[
            ("*", "example.com", true),
            ("*", "[192.0.2.1]", true),
            ("example.com", "example.com", true),
            ("example.com", "a.example.com", false),
            ("*.example.com", "a.example.com", true),
            ("*.example.com", "a.b.example.com", true),
            ("*.example.com", "example.com", false),
            ("*.example.com", "badexample.com", false),
        ];
        for (space, domain, want) in cases {
            assert_eq!(space_matches(space, domain), *want, "{space} {domain}");
        }
    }

    #[test]
    fn relay_forms() {
        let cases: &[(&str, Hop)] = &[
            ("relay.example", host("relay.example", 25)),
            ("Relay.Example:2525", host("relay.example", 2525)),
            ("[192.0.2.1]", addr("192.0.2.1:25")),
            ("[192.0.2.1]:2525", addr("192.0.2.1:2525")),
            ("[2001:db8::1]", addr("[2001:db8::1]:25")),
            ("[2001:db8::1]:2525", addr("[2001:db8::1]:2525")),
        ];
        for (text, want) in cases {
            assert_eq!(relay_hop(text, "k"), Ok(want.clone()), "{text}");
        }
        for text in ["", ":25", "relay:", "relay:0", "relay:x", "[relay]", "[192.0.2.1", "[192.0.2.1]25"] {
            let want = RouteError::Relay { key: "k".into(), value: text.into() };
            assert_eq!(relay_hop(text, "k"), Err(want), "{text:?}");
        }
    }

    #[test]
    fn keys() {
        let cases: &[(Hop, &str)] = &[
            (mx("example.com"), "mx:example.com"),
            (host("relay.example", 25), "host:relay.example:25"),
            (addr("192.0.2.1:25"), "addr:192.0.2.1:25"),
            (addr("[2001:db8::1]:2525"), "addr:[2001:db8::1]:2525"),
        ];
        for (hop, key) in cases {
            assert_eq!(hop.key(), *key);
        }
        let direct = table("", false);
        let smart_first = table("[192.0.2.9]:587", true);
        let key = |t: &RouteTable, d: &str| route(d, t).unwrap().key();
        assert_eq!(key(&direct, "Example.COM"), key(&direct, "example.com"));
        assert_eq!(key(&direct, "Example.COM"), "mx:example.com");
        assert_eq!(key(&smart_first, "example.com"), "mx:example.com");
        assert_eq!(key(&direct, "a.partner.example"), key(&direct, "b.partner.example"));
        assert_eq!(key(&table("relay.example", false), "example.com"), "host:relay.example:25");
    }

    #[test]
    fn errors() {
        let direct = table("", false);
        for literal in ["[192.0.2.256]", "[IPv6:192.0.2.1]", "[2001:db8::1]", "[192.0.2.1", "[tag:x]"] {
            assert_eq!(route(literal, &direct), Err(RouteError::Literal(literal.to_ascii_lowercase())), "{literal}");
        }
        let mut config = parse("[server]\nfqdn = \"mx.example\"\n").unwrap();
        config.domains = vec![remote("ok.example", Some("[192.0.2.1]")), remote("bad.example", Some("a:b"))];
        let want = RouteError::Relay { key: "domain[1].route_to".into(), value: "a:b".into() };
        assert_eq!(RouteTable::new(&config), Err(want));
        config.domains.clear();
        config.delivery.smart_host = "[nope]".into();
        let err = RouteTable::new(&config).unwrap_err();
        assert_eq!(
            err.to_string(),
            "delivery.smart_host = \"[nope]\": expected \"host\", \"host:port\", \"[IP]\" or \"[IP]:port\""
        );
    }

    #[test]
    fn parsed_config_routes() {
        let config = parse(
            r#"
            [server]
            fqdn = "mx.example"
            [[domain]]
            name = "*.Partner.Example"
            kind = "remote"
            route_to = "[2001:DB8::1]:2525"
            "#,
        )
        .unwrap();
        let table = RouteTable::new(&config).unwrap();
        assert_eq!(route("a.partner.example", &table).unwrap().hops, [addr("[2001:db8::1]:2525")]);
        assert_eq!(
            route("partner.example", &table).unwrap().hops,
            [Hop::Mx { domain: "partner.example".into(), port: 25 }]
        );
    }
}
