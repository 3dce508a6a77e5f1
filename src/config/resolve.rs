//! Reads each section of the file into its resolved type, applying defaults and the
//! per-virtual-server overrides key by key.

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::path::PathBuf;
use std::time::Duration;

use super::connector::connectors;
use super::host::{hostname, online_cpus};
use super::reader::{boolean, duration, nonzero, size, text, uint, Reason, Section};
use super::security::{auth, auth_without_tls, tls};
use super::validate::{self, domain_name, domain_pattern, socket_addr};
use super::{
    Access, Admin, Auth, AuthMode, Config, Delivery, Domain, DomainKind, Limits, ListMode, OutboundSecurity, Relay,
    Server, Tls, VirtualServer, VsState,
};
use crate::policy::{ClientEntry, ClientList};

/// The name of the virtual server created when the file has none.
pub const DEFAULT_VS_NAME: &str = "Default SMTP Virtual Server";

impl Default for Limits {
    fn default() -> Self {
        Limits {
            inbound_connections: 0,
            connection_timeout: Duration::from_secs(600),
            max_message_size: 2048 * 1024,
            max_session_size: 10240 * 1024,
            max_recipients: 100,
        }
    }
}

impl Default for Relay {
    fn default() -> Self {
        Relay { mode: ListMode::Only, list: ClientList::default(), allow_authenticated: true }
    }
}

impl Default for Access {
    fn default() -> Self {
        Access { mode: ListMode::AllExcept, list: ClientList::default() }
    }
}

impl Default for Delivery {
    fn default() -> Self {
        let minutes = |m: u64| Duration::from_secs(m * 60);
        Delivery {
            outbound_connections: 500,
            connections_per_domain: 100,
            messages_per_connection: 20,
            retry_intervals: vec![minutes(15), minutes(30), minutes(60)],
            subsequent_retry_interval: minutes(240),
            max_retries: 48,
            delay_notification: minutes(12 * 60),
            expiration: minutes(2 * 24 * 60),
            max_hop_count: 15,
            masquerade_domain: String::new(),
            smart_host: String::new(),
            attempt_direct_before_smart_host: false,
            reverse_dns_lookup: false,
            ndr_copy_to: String::new(),
            dns_servers: Vec::new(),
            remote_port: 25,
            outbound_security: OutboundSecurity::default(),
        }
    }
}

impl Default for OutboundSecurity {
    fn default() -> Self {
        OutboundSecurity {
            auth: AuthMode::Anonymous,
            username: String::new(),
            password: String::new(),
            tls: false,
            allow_plaintext_auth: false,
        }
    }
}

/// Reads the whole file; cross-entry problems are recorded too.
pub fn config(root: &mut Section) -> Config {
    let server = server(&mut root.section("server"));
    let site = Site {
        limits: limits(&mut root.section("limits"), &Limits::default()),
        relay: relay(&mut root.section("relay"), &Relay::default()),
        access: access(&mut root.section("access"), &Access::default()),
        tls: tls(&mut root.section("tls"), &Tls::default()),
        auth: auth(&mut root.section("auth"), &Auth::default()),
    };
    let virtual_servers = virtual_servers(root, &server, &site);
    validate::virtual_servers(&virtual_servers, root.errors());
    let mut default_domains: Vec<&str> = vec![&server.default_domain];
    for vs in &virtual_servers {
        if !default_domains.contains(&vs.default_domain.as_str()) {
            default_domains.push(&vs.default_domain);
        }
    }
    let delivery = delivery(&mut root.section("delivery"));
    let domains = domains(root, &delivery.outbound_security);
    validate::domains(&domains, &default_domains, root.errors());
    Config {
        connectors: connectors(root),
        delivery,
        admin: admin(&mut root.section("admin")),
        server,
        virtual_servers,
        domains,
    }
}

