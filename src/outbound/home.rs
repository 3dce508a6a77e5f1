//! The home side of delivery: for the messages in this shard's spool, hands jobs to the owner
//! shards of their destinations, collects the results, records them in the spool, schedules
//! retries, and sends delivery status notifications (or files the message as Badmail).

use std::borrow::Cow;
use std::cell::RefCell;
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::hash::{Hash, Hasher};
use std::rc::{Rc, Weak};
use std::sync::atomic::Ordering::Relaxed;
use std::sync::Arc;
use std::time::Duration;

use super::job::{Job, JobResult, Outcome};
use super::notify::Notifier;
use super::stats::unix_now;
use crate::delivery::retry::{Next, Schedule};
use crate::delivery::route::{route, RouteTable};
use crate::proto::headers::count_received;
use crate::spool::{BodyRef, MessageMeta, RetryState, Spool};

/// How often the retry timer looks for due messages.
const RETRY_POLL: Duration = Duration::from_millis(250);

/// Sends a job to its owner shard (itself included).
pub type Dispatch = Rc<dyn Fn(usize, Job)>;

/// A message of this shard with remote recipients not yet final.
struct Tracked {
    meta: Rc<MessageMeta>,
    body: BodyRef,
    retry: RetryState,
    /// Recipients still to deliver (not final).
    pending: Vec<u16>,
    /// Temporary failures of the current attempt. The attempt is over when every pending
    /// recipient is here: results may come in any order and a job may report in parts (452).
    deferred: Vec<(u16, Outcome)>,
}

pub struct Home {
    shard: usize,
    shards: usize,
    spool: Spool,
    routes: RouteTable,
    schedule: Schedule,
    notifier: Rc<Notifier>,
    dispatch: Dispatch,
    tracked: RefCell<HashMap<String, Tracked>>,
    timers: RefCell<BTreeSet<(u64, String)>>,
    me: RefCell<Weak<Home>>,
}

impl Home {
    pub fn new(
        shard: usize,
        shards: usize,
        spool: Spool,
        routes: RouteTable,
        schedule: Schedule,
        notifier: Notifier,
        dispatch: Dispatch,
    ) -> Rc<Home> {
        let home = Rc::new(Home {
            shard,
            shards,
            spool,
            routes,
            schedule,
            notifier: Rc::new(notifier),
            dispatch,
            tracked: RefCell::default(),
            timers: RefCell::default(),
            me: RefCell::default(),
        });
        *home.me.borrow_mut() = Rc::downgrade(&home);
        let weak = Rc::downgrade(&home);
        glommio::spawn_local(async move {
            loop {
                glommio::timer::sleep(RETRY_POLL).await;
                let Some(home) = weak.upgrade() else { return };
                home.fire_due_retries();
            }
        })
        .detach();
        home
    }

    /// Takes over the remote recipients `remote` of a stored message. `wire` is its body when
    /// at hand (just received), else it is read from the spool when needed.
    pub fn start(
        &self,
        meta: Rc<MessageMeta>,
        body: BodyRef,
        wire: Option<Arc<[u8]>>,
        remote: Vec<u16>,
        retry: RetryState,
    ) {
        let id = meta.id.clone();
        let due = retry.next_attempt;
        for domain in domains_of(&meta, &remote) {
            self.notifier.stats.domain(&domain).queued.fetch_add(1, Relaxed);
        }
        let tracked = Tracked { meta, body, retry, pending: remote, deferred: Vec::new() };
        self.tracked.borrow_mut().insert(id.clone(), tracked);
        if due > unix_now() {
            self.timers.borrow_mut().insert((due, id));
            return;
        }
        match wire {
            Some(wire) => self.dispatch_now(&id, wire),
            None => self.dispatch_later(id),
        }
    }

    /// Reads the body back from the spool, then dispatches.
    fn dispatch_later(&self, id: String) {
        let Some(body) = self.tracked.borrow().get(&id).map(|t| t.body.clone()) else { return };
        let spool = self.spool.clone();
        let me = self.self_rc();
        glommio::spawn_local(async move {
            match spool.read_body(&body).await {
                Ok(wire) => me.dispatch_now(&id, wire.into()),
                Err(e) => {
                    tracing::error!(message = %id, "cannot read the body back: {e}; retry later");
                    me.retry_in(&id, 60);
                }
            }
        })
        .detach();
    }

