//! Value checks (domain names, socket addresses, hosts) and the checks across entries:
//! duplicate or overlapping binds, duplicate names, domain kinds against the default domains.

use std::net::{IpAddr, SocketAddr};

use super::reader::{Errors, Reason};
use super::{Domain, DomainKind, VirtualServer};

/// A domain name (`mail.example.com`, `localhost`), lower-cased.
pub fn domain_name(name: &str) -> Result<String, Reason> {
    let bad = |why: &str| Err(format!("{name:?} is not a valid domain name: {why}"));
    if name.is_empty() {
        return bad("empty");
    }
    if name.len() > 253 {
        return bad("longer than 253 characters");
    }
    for label in name.split('.') {
        if label.is_empty() || label.len() > 63 {
            return bad("each dot-separated label must have 1 to 63 characters");
        }
        if !label.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-') {
            return bad("only letters, digits, '-' and '.' are allowed");
        }
        if label.starts_with('-') || label.ends_with('-') {
            return bad("a label must not start or end with '-'");
        }
    }
    Ok(name.to_ascii_lowercase())
}

/// A domain name that may start with `*.` (checked against the kind later), lower-cased.
pub fn domain_pattern(name: &str) -> Result<String, Reason> {
    match name.strip_prefix("*.") {
        Some(rest) => domain_name(rest).map(|d| format!("*.{d}")),
        None => domain_name(name),
    }
}

/// `""` or a domain name.
pub fn optional_domain(name: &str) -> Result<String, Reason> {
    if name.is_empty() {
        return Ok(String::new());
    }
    domain_name(name)
}

/// `IP:port` with a port other than 0 (`0.0.0.0:25`, `[::1]:2525`).
pub fn socket_addr(text: &str) -> Result<SocketAddr, Reason> {
    let addr: SocketAddr =
        text.parse().map_err(|_| format!("expected IP:port, e.g. \"0.0.0.0:25\" or \"[::1]:25\", got {text:?}"))?;
    if addr.port() == 0 {
        return Err(format!("{text:?}: port must not be 0"));
    }
    Ok(addr)
}

/// A DNS server: `IP` (port 53) or `IP:port`.
pub fn dns_server(text: &str) -> Result<SocketAddr, Reason> {
    match text.parse::<IpAddr>() {
        Ok(ip) => Ok(SocketAddr::new(ip, 53)),
        Err(_) => socket_addr(text).map_err(|_| {
            format!("expected IP or IP:port, e.g. \"192.0.2.53\" or \"[2001:db8::53]:5353\", got {text:?}")
        }),
    }
}

/// `""` or a [`relay_host`].
pub fn smart_host(text: &str) -> Result<String, Reason> {
    if text.is_empty() {
        return Ok(String::new());
    }
    relay_host(text)
}

/// `host`, `host:port`, `[IP]` or `[IP]:port` (a smart host or a route domain), lower-cased.
pub fn relay_host(text: &str) -> Result<String, Reason> {
    let bad = || format!("expected \"host\", \"host:port\", \"[IP]\" or \"[IP]:port\", got {text:?}");
    if text.is_empty() {
        return Err(bad());
    }
    let (host, port) = match text.strip_prefix('[') {
        Some(rest) => {
            let (ip, after) = rest.split_once(']').ok_or_else(bad)?;
            ip.parse::<IpAddr>().map_err(|_| bad())?;
            (None, after)
        }
        None => text.find(':').map_or((Some(text), ""), |i| (Some(&text[..i]), &text[i..])),
    };
    if !port.is_empty() {
        let number = port.strip_prefix(':').and_then(|p| p.parse::<u16>().ok());
        if number.is_none_or(|p| p == 0) {
            return Err(bad());
        }
    }
    if let Some(host) = host {
        domain_name(host)?;
    }
    Ok(text.to_ascii_lowercase())
}