fn server(sec: &mut Section) -> Server {
    let fqdn = if sec.has("fqdn") {
        sec.get("fqdn", text(domain_name)).unwrap_or_default()
    } else {
        let host = hostname();
        domain_name(&host).unwrap_or_else(|reason| {
            sec.error("fqdn", format!("the host name is not usable ({reason}); set server.fqdn"));
            host
        })
    };
    let cpus = online_cpus();
    let shards = match sec.get("shards", uint::<usize>) {
        None | Some(0) => cpus,
        Some(n) if n > cpus => {
            sec.error("shards", format!("{n} is more than the {cpus} online CPUs; use 0 for one per CPU"));
            cpus
        }
        Some(n) => n,
    };
    let data_dir = sec.get("data_dir", text(dir)).unwrap_or_else(|| PathBuf::from("/var/lib/tern"));
    let mut dir_or = |key: &str, name: &str| sec.get(key, text(dir)).unwrap_or_else(|| data_dir.join(name));
    Server {
        spool_dir: dir_or("spool_dir", "spool"),
        drop_dir: dir_or("drop_dir", "drop"),
        pickup_dir: dir_or("pickup_dir", "pickup"),
        badmail_dir: dir_or("badmail_dir", "badmail"),
        log_dir: dir_or("log_dir", "log"),
        default_domain: sec.get("default_domain", text(domain_name)).unwrap_or_else(|| "localhost".into()),
        fqdn,
        data_dir,
        shards,
    }
}

fn dir(path: &str) -> Result<PathBuf, Reason> {
    if path.is_empty() {
        return Err("expected a directory path, got an empty string".into());
    }
    Ok(PathBuf::from(path))
}

/// `base` with the keys present in `sec` replaced.
fn limits(sec: &mut Section, base: &Limits) -> Limits {
    let limits = Limits {
        inbound_connections: sec.get("inbound_connections", uint).unwrap_or(base.inbound_connections),
        connection_timeout: sec.get("connection_timeout", nonzero(duration)).unwrap_or(base.connection_timeout),
        max_message_size: sec.get("max_message_size", nonzero(size)).unwrap_or(base.max_message_size),
        max_session_size: sec.get("max_session_size", size).unwrap_or(base.max_session_size),
        max_recipients: sec.get("max_recipients", nonzero(uint)).unwrap_or(base.max_recipients),
    };
    if limits.max_session_size < limits.max_message_size {
        let (session, message) = (limits.max_session_size, limits.max_message_size);
        sec.error(
            "max_session_size",
            format!("{session} bytes is less than max_message_size ({message} bytes); one message would not fit"),
        );
    }
    limits
}

/// `base` with the keys present in `sec` replaced.
fn relay(sec: &mut Section, base: &Relay) -> Relay {
    Relay {
        mode: sec.get("mode", text(list_mode)).unwrap_or(base.mode),
        list: client_list(sec).unwrap_or_else(|| base.list.clone()),
        allow_authenticated: sec.get("allow_authenticated", boolean).unwrap_or(base.allow_authenticated),
    }
}

/// `base` with the keys present in `sec` replaced.
fn access(sec: &mut Section, base: &Access) -> Access {
    Access {
        mode: sec.get("mode", text(list_mode)).unwrap_or(base.mode),
        list: client_list(sec).unwrap_or_else(|| base.list.clone()),
    }
}

/// The `list` key of `[access]` or `[relay]`.
fn client_list(sec: &mut Section) -> Option<ClientList> {
    sec.list("list", text(ClientEntry::parse)).map(|entries| entries.into_iter().collect())
}

fn list_mode(mode: &str) -> Result<ListMode, Reason> {
    match mode {
        "only" => Ok(ListMode::Only),
        "all_except" => Ok(ListMode::AllExcept),
        _ => Err(format!("expected \"only\" or \"all_except\", got {mode:?}")),
    }
}

/// The site-wide settings a virtual server may override.
struct Site {
    limits: Limits,
    relay: Relay,
    access: Access,
    tls: Tls,
    auth: Auth,
}

