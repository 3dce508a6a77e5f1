//! Outbound delivery: the SMTP client, the owner side (per-destination queues and connection
//! pools with exact limits), the home side (dispatch, results, retries, DSNs), and counters.

mod cap;
pub mod client;
mod engine;
mod home;
mod job;
mod notify;
mod pool;
mod security;
pub mod stats;

pub use cap::GlobalCap;
pub use engine::{Outbound, Parts};
pub use job::{Job, JobResult, Outcome};
pub use notify::Submit;
