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
        let _ = text;
        todo!("config helper")
    }

    /// True when `ip` is inside this range. An IPv4-mapped IPv6 client (`::ffff:a.b.c.d`)
    /// matches IPv4 entries.
    pub fn contains(&self, ip: IpAddr) -> bool {
        let _ = ip;
        todo!("config helper")
    }
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct IpList(pub Vec<IpNet>);

impl IpList {
    pub fn contains(&self, ip: IpAddr) -> bool {
        self.0.iter().any(|n| n.contains(ip))
    }
}
