//! The SMTP server side: the per-virtual-server context, the session state machine (pure:
//! command lines in, replies and steps out), the connection IO glue and the listeners.

mod auth;
mod conn;
mod context;
mod envelope;
mod listener;
mod message;
mod rdns;
mod received;
#[cfg(test)]
mod security_tests;
mod session;
#[cfg(test)]
mod session_tests;
mod stream;

pub use context::{VsContext, VsSecurity};
pub use listener::listen;
pub use message::{FLAG_8BITMIME, FLAG_SMTPUTF8};
pub use received::received_header;
pub use session::{Session, Step, TlsInfo};
