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
//! - [`local`]    local delivery: the Drop directory.
//! - [`outbound`] remote delivery: the SMTP client (pipelining, per-recipient outcomes).
//! - [`runtime`]  shard (executor) start-up, per-shard state, signals and shutdown.
//! - [`admin`]    the admin HTTP endpoint and the metrics registry.

pub mod admin;
pub mod config;
pub mod inbound;
pub mod local;
pub mod outbound;
pub mod policy;
pub mod proto;
pub mod runtime;
pub mod spool;
