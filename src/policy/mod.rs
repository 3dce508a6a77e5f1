//! Pure access decisions: IP/CIDR and domain lists, which domains are local, who may connect
//! and who may relay, and which recipient addresses are refused as routing tricks.

mod client;
mod domains;
mod ipnet;

pub use client::{confirm, decide, ClientEntry, ClientList, ClientName, DenyReason, Verdict};
pub use domains::{DomainClass, Domains};
pub use ipnet::{IpList, IpNet};

use std::net::IpAddr;

use crate::config::Relay;

/// Whether `client` may relay to any domain under `relay`: an authenticated session may when
/// `allow_authenticated` is on; otherwise the mode and list decide (see [`decide`]).
pub fn relay_verdict(relay: &Relay, client: IpAddr, name: Option<&ClientName>, authenticated: bool) -> Verdict {
    if authenticated && relay.allow_authenticated {
        return Verdict::Allow;
    }
    decide(relay.mode, &relay.list, client, name)
}

/// True when a local part carries another routing inside it: the percent hack
/// (`user%other.example`), a bang path (`other!user`), or an `@` inside a quoted local part
/// (`"user@other.example"`). Such recipients of local domains are refused, so that nothing
/// downstream of the Drop directory can turn them into relaying.
pub fn is_routing_local_part(local: &str) -> bool {
    local.contains(['%', '!', '@'])
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::ListMode;

    #[test]
    fn routing_local_parts() {
        let cases = [
            ("user", false),
            ("first.last+tag", false),
            ("\"a b\"", false),
            ("user%other.example", true),
            ("other!user", true),
            ("\"user@other.example\"", true),
            ("\"user\\@other\"", true),
        ];
        for (local, want) in cases {
            assert_eq!(is_routing_local_part(local), want, "{local}");
        }
    }

    #[test]
    fn authenticated_sessions_relay_when_allowed() {
        let ip: IpAddr = "192.0.2.9".parse().unwrap();
        let mut relay = Relay { mode: ListMode::Only, list: ClientList::default(), allow_authenticated: true };
        assert_eq!(relay_verdict(&relay, ip, None, false), Verdict::Deny(DenyReason::Ip), "closed by default");
        assert_eq!(relay_verdict(&relay, ip, None, true), Verdict::Allow);
        relay.allow_authenticated = false;
        assert_eq!(relay_verdict(&relay, ip, None, true), Verdict::Deny(DenyReason::Ip));
        relay.list = [ClientEntry::parse("domain:example.net").unwrap()].into_iter().collect();
        assert_eq!(relay_verdict(&relay, ip, None, true), Verdict::NeedName);
    }
}