    fn self_rc(&self) -> Rc<Home> {
        self.me.borrow().upgrade().expect("home is alive while its tasks run")
    }

    /// One delivery attempt: one job per recipient domain, each to its owner shard. A message
    /// with more `Received:` headers than `max_hop_count` (ours included) is bounced (5.4.6).
    fn dispatch_now(&self, id: &str, wire: Arc<[u8]>) {
        let hops = count_received(&wire);
        if hops > self.notifier.max_hop_count as usize {
            self.bounce_all(id, "5.4.6", format!("too many hops: {hops} Received headers"));
            return;
        }
        let jobs = {
            let mut tracked = self.tracked.borrow_mut();
            let Some(t) = tracked.get_mut(id) else { return };
            let mut by_domain: BTreeMap<String, Vec<(u16, String)>> = BTreeMap::new();
            for &i in &t.pending {
                let addr = t.meta.recipients[i as usize].clone();
                let domain = addr.rsplit_once('@').map_or("", |(_, d)| d).to_ascii_lowercase();
                by_domain.entry(domain).or_default().push((i, addr));
            }
            t.deferred.clear();
            let mut reverse_path = self.notifier.outgoing_sender(&t.meta.reverse_path);
            let last = by_domain.len().saturating_sub(1);
            by_domain
                .into_iter()
                .enumerate()
                .map(|(k, (domain, recipients))| Job {
                    home: self.shard,
                    id: id.to_string(),
                    reverse_path: match k == last {
                        true => std::mem::take(&mut reverse_path),
                        false => reverse_path.clone(),
                    },
                    recipients,
                    body: wire.clone(),
                    flags: t.meta.flags,
                    domain,
                })
                .collect::<Vec<_>>()
        };
        for job in jobs {
            let owner = self.owner(&job.domain);
            (self.dispatch)(owner, job);
        }
    }

    /// Ends every pending recipient of `id` with the same permanent failure.
    fn bounce_all(&self, id: &str, status: &str, diagnostic: String) {
        let outcomes = {
            let mut tracked = self.tracked.borrow_mut();
            let Some(t) = tracked.get_mut(id) else { return };
            let failure = Outcome::Permanent { status: status.to_string(), diagnostic, remote: None };
            t.pending.iter().map(|&i| (i, failure.clone())).collect()
        };
        self.result(JobResult { id: id.to_string(), outcomes });
    }

    /// The owner shard of a destination: a stable hash of its route key.
    fn owner(&self, domain: &str) -> usize {
        if self.shards == 1 {
            return 0;
        }
        let mut hasher = std::hash::DefaultHasher::new();
        match route(domain, &self.routes) {
            Ok(route) => route.key().hash(&mut hasher),
            Err(_) => domain.hash(&mut hasher),
        }
        (hasher.finish() % self.shards as u64) as usize
    }

    /// A job's result: final recipients are recorded (after their DSN), temporary ones wait
    /// for the end of the attempt.
    pub fn result(&self, result: JobResult) {
        let (meta, finished, failed) = {
            let mut tracked = self.tracked.borrow_mut();
            let Some(t) = tracked.get_mut(&result.id) else { return };
            let mut finished = Vec::new();
            let mut failed = Vec::new();
            for (i, outcome) in result.outcomes {
                match outcome {
                    Outcome::Delivered => finished.push(i),
                    Outcome::Permanent { .. } => {
                        finished.push(i);
                        failed.push((i, outcome));
                    }
                    Outcome::Temporary { .. } => t.deferred.push((i, outcome)),
                }
            }
            let meta = t.meta.clone();
            let before = domains_of(&meta, &t.pending);
            t.pending.retain(|i| !finished.contains(i));
            for domain in before.difference(&domains_of(&meta, &t.pending)) {
                self.notifier.stats.domain(domain).queued.fetch_sub(1, Relaxed);
            }
            (t.meta.clone(), finished, failed)
        };
        if !finished.is_empty() {
            let body = self.tracked.borrow().get(&meta.id).map(|t| t.body.clone());
            self.notifier.finish(meta.clone(), body, finished, failed);
        }
        self.end_attempt_if_done(&meta.id);
    }

