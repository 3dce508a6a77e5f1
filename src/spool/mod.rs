//! The durable, sharded queue. Each shard appends length+CRC framed records to its own
//! segment files; a message is acknowledged only after its record is on stable storage
//! (segments are written `O_DSYNC`), and many messages share one sync (group commit). At start, segments are replayed.
//!
//! On disk: `<spool_dir>/shard-<k>/<seq:016x>.seg`, each a log of [`record`] frames: `Message`
//! (meta and body), `Done` (recipients final) and `Retry` (attempts, next attempt, whether the
//! delay notification was sent). A message's `Done` and `Retry` records follow it in its shard's
//! log (replay also applies those it meets first); the latest `Retry` is its retry state.
//!
//! # Layout
//!
//! - [`record`]: the pure frame codec.
//! - `segment`: file naming, creating (with the directory fsync), reading.
//! - `commit`: the batch, the committer task, rollback after a failed write or sync.
//! - `recovery`: replay of this shard's and adopted segments into the live set.
//! - `gc`: oldest-first deletion of segments and copy-forward of long-lived messages.
//!
//! Adopted segments (from a run with more shards) are copied forward into this shard's own
//! segments during `open` (with their `Done` marks and retry state) and then deleted, so after
//! start every message lives in exactly one shard folder.

mod commit;
mod gc;
mod record;
mod recovery;
mod segment;
mod signal;
#[cfg(test)]
mod tests;

pub use record::{decode, encode, encode_done, encode_message, encode_retry, Record, RecordError};

use std::cell::{Cell, RefCell};
use std::collections::{BTreeMap, HashMap};
use std::io;
use std::path::{Path, PathBuf};
use std::rc::Rc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use glommio::io::{BufferedFile, Directory};

use commit::{Batch, Effect};
use segment::{SegKey, Segment};
use signal::Notify;

/// Everything about a message except its body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MessageMeta {
    /// Unique across shards and restarts; also the Drop file name.
    pub id: String,
    /// Unix time (seconds) of acceptance.
    pub received_at: u64,
    /// Empty for the null reverse-path `<>`.
    pub reverse_path: String,
    /// Forward paths as `local@domain`, in RCPT order.
    pub recipients: Vec<String>,
    /// Name of the virtual server that accepted it.
    pub virtual_server: String,
    /// Bit 0: BODY=8BITMIME, bit 1: SMTPUTF8.
    pub flags: u8,
}

/// Where a stored message's body lives, so it can be read back.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct BodyRef {
    pub segment: Rc<std::path::PathBuf>,
    pub offset: u64,
    pub len: u32,
}

/// Where a message stands in its retry schedule, as recorded after a failed delivery attempt.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct RetryState {
    /// Delivery attempts made so far.
    pub attempts: u32,
    /// Unix time (seconds) the next attempt is due.
    pub next_attempt: u64,
    /// Whether the one-time "delayed" notification was sent.
    pub delay_notified: bool,
}

/// A message found at start that is not yet final.
#[derive(Debug, Clone)]
pub struct Recovered {
    pub meta: Rc<MessageMeta>,
    pub body: BodyRef,
    /// Indices into `meta.recipients` already final (delivered or bounced).
    pub done: Vec<u16>,
    /// The latest recorded retry state; default when none was recorded.
    pub retry: RetryState,
}

/// Counters read by the metrics endpoint from another thread.
#[derive(Debug, Default)]
pub struct SpoolStats {
    pub fsyncs: AtomicU64,
    /// Messages accepted and not yet final.
    pub queued: AtomicU64,
    pub bytes_written: AtomicU64,
}

