//! Shard start-up, per-shard state, signals and shutdown.
