//! A stream with a read buffer: fills it from the socket and hands out complete lines or
//! replies, so neither side copies bytes line by line.

use std::io;

use futures_lite::{AsyncReadExt, AsyncWriteExt};

use crate::proto::split_reply;
use crate::stream::Stream;

const READ: usize = 64 * 1024;

/// A stream and the bytes read from it but not yet consumed (`buf[start..end]`).
pub struct Conn {
    pub stream: Stream,
    buf: Vec<u8>,
    start: usize,
    end: usize,
}

impl Conn {
    pub fn new(stream: Stream) -> Conn {
        Conn { stream, buf: vec![0; READ], start: 0, end: 0 }
    }

    /// The unconsumed bytes.
    pub fn pending(&self) -> &[u8] {
        &self.buf[self.start..self.end]
    }

    pub fn consume(&mut self, n: usize) {
        self.start += n;
        if self.start == self.end {
            self.start = 0;
            self.end = 0;
        }
    }

    /// Reads more bytes; an orderly close by the peer is `UnexpectedEof`.
    pub async fn fill(&mut self) -> io::Result<()> {
        if self.start > 0 {
            self.buf.copy_within(self.start..self.end, 0);
            self.end -= self.start;
            self.start = 0;
        }
        if self.end == self.buf.len() {
            self.buf.resize(self.buf.len() * 2, 0);
        }
        let n = self.stream.read(&mut self.buf[self.end..]).await?;
        if n == 0 {
            return Err(io::ErrorKind::UnexpectedEof.into());
        }
        self.end += n;
        Ok(())
    }

    /// The next reply: its code and its text (all lines).
    pub async fn reply(&mut self) -> io::Result<(u16, Vec<u8>)> {
        loop {
            if let Some((code, len)) = split_reply(self.pending()) {
                let text = self.pending()[..len].to_vec();
                self.consume(len);
                return Ok((code, text));
            }
            self.fill().await?;
        }
    }

    /// The code of the next reply.
    pub async fn code(&mut self) -> io::Result<u16> {
        loop {
            if let Some((code, len)) = split_reply(self.pending()) {
                self.consume(len);
                return Ok(code);
            }
            self.fill().await?;
        }
    }

    /// The length of the next complete line (CRLF included) in the pending bytes.
    pub fn line_len(&self) -> Option<usize> {
        memchr::memchr(b'\n', self.pending()).map(|i| i + 1)
    }

    pub async fn send(&mut self, bytes: &[u8]) -> io::Result<()> {
        self.stream.write_all(bytes).await?;
        self.stream.flush().await
    }

    /// Forgets buffered bytes (after STARTTLS nothing read before the handshake counts).
    pub fn clear(&mut self) {
        self.start = 0;
        self.end = 0;
    }
}
