//! Client lists of `[access]` and `[relay]` (IPs, CIDR ranges, `domain:NAME` entries) and the
//! pure decision over them, given what a reverse lookup of the client found.

use std::net::IpAddr;

use super::ipnet::{IpList, IpNet};
use crate::config::ListMode;

/// The entries of one `list`: addresses and ranges, and `domain:NAME` names (lower case).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ClientList {
    pub ips: IpList,
    /// Matched by the client's forward-confirmed reverse name: the name itself or a subdomain.
    pub domains: Vec<String>,
}

/// One entry as written in the configuration.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ClientEntry {
    Net(IpNet),
    Domain(String),
}

impl ClientEntry {
    /// Parses `192.0.2.5`, `10.0.0.0/8`, `2001:db8::/32` or `domain:example.net`.
    pub fn parse(text: &str) -> Result<ClientEntry, String> {
        match text.strip_prefix("domain:") {
            Some(name) => crate::config::domain_name(name)
                .map(ClientEntry::Domain)
                .map_err(|reason| format!("domain entry: {reason}")),
            None => IpNet::parse(text).map(ClientEntry::Net).map_err(|reason| {
                if text.parse::<IpAddr>().is_err() && !text.contains('/') {
                    format!("{reason}, or \"domain:NAME\"")
                } else {
                    reason
                }
            }),
        }
    }
}

impl FromIterator<ClientEntry> for ClientList {
    fn from_iter<I: IntoIterator<Item = ClientEntry>>(entries: I) -> ClientList {
        let mut list = ClientList::default();
        for entry in entries {
            match entry {
                ClientEntry::Net(net) => list.ips.0.push(net),
                ClientEntry::Domain(name) => list.domains.push(name),
            }
        }
        list
    }
}

/// What a reverse lookup of the client found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ClientName {
    /// DNS answered. `ptr`: the PTR names of the client address; `confirmed`: those whose
    /// A/AAAA records contain the address (forward confirmation). Both may be empty.
    Answered { ptr: Vec<String>, confirmed: Vec<String> },
    /// The lookup failed (SERVFAIL, no server answered, time-out): nothing is known.
    Failed,
}

impl ClientName {
    /// The first forward-confirmed name, if any.
    pub fn confirmed(&self) -> Option<&str> {
        match self {
            ClientName::Answered { confirmed, .. } => confirmed.first().map(String::as_str),
            ClientName::Failed => None,
        }
    }
}

/// The outcome of a list check.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    Allow,
    Deny(DenyReason),
    /// Only a reverse lookup of the client can decide: ask again with its result.
    NeedName,
}

/// Why a list refused a client: the base of the `reason` label of its counter.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DenyReason {
    /// Decided by the client's address (listed under `all_except`, not listed under `only`).
    Ip,
    /// Decided by a `domain:` entry (matched under `all_except`, none matched under `only`).
    Domain,
    /// `only` with `domain:` entries and the reverse lookup failed.
    Dns,
}

/// Decides `mode` over `list` for `ip`. Addresses decide first; `domain:` entries are looked at
/// only when the addresses did not decide, with `name` (`None`: not looked up yet). When the
/// lookup failed, `only` refuses and `all_except` admits.
pub fn decide(mode: ListMode, list: &ClientList, ip: IpAddr, name: Option<&ClientName>) -> Verdict {
    let by_ip = list.ips.contains(ip);
    match (mode, by_ip) {
        (ListMode::Only, true) => return Verdict::Allow,
        (ListMode::AllExcept, true) => return Verdict::Deny(DenyReason::Ip),
        _ => {}
    }
    if list.domains.is_empty() {
        return match mode {
            ListMode::Only => Verdict::Deny(DenyReason::Ip),
            ListMode::AllExcept => Verdict::Allow,
        };
    }
    let confirmed = match name {
        None => return Verdict::NeedName,
        Some(ClientName::Failed) => {
            return match mode {
                ListMode::Only => Verdict::Deny(DenyReason::Dns),
                ListMode::AllExcept => Verdict::Allow,
            }
        }
        Some(ClientName::Answered { confirmed, .. }) => confirmed,
    };
    let by_domain = confirmed.iter().any(|n| list.domains.iter().any(|d| in_domain(n, d)));
    match (mode, by_domain) {
        (ListMode::Only, true) | (ListMode::AllExcept, false) => Verdict::Allow,
        (ListMode::Only, false) | (ListMode::AllExcept, true) => Verdict::Deny(DenyReason::Domain),
    }
}

/// True when `name` is `domain` or a subdomain of it (both lower case).
fn in_domain(name: &str, domain: &str) -> bool {
    name == domain || name.strip_suffix(domain).is_some_and(|head| head.ends_with('.'))
}

