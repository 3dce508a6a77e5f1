//! Outbound delivery: the SMTP client that hands messages to remote servers.

pub mod client;
