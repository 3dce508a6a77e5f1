//! Pure access decisions: IP/CIDR lists, which domains are local, who may relay.

mod domains;
mod ipnet;

pub use domains::{DomainClass, Domains};
pub use ipnet::{IpList, IpNet};

use std::net::IpAddr;

use crate::config::{ListMode, Relay};

/// True when `client` may relay to any domain under `relay` (mode + list). Authentication
/// (`allow_authenticated`) is decided by the caller.
pub fn relay_permits(relay: &Relay, client: IpAddr) -> bool {
    let listed = relay.list.contains(client);
    match relay.mode {
        ListMode::Only => listed,
        ListMode::AllExcept => !listed,
    }
}
