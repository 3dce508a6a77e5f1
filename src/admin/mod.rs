//! The admin HTTP endpoint (`/metrics`) and the metrics registry.
