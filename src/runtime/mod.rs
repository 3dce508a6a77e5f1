//! Shard start-up, signals and shutdown: one glommio executor pinned to each core, each with
//! its own spool shard, listeners and sessions.

pub mod mesh;
#[cfg(test)]
mod mesh_tests;
mod reload;
mod shard;
mod socket;
mod start;

pub use shard::Shard;
pub use socket::listener;
pub use start::{run, RuntimeError};
