//! Reads `[[connector]]` entries (spec 004): address spaces with costs, smart hosts or DNS, relay.

use toml::Value;

use super::reader::{boolean, text, uint, Reason, Section};
use super::resolve::non_empty;
use super::validate::{domain_pattern, relay_host};
use super::{Connector, ConnectorTarget};

/// The cost of an address space given without one.
const DEFAULT_COST: u8 = 1;

/// Every `[[connector]]`, in file order; duplicate names are reported on the later entry.
pub fn connectors(root: &mut Section) -> Vec<Connector> {
    let tables = root.tables("connector").unwrap_or_default();
    let connectors: Vec<Connector> = tables.into_iter().map(|mut sec| connector(&mut sec)).collect();
    for (i, c) in connectors.iter().enumerate() {
        if let Some(first) = connectors[..i].iter().position(|o| !c.name.is_empty() && o.name == c.name) {
            root.errors().push(
                format!("connector[{i}].name"),
                format!("duplicate connector name {:?} (also connector[{first}])", c.name),
            );
        }
    }
    connectors
}

fn connector(sec: &mut Section) -> Connector {
    let name = sec.require("name", text(non_empty)).unwrap_or_default();
    let address_spaces = address_spaces(sec);
    let target = target(sec);
    let allow_relay = sec.get("allow_relay", boolean).unwrap_or(false);
    if allow_relay && address_spaces.iter().any(|(domain, _)| domain == "*") {
        sec.error(
            "allow_relay",
            "not allowed with the address space \"*\": it would relay mail from anyone to every domain (an open relay)",
        );
    }
    Connector { name, address_spaces, target, allow_relay }
}

/// The required, non-empty `address_spaces` list of `{ domain, cost }` tables.
fn address_spaces(sec: &mut Section) -> Vec<(String, u8)> {
    if !sec.has("address_spaces") {
        sec.error("address_spaces", "missing required key (a list of { domain = \"...\", cost = 1..100 })");
        return Vec::new();
    }
    let Some(tables) = sec.tables("address_spaces") else { return Vec::new() };
    if tables.is_empty() {
        sec.error("address_spaces", "must list at least one address space");
    }
    let mut spaces: Vec<(String, u8)> = Vec::with_capacity(tables.len());
    for (i, mut space) in tables.into_iter().enumerate() {
        let domain = space.require("domain", text(space_domain));
        let cost = space.get("cost", cost).unwrap_or(DEFAULT_COST);
        let Some(domain) = domain else { continue };
        if spaces.iter().any(|(d, _)| *d == domain) {
            sec.errors().push(
                format!("{}[{i}].domain", sec.path_of("address_spaces")),
                format!("duplicate address space {domain:?} in this connector"),
            );
        }
        spaces.push((domain, cost));
    }
    spaces
}

/// `*` (every domain), `*.name` or `name`, lower-cased.
fn space_domain(domain: &str) -> Result<String, Reason> {
    match domain {
        "*" => Ok("*".into()),
        _ => domain_pattern(domain),
    }
}

/// An integer from 1 to 100.
fn cost(value: &Value) -> Result<u8, Reason> {
    match uint::<u8>(value) {
        Ok(n @ 1..=100) => Ok(n),
        Ok(n) => Err(format!("expected a cost from 1 to 100, got {n}")),
        Err(_) => Err(format!("expected a cost from 1 to 100, got {value}")),
    }
}

/// Exactly one of `smart_hosts` (non-empty) and `use_dns = true`.
fn target(sec: &mut Section) -> ConnectorTarget {
    let has_hosts = sec.has("smart_hosts");
    let hosts = sec.list("smart_hosts", text(relay_host));
    let use_dns = sec.get("use_dns", boolean).unwrap_or(false);
    if hosts.as_ref().is_some_and(Vec::is_empty) {
        sec.error("smart_hosts", "must list at least one smart host (or use use_dns = true instead)");
    }
    match (has_hosts, use_dns) {
        (true, true) => sec.error("use_dns", "use either smart_hosts or use_dns = true, not both"),
        (false, false) => sec.error("smart_hosts", "missing: set smart_hosts = [\"host\", ...] or use_dns = true"),
        _ => {}
    }
    if use_dns {
        ConnectorTarget::Dns
    } else {
        ConnectorTarget::SmartHosts(hosts.unwrap_or_default())
    }
}
