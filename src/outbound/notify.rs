//! What the home shard does with results: records final recipients in the spool, sends a
//! delivery status notification to the sender (a copy to `ndr_copy_to`) or files a message
//! whose reverse path is `<>` in the Badmail directory, records retry state, and applies the
//! masquerade domain to the outgoing reverse path.

use std::path::PathBuf;
use std::rc::Rc;
use std::sync::atomic::Ordering::Relaxed;

use super::client::parse_status;
use super::job::Outcome;
use super::stats::{unix_now, ShardStats};
use crate::delivery::dsn::{self, Kind, RecipientStatus, Report};
use crate::inbound::FLAG_8BITMIME;
use crate::local::write_atomically;
use crate::policy::{DomainClass, Domains};
use crate::proto::reply::Status;
use crate::spool::{BodyRef, MessageMeta, RetryState, Spool};

/// Stores a new message (a DSN) under a fresh id and routes it like any accepted message.
pub type Submit = Rc<dyn Fn(MessageMeta, Vec<u8>)>;

pub struct Notifier {
    pub spool: Spool,
    pub fqdn: String,
    /// Local domains and the domain that replaces them in an outgoing reverse path.
    pub masquerade: Option<(Domains, String)>,
    pub ndr_copy_to: Option<String>,
    /// `delivery.max_hop_count`: more `Received:` headers than this at relay time bounce.
    pub max_hop_count: u32,
    pub badmail_dir: PathBuf,
    pub stats: Rc<ShardStats>,
    pub submit: Submit,
    /// Fresh message ids of this shard.
    pub ids: Rc<dyn Fn() -> String>,
}

impl Notifier {
    /// The reverse path sent onward: a local domain replaced by the masquerade domain.
    pub fn outgoing_sender(&self, reverse_path: &str) -> String {
        let Some((domains, masquerade)) = &self.masquerade else { return reverse_path.to_string() };
        match reverse_path.rsplit_once('@') {
            Some((local, domain)) if domains.classify(domain) == DomainClass::Local => format!("{local}@{masquerade}"),
            _ => reverse_path.to_string(),
        }
    }

    /// Recipients that are final: DSN for the failed ones first, then the spool record.
    pub fn finish(&self, meta: MessageMeta, body: Option<BodyRef>, finished: Vec<u16>, failed: Vec<(u16, Outcome)>) {
        let me = self.clone_parts();
        glommio::spawn_local(async move {
            if !failed.is_empty() {
                if let Some(body) = &body {
                    me.report(&meta, body, &failed, Kind::Failed).await;
                }
            }
            if let Err(e) = me.spool.complete(&meta.id, &finished).await {
                tracing::error!(message = %meta.id, "cannot record final recipients: {e}");
            }
        })
        .detach();
    }

    /// Temporary failures of an attempt: the retry state is made durable; with `notice`
    /// (the time retries end), a delay DSN is sent too.
    pub fn deferred(
        &self,
        meta: MessageMeta,
        body: BodyRef,
        retry: RetryState,
        notice: Option<u64>,
        deferred: Vec<(u16, Outcome)>,
    ) {
        self.stats.shared.deferred.fetch_add(1, Relaxed);
        tracing::info!(message = %meta.id, attempts = retry.attempts, next = retry.next_attempt, "deferred");
        let me = self.clone_parts();
        glommio::spawn_local(async move {
            if let Err(e) = me.spool.set_retry(&meta.id, retry).await {
                tracing::error!(message = %meta.id, "cannot record retry state: {e}");
            }
            if let Some(retry_until) = notice {
                me.report(&meta, &body, &deferred, Kind::Delayed { retry_until }).await;
            }
        })
        .detach();
    }

    fn clone_parts(&self) -> Rc<Notifier> {
        Rc::new(Notifier {
            spool: self.spool.clone(),
            fqdn: self.fqdn.clone(),
            masquerade: self.masquerade.clone(),
            ndr_copy_to: self.ndr_copy_to.clone(),
            max_hop_count: self.max_hop_count,
            badmail_dir: self.badmail_dir.clone(),
            stats: self.stats.clone(),
            submit: self.submit.clone(),
            ids: self.ids.clone(),
        })
    }

    /// A DSN to the sender, or Badmail when the message itself has the null reverse path
    /// (never a DSN about a DSN; a delay of such a message is only logged).
    async fn report(&self, meta: &MessageMeta, body: &BodyRef, outcomes: &[(u16, Outcome)], kind: Kind) {
        let wire = match self.spool.read_body(body).await {
            Ok(wire) => wire,
            Err(e) => {
                tracing::error!(message = %meta.id, "cannot read the body for a DSN: {e}");
                return;
            }
        };
        let now = unix_now();
        let statuses: Vec<RecipientStatus> = outcomes.iter().map(|(i, o)| status(meta, *i, o, now)).collect();
        if dsn::notify_target(meta).is_none() {
            if kind == Kind::Failed {
                self.badmail(meta, &wire, &statuses).await;
            }
            return;
        }
        let id = (self.ids)();
        let report = Report {
            fqdn: &self.fqdn,
            id: &id,
            original: meta,
            original_wire: &wire,
            recipients: &statuses,
            kind,
            now,
        };
        let dsn = dsn::build(&report);
        let mut recipients = vec![meta.reverse_path.clone()];
        recipients.extend(self.ndr_copy_to.iter().cloned());
        let dsn_meta = MessageMeta {
            id,
            received_at: now,
            reverse_path: String::new(),
            recipients,
            virtual_server: meta.virtual_server.clone(),
            flags: if dsn.is_ascii() { 0 } else { FLAG_8BITMIME },
        };
        if kind == Kind::Failed {
            self.stats.shared.ndr.fetch_add(1, Relaxed);
        }
        (self.submit)(dsn_meta, dsn);
    }

    /// `<badmail_dir>/<id>.bad` (the message) and `<id>.bdr` (why), written atomically.
    async fn badmail(&self, meta: &MessageMeta, wire: &[u8], statuses: &[RecipientStatus]) {
        let mut reason = format!("Message {} from <{}> could not be delivered:\r\n", meta.id, meta.reverse_path);
        for s in statuses {
            reason.push_str(&format!("{}: {} {}\r\n", s.address, s.status, s.diagnostic.as_deref().unwrap_or("")));
        }
        let mut content = Vec::with_capacity(wire.len());
        crate::proto::stuff::unstuff_into(wire, &mut content);
        for (name, data) in [(format!("{}.bad", meta.id), content), (format!("{}.bdr", meta.id), reason.into_bytes())] {
            if let Err(e) = write_atomically(&self.badmail_dir, &name, data).await {
                tracing::error!(message = %meta.id, "cannot write badmail {name}: {e}");
                return;
            }
        }
        self.stats.shared.badmail.fetch_add(1, Relaxed);
        tracing::warn!(message = %meta.id, "undeliverable message with null sender filed as badmail");
    }
}

fn status(meta: &MessageMeta, i: u16, outcome: &Outcome, now: u64) -> RecipientStatus {
    let address = meta.recipients[i as usize].clone();
    let (status, diagnostic, remote_mta) = match outcome {
        Outcome::Delivered => ("2.0.0", None, None),
        Outcome::Temporary { status, diagnostic, remote } | Outcome::Permanent { status, diagnostic, remote } => {
            (status.as_str(), Some(diagnostic.clone()), remote.clone())
        }
    };
    let status = parse_status(status.as_bytes()).unwrap_or(Status(5, 0, 0));
    RecipientStatus { address, status, remote_mta, diagnostic, last_attempt: Some(now) }
}
