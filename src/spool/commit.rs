//! Group commit: records queue up in a pending batch while the committer task writes the
//! previous batch with one synchronous-data `write_at` (segments are opened `O_DSYNC`, so the
//! write completes only once the data is on stable storage, like write + fdatasync in one
//! io_uring operation); then every waiter of that batch is answered at once. A failed batch is cut off the file again and answered with the error.

use std::io;
use std::path::PathBuf;
use std::rc::{Rc, Weak};
use std::sync::atomic::Ordering;

use glommio::io::BufferedFile;

use super::segment;
use super::signal::{oneshot, Notify, Receiver, Sender};
use super::{BodyRef, Live, MessageMeta, RetryState, Shared, SpoolError, State};

/// Where a committed batch landed: its segment and the offset of its first byte.
pub(super) struct Committed {
    pub(super) path: Rc<PathBuf>,
    pub(super) base: u64,
}

pub(super) type Reply = Result<Committed, io::Error>;

/// Framed records waiting for the next commit, with what they change once synced.
#[derive(Default)]
pub(super) struct Batch {
    pub(super) buf: Vec<u8>,
    pub(super) effects: Vec<Effect>,
    waiters: Vec<Sender<Reply>>,
}

impl Batch {
    pub(super) fn is_empty(&self) -> bool {
        self.buf.is_empty() && self.waiters.is_empty()
    }

    /// An empty batch with room for as much as `last` holds, so a busy spool does not grow
    /// its buffers again from nothing for every batch (bounded: `last` was a real batch).
    fn sized_like(last: &Batch) -> Batch {
        Batch {
            buf: Vec::with_capacity(last.buf.len()),
            effects: Vec::with_capacity(last.effects.len()),
            waiters: Vec::with_capacity(last.waiters.len()),
        }
    }

    /// Registers a waiter for the commit of this batch.
    pub(super) fn wait(&mut self) -> Receiver<Reply> {
        let (tx, rx) = oneshot();
        self.waiters.push(tx);
        rx
    }
}

/// The in-memory change a record makes once its batch is synced. Offsets are relative to
/// the start of the batch. A `Retry` is set in the live entry when queued; if its batch fails,
/// `prev` is restored.
pub(super) enum Effect {
    Store { meta: Rc<MessageMeta>, body_off: u64, len: u32 },
    Done { id: String, newly: Vec<u16> },
    Copy { id: String, from: BodyRef, body_off: u64 },
    Retry { id: String, state: RetryState, prev: RetryState },
}

/// Turns a commit reply into the caller's result.
pub(super) async fn outcome(rx: Receiver<Reply>) -> Result<Committed, SpoolError> {
    match rx.await {
        Some(Ok(done)) => Ok(done),
        Some(Err(e)) => Err(SpoolError::Io(e)),
        None => Err(SpoolError::Io(io::Error::new(io::ErrorKind::BrokenPipe, "spool shard closed"))),
    }
}

/// The committer task: commits batches whenever kicked, until the shard is dropped.
pub(super) async fn run(shared: Weak<Shared>, kick: Rc<Notify>) {
    while kick.wait().await {
        let Some(shared) = shared.upgrade() else {
            return;
        };
        shared.commit_all().await;
    }
}

/// A copy of an I/O error for one more waiter.
fn copy_error(e: &io::Error) -> io::Error {
    match e.raw_os_error() {
        Some(code) => io::Error::from_raw_os_error(code),
        None => io::Error::new(e.kind(), e.to_string()),
    }
}

impl Shared {
    /// Commits pending batches one after the other until none is left.
    async fn commit_all(&self) {
        loop {
            let (batch, file, path, base) = {
                let mut st = self.state.borrow_mut();
                if st.pending.is_empty() {
                    st.busy = false;
                    return;
                }
                st.busy = true;
                let next = Batch::sized_like(&st.pending);
                let batch = std::mem::replace(&mut st.pending, next);
                let seg = &st.segs[&st.active];
                (batch, seg.file.clone(), seg.path.clone(), st.committed)
            };
            let Batch { buf, effects, waiters } = batch;
            let len = buf.len() as u64;
            let result = match len {
                0 => Ok(()),
                _ => self.write_and_sync(&file, buf, base).await,
            };
            match result {
                Ok(()) => {
                    self.apply(effects, &path, base, len);
                    for w in waiters {
                        w.send(Ok(Committed { path: path.clone(), base }));
                    }
                    self.rotate(false).await;
                }
                Err(e) => {
                    tracing::warn!(segment = %path.display(), offset = base, error = %e,
                        "spool: batch not stored");
                    self.undo_marks(&effects);
                    self.cut_back(&file, &path, base).await;
                    for w in waiters {
                        w.send(Err(copy_error(&e)));
                    }
                }
            }
        }
    }