fn virtual_servers(root: &mut Section, server: &Server, site: &Site) -> Vec<VirtualServer> {
    if !root.has("virtual_server") {
        if let Some(reason) = auth_without_tls(&site.auth, &site.tls) {
            root.error("auth.anonymous", reason);
        }
        return vec![VirtualServer {
            name: DEFAULT_VS_NAME.to_string(),
            bind: vec![SocketAddr::new(IpAddr::V4(Ipv4Addr::UNSPECIFIED), 25)],
            state: VsState::Started,
            default_domain: server.default_domain.clone(),
            limits: site.limits.clone(),
            relay: site.relay.clone(),
            access: site.access.clone(),
            tls: site.tls.clone(),
            auth: site.auth.clone(),
        }];
    }
    let tables = root.tables("virtual_server");
    if tables.as_ref().is_some_and(Vec::is_empty) {
        root.error("virtual_server", "expected at least one [[virtual_server]]");
    }
    let tables = tables.unwrap_or_default();
    tables.into_iter().map(|mut vs| virtual_server(&mut vs, server, site)).collect()
}

fn virtual_server(sec: &mut Section, server: &Server, site: &Site) -> VirtualServer {
    let name = sec.require("name", text(non_empty)).unwrap_or_default();
    let bind = bind(sec);
    let vs = VirtualServer {
        name,
        bind,
        state: sec.get("state", text(vs_state)).unwrap_or(VsState::Started),
        default_domain: sec.get("default_domain", text(domain_name)).unwrap_or_else(|| server.default_domain.clone()),
        limits: sec.table("limits").map_or_else(|| site.limits.clone(), |mut l| limits(&mut l, &site.limits)),
        relay: sec.table("relay").map_or_else(|| site.relay.clone(), |mut r| relay(&mut r, &site.relay)),
        access: sec.table("access").map_or_else(|| site.access.clone(), |mut a| access(&mut a, &site.access)),
        tls: sec.table("tls").map_or_else(|| site.tls.clone(), |mut t| tls(&mut t, &site.tls)),
        auth: sec.table("auth").map_or_else(|| site.auth.clone(), |mut a| auth(&mut a, &site.auth)),
    };
    if let Some(reason) = auth_without_tls(&vs.auth, &vs.tls) {
        sec.error("auth.anonymous", reason);
    }
    vs
}

pub(super) fn non_empty(name: &str) -> Result<String, Reason> {
    if name.trim().is_empty() {
        return Err("must not be empty".into());
    }
    Ok(name.to_string())
}

/// The required, non-empty `bind` list; a bad entry is reported with its index.
fn bind(sec: &mut Section) -> Vec<SocketAddr> {
    if !sec.has("bind") {
        sec.error("bind", "missing required key (a list of \"IP:port\")");
        return Vec::new();
    }
    let bind = sec.list("bind", text(socket_addr));
    if bind.as_ref().is_some_and(Vec::is_empty) {
        sec.error("bind", "must list at least one \"IP:port\"");
    }
    bind.unwrap_or_default()
}

fn vs_state(state: &str) -> Result<VsState, Reason> {
    match state {
        "started" => Ok(VsState::Started),
        "paused" => Ok(VsState::Paused),
        "stopped" => Ok(VsState::Stopped),
        _ => Err(format!("expected \"started\", \"paused\" or \"stopped\", got {state:?}")),
    }
}

/// `[delivery]`: every key is read; the ones this stage refuses never reach the getters.
fn delivery(sec: &mut Section) -> Delivery {
    let d = Delivery::default();
    Delivery {
        outbound_connections: sec.get("outbound_connections", nonzero(uint)).unwrap_or(d.outbound_connections),
        connections_per_domain: sec.get("connections_per_domain", nonzero(uint)).unwrap_or(d.connections_per_domain),
        messages_per_connection: sec.get("messages_per_connection", uint).unwrap_or(d.messages_per_connection),
        retry_intervals: sec.list("retry_intervals", nonzero(duration)).unwrap_or(d.retry_intervals),
        subsequent_retry_interval: sec
            .get("subsequent_retry_interval", nonzero(duration))
            .unwrap_or(d.subsequent_retry_interval),
        max_retries: sec.get("max_retries", uint).unwrap_or(d.max_retries),
        delay_notification: sec.get("delay_notification", duration).unwrap_or(d.delay_notification),
        expiration: sec.get("expiration", nonzero(duration)).unwrap_or(d.expiration),
        max_hop_count: sec.get("max_hop_count", nonzero(uint)).unwrap_or(d.max_hop_count),
        masquerade_domain: sec.get("masquerade_domain", text(validate::optional_domain)).unwrap_or_default(),
        smart_host: sec.get("smart_host", text(validate::smart_host)).unwrap_or_default(),
        attempt_direct_before_smart_host: sec.get("attempt_direct_before_smart_host", boolean).unwrap_or_default(),
        reverse_dns_lookup: sec.get("reverse_dns_lookup", boolean).unwrap_or_default(),
        ndr_copy_to: sec.get("ndr_copy_to", text(validate::optional_address)).unwrap_or_default(),
        dns_servers: sec.list("dns_servers", text(validate::dns_server)).unwrap_or_default(),
        remote_port: sec.get("remote_port", nonzero(uint)).unwrap_or(d.remote_port),
        outbound_security: outbound_security(&mut sec.section("outbound_security"), &d.outbound_security),
    }
}

