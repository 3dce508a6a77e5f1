//! The pure part of one mail transaction: the commands to send and what each reply means for
//! each recipient.

use std::io::Write;

use super::ehlo::Capabilities;
use crate::proto::reply::{Reply, Status};

/// One message to send on a connection.
#[derive(Debug, Clone, Copy)]
pub struct Outgoing<'a> {
    /// The reverse path without brackets; empty for the null path `<>`.
    pub reverse_path: &'a str,
    /// Forward paths without brackets, in the order of [`Delivery::recipients`].
    pub recipients: &'a [&'a str],
    /// Wire form: CRLF line ends, already dot-stuffed, without the final `.\r\n`.
    pub body: &'a [u8],
    /// The body has 8-bit content (`BODY=8BITMIME` is sent when the server offers it).
    pub eight_bit: bool,
    /// The envelope or headers need SMTPUTF8 (RFC 6531).
    pub smtputf8: bool,
}

/// What became of one recipient.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RcptOutcome {
    /// The server took responsibility for the message for this recipient.
    Delivered,
    /// A 4xx (or an unexpected reply) to MAIL, RCPT, DATA or the end of data: retry later.
    Temporary(Reply),
    /// A 5xx: the recipient fails (NDR), the server's text is the diagnostic.
    Permanent(Reply),
    /// Not attempted: the server has too many recipients for this message (RFC 5321
    /// §4.5.3.1.10). Not a failure: send it again in a new transaction, without NDR.
    NotTried,
}

/// The result of one transaction.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Delivery {
    /// One outcome per [`Outgoing::recipients`] entry, in order.
    pub recipients: Vec<RcptOutcome>,
    /// The server's reply to the end of data, when the body was sent (it often names the queue id).
    pub data_reply: Option<Reply>,
}

/// A reason to refuse the whole message without sending anything.
pub(super) fn local_refusal(msg: &Outgoing<'_>, caps: &Capabilities) -> Option<Reply> {
    if msg.smtputf8 && !caps.smtputf8 {
        return Some(Reply::new(553, Status(5, 6, 7), "remote server does not offer SMTPUTF8"));
    }
    if has_line_break(msg.reverse_path) {
        return Some(Reply::new(553, Status(5, 1, 7), "reverse path contains a line break"));
    }
    None
}

/// A reason to refuse one recipient without sending it.
pub(super) fn local_rcpt_refusal(rcpt: &str) -> Option<Reply> {
    has_line_break(rcpt).then(|| Reply::new(553, Status(5, 1, 3), "recipient address contains a line break"))
}

fn has_line_break(address: &str) -> bool {
    address.bytes().any(|b| b == b'\r' || b == b'\n')
}

/// Appends `MAIL FROM:<rp>` with the parameters the server offers and the message needs.
pub(super) fn mail_command(out: &mut Vec<u8>, msg: &Outgoing<'_>, caps: &Capabilities) {
    out.extend_from_slice(b"MAIL FROM:<");
    out.extend_from_slice(msg.reverse_path.as_bytes());
    out.push(b'>');
    if caps.size.is_some() {
        write!(out, " SIZE={}", msg.body.len()).expect("writing to a Vec cannot fail");
    }
    if msg.eight_bit && caps.eight_bit_mime {
        out.extend_from_slice(b" BODY=8BITMIME");
    }
    if msg.smtputf8 {
        out.extend_from_slice(b" SMTPUTF8");
    }
    out.extend_from_slice(b"\r\n");
}

pub(super) fn rcpt_command(out: &mut Vec<u8>, rcpt: &str) {
    out.extend_from_slice(b"RCPT TO:<");
    out.extend_from_slice(rcpt.as_bytes());
    out.extend_from_slice(b">\r\n");
}

pub(super) fn is_success(reply: &Reply) -> bool {
    reply.code / 100 == 2
}

/// The outcome a refusal gives: 5xx is permanent, anything else temporary.
pub(super) fn failure(reply: &Reply) -> RcptOutcome {
    if reply.code >= 500 {
        RcptOutcome::Permanent(reply.clone())
    } else {
        RcptOutcome::Temporary(reply.clone())
    }
}

/// Whether a RCPT reply says "too many recipients": `452` without an enhanced code, or `452`/`552`
/// with `x.5.3` (RFC 5321 §4.5.3.1.10 asks to treat the old `552` as temporary). A `452 4.3.1`
/// (no storage) is an ordinary temporary failure.
pub(super) fn too_many_recipients(reply: &Reply) -> bool {
    match reply.status {
        None => reply.code == 452,
        Some(Status(_, 5, 3)) => matches!(reply.code, 452 | 552),
        Some(_) => false,
    }
}

/// Where one recipient stands during the transaction.
#[derive(Debug)]
enum Slot {
    /// Not sent or not answered yet.
    Open,
    /// RCPT accepted; waits for the end of data.
    Accepted,
    Done(RcptOutcome),
}

/// Collects the per-recipient outcomes of one transaction.
#[derive(Debug)]
pub(super) struct Tally {
    slots: Vec<Slot>,
}

impl Tally {
    pub(super) fn new(recipients: usize) -> Tally {
        Tally { slots: (0..recipients).map(|_| Slot::Open).collect() }
    }

    pub(super) fn set(&mut self, i: usize, outcome: RcptOutcome) {
        self.slots[i] = Slot::Done(outcome);
    }

    /// Records the reply to recipient `i`'s RCPT; returns whether it was "too many recipients".
    pub(super) fn rcpt(&mut self, i: usize, reply: &Reply) -> bool {
        if is_success(reply) {
            self.slots[i] = Slot::Accepted;
            return false;
        }
        let too_many = too_many_recipients(reply);
        self.slots[i] = Slot::Done(if too_many { RcptOutcome::NotTried } else { failure(reply) });
        too_many
    }

    /// Whether some recipient was left for another transaction ("too many recipients").
    pub(super) fn any_not_tried(&self) -> bool {
        self.slots.iter().any(|s| matches!(s, Slot::Done(RcptOutcome::NotTried)))
    }

    pub(super) fn accepted(&self) -> usize {
        self.slots.iter().filter(|s| matches!(s, Slot::Accepted)).count()
    }

    /// Gives `outcome` to every recipient not decided yet (MAIL was refused).
    pub(super) fn fail_undecided(&mut self, outcome: &RcptOutcome) {
        for slot in &mut self.slots {
            if matches!(slot, Slot::Open | Slot::Accepted) {
                *slot = Slot::Done(outcome.clone());
            }
        }
    }

    /// Gives `outcome` to the accepted recipients (DATA was refused).
    pub(super) fn settle_accepted(&mut self, outcome: &RcptOutcome) {
        for slot in &mut self.slots {
            if matches!(slot, Slot::Accepted) {
                *slot = Slot::Done(outcome.clone());
            }
        }
    }

    /// Applies the reply to the end of data to the accepted recipients.
    pub(super) fn end_of_data(&mut self, reply: &Reply) {
        let outcome = if is_success(reply) { RcptOutcome::Delivered } else { failure(reply) };
        self.settle_accepted(&outcome);
    }

    /// The result; recipients never answered are [`RcptOutcome::NotTried`].
    pub(super) fn finish(self, data_reply: Option<Reply>) -> Delivery {
        let recipients = self
            .slots
            .into_iter()
            .map(|slot| match slot {
                Slot::Done(outcome) => outcome,
                Slot::Open | Slot::Accepted => RcptOutcome::NotTried,
            })
            .collect();
        Delivery { recipients, data_reply }
    }
}
