//! What the home shard does with results: records final recipients in the spool, sends a
//! delivery status notification to the sender (a copy to `ndr_copy_to`) or files a message
//! whose reverse path is `<>` in the Badmail directory, records retry state, and applies the
//! masquerade domain to the outgoing reverse path.

use std::path::PathBuf;

use glommio::io::Directory;
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

/// Routes a message tern stored itself (a DSN) like any accepted message.
pub type Submit = Rc<dyn Fn(&Rc<MessageMeta>, BodyRef, &[u8])>;

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

    /// Recipients that are final: DSN (or Badmail) for the failed ones first, then the spool
    /// record. When the DSN cannot be stored, only the delivered ones are recorded: the failed
    /// ones stay in the spool and are bounced again after a restart, rather than being lost
    /// without a notice, and nothing delivered goes out twice.
    pub fn finish(
        self: &Rc<Self>,
        meta: Rc<MessageMeta>,
        body: Option<BodyRef>,
        finished: Vec<u16>,
        failed: Vec<(u16, Outcome)>,
    ) {
        let me = self.clone();
        glommio::spawn_local(async move {
            let mut finished = finished;
            if let (false, Some(body)) = (failed.is_empty(), &body) {
                if let Err(e) = me.report(&meta, body, &failed, Kind::Failed).await {
                    tracing::error!(message = %meta.id, "no DSN or Badmail ({e}); failed recipients stay queued");
                    finished.retain(|i| !failed.iter().any(|(f, _)| f == i));
                }
            }
            if finished.is_empty() {
                return;
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
        self: &Rc<Self>,
        meta: Rc<MessageMeta>,
        body: BodyRef,
        retry: RetryState,
        notice: Option<u64>,
        deferred: Vec<(u16, Outcome)>,
    ) {
        self.stats.shared.deferred.fetch_add(1, Relaxed);
        tracing::info!(message = %meta.id, attempts = retry.attempts, next = retry.next_attempt, "deferred");
        let me = self.clone();
        glommio::spawn_local(async move {
            if let Err(e) = me.spool.set_retry(&meta.id, retry).await {
                tracing::error!(message = %meta.id, "cannot record retry state: {e}");
            }
            if let Some(retry_until) = notice {
                if let Err(e) = me.report(&meta, &body, &deferred, Kind::Delayed { retry_until }).await {
                    tracing::error!(message = %meta.id, "no delay notice: {e}");
                }
            }
        })
        .detach();
    }

    /// A DSN to the sender, stored in the spool before this returns, or Badmail when the
    /// message itself has the null reverse path (never a DSN about a DSN; a delay of such a
    /// message is only logged).
    async fn report(
        &self,
        meta: &MessageMeta,
        body: &BodyRef,
        outcomes: &[(u16, Outcome)],
        kind: Kind,
    ) -> Result<(), String> {
        let wire = self.spool.read_body(body).await.map_err(|e| format!("cannot read the body: {e}"))?;
        let now = unix_now();
        let statuses: Vec<RecipientStatus> = outcomes.iter().map(|(i, o)| status(meta, *i, o, now)).collect();
        if dsn::notify_target(meta).is_none() {
            return match kind {
                Kind::Failed => self.badmail(meta, &wire, &statuses).await,
                Kind::Delayed { .. } => Ok(()),
            };
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
        let dsn_meta = Rc::new(MessageMeta {
            id,
            received_at: now,
            reverse_path: String::new(),
            recipients,
            virtual_server: meta.virtual_server.clone(),
            flags: if dsn.is_ascii() { 0 } else { FLAG_8BITMIME },
        });
        let stored = self.spool.store(&dsn_meta, &[&dsn]).await.map_err(|e| format!("cannot store the DSN: {e}"))?;
        if kind == Kind::Failed {
            self.stats.shared.ndr.fetch_add(1, Relaxed);
        }
        (self.submit)(&dsn_meta, stored, &dsn);
        Ok(())
    }

    /// `<badmail_dir>/<id>.bad` (the message) and `<id>.bdr` (why), written atomically, then
    /// the directory synced.
    async fn badmail(&self, meta: &MessageMeta, wire: &[u8], statuses: &[RecipientStatus]) -> Result<(), String> {
        let mut reason = format!("Message {} from <{}> could not be delivered:\r\n", meta.id, meta.reverse_path);
        for s in statuses {
            reason.push_str(&format!("{}: {} {}\r\n", s.address, s.status, s.diagnostic.as_deref().unwrap_or("")));
        }
        let mut content = Vec::with_capacity(wire.len());
        crate::proto::stuff::unstuff_into(wire, &mut content);
        for (name, data) in [(format!("{}.bad", meta.id), content), (format!("{}.bdr", meta.id), reason.into_bytes())] {
            write_atomically(&self.badmail_dir, &name, data).await.map_err(|e| format!("cannot write {name}: {e}"))?;
        }
        let dir =
            Directory::open(&self.badmail_dir).await.map_err(|e| format!("cannot open the Badmail directory: {e}"))?;
        let synced = dir.sync().await.map_err(|e| format!("cannot sync the Badmail directory: {e}"));
        let _ = dir.close().await;
        synced?;
        self.stats.shared.badmail.fetch_add(1, Relaxed);
        tracing::warn!(message = %meta.id, "undeliverable message with null sender filed as badmail");
        Ok(())
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
