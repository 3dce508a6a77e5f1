//! The configuration contract of DESIGN §1: resolved types with defaults applied.
//!
//! `parse` turns TOML text into a [`Config`] or a list of every problem found, each with the
//! key path (`limits.max_message_size`, `virtual_server[1].bind[0]`) and the reason.

mod connector;
mod host;
mod reader;
mod resolve;
mod security;
mod stage;
mod units;
mod validate;

#[cfg(test)]
mod tests;

use std::fmt;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use crate::policy::ClientList;

/// The whole, validated configuration. Every default is already applied.
#[derive(Debug, Clone, PartialEq)]
pub struct Config {
    pub server: Server,
    /// At least one. Each carries its effective (site merged with override) settings.
    pub virtual_servers: Vec<VirtualServer>,
    pub delivery: Delivery,
    /// `[[domain]]` entries, in file order.
    pub domains: Vec<Domain>,
    /// `[[connector]]` entries, in file order.
    pub connectors: Vec<Connector>,
    pub admin: Admin,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Server {
    /// Default: the host name.
    pub fqdn: String,
    /// Default: `localhost`.
    pub default_domain: String,
    pub data_dir: PathBuf,
    /// Resolved: never 0 (0 in the file means one per online CPU).
    pub shards: usize,
    /// `data_dir/spool` unless set.
    pub spool_dir: PathBuf,
    /// `data_dir/drop` unless set.
    pub drop_dir: PathBuf,
    /// `data_dir/pickup` unless set.
    pub pickup_dir: PathBuf,
    /// `data_dir/badmail` unless set.
    pub badmail_dir: PathBuf,
    /// `data_dir/log` unless set.
    pub log_dir: PathBuf,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum VsState {
    Started,
    Paused,
    Stopped,
}

#[derive(Debug, Clone, PartialEq)]
pub struct VirtualServer {
    pub name: String,
    pub bind: Vec<SocketAddr>,
    pub state: VsState,
    /// The virtual server's own default domain, else `server.default_domain`.
    pub default_domain: String,
    /// Site `[limits]` with this server's overrides applied key by key.
    pub limits: Limits,
    /// Site `[relay]` with this server's overrides applied key by key.
    pub relay: Relay,
    /// Site `[access]` with this server's overrides applied key by key.
    pub access: Access,
    /// Site `[tls]` with this server's overrides applied key by key.
    pub tls: Tls,
    /// Site `[auth]` with this server's overrides applied key by key.
    pub auth: Auth,
}

/// Inbound STARTTLS (`[tls]`).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Tls {
    /// PEM certificate chain; STARTTLS is offered only when it and `key` are set (both or
    /// neither; checked to load at start).
    pub certificate: Option<PathBuf>,
    /// PEM private key (PKCS#8, PKCS#1 or SEC1).
    pub key: Option<PathBuf>,
    /// Every command but EHLO, HELO, NOOP, RSET, QUIT and STARTTLS gets `530 5.7.0` before TLS.
    pub require: bool,
}

/// Inbound authentication (`[auth]`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Auth {
    /// `false`: MAIL needs a successful AUTH first (`530 5.7.0`).
    pub anonymous: bool,
    /// AUTH PLAIN and LOGIN; offered only when `users` is set.
    pub basic: bool,
    /// The users file (`[[user]] name, hash`), checked to parse at start.
    pub users: Option<PathBuf>,
    /// AUTH is neither offered nor accepted (`538 5.7.11`) before STARTTLS.
    pub require_tls_for_basic: bool,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Limits {
    /// 0 = unlimited.
    pub inbound_connections: u32,
    pub connection_timeout: Duration,
    /// Bytes.
    pub max_message_size: u64,
    /// Bytes.
    pub max_session_size: u64,
    pub max_recipients: u32,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ListMode {
    /// Only the listed clients are allowed.
    Only,
    /// Everyone but the listed clients is allowed.
    AllExcept,
}

/// `[relay]`: who may relay to domains that are neither local nor open to relay.
#[derive(Debug, Clone, PartialEq)]
pub struct Relay {
    pub mode: ListMode,
    pub list: ClientList,
    pub allow_authenticated: bool,
}

/// `[access]`: who may connect at all.
#[derive(Debug, Clone, PartialEq)]
pub struct Access {
    pub mode: ListMode,
    pub list: ClientList,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Delivery {
    pub outbound_connections: u32,
    pub connections_per_domain: u32,
    /// 0 = unlimited.
    pub messages_per_connection: u32,
    pub retry_intervals: Vec<Duration>,
    pub subsequent_retry_interval: Duration,
    pub max_retries: u32,
    pub delay_notification: Duration,
    pub expiration: Duration,
    pub max_hop_count: u32,
    pub masquerade_domain: String,
    pub smart_host: String,
    pub attempt_direct_before_smart_host: bool,
    pub reverse_dns_lookup: bool,
    pub ndr_copy_to: String,
    pub dns_servers: Vec<SocketAddr>,
    pub remote_port: u16,
    /// `[delivery.outbound_security]`: the site-wide policy.
    pub outbound_security: OutboundSecurity,
}

/// How tern authenticates to remote servers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AuthMode {
    /// No `AUTH`.
    Anonymous,
    /// `AUTH PLAIN` (or `LOGIN`) with `username` and `password`.
    Basic,
}

/// Outbound STARTTLS and AUTH: `[delivery.outbound_security]`, or a remote domain's
/// `outbound_security` (the site values with the domain's keys replaced, key by key).
/// Its `Debug` output hides the password.
#[derive(Clone, PartialEq, Eq)]
pub struct OutboundSecurity {
    pub auth: AuthMode,
    /// Non-empty when `auth` is `Basic`.
    pub username: String,
    pub password: String,
    /// STARTTLS is required: a remote without it gets no mail, the sender an NDR.
    pub tls: bool,
    /// Lets `AUTH` run without TLS (by default credentials are only sent over TLS).
    pub allow_plaintext_auth: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DomainKind {
    Local,
    Alias,
    Remote,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Domain {
    /// Lower case; remote names may start with `*.`.
    pub name: String,
    pub kind: DomainKind,
    pub allow_relay: bool,
    /// Route domain (remote only): `host`, `host:port`, `[IP]` or `[IP]:port`, lower-cased.
    /// Overrides `delivery.smart_host` for this domain.
    pub route_to: Option<String>,
    /// Remote only: the effective policy (site values with this entry's keys replaced) when
    /// the entry has `outbound_security`; `None` uses the site policy.
    pub outbound_security: Option<OutboundSecurity>,
}

/// An Exchange-style SMTP connector (spec 004): mail for its address spaces leaves through it.
#[derive(Debug, Clone, PartialEq)]
pub struct Connector {
    /// Unique among connectors.
    pub name: String,
    /// `(domain, cost)`, in file order: the domain is a lower-case name, a `*.` wildcard or
    /// `*` (every domain); the cost is 1..=100, lowest first.
    pub address_spaces: Vec<(String, u8)>,
    pub target: ConnectorTarget,
    /// Mail from anyone may be relayed to the address spaces (never with `*`).
    pub allow_relay: bool,
}

/// Where a connector sends its mail.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ConnectorTarget {
    /// These relays, in order: `host`, `host:port`, `[IP]` or `[IP]:port`, lower-cased.
    SmartHosts(Vec<String>),
    /// The MX of each recipient domain (`use_dns = true`).
    Dns,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Admin {
    /// `None` when `listen = ""` (admin endpoint off).
    pub listen: Option<SocketAddr>,
}

impl fmt::Debug for OutboundSecurity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let password = if self.password.is_empty() { "" } else { "<hidden>" };
        f.debug_struct("OutboundSecurity")
            .field("auth", &self.auth)
            .field("username", &self.username)
            .field("password", &password)
            .field("tls", &self.tls)
            .field("allow_plaintext_auth", &self.allow_plaintext_auth)
            .finish()
    }
}

/// One problem in a configuration file.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{path}: {reason}")]
pub struct ConfigError {
    /// Key path, e.g. `virtual_server[0].limits.max_message_size`.
    pub path: String,
    pub reason: String,
}

/// Every problem found in a file, in file order where possible.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigErrors(pub Vec<ConfigError>);

impl fmt::Display for ConfigErrors {
    /// One `path: reason` per line.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, error) in self.0.iter().enumerate() {
            if i > 0 {
                writeln!(f)?;
            }
            write!(f, "{error}")?;
        }
        Ok(())
    }
}