    /// One `O_DSYNC` write of the whole batch (counted as one sync). A short write is an error.
    async fn write_and_sync(&self, file: &BufferedFile, buf: Vec<u8>, pos: u64) -> io::Result<()> {
        let len = buf.len();
        let written = file.write_at(buf, pos).await?;
        if written != len {
            return Err(io::Error::new(io::ErrorKind::WriteZero, format!("short write: {written} of {len} bytes")));
        }
        #[cfg(test)]
        if self.fail_syncs.get() > 0 {
            self.fail_syncs.set(self.fail_syncs.get() - 1);
            return Err(io::Error::from_raw_os_error(libc::EIO));
        }
        self.stats.fsyncs.fetch_add(1, Ordering::Relaxed);
        self.stats.bytes_written.fetch_add(len as u64, Ordering::Relaxed);
        Ok(())
    }

    /// Truncates the active segment back to its last synced record. If that fails, the
    /// segment is closed so that nothing is ever appended after unacknowledged bytes.
    async fn cut_back(&self, file: &BufferedFile, path: &std::path::Path, base: u64) {
        let result = async {
            file.truncate(base).await?;
            self.stats.fsyncs.fetch_add(1, Ordering::Relaxed);
            file.fdatasync().await
        }
        .await;
        if let Err(e) = result {
            tracing::error!(segment = %path.display(), offset = base, error = %e,
                "spool: cannot truncate a failed batch; starting a new segment");
            self.rotate(true).await;
        }
    }

    /// Starts a new segment when the active one is full (or when `force`d).
    async fn rotate(&self, force: bool) {
        let next = {
            let st = self.state.borrow();
            if !force && st.committed < self.opts.segment_size {
                return;
            }
            st.active.next()
        };
        match segment::create(&self.root, &self.dir_handle, next).await {
            Ok(seg) => {
                let mut st = self.state.borrow_mut();
                st.segs.insert(next, seg);
                st.active = next;
                st.committed = 0;
                self.gc_kick.raise();
            }
            Err(e) => tracing::warn!(error = %e, "spool: cannot start a new segment"),
        }
    }

    /// Applies the effects of a synced batch written at `base` of the active segment.
    fn apply(&self, effects: Vec<Effect>, path: &Rc<PathBuf>, base: u64, len: u64) {
        let mut st = self.state.borrow_mut();
        let st = &mut *st;
        st.committed = base + len;
        let at = |body_off: u64, len: u32| BodyRef { segment: path.clone(), offset: base + body_off, len };
        for effect in effects {
            match effect {
                Effect::Store { meta, body_off, len } => self.insert(st, meta, at(body_off, len)),
                Effect::Done { id, newly } => {
                    let Some(live) = st.live.get_mut(&id) else {
                        continue;
                    };
                    live.durable += newly.len();
                    if live.durable >= live.marked.len() {
                        self.finalize(st, &id);
                    }
                }
                Effect::Copy { id, from, body_off } => {
                    let to = at(body_off, from.len);
                    relocate(st, &id, &from, to);
                }
                Effect::Retry { .. } => {}
            }
        }
    }

    /// Adds a newly stored message to the live set (replacing an older one with its id).
    fn insert(&self, st: &mut State, meta: Rc<MessageMeta>, body: BodyRef) {
        if meta.recipients.is_empty() {
            return;
        }
        if st.live.contains_key(&meta.id) {
            self.finalize(st, &meta.id);
        }
        let seg = st.active;
        if let Some(s) = st.segs.get_mut(&seg) {
            s.add_live(&body);
        }
        let live = Live {
            marked: vec![false; meta.recipients.len()],
            durable: 0,
            meta,
            body,
            seg,
            aliases: Vec::new(),
            retry: RetryState::default(),
        };
        st.live.insert(live.meta.id.clone(), live);
        self.stats.queued.fetch_add(1, Ordering::Relaxed);
    }

    /// Forgets the optimistic marks of `Done` records whose batch failed, and restores the
    /// retry state that `Retry` records of the batch replaced (latest first), unless a later
    /// batch has replaced it again.
    fn undo_marks(&self, effects: &[Effect]) {
        let mut st = self.state.borrow_mut();
        for effect in effects.iter().rev() {
            match effect {
                Effect::Done { id, newly } => {
                    if let Some(live) = st.live.get_mut(id) {
                        for &r in newly {
                            live.marked[usize::from(r)] = false;
                        }
                    }
                }
                Effect::Retry { id, state, prev } => {
                    if let Some(live) = st.live.get_mut(id).filter(|l| l.retry == *state) {
                        live.retry = *prev;
                    }
                }
                Effect::Store { .. } | Effect::Copy { .. } => {}
            }
        }
    }
}

/// Points a live message at its copy in the active segment.
fn relocate(st: &mut State, id: &str, from: &BodyRef, to: BodyRef) {
    let Some(live) = st.live.get_mut(id) else {
        return;
    };
    if live.body != *from {
        return;
    }
    let old_seg = std::mem::replace(&mut live.seg, st.active);
    live.aliases.push(std::mem::replace(&mut live.body, to.clone()));
    for alias in &live.aliases {
        st.moved.insert(alias.clone(), to.clone());
    }
    if let Some(s) = st.segs.get_mut(&old_seg) {
        s.remove_live(from);
    }
    if let Some(s) = st.segs.get_mut(&st.active) {
        s.add_live(&to);
    }
}
