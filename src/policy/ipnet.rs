//! IP addresses and CIDR ranges (v4 and v6) and lists of them.

use std::net::IpAddr;

/// One list entry: a single address (`/32`, `/128`) or a CIDR range.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct IpNet {
    pub addr: IpAddr,
    pub prefix: u8,
}

impl IpNet {
    /// Parses `192.0.2.5`, `10.0.0.0/8`, `::1`, `2001:db8::/32`. Host bits must be zero.
    pub fn parse(text: &str) -> Result<IpNet, String> {
        let (addr, prefix) = match text.split_once('/') {
            Some((addr, prefix)) => (addr, Some(prefix)),
            None => (text, None),
        };
        let addr: IpAddr = addr.parse().map_err(|_| {
            format!(
                "expected an IP address or CIDR range, e.g. \"192.0.2.5\", \"10.0.0.0/8\", \
                 \"2001:db8::/32\", got {text:?}"
            )
        })?;
        let max = max_prefix(addr);
        let prefix = match prefix {
            None => max,
            Some(p) => p
                .parse::<u8>()
                .ok()
                .filter(|n| p.bytes().all(|b| b.is_ascii_digit()) && *n <= max)
                .ok_or_else(|| format!("{text:?}: the prefix length must be 0 to {max}"))?,
        };
        if masked(bits(addr), prefix) != bits(addr) {
            return Err(format!("{text:?}: host bits are set after /{prefix}"));
        }
        Ok(IpNet { addr, prefix })
    }

    /// True when `ip` is inside this range. An IPv4-mapped IPv6 client (`::ffff:a.b.c.d`)
    /// matches IPv4 entries.
    pub fn contains(&self, ip: IpAddr) -> bool {
        let (net, prefix) = self.canonical();
        let ip = ip.to_canonical();
        net.is_ipv4() == ip.is_ipv4() && masked(bits(ip), prefix) == bits(net)
    }

    /// An IPv4-mapped IPv6 entry (`::ffff:10.0.0.0/104`) as the IPv4 range it stands for.
    fn canonical(&self) -> (IpAddr, u8) {
        match self.addr.to_canonical() {
            v4 @ IpAddr::V4(_) if self.addr.is_ipv6() && self.prefix >= 96 => (v4, self.prefix - 96),
            _ => (self.addr, self.prefix),
        }
    }
}

fn max_prefix(addr: IpAddr) -> u8 {
    if addr.is_ipv4() {
        32
    } else {
        128
    }
}

/// The address as a 128-bit number, left-aligned so that prefixes line up for v4 and v6.
fn bits(addr: IpAddr) -> u128 {
    match addr {
        IpAddr::V4(a) => u128::from(u32::from(a)) << 96,
        IpAddr::V6(a) => u128::from(a),
    }
}

/// `value` (from [`bits`]) with every bit after the first `prefix` cleared.
fn masked(value: u128, prefix: u8) -> u128 {
    value & u128::MAX.checked_shl(128 - u32::from(prefix)).unwrap_or(0)
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct IpList(pub Vec<IpNet>);

impl IpList {
    pub fn contains(&self, ip: IpAddr) -> bool {
        self.0.iter().any(|n| n.contains(ip))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parse_table() {
        let ok: &[(&str, &str, u8)] = &[
            ("192.0.2.5", "192.0.2.5", 32),
            ("10.0.0.0/8", "10.0.0.0", 8),
            ("0.0.0.0/0", "0.0.0.0", 0),
            ("192.0.2.5/32", "192.0.2.5", 32),
            ("::1", "::1", 128),
            ("2001:db8::/32", "2001:db8::", 32),
            ("::/0", "::", 0),
            ("::ffff:127.0.0.1", "::ffff:127.0.0.1", 128),
        ];
        for (text, addr, prefix) in ok {
            let net = IpNet::parse(text).unwrap_or_else(|e| panic!("{text}: {e}"));
            assert_eq!(net, IpNet { addr: addr.parse().unwrap(), prefix: *prefix }, "{text}");
        }
        let bad: &[(&str, &str)] = &[
            ("", "expected an IP address"),
            ("example.com", "expected an IP address"),
            ("10.0.0/8", "expected an IP address"),
            ("10.0.0.1/8", "host bits"),
            ("192.0.3.0/23", "host bits"),
            ("2001:db8::1/32", "host bits"),
            ("10.0.0.0/33", "0 to 32"),
            ("::/129", "0 to 128"),
            ("10.0.0.0/", "0 to 32"),
            ("10.0.0.0/+8", "0 to 32"),
            ("10.0.0.0/x", "0 to 32"),
        ];
        for (text, reason) in bad {
            let err = IpNet::parse(text).expect_err(text);
            assert!(err.contains(reason), "{text}: {err}");
        }
    }

    #[test]
    fn contains_table() {
        let cases: &[(&str, &str, bool)] = &[
            ("127.0.0.1", "127.0.0.1", true),
            ("127.0.0.1", "127.0.0.2", false),
            ("127.0.0.0/8", "127.255.0.9", true),
            ("127.0.0.0/8", "128.0.0.1", false),
            ("127.0.0.0/8", "::ffff:127.0.0.1", true),
            ("127.0.0.1", "::ffff:127.0.0.1", true),
            ("127.0.0.0/8", "::1", false),
            ("10.0.0.0/8", "::ffff:11.0.0.1", false),
            ("0.0.0.0/0", "203.0.113.9", true),
            ("0.0.0.0/0", "::ffff:203.0.113.9", true),
            ("0.0.0.0/0", "2001:db8::1", false),
            ("::/0", "2001:db8::1", true),
            ("::/0", "203.0.113.9", false),
            ("::1", "::1", true),
            ("::1", "::2", false),
            ("2001:db8::/32", "2001:db8:ffff::1", true),
            ("2001:db8::/32", "2001:db9::1", false),
            ("::ffff:127.0.0.1", "127.0.0.1", true),
            ("::ffff:10.0.0.0/104", "10.1.2.3", true),
            ("::ffff:10.0.0.0/104", "11.1.2.3", false),
        ];
        for (net, ip, want) in cases {
            let net = IpNet::parse(net).unwrap();
            assert_eq!(net.contains(ip.parse().unwrap()), *want, "{net:?} contains {ip}");
        }
    }

    #[test]
    fn list_matches_any_entry() {
        let list = IpList(vec![IpNet::parse("10.0.0.0/8").unwrap(), IpNet::parse("::1").unwrap()]);
        assert!(list.contains("10.9.9.9".parse().unwrap()));
        assert!(list.contains("::1".parse().unwrap()));
        assert!(!list.contains("192.0.2.1".parse().unwrap()));
        assert!(!IpList::default().contains("10.0.0.1".parse().unwrap()));
    }
}
