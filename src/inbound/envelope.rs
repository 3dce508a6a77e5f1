//! MAIL FROM and RCPT TO: the envelope of a transaction, size and relay checks.

use super::session::{bad_sequence, Session, Step};
use crate::admin::metrics::Reject;
use crate::policy::{is_routing_local_part, relay_verdict, ClientName, DomainClass, Verdict};
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

    pub(super) fn rcpt(&mut self, to: Address) -> Step {
        let Some(tx) = self.tx.as_ref() else {
            return Step::Reply(bad_sequence("Need MAIL command"));
        };
        if tx.bdat_started {
            return Step::Reply(bad_sequence("RCPT not allowed after BDAT"));
        }
        if tx.rcpts.len() >= self.vs.limits.max_recipients as usize {
            self.vs.counters().reject(Reject::Recipients);
            return Step::Reply(Reply::new(452, Status(4, 5, 3), "Too many recipients"));
        }
        if !to.is_ascii() && !tx.params.smtputf8 {
            return Step::Reply(must_use_smtputf8());
        }
        let domain = to.domain.clone().unwrap_or_else(|| self.vs.default_domain.clone());
        let class = self.vs.domains.classify(&domain);
        let routing = class != DomainClass::Remote && is_routing_local_part(&to.local);
        if class == DomainClass::Local && routing {
            self.vs.counters().reject(Reject::AddressForm);
            tracing::info!(virtual_server = %self.vs.name, client = %self.peer, rcpt = %to.to_text(),
                "recipient refused: routing characters in a local part");
            let text = format!("Address form not accepted (no percent hack, bang path or quoted @) <{}>", to.to_text());
            return Step::Reply(Reply::new(550, Status(5, 7, 1), text));
        }
        // A relay-allowed domain takes mail from anyone, but not sender-specified routing
        // (`user%far@partner`): the next hop could act on it, so that needs relay permission.
        if class == DomainClass::Remote || routing {
            let authenticated = self.auth_user.is_some();
            match relay_verdict(&self.vs.relay, self.peer, self.client_name.as_ref(), authenticated) {
                Verdict::Allow => {}
                Verdict::NeedName => return Step::Lookup,
                Verdict::Deny(reason) => {
                    self.vs.counters().reject(Reject::Relay);
                    let name = self.client_name.as_ref().and_then(ClientName::confirmed).unwrap_or("-");
                    tracing::info!(virtual_server = %self.vs.name, client = %self.peer, name, rcpt = %to.to_text(),
                        reason = ?reason, "relaying denied");
                    let text = format!("Relaying denied for <{}>", to.to_text());
                    return Step::Reply(Reply::new(550, Status(5, 7, 1), text));
                }
            }
        }
        let addr = self.stamp(to);
        let rcpts = &mut self.tx.as_mut().expect("checked above").rcpts;
        // A recipient given twice gets one copy (domains compare without case).
        if !rcpts.iter().any(|r| same_mailbox(r, &addr)) {
            rcpts.push(addr);
        }
        Step::Reply(Reply::new(250, Status(2, 1, 5), "Recipient OK"))
    }

    /// `local@domain`, with the default domain for an address without one.
    fn stamp(&self, mut addr: Address) -> String {
        if addr.domain.is_none() {
            addr.domain = Some(self.vs.default_domain.clone());
        }
        addr.to_text()
    }
}

/// Whether two `local@domain` addresses name the same mailbox: the local part exactly (RFC
/// 5321 §2.4: it may be case-sensitive), the domain without regard to case.
fn same_mailbox(a: &str, b: &str) -> bool {
    match (a.rsplit_once('@'), b.rsplit_once('@')) {
        (Some((la, da)), Some((lb, db))) => la == lb && da.eq_ignore_ascii_case(db),
        _ => a == b,
    }
}

fn must_use_smtputf8() -> Reply {
    Reply::new(553, Status(5, 6, 7), "Non-ASCII address requires SMTPUTF8")
}
