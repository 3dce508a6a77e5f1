//! The SMTP server side: the per-virtual-server context, the session state machine (pure:
//! command lines in, replies and steps out), the connection IO glue and the listeners.

mod conn;
mod context;
mod envelope;
mod listener;
mod message;
mod rdns;
mod received;
mod session;
#[cfg(test)]
mod session_tests;

pub use context::VsContext;
pub use listener::listen;
pub use message::{FLAG_8BITMIME, FLAG_SMTPUTF8};
pub use received::received_header;
pub use session::{Session, Step};