/// `""` or `local@domain`.
pub fn optional_address(text: &str) -> Result<String, Reason> {
    if text.is_empty() {
        return Ok(String::new());
    }
    match text.rsplit_once('@') {
        Some((local, domain)) if !local.is_empty() && domain_name(domain).is_ok() => Ok(text.to_string()),
        _ => Err(format!("expected an address like \"postmaster@example.com\", got {text:?}")),
    }
}

/// Duplicate names and overlapping binds across (and within) virtual servers.
pub fn virtual_servers(servers: &[VirtualServer], errors: &Errors) {
    for (i, vs) in servers.iter().enumerate() {
        if let Some(first) = servers[..i].iter().position(|o| !vs.name.is_empty() && o.name == vs.name) {
            errors.push(
                format!("virtual_server[{i}].name"),
                format!("duplicate name {:?} (also virtual_server[{first}])", vs.name),
            );
        }
    }
    let binds: Vec<(String, SocketAddr)> = servers
        .iter()
        .enumerate()
        .flat_map(|(i, vs)| {
            vs.bind.iter().enumerate().map(move |(j, a)| (format!("virtual_server[{i}].bind[{j}]"), *a))
        })
        .collect();
    for (k, (path, addr)) in binds.iter().enumerate() {
        if let Some((other, reason)) = binds[..k].iter().find_map(|(p, a)| overlap(*a, *addr).map(|r| (p, r))) {
            errors.push(path, format!("{addr} {reason} {other}"));
        }
    }
}

/// Why two bind addresses cannot both be used, if they cannot.
fn overlap(a: SocketAddr, b: SocketAddr) -> Option<&'static str> {
    if a.port() != b.port() {
        return None;
    }
    if a.ip() == b.ip() {
        return Some("is bound already by");
    }
    if covers(a.ip(), b.ip()) || covers(b.ip(), a.ip()) {
        return Some(
            "overlaps (a wildcard and another address on one port would both bind with \
             SO_REUSEPORT and the wildcard would take the other's connections; [::] accepts \
             IPv4 too) the bind of",
        );
    }
    None
}

/// True when the wildcard `wild` also accepts connections to `ip` (`[::]` is dual-stack).
fn covers(wild: IpAddr, ip: IpAddr) -> bool {
    match wild {
        IpAddr::V4(w) => w.is_unspecified() && ip.to_canonical().is_ipv4(),
        IpAddr::V6(w) => w.is_unspecified(),
    }
}

/// Duplicate names, wildcards only on remote domains, relay only to remote domains, and the
/// kinds against the default domains (`local` only for one, `alias` never for one).
pub fn domains(domains: &[Domain], default_domains: &[&str], errors: &Errors) {
    for (i, d) in domains.iter().enumerate() {
        let at = |key: &str| format!("domain[{i}].{key}");
        if let Some(first) = domains[..i].iter().position(|o| !d.name.is_empty() && o.name == d.name) {
            errors.push(at("name"), format!("duplicate domain {:?} (also domain[{first}])", d.name));
        }
        let remote = d.kind == DomainKind::Remote;
        if d.name.starts_with("*.") && !remote {
            errors.push(at("name"), "a wildcard name (*.) is only allowed with kind = \"remote\"");
        }
        if d.allow_relay && !remote {
            errors.push(at("allow_relay"), "only applies to kind = \"remote\"");
        }
        if d.route_to.is_some() && !remote {
            errors.push(at("route_to"), "only applies to kind = \"remote\"");
        }
        if d.outbound_security.is_some() && !remote {
            errors.push(at("outbound_security"), "only applies to kind = \"remote\"");
        }
        let is_default = default_domains.contains(&d.name.as_str());
        if d.kind == DomainKind::Alias && is_default {
            errors.push(at("kind"), format!("{:?} is the default domain; it cannot be its own alias", d.name));
        }
        if d.kind == DomainKind::Local && !is_default && !d.name.is_empty() {
            errors.push(
                at("kind"),
                format!("\"local\" is only for the default domain ({}); use \"alias\"", default_domains.join(", ")),
            );
        }
    }
}
