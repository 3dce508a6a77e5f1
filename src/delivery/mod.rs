//! The pure (no IO) decisions of outbound delivery: where mail goes, when it is retried, and
//! the delivery status notifications sent back to the sender.
//!
//! # Layout
//!
//! - [`route`]  route domains, smart host and MX: the hop(s) for a recipient domain and its key.
//! - [`retry`]  the retry schedule: next attempt, give-up, delay notification.
//! - [`dsn`]    RFC 3464 delivery status notifications (failed and delayed).

pub mod dsn;
pub mod retry;
pub mod route;