#[derive(Debug, thiserror::Error)]
pub enum SpoolError {
    /// Disk full, write or sync failure: the message is not stored; answer 452 4.3.1.
    #[error("spool I/O error: {0}")]
    Io(#[from] std::io::Error),
    /// A record failed its CRC or framing where it must not (not a torn tail).
    #[error("corrupt spool segment {path}: {reason}")]
    Corrupt { path: String, reason: String },
}

impl SpoolError {
    /// All spool errors are temporary for the client: it should retry later.
    pub fn is_temporary(&self) -> bool {
        true
    }
}

/// Tunables of a spool shard; `Default` is what the server uses.
#[derive(Debug, Clone)]
pub struct SpoolOptions {
    /// A new segment is started once the active one has grown past this many bytes.
    pub segment_size: u64,
    /// The oldest closed segment that still holds live messages is copied forward once more
    /// than this many newer segments exist.
    pub copy_forward_lag: usize,
}

impl Default for SpoolOptions {
    fn default() -> Self {
        SpoolOptions { segment_size: 64 << 20, copy_forward_lag: 2 }
    }
}

/// One shard's spool. Lives on its executor (`!Send`); cheap to clone (an `Rc` inside).
#[derive(Clone)]
pub struct Spool(Rc<Shared>);

/// A message accepted and not yet final.
struct Live {
    /// Shared with the delivery engine rather than copied.
    meta: Rc<MessageMeta>,
    body: BodyRef,
    seg: SegKey,
    /// Recipients final or being made final (set when a `Done` is queued, undone if its
    /// batch fails), so a copy-forward never misses a `Done` still in flight.
    marked: Vec<bool>,
    /// How many recipients have a synced `Done`; the message is final when all have.
    durable: usize,
    /// Earlier places of the body, redirected to `body` by `read_body`.
    aliases: Vec<BodyRef>,
    /// The latest retry state (set when a `Retry` is queued, undone if its batch fails), so a
    /// copy-forward carries it.
    retry: RetryState,
}

/// The mutable state of a shard; borrowed briefly, never across an `.await`.
struct State {
    pending: Batch,
    /// True while the committer writes and syncs a batch.
    busy: bool,
    active: SegKey,
    /// Bytes of the active segment that are synced; the next batch is written here.
    committed: u64,
    segs: BTreeMap<SegKey, Segment>,
    live: HashMap<String, Live>,
    moved: HashMap<BodyRef, BodyRef>,
}

struct Shared {
    /// The spool folder holding every `shard-<k>` folder.
    root: PathBuf,
    /// This shard's folder, synced after a segment is created or deleted.
    dir_handle: Directory,
    opts: SpoolOptions,
    stats: Arc<SpoolStats>,
    state: RefCell<State>,
    commit_kick: Rc<Notify>,
    gc_kick: Rc<Notify>,
    gc_busy: Cell<bool>,
    gc_idle: RefCell<Vec<signal::Sender<()>>>,
    /// Test hook: fail this many syncs after their write really happened.
    #[cfg(test)]
    fail_syncs: Cell<u32>,
}

impl Drop for Shared {
    fn drop(&mut self) {
        self.commit_kick.close();
        self.gc_kick.close();
    }
}

impl Spool {
    /// Opens (creating if needed) shard `shard` of `shards` under `dir`, replays its segments,
    /// and adopts the segments of shard folders `j >= shards` with `j % shards == shard` (left
    /// by a run with more shards). Returns every accepted, unfinished message exactly once.
    pub async fn open(
        dir: &Path,
        shard: usize,
        shards: usize,
        stats: Arc<SpoolStats>,
    ) -> Result<(Spool, Vec<Recovered>), SpoolError> {
        Self::open_with(dir, shard, shards, stats, SpoolOptions::default()).await
    }

