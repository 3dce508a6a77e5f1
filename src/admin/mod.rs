//! The admin HTTP endpoint (`GET /metrics`) and the metrics registry it renders.

mod http;
pub mod metrics;

pub use http::serve;
