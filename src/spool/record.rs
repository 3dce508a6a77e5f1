//! The spool record codec: `[len u32 LE][crc32 u32 LE][payload]`, payload = kind byte + fields.
//!
//! Strings are `u32 LE` length + UTF-8 bytes, counts are `u32 LE`, recipient indices `u16 LE`.
//! Kinds: `1` message (id, received_at `u64`, reverse path, virtual server, flags `u8`,
//! recipients, body), `2` done (id, recipient indices), `3` retry (id, attempts `u32`,
//! next_attempt `u64` unix seconds, delay_notified `u8` 0 or 1).
//! A message payload ends with its body (`u32 LE` length + bytes), so the body of a framed
//! message always occupies the last `body.len()` bytes of the frame.

use super::{MessageMeta, RetryState};

/// Largest body a message record may carry.
pub const MAX_BODY: usize = 64 << 20;
/// Largest payload (body plus metadata) a frame may carry; longer lengths are rejected.
pub const MAX_PAYLOAD: usize = MAX_BODY + (1 << 20);
/// Bytes of the frame header (`len` + `crc`).
pub const HEADER: usize = 8;

const KIND_MESSAGE: u8 = 1;
const KIND_DONE: u8 = 2;
const KIND_RETRY: u8 = 3;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Record {
    /// A message: its metadata and its wire-form body.
    Message { meta: MessageMeta, body: Vec<u8> },
    /// Recipients (indices) of a message are final.
    Done { id: String, recipients: Vec<u16> },
    /// The retry state of a message after a failed delivery attempt; the latest one counts.
    Retry { id: String, attempts: u32, next_attempt: u64, delay_notified: bool },
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RecordError {
    /// Not enough bytes for a whole record (a torn tail at the end of a segment).
    #[error("truncated record")]
    Truncated,
    /// The payload does not match its CRC: the bytes were damaged.
    #[error("checksum mismatch")]
    Checksum,
    /// The CRC matches but the payload does not parse, or the length is absurd.
    #[error("malformed record: {0}")]
    Malformed(&'static str),
}

/// A decoded record that borrows its body from the decoded buffer.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum RecordView<'a> {
    Message { meta: MessageMeta, body: &'a [u8] },
    Done { id: String, recipients: Vec<u16> },
    Retry { id: String, state: RetryState },
}

/// Appends the framed record to `out`.
pub fn encode(record: &Record, out: &mut Vec<u8>) {
    match record {
        Record::Message { meta, body } => encode_message(meta, &[body], out),
        Record::Done { id, recipients } => encode_done(id, recipients, out),
        &Record::Retry { ref id, attempts, next_attempt, delay_notified } => {
            encode_retry(id, RetryState { attempts, next_attempt, delay_notified }, out)
        }
    }
}

/// Appends a framed message record whose body is the concatenation of `body`, without
/// first gathering the body into one buffer.
pub fn encode_message(meta: &MessageMeta, body: &[&[u8]], out: &mut Vec<u8>) {
    let start = begin_frame(out);
    out.push(KIND_MESSAGE);
    put_str(out, &meta.id);
    out.extend_from_slice(&meta.received_at.to_le_bytes());
    put_str(out, &meta.reverse_path);
    put_str(out, &meta.virtual_server);
    out.push(meta.flags);
    put_u32(out, meta.recipients.len());
    for rcpt in &meta.recipients {
        put_str(out, rcpt);
    }
    put_u32(out, body.iter().map(|s| s.len()).sum());
    for slice in body {
        out.extend_from_slice(slice);
    }
    end_frame(out, start);
}

/// Appends a framed `Done` record.
pub fn encode_done(id: &str, recipients: &[u16], out: &mut Vec<u8>) {
    let start = begin_frame(out);
    out.push(KIND_DONE);
    put_str(out, id);
    put_u32(out, recipients.len());
    for r in recipients {
        out.extend_from_slice(&r.to_le_bytes());
    }
    end_frame(out, start);
}

/// Appends a framed `Retry` record.
pub fn encode_retry(id: &str, state: RetryState, out: &mut Vec<u8>) {
    let start = begin_frame(out);
    out.push(KIND_RETRY);
    put_str(out, id);
    out.extend_from_slice(&state.attempts.to_le_bytes());
    out.extend_from_slice(&state.next_attempt.to_le_bytes());
    out.push(u8::from(state.delay_notified));
    end_frame(out, start);
}

/// Decodes the record at the start of `buf`; returns it and its framed length.
pub fn decode(buf: &[u8]) -> Result<(Record, usize), RecordError> {
    let (view, used) = decode_view(buf)?;
    let record = match view {
        RecordView::Message { meta, body } => Record::Message { meta, body: body.to_vec() },
        RecordView::Done { id, recipients } => Record::Done { id, recipients },
        RecordView::Retry { id, state } => Record::Retry {
            id,
            attempts: state.attempts,
            next_attempt: state.next_attempt,
            delay_notified: state.delay_notified,
        },
    };
    Ok((record, used))
}

/// Like [`decode`], but the body stays in `buf`.
pub(crate) fn decode_view(buf: &[u8]) -> Result<(RecordView<'_>, usize), RecordError> {
    let payload = frame_payload(buf)?;
    let mut r = Reader { buf: payload };
    let view = match r.u8()? {
        KIND_MESSAGE => decode_message(&mut r)?,
        KIND_DONE => {
            let id = r.string()?;
            let n = r.count(2)?;
            let recipients = (0..n).map(|_| r.u16()).collect::<Result<_, _>>()?;
            RecordView::Done { id, recipients }
        }
        KIND_RETRY => decode_retry(&mut r)?,
        _ => return Err(RecordError::Malformed("unknown record kind")),
    };
    if !r.buf.is_empty() {
        return Err(RecordError::Malformed("trailing bytes"));
    }
    Ok((view, HEADER + payload.len()))
}

/// Checks the frame header and CRC; returns the payload.
fn frame_payload(buf: &[u8]) -> Result<&[u8], RecordError> {
    if buf.len() < HEADER {
        return Err(RecordError::Truncated);
    }
    let len = u32::from_le_bytes(buf[0..4].try_into().expect("4 bytes")) as usize;
    let crc = u32::from_le_bytes(buf[4..8].try_into().expect("4 bytes"));
    if len == 0 || len > MAX_PAYLOAD {
        return Err(RecordError::Malformed("implausible length"));
    }
    let payload = buf.get(HEADER..HEADER + len).ok_or(RecordError::Truncated)?;
    if crc32fast::hash(payload) != crc {
        return Err(RecordError::Checksum);
    }
    Ok(payload)
}

/// Length of the frame starting at `buf` when its header is plausible, whatever its payload.
pub(crate) fn plausible_frame_len(buf: &[u8]) -> Option<usize> {
    let len = u32::from_le_bytes(buf.get(0..4)?.try_into().ok()?) as usize;
    (len > 0 && len <= MAX_PAYLOAD && HEADER + len <= buf.len()).then_some(HEADER + len)
}

fn decode_message<'a>(r: &mut Reader<'a>) -> Result<RecordView<'a>, RecordError> {
    let id = r.string()?;
    let received_at = r.u64()?;
    let reverse_path = r.string()?;
    let virtual_server = r.string()?;
    let flags = r.u8()?;
    let n = r.count(4)?;
    let recipients = (0..n).map(|_| r.string()).collect::<Result<_, _>>()?;
    let body_len = r.count(1)?;
    let body = r.take(body_len)?;
    let meta = MessageMeta { id, received_at, reverse_path, recipients, virtual_server, flags };
    Ok(RecordView::Message { meta, body })
}

