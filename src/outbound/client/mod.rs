//! The outbound SMTP client: a pure reply parser, EHLO capabilities and transaction rules, and
//! the glommio connection (STARTTLS, AUTH) that drives them.

mod auth;
mod conn;
mod ehlo;
mod error;
mod plan;
mod reply;
mod security;
mod stream;
#[cfg(test)]
mod tests;

pub use conn::{ClientConfig, SmtpClient};
pub use ehlo::Capabilities;
pub use error::{ClientError, Stage};
pub use plan::{Delivery, Outgoing, RcptOutcome};
pub use reply::{parse_status, reply_text, ReplyError, ReplyParser, MAX_LINE, MAX_LINES, MAX_REPLY_BYTES};
pub use security::{Credentials, Security, TlsPolicy, Verify};
#[cfg(test)]
mod fake;
#[cfg(test)]
mod tests_conn;
#[cfg(test)]
mod tests_tls;
