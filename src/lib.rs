//! tern: a thread-per-core, io_uring mail transfer agent for high-volume bulk relay.
//!
//! # Layout
//!
//! The folders follow the mail flow (see `docs/ARCHITECTURE.md` for the full map):
//!
//! - [`config`]   the TOML contract: types, defaults, human sizes/durations, validation with key paths.
//! - [`proto`]    pure SMTP core: command parser, reply encoder, DATA scanner, dot-stuffing, headers.
//! - [`policy`]   pure access decisions: IP/CIDR lists, relay permission.
//! - [`inbound`]  the SMTP server side: session state machine, connection IO glue, listeners.
//! - [`spool`]    the durable, sharded queue: record codec, segment files, group commit, recovery.
//! - [`dns`]      MX ordering (pure), the per-shard resolver and cache, the test DNS responder.
//! - [`outbound`] the delivery engine: SMTP client, per-destination pools, retries, DSNs.
//! - [`local`]    local delivery: the Drop directory.
//! - [`delivery`] pure outbound decisions: routes, the retry schedule, delivery status notifications.
//! - [`runtime`]  shard (executor) start-up, per-shard state, signals and shutdown.
//! - [`admin`]    the admin HTTP endpoint and the metrics registry.
//! - [`security`] inbound STARTTLS certificates and the AUTH users file, reloadable on SIGHUP.

pub mod admin;
pub mod config;
pub mod delivery;
pub mod dns;
pub mod inbound;
pub mod local;
pub mod outbound;
pub mod policy;
pub mod proto;
pub mod runtime;
pub mod security;
pub mod spool;