fn decode_retry<'a>(r: &mut Reader<'a>) -> Result<RecordView<'a>, RecordError> {
    let id = r.string()?;
    let attempts = r.u32()?;
    let next_attempt = r.u64()?;
    let delay_notified = match r.u8()? {
        0 => false,
        1 => true,
        _ => return Err(RecordError::Malformed("flag not 0 or 1")),
    };
    Ok(RecordView::Retry { id, state: RetryState { attempts, next_attempt, delay_notified } })
}

fn begin_frame(out: &mut Vec<u8>) -> usize {
    let start = out.len();
    out.extend_from_slice(&[0; HEADER]);
    start
}

fn end_frame(out: &mut [u8], start: usize) {
    let payload = &out[start + HEADER..];
    let len = u32::try_from(payload.len()).unwrap_or(u32::MAX);
    let crc = crc32fast::hash(payload);
    out[start..start + 4].copy_from_slice(&len.to_le_bytes());
    out[start + 4..start + 8].copy_from_slice(&crc.to_le_bytes());
}

fn put_u32(out: &mut Vec<u8>, n: usize) {
    out.extend_from_slice(&u32::try_from(n).unwrap_or(u32::MAX).to_le_bytes());
}

fn put_str(out: &mut Vec<u8>, s: &str) {
    put_u32(out, s.len());
    out.extend_from_slice(s.as_bytes());
}