/// Forward confirmation: the PTR names `ptr` with the addresses each resolved to (`None`: the
/// forward lookup failed). A temporary failure leaves the outcome unknown only when no name
/// could be confirmed.
pub fn confirm(ip: IpAddr, ptr: Vec<String>, forward: &[Option<Vec<IpAddr>>]) -> ClientName {
    let ip = ip.to_canonical();
    let confirmed: Vec<String> = ptr
        .iter()
        .zip(forward)
        .filter(|(_, addrs)| addrs.as_ref().is_some_and(|a| a.iter().any(|x| x.to_canonical() == ip)))
        .map(|(name, _)| name.clone())
        .collect();
    if confirmed.is_empty() && forward.iter().any(Option::is_none) {
        return ClientName::Failed;
    }
    ClientName::Answered { ptr, confirmed }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn list(entries: &[&str]) -> ClientList {
        entries.iter().map(|e| ClientEntry::parse(e).unwrap()).collect()
    }

    fn answered(confirmed: &[&str]) -> ClientName {
        let names: Vec<String> = confirmed.iter().map(|s| s.to_string()).collect();
        ClientName::Answered { ptr: names.clone(), confirmed: names }
    }

    #[test]
    fn entries_parse() {
        assert_eq!(ClientEntry::parse("domain:Example.NET"), Ok(ClientEntry::Domain("example.net".into())));
        assert_eq!(ClientEntry::parse("10.0.0.0/8"), Ok(ClientEntry::Net(IpNet::parse("10.0.0.0/8").unwrap())));
        assert!(ClientEntry::parse("domain:").unwrap_err().contains("not a valid domain name"));
        assert!(ClientEntry::parse("domain:a..b").unwrap_err().contains("not a valid domain name"));
        assert!(ClientEntry::parse("example.net").unwrap_err().ends_with("got \"example.net\", or \"domain:NAME\""));
        assert!(!ClientEntry::parse("10.0.0.1/8").unwrap_err().contains("domain:"));
        let l = list(&["192.0.2.5", "domain:example.net", "2001:db8::/32"]);
        assert_eq!((l.ips.0.len(), l.domains.as_slice()), (2, &["example.net".to_string()][..]));
    }

    #[test]
    fn decision_table() {
        use ListMode::{AllExcept, Only};
        use Verdict::{Allow, Deny, NeedName};
        let ips = list(&["127.0.0.0/8", "2001:db8::/32"]);
        let mixed = list(&["192.0.2.5", "domain:example.net"]);
        let ok = answered(&["mail.example.net"]);
        let other = answered(&["mail.example.org"]);
        let lookalike = answered(&["badexample.net"]);
        let unconfirmed = ClientName::Answered { ptr: vec!["mail.example.net".into()], confirmed: vec![] };
        let failed = ClientName::Failed;
        let cases: &[(ListMode, &ClientList, &str, Option<&ClientName>, Verdict)] = &[
            (Only, &ips, "127.0.0.9", None, Allow),
            (Only, &ips, "::ffff:127.0.0.9", None, Allow),
            (Only, &ips, "2001:db8:1::1", None, Allow),
            (Only, &ips, "10.0.0.1", None, Deny(DenyReason::Ip)),
            (AllExcept, &ips, "127.0.0.9", None, Deny(DenyReason::Ip)),
            (AllExcept, &ips, "10.0.0.1", None, Allow),
            (Only, &ClientList::default(), "127.0.0.1", None, Deny(DenyReason::Ip)),
            (AllExcept, &ClientList::default(), "127.0.0.1", None, Allow),
            (Only, &mixed, "192.0.2.5", None, Allow),
            (AllExcept, &mixed, "192.0.2.5", None, Deny(DenyReason::Ip)),
            (Only, &mixed, "10.0.0.1", None, NeedName),
            (AllExcept, &mixed, "10.0.0.1", None, NeedName),
            (Only, &mixed, "10.0.0.1", Some(&ok), Allow),
            (Only, &mixed, "10.0.0.1", Some(&answered(&["example.net"])), Allow),
            (Only, &mixed, "10.0.0.1", Some(&other), Deny(DenyReason::Domain)),
            (Only, &mixed, "10.0.0.1", Some(&lookalike), Deny(DenyReason::Domain)),
            (Only, &mixed, "10.0.0.1", Some(&unconfirmed), Deny(DenyReason::Domain)),
            (Only, &mixed, "10.0.0.1", Some(&failed), Deny(DenyReason::Dns)),
            (AllExcept, &mixed, "10.0.0.1", Some(&ok), Deny(DenyReason::Domain)),
            (AllExcept, &mixed, "10.0.0.1", Some(&other), Allow),
            (AllExcept, &mixed, "10.0.0.1", Some(&unconfirmed), Allow),
            (AllExcept, &mixed, "10.0.0.1", Some(&failed), Allow),
        ];
        for (mode, list, ip, name, want) in cases {
            assert_eq!(decide(*mode, list, ip.parse().unwrap(), *name), *want, "{mode:?} {list:?} {ip} {name:?}");
        }
    }

    #[test]
    fn forward_confirmation_table() {
        let ip: IpAddr = "192.0.2.5".parse().unwrap();
        let names = || vec!["a.example".to_string(), "b.example".to_string()];
        let v = |s: &[&str]| Some(s.iter().map(|a| a.parse().unwrap()).collect::<Vec<IpAddr>>());
        let cases: &[(&[Option<Vec<IpAddr>>], ClientName)] = &[
            (
                &[v(&["192.0.2.5"]), v(&["192.0.2.6"])],
                ClientName::Answered { ptr: names(), confirmed: vec!["a.example".into()] },
            ),
            (
                &[v(&["::ffff:192.0.2.5"]), v(&["2001:db8::1", "192.0.2.5"])],
                ClientName::Answered { ptr: names(), confirmed: names() },
            ),
            (&[v(&[]), v(&["192.0.2.9"])], ClientName::Answered { ptr: names(), confirmed: vec![] }),
            (&[None, v(&["192.0.2.9"])], ClientName::Failed),
            (&[None, v(&["192.0.2.5"])], ClientName::Answered { ptr: names(), confirmed: vec!["b.example".into()] }),
        ];
        for (forward, want) in cases {
            assert_eq!(confirm(ip, names(), forward), *want, "{forward:?}");
        }
        assert_eq!(confirm(ip, vec![], &[]), ClientName::Answered { ptr: vec![], confirmed: vec![] });
    }
}
