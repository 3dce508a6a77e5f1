//! Replay at start: reads this shard's segments and those adopted from a run with more
//! shards, in log order, and rebuilds the live set. Replay is a union: a later copy of a
//! message replaces its meta and place, `Done` marks accumulate whatever their order, and a
//! message is final when every recipient is marked. The latest `Retry` in log order (across
//! copies) sets the retry state; one read before its message is seen applies like an orphan `Done`.

use std::collections::{BTreeMap, HashMap};
use std::io;
use std::path::{Path, PathBuf};
use std::rc::Rc;

use glommio::io::Directory;

use super::record::{decode_view, plausible_frame_len, RecordError, RecordView};
use super::segment::{self, SegKey, Segment};
use super::{BodyRef, Live, MessageMeta, RetryState, SpoolError};

/// What replay found.
pub(super) struct Replay {
    pub(super) segs: BTreeMap<SegKey, Segment>,
    pub(super) live: HashMap<String, Live>,
    /// Sequence number for this run's first segment.
    pub(super) next_seq: u64,
    /// State of live messages recorded only before their latest copy in the log; it is
    /// written again so that deleting older segments cannot lose it.
    pub(super) restate: Restate,
}

/// Records to write again at start.
#[derive(Default)]
pub(super) struct Restate {
    /// Recipient indices per message id whose `Done` must be written again.
    pub(super) done: Vec<(String, Vec<u16>)>,
    /// Retry states (not default) whose latest `Retry` precedes the message's latest copy.
    pub(super) retry: Vec<(String, RetryState)>,
}

/// Replays shard `shard` of `shards` under `root`, creating its folder if needed.
pub(super) async fn replay(root: &Path, shard: usize, shards: usize) -> Result<Replay, SpoolError> {
    if shard >= shards {
        return Err(io::Error::new(io::ErrorKind::InvalidInput, "shard index out of range").into());
    }
    let own_dir = segment::shard_dir(root, shard);
    std::fs::create_dir_all(&own_dir)?;
    let root_dir = Directory::open(root).await.map_err(io::Error::from)?;
    root_dir.sync().await.map_err(io::Error::from)?;
    let mut keys: Vec<SegKey> = segment::list(&own_dir)?.into_iter().map(|seq| SegKey::own(shard, seq)).collect();
    let next_seq = keys.last().map_or(1, |k| k.seq + 1);
    for folder in adopted_folders(root, shard, shards)? {
        let dir = segment::shard_dir(root, folder);
        keys.extend(segment::list(&dir)?.into_iter().map(|seq| SegKey::adopted(folder, seq)));
    }
    keys.sort_unstable();
    let mut acc = Acc::default();
    let mut segs = BTreeMap::new();
    for key in keys {
        let seg = segment::open(key.path(root)).await?;
        let data = segment::read_all(&seg.file).await?;
        acc.scan(&seg.path, key, &data);
        segs.insert(key, seg);
    }
    let (live, restate) = acc.finish(&mut segs);
    Ok(Replay { segs, live, next_seq, restate })
}

/// Folders `shard-<j>` with `j >= shards` and `j % shards == shard`.
fn adopted_folders(root: &Path, shard: usize, shards: usize) -> io::Result<Vec<usize>> {
    let mut folders = Vec::new();
    for entry in std::fs::read_dir(root)? {
        let entry = entry?;
        let name = entry.file_name();
        let Some(j) = name.to_str().and_then(segment::parse_shard_dir) else {
            continue;
        };
        if j >= shards && j % shards == shard && entry.file_type()?.is_dir() {
            folders.push(j);
        }
    }
    Ok(folders)
}

/// Replay state: every message record seen (latest copy), what records after that copy
/// set, and `Done` marks and the latest retry state for ids whose message has not been seen yet.
#[derive(Default)]
struct Acc {
    msgs: HashMap<String, Live>,
    covered: HashMap<String, Covered>,
    orphans: HashMap<String, Vec<u16>>,
    retry_orphans: HashMap<String, RetryState>,
}

/// What records after a message's latest copy set.
struct Covered {
    done: Vec<bool>,
    retry: bool,
}