/// A bounds-checked cursor over a payload: every read fails with `Malformed`, never panics.
struct Reader<'a> {
    buf: &'a [u8],
}

impl<'a> Reader<'a> {
    fn take(&mut self, n: usize) -> Result<&'a [u8], RecordError> {
        if n > self.buf.len() {
            return Err(RecordError::Malformed("field past the end of the payload"));
        }
        let (head, tail) = self.buf.split_at(n);
        self.buf = tail;
        Ok(head)
    }

    fn array<const N: usize>(&mut self) -> Result<[u8; N], RecordError> {
        Ok(self.take(N)?.try_into().expect("exact length"))
    }

    fn u8(&mut self) -> Result<u8, RecordError> {
        Ok(self.array::<1>()?[0])
    }

    fn u16(&mut self) -> Result<u16, RecordError> {
        Ok(u16::from_le_bytes(self.array()?))
    }

    fn u32(&mut self) -> Result<u32, RecordError> {
        Ok(u32::from_le_bytes(self.array()?))
    }

    fn u64(&mut self) -> Result<u64, RecordError> {
        Ok(u64::from_le_bytes(self.array()?))
    }

    /// A `u32` count of items of at least `min_size` bytes each; checked against what is
    /// left so that a bad count never causes a large allocation.
    fn count(&mut self, min_size: usize) -> Result<usize, RecordError> {
        let n = self.u32()? as usize;
        if n.saturating_mul(min_size) > self.buf.len() {
            return Err(RecordError::Malformed("count past the end of the payload"));
        }
        Ok(n)
    }

    fn string(&mut self) -> Result<String, RecordError> {
        let n = self.count(1)?;
        let bytes = self.take(n)?;
        String::from_utf8(bytes.to_vec()).map_err(|_| RecordError::Malformed("string not UTF-8"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn meta() -> MessageMeta {
        MessageMeta {
            id: "m-0001".into(),
            received_at: 1_700_000_000,
            reverse_path: "alice@example.com".into(),
            recipients: vec!["bob@example.org".into(), "carol@example.net".into()],
            virtual_server: "Default SMTP Virtual Server".into(),
            flags: 3,
        }
    }

    fn message() -> Record {
        Record::Message { meta: meta(), body: b"Subject: hi\r\n\r\nhello\r\n".to_vec() }
    }

    fn done() -> Record {
        Record::Done { id: "m-0001".into(), recipients: vec![0, 1, 65535] }
    }

    fn retry() -> Record {
        Record::Retry { id: "m-0001".into(), attempts: 7, next_attempt: 1_700_003_600, delay_notified: true }
    }

    /// A retry payload with the given id bytes and delay flag byte.
    fn retry_payload(id: &[u8], flag: u8) -> Vec<u8> {
        let mut p = vec![KIND_RETRY];
        p.extend_from_slice(&(id.len() as u32).to_le_bytes());
        p.extend_from_slice(id);
        p.extend_from_slice(&3u32.to_le_bytes());
        p.extend_from_slice(&9u64.to_le_bytes());
        p.push(flag);
        p
    }

    fn framed(record: &Record) -> Vec<u8> {
        let mut out = Vec::new();
        encode(record, &mut out);
        out
    }

    /// Frames a raw payload with a correct header.
    fn frame_raw(payload: &[u8]) -> Vec<u8> {
        let mut out = Vec::new();
        out.extend_from_slice(&(payload.len() as u32).to_le_bytes());
        out.extend_from_slice(&crc32fast::hash(payload).to_le_bytes());
        out.extend_from_slice(payload);
        out
    }

    #[test]
    fn round_trips() {
        let empty = Record::Message {
            meta: MessageMeta {
                id: String::new(),
                received_at: 0,
                reverse_path: String::new(),
                recipients: vec![],
                virtual_server: String::new(),
                flags: 0,
            },
            body: vec![],
        };
        let no_rcpt = Record::Done { id: "x".into(), recipients: vec![] };
        let zero_retry = Record::Retry { id: String::new(), attempts: 0, next_attempt: 0, delay_notified: false };
        let max_retry =
            Record::Retry { id: "y".into(), attempts: u32::MAX, next_attempt: u64::MAX, delay_notified: true };
        for record in [message(), done(), empty, no_rcpt, retry(), zero_retry, max_retry] {
            let mut buf = framed(&record);
            let len = buf.len();
            buf.extend_from_slice(b"next record");
            assert_eq!(decode(&buf), Ok((record, len)));
        }
    }

    #[test]
    fn retry_layout_is_fixed() {
        let mut want = vec![KIND_RETRY, 6, 0, 0, 0];
        want.extend_from_slice(b"m-0001");
        want.extend_from_slice(&7u32.to_le_bytes());
        want.extend_from_slice(&1_700_003_600u64.to_le_bytes());
        want.push(1);
        assert_eq!(framed(&retry()), frame_raw(&want));
        let (record, _) = decode(&frame_raw(&retry_payload(b"id", 0))).unwrap();
        assert_eq!(record, Record::Retry { id: "id".into(), attempts: 3, next_attempt: 9, delay_notified: false });
    }

    #[test]
    fn sliced_body_equals_contiguous_body() {
        let mut sliced = Vec::new();
        encode_message(&meta(), &[b"Subject: hi\r\n", b"\r\nhel", b"lo\r\n"], &mut sliced);
        assert_eq!(sliced, framed(&message()));
    }

    #[test]
    fn body_is_the_tail_of_the_frame() {
        let buf = framed(&message());
        let Ok((RecordView::Message { body, .. }, len)) = decode_view(&buf) else {
            panic!("not a message");
        };
        assert_eq!(&buf[len - body.len()..len], body);
    }

    #[test]
    fn table_of_bad_inputs() {
        let mut bad_crc = framed(&done());
        bad_crc[4] ^= 0xff;
        let mut huge = framed(&done());
        huge[0..4].copy_from_slice(&u32::MAX.to_le_bytes());
        let cases: Vec<(&str, Vec<u8>, RecordError)> = vec![
            ("empty", vec![], RecordError::Truncated),
            ("half header", vec![5, 0, 0], RecordError::Truncated),
            ("zero length", vec![0; 8], RecordError::Malformed("implausible length")),
            ("absurd length", huge, RecordError::Malformed("implausible length")),
            ("bad crc", bad_crc, RecordError::Checksum),
            ("unknown kind", frame_raw(&[9]), RecordError::Malformed("unknown record kind")),
            (
                "string past end",
                frame_raw(&[KIND_DONE, 200, 0, 0, 0, b'a']),
                RecordError::Malformed("count past the end of the payload"),
            ),
            (
                "huge recipient count",
                frame_raw(&[KIND_DONE, 1, 0, 0, 0, b'a', 0xff, 0xff, 0xff, 0xff]),
                RecordError::Malformed("count past the end of the payload"),
            ),
            (
                "odd index bytes",
                frame_raw(&[KIND_DONE, 0, 0, 0, 0, 1, 0, 0, 0, 7]),
                RecordError::Malformed("count past the end of the payload"),
            ),
            (
                "short timestamp",
                frame_raw(&[KIND_MESSAGE, 0, 0, 0, 0, 1, 2, 3]),
                RecordError::Malformed("field past the end of the payload"),
            ),
            (
                "non UTF-8 id",
                frame_raw(&[KIND_DONE, 1, 0, 0, 0, 0xff, 0, 0, 0, 0]),
                RecordError::Malformed("string not UTF-8"),
            ),
            (
                "trailing bytes",
                frame_raw(&[KIND_DONE, 0, 0, 0, 0, 0, 0, 0, 0, 1]),
                RecordError::Malformed("trailing bytes"),
            ),
            (
                "retry without flag",
                frame_raw(&retry_payload(b"a", 0)[..18]),
                RecordError::Malformed("field past the end of the payload"),
            ),
            (
                "retry with short attempts",
                frame_raw(&[KIND_RETRY, 0, 0, 0, 0, 1, 2]),
                RecordError::Malformed("field past the end of the payload"),
            ),
            ("retry flag 2", frame_raw(&retry_payload(b"a", 2)), RecordError::Malformed("flag not 0 or 1")),
            (
                "retry with trailing byte",
                frame_raw(&[retry_payload(b"a", 1).as_slice(), &[0]].concat()),
                RecordError::Malformed("trailing bytes"),
            ),
            ("non UTF-8 retry id", frame_raw(&retry_payload(&[0xc3], 0)), RecordError::Malformed("string not UTF-8")),
        ];
        for (name, buf, want) in cases {
            assert_eq!(decode(&buf).map(|_| ()), Err(want), "{name}");
        }
    }

    #[test]
    fn every_truncation_is_truncated() {
        for record in [message(), done(), retry()] {
            let buf = framed(&record);
            for cut in 0..buf.len() {
                assert_eq!(decode(&buf[..cut]), Err(RecordError::Truncated), "cut {cut}");
            }
        }
    }

    /// With enough bytes after the frame that a damaged length still fits, every single-bit
    /// flip is caught as `Checksum` or `Malformed`. (Without those bytes a length flipped
    /// upwards reads as a torn tail, `Truncated`, which recovery treats the same way.)
    #[test]
    fn every_bit_flip_is_detected() {
        for record in [message(), done(), retry()] {
            let frame = framed(&record);
            let mut buf = frame.clone();
            buf.resize(HEADER + MAX_PAYLOAD, 0);
            for bit in 0..frame.len() * 8 {
                buf[bit / 8] ^= 1 << (bit % 8);
                let got = decode(&buf).map(|_| ());
                assert!(matches!(got, Err(RecordError::Checksum | RecordError::Malformed(_))), "bit {bit}: {got:?}");
                let short = decode(&buf[..frame.len()]).map(|_| ());
                assert!(short.is_err(), "bit {bit} undetected without padding");
                buf[bit / 8] ^= 1 << (bit % 8);
            }
        }
    }

    #[test]
    fn garbage_never_panics() {
        let mut seed = 0x9e37_79b9_7f4a_7c15_u64;
        let mut next = || {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            seed
        };
        for _ in 0..20_000 {
            let len = (next() % 64) as usize;
            let mut payload: Vec<u8> = (0..len).map(|_| next() as u8).collect();
            if let Some(kind) = payload.first_mut() {
                *kind = 1 + *kind % 3;
            }
            let _ = decode(&frame_raw(&payload));
            let raw: Vec<u8> = (0..len).map(|_| next() as u8).collect();
            let _ = decode(&raw);
        }
    }
}
