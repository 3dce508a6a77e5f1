//! The Drop directory: one `<id>.eml` per message, written atomically (temp file, fdatasync,
//! rename, fsync of the directory), un-stuffed, with `X-Sender` / `X-Receiver` lines first.

use std::io;
use std::path::{Path, PathBuf};

use glommio::io::{BufferedFile, Directory};

use crate::proto::stuff::unstuff_into;
use crate::spool::MessageMeta;

/// The file content for the local recipients `local` (indices into `meta.recipients`) of a
/// wire-form message. The null reverse-path is written as `<>`.
pub fn render(meta: &MessageMeta, local: &[u16], wire: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(wire.len() + 64 * (local.len() + 1));
    let sender = if meta.reverse_path.is_empty() { "<>" } else { meta.reverse_path.as_str() };
    out.extend_from_slice(b"X-Sender: ");
    out.extend_from_slice(sender.as_bytes());
    out.extend_from_slice(b"\r\n");
    for &i in local {
        out.extend_from_slice(b"X-Receiver: ");
        out.extend_from_slice(meta.recipients[i as usize].as_bytes());
        out.extend_from_slice(b"\r\n");
    }
    unstuff_into(wire, &mut out);
    out
}

/// An open Drop directory (kept open to fsync it after each rename).
pub struct DropDir {
    path: PathBuf,
    dir: Directory,
}

impl DropDir {
    pub async fn open(path: &Path) -> io::Result<DropDir> {
        let dir = Directory::open(path).await.map_err(io::Error::from)?;
        Ok(DropDir { path: path.to_path_buf(), dir })
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Writes `<id>.eml` atomically. Writing the same id again replaces the file, so a message
    /// delivered again after a crash leaves one file.
    pub async fn write(&self, id: &str, content: Vec<u8>) -> io::Result<()> {
        write_atomically(&self.path, &format!("{id}.eml"), content).await?;
        self.dir.sync().await.map_err(io::Error::from)
    }
}

/// Temp file, write, fdatasync, rename to `name`. The caller syncs the directory.
pub async fn write_atomically(dir: &Path, name: &str, content: Vec<u8>) -> io::Result<()> {
    let tmp = dir.join(format!(".{name}.tmp"));
    let mut file = BufferedFile::create(&tmp).await.map_err(io::Error::from)?;
    let len = content.len();
    let result = async {
        let written = file.write_at(content, 0).await.map_err(io::Error::from)?;
        if written != len {
            return Err(io::Error::new(io::ErrorKind::WriteZero, "short write"));
        }
        file.fdatasync().await.map_err(io::Error::from)?;
        file.rename(dir.join(name)).await.map_err(io::Error::from)
    }
    .await;
    let _ = file.close().await;
    if result.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    result
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn render_headers_and_unstuffs() {
        let meta = MessageMeta {
            id: "X".into(),
            received_at: 0,
            reverse_path: "a@example.com".into(),
            recipients: vec!["r1@local.test".into(), "far@remote.test".into(), "r2@alias.test".into()],
            virtual_server: "vs".into(),
            flags: 0,
        };
        let out = render(&meta, &[0, 2], b"Subject: s\r\n\r\n..dot\r\nbody\r\n");
        assert_eq!(
            out,
            b"X-Sender: a@example.com\r\nX-Receiver: r1@local.test\r\nX-Receiver: r2@alias.test\r\n\
              Subject: s\r\n\r\n.dot\r\nbody\r\n"
                .to_vec()
        );
        let null = MessageMeta { reverse_path: String::new(), ..meta };
        assert!(render(&null, &[0], b"").starts_with(b"X-Sender: <>\r\nX-Receiver: r1@local.test\r\n"));
    }
}
