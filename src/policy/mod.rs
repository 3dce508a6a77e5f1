//! Pure access decisions: IP/CIDR lists and who may relay.

mod ipnet;

pub use ipnet::{IpList, IpNet};
