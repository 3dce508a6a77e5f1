//! `tern-loadgen` as a library: the SMTP load generator (`send`), the recording sink with fault
//! injection (`sink`), the self-contained benchmark (`bench`) and its pure verifier, tuning rule
//! and report, so tests can drive each piece directly.

pub mod bench;
pub mod conn;
pub mod drive;
pub mod message;
pub mod plot;
pub mod proto;
pub mod report;
pub mod scrape;
pub mod send;
pub mod sink;
pub mod stream;
pub mod tune;
pub mod verify;
