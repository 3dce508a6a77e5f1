//! MAIL FROM and RCPT TO: the envelope of a transaction, size and relay checks.

use super::session::{bad_sequence, Session};
use crate::admin::metrics::Reject;
use crate::policy::{relay_permits, DomainClass};
use crate::proto::address::{Address, MailParams, ReversePath};
use crate::proto::reply::{Reply, Status};

/// The open mail transaction (after MAIL FROM).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Transaction {
    /// Empty for the null reverse-path.
    pub from: String,
    pub params: MailParams,
    /// Accepted recipients as `local@domain` (a domain-less address stamped with the default
    /// domain).
    pub rcpts: Vec<String>,
    /// A BDAT chunk was accepted: DATA, MAIL and RCPT are out of sequence now.
    pub bdat_started: bool,
}

impl Session {
    pub(super) fn mail(&mut self, from: ReversePath, params: MailParams) -> Reply {
        if self.helo.is_none() {
            return bad_sequence("Send EHLO or HELO first");
        }
        if self.tx.is_some() {
            return bad_sequence("Nested MAIL command");
        }
        let limit = self.vs.limits.max_message_size;
        if params.size.is_some_and(|size| size > limit) {
            self.vs.counters().reject(Reject::Size);
            return Reply::new(552, Status(5, 3, 4), format!("Message size exceeds fixed limit of {limit} bytes"));
        }
        let from = match from {
            ReversePath::Null => String::new(),
            ReversePath::Mailbox(addr) => {
                if !addr.is_ascii() && !params.smtputf8 {
                    return must_use_smtputf8();
                }
                self.stamp(addr)
            }
        };
        self.tx = Some(Transaction { from, params, rcpts: Vec::new(), bdat_started: false });
        Reply::new(250, Status(2, 1, 0), "Sender OK")
    }

    pub(super) fn rcpt(&mut self, to: Address) -> Reply {
        let Some(tx) = self.tx.as_ref() else {
            return bad_sequence("Need MAIL command");
        };
        if tx.bdat_started {
            return bad_sequence("RCPT not allowed after BDAT");
        }
        if tx.rcpts.len() >= self.vs.limits.max_recipients as usize {
            self.vs.counters().reject(Reject::Recipients);
            return Reply::new(452, Status(4, 5, 3), "Too many recipients");
        }
        if !to.is_ascii() && !tx.params.smtputf8 {
            return must_use_smtputf8();
        }
        let domain = to.domain.clone().unwrap_or_else(|| self.vs.default_domain.clone());
        let class = self.vs.domains.classify(&domain);
        if class == DomainClass::Remote && !relay_permits(&self.vs.relay, self.peer) {
            self.vs.counters().reject(Reject::Relay);
            return Reply::new(550, Status(5, 7, 1), format!("Relaying denied for <{}>", to.to_text()));
        }
        let addr = self.stamp(to);
        self.tx.as_mut().expect("checked above").rcpts.push(addr);
        Reply::new(250, Status(2, 1, 5), "Recipient OK")
    }

    /// `local@domain`, with the default domain for an address without one.
    fn stamp(&self, mut addr: Address) -> String {
        if addr.domain.is_none() {
            addr.domain = Some(self.vs.default_domain.clone());
        }
        addr.to_text()
    }
}

fn must_use_smtputf8() -> Reply {
    Reply::new(553, Status(5, 6, 7), "Non-ASCII address requires SMTPUTF8")
}