impl std::error::Error for ConfigErrors {}

pub use resolve::DEFAULT_VS_NAME;
pub use stage::NOT_SUPPORTED;
pub use units::{parse_duration, parse_size};
pub(crate) use validate::domain_name;

/// The configuration `tern serve` runs without `--config` (DESIGN §1).
pub const EMBEDDED_DEFAULT: &str = include_str!("default.toml");

/// Parses and validates TOML text.
pub fn parse(text: &str) -> Result<Config, ConfigErrors> {
    parse_with(text, NOT_SUPPORTED)
}

/// [`parse`] with a given list of refused keys (tests use it to exercise later-stage keys).
fn parse_with(text: &str, not_supported: &[&str]) -> Result<Config, ConfigErrors> {
    let table: toml::Table = toml::from_str(text).map_err(|e| syntax_error(text, &e))?;
    let errors = reader::Errors::default();
    let config = {
        let mut root = reader::Section::root(&table, &errors, not_supported);
        resolve::config(&mut root)
    };
    let errors = errors.into_vec();
    if errors.is_empty() {
        Ok(config)
    } else {
        Err(ConfigErrors(errors))
    }
}

/// A TOML syntax error as one error at `<toml>`, with the line and column.
fn syntax_error(text: &str, error: &toml::de::Error) -> ConfigErrors {
    let message = error.message().trim();
    let reason = match error.span() {
        Some(span) => {
            let before = &text[..span.start.min(text.len())];
            let line = before.matches('\n').count() + 1;
            let column = before.len() - before.rfind('\n').map_or(0, |i| i + 1) + 1;
            format!("line {line}, column {column}: {message}")
        }
        None => message.to_string(),
    };
    ConfigErrors(vec![ConfigError { path: "<toml>".into(), reason }])
}

/// Reads and parses a file; an unreadable file is one error with path `<file>`.
pub fn load(path: &std::path::Path) -> Result<Config, ConfigErrors> {
    let text = std::fs::read_to_string(path).map_err(|e| {
        ConfigErrors(vec![ConfigError {
            path: "<file>".into(),
            reason: format!("cannot read {}: {e}", path.display()),
        }])
    })?;
    parse(&text)
}