impl Acc {
    /// Applies every record of one segment. A torn tail ends the segment; a damaged record
    /// is skipped when its length is plausible, else the rest of the segment is.
    fn scan(&mut self, path: &Rc<PathBuf>, key: SegKey, data: &[u8]) {
        let mut pos = 0;
        while pos < data.len() {
            match decode_view(&data[pos..]) {
                Ok((view, used)) => {
                    pos += used;
                    self.apply(view, path, key, pos as u64);
                }
                Err(RecordError::Truncated) => {
                    tracing::info!(segment = %path.display(), offset = pos,
                        bytes = data.len() - pos, "spool: ignoring a torn tail");
                    return;
                }
                Err(e) => {
                    tracing::warn!(segment = %path.display(), offset = pos, error = %e,
                        "spool: damaged record");
                    match plausible_frame_len(&data[pos..]) {
                        Some(len) => pos += len,
                        None => {
                            tracing::warn!(segment = %path.display(), offset = pos,
                                "spool: cannot resynchronise; rest of segment skipped");
                            return;
                        }
                    }
                }
            }
        }
    }

    /// Applies one record that ends at offset `end` of the segment.
    fn apply(&mut self, view: RecordView<'_>, path: &Rc<PathBuf>, key: SegKey, end: u64) {
        match view {
            RecordView::Message { meta, body } => {
                let body = BodyRef { segment: path.clone(), offset: end - body.len() as u64, len: body.len() as u32 };
                self.message(meta, body, key);
            }
            RecordView::Done { id, recipients } => match self.msgs.get_mut(&id) {
                Some(live) => {
                    mark(&mut live.marked, &recipients);
                    if let Some(covered) = self.covered.get_mut(&id) {
                        mark(&mut covered.done, &recipients);
                    }
                }
                None => self.orphans.entry(id).or_default().extend(recipients),
            },
            RecordView::Retry { id, state } => match self.msgs.get_mut(&id) {
                Some(live) => {
                    live.retry = state;
                    if let Some(covered) = self.covered.get_mut(&id) {
                        covered.retry = true;
                    }
                }
                None => {
                    self.retry_orphans.insert(id, state);
                }
            },
        }
    }

    /// Takes a copy of a message as its latest, keeping the marks and retry state of earlier
    /// copies (or, for the first copy, the retry state of an orphan `Retry`).
    fn message(&mut self, meta: MessageMeta, body: BodyRef, key: SegKey) {
        let n = meta.recipients.len();
        let (mut marked, retry) = match self.msgs.remove(&meta.id) {
            Some(old) => (old.marked, old.retry),
            None => (Vec::new(), self.retry_orphans.remove(&meta.id).unwrap_or_default()),
        };
        marked.resize(n, false);
        self.covered.insert(meta.id.clone(), Covered { done: vec![false; n], retry: false });
        let live = Live { meta: Rc::new(meta), body, seg: key, marked, durable: 0, aliases: Vec::new(), retry };
        self.msgs.insert(live.meta.id.clone(), live);
    }

    /// The live set (messages with an unmarked recipient), counted per segment, and the
    /// marks and retry states of live messages not covered by a record after their latest copy.
    fn finish(mut self, segs: &mut BTreeMap<SegKey, Segment>) -> (HashMap<String, Live>, Restate) {
        for (id, recipients) in self.orphans {
            if let Some(live) = self.msgs.get_mut(&id) {
                mark(&mut live.marked, &recipients);
            }
        }
        self.msgs.retain(|_, l| !l.marked.iter().all(|&m| m));
        let mut restate = Restate::default();
        for (id, live) in &mut self.msgs {
            live.durable = live.marked.iter().filter(|&&m| m).count();
            if let Some(seg) = segs.get_mut(&live.seg) {
                seg.add_live(&live.body);
            }
            let covered = &self.covered[id];
            let uncovered: Vec<u16> =
                (0..live.marked.len()).filter(|&i| live.marked[i] && !covered.done[i]).map(|i| i as u16).collect();
            if !uncovered.is_empty() {
                restate.done.push((id.clone(), uncovered));
            }
            if !covered.retry && live.retry != RetryState::default() {
                restate.retry.push((id.clone(), live.retry));
            }
        }
        (self.msgs, restate)
    }
}

fn mark(marked: &mut [bool], recipients: &[u16]) {
    for &r in recipients {
        if let Some(m) = marked.get_mut(usize::from(r)) {
            *m = true;
        }
    }
}
