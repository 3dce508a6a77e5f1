//! DNS for delivery: MX ordering (pure), a per-shard resolver with a TTL cache, and a test responder.
//!
//! - [`mx`]        pure MX ordering: preference, random order within a preference, null MX.
//! - [`resolver`]  the shard's stub resolver over glommio UDP (TCP on truncation).
//! - `cache`       the shard's answer cache, honouring TTLs and negative TTLs.
//! - `transport`   one exchange with one server: UDP, then TCP on truncation.
//! - `wire`        hickory-proto glue: queries, reply checks, answer classification.
//! - [`responder`] an authoritative responder on std threads for tests and the load generator,
//!   answering from a [`Zone`].

pub mod mx;
pub mod resolver;
pub mod responder;

mod cache;
mod transport;
mod wire;
mod zone;

pub use resolver::{servers_from_resolv_conf, Resolver};
pub use responder::Responder;
pub use zone::Zone;

use std::net::IpAddr;

/// One delivery target: an exchanger (or the domain itself) with its addresses.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Target {
    /// Host name, lower-cased, without the trailing dot.
    pub host: String,
    /// MX preference; 0 for the implicit MX (the domain's own address records).
    pub preference: u16,
    /// IPv4 addresses first, then IPv6.
    pub addrs: Vec<IpAddr>,
}

/// Why a lookup gave no usable answer.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DnsError {
    /// The domain publishes a null MX (RFC 7505): it accepts no mail. Permanent.
    #[error("{0} does not accept mail (null MX)")]
    NullMx(String),
    /// The name does not exist (NXDOMAIN). Permanent.
    #[error("{0}: no such domain")]
    NoSuchDomain(String),
    /// The name exists but has neither MX nor address records. Permanent.
    #[error("{0} has no MX or address records")]
    NoAddress(String),
    /// The text is not a valid domain name. Permanent.
    #[error("{0:?} is not a valid domain name")]
    InvalidName(String),
    /// SERVFAIL, REFUSED, timeout, network error, or no MX host with an address. Retry later.
    #[error("temporary DNS failure: {0}")]
    Temporary(String),
}

impl DnsError {
    /// True when retrying cannot help: the message should be bounced.
    pub fn is_permanent(&self) -> bool {
        !matches!(self, DnsError::Temporary(_))
    }

    /// The RFC 3463 enhanced status code for a DSN or log line.
    pub fn enhanced_status(&self) -> &'static str {
        match self {
            DnsError::NullMx(_) => "5.1.10",
            DnsError::NoSuchDomain(_) | DnsError::InvalidName(_) => "5.1.2",
            DnsError::NoAddress(_) => "5.4.4",
            DnsError::Temporary(_) => "4.4.3",
        }
    }
}

#[cfg(test)]
mod tests;
