//! The spool record codec: `[len u32 LE][crc32 u32 LE][payload]`, payload = kind byte + fields.

use super::MessageMeta;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Record {
    /// A message: its metadata and its wire-form body.
    Message { meta: MessageMeta, body: Vec<u8> },
    /// Recipients (indices) of a message are final.
    Done { id: String, recipients: Vec<u16> },
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RecordError {
    /// Not enough bytes for a whole record (a torn tail at the end of a segment).
    #[error("truncated record")]
    Truncated,
    #[error("checksum mismatch")]
    Checksum,
    #[error("malformed record: {0}")]
    Malformed(&'static str),
}

/// Appends the framed record to `out`.
pub fn encode(record: &Record, out: &mut Vec<u8>) {
    let _ = (record, out);
    todo!("spool helper")
}

/// Decodes the record at the start of `buf`; returns it and its framed length.
pub fn decode(buf: &[u8]) -> Result<(Record, usize), RecordError> {
    let _ = buf;
    todo!("spool helper")
}
