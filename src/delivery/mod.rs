//! The pure (no IO) decisions of outbound delivery: where mail goes, when it is retried, and
//! the delivery status notifications sent back to the sender.
//!
//! # Layout
//!
//! - [`route`]  route domains, smart host and MX: the hop(s) for a recipient domain and its key.
//! - [`retry`]  the retry schedule: next attempt, give-up, delay notification.

pub mod retry;
pub mod route;