    /// [`Spool::open`] with explicit options.
    pub async fn open_with(
        dir: &Path,
        shard: usize,
        shards: usize,
        stats: Arc<SpoolStats>,
        opts: SpoolOptions,
    ) -> Result<(Spool, Vec<Recovered>), SpoolError> {
        let replay = recovery::replay(dir, shard, shards).await?;
        let shard_dir = segment::shard_dir(dir, shard);
        let dir_handle = Directory::open(&shard_dir).await.map_err(io::Error::from)?;
        let active = SegKey::own(shard, replay.next_seq);
        let mut segs = replay.segs;
        segs.insert(active, segment::create(dir, &dir_handle, active).await?);
        stats.queued.store(replay.live.len() as u64, Ordering::Relaxed);
        let shared = Rc::new(Shared {
            root: dir.to_path_buf(),
            dir_handle,
            opts,
            stats,
            state: RefCell::new(State {
                pending: Batch::default(),
                busy: false,
                active,
                committed: 0,
                segs,
                live: replay.live,
                moved: HashMap::new(),
            }),
            commit_kick: Rc::default(),
            gc_kick: Rc::default(),
            gc_busy: Cell::new(false),
            gc_idle: RefCell::default(),
            #[cfg(test)]
            fail_syncs: Cell::new(0),
        });
        let weak = Rc::downgrade(&shared);
        glommio::spawn_local(commit::run(weak.clone(), shared.commit_kick.clone())).detach();
        shared.restate(replay.restate).await?;
        if let Err(e) = shared.collect().await {
            tracing::warn!(error = %e, "spool: start-up clean-up failed; retried later");
            shared.gc_kick.raise();
        }
        glommio::spawn_local(gc::run(weak, shared.gc_kick.clone())).detach();
        let recovered = shared.recovered();
        Ok((Spool(shared), recovered))
    }

    /// Appends a message and returns once it is on stable storage (group commit). `body` is
    /// the wire form, given as slices that are concatenated (e.g. Received header + data).
    /// On error nothing of the message is stored.
    pub async fn store(&self, meta: &Rc<MessageMeta>, body: &[&[u8]]) -> Result<BodyRef, SpoolError> {
        let len: usize = body.iter().map(|s| s.len()).sum();
        check_size(meta, len)?;
        let (rx, body_off) = {
            let mut st = self.0.state.borrow_mut();
            let batch = &mut st.pending;
            encode_message(meta, body, &mut batch.buf);
            let body_off = (batch.buf.len() - len) as u64;
            batch.effects.push(Effect::Store { meta: meta.clone(), body_off, len: len as u32 });
            (batch.wait(), body_off)
        };
        self.0.commit_kick.raise();
        let done = commit::outcome(rx).await?;
        Ok(BodyRef { segment: done.path, offset: done.base + body_off, len: len as u32 })
    }

    /// Records recipients of `id` as final. When all are, the message is final; segments whose
    /// messages are all final are deleted. Durable at the next group commit.
    pub async fn complete(&self, id: &str, recipients: &[u16]) -> Result<(), SpoolError> {
        let rx = {
            let mut st = self.0.state.borrow_mut();
            let Some(entry) = st.live.get_mut(id) else {
                tracing::info!(id, "spool: complete for an unknown or final message ignored");
                return Ok(());
            };
            let mut newly = Vec::new();
            for &r in recipients {
                match entry.marked.get_mut(usize::from(r)) {
                    Some(m) if !*m => {
                        *m = true;
                        newly.push(r);
                    }
                    Some(_) => {}
                    None => tracing::warn!(id, index = r, "spool: recipient index out of range"),
                }
            }
            if newly.is_empty() {
                return Ok(());
            }
            let batch = &mut st.pending;
            encode_done(id, &newly, &mut batch.buf);
            batch.effects.push(Effect::Done { id: id.to_owned(), newly });
            batch.wait()
        };
        self.0.commit_kick.raise();
        commit::outcome(rx).await.map(|_| ())
    }

    /// Records the retry state of `id` and returns once it is on stable storage (group commit);
    /// the latest state is what `open` recovers. Ignored for an unknown or final message.
    pub async fn set_retry(&self, id: &str, state: RetryState) -> Result<(), SpoolError> {
        let rx = {
            let mut st = self.0.state.borrow_mut();
            let Some(entry) = st.live.get_mut(id) else {
                tracing::info!(id, "spool: retry state for an unknown or final message ignored");
                return Ok(());
            };
            let prev = std::mem::replace(&mut entry.retry, state);
            let batch = &mut st.pending;
            encode_retry(id, state, &mut batch.buf);
            batch.effects.push(Effect::Retry { id: id.to_owned(), state, prev });
            batch.wait()
        };
        self.0.commit_kick.raise();
        commit::outcome(rx).await.map(|_| ())
    }

    /// Reads a stored body back.
    pub async fn read_body(&self, body: &BodyRef) -> Result<Vec<u8>, SpoolError> {
        Ok(self.0.read_body(body).await?)
    }