/// `base` with the keys present in `sec` replaced. `basic` without a user name is an error
/// where this section set one of the two (an inherited one is reported at the site).
fn outbound_security(sec: &mut Section, base: &OutboundSecurity) -> OutboundSecurity {
    let security = OutboundSecurity {
        auth: sec.get("auth", text(auth_mode)).unwrap_or(base.auth),
        username: sec.get("username", text(credential)).unwrap_or_else(|| base.username.clone()),
        password: sec.get("password", text(credential)).unwrap_or_else(|| base.password.clone()),
        tls: sec.get("tls", boolean).unwrap_or(base.tls),
        allow_plaintext_auth: sec.get("allow_plaintext_auth", boolean).unwrap_or(base.allow_plaintext_auth),
    };
    if security.auth == AuthMode::Basic && security.username.is_empty() {
        let reason = "auth = \"basic\" needs a non-empty username";
        if sec.has("username") {
            sec.error("username", reason);
        } else if sec.has("auth") {
            sec.error("auth", reason);
        }
    }
    security
}

fn auth_mode(mode: &str) -> Result<AuthMode, Reason> {
    match mode {
        "anonymous" => Ok(AuthMode::Anonymous),
        "basic" => Ok(AuthMode::Basic),
        _ => Err(format!("expected \"anonymous\" or \"basic\", got {mode:?}")),
    }
}

/// A user name or password: any text without control characters (NUL would break AUTH PLAIN).
fn credential(value: &str) -> Result<String, Reason> {
    if value.chars().any(char::is_control) {
        return Err("must not contain control characters".into());
    }
    Ok(value.to_string())
}

fn domains(root: &mut Section, site: &OutboundSecurity) -> Vec<Domain> {
    let tables = root.tables("domain").unwrap_or_default();
    tables
        .into_iter()
        .map(|mut sec| Domain {
            name: sec.require("name", text(domain_pattern)).unwrap_or_default(),
            // An entry without a valid kind is checked as remote: that adds no second error.
            kind: sec.require("kind", text(domain_kind)).unwrap_or(DomainKind::Remote),
            allow_relay: sec.get("allow_relay", boolean).unwrap_or(false),
            route_to: sec.get("route_to", text(validate::relay_host)),
            outbound_security: sec.table("outbound_security").map(|mut s| outbound_security(&mut s, site)),
        })
        .collect()
}

fn domain_kind(kind: &str) -> Result<DomainKind, Reason> {
    match kind {
        "local" => Ok(DomainKind::Local),
        "alias" => Ok(DomainKind::Alias),
        "remote" => Ok(DomainKind::Remote),
        _ => Err(format!("expected \"local\", \"alias\" or \"remote\", got {kind:?}")),
    }
}

fn admin(sec: &mut Section) -> Admin {
    let listen = |text: &str| {
        if text.is_empty() {
            Ok(None)
        } else {
            socket_addr(text).map(Some)
        }
    };
    let default = SocketAddr::new(IpAddr::V4(Ipv4Addr::LOCALHOST), 8025);
    Admin { listen: sec.get("listen", self::text(listen)).unwrap_or(Some(default)) }
}
