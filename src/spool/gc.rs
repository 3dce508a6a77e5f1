//! Segment clean-up. Segments are deleted oldest-first only: a `Done` or `Retry` record always
//! lies after its message's latest copy (replay writes it again at start where it does not), so
//! deleting in log order never resurrects a final message nor loses a retry state.
//! The oldest segment is deleted once it holds no live message; if it still holds some and
//! more than `copy_forward_lag` segments are newer and its live bodies fill at most a quarter of
//! a segment (or it was adopted from another folder), its live messages are first re-appended
//! to the active segment (same id and meta, plus a `Done` for recipients already final and a
//! `Retry` for a retry state that is not default), so that a long-lived message never pins the log.

use std::rc::{Rc, Weak};

use glommio::io::Directory;

use super::commit::{self, Effect};
use super::segment::SegKey;
use super::signal::{Notify, Receiver};
use super::{encode_done, encode_message, encode_retry, marked_indices, BodyRef, RetryState, Shared, SpoolError};

/// A segment is copied forward only while its live bodies are at most 1/this of a segment, so
/// a log full of queued messages is never rewritten over and over (write amplification of a
/// copy-forward stays under a third).
const COPY_FORWARD_MAX_LIVE: u64 = 4;

/// What to do next with the oldest segment.
enum Step {
    Idle,
    Delete(SegKey),
    CopyForward(SegKey),
}

/// The clean-up task: runs a collection whenever kicked, until the shard is dropped.
pub(super) async fn run(shared: Weak<Shared>, kick: Rc<Notify>) {
    while kick.wait().await {
        let Some(shared) = shared.upgrade() else {
            return;
        };
        shared.gc_busy.set(true);
        if let Err(e) = shared.collect().await {
            tracing::warn!(error = %e, "spool: segment clean-up failed; retried later");
        }
        shared.gc_busy.set(false);
        if !kick.is_raised() {
            let idle: Vec<_> = shared.gc_idle.borrow_mut().drain(..).collect();
            for tx in idle {
                tx.send(());
            }
        }
    }
}

impl Shared {
    /// Deletes (copying forward where needed) segments from the oldest on, while allowed.
    pub(super) async fn collect(&self) -> Result<(), SpoolError> {
        loop {
            match self.next_step() {
                Step::Idle => return Ok(()),
                Step::Delete(key) => self.delete(key).await?,
                Step::CopyForward(key) => {
                    self.copy_forward(key).await?;
                    let left = self.state.borrow().segs.get(&key).map_or(0, |s| s.live);
                    if left > 0 {
                        return Ok(());
                    }
                }
            }
        }
    }

    fn next_step(&self) -> Step {
        let st = self.state.borrow();
        let Some((&key, seg)) = st.segs.first_key_value() else {
            return Step::Idle;
        };
        if key == st.active {
            Step::Idle
        } else if seg.live == 0 {
            Step::Delete(key)
        } else if key.is_adopted()
            || (st.segs.len() - 1 > self.opts.copy_forward_lag
                && seg.live_bytes.saturating_mul(COPY_FORWARD_MAX_LIVE) <= self.opts.segment_size)
        {
            Step::CopyForward(key)
        } else {
            Step::Idle
        }
    }

    /// Unlinks a segment and syncs its folder, so the deletion is durable in log order.
    async fn delete(&self, key: SegKey) -> Result<(), SpoolError> {
        let Some(seg) = self.state.borrow_mut().segs.remove(&key) else {
            return Ok(());
        };
        if let Err(e) = seg.file.remove().await {
            self.state.borrow_mut().segs.insert(key, seg);
            return Err(std::io::Error::from(e).into());
        }
        if key.is_adopted() {
            let dir = Directory::open(key.dir(&self.root)).await.map_err(std::io::Error::from)?;
            dir.sync().await.map_err(std::io::Error::from)?;
        } else {
            self.dir_handle.sync().await.map_err(std::io::Error::from)?;
        }
        tracing::debug!(segment = %seg.path.display(), "spool: segment deleted");
        if let Ok(file) = Rc::try_unwrap(seg.file) {
            let _ = file.close().await;
        }
        Ok(())
    }

    /// Re-appends every live message of segment `key` to the active segment and waits for
    /// those commits.
    async fn copy_forward(&self, key: SegKey) -> Result<(), SpoolError> {
        let items: Vec<(String, BodyRef)> = {
            let st = self.state.borrow();
            st.live.iter().filter(|(_, l)| l.seg == key).map(|(id, l)| (id.clone(), l.body.clone())).collect()
        };
        let mut replies = Vec::new();
        for (id, from) in items {
            let body = self.read_body(&from).await?;
            if let Some(rx) = self.enqueue_copy(&id, from, &body) {
                replies.push(rx);
                self.commit_kick.raise();
            }
        }
        for rx in replies {
            commit::outcome(rx).await?;
        }
        Ok(())
    }

    /// Queues the copy of a message still at `from`, with a `Done` record for every recipient
    /// marked final (including those whose own `Done` is still in flight) and a `Retry` record
    /// with its latest retry state unless that is the default.
    fn enqueue_copy(&self, id: &str, from: BodyRef, body: &[u8]) -> Option<Receiver<commit::Reply>> {
        let mut st = self.state.borrow_mut();
        let st = &mut *st;
        let live = st.live.get(id)?;
        if live.body != from || live.marked.iter().all(|&m| m) {
            return None;
        }
        let batch = &mut st.pending;
        encode_message(&live.meta, &[body], &mut batch.buf);
        let body_off = (batch.buf.len() - body.len()) as u64;
        let done = marked_indices(&live.marked);
        if !done.is_empty() {
            encode_done(id, &done, &mut batch.buf);
        }
        if live.retry != RetryState::default() {
            encode_retry(id, live.retry, &mut batch.buf);
        }
        batch.effects.push(Effect::Copy { id: id.to_owned(), from, body_off });
        Some(batch.wait())
    }
}