    /// Waits for pending records to be synced, and for segment clean-up under way to finish.
    pub async fn flush(&self) -> Result<(), SpoolError> {
        self.0.barrier().await?;
        if self.0.gc_busy.get() || self.0.gc_kick.is_raised() {
            let (tx, rx) = signal::oneshot();
            self.0.gc_idle.borrow_mut().push(tx);
            rx.await;
        }
        self.0.barrier().await
    }
}

/// Rejects a message the codec could not frame within its limits.
fn check_size(meta: &MessageMeta, body_len: usize) -> Result<(), SpoolError> {
    let meta_len = meta.id.len()
        + meta.reverse_path.len()
        + meta.virtual_server.len()
        + meta.recipients.iter().map(|r| r.len() + 4).sum::<usize>()
        + 64;
    let fits = body_len <= record::MAX_BODY
        && body_len + meta_len <= record::MAX_PAYLOAD
        && meta.recipients.len() <= usize::from(u16::MAX) + 1;
    if fits {
        Ok(())
    } else {
        Err(SpoolError::Io(io::Error::new(io::ErrorKind::InvalidInput, "message too large for one spool record")))
    }
}

impl Shared {
    /// Resolves to once every record queued before the call is synced (or failed).
    async fn barrier(&self) -> Result<(), SpoolError> {
        let rx = {
            let mut st = self.state.borrow_mut();
            if st.pending.is_empty() && !st.busy {
                return Ok(());
            }
            st.pending.wait()
        };
        self.commit_kick.raise();
        commit::outcome(rx).await.map(|_| ())
    }

    /// Appends `Done` and `Retry` records for state found only before a message's latest copy,
    /// and waits for them to be synced, before any segment may be deleted.
    async fn restate(&self, restate: recovery::Restate) -> Result<(), SpoolError> {
        if restate.done.is_empty() && restate.retry.is_empty() {
            return Ok(());
        }
        {
            let mut st = self.state.borrow_mut();
            for (id, recipients) in &restate.done {
                encode_done(id, recipients, &mut st.pending.buf);
            }
            for (id, state) in &restate.retry {
                encode_retry(id, *state, &mut st.pending.buf);
            }
        }
        self.barrier().await
    }

    /// Reads a body, following it if it was copied forward.
    async fn read_body(&self, body: &BodyRef) -> io::Result<Vec<u8>> {
        let (body, file) = {
            let st = self.state.borrow();
            let body = st.moved.get(body).unwrap_or(body).clone();
            let file = st.segs.values().find(|s| s.path == body.segment).map(|s| s.file.clone());
            (body, file)
        };
        let file = match file {
            Some(file) => file,
            None => Rc::new(BufferedFile::open(&*body.segment).await?),
        };
        segment::read_exact(&file, body.offset, body.len as usize).await
    }

    /// The live set as returned by `open`, in log order.
    fn recovered(&self) -> Vec<Recovered> {
        let st = self.state.borrow();
        let mut out: Vec<(SegKey, &Live)> = st.live.values().map(|l| (l.seg, l)).collect();
        out.sort_by_key(|(seg, l)| (*seg, l.body.offset));
        out.into_iter()
            .map(|(_, l)| Recovered {
                meta: l.meta.clone(),
                body: l.body.clone(),
                done: marked_indices(&l.marked),
                retry: l.retry,
            })
            .collect()
    }

    /// Removes a message whose recipients are all durably final.
    fn finalize(&self, st: &mut State, id: &str) {
        let Some(live) = st.live.remove(id) else {
            return;
        };
        for alias in &live.aliases {
            st.moved.remove(alias);
        }
        if let Some(seg) = st.segs.get_mut(&live.seg) {
            seg.remove_live(&live.body);
            if seg.live == 0 && live.seg != st.active {
                self.gc_kick.raise();
            }
        }
        self.stats.queued.fetch_sub(1, Ordering::Relaxed);
    }
}

fn marked_indices(marked: &[bool]) -> Vec<u16> {
    (0..marked.len()).filter(|&i| marked[i]).map(|i| i as u16).collect()
}