    /// When every recipient of the attempt has an outcome: forget a finished message, or
    /// schedule the next attempt for the deferred recipients (or give up on them).
    fn end_attempt_if_done(&self, id: &str) {
        let mut tracked = self.tracked.borrow_mut();
        let Some(t) = tracked.get_mut(id) else { return };
        if !all_deferred(&t.pending, &t.deferred) {
            return;
        }
        if t.pending.is_empty() {
            tracked.remove(id);
            return;
        }
        t.retry.attempts += 1;
        let now = unix_now();
        match self.schedule.next(t.retry.attempts, t.meta.received_at, now) {
            Next::RetryAt(at) => {
                t.retry.next_attempt = at;
                let delayed = self.schedule.delay_notice_due(t.meta.received_at, now, t.retry.delay_notified);
                t.retry.delay_notified |= delayed;
                let notice = delayed.then(|| self.schedule.expires_at(t.meta.received_at));
                self.notifier.deferred(
                    t.meta.clone(),
                    t.body.clone(),
                    t.retry,
                    notice,
                    std::mem::take(&mut t.deferred),
                );
                self.timers.borrow_mut().insert((at, id.to_string()));
            }
            Next::GiveUp(reason) => {
                let reason = reason.to_string();
                let failed: Vec<(u16, Outcome)> =
                    std::mem::take(&mut t.deferred).into_iter().map(|(i, o)| (i, expired(o, &reason))).collect();
                let finished = failed.iter().map(|(i, _)| *i).collect();
                for domain in domains_of(&t.meta, &t.pending) {
                    self.notifier.stats.domain(&domain).queued.fetch_sub(1, Relaxed);
                }
                let (meta, body) = (t.meta.clone(), t.body.clone());
                tracked.remove(id);
                drop(tracked);
                self.notifier.finish(meta, Some(body), finished, failed);
            }
        }
    }

    fn retry_in(&self, id: &str, seconds: u64) {
        self.timers.borrow_mut().insert((unix_now() + seconds, id.to_string()));
    }

    fn fire_due_retries(&self) {
        let now = unix_now();
        let due: Vec<String> = {
            let mut timers = self.timers.borrow_mut();
            let later = timers.split_off(&(now + 1, String::new()));
            std::mem::replace(&mut *timers, later).into_iter().map(|(_, id)| id).collect()
        };
        for id in due {
            self.dispatch_later(id);
        }
    }
}

/// The (lower-case) domains of some recipients of a message; a domain already in lower case
/// is borrowed, not copied.
fn domains_of<'a>(meta: &'a MessageMeta, recipients: &[u16]) -> BTreeSet<Cow<'a, str>> {
    recipients
        .iter()
        .map(|&i| {
            let domain = meta.recipients[i as usize].rsplit_once('@').map_or("", |(_, d)| d);
            match domain.bytes().any(|b| b.is_ascii_uppercase()) {
                true => Cow::Owned(domain.to_ascii_lowercase()),
                false => Cow::Borrowed(domain),
            }
        })
        .collect()
}

/// A temporary failure that ran out of retries becomes permanent: `5.4.7` (delivery time
/// expired, RFC 3463), with the reason and the last error.
fn expired(outcome: Outcome, reason: &str) -> Outcome {
    match outcome {
        Outcome::Temporary { diagnostic, remote, .. } => Outcome::Permanent {
            status: "5.4.7".into(),
            diagnostic: format!("{reason}; last error: {diagnostic}"),
            remote,
        },
        other => other,
    }
}

/// Whether every pending recipient has a temporary outcome in this attempt (the others are
/// still out with their jobs).
fn all_deferred(pending: &[u16], deferred: &[(u16, Outcome)]) -> bool {
    if deferred.len() < pending.len() {
        return false;
    }
    let deferred: std::collections::HashSet<u16> = deferred.iter().map(|(i, _)| *i).collect();
    pending.iter().all(|i| deferred.contains(i))
}
