//! Which recipient domains are local (default and alias domains) and which remote domains
//! accept relayed mail (`allow_relay` on a `[[domain]] kind = "remote"` or on a
//! `[[connector]]`'s address spaces, exact or `*.` wildcard).

use std::collections::HashSet;

use crate::config::{Config, DomainKind};

/// How a recipient domain is treated at RCPT time.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DomainClass {
    /// The default domain or an alias domain: delivered to the Drop directory.
    Local,
    /// A remote domain, or a connector's address space, configured with `allow_relay = true`.
    RelayAllowed,
    /// Any other domain: relayed only for clients that may relay.
    Remote,
}

/// The domain table of one virtual server.
#[derive(Debug, Clone, Default)]
pub struct Domains {
    local: HashSet<String>,
    relay_exact: HashSet<String>,
    /// Suffixes including the leading dot (`.partner.example`).
    relay_wildcards: Vec<String>,
}

impl Domains {
    /// The table for a virtual server whose default domain is `vs_default`. The site default
    /// domain and every alias domain are local too.
    pub fn new(config: &Config, vs_default: &str) -> Domains {
        let mut table = Domains::default();
        table.local.insert(vs_default.to_ascii_lowercase());
        table.local.insert(config.server.default_domain.to_ascii_lowercase());
        for d in &config.domains {
            match d.kind {
                DomainKind::Local | DomainKind::Alias => {
                    table.local.insert(d.name.clone());
                }
                DomainKind::Remote if d.allow_relay => table.allow_relay(&d.name),
                DomainKind::Remote => {}
            }
        }
        for c in config.connectors.iter().filter(|c| c.allow_relay) {
            for (space, _) in &c.address_spaces {
                table.allow_relay(space);
            }
        }
        table
    }

    /// Accepts relayed mail for `name` (lower case, exact or `*.` wildcard).
    fn allow_relay(&mut self, name: &str) {
        match name.strip_prefix('*') {
            Some(suffix) => self.relay_wildcards.push(suffix.to_string()),
            None => {
                self.relay_exact.insert(name.to_string());
            }
        }
    }

    /// Classifies a recipient domain (any case).
    pub fn classify(&self, domain: &str) -> DomainClass {
        let domain = domain.to_ascii_lowercase();
        if self.local.contains(&domain) {
            DomainClass::Local
        } else if self.relay_exact.contains(&domain)
            || self.relay_wildcards.iter().any(|s| domain.ends_with(s.as_str()))
        {
            DomainClass::RelayAllowed
        } else {
            DomainClass::Remote
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn table() -> Domains {
        let mut t = Domains::default();
        t.local.extend(["example.com".to_string(), "alias.example".to_string()]);
        t.relay_exact.insert("partner.example".into());
        t.relay_wildcards.push(".wild.example".into());
        t
    }

    #[test]
    fn classification_table() {
        let t = table();
        let cases = [
            ("example.com", DomainClass::Local),
            ("EXAMPLE.com", DomainClass::Local),
            ("alias.example", DomainClass::Local),
            ("sub.example.com", DomainClass::Remote),
            ("partner.example", DomainClass::RelayAllowed),
            ("a.partner.example", DomainClass::Remote),
            ("a.wild.example", DomainClass::RelayAllowed),
            ("x.y.WILD.example", DomainClass::RelayAllowed),
            ("wild.example", DomainClass::Remote),
            ("evilwild.example", DomainClass::Remote),
            ("[127.0.0.1]", DomainClass::Remote),
        ];
        for (domain, want) in cases {
            assert_eq!(t.classify(domain), want, "{domain}");
        }
    }

    #[test]
    fn connectors_with_allow_relay_open_their_address_spaces() {
        let config = crate::config::parse(
            r#"
            [server]
            fqdn = "mx.example"
            default_domain = "example.com"
            [[domain]]
            name = "remote.example"
            kind = "remote"
            [[connector]]
            name = "relay"
            address_spaces = [{ domain = "*.Partner.example", cost = 10 }, { domain = "exact.example" }]
            smart_hosts = ["[192.0.2.9]"]
            allow_relay = true
            [[connector]]
            name = "closed"
            address_spaces = [{ domain = "closed.example" }, { domain = "*" }]
            use_dns = true
            "#,
        )
        .unwrap();
        let t = Domains::new(&config, "example.com");
        let cases = [
            ("example.com", DomainClass::Local),
            ("a.partner.example", DomainClass::RelayAllowed),
            ("x.y.PARTNER.example", DomainClass::RelayAllowed),
            ("partner.example", DomainClass::Remote),
            ("exact.example", DomainClass::RelayAllowed),
            ("sub.exact.example", DomainClass::Remote),
            ("closed.example", DomainClass::Remote),
            ("remote.example", DomainClass::Remote),
            ("elsewhere.example", DomainClass::Remote),
        ];
        for (domain, want) in cases {
            assert_eq!(t.classify(domain), want, "{domain}");
        }
    }
}
