//! Segment files: naming (`shard-<k>/<seq:016x>.seg`), durable creation, listing, reading.

use std::io;
use std::path::{Path, PathBuf};
use std::rc::Rc;

use glommio::io::{BufferedFile, Directory, OpenOptions};

/// Largest single read issued while loading a segment.
const READ_CHUNK: usize = 4 << 20;

/// Orders every segment a shard knows: adopted folders first (they predate this shard's
/// writes to their messages), then this shard's own segments by sequence number.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub(super) struct SegKey {
    /// 0 = adopted from a folder of a run with more shards, 1 = own.
    class: u8,
    /// The `k` of the `shard-<k>` folder holding the file.
    folder: usize,
    pub(super) seq: u64,
}

impl SegKey {
    pub(super) fn own(shard: usize, seq: u64) -> SegKey {
        SegKey { class: 1, folder: shard, seq }
    }

    pub(super) fn adopted(folder: usize, seq: u64) -> SegKey {
        SegKey { class: 0, folder, seq }
    }

    pub(super) fn is_adopted(&self) -> bool {
        self.class == 0
    }

    /// The next segment of this shard (always an own one).
    pub(super) fn next(&self) -> SegKey {
        SegKey::own(self.folder, self.seq + 1)
    }

    /// The folder holding the file.
    pub(super) fn dir(&self, root: &Path) -> PathBuf {
        shard_dir(root, self.folder)
    }

    pub(super) fn path(&self, root: &Path) -> PathBuf {
        self.dir(root).join(format!("{:016x}.seg", self.seq))
    }
}

/// A segment file the shard holds open.
pub(super) struct Segment {
    pub(super) path: Rc<PathBuf>,
    pub(super) file: Rc<BufferedFile>,
    /// Live messages whose current copy is in this segment.
    pub(super) live: usize,
    /// Body bytes of those messages (what a copy-forward would rewrite).
    pub(super) live_bytes: u64,
}

impl Segment {
    pub(super) fn add_live(&mut self, body: &super::BodyRef) {
        self.live += 1;
        self.live_bytes += u64::from(body.len);
    }

    pub(super) fn remove_live(&mut self, body: &super::BodyRef) {
        self.live -= 1;
        self.live_bytes -= u64::from(body.len);
    }
}

pub(super) fn shard_dir(root: &Path, shard: usize) -> PathBuf {
    root.join(format!("shard-{shard}"))
}

/// The sequence number of a segment file name.
fn parse_segment_name(name: &str) -> Option<u64> {
    let hex = name.strip_suffix(".seg")?;
    if hex.len() != 16 {
        return None;
    }
    u64::from_str_radix(hex, 16).ok()
}

/// The `k` of a `shard-<k>` folder name.
pub(super) fn parse_shard_dir(name: &str) -> Option<usize> {
    let k = name.strip_prefix("shard-")?;
    if k.is_empty() || !k.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    k.parse().ok()
}

/// Sequence numbers of the segments in `dir`, ascending; other files are ignored.
pub(super) fn list(dir: &Path) -> io::Result<Vec<u64>> {
    let mut seqs = Vec::new();
    for entry in std::fs::read_dir(dir)? {
        let name = entry?.file_name();
        match name.to_str().and_then(parse_segment_name) {
            Some(seq) => seqs.push(seq),
            None => tracing::warn!(?name, dir = %dir.display(), "spool: ignoring stray file"),
        }
    }
    seqs.sort_unstable();
    Ok(seqs)
}

/// Creates a new, empty segment and makes its directory entry durable.
pub(super) async fn create(root: &Path, dir: &Directory, key: SegKey) -> io::Result<Segment> {
    let path = key.path(root);
    // O_DSYNC: a write returns once its data is durable (one io_uring op instead of two).
    let file = OpenOptions::new()
        .read(true)
        .write(true)
        .create_new(true)
        .custom_flags(libc::O_DSYNC)
        .buffered_open(&path)
        .await?;
    if let Err(e) = dir.sync().await {
        let _ = file.remove().await;
        return Err(e.into());
    }
    Ok(Segment { path: Rc::new(path), file: Rc::new(file), live: 0, live_bytes: 0 })
}

/// Opens an existing segment for reading.
pub(super) async fn open(path: PathBuf) -> io::Result<Segment> {
    let file = BufferedFile::open(&path).await?;
    Ok(Segment { path: Rc::new(path), file: Rc::new(file), live: 0, live_bytes: 0 })
}

/// Reads the whole file.
pub(super) async fn read_all(file: &BufferedFile) -> io::Result<Vec<u8>> {
    let size = usize::try_from(file.file_size().await?)
        .map_err(|_| io::Error::new(io::ErrorKind::InvalidData, "segment too large"))?;
    read_exact(file, 0, size).await
}

/// Reads exactly `len` bytes at `pos`, in chunks, failing on a premature end of file.
pub(super) async fn read_exact(file: &BufferedFile, pos: u64, len: usize) -> io::Result<Vec<u8>> {
    let mut out = Vec::with_capacity(len);
    while out.len() < len {
        let want = (len - out.len()).min(READ_CHUNK);
        let got = file.read_at(pos + out.len() as u64, want).await?;
        if got.is_empty() {
            return Err(io::Error::new(io::ErrorKind::UnexpectedEof, "spool segment ends before the record"));
        }
        out.extend_from_slice(&got);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_parse_strictly() {
        assert_eq!(parse_segment_name("00000000000000ff.seg"), Some(255));
        assert_eq!(parse_segment_name("ff.seg"), None);
        assert_eq!(parse_segment_name("00000000000000ff.tmp"), None);
        assert_eq!(parse_shard_dir("shard-12"), Some(12));
        assert_eq!(parse_shard_dir("shard-"), None);
        assert_eq!(parse_shard_dir("shard-+1"), None);
    }

    #[test]
    fn adopted_segments_sort_first() {
        let own = SegKey::own(1, 1);
        let adopted = SegKey::adopted(3, 99);
        assert!(adopted < own);
        assert_eq!(own.path(Path::new("/s")), PathBuf::from("/s/shard-1/0000000000000001.seg"));
    }
}
