//! The outbound security policy of each destination domain: the site's, or the one of the
//! `[[domain]]` entry (exact name, then the longest wildcard) that has its own.

use std::collections::HashMap;

use super::client::{Credentials, Security, TlsPolicy, Verify};
use crate::config::{AuthMode, Config, DomainKind, OutboundSecurity};

/// The policies of one configuration, built once per shard (the rustls configurations are
/// shared by every connection).
pub struct SecurityTable {
    site: Security,
    /// Lower-case exact names of remote domains with their own policy.
    exact: HashMap<String, Security>,
    /// `*.` wildcards with their own policy, keyed by the suffix with its leading dot.
    wildcards: HashMap<String, Security>,
}

impl SecurityTable {
    /// Certificates are not verified ([`Verify::None`]): MX hosts commonly present
    /// self-signed certificates or ones for another name, so required TLS guarantees
    /// encryption, not the server's identity.
    pub fn new(config: &Config) -> SecurityTable {
        let optional = TlsPolicy::new(false, Verify::None);
        let required = TlsPolicy::new(true, Verify::None);
        let security = |s: &OutboundSecurity| Security {
            tls: if s.tls { required.clone() } else { optional.clone() },
            auth: (s.auth == AuthMode::Basic)
                .then(|| Credentials { username: s.username.clone(), password: s.password.clone() }),
            allow_plaintext_auth: s.allow_plaintext_auth,
        };
        let mut table = SecurityTable {
            site: security(&config.delivery.outbound_security),
            exact: HashMap::new(),
            wildcards: HashMap::new(),
        };
        for domain in config.domains.iter().filter(|d| d.kind == DomainKind::Remote) {
            let Some(own) = &domain.outbound_security else { continue };
            let name = domain.name.to_ascii_lowercase();
            match name.strip_prefix('*') {
                Some(suffix) => table.wildcards.insert(suffix.to_string(), security(own)),
                None => table.exact.insert(name, security(own)),
            };
        }
        table
    }

    /// The policy for mail to `domain`, with the name of the entry it comes from (`None`:
    /// the site policy).
    pub fn lookup(&self, domain: &str) -> (&Security, Option<String>) {
        let domain = domain.to_ascii_lowercase();
        if let Some(security) = self.exact.get(&domain) {
            return (security, Some(domain));
        }
        let wildcard = domain.match_indices('.').find_map(|(at, _)| {
            let suffix = &domain[at..];
            self.wildcards.get(suffix).map(|security| (security, Some(format!("*{suffix}"))))
        });
        wildcard.unwrap_or((&self.site, None))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exact_then_longest_wildcard_then_site() {
        let config = crate::config::parse(
            "[delivery.outbound_security]\nauth = \"basic\"\nusername = \"site\"\n\
             [[domain]]\nname = \"a.example\"\nkind = \"remote\"\noutbound_security = { tls = true }\n\
             [[domain]]\nname = \"*.example\"\nkind = \"remote\"\noutbound_security = { username = \"wild\" }\n\
             [[domain]]\nname = \"*.b.example\"\nkind = \"remote\"\n\
             outbound_security = { auth = \"anonymous\", allow_plaintext_auth = true }\n",
        )
        .unwrap();
        let table = SecurityTable::new(&config);
        let user = |s: &Security| s.auth.as_ref().map(|c| c.username.clone());
        let (s, key) = table.lookup("A.example");
        assert_eq!((s.tls.required, user(s), key.as_deref()), (true, Some("site".into()), Some("a.example")));
        let (s, key) = table.lookup("x.a.example");
        assert_eq!((s.tls.required, user(s), key.as_deref()), (false, Some("wild".into()), Some("*.example")));
        let (s, key) = table.lookup("x.b.example");
        assert_eq!((user(s), s.allow_plaintext_auth, key.as_deref()), (None, true, Some("*.b.example")));
        let (s, key) = table.lookup("other.test");
        assert_eq!((s.tls.required, user(s), key), (false, Some("site".into()), None));
    }
}
