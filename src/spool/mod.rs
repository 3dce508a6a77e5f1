//! The durable, sharded queue. Each shard appends length+CRC framed records to its own
//! segment files; a message is acknowledged only after its record is fdatasync'ed, and many
//! messages share one fdatasync (group commit). At start, segments are replayed.
//!
//! On disk: `<spool_dir>/shard-<k>/<seq:016x>.seg`.

mod record;

pub use record::{decode, encode, Record, RecordError};

use std::path::Path;
use std::rc::Rc;
use std::sync::atomic::AtomicU64;
use std::sync::Arc;

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
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BodyRef {
    pub segment: Rc<std::path::PathBuf>,
    pub offset: u64,
    pub len: u32,
}

/// A message found at start that is not yet final.
#[derive(Debug, Clone)]
pub struct Recovered {
    pub meta: MessageMeta,
    pub body: BodyRef,
    /// Indices into `meta.recipients` already final (delivered or bounced).
    pub done: Vec<u16>,
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

/// One shard's spool. Lives on its executor (`!Send`); cheap to clone (an `Rc` inside).
#[derive(Clone)]
pub struct Spool {}

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
        let _ = (dir, shard, shards, stats);
        todo!("spool helper")
    }

    /// Appends a message and returns once it is on stable storage (group commit). `body` is
    /// the wire form, given as slices that are concatenated (e.g. Received header + data).
    /// On error nothing of the message is stored.
    pub async fn store(&self, meta: &MessageMeta, body: &[&[u8]]) -> Result<BodyRef, SpoolError> {
        let _ = (meta, body);
        todo!("spool helper")
    }

    /// Records recipients of `id` as final. When all are, the message is final; segments whose
    /// messages are all final are deleted. Durable at the next group commit.
    pub async fn complete(&self, id: &str, recipients: &[u16]) -> Result<(), SpoolError> {
        let _ = (id, recipients);
        todo!("spool helper")
    }

    /// Reads a stored body back.
    pub async fn read_body(&self, body: &BodyRef) -> Result<Vec<u8>, SpoolError> {
        let _ = body;
        todo!("spool helper")
    }

    /// Waits for pending records to be synced.
    pub async fn flush(&self) -> Result<(), SpoolError> {
        todo!("spool helper")
    }
}
