//! The outbound SMTP client: a pure reply parser, EHLO capabilities and transaction rules, and
//! the glommio connection that drives them.

mod conn;
mod ehlo;
mod error;
mod plan;
mod reply;
#[cfg(test)]
mod tests;

pub use conn::{ClientConfig, SmtpClient};
pub use ehlo::Capabilities;
pub use error::{ClientError, Stage};
pub use plan::{Delivery, Outgoing, RcptOutcome};
pub use reply::{parse_status, reply_text, ReplyError, ReplyParser, MAX_LINE, MAX_LINES, MAX_REPLY_BYTES};
#[cfg(test)]
mod fake;
#[cfg(test)]
mod tests_conn;
