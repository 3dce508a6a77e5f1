//! Replay at start: reads this shard's segments and those adopted from a run with more
//! shards, in log order, and rebuilds the live set. Replay is a union: a later copy of a
//! message replaces its meta and place, `Done` marks accumulate whatever their order, and a
//! message is final when every recipient is marked.

use std::collections::{BTreeMap, HashMap};
use std::io;
use std::path::{Path, PathBuf};
use std::rc::Rc;

use glommio::io::Directory;

use super::record::{decode_view, plausible_frame_len, RecordError, RecordView};
use super::segment::{self, SegKey, Segment};
use super::{BodyRef, Live, SpoolError};

/// What replay found.
pub(super) struct Replay {
    pub(super) segs: BTreeMap<SegKey, Segment>,
    pub(super) live: HashMap<String, Live>,
    /// Sequence number for this run's first segment.
    pub(super) next_seq: u64,
    /// Final recipients whose `Done` lies before the message's latest copy in the log; they
    /// are written again so that deleting older segments cannot lose them.
    pub(super) restate: Restate,
}

/// Recipient indices per message id whose `Done` must be written again.
pub(super) type Restate = Vec<(String, Vec<u16>)>;

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

/// Replay state: every message record seen (latest copy), the marks set by `Done` records
/// after that copy, and `Done` marks for ids whose message has not been seen yet.
#[derive(Default)]
struct Acc {
    msgs: HashMap<String, Live>,
    covered: HashMap<String, Vec<bool>>,
    orphans: HashMap<String, Vec<u16>>,
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
                let n = meta.recipients.len();
                let mut marked = self.msgs.remove(&meta.id).map_or_else(Vec::new, |m| m.marked);
                marked.resize(n, false);
                self.covered.insert(meta.id.clone(), vec![false; n]);
                let live = Live { meta, body, seg: key, marked, durable: 0, aliases: Vec::new() };
                self.msgs.insert(live.meta.id.clone(), live);
            }
            RecordView::Done { id, recipients } => match self.msgs.get_mut(&id) {
                Some(live) => {
                    mark(&mut live.marked, &recipients);
                    if let Some(covered) = self.covered.get_mut(&id) {
                        mark(covered, &recipients);
                    }
                }
                None => self.orphans.entry(id).or_default().extend(recipients),
            },
        }
    }

    /// The live set (messages with an unmarked recipient), counted per segment, and the
    /// marks of live messages not covered by a `Done` after their latest copy.
    fn finish(mut self, segs: &mut BTreeMap<SegKey, Segment>) -> (HashMap<String, Live>, Restate) {
        for (id, recipients) in self.orphans {
            if let Some(live) = self.msgs.get_mut(&id) {
                mark(&mut live.marked, &recipients);
            }
        }
        self.msgs.retain(|_, l| !l.marked.iter().all(|&m| m));
        let mut restate = Vec::new();
        for (id, live) in &mut self.msgs {
            live.durable = live.marked.iter().filter(|&&m| m).count();
            if let Some(seg) = segs.get_mut(&live.seg) {
                seg.add_live(&live.body);
            }
            let covered = &self.covered[id];
            let uncovered: Vec<u16> =
                (0..live.marked.len()).filter(|&i| live.marked[i] && !covered[i]).map(|i| i as u16).collect();
            if !uncovered.is_empty() {
                restate.push((id.clone(), uncovered));
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
